import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Writer } from '../src/buffer.js';
import { QuicCodecError, TransportErrorCode } from '../src/errors.js';
import {
  encodeFrame,
  encodedFrameLength,
  frameTypeCode,
  parseFrames,
  validatePacketFrames,
} from '../src/frames/index.js';
import type { AckRange, EcnCounts, Frame, FrameKind, ProtectedPacketType } from '../src/frames/index.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: values that hit every varint size and its boundaries.

const safeNat: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 64, max: 16383 }),
  fc.integer({ min: 16384, max: 2 ** 30 - 1 }),
  fc.integer({ min: 2 ** 30, max: MAX_SAFE }),
  fc.constantFrom(0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, MAX_SAFE),
);

/** Exact error code / frame type: a number up to 2^53-1, a bigint above (what the decoder returns). */
const exactCode: fc.Arbitrary<number | bigint> = fc.oneof(
  safeNat,
  fc.bigInt({ min: 1n << 53n, max: (1n << 62n) - 1n }),
);

const bytes = (maxLength: number, minLength = 0): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength, maxLength });

const smallOrAny: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 0, max: 8 }), safeNat);

const ecnCounts: fc.Arbitrary<EcnCounts | undefined> = fc.option(
  // Plain objects, like the decoder's (fc.record builds null-prototype ones, which toStrictEqual tells apart).
  fc.tuple(safeNat, safeNat, safeNat).map(([ect0, ect1, ce]) => ({ ect0, ect1, ce })),
  { nil: undefined },
);

/** Valid descending ranges, built by walking down from `largest` and stopping before packet number 0. */
const ackFields = fc
  .record({
    largest: safeNat,
    ackDelay: safeNat,
    first: smallOrAny,
    steps: fc.array(fc.tuple(smallOrAny, smallOrAny), { maxLength: 40 }),
    ecn: ecnCounts,
  })
  .map(({ largest, ackDelay, first, steps, ecn }) => {
    let smallest = largest - (first % (largest + 1));
    const ranges: AckRange[] = [{ largest, smallest }];
    for (const [gapSeed, lengthSeed] of steps) {
      if (smallest < 2) break;
      const next = smallest - (gapSeed % (smallest - 1)) - 2;
      smallest = next - (lengthSeed % (next + 1));
      ranges.push({ largest: next, smallest });
    }
    return { largestAcknowledged: largest, ackDelay, ranges, ecn };
  });

const newConnectionIdFields = fc
  .record({
    sequenceNumber: safeNat,
    retireSeed: safeNat,
    connectionId: bytes(20, 1),
    statelessResetToken: bytes(16, 16),
  })
  .map(({ sequenceNumber, retireSeed, connectionId, statelessResetToken }) => ({
    sequenceNumber,
    retirePriorTo: retireSeed % (sequenceNumber + 1),
    connectionId,
    statelessResetToken,
  }));

function withEcn<T extends { ecn: EcnCounts | undefined }>(fields: T): Omit<T, 'ecn'> & { ecn?: EcnCounts } {
  const { ecn, ...rest } = fields;
  return ecn === undefined ? rest : { ...rest, ecn };
}

