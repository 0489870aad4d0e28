import { describe, expect, it } from 'vitest';
import type { Impairments, Scheduler } from '../src/index.js';
import { Link } from '../src/index.js';

/** A virtual clock: timers run when `advance` passes their deadline. */
class FakeScheduler implements Scheduler {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + delayMs, callback });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = end;
  }
}

function setup(impairments: Partial<Impairments>, seed = 1) {
  const scheduler = new FakeScheduler();
  const out: { id: number; at: number }[] = [];
  const link = new Link<number>(seed, impairments, (_data, id) => out.push({ id, at: scheduler.now() }), scheduler);
  const push = (id: number, size = 1000): void => link.push(new Uint8Array(size), id);
  return { scheduler, out, link, push };
}

describe('Link (virtual clock)', () => {
  it('passes datagrams straight through with no impairments', () => {
    const { out, push, scheduler } = setup({});
    for (let i = 0; i < 5; i++) push(i);
    expect(out).toEqual([0, 1, 2, 3, 4].map((id) => ({ id, at: 0 })));
    expect(scheduler.pending).toBe(0);
  });

  it('delays by delayMs, keeping order', () => {
    const { out, push, scheduler } = setup({ delayMs: 25 });
    push(0);
    scheduler.advance(10);
    push(1);
    scheduler.advance(24);
    expect(out).toEqual([{ id: 0, at: 25 }]);
    scheduler.advance(100);
    expect(out).toEqual([
      { id: 0, at: 25 },
      { id: 1, at: 35 },
    ]);
  });

  it('adds jitter within [0, jitterMs)', () => {
    const { out, push, scheduler } = setup({ delayMs: 10, jitterMs: 20 });
    for (let i = 0; i < 200; i++) push(i);
    scheduler.advance(100);
    expect(out).toHaveLength(200);
    for (const { at } of out) {
      expect(at).toBeGreaterThanOrEqual(10);
      expect(at).toBeLessThanOrEqual(31); // timers round up to whole ms
    }
    expect(new Set(out.map((o) => o.at)).size).toBeGreaterThan(10);
  });

  it('holds reordered datagrams back by reorderDelayMs', () => {
    const { out, push, scheduler, link } = setup({ reorderProbability: 0.5, reorderDelayMs: 50 }, 3);
    for (let i = 0; i < 100; i++) push(i);
    const immediate = out.length;
    expect(link.stats.reordered).toBe(100 - immediate);
    expect(link.stats.delayed).toBe(100 - immediate);
    scheduler.advance(50);
    expect(out).toHaveLength(100);
    expect(out.slice(immediate).every((o) => o.at === 50)).toBe(true);
    // The held-back ones keep their relative order.
    const late = out.slice(immediate).map((o) => o.id);
    expect(late).toEqual([...late].sort((a, b) => a - b));
  });

  it('shapes to the configured rate with a token bucket', () => {
    // 8 Mbit/s = 1000 bytes per ms; bucket 3000 bytes.
    const { out, push, scheduler, link } = setup({ bandwidthBps: 8e6, burstBytes: 3000, queueBytes: 1e6 });
    for (let i = 0; i < 103; i++) push(i);
    expect(out).toHaveLength(3); // the burst
    expect(link.stats.queued).toBe(100);
    expect(link.stats.queuedBytes).toBe(100_000);
    scheduler.advance(100);
    expect(out).toHaveLength(103);
    expect(out.at(-1)?.at).toBe(100);
    expect(link.stats.queuedBytes).toBe(0);
    // After an idle second the bucket is full again, but no fuller.
    scheduler.advance(1000);
    for (let i = 0; i < 10; i++) push(200 + i);
    expect(out).toHaveLength(106);
  });

  it('drops at the tail when the queue is full and counts it', () => {
    const { out, push, scheduler, link } = setup({ bandwidthBps: 8e6, burstBytes: 1000, queueBytes: 5000 });
    for (let i = 0; i < 20; i++) push(i);
    expect(link.stats.dropped.queue).toBe(14);
    expect(link.stats.maxQueuedBytes).toBe(5000);
    scheduler.advance(100);
    expect(out.map((o) => o.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('sends a datagram larger than the bucket once the bucket is full', () => {
    const { out, push, scheduler } = setup({ bandwidthBps: 8e6, burstBytes: 1000 });
    push(0, 3000);
    push(1, 3000);
    expect(out).toHaveLength(1);
    scheduler.advance(2);
    expect(out).toHaveLength(1);
    scheduler.advance(10);
    expect(out.map((o) => o.at)).toEqual([0, 3]);
  });

  it('applies a new rate at once, and lifting the cap flushes the queue', () => {
    const { out, push, scheduler, link } = setup({ bandwidthBps: 8e6, burstBytes: 1000, queueBytes: 1e6 });
    for (let i = 0; i < 11; i++) push(i);
    link.configure({ bandwidthBps: 800e3 }); // 100 bytes per ms
    scheduler.advance(15);
    expect(out).toHaveLength(2); // one at 0 from the bucket, the next 1000 bytes at 100 bytes per ms
    link.configure({ bandwidthBps: Infinity });
    expect(out).toHaveLength(11);
    expect(scheduler.pending).toBe(0);
  });

  it('makes decisions that depend only on the seed and the datagram sequence', () => {
    const decisions = (seed: number, impairments: Partial<Impairments>): number[] => {
      const { out, push, scheduler } = setup(impairments, seed);
      for (let i = 0; i < 500; i++) push(i);
      scheduler.advance(1000);
      return out.map((o) => o.id);
    };
    const lossy = { loss: 0.2, duplicateProbability: 0.1 };
    expect(decisions(5, lossy)).toEqual(decisions(5, lossy));
    expect(decisions(5, lossy)).not.toEqual(decisions(6, lossy));
    // Turning on delay does not change which datagrams are lost or duplicated.
    expect(decisions(5, { ...lossy, delayMs: 7 })).toEqual(decisions(5, lossy));
  });

  it('counts blackholed datagrams and stops after close', () => {
    const { out, push, scheduler, link } = setup({ delayMs: 10 });
    push(0);
    link.configure({ dropAll: true });
    push(1);
    expect(link.stats.dropped.blackhole).toBe(1);
    link.close();
    push(2);
    scheduler.advance(100);
    expect(out).toHaveLength(0);
    expect(scheduler.pending).toBe(0);
  });

  it('resets its counters', () => {
    const { push, link } = setup({ loss: 1 });
    push(0);
    link.resetStats();
    expect(link.stats.received).toBe(0);
    expect(link.stats.dropped.loss).toBe(0);
  });
});
