/**
 * Bytes delivered per fixed interval of virtual time, for goodput series and utilisation over a window. Record
 * each delivery (e.g. from a link's receiver); interval `i` covers [start + i * interval, start + (i + 1) * interval).
 */
export class DeliveryMeter {
  private readonly buckets: number[] = [];
  private totalBytes = 0;
  private lastTime = -Infinity;

  constructor(
    readonly interval: number,
    readonly start = 0,
  ) {
    if (!(interval > 0) || !Number.isFinite(interval)) throw new RangeError(`interval must be > 0, got ${interval}`);
  }

  /** Counts `bytes` delivered at `time` (>= start). */
  record(time: number, bytes: number): void {
    if (!(time >= this.start)) throw new RangeError(`time ${time} is before the meter's start ${this.start}`);
    const i = Math.floor((time - this.start) / this.interval);
    const buckets = this.buckets;
    while (buckets.length <= i) buckets.push(0);
    buckets[i] = (buckets[i] as number) + bytes;
    this.totalBytes += bytes;
    if (time > this.lastTime) this.lastTime = time;
  }

  /** All bytes recorded. */
  get total(): number {
    return this.totalBytes;
  }

  /** Time of the latest delivery recorded (-Infinity if none). */
  get lastDelivery(): number {
    return this.lastTime;
  }

  /** Bytes per interval, up to `end` (exclusive; default: through the last interval with a delivery). */
  series(end?: number): number[] {
    const n = end === undefined ? this.buckets.length : Math.max(0, Math.ceil((end - this.start) / this.interval));
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.buckets[i] ?? 0;
    return out;
  }

  /** Goodput per interval in bit/s. */
  rates(end?: number): number[] {
    const scale = 8000 / this.interval;
    return this.series(end).map((b) => b * scale);
  }

  /**
   * Bytes delivered in [from, to). Exact when both ends fall on interval boundaries; a partly covered interval
   * contributes in proportion to the overlap.
   */
  bytesBetween(from: number, to: number): number {
    if (!(to > from)) return 0;
    const iv = this.interval;
    const a = (from - this.start) / iv;
    const b = (to - this.start) / iv;
    const first = Math.max(0, Math.floor(a));
    const last = Math.min(this.buckets.length - 1, Math.ceil(b) - 1);
    let sum = 0;
    for (let i = first; i <= last; i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) sum += (this.buckets[i] as number) * overlap;
    }
    return sum;
  }

  /** Average goodput over [from, to), bit/s. */
  rateBetween(from: number, to: number): number {
    return to > from ? (this.bytesBetween(from, to) * 8000) / (to - from) : 0;
  }

  /** Fraction of a `bottleneck` bit/s link this meter's deliveries used over [from, to). */
  utilisation(from: number, to: number, bottleneck: number): number {
    return utilisation(this.bytesBetween(from, to), to - from, bottleneck);
  }
}

/** Fraction of a `bottleneck` bit/s link that `bytes` delivered over `durationMs` represent. */
export function utilisation(bytes: number, durationMs: number, bottleneck: number): number {
  if (!(durationMs > 0) || !(bottleneck > 0)) throw new RangeError('duration and bottleneck rate must be > 0');
  return (bytes * 8000) / (bottleneck * durationMs);
}

/**
 * Jain's fairness index (Σx)² / (n·Σx²) of non-negative allocations: 1 when all are equal, 1/n when one gets
 * everything. All zeros counts as equal (1); an empty list is an error.
 */
export function jainIndex(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) throw new RangeError('jainIndex needs at least one value');
  let sum = 0;
  let squares = 0;
  for (const x of values) {
    if (!(x >= 0) || !Number.isFinite(x)) throw new RangeError(`allocations must be finite and >= 0, got ${x}`);
    sum += x;
    squares += x * x;
  }
  return squares === 0 ? 1 : (sum * sum) / (n * squares);
}
