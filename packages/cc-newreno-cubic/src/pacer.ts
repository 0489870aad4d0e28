/**
 * Pacing (RFC 9002 §7.7): a token bucket refilled at N · cwnd / smoothed_rtt bytes per ms, holding at most a burst
 * allowance, that tells the caller when the next packet may leave. Sans-I/O: the caller keeps its own timer.
 */

/** RFC 9002 §7.7: "a value for N that is small, but at least 1 (for example, 1.25)". */
export const PACING_GAIN = 1.25;
/** Burst allowance in packets: RFC 9002 §7.7 says to limit bursts to the initial congestion window (10 packets). */
export const PACING_BURST_PACKETS = 10;

export interface PacerOptions {
  /** Bucket capacity in packets of `maxDatagramSize` (default 10). */
  burstPackets?: number;
  /** N, the pacing gain (default 1.25). */
  n?: number;
  /** Max datagram size in bytes used for the capacity (default 1200). */
  maxDatagramSize?: number;
  /**
   * The caller's timer granularity in ms (default 0: none). A sender woken by a timer can only come back after about
   * this long, so the bucket also holds `granularity` ms worth of the pacing rate — up to `maxBurstPackets` — or a
   * fast path would be limited to `burstPackets` per wake-up instead of the pacing rate.
   */
  granularity?: number;
  /** Upper bound on the granularity-based capacity, in packets (default: burstPackets, i.e. no growth). */
  maxBurstPackets?: number;
}

export class Pacer {
  readonly burstPackets: number;
  readonly n: number;
  readonly granularity: number;
  readonly maxBurstPackets: number;
  #maxDatagramSize: number;
  /** Bytes that may leave without waiting. Starts full. */
  #tokens: number;
  #lastUpdate: number | undefined;
  /** Refill rate (bytes/ms) from the last cwnd/srtt passed in. */
  #rate = 0;

  constructor(options: PacerOptions = {}) {
    this.burstPackets = options.burstPackets ?? PACING_BURST_PACKETS;
    this.n = options.n ?? PACING_GAIN;
    this.granularity = options.granularity ?? 0;
    this.maxBurstPackets = Math.max(options.maxBurstPackets ?? this.burstPackets, this.burstPackets);
    if (!(this.granularity >= 0) || !Number.isFinite(this.granularity)) throw new RangeError('granularity must be a finite number >= 0');
    this.#maxDatagramSize = options.maxDatagramSize ?? 1200;
    if (!(this.burstPackets >= 1)) throw new RangeError('burstPackets must be >= 1');
    if (!(this.n > 0) || !Number.isFinite(this.n)) throw new RangeError('n must be a finite number > 0');
    this.#checkSize(this.#maxDatagramSize);
    this.#tokens = this.capacity;
  }

  #checkSize(n: number): void {
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`maxDatagramSize must be > 0, got ${String(n)}`);
  }

  get maxDatagramSize(): number {
    return this.#maxDatagramSize;
  }

  /** PMTU change: the burst allowance follows (capacity = burstPackets × maxDatagramSize). */
  setMaxDatagramSize(bytes: number): void {
    this.#checkSize(bytes);
    this.#maxDatagramSize = bytes;
    this.#tokens = Math.min(this.#tokens, this.capacity);
  }

  /**
   * Bucket capacity in bytes: burstPackets datagrams, or `granularity` ms at the current rate when that is more
   * (capped at maxBurstPackets datagrams).
   */
  get capacity(): number {
    const base = this.burstPackets * this.#maxDatagramSize;
    if (this.granularity === 0 || !(this.#rate > 0)) return base;
    const max = this.maxBurstPackets * this.#maxDatagramSize;
    return Math.max(base, Math.min(max, this.#rate * this.granularity));
  }

  /** Tokens (bytes) available as of the last call. */
  get tokens(): number {
    return this.#tokens;
  }

  /** Pacing rate in bytes per ms: N · cwnd / smoothed_rtt (Infinity when srtt is 0 — no pacing). */
  rate(cwnd: number, srtt: number): number {
    if (!(srtt > 0)) return Infinity;
    return (this.n * cwnd) / srtt;
  }

  /** Adds the tokens earned since the last call, at the rate for the given cwnd/srtt (else the last rate). */
  #refill(now: number, cwnd?: number, srtt?: number): void {
    if (!Number.isFinite(now)) throw new RangeError('now must be finite');
    if (cwnd !== undefined && srtt !== undefined) this.#rate = this.rate(cwnd, srtt);
    if (this.#lastUpdate === undefined) {
      this.#lastUpdate = now;
      return;
    }
    if (now <= this.#lastUpdate) return;
    const earned = this.#rate * (now - this.#lastUpdate);
    this.#tokens = Math.min(this.capacity, this.#tokens + earned);
    this.#lastUpdate = now;
  }

  /**
   * When a packet of `bytes` may be sent (RFC 9002 §7.7): a time <= `now` means right away, otherwise the time at
   * which the bucket holds enough tokens at the current rate. A packet larger than the bucket waits for a full one.
   */
  nextSendTime(now: number, bytes: number, cwnd: number, srtt: number): number {
    this.#refill(now, cwnd, srtt);
    const need = Math.min(bytes, this.capacity);
    const missing = need - this.#tokens;
    // A sub-microbyte shortfall is rounding, not a reason to wait (and would make a simulator spin).
    if (missing <= 1e-6 || this.#rate === Infinity) return now;
    if (!(this.#rate > 0)) return Infinity; // cwnd 0: nothing will ever be paced out
    const t = now + missing / this.#rate;
    return t > now ? t : now;
  }

  /**
   * Spends the tokens of a packet sent at `now`. The bucket never goes below empty, so packets that bypass pacing
   * (PTO probes) do not push later ones back. Pass cwnd/srtt when they changed since the last call.
   */
  onSent(now: number, bytes: number, cwnd?: number, srtt?: number): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`bad size ${String(bytes)}`);
    this.#refill(now, cwnd, srtt);
    this.#tokens = Math.max(0, this.#tokens - bytes);
  }

  /** Refills the bucket to capacity (e.g. after an idle period the caller wants to treat as fresh). */
  reset(): void {
    this.#tokens = this.capacity;
    this.#lastUpdate = undefined;
  }
}
