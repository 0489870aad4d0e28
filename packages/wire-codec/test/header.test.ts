import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  QUIC_V1,
  QUIC_V2,
  QuicCodecError,
  QuicEncodeError,
  Writer,
  decodePacketNumber,
  encodeRetryWithoutTag,
  encodeVersionNegotiation,
  isReservedVersion,
  longPacketTypeBits,
  longPacketTypeFromBits,
  packetNumberLength,
  parsePacketHeader,
  patchLongHeaderLength,
  peekDestinationConnectionId,
  reservedVersion,
  splitCoalescedPackets,
  truncatePacketNumber,
  writeLongHeader,
  writeShortHeader,
  type LongHeader,
} from '../src/index.js';
import { hex, toHex, vectors } from './vectors.js';

const opts = { shortDcidLength: 8 };

describe('versions (RFC 9000 §15, RFC 9369 §3.2)', () => {
  it('maps long-header type bits for v1 and v2', () => {
    expect([0, 1, 2, 3].map((b) => longPacketTypeFromBits(QUIC_V1, b))).toEqual(['initial', '0rtt', 'handshake', 'retry']);
    expect([0, 1, 2, 3].map((b) => longPacketTypeFromBits(QUIC_V2, b))).toEqual(['retry', 'initial', '0rtt', 'handshake']);
    expect(longPacketTypeBits(QUIC_V2, 'initial')).toBe(1);
    expect(longPacketTypeFromBits(0xff00001d, 0)).toBeUndefined();
  });

  it('recognises reserved 0x?a?a?a?a versions', () => {
    expect(isReservedVersion(0x1a2a3a4a)).toBe(true);
    expect(isReservedVersion(QUIC_V1)).toBe(false);
    for (const seed of [0, 0xffffffff, 0x12345678]) expect(isReservedVersion(reservedVersion(seed))).toBe(true);
  });
});

