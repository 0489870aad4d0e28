import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuicCodecError, QuicEncodeError } from '../src/errors.js';
import { QUIC_V1, QUIC_V2 } from '../src/version.js';
import { Writer } from '../src/buffer.js';
import { writeLongHeader, writeShortHeader, type LongHeader } from '../src/header.js';
import {
  deriveInitialKeys,
  derivePacketKeys,
  keyLength,
  nextTrafficSecret,
  nobleCryptoProvider,
  nodeCryptoProvider,
  type AeadAlgorithm,
  type PacketKeys,
} from '../src/crypto/index.js';
import { PacketDecryptError, PacketProtection, openLongHeaderPacket } from '../src/protection.js';

import { TEST_PROVIDERS } from './providers.js';
import { hex, quicVectors, toHex } from './vectors.js';

// RFC 9001 App. A, RFC 9369 App. A and the multipath nonce example, from the shared vectors file.
const VECTORS = quicVectors;

const PROVIDERS = TEST_PROVIDERS;
const VERSIONS = [
  ['v1', QUIC_V1, VECTORS.v1],
  ['v2', QUIC_V2, VECTORS.v2],
] as const;
const ALGORITHMS: AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];

function keysOf(k: { key: string; iv: string; hp: string }): PacketKeys {
  return { key: hex(k.key), iv: hex(k.iv), hp: hex(k.hp) };
}

/** The unprotected header and padded payload of a vector in a buffer with room for the tag. */
function unprotectedPacket(header: string, payload: string, payloadLength = payload.length / 2) {
  const h = hex(header);
  const buf = new Uint8Array(h.length + payloadLength + 16);
  buf.set(h);
  buf.set(hex(payload), h.length);
  return { buf, headerLength: h.length, payloadEnd: h.length + payloadLength };
}

function randomKeys(algorithm: AeadAlgorithm, seed: number): PacketKeys {
  const n = keyLength(algorithm);
  const fill = (len: number, salt: number) => Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 7 + salt) & 0xff);
  return { key: fill(n, 1), iv: fill(12, 2), hp: fill(n, 3) };
}

