import { describe, expect, it } from 'vitest';
import {
  HyStart,
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
  HYSTART_MAX_RTT_THRESH,
  HYSTART_MIN_RTT_DIVISOR,
  HYSTART_MIN_RTT_THRESH,
  HYSTART_N_RTT_SAMPLE,
  HYSTART_UNPACED_L,
  hystartRttThreshold,
} from '../src/hystart.js';
import { NewRenoController } from '../src/newreno.js';
import type { RttSnapshot } from '../src/congestion.js';

const MDS = 1000;

interface Flow {
  pn: number;
  pending: number[];
}
const flow = (): Flow => ({ pn: 0, pending: [] });

/**
 * One HyStart++ round with every RTT sample = `rttMs`: sends `count` packets (the first one is windowEnd),
 * acks the packets still pending from the previous call (sent before the round start), then acks windowEnd,
 * which ends the round. Samples in the round: previous count − 1 + 1. Returns the summed increments.
 */
function round(hs: HyStart, f: Flow, count: number, rttMs: number): number {
  const first = f.pn;
  for (let i = 0; i < count; i++) hs.onPacketSent(f.pn++);
  let inc = 0;
  for (const pn of f.pending) inc += hs.onAck(MDS, pn, rttMs, MDS);
  expect(hs.windowEnd).toBe(first);
  inc += hs.onAck(MDS, first, rttMs, MDS);
  expect(hs.windowEnd).toBe(f.pn);
  f.pending = [];
  for (let pn = first + 1; pn < f.pn; pn++) f.pending.push(pn);
  return inc;
}

describe('HyStart++ constants and threshold (RFC 9406 §4.3)', () => {
  it('constants', () => {
    expect(HYSTART_MIN_RTT_THRESH).toBe(4);
    expect(HYSTART_MAX_RTT_THRESH).toBe(16);
    expect(HYSTART_MIN_RTT_DIVISOR).toBe(8);
    expect(HYSTART_N_RTT_SAMPLE).toBe(8);
    expect(HYSTART_CSS_GROWTH_DIVISOR).toBe(4);
    expect(HYSTART_CSS_ROUNDS).toBe(5);
    expect(HYSTART_UNPACED_L).toBe(8);
  });

  it('RttThresh = clamp(lastRoundMinRTT/8, 4 ms, 16 ms)', () => {
    expect(hystartRttThreshold(10)).toBe(4); // 1.25 → 4
    expect(hystartRttThreshold(32)).toBe(4); // exactly 4
    expect(hystartRttThreshold(40)).toBe(5);
    expect(hystartRttThreshold(100)).toBe(12.5);
    expect(hystartRttThreshold(128)).toBe(16);
    expect(hystartRttThreshold(1000)).toBe(16); // 125 → 16
  });

  it('L: a paced sender applies the whole ACK, an unpaced one at most 8 segments', () => {
    const paced = new HyStart(true);
    const unpaced = new HyStart(false);
    expect(paced.l).toBe(Infinity);
    expect(unpaced.l).toBe(8);
    paced.onPacketSent(0);
    unpaced.onPacketSent(0);
    expect(paced.onAck(20_000, 0, 50, MDS)).toBe(20_000);
    expect(unpaced.onAck(20_000, 0, 50, MDS)).toBe(8 * MDS);
    expect(unpaced.onAck(5000, 0, 50, MDS)).toBe(5000);
  });
});

describe('HyStart++ rounds (packet numbers)', () => {
  it('a round ends when a packet sent after its start is acked', () => {
    const hs = new HyStart(true);
    expect(hs.windowEnd).toBeUndefined();
    for (let pn = 0; pn < 4; pn++) hs.onPacketSent(pn);
    expect(hs.windowEnd).toBe(0); // the first packet starts the first round
    hs.onAck(MDS, 0, 100, MDS); // acks windowEnd: round 1 ends, round 2 starts at SND.NXT = 4
    expect(hs.windowEnd).toBe(4);
    expect(hs.lastRoundMinRtt).toBe(100);
    expect(hs.currentRoundMinRtt).toBe(Infinity);
    expect(hs.rttSampleCount).toBe(0);
    hs.onAck(MDS, 3, 90, MDS); // sent before the round start: same round
    expect(hs.windowEnd).toBe(4);
    expect(hs.currentRoundMinRtt).toBe(90);
    expect(hs.rttSampleCount).toBe(1);
    hs.onPacketSent(4);
    hs.onPacketSent(6); // packet numbers may skip
    hs.onAck(MDS, 6, 95, MDS);
    expect(hs.windowEnd).toBe(7);
    expect(hs.lastRoundMinRtt).toBe(90);
  });
});

