import { describe, expect, it } from 'vitest';
import { Reader, Writer } from '../src/buffer.js';
import { QuicCodecError, QuicEncodeError, TransportErrorCode } from '../src/errors.js';
import {
  FRAME_FLAGS,
  FrameType,
  PacketFrameSummary,
  STREAM_ID_SATURATED_BASE,
  countsInFlight,
  cryptoFrameOverhead,
  datagramFrameOverhead,
  decodeFrame,
  encodeFrame,
  encodedFrameLength,
  frameAllowedIn,
  frameAllowedInPacket,
  frameTypeCode,
  isAckEliciting,
  isProbingFrame,
  maxCryptoDataLength,
  maxStreamDataLength,
  parseFrames,
  streamFrameOverhead,
  validatePacketFrames,
} from '../src/frames/index.js';
import type { Frame, FrameKind, ProtectedPacketType } from '../src/frames/index.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const { FRAME_ENCODING_ERROR, PROTOCOL_VIOLATION } = TransportErrorCode;

/** Hex with optional spaces to bytes. */
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const TOKEN16 = '000102030405060708090a0b0c0d0e0f';

function encode(frame: Frame): string {
  const writer = new Writer(64);
  encodeFrame(frame, writer);
  return toHex(writer.bytes());
}

function decodeOne(bytes: string): Frame {
  const frames = parseFrames(hex(bytes));
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

function codecError(fn: () => unknown): QuicCodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QuicCodecError);
    return error as QuicCodecError;
  }
  throw new Error('expected a QuicCodecError, nothing was thrown');
}

function expectParseError(bytes: string, code: number, frameType: number | bigint | undefined): void {
  const error = codecError(() => parseFrames(hex(bytes)));
  expect(error.code).toBe(code);
  expect(error.frameType).toBe(frameType);
}

/**
 * Hand-written encodings following the RFC layouts. `canonical` ones are also what the encoder must produce
 * (minimal varints, OFF bit only for a non-zero offset, Length present unless explicitLength is false).
 */
