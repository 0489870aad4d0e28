import { describe, expect, it } from 'vitest';
import {
  ADDRESS_TOKEN_KEY_LENGTH,
  AddressTokenError,
  AddressTokenKey,
  AddressTokenMarker,
  DEFAULT_NEW_TOKEN_LIFETIME_MS,
  DEFAULT_RETRY_TOKEN_LIFETIME_MS,
  peekAddressTokenKind,
  type AddressTokenRandom,
  type TokenAddress,
} from '../src/address-token.js';

/** Deterministic counter-based "random" so runs are reproducible. */
function seededRandom(seed = 1): AddressTokenRandom {
  let state = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}

const key32 = (fill: number): Uint8Array => new Uint8Array(ADDRESS_TOKEN_KEY_LENGTH).fill(fill);
const CLIENT: TokenAddress = { address: '192.0.2.10', port: 50123 };
const ODCID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const RSCID = Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
const T0 = 1_700_000_000_000;

function makeKey(extra: ConstructorParameters<typeof AddressTokenKey>[0] = {}): AddressTokenKey {
  return new AddressTokenKey({ key: key32(7), random: seededRandom(), ...extra });
}

describe('AddressTokenKey round trips', () => {
  it('a Retry token carries kind, issue time and both CIDs (RFC 9000 §7.3, §8.1.2)', () => {
    const k = makeKey();
    const token = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    expect(token[0]).toBe(AddressTokenMarker.RETRY);
    expect(peekAddressTokenKind(token)).toBe('retry');
    const r = k.validate(token, CLIENT, T0 + 50);
    expect(r).toEqual({
      status: 'valid',
      token: { kind: 'retry', issuedAt: T0, originalDestinationCid: ODCID, retrySourceCid: RSCID },
    });
  });

  it('a NEW_TOKEN token carries kind and issue time (RFC 9000 §8.1.3)', () => {
    const k = makeKey();
    const token = k.sealNewToken(T0, CLIENT);
    expect(token[0]).toBe(AddressTokenMarker.NEW_TOKEN);
    expect(k.validate(token, CLIENT, T0 + 1000)).toEqual({ status: 'valid', token: { kind: 'new_token', issuedAt: T0 } });
  });

  it('handles empty and 20-byte CIDs, fractional times and IPv6 addresses', () => {
    const k = makeKey();
    const client = { address: '2001:db8::1', port: 443 };
    const long = new Uint8Array(20).fill(0xee);
    const token = k.sealRetryToken(T0 + 0.25, client, long, new Uint8Array(0));
    const r = k.validate(token, { address: '2001:0DB8:0:0:0:0:0:1', port: 443 }, T0 + 1);
    expect(r.status).toBe('valid');
    if (r.status === 'valid' && r.token.kind === 'retry') {
      expect(r.token.issuedAt).toBe(T0 + 0.25);
      expect(r.token.originalDestinationCid).toEqual(long);
      expect(r.token.retrySourceCid.length).toBe(0);
    }
  });

  it('treats IPv4-mapped IPv6 and plain IPv4 as the same host, ignores the IPv6 zone', () => {
    const k = makeKey();
    const t = k.sealNewToken(T0, { address: '::ffff:192.0.2.10' });
    expect(k.validate(t, { address: '192.0.2.10', port: 1 }, T0).status).toBe('valid');
    const t6 = k.sealNewToken(T0, { address: 'fe80::1%eth0' });
    expect(k.validate(t6, { address: 'fe80::1', port: 1 }, T0).status).toBe('valid');
    expect(k.validate(t6, { address: 'fe80::2', port: 1 }, T0).status).toBe('wrong_address');
  });

  it('compares IPv6 addresses by value, whatever the textual form', () => {
    const k = makeKey();
    const same: [string, string][] = [
      ['::', '0:0:0:0:0:0:0:0'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['[2001:db8::8]', '2001:DB8:0::8'],
      ['::ffff:c000:20a', '192.0.2.10'],
    ];
    for (const [a, b] of same) {
      expect(k.validate(k.sealNewToken(T0, { address: a }), { address: b, port: 9 }, T0).status).toBe('valid');
    }
    expect(k.validate(k.sealNewToken(T0, { address: '2001:db8::8' }), { address: '2001:db8::9', port: 9 }, T0).status).toBe(
      'wrong_address',
    );
  });

  it('binds a non-IP address (e.g. a test transport name) as case-insensitive text', () => {
    const k = makeKey();
    const t = k.sealNewToken(T0, { address: 'Peer-A' });
    expect(k.validate(t, { address: 'peer-a', port: 0 }, T0).status).toBe('valid');
    expect(k.validate(t, { address: 'peer-b', port: 0 }, T0).status).toBe('wrong_address');
  });

  it('uses a fresh nonce per token so tokens are unlinkable (RFC 9000 §8.1.3)', () => {
    const k = new AddressTokenKey({ key: key32(1) });
    const a = k.sealNewToken(T0, CLIENT);
    const b = k.sealNewToken(T0, CLIENT);
    expect(a).not.toEqual(b);
    expect(k.validate(a, CLIENT, T0).status).toBe('valid');
    expect(k.validate(b, CLIENT, T0).status).toBe('valid');
  });

  it('generates its own key from the injected random source', () => {
    const a = new AddressTokenKey({ random: seededRandom(5) });
    const b = new AddressTokenKey({ random: seededRandom(5) });
    const c = new AddressTokenKey({ random: seededRandom(6) });
    const token = a.sealNewToken(T0, CLIENT);
    expect(b.validate(token, CLIENT, T0).status).toBe('valid');
    expect(c.validate(token, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'authentication_failed' });
  });

  it('validates tokens that arrive as a view into a larger datagram', () => {
    const k = makeKey();
    const token = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    const datagram = new Uint8Array(token.length + 20);
    datagram.set(token, 7);
    expect(k.validate(datagram.subarray(7, 7 + token.length), CLIENT, T0).status).toBe('valid');
  });
});

describe('AddressTokenKey failures', () => {
  it('invalid: not ours (empty, unknown first byte, too short, too long)', () => {
    const k = makeKey();
    const good = k.sealNewToken(T0, CLIENT);
    expect(k.validate(new Uint8Array(0), CLIENT, T0)).toEqual({ status: 'invalid', reason: 'not_ours', claimedKind: undefined });
    const foreign = good.slice();
    foreign[0] = 0x00;
    expect(k.validate(foreign, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'not_ours' });
    expect(k.validate(good.subarray(0, 30), CLIENT, T0)).toMatchObject({
      status: 'invalid',
      reason: 'not_ours',
      claimedKind: 'new_token',
    });
    const huge = new Uint8Array(1000);
    huge[0] = AddressTokenMarker.RETRY;
    expect(k.validate(huge, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'not_ours', claimedKind: 'retry' });
  });

  it('invalid: unknown key id', () => {
    const k = makeKey();
    const token = k.sealNewToken(T0, CLIENT);
    token[1] = 42;
    expect(k.validate(token, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'unknown_key' });
  });

  it('invalid: sealed with another key under the same id', () => {
    const other = new AddressTokenKey({ key: key32(8), random: seededRandom() });
    const token = other.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    expect(makeKey().validate(token, CLIENT, T0)).toEqual({
      status: 'invalid',
      reason: 'authentication_failed',
      claimedKind: 'retry',
    });
  });

  it('tampering: every single-bit flip of either kind of token is rejected, never throws', () => {
    const k = makeKey();
    for (const token of [k.sealRetryToken(T0, CLIENT, ODCID, RSCID), k.sealNewToken(T0, CLIENT)]) {
      for (let i = 0; i < token.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const t = token.slice();
          t[i] = (t[i] ?? 0) ^ (1 << bit);
          const r = k.validate(t, CLIENT, T0);
          expect(r.status).toBe('invalid');
        }
      }
    }
  });

  it('tampering: truncation and extension are rejected', () => {
    const k = makeKey();
    const token = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    for (let n = 0; n < token.length; n++) expect(k.validate(token.subarray(0, n), CLIENT, T0).status).toBe('invalid');
    const longer = new Uint8Array(token.length + 1);
    longer.set(token);
    expect(k.validate(longer, CLIENT, T0).status).toBe('invalid');
  });

  it('random garbage never validates and never throws', () => {
    const k = makeKey();
    const rnd = seededRandom(99);
    for (let i = 0; i < 500; i++) {
      const t = rnd(1 + (i % 120));
      if (i % 2 === 0) t[0] = i % 4 === 0 ? AddressTokenMarker.RETRY : AddressTokenMarker.NEW_TOKEN;
      if (i % 3 === 0 && t.length > 1) t[1] = k.keyId;
      expect(k.validate(t, CLIENT, T0).status).toBe('invalid');
    }
  });

  it('wrong kind: a NEW_TOKEN token is not a Retry token and vice versa (RFC 9000 §8.1.3)', () => {
    const k = makeKey();
    const retry = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    const fresh = k.sealNewToken(T0, CLIENT);
    expect(k.validate(fresh, CLIENT, T0, { expect: 'retry' })).toEqual({ status: 'wrong_kind', kind: 'new_token' });
    expect(k.validate(retry, CLIENT, T0, { expect: 'new_token' })).toEqual({ status: 'wrong_kind', kind: 'retry' });
    expect(k.validate(retry, CLIENT, T0, { expect: 'retry' }).status).toBe('valid');
    expect(k.validate(fresh, CLIENT, T0, { expect: 'new_token' }).status).toBe('valid');
  });

  it('changing the marker byte to the other kind breaks authentication instead of changing the kind', () => {
    const k = makeKey();
    const fresh = k.sealNewToken(T0, CLIENT);
    fresh[0] = AddressTokenMarker.RETRY;
    expect(k.validate(fresh, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'authentication_failed' });
  });

  it('wrong address: a different IP fails both kinds', () => {
    const k = makeKey();
    const other = { address: '192.0.2.11', port: CLIENT.port };
    expect(k.validate(k.sealRetryToken(T0, CLIENT, ODCID, RSCID), other, T0)).toEqual({ status: 'wrong_address', kind: 'retry' });
    expect(k.validate(k.sealNewToken(T0, CLIENT), other, T0)).toEqual({ status: 'wrong_address', kind: 'new_token' });
    expect(k.validate(k.sealNewToken(T0, CLIENT), { address: '2001:db8::1', port: 1 }, T0).status).toBe('wrong_address');
  });

  it('port binding applies to Retry tokens only', () => {
    const k = makeKey();
    const newPort = { address: CLIENT.address, port: CLIENT.port + 1 };
    expect(k.validate(k.sealRetryToken(T0, CLIENT, ODCID, RSCID), newPort, T0)).toEqual({
      status: 'wrong_address',
      kind: 'retry',
    });
    expect(k.validate(k.sealNewToken(T0, CLIENT), newPort, T0).status).toBe('valid');
  });

  it('expiry with injected time: Retry 10 s, NEW_TOKEN 24 h by default', () => {
    const k = makeKey();
    expect(k.retryLifetimeMs).toBe(DEFAULT_RETRY_TOKEN_LIFETIME_MS);
    expect(k.newTokenLifetimeMs).toBe(DEFAULT_NEW_TOKEN_LIFETIME_MS);
    const retry = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    expect(k.validate(retry, CLIENT, T0 + 10_000).status).toBe('valid');
    expect(k.validate(retry, CLIENT, T0 + 10_001)).toEqual({ status: 'expired', kind: 'retry', issuedAt: T0 });
    const fresh = k.sealNewToken(T0, CLIENT);
    expect(k.validate(fresh, CLIENT, T0 + 10_001).status).toBe('valid');
    expect(k.validate(fresh, CLIENT, T0 + DEFAULT_NEW_TOKEN_LIFETIME_MS).status).toBe('valid');
    expect(k.validate(fresh, CLIENT, T0 + DEFAULT_NEW_TOKEN_LIFETIME_MS + 1)).toEqual({
      status: 'expired',
      kind: 'new_token',
      issuedAt: T0,
    });
  });

  it('lifetimes are configurable', () => {
    const k = makeKey({ retryLifetimeMs: 500, newTokenLifetimeMs: 60_000 });
    expect(k.validate(k.sealRetryToken(T0, CLIENT, ODCID, RSCID), CLIENT, T0 + 501).status).toBe('expired');
    expect(k.validate(k.sealNewToken(T0, CLIENT), CLIENT, T0 + 60_000).status).toBe('valid');
    expect(k.validate(k.sealNewToken(T0, CLIENT), CLIENT, T0 + 60_001).status).toBe('expired');
  });

  it('a token from the future beyond the clock skew is invalid; within it, valid', () => {
    const k = makeKey({ maxClockSkewMs: 1000 });
    const token = k.sealNewToken(T0 + 1000, CLIENT);
    expect(k.validate(token, CLIENT, T0).status).toBe('valid');
    const later = k.sealNewToken(T0 + 1001, CLIENT);
    expect(k.validate(later, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'from_future' });
  });

  it('checks kind before address and address before expiry', () => {
    const k = makeKey();
    const retry = k.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    const elsewhere = { address: '198.51.100.1', port: 1 };
    expect(k.validate(retry, elsewhere, T0 + 1e9, { expect: 'new_token' }).status).toBe('wrong_kind');
    expect(k.validate(retry, elsewhere, T0 + 1e9).status).toBe('wrong_address');
  });
});

