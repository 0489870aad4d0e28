import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli-args.js';
import { Mulberry32, deriveSeed, parseEndpoint, parseRate, parseSize } from '../src/index.js';

describe('parsers', () => {
  it('parses endpoints', () => {
    expect(parseEndpoint('127.0.0.1:4433')).toEqual({ host: '127.0.0.1', port: 4433 });
    expect(parseEndpoint('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseEndpoint('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(() => parseEndpoint('::1:4433')).toThrow();
    expect(() => parseEndpoint('127.0.0.1:99999')).toThrow(RangeError);
  });

  it('parses rates in bits per second', () => {
    expect(parseRate('100mbit')).toBe(100e6);
    expect(parseRate('1.5Gbit')).toBe(1.5e9);
    expect(parseRate('64kbit')).toBe(64e3);
    expect(parseRate('500000')).toBe(500_000);
    expect(parseRate('10mbit/s')).toBe(10e6);
    expect(() => parseRate('10mbps')).toThrow();
    expect(parseRate('off')).toBe(Infinity);
    expect(() => parseRate('fast')).toThrow();
  });

  it('parses sizes in bytes', () => {
    expect(parseSize('64kb')).toBe(64_000);
    expect(parseSize('64KiB')).toBe(65_536);
    expect(parseSize('1500')).toBe(1500);
    expect(() => parseSize('big')).toThrow();
  });

  it('parses the command line', () => {
    const cli = parseCli(
      '--listen 127.0.0.1:4433 --target 127.0.0.1:4434 --loss 0.05 --delay 10 --reorder 0.01 --duplicate 0.01 --rate 100mbit --seed 1'.split(' '),
    );
    expect(cli).toMatchObject({
      listen: { host: '127.0.0.1', port: 4433 },
      target: { host: '127.0.0.1', port: 4434 },
      directions: ['clientToServer', 'serverToClient'],
      impairments: { loss: 0.05, delayMs: 10, reorderProbability: 0.01, duplicateProbability: 0.01, bandwidthBps: 100e6 },
      seed: 1,
      multi: false,
    });
    expect(parseCli(['--target', '[::1]:1', '--direction', 's2c', '--queue', '10kb']).directions).toEqual(['serverToClient']);
    expect(() => parseCli(['--loss', '0.1'])).toThrow(/--target/);
    expect(() => parseCli(['--target', '1.2.3.4:1', '--loss', 'lots'])).toThrow(/--loss/);
    expect(() => parseCli(['--target', '1.2.3.4:1', '--bogus'])).toThrow();
  });
});

describe('Mulberry32', () => {
  it('is deterministic and roughly uniform', () => {
    const a = new Mulberry32(9);
    const b = new Mulberry32(9);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(new Mulberry32(10).next()).not.toBe(new Mulberry32(9).next());
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
    expect(() => new Mulberry32(NaN)).toThrow(RangeError);
  });
});
