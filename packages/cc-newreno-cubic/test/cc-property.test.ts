import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCongestionController } from '../src/congestion.js';
import type { CongestionControlAlgorithm, CongestionController, RttSnapshot } from '../src/congestion.js';

type Op =
  | { kind: 'send'; bytes: number; respectWindow: boolean }
  | { kind: 'ack'; mask: number; rtt: number }
  | { kind: 'lose'; mask: number }
  | { kind: 'ecn' }
  | { kind: 'persistent' }
  | { kind: 'discard'; mask: number }
  | { kind: 'appLimited'; limited: boolean }
  | { kind: 'mds'; size: number }
  | { kind: 'spurious' }
  | { kind: 'tick'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      bytes: fc.integer({ min: 1, max: 1500 }),
      respectWindow: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      mask: fc.integer({ min: 0, max: 0xffff }),
      rtt: fc.double({ min: 0.5, max: 600, noNaN: true }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lose' as const), mask: fc.integer({ min: 0, max: 0xffff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ecn' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('persistent' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('discard' as const), mask: fc.integer({ min: 0, max: 0xffff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('appLimited' as const), limited: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mds' as const), size: fc.integer({ min: 1200, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('spurious' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.double({ min: 0, max: 300, noNaN: true }) }) },
);

const configArb = fc.record({
  name: fc.constantFrom<CongestionControlAlgorithm>('newreno', 'cubic'),
  hystart: fc.boolean(),
  paced: fc.boolean(),
  fastConvergence: fc.boolean(),
  initialWindow: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
});

interface Outstanding {
  packetNumber: number;
  timeSent: number;
  bytes: number;
}

/** Runs the ops against a controller and a reference flight model, checking the invariants after each op. */
function run(cc: CongestionController, ops: readonly Op[]): void {
  let now = 0;
  let pn = 0;
  let outstanding: Outstanding[] = [];
  let flight = 0;
  const snapshot = { latestRtt: 0, minRtt: Infinity, smoothedRtt: 333, rttvar: 166.5, hasSample: false };
  const take = (mask: number): Outstanding[] => {
    const picked = outstanding.filter((_, i) => ((mask >>> (i % 16)) & 1) === 1);
    outstanding = outstanding.filter((_, i) => ((mask >>> (i % 16)) & 1) === 0);
    for (const p of picked) flight -= p.bytes;
    return picked;
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'send':
        if (op.respectWindow && !cc.canSend(op.bytes)) break;
        cc.onPacketSent(op.bytes, now, pn);
        outstanding.push({ packetNumber: pn++, timeSent: now, bytes: op.bytes });
        flight += op.bytes;
        // A sender that checks canSend never exceeds the window.
        if (op.respectWindow) expect(cc.bytesInFlight).toBeLessThanOrEqual(cc.window);
        break;
      case 'ack': {
        now += op.rtt;
        snapshot.latestRtt = op.rtt;
        snapshot.minRtt = Math.min(snapshot.minRtt, op.rtt);
        snapshot.smoothedRtt = snapshot.hasSample ? (7 * snapshot.smoothedRtt + op.rtt) / 8 : op.rtt;
        snapshot.hasSample = true;
        cc.onPacketsAcked(take(op.mask), now, snapshot as RttSnapshot);
        break;
      }
      case 'lose':
        cc.onPacketsLost(take(op.mask), now);
        break;
      case 'ecn':
        cc.onEcnCe(outstanding.length > 0 ? outstanding[outstanding.length - 1]!.timeSent : now, now);
        break;
      case 'persistent':
        cc.onPersistentCongestion(now);
        break;
      case 'discard': {
        const gone = take(op.mask);
        cc.onPacketsDiscarded(gone.reduce((s, p) => s + p.bytes, 0));
        break;
      }
      case 'appLimited':
        cc.setAppLimited(op.limited, now);
        break;
      case 'mds':
        cc.setMaxDatagramSize(op.size);
        break;
      case 'spurious':
        cc.onSpuriousLoss(now);
        break;
      case 'tick':
        now += op.ms;
        break;
    }
    // Invariants.
    expect(Number.isFinite(cc.window)).toBe(true);
    expect(cc.window).toBeGreaterThanOrEqual(cc.minimumWindow);
    expect(cc.minimumWindow).toBe(2 * cc.maxDatagramSize);
    expect(cc.bytesInFlight).toBeGreaterThanOrEqual(0);
    expect(cc.bytesInFlight).toBe(flight);
    expect(cc.ssthresh).toBeGreaterThan(0);
    expect(cc.available()).toBe(Math.max(0, cc.window - cc.bytesInFlight));
    if (cc.bytesInFlight >= cc.window) {
      expect(cc.canSend(1)).toBe(false);
      expect(cc.canSend()).toBe(false);
      expect(cc.available()).toBe(0);
    }
    expect(cc.canSend(1)).toBe(cc.bytesInFlight + 1 <= cc.window);
    expect(cc.canSend()).toBe(cc.bytesInFlight + cc.maxDatagramSize <= cc.window);
  }
}

describe('congestion controller properties', () => {
  it('cwnd >= minimum window, flight exact and never negative, canSend false when full', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 200 }), (config, ops) => {
        const cc = createCongestionController(config.name, {
          hystart: config.hystart,
          paced: config.paced,
          fastConvergence: config.fastConvergence,
          initialWindow: config.initialWindow,
        });
        run(cc, ops);
      }),
      { numRuns: 400 },
    );
  });

  it('flight never goes negative even when the caller over-reports', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CongestionControlAlgorithm>('newreno', 'cubic'),
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 20 }),
        (name, sent, removed) => {
          const cc = createCongestionController(name);
          let t = 0;
          for (const b of sent) cc.onPacketSent(b, t++, t);
          const rtt: RttSnapshot = { latestRtt: 10, minRtt: 10, smoothedRtt: 10, rttvar: 5, hasSample: true };
          removed.forEach((b, i) => {
            if (i % 3 === 0) cc.onPacketsAcked([{ bytes: b, timeSent: t, packetNumber: i }], t + 10, rtt);
            else if (i % 3 === 1) cc.onPacketsLost([{ bytes: b, timeSent: t }], t + 10);
            else cc.onPacketsDiscarded(b);
            expect(cc.bytesInFlight).toBeGreaterThanOrEqual(0);
            expect(cc.window).toBeGreaterThanOrEqual(cc.minimumWindow);
          });
        },
      ),
    );
  });
});
