import { encodeVarint } from '@pathquic/wire-codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  FrameReader,
  FrameType,
  H3Error,
  H3ErrorCode,
  decodeSettingsPayload,
  decodeSingleVarintPayload,
  encodeCancelPushFrame,
  encodeDataFrame,
  encodeDataFrameHeader,
  encodeFrame,
  encodeGoawayFrame,
  encodeGreaseFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodeSettingsFrame,
  encodeSettingsPayload,
  frameSize,
  frameTypeName,
  h3ErrorName,
  isGreaseFrameType,
  isGreaseSetting,
  isReservedCodepoint,
} from '../src/index.js';
import type { FrameEvent } from '../src/index.js';
import { concat, expectH3Error, hex, splits, toHex } from './helpers.js';

/** Frames as comparable records: DATA parts joined per frame. */
function collect(reader: FrameReader, chunks: Uint8Array[]): Array<{ type: string; payload: string }> {
  const out: Array<{ type: string; payload: string }> = [];
  let data: Uint8Array[] | undefined;
  const on = (e: FrameEvent): void => {
    if (e.kind === 'data') {
      data = [...(data ?? []), e.data];
      if (e.end) {
        out.push({ type: 'DATA', payload: toHex(concat(...data)) });
        data = undefined;
      }
    } else if (e.kind === 'unknown') {
      out.push({ type: `unknown:${e.type.toString(16)}`, payload: String(e.length) });
    } else {
      out.push({ type: frameTypeName(e.type), payload: toHex(e.payload) });
    }
  };
  for (const c of chunks) for (const e of reader.push(c)) on(e);
  reader.end();
  return out;
}

describe('error codes', () => {
  it('has the RFC 9114 §8.1 and RFC 9204 §6 values', () => {
    expect(H3ErrorCode.H3_NO_ERROR).toBe(0x100);
    expect(H3ErrorCode.H3_MISSING_SETTINGS).toBe(0x10a);
    expect(H3ErrorCode.H3_VERSION_FALLBACK).toBe(0x110);
    expect(H3ErrorCode.QPACK_DECODER_STREAM_ERROR).toBe(0x202);
    expect(h3ErrorName(0x107)).toBe('H3_EXCESSIVE_LOAD');
    expect(h3ErrorName(0x21)).toBe('0x21');
    const e = new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'bad', 'stream');
    expect(e.message).toBe('H3_FRAME_ERROR: bad');
    expect(e.scope).toBe('stream');
    expect(new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'x').scope).toBe('connection');
  });

  it('recognises reserved code points 0x1f * N + 0x21', () => {
    expect(isReservedCodepoint(0x21)).toBe(true);
    expect(isReservedCodepoint(0x40)).toBe(true);
    expect(isReservedCodepoint(0x41)).toBe(false);
    expect(isReservedCodepoint(0x1fn * 1000000000000n + 0x21n)).toBe(true);
    expect(isReservedCodepoint(0x20n)).toBe(false);
    expect(isGreaseFrameType(0x5f)).toBe(true);
    expect(isGreaseSetting(0x21)).toBe(true);
  });
});