const VECTORS: Array<{ name: string; bytes: string; frame: Frame; canonical: boolean }> = [
  { name: 'PADDING x1', bytes: '00', frame: { type: 'padding', length: 1 }, canonical: true },
  { name: 'PADDING x4', bytes: '00000000', frame: { type: 'padding', length: 4 }, canonical: true },
  { name: 'PING', bytes: '01', frame: { type: 'ping' }, canonical: true },
  {
    // Largest 10, delay 3, 1 extra range; first range 2 (10..8); gap 0 => largest 8-0-2 = 6, length 1 (6..5).
    name: 'ACK with two ranges',
    bytes: '02 0a 03 01 02 00 01',
    frame: {
      type: 'ack',
      largestAcknowledged: 10,
      ackDelay: 3,
      ranges: [
        { largest: 10, smallest: 8 },
        { largest: 6, smallest: 5 },
      ],
    },
    canonical: true,
  },
  {
    name: 'ACK_ECN',
    bytes: '03 0a 03 00 00 01 02 4040',
    frame: {
      type: 'ack',
      largestAcknowledged: 10,
      ackDelay: 3,
      ranges: [{ largest: 10, smallest: 10 }],
      ecn: { ect0: 1, ect1: 2, ce: 64 },
    },
    canonical: true,
  },
  {
    // RFC 9000 §16 example: 7bbd = 15293.
    name: 'ACK with a 2-byte largest and a range down to 0',
    bytes: '02 7bbd 00 00 7bbd',
    frame: { type: 'ack', largestAcknowledged: 15293, ackDelay: 0, ranges: [{ largest: 15293, smallest: 0 }] },
    canonical: true,
  },
  {
    name: 'ACK with a range ending exactly at 0',
    bytes: '02 0a 00 01 00 00 08',
    frame: {
      type: 'ack',
      largestAcknowledged: 10,
      ackDelay: 0,
      ranges: [
        { largest: 10, smallest: 10 },
        { largest: 8, smallest: 0 },
      ],
    },
    canonical: true,
  },
  {
    name: 'ACK with non-minimal field varints',
    bytes: '02 400a 4003 4000 4002',
    frame: { type: 'ack', largestAcknowledged: 10, ackDelay: 3, ranges: [{ largest: 10, smallest: 8 }] },
    canonical: false,
  },
  {
    name: 'RESET_STREAM',
    bytes: '04 01 40ff 80004000',
    frame: { type: 'reset_stream', streamId: 1, errorCode: 255, finalSize: 16384 },
    canonical: true,
  },
  {
    name: 'RESET_STREAM with a 2^62-1 error code (exact bigint)',
    bytes: '04 00 ffffffffffffffff 00',
    frame: { type: 'reset_stream', streamId: 0, errorCode: (1n << 62n) - 1n, finalSize: 0 },
    canonical: true,
  },
  {
    name: 'STOP_SENDING',
    bytes: '05 04 0c',
    frame: { type: 'stop_sending', streamId: 4, errorCode: 12 },
    canonical: true,
  },
  {
    name: 'CRYPTO at offset 0',
    bytes: '06 00 03 aabbcc',
    frame: { type: 'crypto', offset: 0, data: hex('aabbcc') },
    canonical: true,
  },
  {
    name: 'CRYPTO at offset 256',
    bytes: '06 4100 02 0102',
    frame: { type: 'crypto', offset: 256, data: hex('0102') },
    canonical: true,
  },
  {
    name: 'NEW_TOKEN',
    bytes: '07 02 abcd',
    frame: { type: 'new_token', token: hex('abcd') },
    canonical: true,
  },
  {
    name: 'STREAM 0x08 (no OFF, no LEN, no FIN)',
    bytes: '08 04 aabb',
    frame: { type: 'stream', streamId: 4, offset: 0, fin: false, data: hex('aabb'), explicitLength: false },
    canonical: true,
  },
  {
    name: 'STREAM 0x09 (FIN)',
    bytes: '09 04 aabb',
    frame: { type: 'stream', streamId: 4, offset: 0, fin: true, data: hex('aabb'), explicitLength: false },
    canonical: true,
  },
  {
    name: 'STREAM 0x0a (LEN)',
    bytes: '0a 04 01 aa',
    frame: { type: 'stream', streamId: 4, offset: 0, fin: false, data: hex('aa'), explicitLength: true },
    canonical: true,
  },
  {
    name: 'STREAM 0x0b (LEN, FIN)',
    bytes: '0b 04 01 aa',
    frame: { type: 'stream', streamId: 4, offset: 0, fin: true, data: hex('aa'), explicitLength: true },
    canonical: true,
  },
  {
    name: 'STREAM 0x0c (OFF)',
    bytes: '0c 04 05 aabb',
    frame: { type: 'stream', streamId: 4, offset: 5, fin: false, data: hex('aabb'), explicitLength: false },
    canonical: true,
  },
  {
    name: 'STREAM 0x0d (OFF, FIN)',
    bytes: '0d 04 05 aabb',
    frame: { type: 'stream', streamId: 4, offset: 5, fin: true, data: hex('aabb'), explicitLength: false },
    canonical: true,
  },
  {
    name: 'STREAM 0x0e (OFF, LEN)',
    bytes: '0e 04 5000 02 aabb',
    frame: { type: 'stream', streamId: 4, offset: 0x1000, fin: false, data: hex('aabb'), explicitLength: true },
    canonical: true,
  },
  {
    name: 'STREAM 0x0f (OFF, LEN, FIN) with empty data',
    bytes: '0f 04 05 00',
    frame: { type: 'stream', streamId: 4, offset: 5, fin: true, data: hex(''), explicitLength: true },
    canonical: true,
  },
  {
    name: 'STREAM 0x0e with an explicit zero offset (legal, not what the encoder writes)',
    bytes: '0e 04 00 01 aa',
    frame: { type: 'stream', streamId: 4, offset: 0, fin: false, data: hex('aa'), explicitLength: true },
    canonical: false,
  },
  { name: 'MAX_DATA', bytes: '10 80010000', frame: { type: 'max_data', maximumData: 65536 }, canonical: true },
  {
    name: 'MAX_STREAM_DATA',
    bytes: '11 08 4400',
    frame: { type: 'max_stream_data', streamId: 8, maximumStreamData: 1024 },
    canonical: true,
  },
  {
    name: 'MAX_STREAMS bidi',
    bytes: '12 0a',
    frame: { type: 'max_streams', bidirectional: true, maximumStreams: 10 },
    canonical: true,
  },
  {
    name: 'MAX_STREAMS uni',
    bytes: '13 0a',
    frame: { type: 'max_streams', bidirectional: false, maximumStreams: 10 },
    canonical: true,
  },
  {
    name: 'MAX_STREAMS of exactly 2^60 (allowed, saturated)',
    bytes: '12 d000000000000000',
    frame: { type: 'max_streams', bidirectional: true, maximumStreams: MAX_SAFE },
    canonical: false,
  },
  { name: 'DATA_BLOCKED', bytes: '14 3f', frame: { type: 'data_blocked', limit: 63 }, canonical: true },
  {
    name: 'STREAM_DATA_BLOCKED',
    bytes: '15 02 4040',
    frame: { type: 'stream_data_blocked', streamId: 2, limit: 64 },
    canonical: true,
  },
  {
    name: 'STREAMS_BLOCKED bidi',
    bytes: '16 01',
    frame: { type: 'streams_blocked', bidirectional: true, limit: 1 },
    canonical: true,
  },
  {
    name: 'STREAMS_BLOCKED uni',
    bytes: '17 02',
    frame: { type: 'streams_blocked', bidirectional: false, limit: 2 },
    canonical: true,
  },
  {
    name: 'NEW_CONNECTION_ID',
    bytes: `18 02 01 04 01020304 ${TOKEN16}`,
    frame: {
      type: 'new_connection_id',
      sequenceNumber: 2,
      retirePriorTo: 1,
      connectionId: hex('01020304'),
      statelessResetToken: hex(TOKEN16),
    },
    canonical: true,
  },
  {
    name: 'NEW_CONNECTION_ID with a 20-byte CID and Retire Prior To = Sequence Number',
    bytes: `18 07 07 14 ${'ab'.repeat(20)} ${TOKEN16}`,
    frame: {
      type: 'new_connection_id',
      sequenceNumber: 7,
      retirePriorTo: 7,
      connectionId: hex('ab'.repeat(20)),
      statelessResetToken: hex(TOKEN16),
    },
    canonical: true,
  },
  {
    name: 'RETIRE_CONNECTION_ID',
    bytes: '19 05',
    frame: { type: 'retire_connection_id', sequenceNumber: 5 },
    canonical: true,
  },
  {
    name: 'PATH_CHALLENGE',
    bytes: '1a 0102030405060708',
    frame: { type: 'path_challenge', data: hex('0102030405060708') },
    canonical: true,
  },
  {
    name: 'PATH_RESPONSE',
    bytes: '1b 0102030405060708',
    frame: { type: 'path_response', data: hex('0102030405060708') },
    canonical: true,
  },
  {
    name: 'CONNECTION_CLOSE transport (PROTOCOL_VIOLATION in a STREAM frame)',
    bytes: '1c 0a 08 03 616263',
    frame: { type: 'connection_close', application: false, errorCode: 10, frameType: 8, reason: ascii('abc') },
    canonical: true,
  },
  {
    name: 'CONNECTION_CLOSE transport with CRYPTO_ERROR 0x128',
    bytes: '1c 4128 06 00',
    frame: { type: 'connection_close', application: false, errorCode: 0x128, frameType: 6, reason: hex('') },
    canonical: true,
  },
  {
    name: 'CONNECTION_CLOSE application',
    bytes: '1d 40ff 02 6869',
    frame: { type: 'connection_close', application: true, errorCode: 255, frameType: 0, reason: ascii('hi') },
    canonical: true,
  },
  { name: 'HANDSHAKE_DONE', bytes: '1e', frame: { type: 'handshake_done' }, canonical: true },
  {
    name: 'DATAGRAM 0x30 (no length)',
    bytes: '30 aabbcc',
    frame: { type: 'datagram', data: hex('aabbcc'), explicitLength: false },
    canonical: true,
  },
  {
    name: 'DATAGRAM 0x31 (length)',
    bytes: '31 02 aabb',
    frame: { type: 'datagram', data: hex('aabb'), explicitLength: true },
    canonical: true,
  },
  {
    name: 'PATH_ACK',
    bytes: '3e 01 0a 03 01 02 00 01',
    frame: {
      type: 'path_ack',
      pathId: 1,
      largestAcknowledged: 10,
      ackDelay: 3,
      ranges: [
        { largest: 10, smallest: 8 },
        { largest: 6, smallest: 5 },
      ],
    },
    canonical: true,
  },
  {
    name: 'PATH_ACK_ECN',
    bytes: '3f 02 05 00 00 01 07 08 09',
    frame: {
      type: 'path_ack',
      pathId: 2,
      largestAcknowledged: 5,
      ackDelay: 0,
      ranges: [{ largest: 5, smallest: 4 }],
      ecn: { ect0: 7, ect1: 8, ce: 9 },
    },
    canonical: true,
  },
  {
    // 0x3e75 as a 2-byte varint: 0x40 | 0x3e, 0x75.
    name: 'PATH_ABANDON (APPLICATION_ABANDON_PATH 0x3e)',
    bytes: '7e75 02 3e',
    frame: { type: 'path_abandon', pathId: 2, errorCode: 0x3e },
    canonical: true,
  },
  {
    name: 'PATH_STATUS_BACKUP',
    bytes: '7e76 01 05',
    frame: { type: 'path_status_backup', pathId: 1, sequenceNumber: 5 },
    canonical: true,
  },
  {
    name: 'PATH_STATUS_AVAILABLE',
    bytes: '7e77 01 06',
    frame: { type: 'path_status_available', pathId: 1, sequenceNumber: 6 },
    canonical: true,
  },
  {
    name: 'PATH_NEW_CONNECTION_ID',
    bytes: `7e78 03 01 00 08 1112131415161718 ${TOKEN16}`,
    frame: {
      type: 'path_new_connection_id',
      pathId: 3,
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: hex('1112131415161718'),
      statelessResetToken: hex(TOKEN16),
    },
    canonical: true,
  },
  {
    name: 'PATH_RETIRE_CONNECTION_ID',
    bytes: '7e79 03 02',
    frame: { type: 'path_retire_connection_id', pathId: 3, sequenceNumber: 2 },
    canonical: true,
  },
  { name: 'MAX_PATH_ID', bytes: '7e7a 04', frame: { type: 'max_path_id', maximumPathId: 4 }, canonical: true },
  { name: 'PATHS_BLOCKED', bytes: '7e7b 04', frame: { type: 'paths_blocked', maximumPathId: 4 }, canonical: true },
  {
    name: 'PATH_CIDS_BLOCKED',
    bytes: '7e7c 02 07',
    frame: { type: 'path_cids_blocked', pathId: 2, nextSequenceNumber: 7 },
    canonical: true,
  },
];

