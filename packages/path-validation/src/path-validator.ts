import { FrameType, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import type { PathChallengeFrame } from '@pathquic/wire-codec';
import { MIN_MAX_DATAGRAM_SIZE, MIN_PROBE_DATAGRAM, PATH_CHALLENGE_DATA_LENGTH } from './constants.js';
import { requireInteger, requirePositiveDuration, requireTime } from './errors.js';
import { cryptoRandom, randomBytes } from './random.js';
import type { RandomSource } from './random.js';
import { validationTimeout } from './recovery-times.js';

export type PathValidationState = 'idle' | 'validating' | 'validated' | 'failed' | 'abandoned';

/** The two PTOs the abandon timer of RFC 9000 §8.2.4 is built from. */
export interface PathValidationTimers {
  /** Current PTO of the connection (RFC 9002 §6.2.1); also the first retransmission interval. */
  pto: number;
  /** PTO of the new path computed with kInitialRtt; see {@link initialPto}. */
  initialPto: number;
}

export interface PathValidatorOptions {
  /** Multipath path ID (draft-ietf-quic-multipath-21); 0 is the single-path form. */
  pathId?: number;
  /** Unpredictable bytes (RFC 9000 §8.2.1). Default: globalThis.crypto.getRandomValues. */
  random?: RandomSource;
  /** Smallest amplification allowance worth sending a challenge in; default {@link MIN_PROBE_DATAGRAM}. */
  minDatagramSize?: number;
}

/** A PATH_CHALLENGE to send now, in a datagram padded to `padTo` bytes of UDP payload. */
export interface ChallengeTransmit {
  frame: PathChallengeFrame;
  /** 1200, or less when the anti-amplification allowance forbids 1200 (RFC 9000 §8.2.1). */
  padTo: number;
  pathId: number;
}

export type PathValidationEvent =
  /** The peer answered a challenge sent in a datagram below 1200 bytes: its address is valid but the path MTU is
   * not, so a full-size challenge follows (RFC 9000 §8.2.3). The anti-amplification limit may be lifted. */
  | { type: 'address-validated'; pathId: number; rtt: number }
  /** Address and 1200-byte MTU validated. `rtt`: time from sending the answered challenge to its response. */
  | { type: 'validated'; pathId: number; rtt: number }
  /** Abandoned by the timer (RFC 9000 §8.2.4); `mtu` when only the full-size re-validation timed out. */
  | { type: 'failed'; pathId: number; reason: 'timeout' | 'mtu' };

/**
 * What a PATH_RESPONSE did: `validated` / `address-validated` as the events; `stale` when it echoes a challenge this
 * validator sent but that no longer changes anything (an earlier or abandoned validation, a second answer);
 * `unknown` when this validator never sent that data.
 */
export type PathResponseMatch = 'validated' | 'address-validated' | 'stale' | 'unknown';

interface SentChallenge {
  data: Uint8Array;
  padTo: number;
  sentAt: number;
  validation: number;
}

/** Challenges remembered for matching late responses; more than a whole validation sends with PTO backoff. */
const CHALLENGE_HISTORY = 32;

/**
 * Path validation of one path (RFC 9000 §8.2), sans-I/O: `start`, then `pollTransmit` whenever datagrams can be
 * sent, `onPathResponse` for every PATH_RESPONSE (on whatever path it arrived, §8.2.2), and `onTimeout` at
 * `nextTimeout()`. Results arrive through `pollEvent()`.
 *
 * Every challenge carries fresh random data (§8.2.1). Retransmissions wait one PTO, doubling each time, so a new path
 * is never probed faster than an Initial packet would be (§8.2.1). Receiving an ACK for a packet carrying a
 * challenge validates nothing (§8.2.3): only a matching PATH_RESPONSE does.
 */
export class PathValidator {
  readonly pathId: number;
  readonly #random: RandomSource;
  readonly #minDatagramSize: number;
  #state: PathValidationState = 'idle';
  #addressValidated = false;
  #mtuValidated = false;
  #validation = 0;
  #timers: PathValidationTimers = { pto: 1, initialPto: 1 };
  #deadline = 0;
  #nextSendAt = 0;
  #retryInterval = 0;
  #blocked = false;
  readonly #sent: SentChallenge[] = [];
  readonly #events: PathValidationEvent[] = [];

  constructor(options: PathValidatorOptions = {}) {
    this.pathId = requireInteger('pathId', options.pathId ?? 0, 0);
    this.#random = options.random ?? cryptoRandom;
    this.#minDatagramSize = requireInteger(
      'minDatagramSize',
      options.minDatagramSize ?? MIN_PROBE_DATAGRAM,
      1,
      MIN_MAX_DATAGRAM_SIZE,
    );
  }

  get state(): PathValidationState {
    return this.#state;
  }

  /** A PATH_RESPONSE proved the peer receives at this address (possibly before the MTU was validated). */
  get addressValidated(): boolean {
    return this.#addressValidated;
  }

  /** A response to a challenge in a datagram of at least 1200 bytes arrived (RFC 9000 §8.2.1, §8.2.3). */
  get mtuValidated(): boolean {
    return this.#mtuValidated;
  }

  /** When the running validation is abandoned as failed, or undefined when none runs. */
  get deadline(): number | undefined {
    return this.#state === 'validating' ? this.#deadline : undefined;
  }

  /**
   * Starts (or restarts) a validation. A running one is abandoned: its challenges still match, as `stale`.
   */
  start(now: number, timers: PathValidationTimers): void {
    requireTime(now);
    requirePositiveDuration('pto', timers.pto);
    requirePositiveDuration('initialPto', timers.initialPto);
    this.#timers = { pto: timers.pto, initialPto: timers.initialPto };
    this.#validation++;
    this.#state = 'validating';
    this.#addressValidated = false;
    this.#mtuValidated = false;
    this.#beginAttempt(now);
  }

  /** Stops a running validation without a `failed` event (RFC 9000 §8.2.4: e.g. a newer migration superseded it). */
  abandon(): void {
    if (this.#state === 'validating') this.#state = 'abandoned';
  }

  /**
   * The challenge to send now, or undefined (nothing due, or the allowance is too small). `allowance` is the path's
   * anti-amplification allowance in bytes (`AmplificationLimiter.allowance()`), Infinity once validated. Calling
   * this and getting a result means the datagram is sent: the next retransmission is scheduled from `now`.
   */
  pollTransmit(now: number, allowance: number = Number.POSITIVE_INFINITY): ChallengeTransmit | undefined {
    requireTime(now);
    if (this.#state !== 'validating' || now >= this.#deadline || now < this.#nextSendAt) return undefined;
    // RFC 9000 §8.2.3: the MTU re-validation is only worth sending at full size.
    const needed = this.#addressValidated ? MIN_MAX_DATAGRAM_SIZE : this.#minDatagramSize;
    if (!(allowance >= needed)) {
      this.#blocked = true;
      return undefined;
    }
    this.#blocked = false;
    // RFC 9000 §8.2.1: expand to 1200 bytes unless the anti-amplification limit forbids it.
    const padTo = Math.min(MIN_MAX_DATAGRAM_SIZE, Math.floor(allowance));
    const data = randomBytes(this.#random, PATH_CHALLENGE_DATA_LENGTH).slice();
    this.#remember({ data, padTo, sentAt: now, validation: this.#validation });
    this.#nextSendAt = now + this.#retryInterval;
    this.#retryInterval *= 2;
    return { frame: { type: 'path_challenge', data: data.slice() }, padTo, pathId: this.pathId };
  }

  /** Matches a PATH_RESPONSE received on any path (RFC 9000 §8.2.2: the challenger must not require the same path). */
  onPathResponse(data: Uint8Array, now: number): PathResponseMatch {
    requireTime(now);
    if (data.length !== PATH_CHALLENGE_DATA_LENGTH) {
      throw new QuicCodecError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `PATH_RESPONSE data must be ${PATH_CHALLENGE_DATA_LENGTH} bytes, got ${data.length}`,
        FrameType.PATH_RESPONSE,
      );
    }
    // A response at or after the deadline arrives too late: the validation was already abandoned (§8.2.4).
    this.onTimeout(now);
    const sent = this.#find(data);
    if (sent === undefined) return 'unknown';
    if (this.#state !== 'validating' || sent.validation !== this.#validation) return 'stale';
    const rtt = now - sent.sentAt;
    if (sent.padTo >= MIN_MAX_DATAGRAM_SIZE) {
      this.#state = 'validated';
      this.#addressValidated = true;
      this.#mtuValidated = true;
      this.#events.push({ type: 'validated', pathId: this.pathId, rtt });
      return 'validated';
    }
    if (this.#addressValidated) return 'stale';
    // RFC 9000 §8.2.3: address validated, MTU not; another validation with an expanded datagram is required.
    this.#addressValidated = true;
    this.#events.push({ type: 'address-validated', pathId: this.pathId, rtt });
    if (this.#sentFullSize()) {
      // A full-size challenge is already out: keep waiting for it on the current schedule, with a fresh deadline.
      this.#deadline = now + validationTimeout(this.#timers.pto, this.#timers.initialPto);
    } else {
      this.#beginAttempt(now);
    }
    return 'address-validated';
  }

  /**
   * Next time to call `onTimeout` (the abandon deadline) or `pollTransmit` (a retransmission is due); may be
   * ≤ now when a challenge is due. While the amplification allowance blocks sending, only the deadline counts:
   * receiving bytes from the peer is what unblocks.
   */
  nextTimeout(): number | undefined {
    if (this.#state !== 'validating') return undefined;
    return this.#blocked ? this.#deadline : Math.min(this.#deadline, this.#nextSendAt);
  }

  onTimeout(now: number): void {
    requireTime(now);
    if (this.#state !== 'validating' || now < this.#deadline) return;
    this.#state = 'failed';
    this.#events.push({ type: 'failed', pathId: this.pathId, reason: this.#addressValidated ? 'mtu' : 'timeout' });
  }

  pollEvent(): PathValidationEvent | undefined {
    return this.#events.shift();
  }

  #beginAttempt(now: number): void {
    this.#deadline = now + validationTimeout(this.#timers.pto, this.#timers.initialPto);
    this.#nextSendAt = now;
    this.#retryInterval = this.#timers.pto;
    this.#blocked = false;
  }

  #sentFullSize(): boolean {
    for (const sent of this.#sent) {
      if (sent.validation === this.#validation && sent.padTo >= MIN_MAX_DATAGRAM_SIZE) return true;
    }
    return false;
  }

  #remember(challenge: SentChallenge): void {
    if (this.#sent.length === CHALLENGE_HISTORY) this.#sent.shift();
    this.#sent.push(challenge);
  }

  #find(data: Uint8Array): SentChallenge | undefined {
    outer: for (let i = this.#sent.length - 1; i >= 0; i--) {
      const sent = this.#sent[i]!;
      for (let j = 0; j < PATH_CHALLENGE_DATA_LENGTH; j++) {
        if (sent.data[j] !== data[j]) continue outer;
      }
      return sent;
    }
    return undefined;
  }
}
