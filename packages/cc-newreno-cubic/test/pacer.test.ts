import { describe, expect, it } from 'vitest';
import { PACING_BURST_PACKETS, PACING_GAIN, Pacer } from '../src/pacer.js';

describe('Pacer (RFC 9002 §7.7)', () => {
  it('defaults: N = 1.25, burst of 10 datagrams of 1200 bytes', () => {
    const p = new Pacer();
    expect(PACING_GAIN).toBe(1.25);
    expect(PACING_BURST_PACKETS).toBe(10);
    expect(p.capacity).toBe(12_000);
    expect(p.tokens).toBe(12_000);
    // rate = N · cwnd / srtt = 1.25 · 12000 / 100 = 150 bytes/ms
    expect(p.rate(12_000, 100)).toBe(150);
  });

  it('lets a burst out at once, then spaces packets at N · cwnd / srtt', () => {
    const p = new Pacer();
    const cwnd = 12_000;
    const srtt = 100;
    for (let i = 0; i < 10; i++) {
      expect(p.nextSendTime(0, 1200, cwnd, srtt)).toBe(0);
      p.onSent(0, 1200);
    }
    // Bucket empty: 1200 bytes at 150 bytes/ms → 8 ms.
    expect(p.nextSendTime(0, 1200, cwnd, srtt)).toBe(8);
    expect(p.nextSendTime(4, 1200, cwnd, srtt)).toBe(8);
    expect(p.nextSendTime(8, 1200, cwnd, srtt)).toBe(8);
    p.onSent(8, 1200);
    expect(p.nextSendTime(8, 1200, cwnd, srtt)).toBe(16);
    // RFC 9002 §7.7 interval = (smoothed_rtt · packet_size / congestion_window) / N = (100 · 1200 / 12000) / 1.25.
    expect((srtt * 1200) / cwnd / 1.25).toBe(8);
  });

  it('sends a whole window in about srtt / N once the burst is spent', () => {
    const p = new Pacer();
    const cwnd = 120_000;
    const srtt = 50;
    let now = 0;
    let sent = 0;
    while (sent < cwnd) {
      now = Math.max(now, p.nextSendTime(now, 1200, cwnd, srtt));
      p.onSent(now, 1200);
      sent += 1200;
    }
    // The first 10 packets are free, the other 90 come at 1200 / (1.25 · 120000 / 50) = 0.4 ms each.
    expect(now).toBeCloseTo(90 * 0.4, 9);
    expect(now).toBeLessThan(srtt);
  });

  it('caps the refill at the burst allowance after idle time', () => {
    const p = new Pacer();
    for (let i = 0; i < 10; i++) p.onSent(0, 1200);
    expect(p.nextSendTime(0, 1200, 12_000, 100)).toBe(8);
    p.nextSendTime(10_000, 1200, 12_000, 100);
    expect(p.tokens).toBe(12_000);
  });

  it('follows window changes and a lower PMTU', () => {
    const p = new Pacer();
    for (let i = 0; i < 10; i++) p.onSent(0, 1200);
    // Doubling cwnd halves the wait.
    expect(p.nextSendTime(0, 1200, 24_000, 100)).toBe(4);
    p.setMaxDatagramSize(1000);
    expect(p.capacity).toBe(10_000);
    expect(p.maxDatagramSize).toBe(1000);
    expect(() => p.setMaxDatagramSize(0)).toThrow(RangeError);
  });

  it('never goes below an empty bucket (PTO probes bypass pacing)', () => {
    const p = new Pacer();
    for (let i = 0; i < 15; i++) p.onSent(0, 1200, 12_000, 100);
    expect(p.tokens).toBe(0);
    expect(p.nextSendTime(0, 1200, 12_000, 100)).toBe(8);
  });

  it('a packet larger than the bucket waits for a full bucket, not forever', () => {
    const p = new Pacer({ burstPackets: 1, maxDatagramSize: 1200 });
    p.onSent(0, 1200, 12_000, 100);
    expect(p.nextSendTime(0, 1500, 12_000, 100)).toBe(8);
  });

  it('does not pace without an RTT, and never releases anything with a zero window', () => {
    const p = new Pacer();
    for (let i = 0; i < 10; i++) p.onSent(0, 1200);
    expect(p.nextSendTime(0, 1200, 12_000, 0)).toBe(0);
    const q = new Pacer();
    for (let i = 0; i < 10; i++) q.onSent(0, 1200);
    expect(q.nextSendTime(0, 1200, 0, 100)).toBe(Infinity);
  });

  it('does not spin on rounding: the returned time always makes progress or means now', () => {
    const p = new Pacer();
    const cwnd = 37_000;
    const srtt = 33.3;
    let now = 1e6;
    for (let i = 0; i < 10_000; i++) {
      const t = p.nextSendTime(now, 1200, cwnd, srtt);
      if (t > now) {
        now = t;
        expect(p.nextSendTime(now, 1200, cwnd, srtt)).toBe(now);
      }
      p.onSent(now, 1200);
    }
    // 10 000 packets at 1.25 · 37000 / 33.3 bytes/ms, less the 10-packet burst.
    expect(now - 1e6).toBeCloseTo((9990 * 1200 * srtt) / (1.25 * cwnd), 3);
  });

  it('validates options', () => {
    expect(() => new Pacer({ n: 0 })).toThrow(RangeError);
    expect(() => new Pacer({ burstPackets: 0 })).toThrow(RangeError);
    expect(() => new Pacer({ maxDatagramSize: -1 })).toThrow(RangeError);
    const p = new Pacer({ n: 2, burstPackets: 2 });
    expect(p.rate(1000, 10)).toBe(200);
    p.reset();
    expect(p.tokens).toBe(2400);
  });

  it('holds the timer granularity worth of the rate, between burstPackets and maxBurstPackets', () => {
    const p = new Pacer({ granularity: 1, maxBurstPackets: 32 });
    // 1.25 · 12 MB / 10 ms = 1.5 MB/ms: 1 ms is far above 32 packets, so the cap holds.
    p.nextSendTime(0, 1200, 12_000_000, 10);
    expect(p.capacity).toBe(32 * 1200);
    let sent = 0;
    for (let t = 0; t < 10; t += 1) {
      while (p.nextSendTime(t, 1200, 12_000_000, 10) <= t) {
        p.onSent(t, 1200);
        sent++;
      }
    }
    // One wake-up per ms sends a full bucket each time (the first one also has the initial 10).
    expect(sent).toBeGreaterThanOrEqual(10 + 9 * 32);
    // A slow rate keeps the floor of burstPackets: 1.25 · 24000 B / 100 ms = 300 B/ms < 10 packets.
    const slow = new Pacer({ granularity: 1, maxBurstPackets: 32 });
    slow.nextSendTime(0, 1200, 24_000, 100);
    expect(slow.capacity).toBe(10 * 1200);
    expect(() => new Pacer({ granularity: -1 })).toThrow(RangeError);
  });
});
