// Qualitative shapes over the deterministic simulator (tooling/netsim), not timings: slow start doubles per RTT,
// a loss cuts the window to 0.7x (CUBIC) or 0.5x (NewReno), a BDP-buffered link stays full, runs are reproducible.
import { describe, expect, it } from 'vitest';
import { initialWindow } from '../src/index.js';
import { runScenario } from '../sim/scenario.js';

describe('bulk flows over the simulator', () => {
  it('slow start doubles the window every round trip until the first loss', () => {
    const r = runScenario({ flows: [{ algorithm: 'newreno', hystart: false }], duration: 400, traceMs: 400 });
    const trace = r.flows[0]!.sender.windowTrace;
    // Window once each 40 ms round (the base RTT) has been acknowledged, before any queue builds.
    const at = (t: number) => [...trace].reverse().find((x) => x.time <= t)!.window;
    const w = [80, 120, 160, 200, 240].map(at);
    for (let i = 1; i < w.length; i++) {
      expect(w[i]! / w[i - 1]!).toBeGreaterThan(1.8);
      expect(w[i]! / w[i - 1]!).toBeLessThan(2.2);
    }
    expect(trace[0]!.window).toBeGreaterThanOrEqual(initialWindow(1200));
  });

  it('a congestion event cuts the window to 0.7x for CUBIC and 0.5x for NewReno', () => {
    for (const [algorithm, beta] of [['cubic', 0.7], ['newreno', 0.5]] as const) {
      const r = runScenario({ flows: [{ algorithm }], duration: 10_000 });
      const cuts = r.flows[0]!.sender.reductions;
      expect(cuts.length).toBeGreaterThan(0);
      // Every cut after the first one is a single multiplicative decrease (the first may be floored lower).
      for (const c of cuts.slice(1)) expect(c.after / c.before).toBeCloseTo(beta, 5);
    }
  });

  it('keeps a 100 Mbit/s, 40 ms link with a one-BDP buffer full (both controllers), without spurious timeouts', () => {
    for (const algorithm of ['cubic', 'newreno'] as const) {
      const r = runScenario({ flows: [{ algorithm }], duration: 15_000 });
      expect(r.utilisation(5000)).toBeGreaterThan(0.9);
      expect(r.flows[0]!.sender.ptoCount).toBe(0);
      expect(r.flows[0]!.goodputBps).toBeGreaterThan(85e6);
    }
  });

  it('survives 2 % random loss and counts only unique bytes as delivered', () => {
    const r = runScenario({ flows: [{ algorithm: 'cubic' }], duration: 10_000, loss: 0.02, seed: 7 });
    const f = r.flows[0]!;
    expect(f.goodputBps).toBeGreaterThan(1e6);
    expect(f.lostPackets).toBeGreaterThan(0);
    // No more unique bytes than the bottleneck delivered.
    expect(f.receiver.uniqueBytes).toBeLessThanOrEqual(f.sender.sentPackets * 1200);
  });

  it('is deterministic for a seed', () => {
    const a = runScenario({ flows: [{ algorithm: 'cubic' }], duration: 5000, loss: 0.001, seed: 3 });
    const b = runScenario({ flows: [{ algorithm: 'cubic' }], duration: 5000, loss: 0.001, seed: 3 });
    expect(a.flows[0]!.goodputBps).toBe(b.flows[0]!.goodputBps);
    expect(a.flows[0]!.lostPackets).toBe(b.flows[0]!.lostPackets);
  });

  it('two flows both get a substantial share', () => {
    const r = runScenario({ flows: [{ algorithm: 'cubic' }, { algorithm: 'newreno' }], duration: 20_000 });
    const [a, b] = r.flows.map((f) => f.goodputBps);
    expect(a! + b!).toBeGreaterThan(90e6);
    expect(Math.min(a!, b!) / (a! + b!)).toBeGreaterThan(0.25);
  });

  it('HyStart++ loses fewer packets leaving the initial slow start than plain slow start', () => {
    const lost = (hystart: boolean) =>
      runScenario({ flows: [{ algorithm: 'cubic', hystart }], duration: 3000 }).flows[0]!.lostInInitialSlowStart;
    expect(lost(true)).toBeLessThan(lost(false));
  });
});