/** One arbitrary per frame kind, producing exactly the shape the decoder returns. */
const frameArbitraries: Record<FrameKind, fc.Arbitrary<Frame>> = {
  padding: fc.integer({ min: 1, max: 1500 }).map((length) => ({ type: 'padding', length })),
  ping: fc.constant({ type: 'ping' }),
  ack: ackFields.map((f) => ({ type: 'ack', ...withEcn(f) })),
  reset_stream: fc
    .record({ streamId: safeNat, errorCode: exactCode, finalSize: safeNat })
    .map((f) => ({ type: 'reset_stream', ...f })),
  stop_sending: fc
    .record({ streamId: safeNat, errorCode: exactCode })
    .map((f) => ({ type: 'stop_sending', ...f })),
  crypto: fc.record({ offset: safeNat, data: bytes(64) }).map((f) => ({ type: 'crypto', ...f })),
  new_token: bytes(64, 1).map((token) => ({ type: 'new_token', token })),
  stream: fc
    .record({ streamId: safeNat, offset: safeNat, fin: fc.boolean(), data: bytes(64), explicitLength: fc.boolean() })
    .map((f) => ({ type: 'stream', ...f })),
  max_data: safeNat.map((maximumData) => ({ type: 'max_data', maximumData })),
  max_stream_data: fc
    .record({ streamId: safeNat, maximumStreamData: safeNat })
    .map((f) => ({ type: 'max_stream_data', ...f })),
  max_streams: fc
    .record({ bidirectional: fc.boolean(), maximumStreams: safeNat })
    .map((f) => ({ type: 'max_streams', ...f })),
  data_blocked: safeNat.map((limit) => ({ type: 'data_blocked', limit })),
  stream_data_blocked: fc
    .record({ streamId: safeNat, limit: safeNat })
    .map((f) => ({ type: 'stream_data_blocked', ...f })),
  streams_blocked: fc
    .record({ bidirectional: fc.boolean(), limit: safeNat })
    .map((f) => ({ type: 'streams_blocked', ...f })),
  new_connection_id: newConnectionIdFields.map((f) => ({ type: 'new_connection_id', ...f })),
  retire_connection_id: safeNat.map((sequenceNumber) => ({ type: 'retire_connection_id', sequenceNumber })),
  path_challenge: bytes(8, 8).map((data) => ({ type: 'path_challenge', data })),
  path_response: bytes(8, 8).map((data) => ({ type: 'path_response', data })),
  connection_close: fc
    .record({ application: fc.boolean(), errorCode: exactCode, frameType: exactCode, reason: bytes(64) })
    .map((f) => ({ type: 'connection_close', ...f, frameType: f.application ? 0 : f.frameType })),
  handshake_done: fc.constant({ type: 'handshake_done' }),
  datagram: fc
    .record({ data: bytes(64), explicitLength: fc.boolean() })
    .map((f) => ({ type: 'datagram', ...f })),
  path_ack: fc
    .tuple(safeNat, ackFields)
    .map(([pathId, f]) => ({ type: 'path_ack', pathId, ...withEcn(f) })),
  path_abandon: fc
    .record({ pathId: safeNat, errorCode: exactCode })
    .map((f) => ({ type: 'path_abandon', ...f })),
  path_status_backup: fc
    .record({ pathId: safeNat, sequenceNumber: safeNat })
    .map((f) => ({ type: 'path_status_backup', ...f })),
  path_status_available: fc
    .record({ pathId: safeNat, sequenceNumber: safeNat })
    .map((f) => ({ type: 'path_status_available', ...f })),
  path_new_connection_id: fc
    .tuple(safeNat, newConnectionIdFields)
    .map(([pathId, f]) => ({ type: 'path_new_connection_id', pathId, ...f })),
  path_retire_connection_id: fc
    .record({ pathId: safeNat, sequenceNumber: safeNat })
    .map((f) => ({ type: 'path_retire_connection_id', ...f })),
  max_path_id: safeNat.map((maximumPathId) => ({ type: 'max_path_id', maximumPathId })),
  paths_blocked: safeNat.map((maximumPathId) => ({ type: 'paths_blocked', maximumPathId })),
  path_cids_blocked: fc
    .record({ pathId: safeNat, nextSequenceNumber: safeNat })
    .map((f) => ({ type: 'path_cids_blocked', ...f })),
};

const anyFrame: fc.Arbitrary<Frame> = fc.oneof(...Object.values(frameArbitraries));

function encodeAll(frames: readonly Frame[]): Uint8Array {
  const writer = new Writer(256);
  for (const frame of frames) encodeFrame(frame, writer);
  return writer.bytes();
}

/** True if the frame's encoding says where it ends (no PADDING run, no frame that runs to the packet end). */
function isSelfDelimiting(frame: Frame): boolean {
  if (frame.type === 'padding') return false;
  if (frame.type === 'stream' || frame.type === 'datagram') return frame.explicitLength !== false;
  return true;
}

