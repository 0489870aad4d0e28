import { describe, expect, it } from 'vitest';
import { Random, Simulator, Timer } from '../src/index.js';

describe('Simulator', () => {
  it('advances the virtual clock to each event and then to `until`', () => {
    const sim = new Simulator();
    const seen: number[] = [];
    const record = (): void => {
      seen.push(sim.now);
    };
    sim.schedule(2.5, record);
    sim.after(1, record);
    sim.schedule(7, record);
    expect(sim.run(5)).toBe(2);
    expect(seen).toEqual([1, 2.5]);
    expect(sim.now).toBe(5);
    expect(sim.pending).toBe(1);
    expect(sim.nextEventTime).toBe(7);
    sim.after(1, record); // at 6
    expect(sim.run(7)).toBe(2); // an event exactly at `until` runs
    expect(seen).toEqual([1, 2.5, 6, 7]);
    expect(sim.runUntilIdle()).toBe(0);
    expect(sim.now).toBe(7);
    expect(sim.eventsProcessed).toBe(4);
  });

  it('passes an argument to a shared handler (no closure per event)', () => {
    const sim = new Simulator();
    const got: [number, number][] = [];
    const handler = (n: number): void => {
      got.push([sim.now, n]);
    };
    for (let i = 0; i < 3; i++) sim.after(3 - i, handler, i);
    sim.runUntilIdle();
    expect(got).toEqual([
      [1, 2],
      [2, 1],
      [3, 0],
    ]);
  });

  it('rejects times in the past, NaN and running backwards', () => {
    const sim = new Simulator({ startTime: 100 });
    expect(() => sim.schedule(99, () => {})).toThrow(RangeError);
    expect(() => sim.schedule(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => sim.after(-1, () => {})).toThrow(RangeError);
    expect(() => sim.run(50)).toThrow(RangeError);
    sim.schedule(100, () => expect(() => sim.run(200)).toThrow(/re-entrant/));
    sim.runUntilIdle();
  });

  it('stop() ends a run after the current event; cancel() removes a pending event', () => {
    const sim = new Simulator();
    const log: number[] = [];
    sim.schedule(1, () => log.push(1));
    sim.schedule(2, () => {
      log.push(2);
      sim.stop();
    });
    const id = sim.schedule(3, () => log.push(3));
    sim.schedule(4, () => log.push(4));
    sim.run(10);
    expect(log).toEqual([1, 2]);
    expect(sim.now).toBe(2); // a stopped run does not jump to `until`
    expect(sim.cancel(id)).toBe(true);
    expect(sim.cancel(id)).toBe(false);
    sim.runFor(10);
    expect(log).toEqual([1, 2, 4]);
    expect(sim.now).toBe(12);
  });

  it('owns a seeded PRNG: same seed, same numbers', () => {
    const a = new Simulator({ seed: 42 });
    const b = new Simulator({ seed: 42 });
    const c = new Simulator({ seed: 43 });
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xs);
  });

  it('runs 1e6 events far faster than real time', () => {
    const sim = new Simulator();
    const total = 1_000_000;
    let fired = 0;
    // 1000 concurrent self-rescheduling chains keep the heap at ~1000 entries, like packets in flight.
    const tick = (chain: number): void => {
      fired++;
      if (fired + sim.pending < total) sim.after(0.01 + (chain % 7) * 0.003, tick, chain);
    };
    for (let c = 0; c < 1000; c++) sim.after(c * 0.001, tick, c);
    const t0 = performance.now();
    sim.runUntilIdle();
    const ms = performance.now() - t0;
    expect(fired).toBe(total);
    console.log(`[netsim] 1e6 events with ~1000 pending: ${ms.toFixed(0)} ms (${((total / ms) * 1000 / 1e6).toFixed(1)} M events/s)`);
    expect(ms).toBeLessThan(5000);
  });
});

describe('Timer', () => {
  it('fires once at the deadline; moving it later or earlier or clearing it is honoured', () => {
    const sim = new Simulator();
    const fired: number[] = [];
    const timer = new Timer(sim, (now) => fired.push(now));
    timer.set(10);
    timer.set(20); // later: lazy, the event at 10 re-arms
    expect(timer.deadline).toBe(20);
    sim.run(15);
    expect(fired).toEqual([]);
    timer.set(17); // earlier than the pending event
    sim.run(30);
    expect(fired).toEqual([17]);
    expect(timer.armed).toBe(false);
    timer.set(40);
    timer.clear();
    sim.runUntilIdle();
    expect(fired).toEqual([17]);
    expect(sim.pending).toBe(0);
    expect(sim.now).toBe(30); // the cleared timer left no stale event behind
    timer.set(5); // in the past: fires now
    sim.runUntilIdle();
    expect(fired).toEqual([17, 30]);
  });

  it('can be re-armed from its own callback', () => {
    const sim = new Simulator();
    const fired: number[] = [];
    const timer: Timer = new Timer(sim, (now) => {
      fired.push(now);
      if (fired.length < 3) timer.set(now + 5);
    });
    timer.set(1);
    sim.runUntilIdle();
    expect(fired).toEqual([1, 6, 11]);
  });
});

describe('Random', () => {
  it('is deterministic, in range, and roughly uniform', () => {
    const a = new Random(7);
    const b = new Random(7);
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = a.next();
      if (x !== b.next() || !(x >= 0 && x < 1)) throw new Error(`mismatch or out of range at ${i}: ${x}`);
      sum += x;
    }
    expect(sum / n).toBeGreaterThan(0.495);
    expect(sum / n).toBeLessThan(0.505);
    const r = new Random(1);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(6);
      expect(Number.isInteger(k) && k >= 0 && k < 6).toBe(true);
    }
    expect(new Random(1).fork().next()).toBe(new Random(1).fork().next());
    expect(new Random(2 ** 40).next()).not.toBe(new Random(0).next());
    expect(() => new Random(Number.NaN)).toThrow(RangeError);
  });
});
