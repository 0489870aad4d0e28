import { describe, expect, it } from 'vitest';
import { K_GRANULARITY, K_INITIAL_RTT, RttEstimator } from '../src/rtt.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('starts from kInitialRtt: smoothed 333, rttvar 166.5, PTO 999 ms (+max_ack_delay)', () => {
    const rtt = new RttEstimator();
    expect(K_INITIAL_RTT).toBe(333);
    expect(K_GRANULARITY).toBe(1);
    expect(rtt.hasSample).toBe(false);
    expect(rtt.smoothedRtt).toBe(333);
    expect(rtt.rttvar).toBe(166.5);
    expect(rtt.latestRtt).toBe(0);
    expect(rtt.minRtt).toBe(0);
    // §6.2.2: 333 + 4 × 166.5 = 999 ("approximately 1 second").
    expect(rtt.pto(0)).toBe(999);
    expect(rtt.pto(25)).toBe(1024);
  });

  it('reset() returns to the state before any sample (RFC 9000 §9.4, new peer address)', () => {
    const rtt = new RttEstimator(100);
    rtt.update(20, 0, true, 25);
    rtt.update(30, 5, true, 25);
    rtt.reset();
    expect([rtt.hasSample, rtt.sampleCount, rtt.smoothedRtt, rtt.rttvar, rtt.latestRtt, rtt.minRtt]).toEqual([false, 0, 100, 50, 0, 0]);
    rtt.update(60, 0, true, 25);
    // The next sample is a first sample again (§5.3), not a smoothing step from the old path's figures.
    expect([rtt.smoothedRtt, rtt.rttvar, rtt.minRtt]).toEqual([60, 30, 60]);
  });

  it('accepts a custom initial RTT and rejects nonsense', () => {
    const rtt = new RttEstimator(100);
    expect(rtt.smoothedRtt).toBe(100);
    expect(rtt.rttvar).toBe(50);
    expect(() => new RttEstimator(0)).toThrow(RangeError);
    expect(() => new RttEstimator(Number.NaN)).toThrow(RangeError);
    expect(() => rtt.update(-1, 0, true, 25)).toThrow(RangeError);
    expect(() => rtt.update(10, -1, true, 25)).toThrow(RangeError);
  });

  it('first sample: min = smoothed = latest, rttvar = latest / 2, ack delay ignored (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 20, true, 25);
    expect(rtt.hasSample).toBe(true);
    expect(rtt.sampleCount).toBe(1);
    expect(rtt.latestRtt).toBe(100);
    expect(rtt.minRtt).toBe(100);
    expect(rtt.smoothedRtt).toBe(100);
    expect(rtt.rttvar).toBe(50);
    // PTO = 100 + max(200, 1) + 25.
    expect(rtt.pto(25)).toBe(325);
    expect(rtt.pto(0)).toBe(300);
  });

  it('later samples: rttvar with the old smoothed value, then smoothed (App. A.7 order)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25);
    // latest 120, ack delay 10 (plausible: 120 >= 100 + 10) → adjusted 110.
    rtt.update(120, 10, true, 25);
    // rttvar = 3/4·50 + 1/4·|100 − 110| = 37.5 + 2.5 = 40
    expect(rtt.rttvar).toBe(40);
    // smoothed = 7/8·100 + 1/8·110 = 87.5 + 13.75 = 101.25
    expect(rtt.smoothedRtt).toBe(101.25);
    expect(rtt.minRtt).toBe(100);
    expect(rtt.latestRtt).toBe(120);
    // Had smoothed been updated first, rttvar would be 3/4·50 + 1/4·|101.25 − 110| = 39.6875.
    expect(rtt.rttvar).not.toBe(39.6875);
    // PTO = 101.25 + 160 + 25
    expect(rtt.pto(25)).toBe(286.25);
  });

  it('after handshake confirmation the ack delay is capped by max_ack_delay (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25);
    // latest 200, reported delay 60, confirmed, max_ack_delay 25 → delay 25 → adjusted 175.
    rtt.update(200, 60, true, 25);
    // rttvar = 37.5 + 1/4·75 = 56.25; smoothed = 87.5 + 175/8 = 109.375
    expect(rtt.rttvar).toBe(56.25);
    expect(rtt.smoothedRtt).toBe(109.375);
  });

  it('before confirmation max_ack_delay is not applied: the full reported delay is used', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, false, 25);
    // latest 200, reported delay 60 → adjusted 140.
    rtt.update(200, 60, false, 25);
    // rttvar = 37.5 + 1/4·40 = 47.5; smoothed = 87.5 + 140/8 = 105
    expect(rtt.rttvar).toBe(47.5);
    expect(rtt.smoothedRtt).toBe(105);
  });

  it('does not subtract the ack delay when the result would go below min_rtt', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25);
    // latest 105, delay 10: 105 < 100 + 10 → adjusted stays 105.
    rtt.update(105, 10, true, 25);
    // rttvar = 37.5 + 1/4·5 = 38.75; smoothed = 87.5 + 105/8 = 100.625
    expect(rtt.rttvar).toBe(38.75);
    expect(rtt.smoothedRtt).toBe(100.625);
  });

  it('min_rtt ignores ack delay and only goes down; a sample below min_rtt becomes min_rtt', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, true, 25);
    rtt.update(80, 50, true, 25);
    expect(rtt.minRtt).toBe(80);
    // 80 < 80 + 25 → not adjusted: rttvar = 37.5 + 1/4·20 = 42.5; smoothed = 87.5 + 10 = 97.5
    expect(rtt.rttvar).toBe(42.5);
    expect(rtt.smoothedRtt).toBe(97.5);
    rtt.update(300, 0, true, 25);
    expect(rtt.minRtt).toBe(80);
  });

  it('PTO uses kGranularity when rttvar is tiny', () => {
    const rtt = new RttEstimator();
    rtt.update(0.2, 0, true, 0); // rttvar 0.1 → 4·rttvar = 0.4 < 1
    expect(rtt.pto(0)).toBe(0.2 + 1);
  });

  it('persistent congestion resets min_rtt to the newest sample (§5.2)', () => {
    const rtt = new RttEstimator();
    rtt.onPersistentCongestion(); // no sample: no-op
    expect(rtt.minRtt).toBe(0);
    rtt.update(50, 0, true, 25);
    rtt.update(300, 0, true, 25);
    expect(rtt.minRtt).toBe(50);
    rtt.onPersistentCongestion();
    expect(rtt.minRtt).toBe(300);
    rtt.resetMinRttTo(42);
    expect(rtt.minRtt).toBe(42);
  });

  it('converges to a constant RTT', () => {
    const rtt = new RttEstimator();
    for (let i = 0; i < 200; i++) rtt.update(40, 0, true, 25);
    expect(rtt.smoothedRtt).toBeCloseTo(40, 9);
    expect(rtt.rttvar).toBeLessThan(1e-9);
    expect(rtt.pto(25)).toBeCloseTo(40 + 1 + 25, 9);
  });
});
