import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CidConfigError,
  StatelessResetKey,
  constantTimeEqual,
  createStatelessReset,
  MIN_STATELESS_RESET_LENGTH,
} from '../src/index.js';
import { bytes, hex, seededRandom } from './helpers.js';

describe('StatelessResetKey (RFC 9000 §10.3.2)', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

  it('derives HMAC-SHA256(key, cid) truncated to 16 bytes', () => {
    const cid = hex('c0ffee00d15ea5e1');
    const expected = createHmac('sha256', key).update(cid).digest().subarray(0, 16);
    const token = new StatelessResetKey(key).token(cid);
    expect(token.length).toBe(16);
    expect(Buffer.from(token)).toEqual(Buffer.from(expected));
  });

  it('is stateless: two holders of the key compute the same token, other keys or CIDs do not', () => {
    const cid = hex('0102030405060708');
    const a = new StatelessResetKey(key);
    const b = new StatelessResetKey(key.slice());
    expect(a.token(cid)).toEqual(b.token(cid));
    expect(a.token(cid)).toEqual(a.token(cid)); // the keyed state is reused, not consumed
    expect(a.token(hex('0102030405060709'))).not.toEqual(a.token(cid));
    expect(new StatelessResetKey(bytes(32, 7)).token(cid)).not.toEqual(a.token(cid));
  });

  it('verify() accepts the right token only', () => {
    const k = new StatelessResetKey(key);
    const cid = hex('aabbccdd');
    const token = k.token(cid);
    expect(k.verify(cid, token)).toBe(true);
    const wrong = token.slice();
    wrong[15]! ^= 1;
    expect(k.verify(cid, wrong)).toBe(false);
    expect(k.verify(cid, token.subarray(0, 15))).toBe(false);
  });

  it('rejects keys shorter than 16 bytes', () => {
    expect(() => new StatelessResetKey(bytes(15, 1))).toThrow(CidConfigError);
    expect(() => new StatelessResetKey(bytes(16, 1))).not.toThrow();
  });

  it('generate() draws 32 bytes from the injected source', () => {
    let asked = 0;
    const k = StatelessResetKey.generate((n) => {
      asked = n;
      return bytes(n, 9);
    });
    expect(asked).toBe(32);
    expect(k.token(hex('01020304'))).toEqual(new StatelessResetKey(bytes(32, 9)).token(hex('01020304')));
  });
});

describe('constantTimeEqual', () => {
  it('compares content and length', () => {
    expect(constantTimeEqual(hex('0102'), hex('0102'))).toBe(true);
    expect(constantTimeEqual(hex('0102'), hex('0103'))).toBe(false);
    expect(constantTimeEqual(hex('0102'), hex('010203'))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe('createStatelessReset (RFC 9000 §10.3, §10.3.3)', () => {
  const token = hex('00112233445566778899aabbccddeeff');
  const make = (triggerLength: number, maxLength?: number) =>
    createStatelessReset({ token, triggerLength, random: seededRandom(3), maxLength });

  it('never answers a trigger of 21 bytes or less: the reset must be smaller and at least 21 bytes', () => {
    expect(make(0)).toBeUndefined();
    expect(make(MIN_STATELESS_RESET_LENGTH)).toBeUndefined();
    expect(make(22)!.length).toBe(21);
  });

  it('answers triggers up to 43 bytes one byte shorter', () => {
    for (const n of [22, 30, 42, 43]) expect(make(n)!.length).toBe(n - 1);
  });

  it('answers larger triggers with 42 bytes by default, or maxLength, never reaching the trigger size', () => {
    expect(make(44)!.length).toBe(42);
    expect(make(1200)!.length).toBe(42);
    expect(make(1200, 100)!.length).toBe(100);
    expect(make(60, 100)!.length).toBe(59);
  });

  it('looks like a short header and ends with the token', () => {
    for (let seed = 1; seed < 50; seed++) {
      const r = createStatelessReset({ token, triggerLength: 1200, random: seededRandom(seed) })!;
      expect(r[0]! & 0xc0).toBe(0x40); // header form 0, fixed bit 1
      expect(r.subarray(r.length - 16)).toEqual(token);
    }
  });

  it('rejects a token that is not 16 bytes and a maxLength below 21', () => {
    expect(() => createStatelessReset({ token: token.subarray(1), triggerLength: 100 })).toThrow(CidConfigError);
    expect(() => createStatelessReset({ token, triggerLength: 100, maxLength: 20 })).toThrow(CidConfigError);
  });
});