describe('frame encoders (RFC 9114 §7.2)', () => {
  it('lays out Type, Length, Payload', () => {
    expect(toHex(encodeDataFrame(hex('aabb')))).toBe('0002aabb');
    expect(toHex(encodeHeadersFrame(hex('0000d1')))).toBe('01030000d1');
    expect(toHex(encodeDataFrameHeader(300))).toBe('00412c');
    expect(toHex(encodeGoawayFrame(4))).toBe('070104');
    expect(toHex(encodeMaxPushIdFrame(70))).toBe('0d024046');
    expect(toHex(encodeCancelPushFrame(1))).toBe('030101');
    expect(toHex(encodeGreaseFrame(0, hex('00')))).toBe('210100');
    expect(toHex(encodeGreaseFrame(2))).toBe('405f00');
    expect(frameSize(FrameType.DATA, 300)).toBe(303);
    expect(frameTypeName(0x99)).toBe('0x99');
  });

  it('decodes single-varint payloads exactly (RFC 9114 §7.1)', () => {
    expect(decodeSingleVarintPayload(FrameType.GOAWAY, hex('4046'))).toBe(70);
    expectH3Error(() => decodeSingleVarintPayload(FrameType.GOAWAY, hex('')), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(() => decodeSingleVarintPayload(FrameType.GOAWAY, hex('0400')), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(() => decodeSingleVarintPayload(FrameType.MAX_PUSH_ID, hex('40')), H3ErrorCode.H3_FRAME_ERROR);
  });
});

describe('FrameReader', () => {
  const stream = concat(
    encodeHeadersFrame(hex('0000d1d7')),
    encodeGreaseFrame(3, hex('010203')),
    encodeDataFrame(hex('68656c6c6f')),
    encodeFrame(0x1234567, hex('ff')), // unknown type with a 4-byte varint
    encodeDataFrame(new Uint8Array(0)),
    encodeFrame(FrameType.SETTINGS, new Uint8Array(0)),
    encodeDataFrame(new Uint8Array(100).fill(7)),
    encodeHeadersFrame(hex('0000')),
  );
  const expected = [
    { type: 'HEADERS', payload: '0000d1d7' },
    { type: 'unknown:7e', payload: '3' },
    { type: 'DATA', payload: '68656c6c6f' },
    { type: 'unknown:1234567', payload: '1' },
    { type: 'DATA', payload: '' },
    { type: 'SETTINGS', payload: '' },
    { type: 'DATA', payload: '07'.repeat(100) },
    { type: 'HEADERS', payload: '0000' },
  ];

  it('yields the same frames however the stream is split (every byte offset, and byte by byte)', () => {
    for (const chunks of splits(stream)) expect(collect(new FrameReader(), chunks)).toEqual(expected);
  });

  it('splits at any set of offsets (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: stream.length }), { maxLength: 12 }), (cuts) => {
        const sorted = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const chunks = sorted.slice(1).map((end, i) => stream.subarray(sorted[i], end));
        expect(collect(new FrameReader(), chunks)).toEqual(expected);
      }),
    );
  });

  it('round-trips random frame sequences', () => {
    const frameArb = fc.record({
      type: fc.oneof(fc.constantFrom(0, 1, 4, 5), fc.integer({ min: 0, max: 1000 }).map((n) => 0x1f * n + 0x21)),
      payload: fc.uint8Array({ maxLength: 70 }),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (frames, step) => {
        const bytes = concat(...frames.map((f) => encodeFrame(f.type, f.payload)));
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
        const got = collect(new FrameReader(), chunks);
        expect(got).toEqual(
          frames.map((f) =>
            f.type === 0 ? { type: 'DATA', payload: toHex(f.payload) }
            : f.type > 0x20 ? { type: `unknown:${f.type.toString(16)}`, payload: String(f.payload.length) }
            : { type: frameTypeName(f.type), payload: toHex(f.payload) },
          ),
        );
      }),
    );
  });

  it('streams DATA without buffering it (a DATA frame larger than the buffered-frame limit is fine)', () => {
    const reader = new FrameReader({ maxFramePayload: 16 });
    const events = reader.push(encodeDataFrameHeader(1_000_000));
    expect(events).toEqual([]);
    const part = reader.push(new Uint8Array(1000));
    expect(part).toHaveLength(1);
    expect(part[0]).toMatchObject({ kind: 'data', end: false });
    expect(reader.atFrameBoundary).toBe(false);
    expectH3Error(() => reader.end(), H3ErrorCode.H3_FRAME_ERROR, 'connection');
  });

  it('skips unknown frames of any size without buffering them', () => {
    const reader = new FrameReader({ maxFramePayload: 4 });
    expect(reader.push(concat(encodeVarint(0x21), encodeVarint(1 << 20)))).toEqual([{ kind: 'unknown', type: 0x21, length: 1 << 20 }]);
    expect(reader.push(new Uint8Array(1 << 20))).toEqual([]);
    expect(reader.atFrameBoundary).toBe(true);
    const big = new FrameReader();
    expect(big.push(hex('ff ffffffffffffff 00'))[0]).toMatchObject({ kind: 'unknown', type: 0x3fffffffffffffffn });
  });

  it('bounds buffered frames with H3_EXCESSIVE_LOAD before allocating', () => {
    const reader = new FrameReader({ maxFramePayload: 10 });
    expect(reader.push(encodeHeadersFrame(new Uint8Array(10)))).toHaveLength(1);
    expectH3Error(() => reader.push(hex('01 0b')), H3ErrorCode.H3_EXCESSIVE_LOAD, 'connection');
    expectH3Error(() => new FrameReader().push(hex('04 c0000000ffffffff')), H3ErrorCode.H3_EXCESSIVE_LOAD);
  });

  it.each([0x02, 0x06, 0x08, 0x09])('rejects the HTTP/2 frame type 0x%s with H3_FRAME_UNEXPECTED', (type) => {
    expectH3Error(() => new FrameReader().push(encodeFrame(type, hex('00'))), H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection');
  });

  it.each([FrameType.CANCEL_PUSH, FrameType.GOAWAY, FrameType.MAX_PUSH_ID])('rejects type %s with a length that cannot be one varint', (type) => {
    expectH3Error(() => new FrameReader().push(encodeFrame(type, new Uint8Array(9))), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(() => new FrameReader().push(encodeFrame(type, new Uint8Array(0))), H3ErrorCode.H3_FRAME_ERROR);
  });

  it('treats a stream ending inside a frame as H3_FRAME_ERROR, at every cut', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new FrameReader();
      reader.push(stream.subarray(0, cut));
      if (reader.atFrameBoundary) continue;
      expectH3Error(() => reader.end(), H3ErrorCode.H3_FRAME_ERROR);
    }
    const done = new FrameReader();
    done.end();
    expectH3Error(() => done.push(hex('00')), H3ErrorCode.H3_INTERNAL_ERROR);
  });
});

