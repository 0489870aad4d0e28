import { FrameType, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import type { PathResponseFrame } from '@pathquic/wire-codec';
import { MIN_MAX_DATAGRAM_SIZE, MIN_PROBE_DATAGRAM, PATH_CHALLENGE_DATA_LENGTH } from './constants.js';
import { requireInteger } from './errors.js';

export interface ChallengeResponderOptions {
  /**
   * Most responses waiting to be sent; the oldest is dropped beyond it, so a PATH_CHALLENGE flood cannot grow
   * memory. Dropping is safe: the peer sends new challenges as needed (RFC 9000 §8.2.2, §13.3). Default 16.
   */
  maxQueued?: number;
  /** Smallest amplification allowance worth sending a response in; default {@link MIN_PROBE_DATAGRAM}. */
  minDatagramSize?: number;
}

export interface ChallengeOrigin {
  /** Multipath path ID the challenge arrived with (its CID's path ID); the response uses a CID of the same one. */
  pathId?: number;
  /**
   * The challenge arrived on the path currently used for non-probing packets. RFC 9000 §9.3.3: an endpoint that
   * receives a PATH_CHALLENGE on an active path SHOULD send a non-probing packet in response, so the response is
   * flagged `elicitNonProbing`.
   */
  onActivePath?: boolean;
}

/** A PATH_RESPONSE to send on `path`, in a datagram padded to `padTo` bytes of UDP payload. */
export interface ResponseTransmit {
  path: string;
  pathId: number;
  frame: PathResponseFrame;
  /** 1200, or less when the path's anti-amplification allowance forbids it (RFC 9000 §8.2.2). */
  padTo: number;
  /** Put a non-probing frame (e.g. PING) in the same packet (RFC 9000 §9.3.3). */
  elicitNonProbing: boolean;
}

interface PendingResponse {
  path: string;
  pathId: number;
  data: Uint8Array;
  elicitNonProbing: boolean;
}

/** Default bound of the response queue. */
const DEFAULT_MAX_QUEUED = 16;

/**
 * Answers PATH_CHALLENGE frames (RFC 9000 §8.2.2): each challenge gets exactly one PATH_RESPONSE echoing its data, on
 * the path it arrived on, in a datagram expanded to 1200 bytes unless that path's anti-amplification limit forbids
 * it. Responses are never retransmitted (§13.3): a lost one is replaced by the peer's next challenge.
 *
 * `path` is the caller's opaque key of the 4-tuple the challenge arrived on.
 */
export class ChallengeResponder {
  readonly #maxQueued: number;
  readonly #minDatagramSize: number;
  readonly #queue: PendingResponse[] = [];
  #dropped = 0;

  constructor(options: ChallengeResponderOptions = {}) {
    this.#maxQueued = requireInteger('maxQueued', options.maxQueued ?? DEFAULT_MAX_QUEUED, 1, 4096);
    this.#minDatagramSize = requireInteger(
      'minDatagramSize',
      options.minDatagramSize ?? MIN_PROBE_DATAGRAM,
      1,
      MIN_MAX_DATAGRAM_SIZE,
    );
  }

  /** Responses dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Responses waiting, on `path` or on all paths. */
  pending(path?: string): number {
    if (path === undefined) return this.#queue.length;
    let count = 0;
    for (const response of this.#queue) if (response.path === path) count++;
    return count;
  }

  /** Queues the response to a PATH_CHALLENGE that arrived on `path`. The data is copied (it aliases the datagram). */
  onPathChallenge(path: string, data: Uint8Array, origin: ChallengeOrigin = {}): void {
    if (data.length !== PATH_CHALLENGE_DATA_LENGTH) {
      throw new QuicCodecError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `PATH_CHALLENGE data must be ${PATH_CHALLENGE_DATA_LENGTH} bytes, got ${data.length}`,
        FrameType.PATH_CHALLENGE,
      );
    }
    if (this.#queue.length === this.#maxQueued) {
      this.#queue.shift();
      this.#dropped++;
    }
    this.#queue.push({
      path,
      pathId: requireInteger('pathId', origin.pathId ?? 0, 0),
      data: data.slice(),
      elicitNonProbing: origin.onActivePath ?? false,
    });
  }

  /**
   * The oldest response that can be sent now, on any path; `allowanceOf` gives each path's anti-amplification
   * allowance (default: unlimited). Returning it means it is sent: it leaves the queue.
   */
  pollTransmit(allowanceOf?: (path: string, pathId: number) => number): ResponseTransmit | undefined {
    for (let i = 0; i < this.#queue.length; i++) {
      const pending = this.#queue[i]!;
      const allowance = allowanceOf === undefined ? Number.POSITIVE_INFINITY : allowanceOf(pending.path, pending.pathId);
      if (allowance >= this.#minDatagramSize) return this.#take(i, allowance);
    }
    return undefined;
  }

  /** The oldest response for `path` (and `pathId` when given) if `allowance` lets it be sent. */
  pollTransmitOn(
    path: string,
    allowance: number = Number.POSITIVE_INFINITY,
    pathId?: number,
  ): ResponseTransmit | undefined {
    if (!(allowance >= this.#minDatagramSize)) return undefined;
    for (let i = 0; i < this.#queue.length; i++) {
      const pending = this.#queue[i]!;
      if (pending.path === path && (pathId === undefined || pending.pathId === pathId)) return this.#take(i, allowance);
    }
    return undefined;
  }

  /** Forgets the responses for a path the connection no longer uses. */
  discardPath(path: string): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) if (this.#queue[i]!.path === path) this.#queue.splice(i, 1);
  }

  #take(index: number, allowance: number): ResponseTransmit {
    const [pending] = this.#queue.splice(index, 1) as [PendingResponse];
    return {
      path: pending.path,
      pathId: pending.pathId,
      frame: { type: 'path_response', data: pending.data },
      // RFC 9000 §8.2.2: expand to 1200 bytes, but never beyond the anti-amplification limit.
      padTo: Math.min(MIN_MAX_DATAGRAM_SIZE, Math.floor(allowance)),
      elicitNonProbing: pending.elicitNonProbing,
    };
  }
}
