import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue, Simulator } from '../src/index.js';

function drain(q: EventQueue): { time: number; seq: number; arg: unknown }[] {
  const out: { time: number; seq: number; arg: unknown }[] = [];
  while (q.pop()) out.push({ time: q.poppedTime, seq: q.poppedSeq, arg: q.poppedArg });
  return out;
}

const noop = (): void => {};

describe('EventQueue', () => {
  it('pops in time order, and in insertion order for equal times', () => {
    const q = new EventQueue();
    const times = [5, 1, 3, 1, 5, 0, 3, 1, 2, 5];
    times.forEach((t, i) => q.push(t, noop, i));
    const out = drain(q);
    expect(out.map((e) => e.time)).toEqual([0, 1, 1, 1, 2, 3, 3, 5, 5, 5]);
    expect(out.map((e) => e.arg)).toEqual([5, 1, 3, 7, 8, 2, 6, 0, 4, 9]);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('matches a stable sort for arbitrary pushes, pops and removals (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.record({ op: fc.constant('push' as const), t: fc.integer({ min: 0, max: 20 }) }) },
            { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
            { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), k: fc.nat() }) },
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const q = new EventQueue();
          // Model: a list of (time, seq) kept sorted by time, then seq.
          let model: { time: number; seq: number }[] = [];
          const ids: number[] = [];
          for (const o of ops) {
            if (o.op === 'push') {
              const seq = q.push(o.t, noop, undefined);
              ids.push(seq);
              model.push({ time: o.t, seq });
              model.sort((a, b) => a.time - b.time || a.seq - b.seq);
            } else if (o.op === 'pop') {
              const had = q.pop();
              const want = model.shift();
              expect(had).toBe(want !== undefined);
              if (want !== undefined) expect([q.poppedTime, q.poppedSeq]).toEqual([want.time, want.seq]);
            } else if (ids.length > 0) {
              const id = ids[o.k % ids.length]!;
              const inModel = model.some((e) => e.seq === id);
              expect(q.remove(id)).toBe(inModel);
              model = model.filter((e) => e.seq !== id);
            }
            expect(q.size).toBe(model.length);
          }
          expect(drain(q).map((e) => [e.time, e.seq])).toEqual(model.map((e) => [e.time, e.seq]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps FIFO order for equal times across a large heap with fractional times', () => {
    const q = new EventQueue();
    const n = 20_000;
    for (let i = 0; i < n; i++) q.push(((i * 7919) % 97) / 8, noop, i);
    const out = drain(q);
    for (let i = 1; i < n; i++) {
      const a = out[i - 1]!;
      const b = out[i]!;
      expect(a.time < b.time || (a.time === b.time && (a.arg as number) < (b.arg as number))).toBe(true);
    }
  });

  it('the simulator runs same-time events in scheduling order, including ones scheduled while running', () => {
    const sim = new Simulator();
    const log: string[] = [];
    sim.schedule(10, () => {
      log.push('a');
      sim.after(0, () => log.push('d')); // same time, scheduled later: after b and c
    });
    sim.schedule(10, () => log.push('b'));
    sim.schedule(5, () => sim.schedule(10, () => log.push('c')));
    sim.runUntilIdle();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
    expect(sim.now).toBe(10);
  });
});
