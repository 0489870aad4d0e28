/**
 * mulberry32: a tiny seedable PRNG with 32 bits of state. Same seed, same sequence on every platform (32-bit
 * integer arithmetic only). Good enough for choosing which test datagrams to drop; not for cryptography.
 */
export class Mulberry32 {
  private state: number;

  /** `seed` is any finite number; it is truncated to an unsigned 32-bit integer. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniformly distributed number in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}

/** Derives an independent 32-bit seed for a named stream (e.g. one per direction) from a base seed. */
export function deriveSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed) >>> 0) ^ Math.imul(stream + 1, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
