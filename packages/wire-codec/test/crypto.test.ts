import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuicEncodeError } from '../src/errors.js';
import { QUIC_V1, QUIC_V2 } from '../src/version.js';
import {
  AEAD_CONFIDENTIALITY_LIMIT,
  AEAD_INTEGRITY_LIMIT,
  EMPTY_HKDF_CONTEXT,
  buildHkdfLabel,
  buildRetryPacket,
  computeRetryIntegrityTag,
  deriveInitialKeys,
  deriveInitialSecrets,
  derivePacketKeys,
  hashForAead,
  hkdfExpandLabel,
  initialSalt,
  keyLength,
  makeNonce,
  nextTrafficSecret,
  nobleCryptoProvider,
  nodeCryptoProvider,
  retryIntegrityKey,
  verifyRetryIntegrity,
  type AeadAlgorithm,
  type HashAlgorithm,
} from '../src/crypto/index.js';

import { TEST_PROVIDERS } from './providers.js';
import { hex, quicVectors, toHex } from './vectors.js';

// RFC 9001 App. A, RFC 9369 App. A and the multipath nonce example, from the shared vectors file.
const VECTORS = quicVectors;

const PROVIDERS = TEST_PROVIDERS;
const VERSIONS = [
  ['v1', QUIC_V1, VECTORS.v1, 'quic'],
  ['v2', QUIC_V2, VECTORS.v2, 'quicv2'],
] as const;
const ALGORITHMS: AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];

describe('HkdfLabel (RFC 8446 §7.1)', () => {
  it.each(VERSIONS)('matches the %s label bytes', (_name, _version, v) => {
    for (const [label, bytes] of Object.entries(v.hkdfLabelBytes)) {
      const length = parseInt(bytes.slice(0, 4), 16);
      expect(toHex(buildHkdfLabel(label, EMPTY_HKDF_CONTEXT, length))).toBe(bytes);
    }
  });

  it('carries a non-empty context and rejects what does not fit', () => {
    expect(toHex(buildHkdfLabel('x', hex('abcd'), 1))).toBe('000107746c7331332078' + '02abcd');
    expect(() => buildHkdfLabel('x', EMPTY_HKDF_CONTEXT, 0x10000)).toThrow(QuicEncodeError);
    expect(() => buildHkdfLabel('x'.repeat(250), EMPTY_HKDF_CONTEXT, 1)).toThrow(QuicEncodeError);
    expect(() => buildHkdfLabel('x', new Uint8Array(256), 1)).toThrow(QuicEncodeError);
    expect(() => buildHkdfLabel('clé', EMPTY_HKDF_CONTEXT, 1)).toThrow(QuicEncodeError);
  });
});