describe('HyStart++ CSS entry and exit (RFC 9406 §4.2)', () => {
  /** Round 1 = 1 sample, round 2 = 9 samples, both at 100 ms ⇒ lastRoundMinRtt = 100; 8 packets pending. */
  function warmUp(hs: HyStart, f: Flow): void {
    round(hs, f, 9, 100);
    round(hs, f, 9, 100);
    expect(hs.lastRoundMinRtt).toBe(100);
    expect(hs.inCss).toBe(false);
    expect(f.pending).toHaveLength(8);
  }

  it('enters CSS when the round minimum grows by RttThresh (12.5 ms for 100 ms), only after 8 samples', () => {
    const hs = new HyStart(true);
    const f = flow();
    warmUp(hs, f);
    const windowEnd = f.pn;
    hs.onPacketSent(f.pn++);
    hs.onPacketSent(f.pn++);
    // Round 3 at 113 ms ≥ 100 + 12.5: the 8th sample triggers CSS.
    for (let i = 0; i < 7; i++) {
      expect(hs.onAck(MDS, f.pending[i]!, 113, MDS)).toBe(MDS);
      expect(hs.inCss).toBe(false);
    }
    expect(hs.onAck(MDS, f.pending[7]!, 113, MDS)).toBe(MDS); // growth is computed before the check
    expect(hs.inCss).toBe(true);
    expect(hs.cssBaselineMinRtt).toBe(113);
    expect(hs.cssRound).toBe(0);
    // In CSS the increment is divided by CSS_GROWTH_DIVISOR; this ACK also ends the entry round.
    expect(hs.onAck(MDS, windowEnd + 1, 113, MDS)).toBe(MDS / 4);
    expect(hs.cssRound).toBe(1);
    expect(hs.lastRoundMinRtt).toBe(113);
  });

  it('does not enter CSS just below the threshold', () => {
    const hs = new HyStart(true);
    const f = flow();
    warmUp(hs, f);
    round(hs, f, 9, 112);
    expect(hs.inCss).toBe(false);
    round(hs, f, 9, 112); // now compared with 112 + 14
    expect(hs.inCss).toBe(false);
  });

  it('uses the 4 ms floor for short paths and the 16 ms cap for long ones', () => {
    const short = new HyStart(true);
    const f1 = flow();
    round(short, f1, 9, 10);
    round(short, f1, 9, 10);
    round(short, f1, 9, 13.5); // needs 10 + 4 = 14 (10/8 = 1.25 is below the floor)
    expect(short.inCss).toBe(false);
    round(short, f1, 9, 17.5); // last round minimum 13.5: needs 17.5
    expect(short.inCss).toBe(true);

    const long = new HyStart(true);
    const f2 = flow();
    round(long, f2, 9, 400);
    round(long, f2, 9, 400);
    round(long, f2, 9, 415.5); // 400/8 = 50 is capped at 16: needs 416
    expect(long.inCss).toBe(false);
    round(long, f2, 9, 431.5); // needs 415.5 + 16
    expect(long.inCss).toBe(true);
  });

  it('CSS needs a previous round minimum and 8 samples in the current round', () => {
    const hs = new HyStart(true);
    const f = flow();
    round(hs, f, 8, 100); // 1 sample
    round(hs, f, 8, 500); // 8 samples against the 1-sample previous round: enough
    expect(hs.inCss).toBe(true);
    const hs2 = new HyStart(true);
    const f2 = flow();
    round(hs2, f2, 7, 100);
    round(hs2, f2, 8, 500); // only 7 samples in this round
    expect(hs2.inCss).toBe(false);
    const hs3 = new HyStart(true);
    hs3.onPacketSent(0);
    for (let i = 0; i < 20; i++) hs3.onAck(MDS, -1, 500, MDS); // never ends round 1: no previous minimum
    expect(hs3.inCss).toBe(false);
  });

  it('returns to slow start when the RTT falls below the CSS baseline', () => {
    const hs = new HyStart(true);
    const f = flow();
    warmUp(hs, f);
    round(hs, f, 9, 120);
    expect(hs.inCss).toBe(true);
    expect(hs.cssRound).toBe(1); // the entry round has ended
    const inc = round(hs, f, 9, 110); // 110 < baseline 120 after 8 samples
    expect(hs.inCss).toBe(false);
    expect(hs.cssBaselineMinRtt).toBe(Infinity);
    expect(hs.cssRound).toBe(0);
    expect(inc).toBe((8 * MDS) / 4 + MDS); // 8 CSS increments (growth precedes the check), then 1 full
  });

  it('requests congestion avoidance after CSS_ROUNDS rounds in CSS', () => {
    const hs = new HyStart(false);
    const f = flow();
    warmUp(hs, f);
    round(hs, f, 9, 120); // entry round (counts as 1)
    for (let r = 2; r <= HYSTART_CSS_ROUNDS; r++) {
      expect(hs.exitRequested).toBe(false);
      const inc = round(hs, f, 9, 125);
      expect(inc).toBe((9 * MDS) / 4);
      expect(hs.cssRound).toBe(r);
    }
    expect(hs.exitRequested).toBe(true);
    hs.reset();
    expect(hs.exitRequested).toBe(false);
    expect(hs.inCss).toBe(false);
    expect(hs.windowEnd).toBeUndefined();
  });
});