describe('AddressTokenKey rotation', () => {
  it('accepts tokens of the previous key after one rotation, not after two', () => {
    const k = makeKey();
    const before = k.sealNewToken(T0, CLIENT);
    expect(k.keyId).toBe(0);
    k.rotate(key32(9));
    expect(k.keyId).toBe(1);
    const after = k.sealNewToken(T0, CLIENT);
    expect(after[1]).toBe(1);
    expect(k.validate(before, CLIENT, T0).status).toBe('valid');
    expect(k.validate(after, CLIENT, T0).status).toBe('valid');
    k.rotate();
    expect(k.validate(before, CLIENT, T0)).toMatchObject({ status: 'invalid', reason: 'unknown_key' });
    expect(k.validate(after, CLIENT, T0).status).toBe('valid');
  });

  it('key ids wrap at 256', () => {
    const k = makeKey({ keyId: 255 });
    const t = k.sealNewToken(T0, CLIENT);
    k.rotate();
    expect(k.keyId).toBe(0);
    expect(k.validate(t, CLIENT, T0).status).toBe('valid');
  });

  it('servers sharing keys: a configured previous key is accepted', () => {
    const old = new AddressTokenKey({ key: key32(1), keyId: 4, random: seededRandom() });
    const token = old.sealRetryToken(T0, CLIENT, ODCID, RSCID);
    const rotated = new AddressTokenKey({ key: key32(2), keyId: 5, previousKey: key32(1), random: seededRandom() });
    expect(rotated.validate(token, CLIENT, T0).status).toBe('valid');
    const wrongPrevious = new AddressTokenKey({ key: key32(2), keyId: 5, previousKey: key32(3) });
    expect(wrongPrevious.validate(token, CLIENT, T0)).toMatchObject({ reason: 'authentication_failed' });
  });

  it('copies the key so later changes by the caller do not affect it', () => {
    const key = key32(3);
    const k = new AddressTokenKey({ key });
    const token = k.sealNewToken(T0, CLIENT);
    key.fill(0);
    expect(k.validate(token, CLIENT, T0).status).toBe('valid');
  });
});

