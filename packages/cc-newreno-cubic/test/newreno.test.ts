import { describe, expect, it } from 'vitest';
import {
  createCongestionController,
  initialWindow,
  minimumWindow,
  NewRenoController,
} from '../src/congestion.js';
import type { RttSnapshot } from '../src/congestion.js';

const rtt = (ms = 100): RttSnapshot => ({
  latestRtt: ms,
  minRtt: ms,
  smoothedRtt: ms,
  rttvar: ms / 2,
  hasSample: true,
});

const pkt = (packetNumber: number, timeSent: number, bytes = 1000) => ({ packetNumber, timeSent, bytes });

/** A NewReno with mds = 1000 and a chosen initial window, HyStart++ off unless asked. */
function reno(initial = 40_000, hystart = false): NewRenoController {
  return new NewRenoController({ maxDatagramSize: 1000, initialWindow: initial, hystart });
}

describe('NewReno windows (RFC 9002 §7.2)', () => {
  it('kInitialWindow and kMinimumWindow', () => {
    expect(initialWindow(1200)).toBe(12_000);
    expect(initialWindow(1500)).toBe(14_720);
    expect(initialWindow(1000)).toBe(10_000);
    expect(initialWindow(8000)).toBe(16_000);
    expect(minimumWindow(1200)).toBe(2400);
    const cc = createCongestionController('newreno');
    expect(cc.name).toBe('newreno');
    expect(cc.window).toBe(12_000);
    expect(cc.minimumWindow).toBe(2400);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.inSlowStart).toBe(true);
    expect(cc.maxDatagramSize).toBe(1200);
  });

  it('recomputes the initial window when the datagram size changes before any ACK', () => {
    const cc = createCongestionController('newreno');
    cc.setMaxDatagramSize(1500);
    expect(cc.window).toBe(14_720);
    cc.setMaxDatagramSize(1200);
    expect(cc.window).toBe(12_000);
    cc.onPacketSent(1200, 0, 0);
    cc.onPacketsAcked([pkt(0, 0, 1200)], 50, rtt(50));
    expect(cc.window).toBe(13_200);
    cc.setMaxDatagramSize(8000); // after an ACK: only the floor kMinimumWindow applies
    expect(cc.window).toBe(16_000);
    expect(() => cc.setMaxDatagramSize(0)).toThrow(RangeError);
  });
});

describe('NewReno growth', () => {
  it('slow start adds the acked bytes', () => {
    const cc = reno(10_000);
    for (let i = 0; i < 10; i++) cc.onPacketSent(1000, 0, i);
    expect(cc.bytesInFlight).toBe(10_000);
    expect(cc.canSend()).toBe(false);
    cc.onPacketsAcked([pkt(0, 0), pkt(1, 0), pkt(2, 0)], 100, rtt());
    expect(cc.window).toBe(13_000);
    expect(cc.bytesInFlight).toBe(7000);
    expect(cc.available()).toBe(6000);
    expect(cc.canSend(6000)).toBe(true);
    expect(cc.canSend(6001)).toBe(false);
  });

  it('congestion avoidance adds mds·acked/cwnd (§7.3.3)', () => {
    const cc = reno(40_000);
    cc.onPacketSent(1000, 0, 0);
    cc.onPacketSent(1000, 10, 1);
    cc.onPacketsLost([pkt(0, 0)], 100); // ssthresh = cwnd = 20 000
    expect(cc.ssthresh).toBe(20_000);
    expect(cc.window).toBe(20_000);
    expect(cc.inSlowStart).toBe(false);
    cc.onPacketSent(1000, 120, 2);
    cc.onPacketsAcked([pkt(2, 120)], 220, rtt());
    expect(cc.window).toBe(20_050); // 20 000 + 1000·1000/20 000
    cc.onPacketSent(2000, 230, 3);
    cc.onPacketsAcked([pkt(3, 230, 2000)], 330, rtt());
    expect(cc.window).toBeCloseTo(20_050 + (1000 * 2000) / 20_050, 9);
  });

  it('does not grow while application-limited (§7.8) but still drains flight', () => {
    const cc = reno(10_000);
    cc.onPacketSent(1000, 0, 0);
    cc.setAppLimited(true, 0);
    expect(cc.appLimited).toBe(true);
    cc.onPacketsAcked([pkt(0, 0)], 100, rtt());
    expect(cc.window).toBe(10_000);
    expect(cc.bytesInFlight).toBe(0);
    cc.setAppLimited(false, 100);
    cc.onPacketSent(1000, 100, 1);
    cc.onPacketsAcked([pkt(1, 100)], 200, rtt());
    expect(cc.window).toBe(11_000);
  });

  it('ignores packets not counted in flight', () => {
    const cc = reno(10_000);
    cc.onPacketSent(1000, 0, 0);
    cc.onPacketsAcked([{ ...pkt(1, 0, 50), inFlight: false }], 100, rtt());
    expect(cc.window).toBe(10_000);
    expect(cc.bytesInFlight).toBe(1000);
    cc.onPacketsLost([{ ...pkt(1, 0, 50), inFlight: false }], 100);
    expect(cc.ssthresh).toBe(Infinity);
  });
});