describe('frame vectors (RFC 9000 §19, RFC 9221 §4, multipath draft-21)', () => {
  for (const { name, bytes, frame, canonical } of VECTORS) {
    it(`decodes ${name}`, () => {
      expect(decodeOne(bytes)).toStrictEqual(frame);
    });
    if (canonical) {
      it(`encodes ${name}`, () => {
        expect(encode(frame)).toBe(toHex(hex(bytes)));
        expect(encodedFrameLength(frame)).toBe(hex(bytes).length);
      });
    }
  }

  it('covers every frame kind', () => {
    const kinds = new Set(VECTORS.map((v) => v.frame.type));
    expect([...kinds].sort()).toEqual(Object.keys(FRAME_FLAGS).sort());
  });

  it('returns data as views of the payload, not copies', () => {
    const payload = hex('0a 04 02 aabb 31 01 cc');
    const frames = parseFrames(payload);
    const stream = frames[0]!;
    const datagram = frames[1]!;
    if (stream.type !== 'stream' || datagram.type !== 'datagram') throw new Error('unexpected frames');
    expect(stream.data.buffer).toBe(payload.buffer);
    expect(stream.data.byteOffset).toBe(3);
    payload[3] = 0x11;
    expect(stream.data[0]).toBe(0x11);
    expect(datagram.data.byteOffset).toBe(7);
  });

  it('defaults explicitLength to true when encoding', () => {
    expect(encode({ type: 'stream', streamId: 1, offset: 0, fin: false, data: hex('ff') })).toBe('0a0101ff');
    expect(encode({ type: 'datagram', data: hex('ff') })).toBe('3101ff');
  });

  it('ignores frameType for an application CONNECTION_CLOSE', () => {
    expect(encode({ type: 'connection_close', application: true, errorCode: 1, frameType: 8, reason: hex('') })).toBe(
      '1d0100',
    );
  });
});

describe('PADDING folding', () => {
  it('folds consecutive PADDING bytes and stops at the next frame', () => {
    expect(parseFrames(hex('0000 01 000000 1e 00'))).toStrictEqual([
      { type: 'padding', length: 2 },
      { type: 'ping' },
      { type: 'padding', length: 3 },
      { type: 'handshake_done' },
      { type: 'padding', length: 1 },
    ]);
  });

  it('folds a packet-sized run into one frame', () => {
    expect(parseFrames(new Uint8Array(1200))).toStrictEqual([{ type: 'padding', length: 1200 }]);
  });

  it('respects the reader end', () => {
    const reader = new Reader(hex('000000 01'), 0, 2);
    expect(decodeFrame(reader)).toStrictEqual({ type: 'padding', length: 2 });
    expect(reader.offset).toBe(2);
  });

  it('encodes PADDING as zero bytes', () => {
    expect(encode({ type: 'padding', length: 5 })).toBe('0000000000');
  });
});

