import { describe, expect, it } from 'vitest';
import { measure, measureInterleaved } from '../src/index.js';

function spin(iterations: number): () => void {
  let sink = 0;
  return () => {
    for (let i = 0; i < iterations; i++) sink = (sink + i * 7) | 0;
    if (sink === 42.5) throw new Error('unreachable');
  };
}

describe('measureInterleaved', () => {
  it('reports one figure per case, per operation, in the order given', () => {
    const rows = measureInterleaved(
      [
        { name: 'small', fn: spin(10), batch: 100 },
        { name: 'large', fn: spin(10_000), batch: 1, opsPerCall: 2 },
      ],
      { minMs: 5, rounds: 3 },
    );
    expect(rows.map((r) => r.name)).toEqual(['small', 'large']);
    for (const r of rows) expect(r.opsPerSec).toBeCloseTo(1e9 / r.nsPerOp, 6);
    // 1000x more work per call, reported per operation with opsPerCall = 2: clearly slower per op.
    expect(rows[1]!.nsPerOp).toBeGreaterThan(rows[0]!.nsPerOp * 10);
  });

  it('measure() is the single-case form', () => {
    const m = measure('one', spin(100), { minMs: 5, rounds: 3, batch: 10 });
    expect(m.name).toBe('one');
    expect(m.nsPerOp).toBeGreaterThan(0);
  });
});
