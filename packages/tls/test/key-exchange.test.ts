import { describe, expect, it } from 'vitest';
import { NamedGroup } from '../src/codes.js';
import { AlertDescription, TlsAlertError, TlsConfigError } from '../src/errors.js';
import {
  expectedKeyShareLength,
  nobleKeyExchange,
  nodeKeyExchange,
  type ImportingKeyExchangeProvider,
  type KeyExchangeProvider,
} from '../src/key-exchange.js';
import { hex, toHex } from './fixtures/rfc8448.js';

const providers: ImportingKeyExchangeProvider[] = [nobleKeyExchange, nodeKeyExchange];
const groups = [
  { group: NamedGroup.x25519, name: 'x25519', share: 32, secret: 32 },
  { group: NamedGroup.secp256r1, name: 'secp256r1', share: 65, secret: 32 },
  { group: NamedGroup.secp384r1, name: 'secp384r1', share: 97, secret: 48 },
] as const;

/** Every ordered pair of providers, including a provider with itself. */
const pairs = providers.flatMap((a) => providers.map((b) => [a, b] as const));

function expectIllegal(fn: () => unknown): TlsAlertError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TlsAlertError);
  const alert = caught as TlsAlertError;
  expect(alert.alert).toBe(AlertDescription.illegal_parameter);
  expect(alert.quicErrorCode).toBe(0x100 + 47);
  return alert;
}

/** RFC 7748 little-endian u-coordinates of small order on Curve25519 or its twist (plus non-canonical aliases). */
const X25519_LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0
  '0100000000000000000000000000000000000000000000000000000000000000', // 1
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p (= 0)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 (= 1)
  '0000000000000000000000000000000000000000000000000000000000000080', // 0 with the ignored top bit set
];

describe('group table', () => {
  it('reports support and share lengths', () => {
    for (const p of providers) {
      for (const g of groups) expect(p.supports(g.group), `${p.name} ${g.name}`).toBe(true);
      for (const g of [NamedGroup.x448, NamedGroup.secp521r1, NamedGroup.X25519MLKEM768, 0x0a0a, 0]) {
        expect(p.supports(g)).toBe(false);
      }
    }
    for (const g of groups) expect(expectedKeyShareLength(g.group)).toBe(g.share);
    expect(expectedKeyShareLength(NamedGroup.x448)).toBeUndefined();
    expect(expectedKeyShareLength(NamedGroup.X25519MLKEM768)).toBeUndefined();
  });

  it('refuses unsupported groups as configuration errors', () => {
    for (const p of providers) {
      expect(() => p.generate(NamedGroup.x448)).toThrow(TlsConfigError);
      expect(() => p.accept(NamedGroup.secp521r1, new Uint8Array(133))).toThrow(TlsConfigError);
      expect(() => p.fromPrivateKey(NamedGroup.x448, new Uint8Array(56))).toThrow(TlsConfigError);
    }
  });
});

describe.each(groups)('$name', ({ group, share, secret }) => {
  it('generates well-formed public keys', () => {
    for (const p of providers) {
      const ks = p.generate(group);
      expect(ks.group).toBe(group);
      expect(ks.publicKey.length, p.name).toBe(share);
      expect(Buffer.isBuffer(ks.publicKey), p.name).toBe(false);
      if (group !== NamedGroup.x25519) expect(ks.publicKey[0]).toBe(0x04);
      expect(toHex(p.generate(group).publicKey)).not.toBe(toHex(ks.publicKey));
    }
  });

  it.each(pairs.map(([a, b]) => ({ a, b, label: `${a.name} -> ${b.name}` })))(
    'interoperates $label',
    ({ a, b }) => {
      const client = a.generate(group);
      const server = b.generate(group);
      const s1 = client.computeSecret(server.publicKey);
      const s2 = server.computeSecret(client.publicKey);
      expect(s1.length).toBe(secret);
      expect(Buffer.isBuffer(s1)).toBe(false);
      expect(toHex(s1)).toBe(toHex(s2));

      // Server side in one step.
      const accepted = b.accept(group, client.publicKey);
      expect(accepted.publicKey.length).toBe(share);
      expect(toHex(client.computeSecret(accepted.publicKey))).toBe(toHex(accepted.sharedSecret));
    },
  );

  it('is deterministic for imported private keys and agrees across providers', () => {
    const skA = new Uint8Array(secret).fill(0x11);
    const skB = new Uint8Array(secret).fill(0x22);
    const results = providers.map((p) => {
      const a = p.fromPrivateKey(group, skA);
      const b = p.fromPrivateKey(group, skB);
      return { pubA: toHex(a.publicKey), pubB: toHex(b.publicKey), shared: toHex(a.computeSecret(b.publicKey)) };
    });
    expect(results[1]).toEqual(results[0]);
    const again = nobleKeyExchange.fromPrivateKey(group, skA);
    expect(toHex(again.computeSecret(hex(results[0]?.pubB ?? '')))).toBe(results[0]?.shared);
  });

  it('returns a fresh secret each time', () => {
    for (const p of providers) {
      const a = p.generate(group);
      const b = p.generate(group);
      const s = a.computeSecret(b.publicKey);
      const expected = toHex(s);
      s.fill(0);
      expect(toHex(a.computeSecret(b.publicKey))).toBe(expected);
    }
  });

  it('rejects shares of the wrong length', () => {
    for (const p of providers) {
      const peer = p.generate(group).publicKey;
      const ks = p.generate(group);
      for (const bad of [new Uint8Array(0), peer.subarray(0, share - 1), Uint8Array.of(...peer, 0), Uint8Array.of(4)]) {
        expectIllegal(() => ks.computeSecret(bad));
        expectIllegal(() => p.accept(group, bad));
      }
    }
  });

  it('rejects a share whose alert names the group and the problem', () => {
    const alert = expectIllegal(() => nobleKeyExchange.generate(group).computeSecret(new Uint8Array(3)));
    expect(alert.message).toMatch(/expected \d+ bytes, got 3/);
  });
});