describe('frames that run to the end of the packet', () => {
  it('STREAM without LEN and DATAGRAM 0x30 take everything left', () => {
    expect(parseFrames(hex('01 08 00 0102 0304'))).toStrictEqual([
      { type: 'ping' },
      { type: 'stream', streamId: 0, offset: 0, fin: false, data: hex('01020304'), explicitLength: false },
    ]);
    expect(parseFrames(hex('01 30'))).toStrictEqual([
      { type: 'ping' },
      { type: 'datagram', data: hex(''), explicitLength: false },
    ]);
  });

  it('honour a Length field and continue with the next frame', () => {
    expect(parseFrames(hex('0e 04 05 02 aabb 01 31 01 cc 1e'))).toStrictEqual([
      { type: 'stream', streamId: 4, offset: 5, fin: false, data: hex('aabb'), explicitLength: true },
      { type: 'ping' },
      { type: 'datagram', data: hex('cc'), explicitLength: true },
      { type: 'handshake_done' },
    ]);
  });

  it('stop at the reader end rather than the buffer end', () => {
    const reader = new Reader(hex('08 04 aabb ccdd'), 0, 4);
    expect(decodeFrame(reader)).toStrictEqual({
      type: 'stream',
      streamId: 4,
      offset: 0,
      fin: false,
      data: hex('aabb'),
      explicitLength: false,
    });
  });
});

describe('large values', () => {
  it('saturates stream IDs above 2^53-1 keeping the two type bits', () => {
    expect(STREAM_ID_SATURATED_BASE % 4).toBe(0);
    // 2^53 + 3 (server-initiated unidirectional)
    const a = decodeOne('08 c020000000000003');
    expect(a.type === 'stream' && a.streamId).toBe(STREAM_ID_SATURATED_BASE + 3);
    // 2^62 - 2 (client-initiated unidirectional)
    const b = decodeOne('05 fffffffffffffffe 00');
    expect(b).toStrictEqual({ type: 'stop_sending', streamId: STREAM_ID_SATURATED_BASE + 2, errorCode: 0 });
    // 2^62 - 4 (client-initiated bidirectional)
    const c = decodeOne('11 fffffffffffffffc 00');
    expect(c).toStrictEqual({ type: 'max_stream_data', streamId: STREAM_ID_SATURATED_BASE, maximumStreamData: 0 });
    // 2^53 - 1 is still exact.
    const d = decodeOne('04 c01fffffffffffff 00 00');
    expect(d.type === 'reset_stream' && d.streamId).toBe(MAX_SAFE);
  });

  it('saturates limits and offsets, keeps error codes exact', () => {
    expect(decodeOne('10 ffffffffffffffff')).toStrictEqual({ type: 'max_data', maximumData: MAX_SAFE });
    expect(decodeOne('1c c020000000000000 c020000000000001 00')).toStrictEqual({
      type: 'connection_close',
      application: false,
      errorCode: 1n << 53n,
      frameType: (1n << 53n) + 1n,
      reason: hex(''),
    });
    expect(decodeOne('7e75 00 c01fffffffffffff')).toStrictEqual({
      type: 'path_abandon',
      pathId: 0,
      errorCode: MAX_SAFE,
    });
  });

  it('encodes exact bigint error codes and frame types', () => {
    expect(
      encode({
        type: 'connection_close',
        application: false,
        errorCode: (1n << 62n) - 1n,
        frameType: 1n << 53n,
        reason: hex(''),
      }),
    ).toBe('1cffffffffffffffffc02000000000000000');
    expect(encode({ type: 'stop_sending', streamId: 0, errorCode: 5n })).toBe('050005');
  });

  it('validates ACK ranges exactly when Largest Acknowledged exceeds 2^53-1', () => {
    // Largest 2^53, First ACK Range 2^53: smallest 0, valid.
    expect(decodeOne('02 c020000000000000 00 00 c020000000000000')).toStrictEqual({
      type: 'ack',
      largestAcknowledged: MAX_SAFE,
      ackDelay: 0,
      ranges: [{ largest: MAX_SAFE, smallest: 0 }],
    });
    // First ACK Range 2^53 + 1 goes to -1.
    expectParseError('02 c020000000000000 00 00 c020000000000001', FRAME_ENCODING_ERROR, 0x02);
    // Largest 2^53+10, first range 0, gap 2^53 => next largest 8, length 8 => 8..0.
    expect(decodeOne('02 c02000000000000a 00 01 00 c020000000000000 08')).toStrictEqual({
      type: 'ack',
      largestAcknowledged: MAX_SAFE,
      ackDelay: 0,
      ranges: [
        { largest: MAX_SAFE, smallest: MAX_SAFE },
        { largest: 8, smallest: 0 },
      ],
    });
    expectParseError('02 c02000000000000a 00 01 00 c020000000000000 09', FRAME_ENCODING_ERROR, 0x02);
  });

  it('validates ACK ranges exactly at Largest Acknowledged = 2^53-1', () => {
    expect(decodeOne('02 c01fffffffffffff 00 00 c01fffffffffffff')).toStrictEqual({
      type: 'ack',
      largestAcknowledged: MAX_SAFE,
      ackDelay: 0,
      ranges: [{ largest: MAX_SAFE, smallest: 0 }],
    });
    // A First ACK Range of 2^53 must not be mistaken for 2^53-1 by saturation.
    expectParseError('02 c01fffffffffffff 00 00 c020000000000000', FRAME_ENCODING_ERROR, 0x02);
    expectParseError('02 c01fffffffffffff 00 01 00 c020000000000000 00', FRAME_ENCODING_ERROR, 0x02);
  });
});