describe.each(PROVIDERS)('%s provider', (_name, provider) => {
  describe.each(VERSIONS)('%s vectors', (_v, version, v) => {
    it('seals the client Initial to the exact protected packet (App. A.2)', () => {
      const c = v.clientInitial;
      const { buf, headerLength, payloadEnd } = unprotectedPacket(
        c.unprotected_header,
        c.crypto_frame_plaintext,
        c.payload_plaintext_length,
      );
      const protection = new PacketProtection(provider, 'aes-128-gcm', keysOf(v.client));
      expect(protection.seal(buf, headerLength - 4, 4, c.packet_number, payloadEnd)).toBe(1200);
      expect(toHex(buf.subarray(0, headerLength))).toBe(c.protected_header);
      expect(toHex(buf)).toBe(c.protected_packet);
    });

    it('opens the client Initial with openLongHeaderPacket, leaving the datagram alone', () => {
      const c = v.clientInitial;
      const datagram = hex(c.protected_packet);
      const opened = openLongHeaderPacket(datagram, keysOf(v.client), { provider });
      expect(opened.packetNumber).toBe(c.packet_number);
      expect(opened.pnLength).toBe(4);
      expect(opened.length).toBe(1200);
      expect(opened.firstByte).toBe(hex(c.unprotected_header)[0]);
      const header: LongHeader = opened.header;
      expect(header.type).toBe('initial');
      expect(header.version).toBe(version);
      expect(toHex(header.dcid)).toBe(v.clientDcid);
      expect(opened.payload.length).toBe(c.payload_plaintext_length);
      const frameBytes = c.crypto_frame_plaintext.length / 2;
      expect(toHex(opened.payload.subarray(0, frameBytes))).toBe(c.crypto_frame_plaintext);
      expect(opened.payload.subarray(frameBytes).every((b) => b === 0)).toBe(true);
      expect(toHex(datagram)).toBe(c.protected_packet);
    });

    it('derives the Initial keys and opens with them', () => {
      const keys = deriveInitialKeys(hex(v.clientDcid), version, provider);
      const opened = openLongHeaderPacket(hex(v.serverInitial.protected_packet), keys.server, { provider });
      expect(toHex(opened.payload)).toBe(v.serverInitial.payload_plaintext);
    });

    it('seals and opens the server Initial both ways (App. A.3)', () => {
      const s = v.serverInitial;
      const { buf, headerLength, payloadEnd } = unprotectedPacket(s.unprotected_header, s.payload_plaintext);
      const protection = new PacketProtection(provider, 'aes-128-gcm', keysOf(v.server));
      expect(protection.seal(buf, headerLength - 2, 2, s.packet_number, payloadEnd)).toBe(buf.length);
      expect(toHex(buf.subarray(0, headerLength))).toBe(s.protected_header);
      expect(toHex(buf)).toBe(s.protected_packet);

      const opened = protection.open(buf, headerLength - 2, 0, true);
      expect(opened).not.toBeNull();
      expect(opened!.packetNumber).toBe(s.packet_number);
      expect(opened!.pnLength).toBe(2);
      expect(opened!.keyPhase).toBe(false);
      expect(opened!.firstByte).toBe(hex(s.unprotected_header)[0]);
      expect(toHex(opened!.payload)).toBe(s.payload_plaintext);
      // Decrypted in place: the payload is a view of the packet buffer.
      expect(opened!.payload.buffer).toBe(buf.buffer);
      expect(toHex(buf.subarray(0, headerLength))).toBe(s.unprotected_header);
    });

    it('reports where the next coalesced packet starts', () => {
      const first = hex(v.serverInitial.protected_packet);
      const datagram = new Uint8Array(first.length + 40);
      datagram.set(first);
      datagram.fill(0x5a, first.length);
      const opened = openLongHeaderPacket(datagram, keysOf(v.server), { provider, largestPn: 0 });
      expect(opened.length).toBe(first.length);
      expect(opened.packetNumber).toBe(1);
    });

    it('seals and opens the ChaCha20-Poly1305 short-header packet (App. A.5)', () => {
      const c = v.chacha;
      const { buf, headerLength, payloadEnd } = unprotectedPacket(c.unprotected_header, c.payload_plaintext);
      const protection = new PacketProtection(provider, 'chacha20-poly1305', keysOf(c));
      expect(protection.seal(buf, 1, 3, c.packet_number, payloadEnd)).toBe(21);
      expect(toHex(buf.subarray(0, headerLength))).toBe(c.protected_header);
      expect(toHex(buf.subarray(headerLength))).toBe(c.payload_ciphertext);
      expect(toHex(buf)).toBe(c.protected_packet);

      const opened = protection.open(buf, 1, c.packet_number - 1, false);
      expect(opened).not.toBeNull();
      expect(opened!.packetNumber).toBe(c.packet_number);
      expect(opened!.pnLength).toBe(3);
      expect(opened!.keyPhase).toBe(false);
      expect(toHex(opened!.payload)).toBe(c.payload_plaintext);
    });

    it('fails to open with the other direction keys: PacketDecryptError, datagram intact', () => {
      const datagram = hex(v.clientInitial.protected_packet);
      expect(() => openLongHeaderPacket(datagram, keysOf(v.server), { provider })).toThrow(PacketDecryptError);
      expect(toHex(datagram)).toBe(v.clientInitial.protected_packet);
    });
  });

  describe('open on bad input', () => {
    const c = VECTORS.v1.chacha;
    const protection = new PacketProtection(provider, 'chacha20-poly1305', keysOf(c));
    const packet = hex(c.protected_packet);

    it('returns null for any flipped bit, leaving the packet unchanged', () => {
      for (let byte = 0; byte < packet.length; byte++) {
        for (const bit of [0x01, 0x80]) {
          const bad = packet.slice();
          bad[byte]! ^= bit;
          const copy = bad.slice();
          expect(protection.open(bad, 1, c.packet_number - 1, false)).toBeNull();
          expect(toHex(bad)).toBe(toHex(copy));
        }
      }
    });

    it('returns null for a packet too short to sample, touching nothing', () => {
      for (let len = 0; len < packet.length; len++) {
        const short = packet.slice(0, len);
        expect(protection.open(short, 1, 0, false)).toBeNull();
        expect(toHex(short)).toBe(c.protected_packet.slice(0, 2 * len));
      }
      expect(protection.open(packet.slice(), 0, 0, false)).toBeNull();
    });

    it('never throws on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat({ max: 30 }), fc.boolean(), (bytes, pnOffset, isLong) => {
          expect(protection.open(bytes, pnOffset, 1000, isLong)).toBeNull();
        }),
        { numRuns: 300 },
      );
    });

    it('openLongHeaderPacket throws only typed errors', () => {
      const keys = keysOf(VECTORS.v1.client);
      const initial = hex(VECTORS.v1.clientInitial.protected_packet);
      // Truncated inside the header or inside the Length span.
      expect(() => openLongHeaderPacket(initial.subarray(0, 10), keys, { provider })).toThrow(QuicCodecError);
      expect(() => openLongHeaderPacket(initial.subarray(0, 600), keys, { provider })).toThrow(QuicCodecError);
      // A short header, a Retry, a Version Negotiation packet.
      expect(() => openLongHeaderPacket(hex(c.protected_packet), keys, { provider })).toThrow(QuicCodecError);
      expect(() => openLongHeaderPacket(hex('ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba'), keys, { provider })).toThrow(QuicCodecError);
      expect(() => openLongHeaderPacket(hex('8000000000000000000001'), keys, { provider })).toThrow(QuicCodecError);
      // A Length too small to sample: header of the Initial with Length = 5.
      const tiny = hex('c000000001088394c8f03e51570800050102030405');
      expect(() => openLongHeaderPacket(tiny, keys, { provider })).toThrow(QuicCodecError);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          try {
            openLongHeaderPacket(bytes, keys, { provider });
          } catch (e) {
            expect(e instanceof QuicCodecError || e instanceof PacketDecryptError).toBe(true);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('rejects non-zero reserved bits only after authentication (RFC 9000 §17.2)', () => {
      const keys = randomKeys('aes-128-gcm', 9);
      const buf = new Uint8Array(100);
      const w = new Writer(buf);
      const { pnOffset } = writeLongHeader(w, {
        type: 'handshake',
        version: QUIC_V1,
        dcid: hex('0102030405060708'),
        scid: hex('0a0b'),
        packetNumber: 7,
        pnLength: 1,
        length: 100 - 19,
      });
      // 1 + version 4 + 1 + 8 + 1 + 2 + Length 2
      expect(pnOffset).toBe(19);
      buf[0]! |= 0x08; // a reserved bit (RFC 9000 §17.2)
      expect(new PacketProtection(provider, 'aes-128-gcm', keys).seal(buf, pnOffset, 1, 7, 84)).toBe(100);
      expect(() => openLongHeaderPacket(buf, keys, { provider })).toThrow(/reserved/);
    });
  });

  describe('seal argument checks', () => {
    const protection = new PacketProtection(provider, 'aes-128-gcm', randomKeys('aes-128-gcm', 1));

    it('rejects a payload too short to sample, a buffer without room for the tag, and a PN length mismatch', () => {
      const buf = new Uint8Array(40);
      buf[0] = 0x40; // short header, 1-byte packet number
      // pnOffset 5, 1-byte PN, 2 bytes of payload: sample needs 4 - 1 = 3.
      expect(() => protection.seal(buf, 5, 1, 0, 8)).toThrow(QuicEncodeError);
      expect(protection.seal(buf.slice(), 5, 1, 0, 9)).toBe(25);
      expect(() => protection.seal(buf, 5, 1, 0, 30)).toThrow(QuicEncodeError);
      expect(() => protection.seal(buf, 5, 2, 0, 12)).toThrow(QuicEncodeError);
      expect(() => protection.seal(buf, 5, 5, 0, 12)).toThrow(QuicEncodeError);
      expect(() => protection.seal(buf, 0, 1, 0, 12)).toThrow(QuicEncodeError);
    });

    it('rejects a bad IV or path ID at construction', () => {
      const keys = randomKeys('aes-128-gcm', 2);
      expect(() => new PacketProtection(provider, 'aes-128-gcm', { ...keys, iv: new Uint8Array(8) })).toThrow(QuicEncodeError);
      expect(() => new PacketProtection(provider, 'aes-128-gcm', keys, { pathId: -1 })).toThrow(QuicEncodeError);
    });
  });

  describe.each(ALGORITHMS)('%s round trips', (algorithm) => {
    const other = provider === nodeCryptoProvider ? nobleCryptoProvider : nodeCryptoProvider;

    it('opens what it sealed for random headers, packet numbers, payloads and paths; the other provider agrees', () => {
      fc.assert(
        fc.property(
          fc.nat({ max: 255 }),
          fc.boolean(),
          fc.uint8Array({ maxLength: 20 }),
          fc.integer({ min: 0, max: 2 ** 40 }),
          fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4),
          fc.uint8Array({ minLength: 3, maxLength: 1300 }),
          fc.nat({ max: 7 }),
          fc.boolean(),
          (seed, isLong, dcid, pn, pnLength, payload, pathId, keyPhase) => {
            const keys = randomKeys(algorithm, seed);
            const buf = new Uint8Array(80 + payload.length + 16);
            const w = new Writer(buf);
            const truncated = pn % 2 ** (8 * pnLength);
            let pnOffset: number;
            if (isLong) {
              pnOffset = writeLongHeader(w, {
                type: 'handshake',
                version: QUIC_V2,
                dcid,
                scid: dcid,
                packetNumber: truncated,
                pnLength,
                length: pnLength + payload.length + 16,
              }).pnOffset;
            } else {
              pnOffset = writeShortHeader(w, { dcid, packetNumber: truncated, pnLength, keyPhase });
            }
            const headerLength = pnOffset + pnLength;
            buf.set(payload, headerLength);
            const payloadEnd = headerLength + payload.length;
            const sealer = new PacketProtection(provider, algorithm, keys, { pathId });
            const total = sealer.seal(buf, pnOffset, pnLength, pn, payloadEnd);
            expect(total).toBe(payloadEnd + 16);
            const packet = buf.subarray(0, total);

            const viaOther = packet.slice();
            const otherOpened = new PacketProtection(other, algorithm, keys, { pathId }).open(viaOther, pnOffset, pn - 1, isLong);
            expect(otherOpened?.packetNumber).toBe(pn);
            expect(toHex(otherOpened!.payload)).toBe(toHex(payload));

            // The wrong path ID is a different nonce.
            const wrongPath = packet.slice();
            expect(new PacketProtection(provider, algorithm, keys).open(wrongPath, pnOffset, pn - 1, isLong, pathId + 1)).toBeNull();

            const opened = sealer.open(packet, pnOffset, pn - 1, isLong);
            expect(opened).not.toBeNull();
            expect(opened!.packetNumber).toBe(pn);
            expect(opened!.pnLength).toBe(pnLength);
            expect(opened!.keyPhase).toBe(!isLong && keyPhase);
            expect(toHex(opened!.payload)).toBe(toHex(payload));
          },
        ),
        { numRuns: 60 },
      );
    });

    it('keeps header protection across a key update and finds the key phase before decrypting', () => {
      const version = QUIC_V1;
      const secret = new Uint8Array(algorithm === 'aes-256-gcm' ? 48 : 32).fill(0x42);
      const hash = algorithm === 'aes-256-gcm' ? 'sha384' : 'sha256';
      const keys0 = derivePacketKeys(provider, algorithm, secret, version);
      const keys1 = derivePacketKeys(provider, algorithm, nextTrafficSecret(provider, hash, secret, version), version);
      const phase0 = new PacketProtection(provider, algorithm, keys0);
      const phase1 = phase0.nextPhase(provider, keys1);
      expect(phase1.headerProtector).toBe(phase0.headerProtector);

      const dcid = hex('c0ffee00c0ffee00');
      const buf = new Uint8Array(64);
      const pnOffset = writeShortHeader(new Writer(buf), { dcid, packetNumber: 0x1234, pnLength: 2, keyPhase: true });
      buf.fill(0x01, pnOffset + 2, 40);
      const total = phase1.seal(buf, pnOffset, 2, 0x1234, 40);
      const packet = buf.subarray(0, total);

      // The current phase can't decrypt it, and leaves it as it was...
      const before = toHex(packet);
      expect(phase0.open(packet, pnOffset, 0x1200, false)).toBeNull();
      expect(toHex(packet)).toBe(before);
      // ...but it can remove header protection (same hp key) and reveal the Key Phase bit.
      const first = phase0.removeHeaderProtection(packet, pnOffset, false);
      expect(first & 0x04).toBe(0x04);
      expect(phase1.decryptPayload(packet, pnOffset + 2, 0x1234)).toBe(40 - pnOffset - 2);
      expect(packet.subarray(pnOffset + 2, 40).every((b) => b === 0x01)).toBe(true);
    });
  });
});
