import { describe, expect, it } from 'vitest';
import { Link, Simulator } from '../src/index.js';
import type { Packet } from '../src/index.js';

interface Arrival {
  id: number;
  at: number;
}

function collector(): { arrivals: Arrival[]; deliver: (p: Packet<number>, now: number) => void } {
  const arrivals: Arrival[] = [];
  return { arrivals, deliver: (p, now) => arrivals.push({ id: p.payload, at: now }) };
}

/** Sends `count` packets of `size` bytes, one every `gap` ms from t=0, and runs to completion. */
function paced(link: Link<Packet<number>>, sim: Simulator, count: number, size: number, gap: number): void {
  const send = (i: number): void => {
    link.send({ size, payload: i });
    if (i + 1 < count) sim.after(gap, send, i + 1);
  };
  sim.schedule(0, send, 0);
  sim.runUntilIdle();
}

describe('Link timing', () => {
  it('delivers after serialization plus propagation, back to back when sent together', () => {
    const sim = new Simulator();
    const { arrivals, deliver } = collector();
    // 1 Mbit/s: 1250 bytes take exactly 10 ms to serialise; 25 ms on the wire.
    const link = new Link<Packet<number>>(sim, { bandwidth: 1e6, delay: 25, deliver });
    expect(link.transmissionTime(1250)).toBe(10);
    for (let i = 0; i < 3; i++) link.send({ size: 1250, payload: i });
    sim.schedule(100, () => link.send({ size: 125, payload: 3 })); // idle link again: 1 ms + 25 ms
    sim.runUntilIdle();
    expect(arrivals).toEqual([
      { id: 0, at: 35 },
      { id: 1, at: 45 },
      { id: 2, at: 55 },
      { id: 3, at: 126 },
    ]);
    expect(link.stats).toMatchObject({ sent: 4, delivered: 4, bytesDelivered: 3875, droppedQueue: 0 });
    expect(link.stats.queueDelayMs).toBe(10 + 20);
    expect(link.inFlight).toBe(0);
  });

  it('is exact to float precision at 100 Mbit/s (0.12 ms per 1500-byte packet)', () => {
    const sim = new Simulator();
    const { arrivals, deliver } = collector();
    const link = new Link<Packet<number>>(sim, { bandwidth: 100e6, delay: 20, deliver });
    for (let i = 0; i < 1000; i++) link.send({ size: 1500, payload: i });
    sim.runUntilIdle();
    expect(arrivals).toHaveLength(1000);
    arrivals.forEach((a, i) => expect(a.at).toBeCloseTo(20 + 0.12 * (i + 1), 9));
  });

  it('an infinitely fast link only delays', () => {
    const sim = new Simulator();
    const { arrivals, deliver } = collector();
    const link = new Link<Packet<number>>(sim, { bandwidth: Infinity, delay: 3, deliver });
    link.send({ size: 1e9, payload: 0 });
    link.send({ size: 1, payload: 1 });
    sim.runUntilIdle();
    expect(arrivals).toEqual([
      { id: 0, at: 3 },
      { id: 1, at: 3 },
    ]);
  });

  it('rejects invalid configuration', () => {
    const sim = new Simulator();
    expect(() => new Link(sim, { bandwidth: 0 })).toThrow(RangeError);
    expect(() => new Link(sim, { bandwidth: 1e6, delay: -1 })).toThrow(RangeError);
    expect(() => new Link(sim, { bandwidth: 1e6, loss: 1.5 })).toThrow(RangeError);
    expect(() => new Link(sim, { bandwidth: 1e6, reorderProbability: Number.NaN })).toThrow(RangeError);
    const link = new Link(sim, { bandwidth: 1e6 });
    expect(() => link.configure({ queueLimit: -5 })).toThrow(RangeError);
    expect(link.config.queueLimit).toBe(Infinity);
  });
});