describe('decoding errors', () => {
  it('unknown frame types are FRAME_ENCODING_ERROR with the type', () => {
    expectParseError('1f', FRAME_ENCODING_ERROR, 0x1f);
    expectParseError('20', FRAME_ENCODING_ERROR, 0x20);
    expectParseError('32', FRAME_ENCODING_ERROR, 0x32);
    expectParseError('3d', FRAME_ENCODING_ERROR, 0x3d);
    expectParseError('7e74 00', FRAME_ENCODING_ERROR, 0x3e74);
    expectParseError('7e7d 00', FRAME_ENCODING_ERROR, 0x3e7d);
    // The multipath draft's experimental PATH_ACK codepoint is not accepted (draft-21 codepoints only).
    expectParseError('95228c00', FRAME_ENCODING_ERROR, 0x15228c00);
    expectParseError('ffffffffffffffff', FRAME_ENCODING_ERROR, (1n << 62n) - 1n);
    // Unknown and non-minimal: the MUST (unknown) wins.
    expectParseError('401f', FRAME_ENCODING_ERROR, 0x1f);
  });

  it('non-minimal encodings of known frame types are PROTOCOL_VIOLATION', () => {
    expectParseError('4001', PROTOCOL_VIOLATION, 0x01);
    expectParseError('4000', PROTOCOL_VIOLATION, 0x00);
    expectParseError('80000001', PROTOCOL_VIOLATION, 0x01);
    expectParseError('c00000000000001e', PROTOCOL_VIOLATION, 0x1e);
    expectParseError('40 3e 00 00 00 00', PROTOCOL_VIOLATION, 0x3e);
    expectParseError('80003e75 00 00', PROTOCOL_VIOLATION, 0x3e75);
    // The error comes after a valid frame too.
    expectParseError('01 4001', PROTOCOL_VIOLATION, 0x01);
  });

  it('a truncated frame type is FRAME_ENCODING_ERROR', () => {
    expectParseError('7e', FRAME_ENCODING_ERROR, undefined);
    expectParseError('01 80 0000', FRAME_ENCODING_ERROR, undefined);
  });

  it('decodeFrame at the end of the input is FRAME_ENCODING_ERROR', () => {
    const error = codecError(() => decodeFrame(new Reader(new Uint8Array(0))));
    expect(error.code).toBe(FRAME_ENCODING_ERROR);
  });

  it('truncation anywhere is FRAME_ENCODING_ERROR carrying the frame type', () => {
    expectParseError('02 0a 03 01 02 00', FRAME_ENCODING_ERROR, 0x02);
    expectParseError('03 0a 03 00 00 01 02', FRAME_ENCODING_ERROR, 0x03);
    expectParseError('04 01 40', FRAME_ENCODING_ERROR, 0x04);
    expectParseError('06 00 04 aabbcc', FRAME_ENCODING_ERROR, 0x06);
    expectParseError('07 03 abcd', FRAME_ENCODING_ERROR, 0x07);
    expectParseError('0a 04 05 aa', FRAME_ENCODING_ERROR, 0x0a);
    expectParseError('0e 04', FRAME_ENCODING_ERROR, 0x0e);
    expectParseError('18 02 01 04 01020304 0001', FRAME_ENCODING_ERROR, 0x18);
    expectParseError('1a 01020304050607', FRAME_ENCODING_ERROR, 0x1a);
    expectParseError('1c 0a 08 03 6162', FRAME_ENCODING_ERROR, 0x1c);
    expectParseError('1d 0a', FRAME_ENCODING_ERROR, 0x1d);
    expectParseError('31 05 aabb', FRAME_ENCODING_ERROR, 0x31);
    expectParseError('3e 01 0a', FRAME_ENCODING_ERROR, 0x3e);
    expectParseError('7e78 03 01 00 08 1112', FRAME_ENCODING_ERROR, 0x3e78);
    expectParseError('7e7c 02', FRAME_ENCODING_ERROR, 0x3e7c);
  });

  it('rejects an ACK Range Count the frame cannot hold before looping over it', () => {
    expectParseError('02 0a 00 bfffffff 00', FRAME_ENCODING_ERROR, 0x02);
    expectParseError('02 0a 00 ffffffffffffffff 00 00 00', FRAME_ENCODING_ERROR, 0x02);
  });

  it('ACK ranges below packet number 0 are FRAME_ENCODING_ERROR (RFC 9000 §19.3.1)', () => {
    // First ACK Range 6 > Largest 5.
    expectParseError('02 05 00 00 06', FRAME_ENCODING_ERROR, 0x02);
    // Smallest 1, gap 0 => next largest 1 - 0 - 2 = -1.
    expectParseError('02 05 00 01 04 00 00', FRAME_ENCODING_ERROR, 0x02);
    // Smallest 10, gap 0 => largest 8, range length 9 => -1.
    expectParseError('02 0a 00 01 00 00 09', FRAME_ENCODING_ERROR, 0x02);
    // Same checks on PATH_ACK, and on the ECN form.
    expectParseError('3e 00 05 00 00 06', FRAME_ENCODING_ERROR, 0x3e);
    expectParseError('3f 00 0a 00 01 00 00 09 00 00 00', FRAME_ENCODING_ERROR, 0x3f);
  });

  it('NEW_TOKEN with an empty token is FRAME_ENCODING_ERROR (RFC 9000 §19.7)', () => {
    expectParseError('07 00', FRAME_ENCODING_ERROR, 0x07);
  });

  it('NEW_CONNECTION_ID length outside 1..20 is FRAME_ENCODING_ERROR (RFC 9000 §19.15)', () => {
    expectParseError(`18 01 00 00 ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x18);
    expectParseError(`18 01 00 15 ${'ab'.repeat(21)} ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x18);
    expectParseError(`18 01 00 ff ${'ab'.repeat(255)} ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x18);
    expectParseError(`7e78 01 01 00 00 ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x3e78);
    expectParseError(`7e78 01 01 00 15 ${'ab'.repeat(21)} ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x3e78);
  });

  it('Retire Prior To above Sequence Number is FRAME_ENCODING_ERROR (RFC 9000 §19.15)', () => {
    expectParseError(`18 01 02 04 01020304 ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x18);
    expectParseError(`7e78 00 01 02 04 01020304 ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x3e78);
    // Compared exactly above 2^53: 2^53 vs 2^53 + 1.
    expectParseError(`18 c020000000000000 c020000000000001 04 01020304 ${TOKEN16}`, FRAME_ENCODING_ERROR, 0x18);
    expect(decodeOne(`18 c020000000000001 c020000000000000 04 01020304 ${TOKEN16}`)).toMatchObject({
      sequenceNumber: MAX_SAFE,
      retirePriorTo: MAX_SAFE,
    });
  });

  it('MAX_STREAMS / STREAMS_BLOCKED above 2^60 are FRAME_ENCODING_ERROR (RFC 9000 §19.11, §19.14)', () => {
    expectParseError('12 d000000000000001', FRAME_ENCODING_ERROR, 0x12);
    expectParseError('13 ffffffffffffffff', FRAME_ENCODING_ERROR, 0x13);
    expectParseError('16 d000000000000001', FRAME_ENCODING_ERROR, 0x16);
    expectParseError('17 d000000000000001', FRAME_ENCODING_ERROR, 0x17);
    expect(decodeOne('17 d000000000000000')).toStrictEqual({
      type: 'streams_blocked',
      bidirectional: false,
      limit: MAX_SAFE,
    });
  });

  it('STREAM offset + length above 2^62-1 is FRAME_ENCODING_ERROR (RFC 9000 §19.8)', () => {
    // Offset 2^62-1 with one byte of data.
    expectParseError('0e 00 ffffffffffffffff 01 aa', FRAME_ENCODING_ERROR, 0x0e);
    expectParseError('0c 00 ffffffffffffffff aa', FRAME_ENCODING_ERROR, 0x0c);
    // Offset 2^62-3 with 3 bytes: 2^62, one past the limit.
    expectParseError('0f 00 fffffffffffffffd 03 aabbcc', FRAME_ENCODING_ERROR, 0x0f);
    // Exactly 2^62-1 is fine: offset 2^62-2 + 1 byte, or offset 2^62-1 + 0 bytes.
    expect(decodeOne('0e 00 fffffffffffffffe 01 aa')).toMatchObject({ offset: MAX_SAFE, data: hex('aa') });
    expect(decodeOne('0d 00 ffffffffffffffff')).toMatchObject({ offset: MAX_SAFE, fin: true, data: hex('') });
  });

  it('CRYPTO offset + length above 2^62-1 is FRAME_ENCODING_ERROR (RFC 9000 §19.6)', () => {
    expectParseError('06 ffffffffffffffff 01 aa', FRAME_ENCODING_ERROR, 0x06);
    expectParseError('06 fffffffffffffffe 02 aabb', FRAME_ENCODING_ERROR, 0x06);
    expect(decodeOne('06 fffffffffffffffe 01 aa')).toStrictEqual({ type: 'crypto', offset: MAX_SAFE, data: hex('aa') });
  });

  it('leaves reader.frameType unset after a successful decode', () => {
    const reader = new Reader(hex('0a 04 01 aa'));
    decodeFrame(reader);
    expect(reader.frameType).toBeUndefined();
  });
});

describe('encoder validation (QuicEncodeError, nothing written)', () => {
  const invalid: Array<[string, Frame]> = [
    ['7-byte PATH_CHALLENGE', { type: 'path_challenge', data: new Uint8Array(7) }],
    ['9-byte PATH_RESPONSE', { type: 'path_response', data: new Uint8Array(9) }],
    ['empty NEW_TOKEN', { type: 'new_token', token: new Uint8Array(0) }],
    ['PADDING of length 0', { type: 'padding', length: 0 }],
    ['PADDING of length 1.5', { type: 'padding', length: 1.5 }],
    [
      'zero-length CID',
      {
        type: 'new_connection_id',
        sequenceNumber: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(0),
        statelessResetToken: new Uint8Array(16),
      },
    ],
    [
      '21-byte CID',
      {
        type: 'path_new_connection_id',
        pathId: 1,
        sequenceNumber: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(21),
        statelessResetToken: new Uint8Array(16),
      },
    ],
    [
      '15-byte reset token',
      {
        type: 'new_connection_id',
        sequenceNumber: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(8),
        statelessResetToken: new Uint8Array(15),
      },
    ],
    [
      'Retire Prior To above Sequence Number',
      {
        type: 'new_connection_id',
        sequenceNumber: 1,
        retirePriorTo: 2,
        connectionId: new Uint8Array(8),
        statelessResetToken: new Uint8Array(16),
      },
    ],
    ['ACK without ranges', { type: 'ack', largestAcknowledged: 1, ackDelay: 0, ranges: [] }],
    [
      'ACK whose first range does not start at largestAcknowledged',
      { type: 'ack', largestAcknowledged: 5, ackDelay: 0, ranges: [{ largest: 4, smallest: 0 }] },
    ],
    [
      'ACK with adjacent ranges (no gap)',
      {
        type: 'ack',
        largestAcknowledged: 10,
        ackDelay: 0,
        ranges: [
          { largest: 10, smallest: 8 },
          { largest: 7, smallest: 5 },
        ],
      },
    ],
    [
      'ACK with ascending ranges',
      {
        type: 'ack',
        largestAcknowledged: 3,
        ackDelay: 0,
        ranges: [
          { largest: 3, smallest: 2 },
          { largest: 9, smallest: 8 },
        ],
      },
    ],
    [
      'ACK range with smallest > largest',
      { type: 'ack', largestAcknowledged: 3, ackDelay: 0, ranges: [{ largest: 3, smallest: 4 }] },
    ],
    [
      'ACK range below 0',
      { type: 'path_ack', pathId: 0, largestAcknowledged: 3, ackDelay: 0, ranges: [{ largest: 3, smallest: -1 }] },
    ],
    [
      'negative ECN count',
      {
        type: 'ack',
        largestAcknowledged: 3,
        ackDelay: 0,
        ranges: [{ largest: 3, smallest: 3 }],
        ecn: { ect0: -1, ect1: 0, ce: 0 },
      },
    ],
    ['negative stream ID', { type: 'max_stream_data', streamId: -4, maximumStreamData: 0 }],
    ['fractional offset', { type: 'crypto', offset: 0.5, data: new Uint8Array(1) }],
    ['unsafe offset', { type: 'stream', streamId: 0, offset: 2 ** 60, fin: false, data: new Uint8Array(1) }],
    ['MAX_STREAMS of 2^60 as a number', { type: 'max_streams', bidirectional: true, maximumStreams: 2 ** 60 }],
    ['NaN limit', { type: 'data_blocked', limit: Number.NaN }],
    ['error code of 2^62', { type: 'reset_stream', streamId: 0, errorCode: 1n << 62n, finalSize: 0 }],
    ['negative bigint error code', { type: 'path_abandon', pathId: 0, errorCode: -1n }],
    [
      'frame type of 2^62',
      { type: 'connection_close', application: false, errorCode: 0, frameType: 1n << 62n, reason: new Uint8Array(0) },
    ],
    ['unknown kind', { type: 'bogus' } as unknown as Frame],
    ['data that is not bytes', { type: 'datagram', data: 'abc' } as unknown as Frame],
  ];

  for (const [name, frame] of invalid) {
    it(`rejects ${name}`, () => {
      const writer = new Writer(new Uint8Array(64));
      expect(() => encodeFrame(frame, writer)).toThrow(QuicEncodeError);
      expect(writer.offset).toBe(0);
      expect(() => encodedFrameLength(frame)).toThrow(QuicEncodeError);
    });
  }

  it('throws QuicEncodeError when a caller-owned buffer is too small, without writing', () => {
    const buffer = new Uint8Array(4).fill(0xee);
    const writer = new Writer(buffer, 1);
    expect(() => encodeFrame({ type: 'crypto', offset: 0, data: hex('aabbcc') }, writer)).toThrow(QuicEncodeError);
    expect(writer.offset).toBe(1);
    expect(toHex(buffer)).toBe('eeeeeeee');
  });

  it('appends at the writer cursor and grows an owned buffer', () => {
    const writer = new Writer(16);
    encodeFrame({ type: 'ping' }, writer);
    encodeFrame({ type: 'crypto', offset: 0, data: new Uint8Array(100).fill(7) }, writer);
    expect(writer.offset).toBe(1 + 1 + 1 + 2 + 100);
    expect(toHex(writer.bytes().subarray(0, 5))).toBe('0106004064');
  });
});

describe('frameTypeCode', () => {
  it('gives the wire type of each frame', () => {
    for (const { bytes, frame, canonical } of VECTORS) {
      if (!canonical) continue;
      const first = hex(bytes)[0]!;
      const expected = first < 0x40 ? first : ((first & 0x3f) << 8) | hex(bytes)[1]!;
      expect(frameTypeCode(frame)).toBe(expected);
    }
  });
});

describe('packet-builder helpers', () => {
  it('computes STREAM, CRYPTO and DATAGRAM overheads', () => {
    expect(streamFrameOverhead(4, 0, 10, true)).toBe(3);
    expect(streamFrameOverhead(4, 100, 10, true)).toBe(5);
    expect(streamFrameOverhead(4, 100, 10, false)).toBe(4);
    expect(streamFrameOverhead(16384, 1 << 30, 16384, true)).toBe(1 + 4 + 8 + 4);
    expect(streamFrameOverhead(0, 0, 0)).toBe(3);
    expect(cryptoFrameOverhead(0, 100)).toBe(4);
    expect(cryptoFrameOverhead(70000, 63)).toBe(1 + 4 + 1);
    expect(datagramFrameOverhead(1000)).toBe(3);
    expect(datagramFrameOverhead(1000, false)).toBe(1);
    expect(() => streamFrameOverhead(-1, 0, 0)).toThrow(QuicEncodeError);
  });

  it('overheads plus data equal encodedFrameLength', () => {
    for (const [streamId, offset, length] of [
      [0, 0, 0],
      [3, 63, 63],
      [7, 64, 64],
      [1 << 20, 1 << 30, 16384],
      [MAX_SAFE - 3, MAX_SAFE - 20000, 1500],
    ] as const) {
      const data = new Uint8Array(length);
      for (const explicitLength of [true, false]) {
        expect(encodedFrameLength({ type: 'stream', streamId, offset, fin: true, data, explicitLength })).toBe(
          streamFrameOverhead(streamId, offset, length, explicitLength) + length,
        );
      }
      expect(encodedFrameLength({ type: 'crypto', offset, data })).toBe(cryptoFrameOverhead(offset, length) + length);
    }
  });

  it('maxStreamDataLength / maxCryptoDataLength fill the space to the byte', () => {
    // Every size around the varint boundaries of the Length field (64, 16384, 2^30) and of the headers.
    const sizes: number[] = [];
    for (let n = 0; n <= 200; n++) sizes.push(n, 16_300 + n, 2 ** 30 - 100 + n);
    for (const available of sizes) {
      for (const [streamId, offset] of [
        [0, 0],
        [4, 1_000_000],
      ] as const) {
        for (const explicitLength of [true, false]) {
          const n = maxStreamDataLength(streamId, offset, available, explicitLength);
          const size = (k: number) => streamFrameOverhead(streamId, offset, k, explicitLength) + k;
          if (n < 0) {
            expect(size(0)).toBeGreaterThan(available);
          } else {
            expect(size(n)).toBeLessThanOrEqual(available);
            expect(size(n + 1)).toBeGreaterThan(available);
          }
        }
      }
      const c = maxCryptoDataLength(300, available);
      if (c < 0) expect(cryptoFrameOverhead(300, 0)).toBeGreaterThan(available);
      else {
        expect(cryptoFrameOverhead(300, c) + c).toBeLessThanOrEqual(available);
        expect(cryptoFrameOverhead(300, c + 1) + c + 1).toBeGreaterThan(available);
      }
    }
  });

  it('rejects a bad available size', () => {
    expect(() => maxStreamDataLength(0, 0, -1)).toThrow(QuicEncodeError);
    expect(() => maxCryptoDataLength(0, Number.NaN)).toThrow(QuicEncodeError);
  });
});

describe('RFC 9000 §12.4 Table 3 and extensions', () => {
  // Written from Table 3 (I = Initial, 0 = 0-RTT, H = Handshake, 1 = 1-RTT), RFC 9000 §12.5 for
  // RETIRE_CONNECTION_ID in 0-RTT, RFC 9221 §4 for DATAGRAM and the multipath draft (1-RTT only).
  const TABLE: Record<FrameKind, string> = {
    padding: 'I0H1',
    ping: 'I0H1',
    ack: 'I_H1',
    reset_stream: '_0_1',
    stop_sending: '_0_1',
    crypto: 'I_H1',
    new_token: '___1',
    stream: '_0_1',
    max_data: '_0_1',
    max_stream_data: '_0_1',
    max_streams: '_0_1',
    data_blocked: '_0_1',
    stream_data_blocked: '_0_1',
    streams_blocked: '_0_1',
    new_connection_id: '_0_1',
    retire_connection_id: '___1',
    path_challenge: '_0_1',
    path_response: '___1',
    connection_close: 'I0H1',
    handshake_done: '___1',
    datagram: '_0_1',
    path_ack: '___1',
    path_abandon: '___1',
    path_status_backup: '___1',
    path_status_available: '___1',
    path_new_connection_id: '___1',
    path_retire_connection_id: '___1',
    max_path_id: '___1',
    paths_blocked: '___1',
    path_cids_blocked: '___1',
  };
  const PACKET_TYPES: ProtectedPacketType[] = ['initial', '0rtt', 'handshake', '1rtt'];

  it('matches the matrix for every frame kind and packet type', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(FRAME_FLAGS).sort());
    for (const [kind, columns] of Object.entries(TABLE) as Array<[FrameKind, string]>) {
      PACKET_TYPES.forEach((packetType, i) => {
        expect(frameAllowedIn(kind, packetType), `${kind} in ${packetType}`).toBe(columns[i] !== '_');
      });
    }
  });

  const frameOf = (bytes: string): Frame => decodeOne(bytes);
  const vectorOf = (kind: FrameKind): Frame => VECTORS.find((v) => v.frame.type === kind)!.frame;

  it('allows CONNECTION_CLOSE 0x1d only in 0-RTT/1-RTT', () => {
    const transport = frameOf('1c 00 00 00');
    const application = frameOf('1d 00 00');
    for (const packetType of PACKET_TYPES) {
      expect(frameAllowedInPacket(transport, packetType)).toBe(true);
      expect(frameAllowedInPacket(application, packetType)).toBe(packetType === '0rtt' || packetType === '1rtt');
    }
    const error = codecError(() => validatePacketFrames([application], 'handshake'));
    expect(error.code).toBe(PROTOCOL_VIOLATION);
    expect(error.frameType).toBe(0x1d);
    expect(validatePacketFrames([transport], 'initial')).toBe(PacketFrameSummary.NON_PROBING);
  });

  it('frameAllowedInPacket agrees with the table for every vector', () => {
    for (const { frame } of VECTORS) {
      PACKET_TYPES.forEach((packetType, i) => {
        const expected =
          TABLE[frame.type][i] !== '_' &&
          !(frame.type === 'connection_close' && frame.application && (packetType === 'initial' || packetType === 'handshake'));
        expect(frameAllowedInPacket(frame, packetType)).toBe(expected);
      });
    }
  });

  it('ack-eliciting: everything but ACK, PATH_ACK, PADDING and CONNECTION_CLOSE (RFC 9002 §2)', () => {
    const notEliciting = new Set<FrameKind>(['ack', 'path_ack', 'padding', 'connection_close']);
    for (const kind of Object.keys(TABLE) as FrameKind[]) {
      expect(isAckEliciting(vectorOf(kind)), kind).toBe(!notEliciting.has(kind));
    }
  });

  it('in flight: ack-eliciting frames and PADDING (RFC 9002 §2)', () => {
    const notInFlight = new Set<FrameKind>(['ack', 'path_ack', 'connection_close']);
    for (const kind of Object.keys(TABLE) as FrameKind[]) {
      expect(countsInFlight(vectorOf(kind)), kind).toBe(!notInFlight.has(kind));
    }
  });

  it('probing frames: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID, PADDING (RFC 9000 §9.1)', () => {
    const probing = new Set<FrameKind>(['path_challenge', 'path_response', 'new_connection_id', 'padding']);
    for (const kind of Object.keys(TABLE) as FrameKind[]) {
      expect(isProbingFrame(vectorOf(kind)), kind).toBe(probing.has(kind));
    }
  });

  it('validatePacketFrames rejects an empty packet with PROTOCOL_VIOLATION', () => {
    const error = codecError(() => validatePacketFrames([], '1rtt'));
    expect(error.code).toBe(PROTOCOL_VIOLATION);
    expect(error.frameType).toBeUndefined();
  });

  it('validatePacketFrames rejects forbidden frames with their wire type', () => {
    const cases: Array<[string, ProtectedPacketType, number]> = [
      ['0b 04 01 aa', 'initial', 0x0b],
      ['0a 04 01 aa', 'handshake', 0x0a],
      ['02 00 00 00 00', '0rtt', 0x02],
      ['06 00 01 aa', '0rtt', 0x06],
      ['1e', 'handshake', 0x1e],
      ['1b 0102030405060708', '0rtt', 0x1b],
      ['19 00', '0rtt', 0x19],
      ['31 00', 'initial', 0x31],
      ['3e 00 00 00 00 00', '0rtt', 0x3e],
      ['7e7a 01', 'handshake', 0x3e7a],
    ];
    for (const [bytes, packetType, frameType] of cases) {
      const frames = parseFrames(hex(`00 ${bytes}`));
      const error = codecError(() => validatePacketFrames(frames, packetType));
      expect(error.code).toBe(PROTOCOL_VIOLATION);
      expect(error.frameType).toBe(frameType);
    }
  });

  it('validatePacketFrames summarises the packet', () => {
    const { ACK_ELICITING, IN_FLIGHT, NON_PROBING } = PacketFrameSummary;
    expect(validatePacketFrames(parseFrames(hex('02 00 00 00 00')), 'initial')).toBe(NON_PROBING);
    expect(validatePacketFrames(parseFrames(hex('02 00 00 00 00 0000')), 'handshake')).toBe(IN_FLIGHT | NON_PROBING);
    expect(validatePacketFrames(parseFrames(hex('06 00 01 aa 00')), 'initial')).toBe(
      ACK_ELICITING | IN_FLIGHT | NON_PROBING,
    );
    expect(validatePacketFrames(parseFrames(hex('1a 0102030405060708 000000')), '1rtt')).toBe(
      ACK_ELICITING | IN_FLIGHT,
    );
    expect(validatePacketFrames(parseFrames(hex('00')), '0rtt')).toBe(IN_FLIGHT);
  });

  it('uses the codepoints of the spec', () => {
    expect(FrameType.NEW_CONNECTION_ID).toBe(0x18);
    expect(FrameType.PATH_ACK).toBe(0x3e);
    expect(FrameType.PATH_CIDS_BLOCKED).toBe(0x3e7c);
  });
});
