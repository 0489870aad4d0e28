/**
 * A set of integer ranges [start, end), kept sorted, disjoint and non-adjacent (touching ranges merge). Used for
 * the acknowledged and the lost byte ranges of a send stream. Appending at or past the end (in-order acks) is
 * O(1); other inserts and removals binary-search and splice, which is cheap because the sets stay small: in-order
 * progress folds ranges into the stream's contiguous mark (`absorb`) instead of keeping them here.
 */
export class RangeSet {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  get isEmpty(): boolean {
    return this.lo.length === 0;
  }

  /** Number of disjoint ranges. */
  get count(): number {
    return this.lo.length;
  }

  /** Start of the lowest range, or undefined when empty. */
  get firstStart(): number | undefined {
    return this.lo[0];
  }

  /** End (exclusive) of the lowest range, or undefined when empty. */
  get firstEnd(): number | undefined {
    return this.hi[0];
  }

  /** Sum of the ranges' lengths. */
  get totalLength(): number {
    let n = 0;
    for (let i = 0; i < this.lo.length; i++) n += (this.hi[i] as number) - (this.lo[i] as number);
    return n;
  }

  clear(): void {
    this.lo.length = 0;
    this.hi.length = 0;
  }

  /** The ranges as [start, end) pairs (allocates; for tests and inspection). */
  toArray(): Array<[number, number]> {
    return this.lo.map((lo, i) => [lo, this.hi[i] as number]);
  }

  /** Whether every integer of [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    if (start >= end) return true;
    const i = this.firstEndingAfter(start);
    return i < this.lo.length && (this.lo[i] as number) <= start && (this.hi[i] as number) >= end;
  }

  add(start: number, end: number): void {
    if (start >= end) return;
    const lo = this.lo;
    const hi = this.hi;
    const n = lo.length;
    const lastHi = n === 0 ? -1 : (hi[n - 1] as number);
    if (start > lastHi) {
      lo.push(start);
      hi.push(end);
      return;
    }
    if (start >= (lo[n - 1] as number)) {
      // Overlaps or touches the last range: the in-order case.
      if (end > lastHi) hi[n - 1] = end;
      return;
    }
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    while (j < n && (lo[j] as number) <= end) j++;
    if (i === j) {
      lo.splice(i, 0, start);
      hi.splice(i, 0, end);
      return;
    }
    const newLo = Math.min(start, lo[i] as number);
    const newHi = Math.max(end, hi[j - 1] as number);
    lo.splice(i, j - i, newLo);
    hi.splice(i, j - i, newHi);
  }

  remove(start: number, end: number): void {
    if (start >= end) return;
    const lo = this.lo;
    const hi = this.hi;
    const n = lo.length;
    const i = this.firstEndingAfter(start);
    if (i === n || (lo[i] as number) >= end) return;
    let j = i;
    while (j < n && (lo[j] as number) < end) j++;
    const leftLo = lo[i] as number;
    const rightHi = hi[j - 1] as number;
    if (j - i === 1 && leftLo < start && rightHi > end) {
      // A hole in one range: split it.
      hi[i] = start;
      lo.splice(i + 1, 0, end);
      hi.splice(i + 1, 0, rightHi);
      return;
    }
    let k = i;
    if (leftLo < start) {
      hi[k] = start;
      k++;
    }
    if (rightHi > end) {
      lo[k] = end;
      hi[k] = rightHi;
      k++;
    }
    lo.splice(k, j - k);
    hi.splice(k, j - k);
  }

  /**
   * Folds the ranges that start at or below `base` into it and removes them: returns the end of the contiguous
   * run from `base` (the new "everything below is done" mark).
   */
  absorb(base: number): number {
    const lo = this.lo;
    const hi = this.hi;
    let k = 0;
    while (k < lo.length && (lo[k] as number) <= base) {
      base = Math.max(base, hi[k] as number);
      k++;
    }
    if (k > 0) {
      lo.splice(0, k);
      hi.splice(0, k);
    }
    return base;
  }

  /** Removes the parts of `other`'s ranges that overlap [start, end) from this set. */
  subtractWithin(other: RangeSet, start: number, end: number): void {
    const olo = other.lo;
    const ohi = other.hi;
    for (let i = other.firstEndingAfter(start); i < olo.length && (olo[i] as number) < end; i++) {
      this.remove(Math.max(start, olo[i] as number), Math.min(end, ohi[i] as number));
    }
  }

  /** First index whose range ends after `x` (hi > x). */
  private firstEndingAfter(x: number): number {
    let a = 0;
    let b = this.hi.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if ((this.hi[m] as number) <= x) a = m + 1;
      else b = m;
    }
    return a;
  }

  /** First index whose range ends at or after `x` (hi >= x: touching counts, for merging). */
  private firstEndingAtOrAfter(x: number): number {
    let a = 0;
    let b = this.hi.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if ((this.hi[m] as number) < x) a = m + 1;
      else b = m;
    }
    return a;
  }
}