describe('SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5)', () => {
  it('encodes only non-default values, plus an optional GREASE setting', () => {
    expect(toHex(encodeSettingsPayload({}))).toBe('');
    expect(toHex(encodeSettingsPayload(DEFAULT_SETTINGS))).toBe('');
    expect(toHex(encodeSettingsPayload({ qpackMaxTableCapacity: 0, maxFieldSectionSize: 65536, qpackBlockedStreams: 0 }))).toBe('0680010000');
    expect(toHex(encodeSettingsFrame({ qpackMaxTableCapacity: 4096, qpackBlockedStreams: 16 }, { greaseN: 1 }))).toBe('04080150000710404001');
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat(), (a, b, c) => {
        const decoded = decodeSettingsPayload(encodeSettingsPayload({ qpackMaxTableCapacity: a, maxFieldSectionSize: b, qpackBlockedStreams: c }, { greaseN: 7 }));
        expect(decoded).toMatchObject({ qpackMaxTableCapacity: a, maxFieldSectionSize: b, qpackBlockedStreams: c });
        expect(decoded.unknown).toEqual([[0x1f * 7 + 0x21, 7]]);
      }),
    );
  });

  it('keeps unknown settings aside and uses defaults for absent ones', () => {
    const d = decodeSettingsPayload(hex('21 05 4040 00 06 10 ff ffffffffffffff 01'));
    expect(d.maxFieldSectionSize).toBe(16);
    expect(d.qpackMaxTableCapacity).toBe(0);
    expect(d.unknown).toEqual([[0x21, 5], [0x40, 0], [0x3fffffffffffffffn, 1]]);
    const huge = decodeSettingsPayload(hex('06 ffffffffffffffff'));
    expect(huge.maxFieldSectionSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeSettingsPayload(new Uint8Array(0)).maxFieldSectionSize).toBe(Infinity);
  });

  it('rejects duplicates and HTTP/2 settings with H3_SETTINGS_ERROR', () => {
    expectH3Error(() => decodeSettingsPayload(hex('0100 0100')), H3ErrorCode.H3_SETTINGS_ERROR);
    expectH3Error(() => decodeSettingsPayload(hex('2101 2102')), H3ErrorCode.H3_SETTINGS_ERROR);
    for (const id of [2, 3, 4, 5]) expectH3Error(() => decodeSettingsPayload(Uint8Array.from([id, 0])), H3ErrorCode.H3_SETTINGS_ERROR);
  });

  it('rejects a truncated pair with H3_FRAME_ERROR', () => {
    expectH3Error(() => decodeSettingsPayload(hex('01')), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(() => decodeSettingsPayload(hex('0140')), H3ErrorCode.H3_FRAME_ERROR);
  });
});
