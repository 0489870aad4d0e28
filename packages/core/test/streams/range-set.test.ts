import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RangeSet } from '../../src/streams/index.js';

describe('RangeSet', () => {
  it('merges overlapping and touching ranges, keeps gaps', () => {
    const r = new RangeSet();
    r.add(10, 20);
    r.add(30, 40);
    r.add(20, 25); // touches
    expect(r.toArray()).toEqual([
      [10, 25],
      [30, 40],
    ]);
    r.add(0, 5);
    r.add(24, 31); // bridges
    expect(r.toArray()).toEqual([
      [0, 5],
      [10, 40],
    ]);
    r.add(7, 7); // empty: ignored
    expect(r.count).toBe(2);
    expect(r.totalLength).toBe(35);
    expect(r.covers(12, 40)).toBe(true);
    expect(r.covers(4, 11)).toBe(false);
  });

  it('removes by splitting, trimming and dropping ranges', () => {
    const r = new RangeSet();
    r.add(0, 100);
    r.remove(40, 60);
    expect(r.toArray()).toEqual([
      [0, 40],
      [60, 100],
    ]);
    r.remove(30, 70);
    expect(r.toArray()).toEqual([
      [0, 30],
      [70, 100],
    ]);
    r.remove(0, 30);
    r.remove(200, 300);
    expect(r.toArray()).toEqual([[70, 100]]);
    expect(r.firstStart).toBe(70);
    expect(r.firstEnd).toBe(100);
  });

  it('absorbs ranges into a contiguous mark', () => {
    const r = new RangeSet();
    r.add(10, 20);
    r.add(25, 30);
    expect(r.absorb(5)).toBe(5);
    expect(r.absorb(10)).toBe(20);
    expect(r.toArray()).toEqual([[25, 30]]);
    expect(r.absorb(27)).toBe(30);
    expect(r.isEmpty).toBe(true);
  });

  it('subtracts another set within a window', () => {
    const lost = new RangeSet();
    lost.add(0, 100);
    const acked = new RangeSet();
    acked.add(10, 20);
    acked.add(50, 150);
    lost.subtractWithin(acked, 0, 100);
    expect(lost.toArray()).toEqual([
      [0, 10],
      [20, 50],
    ]);
  });

  it('agrees with a bitmap model (property)', () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'remove', 'absorb'),
      start: fc.integer({ min: 0, max: 120 }),
      len: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const r = new RangeSet();
        const model = new Array<boolean>(200).fill(false);
        for (const o of ops) {
          const end = o.start + o.len;
          if (o.kind === 'add') {
            r.add(o.start, end);
            for (let i = o.start; i < end; i++) model[i] = true;
          } else if (o.kind === 'remove') {
            r.remove(o.start, end);
            for (let i = o.start; i < end; i++) model[i] = false;
          } else {
            let base = o.start;
            const got = r.absorb(base);
            // Ranges starting at or below the mark are folded in and removed.
            while (true) {
              let moved = false;
              for (let i = 0; i < 200; i++) {
                if (model[i] && i <= base && (i === 0 || !model[i - 1])) {
                  let j = i;
                  while (model[j]) model[j++] = false;
                  base = Math.max(base, j);
                  moved = true;
                }
              }
              if (!moved) break;
            }
            expect(got).toBe(base);
          }
          // Invariants: sorted, disjoint, non-adjacent, same membership as the model.
          const ranges = r.toArray();
          for (let i = 1; i < ranges.length; i++) {
            expect((ranges[i] as [number, number])[0]).toBeGreaterThan((ranges[i - 1] as [number, number])[1]);
          }
          const bits = new Array<boolean>(200).fill(false);
          for (const [a, b] of ranges) {
            expect(b).toBeGreaterThan(a);
            for (let i = a; i < b; i++) bits[i] = true;
          }
          expect(bits).toEqual(model);
        }
      }),
      { numRuns: 300 },
    );
  });
});
