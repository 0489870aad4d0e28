import { AMPLIFICATION_FACTOR } from './constants.js';
import { PathConfigError, requireInteger } from './errors.js';

export interface AmplificationLimiterOptions {
  /**
   * Start validated. True for a path whose peer address this endpoint chose itself (a client's path to the server,
   * a probe of a preferred address): the limit protects against addresses claimed by incoming packets (RFC 9000
   * §8), and nothing was received yet from an address we picked, so 3 × 0 would deadlock.
   */
  validated?: boolean;
  /** Multipath path ID (draft-ietf-quic-multipath-21); 0 is the single-path form. */
  pathId?: number;
}

/**
 * Anti-amplification limit of one path (RFC 9000 §8, §8.1, §9.3.1): until the peer's address is validated, send at
 * most three times the bytes received from it. Count every UDP payload byte of datagrams attributed to the
 * connection on this path, including datagrams whose packets were all discarded (§8.1).
 */
export class AmplificationLimiter {
  readonly pathId: number;
  #received = 0;
  #sent = 0;
  #validated: boolean;

  constructor(options: AmplificationLimiterOptions = {}) {
    this.pathId = requireInteger('pathId', options.pathId ?? 0, 0);
    this.#validated = options.validated ?? false;
  }

  get validated(): boolean {
    return this.#validated;
  }

  get bytesReceived(): number {
    return this.#received;
  }

  get bytesSent(): number {
    return this.#sent;
  }

  /** Bytes that may be sent now: unlimited once validated, else 3 × received − sent (never negative). */
  allowance(): number {
    if (this.#validated) return Number.POSITIVE_INFINITY;
    return Math.max(0, AMPLIFICATION_FACTOR * this.#received - this.#sent);
  }

  canSend(bytes: number): boolean {
    requireInteger('bytes', bytes, 0);
    return bytes <= this.allowance();
  }

  onReceived(bytes: number): void {
    this.#received += requireInteger('bytes', bytes, 0);
  }

  /** Records a datagram sent on the path. Sending past the limit is a bug in the caller, so it throws. */
  onSent(bytes: number): void {
    requireInteger('bytes', bytes, 0);
    if (bytes > this.allowance()) {
      throw new PathConfigError(
        `sending ${bytes} bytes exceeds the anti-amplification allowance of ${this.allowance()} (RFC 9000 §8.1)`,
      );
    }
    this.#sent += bytes;
  }

  /** The peer's address is validated (handshake, token or path validation, RFC 9000 §8): the limit is lifted. */
  markValidated(): void {
    this.#validated = true;
  }
}