describe.each(PROVIDERS)('%s provider', (_name, provider) => {
  describe('HKDF (RFC 5869)', () => {
    const hashes: HashAlgorithm[] = ['sha256', 'sha384'];

    it.each(hashes)('Extract then Expand equals node:crypto hkdfSync for %s', (hash) => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 80 }),
          fc.uint8Array({ minLength: 1, maxLength: 64 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.integer({ min: 1, max: 255 * (hash === 'sha256' ? 32 : 48) }),
          (ikm, salt, info, length) => {
            const prk = provider.hkdfExtract(hash, salt, ikm);
            const okm = provider.hkdfExpand(hash, prk, info, length);
            expect(toHex(okm)).toBe(Buffer.from(hkdfSync(hash, ikm, salt, info, length)).toString('hex'));
          },
        ),
        { numRuns: 40 },
      );
    });

    it('treats an empty salt as HashLen zero bytes', () => {
      const ikm = hex('0b0b0b0b');
      expect(toHex(provider.hkdfExtract('sha256', new Uint8Array(0), ikm))).toBe(
        toHex(provider.hkdfExtract('sha256', new Uint8Array(32), ikm)),
      );
    });

    it('rejects an output longer than 255 blocks', () => {
      expect(() => provider.hkdfExpand('sha256', new Uint8Array(32), EMPTY_HKDF_CONTEXT, 255 * 32 + 1)).toThrow(
        QuicEncodeError,
      );
    });
  });

  describe.each(VERSIONS)('Initial keys %s (RFC 9001 App. A.1 / RFC 9369 App. A.1)', (_name, version, v, prefix) => {
    it('derives the initial, client and server secrets', () => {
      const s = deriveInitialSecrets(hex(v.clientDcid), version, provider);
      expect(toHex(s.initialSecret)).toBe(v.initialSecret);
      expect(toHex(s.clientSecret)).toBe(v.client.secret);
      expect(toHex(s.serverSecret)).toBe(v.server.secret);
    });

    it('derives key, iv and hp of both directions', () => {
      const keys = deriveInitialKeys(hex(v.clientDcid), version, provider);
      for (const [side, expected] of [
        [keys.client, v.client],
        [keys.server, v.server],
      ] as const) {
        expect(toHex(side.key)).toBe(expected.key);
        expect(toHex(side.iv)).toBe(expected.iv);
        expect(toHex(side.hp)).toBe(expected.hp);
      }
    });

    it('uses the version labels', () => {
      const secret = hex(v.client.secret);
      expect(toHex(hkdfExpandLabel(provider, 'sha256', secret, `${prefix} key`, EMPTY_HKDF_CONTEXT, 16))).toBe(v.client.key);
      expect(toHex(derivePacketKeys(provider, 'aes-128-gcm', secret, version).iv)).toBe(v.client.iv);
    });

    it('masks the Initial samples with AES (RFC 9001 §5.4.3)', () => {
      const mask = new Uint8Array(5);
      provider.createHeaderProtector('aes-128-gcm', hex(v.client.hp)).mask(hex(v.clientHp.sample), mask);
      expect(toHex(mask)).toBe(v.clientHp.mask);
      provider.createHeaderProtector('aes-128-gcm', hex(v.server.hp)).mask(hex(v.serverHp.sample), mask);
      expect(toHex(mask)).toBe(v.serverHp.mask);
    });

    it('protects the ChaCha20-Poly1305 short-header packet (App. A.5)', () => {
      const c = v.chacha;
      const secret = hex(c.secret);
      const keys = derivePacketKeys(provider, 'chacha20-poly1305', secret, version);
      expect(toHex(keys.key)).toBe(c.key);
      expect(toHex(keys.iv)).toBe(c.iv);
      expect(toHex(keys.hp)).toBe(c.hp);
      expect(toHex(nextTrafficSecret(provider, 'sha256', secret, version))).toBe(c.ku);

      const nonce = new Uint8Array(12);
      makeNonce(keys.iv, c.packet_number, nonce);
      expect(toHex(nonce)).toBe(c.nonce);

      const header = hex(c.unprotected_header);
      const out = new Uint8Array(1 + 16);
      const written = provider.createAead('chacha20-poly1305', keys.key).seal(nonce, header, hex(c.payload_plaintext), out);
      expect(written).toBe(17);
      expect(toHex(out)).toBe(c.payload_ciphertext);

      const mask = new Uint8Array(5);
      provider.createHeaderProtector('chacha20-poly1305', keys.hp).mask(hex(c.hp_sample), mask);
      expect(toHex(mask)).toBe(c.hp_mask);
    });

    it('computes and verifies the Retry integrity tag (RFC 9001 §5.8 / RFC 9369 §3.3.3)', () => {
      const r = v.retry;
      const packet = hex(r.packet);
      const odcid = hex(r.odcid);
      const tag = computeRetryIntegrityTag(version, odcid, packet.subarray(0, packet.length - 16), provider);
      expect(toHex(tag)).toBe(r.packet.slice(-32));
      expect(verifyRetryIntegrity(version, odcid, packet, provider)).toBe(true);
    });

    it('derives the fixed Retry key and nonce from the Retry secret', () => {
      const r = v.retry;
      const secret = hex(r.secret);
      const fixed = retryIntegrityKey(version);
      expect(toHex(fixed.key)).toBe(r.key);
      expect(toHex(fixed.nonce)).toBe(r.nonce);
      expect(toHex(hkdfExpandLabel(provider, 'sha256', secret, `${prefix} key`, EMPTY_HKDF_CONTEXT, 16))).toBe(r.key);
      expect(toHex(hkdfExpandLabel(provider, 'sha256', secret, `${prefix} iv`, EMPTY_HKDF_CONTEXT, 12))).toBe(r.nonce);
    });

    it('rejects a Retry with any altered byte, a different ODCID or no room for a tag', () => {
      const packet = hex(v.retry.packet);
      const odcid = hex(v.retry.odcid);
      for (const i of [0, 5, packet.length - 17, packet.length - 16, packet.length - 1]) {
        const bad = packet.slice();
        bad[i]! ^= 0x01;
        expect(verifyRetryIntegrity(version, odcid, bad, provider)).toBe(false);
      }
      const otherOdcid = odcid.slice();
      otherOdcid[0]! ^= 0x80;
      expect(verifyRetryIntegrity(version, otherOdcid, packet, provider)).toBe(false);
      expect(verifyRetryIntegrity(version, odcid, packet.subarray(0, 15), provider)).toBe(false);
      const otherVersion = version === QUIC_V1 ? QUIC_V2 : QUIC_V1;
      expect(verifyRetryIntegrity(otherVersion, odcid, packet, provider)).toBe(false);
    });

    it('builds the Retry packet of the appendix', () => {
      const packet = hex(v.retry.packet);
      const built = buildRetryPacket(
        {
          version,
          dcid: new Uint8Array(0),
          scid: hex('f067a5502a4262b5'),
          token: new TextEncoder().encode('token'),
          unusedBits: packet[0]! & 0x0f,
        },
        hex(v.retry.odcid),
        provider,
      );
      expect(toHex(built)).toBe(v.retry.packet);
    });
  });

  it('rejects unsupported versions as programmer errors', () => {
    expect(() => deriveInitialKeys(hex('0001020304050607'), 0xff00001d, provider)).toThrow(QuicEncodeError);
    expect(() => derivePacketKeys(provider, 'aes-128-gcm', new Uint8Array(32), 2)).toThrow(QuicEncodeError);
    expect(() => computeRetryIntegrityTag(0x0a0a0a0a, new Uint8Array(8), new Uint8Array(10), provider)).toThrow(
      QuicEncodeError,
    );
  });

  it('rejects keys of the wrong length and unknown algorithms', () => {
    expect(() => provider.createAead('aes-128-gcm', new Uint8Array(32))).toThrow(QuicEncodeError);
    expect(() => provider.createAead('chacha20-poly1305', new Uint8Array(16))).toThrow(QuicEncodeError);
    expect(() => provider.createHeaderProtector('aes-256-gcm', new Uint8Array(16))).toThrow(QuicEncodeError);
    expect(() => provider.createAead('aes-128-ccm' as AeadAlgorithm, new Uint8Array(16))).toThrow(QuicEncodeError);
  });

  describe('header protection against node:crypto as an independent oracle', () => {
    it('AES-128 and AES-256: mask = first 5 bytes of AES-ECB(sample)', () => {
      fc.assert(
        fc.property(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (wide, sample, keyBytes) => {
          const key = wide ? keyBytes : keyBytes.subarray(0, 16);
          const ecb = createCipheriv(wide ? 'aes-256-ecb' : 'aes-128-ecb', key, null).setAutoPadding(false);
          const mask = new Uint8Array(5);
          provider.createHeaderProtector(wide ? 'aes-256-gcm' : 'aes-128-gcm', key).mask(sample, mask);
          expect(toHex(mask)).toBe(toHex(ecb.update(sample).subarray(0, 5)));
        }),
        { numRuns: 100 },
      );
    });

    it('ChaCha20: counter = sample[0..4) LE, nonce = sample[4..16) (RFC 9001 §5.4.4), any counter', () => {
      const key = new Uint8Array(randomBytes(32));
      const hp = provider.createHeaderProtector('chacha20-poly1305', key);
      // node's 'chacha20' takes the 16-byte counter || nonce block, which is exactly the sample.
      const oracle = (sample: Uint8Array) => createCipheriv('chacha20', key, sample).update(new Uint8Array(5));
      const edge = [hex('ffffffff' + '00'.repeat(12)), hex('00000000' + 'ff'.repeat(12)), hex('ff'.repeat(16))];
      fc.assert(
        fc.property(fc.oneof(fc.constantFrom(...edge), fc.uint8Array({ minLength: 16, maxLength: 16 })), (sample) => {
          const mask = new Uint8Array(5);
          hp.mask(sample, mask);
          expect(toHex(mask)).toBe(toHex(oracle(sample)));
        }),
        { numRuns: 200 },
      );
    });

    it('reads only the first 16 bytes of a longer sample view and rejects a short one', () => {
      const key = new Uint8Array(32).fill(7);
      for (const algorithm of ALGORITHMS) {
        const hp = provider.createHeaderProtector(algorithm, key.subarray(0, keyLength(algorithm)));
        const sample = hex('00112233445566778899aabbccddeeff');
        const longer = new Uint8Array(20);
        longer.set(sample);
        longer.fill(0xee, 16);
        const a = new Uint8Array(5);
        const b = new Uint8Array(5);
        hp.mask(sample, a);
        hp.mask(longer, b);
        expect(toHex(b)).toBe(toHex(a));
        expect(() => hp.mask(sample.subarray(0, 15), a)).toThrow(QuicEncodeError);
      }
    });
  });

  describe.each(ALGORITHMS)('AEAD %s', (algorithm) => {
    const key = new Uint8Array(randomBytes(keyLength(algorithm)));
    const aead = provider.createAead(algorithm, key);
    const nonce = hex('000102030405060708090a0b');
    const aad = hex('c3000000010800');
    const plaintext = new Uint8Array(randomBytes(100));
    const sealed = new Uint8Array(116);
    aead.seal(nonce, aad, plaintext, sealed);

    it('opens what it sealed and reports lengths', () => {
      const out = new Uint8Array(100);
      expect(aead.open(nonce, aad, sealed, out)).toBe(100);
      expect(toHex(out)).toBe(toHex(plaintext));
      expect(aead.algorithm).toBe(algorithm);
    });

    it.each([
      ['ciphertext', 0],
      ['ciphertext end', 99],
      ['tag start', 100],
      ['tag end', 115],
    ])('returns -1 without throwing for a flipped bit in the %s', (_where, index) => {
      const bad = sealed.slice();
      bad[index]! ^= 0x04;
      const out = new Uint8Array(100).fill(0xaa);
      expect(aead.open(nonce, aad, bad, out)).toBe(-1);
      // Nothing is released from a forged packet.
      expect(out.every((b) => b === 0xaa)).toBe(true);
    });

    it('returns -1 for a flipped AAD or nonce bit, a truncated tag, or a different key', () => {
      const out = new Uint8Array(100);
      const badAad = aad.slice();
      badAad[3]! ^= 1;
      expect(aead.open(nonce, badAad, sealed, out)).toBe(-1);
      const badNonce = nonce.slice();
      badNonce[11]! ^= 1;
      expect(aead.open(badNonce, aad, sealed, out)).toBe(-1);
      expect(aead.open(nonce, aad, sealed.subarray(0, 115), out)).toBe(-1);
      expect(aead.open(nonce, aad, sealed.subarray(0, 10), out)).toBe(-1);
      const otherKey = key.slice();
      otherKey[0]! ^= 1;
      expect(provider.createAead(algorithm, otherKey).open(nonce, aad, sealed, out)).toBe(-1);
    });

    it('seals and opens in place at an offset', () => {
      const buf = new Uint8Array(3 + 100 + 16 + 5);
      buf.set(plaintext, 3);
      expect(aead.seal(nonce, aad, buf.subarray(3, 103), buf, 3)).toBe(116);
      expect(toHex(buf.subarray(3, 119))).toBe(toHex(sealed));
      expect(aead.open(nonce, aad, buf.subarray(3, 119), buf, 3)).toBe(100);
      expect(toHex(buf.subarray(3, 103))).toBe(toHex(plaintext));
    });

    it('seals an empty plaintext to a bare tag', () => {
      const tag = new Uint8Array(16);
      expect(aead.seal(nonce, aad, new Uint8Array(0), tag)).toBe(16);
      expect(aead.open(nonce, aad, tag, new Uint8Array(0))).toBe(0);
    });

    it('rejects an output buffer without room and a bad nonce length', () => {
      expect(() => aead.seal(nonce, aad, plaintext, new Uint8Array(115))).toThrow(QuicEncodeError);
      expect(() => aead.seal(nonce.subarray(0, 8), aad, plaintext, new Uint8Array(116))).toThrow(QuicEncodeError);
      expect(() => aead.open(nonce, aad, sealed, new Uint8Array(99))).toThrow(QuicEncodeError);
    });

    it('round-trips random inputs, and interoperates with the other provider', () => {
      const other = provider === nodeCryptoProvider ? nobleCryptoProvider : nodeCryptoProvider;
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: keyLength(algorithm), maxLength: keyLength(algorithm) }),
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 1500 }),
          (k, n, a, p) => {
            const mine = provider.createAead(algorithm, k);
            const theirs = other.createAead(algorithm, k);
            const sealedMine = new Uint8Array(p.length + 16);
            const sealedTheirs = new Uint8Array(p.length + 16);
            mine.seal(n, a, p, sealedMine);
            theirs.seal(n, a, p, sealedTheirs);
            expect(toHex(sealedMine)).toBe(toHex(sealedTheirs));
            const opened = new Uint8Array(p.length);
            expect(theirs.open(n, a, sealedMine, opened)).toBe(p.length);
            expect(toHex(opened)).toBe(toHex(p));
            expect(mine.open(n, a, sealedTheirs, opened)).toBe(p.length);
            expect(toHex(opened)).toBe(toHex(p));
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  it('fills buffers with random bytes, including ones above the WebCrypto 64 KiB cap', () => {
    const big = new Uint8Array(70_000);
    expect(provider.randomFill(big)).toBe(big);
    // 70 000 random bytes are never all zero in a working generator; check both halves.
    expect(big.subarray(0, 65_536).some((b) => b !== 0)).toBe(true);
    expect(big.subarray(65_536).some((b) => b !== 0)).toBe(true);
    const a = provider.randomFill(new Uint8Array(16));
    const b = provider.randomFill(new Uint8Array(16));
    expect(toHex(a)).not.toBe(toHex(b));
  });
});