/** Only QuicCodecError may escape the decoder. */
function parseOrCodecError(payload: Uint8Array): Frame[] | QuicCodecError {
  try {
    return parseFrames(payload);
  } catch (error) {
    if (error instanceof QuicCodecError) return error;
    throw error;
  }
}

const PACKET_TYPES: ProtectedPacketType[] = ['initial', '0rtt', 'handshake', '1rtt'];

// ---------------------------------------------------------------------------------------------------------

describe('frame codec properties', () => {
  for (const [kind, arbitrary] of Object.entries(frameArbitraries)) {
    it(`${kind}: encode → parse gives the frame back, encodedFrameLength is exact`, () => {
      fc.assert(
        fc.property(arbitrary, (frame) => {
          const writer = new Writer(new Uint8Array(2048), 3);
          encodeFrame(frame, writer);
          const written = writer.offset - 3;
          expect(written).toBe(encodedFrameLength(frame));
          const encoded = writer.buf.subarray(3, writer.offset);
          expect(parseFrames(encoded)).toStrictEqual([frame]);
          // The wire type is the one frameTypeCode reports.
          const code = frameTypeCode(frame);
          expect(encoded[0]).toBe(code < 0x40 ? code : 0x40 | (code >> 8));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('a sequence of frames round-trips as one payload', () => {
    fc.assert(
      fc.property(fc.array(anyFrame, { minLength: 1, maxLength: 25 }), (generated) => {
        // Only the last frame may run to the end of the packet.
        const frames = generated.map((frame, i): Frame =>
          (frame.type === 'stream' || frame.type === 'datagram') && i < generated.length - 1
            ? { ...frame, explicitLength: true }
            : frame,
        );
        // Adjacent PADDING frames are indistinguishable on the wire: the decoder folds them.
        const expected: Frame[] = [];
        for (const frame of frames) {
          const last = expected[expected.length - 1];
          if (frame.type === 'padding' && last?.type === 'padding') {
            expected[expected.length - 1] = { type: 'padding', length: last.length + frame.length };
          } else {
            expected.push(frame);
          }
        }
        const payload = encodeAll(frames);
        expect(payload.length).toBe(frames.reduce((sum, f) => sum + encodedFrameLength(f), 0));
        expect(parseFrames(payload)).toStrictEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid encoding throws only QuicCodecError', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        const encoded = encodeAll([frame]);
        for (let length = 1; length < encoded.length; length++) {
          const result = parseOrCodecError(encoded.subarray(0, length));
          if (isSelfDelimiting(frame)) {
            // A prefix of a self-delimiting frame is always a truncation.
            expect(result).toBeInstanceOf(QuicCodecError);
            expect((result as QuicCodecError).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes give frames or a QuicCodecError, nothing else', () => {
    fc.assert(
      fc.property(bytes(200), (payload) => {
        const result = parseOrCodecError(payload);
        if (!(result instanceof QuicCodecError)) {
          // Whatever decodes can be checked against every packet type without any other error.
          for (const packetType of PACKET_TYPES) {
            try {
              validatePacketFrames(result, packetType);
            } catch (error) {
              expect(error).toBeInstanceOf(QuicCodecError);
            }
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes after a known frame type give frames or a QuicCodecError', () => {
    const knownType = fc.constantFrom(
      ...Array.from({ length: 0x1f }, (_, i) => [i]),
      [0x30],
      [0x31],
      [0x3e],
      [0x3f],
      ...Array.from({ length: 8 }, (_, i) => [0x7e, 0x75 + i]),
    );
    fc.assert(
      fc.property(knownType, bytes(80), (type, rest) => {
        const payload = new Uint8Array(type.length + rest.length);
        payload.set(type);
        payload.set(rest, type.length);
        parseOrCodecError(payload);
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated valid payloads give frames or a QuicCodecError', () => {
    fc.assert(
      fc.property(
        fc.array(anyFrame, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (frames, mutations) => {
          const payload = Uint8Array.from(encodeAll(frames));
          for (const [position, value] of mutations) payload[position % payload.length] = value;
          parseOrCodecError(payload);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
