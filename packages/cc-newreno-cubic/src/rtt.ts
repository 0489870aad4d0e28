/**
 * RTT estimation (RFC 9002 §5, pseudocode in App. A.7). All values are milliseconds.
 */

/** kInitialRtt (RFC 9002 §6.2.2, App. A.2). */
export const K_INITIAL_RTT = 333;
/** kGranularity: timer granularity (RFC 9002 §6.1.2, App. A.2). */
export const K_GRANULARITY = 1;

function requireFiniteNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/**
 * latest_rtt, min_rtt, smoothed_rtt and rttvar of one path (RFC 9002 §5).
 *
 * Before the first sample: smoothed_rtt = initialRtt, rttvar = initialRtt / 2, and latest_rtt = min_rtt = 0
 * (App. A.4); check `hasSample` before trusting `minRtt`.
 */
export class RttEstimator {
  readonly initialRtt: number;
  #latestRtt = 0;
  #minRtt = 0;
  #smoothedRtt: number;
  #rttvar: number;
  #hasSample = false;
  #samples = 0;

  constructor(initialRtt: number = K_INITIAL_RTT) {
    if (!Number.isFinite(initialRtt) || initialRtt <= 0) {
      throw new RangeError(`initialRtt must be a finite number > 0, got ${String(initialRtt)}`);
    }
    this.initialRtt = initialRtt;
    // §5.3 / §6.2.2: before any sample.
    this.#smoothedRtt = initialRtt;
    this.#rttvar = initialRtt / 2;
  }

  /** The most recent RTT sample (0 before the first one). */
  get latestRtt(): number {
    return this.#latestRtt;
  }

  /** Minimum RTT seen, without ack-delay adjustment (§5.2); 0 before the first sample. */
  get minRtt(): number {
    return this.#minRtt;
  }

  get smoothedRtt(): number {
    return this.#smoothedRtt;
  }

  get rttvar(): number {
    return this.#rttvar;
  }

  /** Whether at least one RTT sample was taken (RFC 9002 App. A.3 first_rtt_sample != 0). */
  get hasSample(): boolean {
    return this.#hasSample;
  }

  /** Number of samples taken so far. */
  get sampleCount(): number {
    return this.#samples;
  }

  /**
   * Feeds one RTT sample (RFC 9002 §5.1 says when one is taken; the loss detector does that). `ackDelay` is the
   * peer-reported delay in ms; it is capped by `maxAckDelay` only once the handshake is confirmed (§5.3), and it is
   * subtracted only when the result would not go below min_rtt.
   */
  update(latestRtt: number, ackDelay: number, handshakeConfirmed: boolean, maxAckDelay: number): void {
    requireFiniteNonNegative('latestRtt', latestRtt);
    requireFiniteNonNegative('ackDelay', ackDelay);
    requireFiniteNonNegative('maxAckDelay', maxAckDelay);
    this.#latestRtt = latestRtt;
    this.#samples += 1;
    if (!this.#hasSample) {
      // §5.3: first sample.
      this.#hasSample = true;
      this.#minRtt = latestRtt;
      this.#smoothedRtt = latestRtt;
      this.#rttvar = latestRtt / 2;
      return;
    }
    // §5.2: min_rtt ignores the acknowledgment delay.
    this.#minRtt = Math.min(this.#minRtt, latestRtt);
    // §5.3: use min(ack_delay, max_ack_delay) after handshake confirmation; SHOULD ignore max_ack_delay before.
    const delay = handshakeConfirmed ? Math.min(ackDelay, maxAckDelay) : ackDelay;
    // §5.3: MUST NOT subtract the delay if that would take the sample below min_rtt.
    const adjusted = latestRtt >= this.#minRtt + delay ? latestRtt - delay : latestRtt;
    // App. A.7 order: rttvar uses the previous smoothed_rtt.
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#smoothedRtt - adjusted);
    this.#smoothedRtt = 0.875 * this.#smoothedRtt + 0.125 * adjusted;
  }

  /**
   * PTO period without backoff (RFC 9002 §6.2.1): smoothed_rtt + max(4·rttvar, kGranularity) + maxAckDelay.
   * Pass 0 as `maxAckDelay` for the Initial and Handshake spaces.
   */
  pto(maxAckDelay: number): number {
    return this.#smoothedRtt + Math.max(4 * this.#rttvar, K_GRANULARITY) + maxAckDelay;
  }

  /** Sets min_rtt to the given sample (RFC 9002 §5.2: after persistent congestion, or on a path change). */
  resetMinRttTo(sample: number): void {
    requireFiniteNonNegative('sample', sample);
    this.#minRtt = sample;
  }

  /** Back to the state before any sample (RFC 9000 §9.4: a new peer address gets a fresh estimator). */
  reset(): void {
    this.#latestRtt = 0;
    this.#minRtt = 0;
    this.#smoothedRtt = this.initialRtt;
    this.#rttvar = this.initialRtt / 2;
    this.#hasSample = false;
    this.#samples = 0;
  }

  /** RFC 9002 §5.2: after persistent congestion, min_rtt SHOULD be set to the newest sample. */
  onPersistentCongestion(): void {
    if (this.#hasSample) this.#minRtt = this.#latestRtt;
  }
}