describe('AddressTokenKey programmer errors', () => {
  it('rejects bad keys, ids, lifetimes and skew', () => {
    expect(() => new AddressTokenKey({ key: new Uint8Array(16) })).toThrow(AddressTokenError);
    expect(() => new AddressTokenKey({ keyId: 256 })).toThrow(AddressTokenError);
    expect(() => new AddressTokenKey({ retryLifetimeMs: 0 })).toThrow(AddressTokenError);
    expect(() => new AddressTokenKey({ newTokenLifetimeMs: Number.NaN })).toThrow(AddressTokenError);
    expect(() => new AddressTokenKey({ maxClockSkewMs: -1 })).toThrow(AddressTokenError);
    expect(() => new AddressTokenKey({ keyId: 3, previousKey: key32(1), previousKeyId: 3 })).toThrow(AddressTokenError);
    expect(() => makeKey().rotate(new Uint8Array(31))).toThrow(AddressTokenError);
  });

  it('rejects bad seal arguments and times', () => {
    const k = makeKey();
    expect(() => k.sealRetryToken(T0, CLIENT, new Uint8Array(21), RSCID)).toThrow(AddressTokenError);
    expect(() => k.sealRetryToken(T0, CLIENT, ODCID, new Uint8Array(21))).toThrow(AddressTokenError);
    expect(() => k.sealRetryToken(T0, { address: CLIENT.address, port: 70000 }, ODCID, RSCID)).toThrow(AddressTokenError);
    expect(() => k.sealNewToken(Number.NaN, CLIENT)).toThrow(AddressTokenError);
    expect(() => k.sealNewToken(T0, { address: '' })).toThrow(AddressTokenError);
    expect(() => k.sealNewToken(T0, { address: 'x'.repeat(256) })).toThrow(AddressTokenError);
    expect(() => k.validate(new Uint8Array(0), CLIENT, Number.POSITIVE_INFINITY)).toThrow(AddressTokenError);
  });

  it('rejects a random source that returns the wrong length', () => {
    const k = new AddressTokenKey({ key: key32(1), random: () => new Uint8Array(3) });
    expect(() => k.sealNewToken(T0, CLIENT)).toThrow(AddressTokenError);
  });
});