describe('nonces (RFC 9001 §5.3, draft-ietf-quic-multipath-21)', () => {
  it('matches the multipath example', () => {
    const m = VECTORS.multipath;
    const out = new Uint8Array(12);
    makeNonce(hex(m.iv), m.packet_number, out, m.path_id);
    expect(toHex(out)).toBe(m.nonce);
  });

  it('equals iv XOR the left-padded packet number for path 0 and any safe packet number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.maxSafeNat(), fc.nat(), (iv, pn, pathId) => {
        const out = new Uint8Array(12);
        makeNonce(iv, pn, out, pathId);
        const ppn = Buffer.alloc(12);
        ppn.writeUInt32BE(pathId, 0);
        ppn.writeBigUInt64BE(BigInt(pn), 4);
        const expected = iv.map((b, i) => b ^ ppn[i]!);
        expect(toHex(out)).toBe(toHex(expected));
      }),
    );
  });

  it('rejects bad arguments', () => {
    const iv = new Uint8Array(12);
    expect(() => makeNonce(iv, -1, new Uint8Array(12))).toThrow(QuicEncodeError);
    expect(() => makeNonce(iv, 1.5, new Uint8Array(12))).toThrow(QuicEncodeError);
    expect(() => makeNonce(iv, 2 ** 53, new Uint8Array(12))).toThrow(QuicEncodeError);
    expect(() => makeNonce(iv, 0, new Uint8Array(11))).toThrow(QuicEncodeError);
    expect(() => makeNonce(iv, 0, new Uint8Array(12), 2 ** 32)).toThrow(QuicEncodeError);
  });
});