describe('HyStart++ inside a controller', () => {
  const rtt = (ms: number): RttSnapshot => ({
    latestRtt: ms,
    minRtt: ms,
    smoothedRtt: ms,
    rttvar: ms / 2,
    hasSample: true,
  });

  it('NewReno leaves slow start with ssthresh = cwnd after CSS, and only in the initial slow start', () => {
    const cc = new NewRenoController({ maxDatagramSize: MDS, initialWindow: 10_000 });
    expect(cc.hystartActive).toBe(true);
    let pn = 0;
    let now = 0;
    const rtts = [100, 100, 100, 140, 140, 140, 140, 140, 140, 140];
    let cssSeen = false;
    for (const r of rtts) {
      if (!cc.inSlowStart) break;
      const first = pn;
      const count = Math.floor(cc.window / MDS);
      for (let i = 0; i < count; i++) cc.onPacketSent(MDS, now, pn++);
      for (let i = first; i < first + count && cc.inSlowStart; i++) {
        cc.onPacketsAcked([{ packetNumber: i, timeSent: now, bytes: MDS }], now + r, rtt(r));
        if (cc.hystart?.inCss === true) cssSeen = true;
      }
      now += r;
    }
    expect(cssSeen).toBe(true);
    expect(cc.inSlowStart).toBe(false);
    expect(cc.ssthresh).toBe(cc.window);
    expect(cc.hystartActive).toBe(false);
  });

  it('a loss ends HyStart++; the next slow start is classic', () => {
    const cc = new NewRenoController({ maxDatagramSize: MDS, initialWindow: 10_000, paced: false });
    cc.onPacketSent(MDS, 0, 0);
    cc.onPacketsLost([{ timeSent: 0, bytes: MDS }], 100);
    cc.onPersistentCongestion(100);
    expect(cc.hystartActive).toBe(false);
    cc.onPacketSent(20 * MDS, 200, 1);
    cc.onPacketsAcked([{ packetNumber: 1, timeSent: 200, bytes: 20 * MDS }], 300, rtt(100));
    expect(cc.window).toBe(2 * MDS + 20 * MDS); // no L cap outside HyStart++
  });

  it('unpaced HyStart++ caps the per-ACK growth at 8 segments', () => {
    const cc = new NewRenoController({ maxDatagramSize: MDS, initialWindow: 20_000, paced: false });
    for (let i = 0; i < 20; i++) cc.onPacketSent(MDS, 0, i);
    const acked = Array.from({ length: 20 }, (_, i) => ({ packetNumber: i, timeSent: 0, bytes: MDS }));
    cc.onPacketsAcked(acked, 100, rtt(100));
    expect(cc.window).toBe(28_000);
  });
});
