import { describe, expect, it } from 'vitest';
import { bytesToIp, ipToBytes } from '../../src/index.js';

describe('IP literals <-> preferred_address bytes', () => {
  it('IPv4 both ways', () => {
    expect([...ipToBytes('192.0.2.1', 4)]).toEqual([192, 0, 2, 1]);
    expect(bytesToIp(Uint8Array.of(10, 0, 0, 255))).toBe('10.0.0.255');
    for (const bad of ['1.2.3', '1.2.3.256', 'a.b.c.d', 'localhost', '1.2.3.4.5']) expect(() => ipToBytes(bad, 4)).toThrow(/not an IPv4 literal/);
  });

  it('IPv6 parses every RFC 4291 §2.2 form and prints RFC 5952 text (what Node reports)', () => {
    const cases: [string, string][] = [
      ['::1', '::1'],
      ['::', '::'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs (RFC 5952 §4.2.3)
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened (§4.2.2)
      ['fe80::1:2', 'fe80::1:2'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ];
    for (const [input, text] of cases) expect(bytesToIp(ipToBytes(input, 6))).toBe(text);
    expect([...ipToBytes('::ffff:192.0.2.1', 6).subarray(10)]).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7']) expect(() => ipToBytes(bad, 6)).toThrow(/not an IPv6 literal/);
  });
});