describe('Link drop-tail queue', () => {
  it('drops packets that would take the queue above its limit, and accepts again once it drains', () => {
    const sim = new Simulator();
    const { arrivals, deliver } = collector();
    const dropped: [number, string, number][] = [];
    // 8 kbit/s = 1 byte/ms: a 100-byte packet takes 100 ms. Room for two waiting packets (250 bytes).
    const link = new Link<Packet<number>>(sim, {
      bandwidth: 8000,
      delay: 5,
      queueLimit: 250,
      deliver,
      onDrop: (p, reason, now) => dropped.push([p.payload, reason, now]),
    });
    const accepted = [0, 1, 2, 3, 4].map((i) => link.send({ size: 100, payload: i }));
    expect(accepted).toEqual([true, true, true, false, false]); // #0 on the wire, #1 and #2 queued
    expect(link.queuedBytes).toBe(200);
    expect(link.stats.maxQueuedBytes).toBe(200);
    sim.run(100); // #1 starts serialising at 100: one slot frees
    expect(link.queuedBytes).toBe(100);
    expect(link.send({ size: 100, payload: 5 })).toBe(true);
    expect(link.send({ size: 60, payload: 6 })).toBe(false); // 200 + 60 > 250
    expect(link.send({ size: 50, payload: 7 })).toBe(true); // exactly 250 fits
    sim.runUntilIdle();
    expect(arrivals.map((a) => a.id)).toEqual([0, 1, 2, 5, 7]);
    expect(arrivals.map((a) => a.at)).toEqual([105, 205, 305, 405, 455]);
    expect(dropped).toEqual([
      [3, 'queue', 0],
      [4, 'queue', 0],
      [6, 'queue', 100],
    ]);
    expect(link.stats).toMatchObject({ sent: 8, droppedQueue: 3, bytesDroppedQueue: 260, delivered: 5 });
    expect(link.stats.maxQueuedBytes).toBe(250);
  });

  it('a zero limit accepts only when the transmitter is idle', () => {
    const sim = new Simulator();
    const link = new Link(sim, { bandwidth: 8000, queueLimit: 0 });
    expect(link.send({ size: 10, payload: null })).toBe(true);
    expect(link.send({ size: 10, payload: null })).toBe(false);
    sim.run(10);
    expect(link.send({ size: 10, payload: null })).toBe(true);
  });

  it('reports time-averaged occupancy and transmitter utilisation', () => {
    const sim = new Simulator();
    const link = new Link(sim, { bandwidth: 8000 }); // 1 byte/ms
    // Three 100-byte packets at t=0: queue holds 200 bytes for 100 ms, then 100 bytes for 100 ms.
    for (let i = 0; i < 3; i++) link.send({ size: 100, payload: i });
    sim.run(150);
    expect(link.averageQueuedBytes()).toBeCloseTo((200 * 100 + 100 * 50) / 150, 9);
    expect(link.utilisation()).toBe(1);
    sim.run(600);
    expect(link.averageQueuedBytes()).toBeCloseTo((200 * 100 + 100 * 100) / 600, 9);
    expect(link.utilisation()).toBeCloseTo(300 / 600, 12);
    link.resetStats();
    expect(link.stats.sent).toBe(0);
    sim.run(700);
    expect(link.utilisation()).toBe(0);
  });
});

describe('Link random loss', () => {
  it('loses close to the configured fraction for a seed, and deterministically', () => {
    const run = (seed: number): number[] => {
      const sim = new Simulator({ seed });
      const { arrivals, deliver } = collector();
      const link = new Link<Packet<number>>(sim, { bandwidth: 1e9, delay: 1, loss: 0.01, deliver });
      paced(link, sim, 200_000, 1000, 0.01);
      expect(link.stats.droppedRandom + link.stats.delivered).toBe(200_000);
      return arrivals.map((a) => a.id);
    };
    const got = run(12345);
    const rate = 1 - got.length / 200_000;
    // sd = sqrt(0.01 * 0.99 / 2e5) ≈ 0.00022; allow ~4.5 sd.
    expect(Math.abs(rate - 0.01)).toBeLessThan(0.001);
    expect(run(12345)).toEqual(got);
    expect(run(54321)).not.toEqual(got);
  });

  it('a packet lost on the wire still used the transmitter', () => {
    const sim = new Simulator();
    const { arrivals, deliver } = collector();
    const link = new Link<Packet<number>>(sim, { bandwidth: 8000, loss: 1, deliver });
    expect(link.send({ size: 100, payload: 0 })).toBe(true);
    link.configure({ loss: 0 });
    link.send({ size: 100, payload: 1 });
    sim.runUntilIdle();
    expect(arrivals).toEqual([{ id: 1, at: 200 }]);
    expect(link.stats).toMatchObject({ droppedRandom: 1, bytesDroppedRandom: 100, delivered: 1 });
  });
});

