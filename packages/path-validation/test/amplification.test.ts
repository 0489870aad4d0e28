import { describe, expect, it } from 'vitest';
import { AMPLIFICATION_FACTOR, AmplificationLimiter, PathConfigError } from '../src/index.js';

describe('AmplificationLimiter (RFC 9000 §8, §8.1)', () => {
  it('allows nothing before anything was received', () => {
    const limiter = new AmplificationLimiter();
    expect(limiter.allowance()).toBe(0);
    expect(limiter.canSend(1)).toBe(false);
    expect(limiter.canSend(0)).toBe(true);
  });

  it('allows three times the bytes received, minus what was sent', () => {
    const limiter = new AmplificationLimiter();
    limiter.onReceived(1200);
    expect(AMPLIFICATION_FACTOR).toBe(3);
    expect(limiter.allowance()).toBe(3600);
    limiter.onSent(1200);
    limiter.onSent(1200);
    expect(limiter.allowance()).toBe(1200);
    expect(limiter.canSend(1200)).toBe(true);
    expect(limiter.canSend(1201)).toBe(false);
    limiter.onSent(1200);
    expect(limiter.allowance()).toBe(0);
    limiter.onReceived(100);
    expect(limiter.allowance()).toBe(300);
    expect(limiter.bytesReceived).toBe(1300);
    expect(limiter.bytesSent).toBe(3600);
  });

  it('throws PathConfigError when the caller sends past the limit', () => {
    const limiter = new AmplificationLimiter();
    limiter.onReceived(10);
    expect(() => limiter.onSent(31)).toThrow(PathConfigError);
    expect(() => limiter.onSent(31)).toThrow(/anti-amplification/);
    expect(limiter.bytesSent).toBe(0);
  });

  it('is unlimited once validated, and can start validated', () => {
    const limiter = new AmplificationLimiter();
    limiter.onReceived(10);
    limiter.markValidated();
    expect(limiter.validated).toBe(true);
    expect(limiter.allowance()).toBe(Number.POSITIVE_INFINITY);
    limiter.onSent(1_000_000);
    expect(new AmplificationLimiter({ validated: true }).canSend(65527)).toBe(true);
  });

  it('rejects negative, fractional and non-numeric byte counts and path IDs', () => {
    const limiter = new AmplificationLimiter();
    expect(() => limiter.onReceived(-1)).toThrow(PathConfigError);
    expect(() => limiter.onReceived(1.5)).toThrow(PathConfigError);
    expect(() => limiter.onSent(Number.NaN)).toThrow(PathConfigError);
    expect(() => limiter.canSend(-3)).toThrow(PathConfigError);
    expect(() => new AmplificationLimiter({ pathId: -1 })).toThrow(PathConfigError);
    expect(new AmplificationLimiter({ pathId: 7 }).pathId).toBe(7);
  });
});