describe('suite parameters', () => {
  it('maps AEADs to their TLS 1.3 hash', () => {
    expect(hashForAead('aes-128-gcm')).toBe('sha256');
    expect(hashForAead('aes-256-gcm')).toBe('sha384');
    expect(hashForAead('chacha20-poly1305')).toBe('sha256');
  });

  it('derives SHA-384 sized next secrets for AES-256-GCM', () => {
    const secret = new Uint8Array(48).fill(1);
    const next = nextTrafficSecret(nodeCryptoProvider, 'sha384', secret, QUIC_V1);
    expect(next.length).toBe(48);
    expect(toHex(next)).toBe(toHex(nextTrafficSecret(nobleCryptoProvider, 'sha384', secret, QUIC_V1)));
    expect(toHex(next)).not.toBe(toHex(nextTrafficSecret(nodeCryptoProvider, 'sha384', secret, QUIC_V2)));
    const keys = derivePacketKeys(nodeCryptoProvider, 'aes-256-gcm', secret, QUIC_V1);
    expect([keys.key.length, keys.iv.length, keys.hp.length]).toEqual([32, 12, 32]);
  });

  it('has the RFC 9001 §6.6 AEAD limits', () => {
    expect(AEAD_CONFIDENTIALITY_LIMIT['aes-128-gcm']).toBe(2 ** 23);
    expect(AEAD_CONFIDENTIALITY_LIMIT['aes-256-gcm']).toBe(2 ** 23);
    expect(AEAD_CONFIDENTIALITY_LIMIT['chacha20-poly1305']).toBeGreaterThan(2 ** 62);
    expect(AEAD_INTEGRITY_LIMIT['aes-128-gcm']).toBe(2 ** 52);
    expect(AEAD_INTEGRITY_LIMIT['aes-256-gcm']).toBe(2 ** 52);
    expect(AEAD_INTEGRITY_LIMIT['chacha20-poly1305']).toBe(2 ** 36);
  });

  it('returns copies of the Initial salts', () => {
    expect(toHex(initialSalt(QUIC_V1))).toBe('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    expect(toHex(initialSalt(QUIC_V2))).toBe('0dede3def700a6db819381be6e269dcbf9bd2ed9');
    initialSalt(QUIC_V1).fill(0);
    expect(toHex(deriveInitialSecrets(hex(VECTORS.v1.clientDcid), QUIC_V1).initialSecret)).toBe(VECTORS.v1.initialSecret);
  });

  it('defaults to the node provider', () => {
    expect(toHex(deriveInitialKeys(hex(VECTORS.v2.clientDcid), QUIC_V2).client.key)).toBe(VECTORS.v2.client.key);
  });
});