describe('Link reordering and jitter', () => {
  function countInversions(ids: number[]): number {
    let late = 0;
    let max = -1;
    for (const id of ids) {
      if (id < max) late++;
      else max = id;
    }
    return late;
  }

  it('holds back about the configured fraction so later packets overtake them', () => {
    const sim = new Simulator({ seed: 9 });
    const { arrivals, deliver } = collector();
    const link = new Link<Packet<number>>(sim, {
      bandwidth: 100e6,
      delay: 10,
      reorderProbability: 0.05,
      reorderDelay: 2,
      deliver,
    });
    paced(link, sim, 20_000, 1200, 0.2);
    const ids = arrivals.map((a) => a.id);
    expect(ids).toHaveLength(20_000);
    const held = link.stats.reordered;
    expect(held / 20_000).toBeGreaterThan(0.045);
    expect(held / 20_000).toBeLessThan(0.055);
    // With packets 0.2 ms apart and 2 ms extra delay, every held-back packet arrives after its successor.
    expect(countInversions(ids)).toBe(held);
    // A held-back packet arrives exactly reorderDelay late.
    const t0 = 10 + link.transmissionTime(1200);
    const late = arrivals.filter((a) => a.at > 0.2 * a.id + t0 + 1e-9);
    expect(late).toHaveLength(held);
    for (const a of late) expect(a.at).toBeCloseTo(0.2 * a.id + t0 + 2, 6); // the sender's clock sums 0.2 steps
  });

  it('jitter adds bounded delay but never reorders by itself', () => {
    const sim = new Simulator({ seed: 3 });
    const { arrivals, deliver } = collector();
    const link = new Link<Packet<number>>(sim, { bandwidth: 100e6, delay: 10, jitter: 5, deliver });
    paced(link, sim, 5000, 1200, 0.1);
    const ids = arrivals.map((a) => a.id);
    expect(countInversions(ids)).toBe(0);
    let extra = 0;
    arrivals.forEach((a) => {
      const base = 0.1 * a.id + 10 + link.transmissionTime(1200);
      expect(a.at).toBeGreaterThanOrEqual(base - 1e-9);
      expect(a.at).toBeLessThan(base + 5);
      extra += a.at - base;
    });
    expect(extra / arrivals.length).toBeGreaterThan(1); // it does delay
  });

  it('the same seed reproduces the same run exactly; another seed does not', () => {
    const run = (seed: number): Arrival[] => {
      const sim = new Simulator({ seed });
      const { arrivals, deliver } = collector();
      const link = new Link<Packet<number>>(sim, {
        bandwidth: 10e6,
        delay: 15,
        queueLimit: 30_000,
        loss: 0.02,
        jitter: 1,
        reorderProbability: 0.03,
        reorderDelay: 3,
        deliver,
      });
      // Bursts that overflow the queue plus random gaps: every mechanism in play.
      const burst = (k: number): void => {
        for (let i = 0; i < 40; i++) link.send({ size: 1200, payload: k * 40 + i });
        if (k < 200) sim.after(sim.rng.uniform(10, 60), burst, k + 1);
      };
      sim.schedule(0, burst, 0);
      sim.runUntilIdle();
      expect(link.stats.droppedQueue).toBeGreaterThan(0);
      return arrivals;
    };
    const a = run(2024);
    expect(run(2024)).toEqual(a);
    expect(run(2025)).not.toEqual(a);
  });

  it('a link with its own PRNG is unaffected by other draws on the simulator', () => {
    const run = (extraDraws: number): number[] => {
      const sim = new Simulator({ seed: 5 });
      const link = new Link<Packet<number>>(sim, { bandwidth: 1e9, loss: 0.1, rng: sim.rng.fork() });
      for (let i = 0; i < extraDraws; i++) sim.random();
      const lost: number[] = [];
      link.connect(undefined);
      for (let i = 0; i < 1000; i++) if (link.send({ size: 100, payload: i }) && link.stats.droppedRandom > lost.length) lost.push(i);
      return lost;
    };
    expect(run(0)).toEqual(run(17));
  });
});

describe('Link at scale', () => {
  it('carries 60 s of a saturated 100 Mbit/s link (~500k packets) in a few wall seconds', () => {
    const sim = new Simulator({ seed: 1 });
    let delivered = 0;
    const link = new Link<Packet<number>>(sim, {
      bandwidth: 100e6,
      delay: 20,
      queueLimit: 500_000,
      loss: 0.001,
      deliver: () => {
        delivered++;
      },
    });
    // A sender that keeps the queue non-empty: two packets per serialisation time.
    const gap = link.transmissionTime(1500) / 2;
    const send = (i: number): void => {
      link.send({ size: 1500, payload: i });
      if (sim.now + gap < 60_000) sim.after(gap, send, i + 1);
    };
    sim.schedule(0, send, 0);
    const t0 = performance.now();
    sim.run(60_000);
    const wall = performance.now() - t0;
    const util = link.utilisation();
    console.log(
      `[netsim] 60 s at 100 Mbit/s: ${delivered} packets delivered, ${sim.eventsProcessed} events, ` +
        `${wall.toFixed(0)} ms wall (${(60_000 / wall).toFixed(0)} simulated s per wall s), utilisation ${util.toFixed(4)}`,
    );
    expect(delivered).toBeGreaterThan(490_000);
    expect(util).toBeGreaterThan(0.999);
    expect(link.stats.maxQueuedBytes).toBeLessThanOrEqual(500_000);
    expect(link.stats.maxQueuedBytes).toBeGreaterThan(498_000);
    expect(wall).toBeLessThan(10_000);
  });
});
