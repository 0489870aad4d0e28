import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  QuicCodecError,
  QuicEncodeError,
  Reader,
  TransportErrorCode,
  VARINT_MAX,
  Writer,
  decodeVarint,
  encodeVarint,
  varintLength,
} from '../src/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('varint (RFC 9000 §16, App. A.1)', () => {
  it('decodes the RFC examples', () => {
    expect(decodeVarint(hex('c2197c5eff14e88c'), 0)).toEqual({ value: 151288809941952652n, length: 8 });
    expect(decodeVarint(hex('9d7f3e7d'), 0)).toEqual({ value: 494878333, length: 4 });
    expect(decodeVarint(hex('7bbd'), 0)).toEqual({ value: 15293, length: 2 });
    expect(decodeVarint(hex('25'), 0)).toEqual({ value: 37, length: 1 });
    expect(decodeVarint(hex('4025'), 0)).toEqual({ value: 37, length: 2 });
  });

  it('encodes minimally at every boundary', () => {
    const cases: Array<[number | bigint, string]> = [
      [0, '00'],
      [63, '3f'],
      [64, '4040'],
      [16383, '7fff'],
      [16384, '80004000'],
      [1073741823, 'bfffffff'],
      [1073741824, 'c000000040000000'],
      [Number.MAX_SAFE_INTEGER, 'c01fffffffffffff'],
      [VARINT_MAX, 'ffffffffffffffff'],
    ];
    for (const [value, expected] of cases) {
      expect(toHex(encodeVarint(value))).toBe(expected);
      expect(varintLength(value)).toBe(expected.length / 2);
    }
  });

  it('decodes 2^62-1 exactly as a bigint and 2^53-1 as a number', () => {
    expect(decodeVarint(hex('ffffffffffffffff'), 0).value).toBe((1n << 62n) - 1n);
    expect(decodeVarint(hex('c01fffffffffffff'), 0).value).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeVarint(hex('c020000000000000'), 0).value).toBe(1n << 53n);
  });

  it('saturates above 2^53-1 in Reader.readVarint and stays exact in readVarintExact', () => {
    const buf = hex('ffffffffffffffff');
    expect(new Reader(buf).readVarint()).toBe(Number.MAX_SAFE_INTEGER);
    expect(new Reader(buf).readVarintExact()).toBe(VARINT_MAX);
  });

  it('rejects out-of-range values with a typed programmer error', () => {
    expect(() => encodeVarint(-1)).toThrow(QuicEncodeError);
    expect(() => encodeVarint(1.5)).toThrow(QuicEncodeError);
    expect(() => encodeVarint(2 ** 52)).not.toThrow();
    expect(() => encodeVarint(1n << 62n)).toThrow(QuicEncodeError);
    expect(() => encodeVarint(Number.MAX_SAFE_INTEGER + 1)).toThrow(QuicEncodeError);
  });

  it('reports truncation as FRAME_ENCODING_ERROR, never a RangeError', () => {
    for (const s of ['', '40', '80aabb', 'c0aabbccddeeff']) {
      try {
        decodeVarint(hex(s), 0);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(QuicCodecError);
        expect((e as QuicCodecError).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
      }
    }
  });

  it('round-trips every value (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: VARINT_MAX }), (v) => {
        const enc = encodeVarint(v);
        const { value, length } = decodeVarint(enc, 0);
        expect(BigInt(value)).toBe(v);
        expect(length).toBe(enc.length);
        expect(typeof value).toBe(v <= BigInt(Number.MAX_SAFE_INTEGER) ? 'number' : 'bigint');
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips through Writer/Reader with every non-minimal length that fits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x3fff_ffff }), fc.constantFrom(1, 2, 4, 8), (v, len) => {
        fc.pre(len >= varintLength(v));
        const w = new Writer(4);
        w.writeVarintWithLength(v, len as 1 | 2 | 4 | 8);
        expect(w.offset).toBe(len);
        const r = new Reader(w.bytes());
        expect(r.readVarint()).toBe(v);
        expect(r.atEnd).toBe(true);
      }),
    );
  });
});

describe('Reader / Writer', () => {
  it('never reads past its end', () => {
    const r = new Reader(hex('0102030405'), 1, 3);
    expect(r.readUint8()).toBe(2);
    expect(r.remaining).toBe(1);
    expect(() => r.readUint16()).toThrow(QuicCodecError);
    expect(() => r.readBytes(2)).toThrow(QuicCodecError);
    expect(r.readBytes(1)).toEqual(hex('03'));
    expect(() => r.readUint8()).toThrow(QuicCodecError);
  });

  it('readBytes returns a view, not a copy', () => {
    const buf = hex('aabbcc');
    const view = new Reader(buf).readBytes(2);
    buf[0] = 0x11;
    expect(view[0]).toBe(0x11);
  });

  it('reports the frame type set by a frame decoder', () => {
    const r = new Reader(hex('40'));
    r.frameType = 0x1a;
    try {
      r.readVarint();
      expect.unreachable();
    } catch (e) {
      expect((e as QuicCodecError).frameType).toBe(0x1a);
    }
  });

  it('a caller-owned Writer refuses to overflow; an owned one grows', () => {
    const fixed = new Writer(new Uint8Array(3));
    fixed.writeUint16(0xabcd);
    expect(() => fixed.writeUint16(1)).toThrow(QuicEncodeError);
    const growing = new Writer(16);
    for (let i = 0; i < 100; i++) growing.writeUint32(i);
    expect(growing.offset).toBe(400);
    const r = new Reader(growing.bytes());
    for (let i = 0; i < 100; i++) expect(r.readUint32()).toBe(i);
  });

  it('writes and reads 1..4 byte packet-number integers', () => {
    const w = new Writer(16);
    w.writeUintN(0xa82f9b32, 4);
    w.writeUintN(0x9b32, 2);
    w.writeUintN(0x01, 1);
    w.writeUintN(0xabcdef, 3);
    const r = new Reader(w.bytes());
    expect([r.readUintN(4), r.readUintN(2), r.readUintN(1), r.readUintN(3)]).toEqual([0xa82f9b32, 0x9b32, 1, 0xabcdef]);
  });
});