describe('NIST curve point validation', () => {
  const nist = groups.filter((g) => g.group !== NamedGroup.x25519);

  it.each(nist)('rejects compressed and hybrid encodings ($name)', ({ group, share }) => {
    for (const p of providers) {
      const ks = p.generate(group);
      const peer = p.generate(group).publicKey;
      // SEC 1 compressed form (0x02/0x03 || X): also the wrong length for TLS 1.3.
      const compressed = Uint8Array.of(0x02 | ((peer[share - 1] ?? 0) & 1), ...peer.subarray(1, 1 + (share - 1) / 2));
      expectIllegal(() => ks.computeSecret(compressed));
      // Right length but a non-uncompressed prefix (hybrid 0x06/0x07, or compressed tags padded out).
      for (const prefix of [0x02, 0x03, 0x06, 0x07, 0x00]) {
        const bad = peer.slice();
        bad[0] = prefix;
        const alert = expectIllegal(() => ks.computeSecret(bad));
        expect(alert.message, p.name).toMatch(/uncompressed/);
      }
    }
  });

  it.each(nist)('rejects points that are not on the curve ($name)', ({ group, share }) => {
    for (const p of providers) {
      const ks = p.generate(group);
      const offCurve = p.generate(group).publicKey.slice();
      offCurve[share - 1] = (offCurve[share - 1] ?? 0) ^ 0x01;
      const alert = expectIllegal(() => ks.computeSecret(offCurve));
      expect(alert.cause, p.name).toBeDefined();
      expectIllegal(() => p.accept(group, offCurve));
      // The all-zero "point" (and the point at infinity's coordinates) is not on the curve either.
      const zero = new Uint8Array(share);
      zero[0] = 0x04;
      expectIllegal(() => ks.computeSecret(zero));
      // Coordinates >= p are out of range.
      const big = new Uint8Array(share).fill(0xff);
      big[0] = 0x04;
      expectIllegal(() => ks.computeSecret(big));
    }
  });

  it('rejects out-of-range imported private keys', () => {
    // secp256r1 group order n (SEC 2 §2.4.2).
    const n = hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    for (const p of providers) {
      expect(() => p.fromPrivateKey(NamedGroup.secp256r1, new Uint8Array(32))).toThrow(TlsConfigError);
      expect(() => p.fromPrivateKey(NamedGroup.secp256r1, n)).toThrow(TlsConfigError);
      expect(() => p.fromPrivateKey(NamedGroup.secp256r1, new Uint8Array(31).fill(1))).toThrow(TlsConfigError);
      expect(() => p.fromPrivateKey(NamedGroup.secp384r1, new Uint8Array(32).fill(1))).toThrow(TlsConfigError);
      expect(() => p.fromPrivateKey(NamedGroup.x25519, new Uint8Array(31))).toThrow(TlsConfigError);
    }
  });
});

describe('x25519 low-order points (RFC 8446 §7.4.2, RFC 7748 §6.1)', () => {
  it.each(X25519_LOW_ORDER)('rejects %s with both providers', (point) => {
    for (const p of providers) {
      const ks = p.generate(NamedGroup.x25519);
      expectIllegal(() => ks.computeSecret(hex(point)));
      expectIllegal(() => p.accept(NamedGroup.x25519, hex(point)));
    }
  });

  it('still accepts a valid point with the ignored top bit set (RFC 7748 §5)', () => {
    for (const [a, b] of pairs) {
      const client = a.generate(NamedGroup.x25519);
      const server = b.generate(NamedGroup.x25519);
      const tweaked = server.publicKey.slice();
      tweaked[31] = (tweaked[31] ?? 0) | 0x80;
      expect(toHex(client.computeSecret(tweaked))).toBe(toHex(server.computeSecret(client.publicKey)));
    }
  });
});

describe('provider objects', () => {
  it('are named and frozen', () => {
    const names = providers.map((p: KeyExchangeProvider) => p.name);
    expect(names).toEqual(['noble', 'node']);
    for (const p of providers) expect(Object.isFrozen(p)).toBe(true);
  });
});