describe('NewReno congestion events (RFC 9002 §7.3.2, App. B.6/B.8)', () => {
  it('halves the window and suppresses reductions inside the recovery period', () => {
    const cc = reno(40_000);
    for (let i = 0; i < 20; i++) cc.onPacketSent(1000, i, i);
    cc.onPacketsLost([pkt(0, 0), pkt(1, 1)], 100);
    expect(cc.window).toBe(20_000);
    expect(cc.ssthresh).toBe(20_000);
    expect(cc.inRecovery).toBe(true);
    expect(cc.recoveryStartTime).toBe(100);
    expect(cc.bytesInFlight).toBe(18_000);

    // More losses of packets sent before the recovery start: no further reduction.
    cc.onPacketsLost([pkt(2, 2), pkt(3, 3)], 110);
    expect(cc.window).toBe(20_000);
    // ECN-CE for a packet sent before the recovery start: ignored too.
    cc.onEcnCe(19, 115);
    expect(cc.window).toBe(20_000);
    // Acks for packets sent before the recovery start do not grow the window nor end recovery.
    cc.onPacketsAcked([pkt(4, 4), pkt(5, 5)], 120, rtt());
    expect(cc.window).toBe(20_000);
    expect(cc.inRecovery).toBe(true);
    expect(cc.bytesInFlight).toBe(14_000);

    // A packet sent at the recovery start still counts as sent before it (sent_time <= start).
    cc.onPacketSent(1000, 100, 20);
    cc.onPacketsLost([pkt(20, 100)], 125);
    expect(cc.window).toBe(20_000);

    // A packet sent during recovery is acked: recovery ends, CA growth resumes.
    cc.onPacketSent(1000, 130, 21);
    cc.onPacketsAcked([pkt(21, 130)], 230, rtt());
    expect(cc.inRecovery).toBe(false);
    expect(cc.window).toBe(20_050);

    // A loss of a packet sent after the recovery start is a new congestion event.
    cc.onPacketSent(1000, 240, 22);
    cc.onPacketsLost([pkt(22, 240)], 300);
    expect(cc.window).toBe(10_025);
    expect(cc.ssthresh).toBe(10_025);
    expect(cc.recoveryStartTime).toBe(300);
  });

  it('keys the event by the latest send time among the lost packets', () => {
    const cc = reno(40_000);
    cc.onPacketSent(1000, 0, 0);
    cc.onPacketsLost([pkt(0, 0)], 100);
    expect(cc.window).toBe(20_000);
    cc.onPacketSent(1000, 50, 1);
    cc.onPacketSent(1000, 150, 2);
    // One packet from before and one from after the recovery start: a new event.
    cc.onPacketsLost([pkt(1, 50), pkt(2, 150)], 200);
    expect(cc.window).toBe(10_000);
  });

  it('never goes below the minimum window', () => {
    const cc = reno(5000);
    const windows: number[] = [];
    for (let i = 0; i < 6; i++) {
      // Each lost packet is sent after the previous recovery start: a new congestion event every time.
      cc.onPacketSent(1000, i * 10 + 1, i);
      cc.onPacketsLost([pkt(i, i * 10 + 1)], i * 10 + 5);
      windows.push(cc.window);
    }
    expect(windows).toEqual([2500, 2000, 2000, 2000, 2000, 2000]);
    expect(cc.window).toBe(2000);
    expect(cc.ssthresh).toBe(1000); // 0.5 × 2000: ssthresh itself is not floored by RFC 9002
  });

  it('treats ECN-CE as a congestion event without loss', () => {
    const cc = reno(40_000);
    cc.onPacketSent(1000, 10, 0);
    cc.onEcnCe(10, 100);
    expect(cc.window).toBe(20_000);
    expect(cc.bytesInFlight).toBe(1000);
    expect(cc.inRecovery).toBe(true);
  });

  it('a lost PMTU probe leaves flight without a reduction', () => {
    const cc = reno(40_000);
    cc.onPacketSent(1500, 0, 0);
    cc.onPacketsLost([{ ...pkt(0, 0, 1500), isMtuProbe: true }], 100);
    expect(cc.window).toBe(40_000);
    expect(cc.bytesInFlight).toBe(0);
  });

  it('persistent congestion collapses to the minimum window and leaves recovery (§7.6.2)', () => {
    const cc = reno(40_000);
    for (let i = 0; i < 3; i++) cc.onPacketSent(1000, i * 10, i);
    cc.onPacketsLost([pkt(0, 0), pkt(1, 10), pkt(2, 20)], 2000);
    cc.onPersistentCongestion(2000);
    expect(cc.window).toBe(2000);
    expect(cc.ssthresh).toBe(20_000);
    expect(cc.inRecovery).toBe(false);
    expect(cc.recoveryStartTime).toBeUndefined();
    expect(cc.inSlowStart).toBe(true);
    // Slow start again; a packet sent before the old recovery start now grows the window.
    cc.onPacketSent(1000, 1990, 3);
    cc.onPacketsAcked([pkt(3, 1990)], 2100, rtt());
    expect(cc.window).toBe(3000);
  });

  it('discarded packets leave flight without reaction; flight never negative', () => {
    const cc = reno(40_000);
    cc.onPacketSent(1200, 0, 0);
    cc.onPacketsDiscarded(1200);
    expect(cc.bytesInFlight).toBe(0);
    cc.onPacketsDiscarded(500);
    expect(cc.bytesInFlight).toBe(0);
    expect(cc.window).toBe(40_000);
    expect(cc.onSpuriousLoss(0)).toBe(false);
  });
});
