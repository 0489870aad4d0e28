import { describe, expect, it } from 'vitest';
import { DeliveryMeter, Link, Simulator, jainIndex, utilisation } from '../src/index.js';

describe('jainIndex', () => {
  it('is 1 for equal shares and 1/n when one flow takes everything', () => {
    expect(jainIndex([5, 5, 5, 5])).toBe(1);
    expect(jainIndex([7])).toBe(1);
    expect(jainIndex([10, 0])).toBe(0.5);
    expect(jainIndex([3, 0, 0, 0])).toBe(0.25);
    expect(jainIndex([0, 0])).toBe(1);
  });

  it('matches hand-computed values', () => {
    // (1+2+3)^2 / (3 * (1+4+9)) = 36 / 42
    expect(jainIndex([1, 2, 3])).toBeCloseTo(36 / 42, 15);
    // (60+40)^2 / (2 * (3600+1600)) = 10000 / 10400
    expect(jainIndex([60, 40])).toBeCloseTo(10000 / 10400, 15);
    expect(jainIndex([60e6, 40e6])).toBeCloseTo(jainIndex([60, 40]), 15); // scale-free
  });

  it('rejects empty and negative input', () => {
    expect(() => jainIndex([])).toThrow(RangeError);
    expect(() => jainIndex([1, -1])).toThrow(RangeError);
    expect(() => jainIndex([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('utilisation', () => {
  it('is delivered bits over capacity × time', () => {
    expect(utilisation(12_500_000, 1000, 100e6)).toBe(1);
    expect(utilisation(11_250_000, 1000, 100e6)).toBeCloseTo(0.9, 15);
    expect(() => utilisation(1, 0, 1)).toThrow(RangeError);
  });
});

describe('DeliveryMeter', () => {
  it('buckets bytes per interval and reports rates', () => {
    const m = new DeliveryMeter(100);
    m.record(0, 1000);
    m.record(99.9, 500);
    m.record(100, 250);
    m.record(350, 125);
    expect(m.series()).toEqual([1500, 250, 0, 125]);
    expect(m.series(600)).toEqual([1500, 250, 0, 125, 0, 0]);
    expect(m.series(150)).toEqual([1500, 250]);
    expect(m.rates()).toEqual([120_000, 20_000, 0, 10_000]); // bit/s
    expect(m.total).toBe(1875);
    expect(m.lastDelivery).toBe(350);
  });

  it('sums windows exactly on boundaries and prorates partial intervals', () => {
    const m = new DeliveryMeter(10, 1000); // starts at t=1000
    for (let t = 1000; t < 1100; t += 1) m.record(t, 10); // 100 bytes per interval
    expect(m.bytesBetween(1000, 1100)).toBe(1000);
    expect(m.bytesBetween(1020, 1050)).toBe(300);
    expect(m.bytesBetween(1025, 1050)).toBe(250);
    expect(m.bytesBetween(900, 2000)).toBe(1000);
    expect(m.bytesBetween(1050, 1050)).toBe(0);
    expect(m.rateBetween(1000, 1100)).toBe(80_000);
    expect(m.utilisation(1000, 1100, 160_000)).toBe(0.5);
    expect(() => m.record(999, 1)).toThrow(RangeError);
  });

  it('measures a saturated link at its full rate after the first packet arrives', () => {
    const sim = new Simulator();
    const meter = new DeliveryMeter(100);
    const link = new Link(sim, {
      bandwidth: 12e6, // 1500 bytes per ms
      delay: 10,
      deliver: (p, now) => meter.record(now, p.size),
    });
    for (let i = 0; i < 2000; i++) link.send({ size: 1500, payload: i });
    sim.runUntilIdle();
    expect(meter.total).toBe(3_000_000);
    expect(meter.utilisation(100, 2000, 12e6)).toBeCloseTo(1, 9);
    expect(jainIndex(meter.series(2000).slice(1))).toBeCloseTo(1, 9);
  });
});