describe('packet numbers (RFC 9000 §17.1, App. A.2, A.3)', () => {
  it('decodes the App. A.3 example', () => {
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 2)).toBe(0xa82f9b32);
  });

  it('chooses the App. A.2 example lengths', () => {
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
    expect(packetNumberLength(0, undefined)).toBe(1);
    expect(packetNumberLength(127, undefined)).toBe(1);
    expect(packetNumberLength(128, undefined)).toBe(2);
    expect(() => packetNumberLength(5, 5)).toThrow(QuicEncodeError);
  });

  it('recovers any packet number from its truncation (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 2 ** 50 }), fc.integer({ min: 1, max: 2 ** 30 }), (largestAcked, ahead) => {
        const pn = largestAcked + ahead;
        const len = packetNumberLength(pn, largestAcked < 0 ? undefined : largestAcked);
        // The receiver's largest received is at least the sender's largest acked.
        expect(decodePacketNumber(largestAcked, truncatePacketNumber(pn, len), len)).toBe(pn);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('long headers (RFC 9000 §17.2)', () => {
  it('parses the RFC 9001 client Initial up to the packet number', () => {
    const packet = hex(vectors.client_initial_packet.protected_packet);
    const h = parsePacketHeader(packet, 0, opts) as LongHeader;
    expect(h.form).toBe('long');
    expect(h.type).toBe('initial');
    expect(h.version).toBe(QUIC_V1);
    expect(toHex(h.dcid)).toBe('8394c8f03e515708');
    expect(h.scid.length).toBe(0);
    expect(h.token.length).toBe(0);
    expect(h.length).toBe(1182); // 0x449e is a two-byte varint
    expect(h.pnOffset).toBe(18);
    expect(h.packetLength).toBe(1200);
  });

  it('parses the RFC 9001 server Initial and its v2 twin', () => {
    for (const [v, packetHex, version] of [
      ['v1', vectors.server_initial_packet.protected_packet, QUIC_V1],
      ['v2', vectors.rfc9369_quic_v2.server_initial_packet.protected_packet, QUIC_V2],
    ] as const) {
      const packet = hex(packetHex);
      const h = parsePacketHeader(packet, 0, opts) as LongHeader;
      expect(h.type, v).toBe('initial');
      expect(h.version).toBe(version);
      expect(toHex(h.scid)).toBe('f067a5502a4262b5');
      expect(h.length).toBe(0x75);
      expect(h.packetLength).toBe(packet.length);
    }
  });

  it('builds the RFC 9001 unprotected client and server Initial headers byte for byte', () => {
    const w = new Writer(64);
    const { pnOffset, lengthOffset } = writeLongHeader(w, {
      type: 'initial',
      version: QUIC_V1,
      dcid: hex('8394c8f03e515708'),
      scid: new Uint8Array(0),
      packetNumber: 2,
      pnLength: 4,
      length: 1182,
    });
    expect(toHex(w.bytes())).toBe(vectors.client_initial_packet.unprotected_header);
    expect([lengthOffset, pnOffset]).toEqual([16, 18]);

    const v2 = new Writer(64);
    writeLongHeader(v2, { type: 'initial', version: QUIC_V2, dcid: hex('8394c8f03e515708'), scid: new Uint8Array(0), packetNumber: 2, pnLength: 4, length: 1182 });
    expect(toHex(v2.bytes())).toBe(vectors.rfc9369_quic_v2.client_initial_packet.unprotected_header);

    const s = new Writer(64);
    writeLongHeader(s, { type: 'initial', version: QUIC_V1, dcid: new Uint8Array(0), scid: hex('f067a5502a4262b5'), packetNumber: 1, pnLength: 2, length: 0x75 });
    expect(toHex(s.bytes())).toBe(vectors.server_initial_packet.unprotected_header);
  });

  it('patches a placeholder Length in place', () => {
    const w = new Writer(64);
    const { lengthOffset } = writeLongHeader(w, { type: 'handshake', version: QUIC_V1, dcid: hex('01020304'), scid: hex('0506'), packetNumber: 7, pnLength: 1, length: 0 });
    patchLongHeaderLength(w.buf, lengthOffset, 1000);
    const packet = new Uint8Array(w.offset + 999);
    packet.set(w.bytes());
    const h = parsePacketHeader(packet, 0, opts) as LongHeader;
    expect(h.type).toBe('handshake');
    expect(h.length).toBe(1000);
    expect(h.packetLength).toBe(packet.length);
  });

  it('carries an Initial token and refuses one on other types', () => {
    const w = new Writer(64);
    writeLongHeader(w, { type: 'initial', version: QUIC_V1, dcid: hex('0102030405060708'), scid: hex('aa'), token: hex('deadbeef'), packetNumber: 0, pnLength: 1, length: 21 });
    const packet = new Uint8Array(w.offset + 20);
    packet.set(w.bytes());
    expect(toHex((parsePacketHeader(packet, 0, opts) as LongHeader).token)).toBe('deadbeef');
    expect(() =>
      writeLongHeader(new Writer(64), { type: 'handshake', version: QUIC_V1, dcid: hex('01'), scid: hex('02'), token: hex('01'), packetNumber: 0, pnLength: 1, length: 1 }),
    ).toThrow(QuicEncodeError);
  });

  it('drops connection IDs over 20 bytes in v1 but keeps them for unknown versions (RFC 8999)', () => {
    const long = new Uint8Array([0xc0, 0, 0, 0, 1, 21, ...new Uint8Array(21), 0, 0, 1, 0]);
    expect(() => parsePacketHeader(long, 0, opts)).toThrow(QuicCodecError);
    const unknown = new Uint8Array([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 255, ...new Uint8Array(255).fill(7), 3, 1, 2, 3, 9, 9]);
    const h = parsePacketHeader(unknown, 0, opts);
    expect(h.form === 'long' && h.type).toBe('unsupported');
    if (h.form === 'long') expect(h.dcid.length).toBe(255);
  });

  it('drops a zero fixed bit unless grease_quic_bit was negotiated (RFC 9287)', () => {
    const w = new Writer(64);
    writeLongHeader(w, { type: 'handshake', version: QUIC_V1, dcid: hex('01'), scid: hex('02'), packetNumber: 0, pnLength: 1, length: 20, greaseFixedBit: true });
    const packet = new Uint8Array(w.offset + 19);
    packet.set(w.bytes());
    expect(() => parsePacketHeader(packet, 0, opts)).toThrow(QuicCodecError);
    expect(parsePacketHeader(packet, 0, { ...opts, allowFixedBitZero: true }).form).toBe('long');
  });

  it('parses the RFC 9001 Retry vectors (v1 and v2)', () => {
    for (const [packetHex, version] of [
      [vectors.retry_packet.packet, QUIC_V1],
      [vectors.rfc9369_quic_v2.retry_packet.packet, QUIC_V2],
    ] as const) {
      const h = parsePacketHeader(hex(packetHex), 0, opts);
      expect(h.form === 'long' && h.type).toBe('retry');
      if (h.form !== 'long' || h.type !== 'retry') continue;
      expect(h.version).toBe(version);
      expect(Buffer.from(h.token).toString()).toBe('token');
      expect(toHex(h.scid)).toBe('f067a5502a4262b5');
      expect(h.integrityTag.length).toBe(16);
      const rebuilt = encodeRetryWithoutTag({ version, dcid: h.dcid, scid: h.scid, token: h.token, unusedBits: h.firstByte & 0x0f });
      expect(toHex(rebuilt)).toBe(packetHex.slice(0, -32));
    }
  });
});

describe('version negotiation (RFC 9000 §17.2.1)', () => {
  it('round-trips and keeps 255-byte connection IDs', () => {
    const vn = encodeVersionNegotiation({ dcid: new Uint8Array(255).fill(1), scid: hex('0203'), supportedVersions: [QUIC_V1, QUIC_V2, 0x0a0a0a0a] });
    expect(vn[0]! & 0x80).toBe(0x80);
    const h = parsePacketHeader(vn, 0, opts);
    expect(h.form).toBe('version_negotiation');
    if (h.form === 'version_negotiation') {
      expect(h.supportedVersions).toEqual([QUIC_V1, QUIC_V2, 0x0a0a0a0a]);
      expect(h.dcid.length).toBe(255);
    }
  });

  it('drops a version list that is not a multiple of four bytes', () => {
    const vn = encodeVersionNegotiation({ dcid: hex('01'), scid: hex('02'), supportedVersions: [QUIC_V1] });
    expect(() => parsePacketHeader(vn.subarray(0, vn.length - 1), 0, opts)).toThrow(QuicCodecError);
  });
});

describe('short headers (RFC 9000 §17.3)', () => {
  it('builds the RFC 9001 ChaCha20 example header', () => {
    const w = new Writer(8);
    const pnOffset = writeShortHeader(w, { dcid: new Uint8Array(0), packetNumber: truncatePacketNumber(654360564, 3), pnLength: 3, keyPhase: false });
    expect(toHex(w.bytes())).toBe(vectors.chacha20_short_header.unprotected_header);
    expect(pnOffset).toBe(1);
  });

  it('parses the connection ID with the configured length and reads the spin bit', () => {
    const w = new Writer(64);
    writeShortHeader(w, { dcid: hex('0102030405060708'), packetNumber: 9, pnLength: 1, keyPhase: true, spin: true });
    w.fill(20);
    const h = parsePacketHeader(w.bytes(), 0, opts);
    expect(h.form).toBe('short');
    if (h.form === 'short') {
      expect(toHex(h.dcid)).toBe('0102030405060708');
      expect(h.spin).toBe(true);
      expect(h.pnOffset).toBe(9);
    }
    expect(toHex(peekDestinationConnectionId(w.bytes(), 8)!)).toBe('0102030405060708');
  });
});

describe('coalesced packets (RFC 9000 §12.2)', () => {
  it('splits Initial + Handshake + 1-RTT and reports trailing garbage', () => {
    const initial = hex(vectors.server_initial_packet.protected_packet);
    const hs = new Writer(128);
    writeLongHeader(hs, { type: 'handshake', version: QUIC_V1, dcid: new Uint8Array(0), scid: hex('f067a5502a4262b5'), packetNumber: 0, pnLength: 1, length: 40 });
    hs.fill(39, 0xee);
    const short = new Writer(64);
    writeShortHeader(short, { dcid: new Uint8Array(0), packetNumber: 0, pnLength: 1, keyPhase: false });
    short.fill(30, 0xdd);
    const datagram = new Uint8Array([...initial, ...hs.bytes(), ...short.bytes()]);
    const { packets, unparsedBytes } = splitCoalescedPackets(datagram, { shortDcidLength: 0 });
    expect(packets.map((p) => (p.header.form === 'long' ? p.header.type : p.header.form))).toEqual(['initial', 'handshake', 'short']);
    expect(packets[1]!.offset).toBe(initial.length);
    expect(unparsedBytes).toBe(0);

    const broken = new Uint8Array([...initial, 0xe0, 0, 0, 0]);
    const split = splitCoalescedPackets(broken, { shortDcidLength: 0 });
    expect(split.packets.length).toBe(1);
    expect(split.unparsedBytes).toBe(4);
  });

  it('never throws anything but QuicCodecError on random or truncated input (property)', () => {
    const base = hex(vectors.client_initial_packet.protected_packet);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: base.length }), (cut) => {
        try {
          parsePacketHeader(base.subarray(0, cut), 0, opts);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicCodecError);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 20 }), (bytes, dcidLen) => {
        const { packets } = splitCoalescedPackets(bytes, { shortDcidLength: dcidLen });
        let end = 0;
        for (const p of packets) {
          expect(p.offset).toBe(end);
          end += p.header.packetLength;
        }
        expect(end).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 5000 },
    );
  });
});
