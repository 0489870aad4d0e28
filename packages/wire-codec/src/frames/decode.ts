/**
 * Frame decoder: RFC 9000 §19, RFC 9221 §4 (DATAGRAM), draft-ietf-quic-multipath-21 (New Frames).
 *
 * Network input only ever produces a {@link QuicCodecError} whose `frameType` is the type of the offending
 * frame (as read from the wire, e.g. 0x0e for a STREAM frame with OFF and LEN bits):
 * - unknown frame type: FRAME_ENCODING_ERROR (RFC 9000 §12.4);
 * - known frame type in a longer varint than needed: PROTOCOL_VIOLATION (RFC 9000 §12.4);
 * - truncation, or a field that breaks its frame's own rules: FRAME_ENCODING_ERROR.
 * Rules that need connection state (flow control, stream limits, path ID limits, …) are checked by the
 * layers above. Decoded byte fields are views into the payload, not copies (see types.ts).
 */
import { Reader } from '../buffer.js';
import { TransportErrorCode } from '../errors.js';
import { VARINT_MAX } from '../varint.js';
import type {
  AckFrame,
  AckRange,
  ConnectionCloseFrame,
  CryptoFrame,
  DatagramFrame,
  EcnCounts,
  Frame,
  NewConnectionIdFrame,
  PaddingFrame,
  PathAckFrame,
  PathNewConnectionIdFrame,
  StreamFrame,
} from './types.js';
import { DATAGRAM_LEN_BIT, FrameLimits, FrameType, STREAM_ID_SATURATED_BASE, StreamFrameBit } from './types.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/** RFC 9000 §19.11, §19.14: largest valid MAX_STREAMS / STREAMS_BLOCKED value. */
const MAX_STREAMS_BIG = BigInt(FrameLimits.MAX_STREAMS);

/**
 * Decodes a whole packet payload into frames (consecutive PADDING bytes become one `padding` frame).
 * An empty payload gives `[]`: rejecting a packet without frames is {@link validatePacketFrames}' job.
 */
export function parseFrames(payload: Uint8Array): Frame[] {
  const reader = new Reader(payload);
  const frames: Frame[] = [];
  while (reader.offset < reader.end) frames.push(decodeFrame(reader));
  return frames;
}

/**
 * Decodes the frame at the reader's cursor and advances past it. A PADDING byte consumes every PADDING byte
 * that follows it. Frames without a Length field (STREAM without LEN bit, DATAGRAM 0x30) run to `reader.end`.
 * While decoding, `reader.frameType` holds the frame's type (so errors carry it); it is reset afterwards.
 */
export function decodeFrame(reader: Reader): Frame {
  reader.frameType = undefined;
  const type = readFrameType(reader);
  reader.frameType = type;
  const frame = decodeFrameBody(reader, type);
  reader.frameType = undefined;
  return frame;
}

function isKnownFrameType(type: number): boolean {
  return (
    type <= FrameType.HANDSHAKE_DONE ||
    type === FrameType.DATAGRAM ||
    type === FrameType.DATAGRAM_WITH_LENGTH ||
    type === FrameType.PATH_ACK ||
    type === FrameType.PATH_ACK_ECN ||
    (type >= FrameType.PATH_ABANDON && type <= FrameType.PATH_CIDS_BLOCKED)
  );
}

function readFrameType(r: Reader): number {
  const first = r.peekUint8();
  if (first < 0x40) {
    r.offset++;
    return first;
  }
  const start = r.offset;
  const type = r.readVarintExact();
  if (typeof type === 'bigint' || !isKnownFrameType(type)) {
    r.frameType = type;
    // RFC 9000 §12.4: unknown types are FRAME_ENCODING_ERROR (a MUST, so it wins over the minimality MAY).
    return r.fail('unknown frame type');
  }
  // Every known type that needs more than one byte fits in two (0x3e75..0x3e7c), so a known type is
  // minimally encoded here only if it is >= 0x40 and took exactly two bytes.
  if (type < 0x40 || r.offset - start !== 2) {
    r.frameType = type;
    // RFC 9000 §12.4: the frame type must use the shortest encoding.
    return r.fail('frame type not minimally encoded', TransportErrorCode.PROTOCOL_VIOLATION);
  }
  return type;
}

function decodeFrameBody(r: Reader, type: number): Frame {
  switch (type) {
    case FrameType.PADDING:
      return decodePadding(r);
    case FrameType.PING:
      return { type: 'ping' };
    case FrameType.ACK:
    case FrameType.ACK_ECN:
      return decodeAck(r, type === FrameType.ACK_ECN);
    case FrameType.RESET_STREAM: {
      const streamId = readStreamId(r);
      const errorCode = r.readVarintExact();
      const finalSize = r.readVarint();
      return { type: 'reset_stream', streamId, errorCode, finalSize };
    }
    case FrameType.STOP_SENDING: {
      const streamId = readStreamId(r);
      const errorCode = r.readVarintExact();
      return { type: 'stop_sending', streamId, errorCode };
    }
    case FrameType.CRYPTO:
      return decodeCrypto(r);
    case FrameType.NEW_TOKEN: {
      const length = r.readVarint();
      // RFC 9000 §19.7: an empty token is FRAME_ENCODING_ERROR.
      if (length === 0) r.fail('empty NEW_TOKEN token');
      return { type: 'new_token', token: r.readBytes(length) };
    }
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x0e:
    case 0x0f:
      return decodeStream(r, type);
    case FrameType.MAX_DATA:
      return { type: 'max_data', maximumData: r.readVarint() };
    case FrameType.MAX_STREAM_DATA: {
      const streamId = readStreamId(r);
      return { type: 'max_stream_data', streamId, maximumStreamData: r.readVarint() };
    }
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI:
      return { type: 'max_streams', bidirectional: type === FrameType.MAX_STREAMS_BIDI, maximumStreams: readStreamCount(r) };
    case FrameType.DATA_BLOCKED:
      return { type: 'data_blocked', limit: r.readVarint() };
    case FrameType.STREAM_DATA_BLOCKED: {
      const streamId = readStreamId(r);
      return { type: 'stream_data_blocked', streamId, limit: r.readVarint() };
    }
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI:
      return { type: 'streams_blocked', bidirectional: type === FrameType.STREAMS_BLOCKED_BIDI, limit: readStreamCount(r) };
    case FrameType.NEW_CONNECTION_ID:
      return decodeNewConnectionId(r);
    case FrameType.RETIRE_CONNECTION_ID:
      return { type: 'retire_connection_id', sequenceNumber: r.readVarint() };
    case FrameType.PATH_CHALLENGE:
      return { type: 'path_challenge', data: r.readBytes(FrameLimits.PATH_CHALLENGE_DATA_LENGTH) };
    case FrameType.PATH_RESPONSE:
      return { type: 'path_response', data: r.readBytes(FrameLimits.PATH_CHALLENGE_DATA_LENGTH) };
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APPLICATION:
      return decodeConnectionClose(r, type === FrameType.CONNECTION_CLOSE_APPLICATION);
    case FrameType.HANDSHAKE_DONE:
      return { type: 'handshake_done' };
    case FrameType.DATAGRAM:
    case FrameType.DATAGRAM_WITH_LENGTH:
      return decodeDatagram(r, (type & DATAGRAM_LEN_BIT) !== 0);
    case FrameType.PATH_ACK:
    case FrameType.PATH_ACK_ECN:
      return decodePathAck(r, type === FrameType.PATH_ACK_ECN);
    case FrameType.PATH_ABANDON: {
      const pathId = r.readVarint();
      return { type: 'path_abandon', pathId, errorCode: r.readVarintExact() };
    }
    case FrameType.PATH_STATUS_BACKUP: {
      const pathId = r.readVarint();
      return { type: 'path_status_backup', pathId, sequenceNumber: r.readVarint() };
    }
    case FrameType.PATH_STATUS_AVAILABLE: {
      const pathId = r.readVarint();
      return { type: 'path_status_available', pathId, sequenceNumber: r.readVarint() };
    }
    case FrameType.PATH_NEW_CONNECTION_ID:
      return decodePathNewConnectionId(r);
    case FrameType.PATH_RETIRE_CONNECTION_ID: {
      const pathId = r.readVarint();
      return { type: 'path_retire_connection_id', pathId, sequenceNumber: r.readVarint() };
    }
    case FrameType.MAX_PATH_ID:
      return { type: 'max_path_id', maximumPathId: r.readVarint() };
    case FrameType.PATHS_BLOCKED:
      return { type: 'paths_blocked', maximumPathId: r.readVarint() };
    case FrameType.PATH_CIDS_BLOCKED: {
      const pathId = r.readVarint();
      return { type: 'path_cids_blocked', pathId, nextSequenceNumber: r.readVarint() };
    }
    default:
      // RFC 9000 §12.4
      return r.fail('unknown frame type');
  }
}

/** The type byte (0x00) is already consumed; folds every following 0x00 byte into the same frame. */
function decodePadding(r: Reader): PaddingFrame {
  const buf = r.buf;
  const end = r.end;
  const start = r.offset - 1;
  let o = r.offset;
  while (o < end && buf[o] === 0) o++;
  r.offset = o;
  return { type: 'padding', length: o - start };
}

/**
 * Stream IDs above 2^53-1 saturate to the largest safe stream ID with the same two type bits
 * (RFC 9000 §2.1), so that the stream layer still classifies them correctly.
 */
function readStreamId(r: Reader): number {
  const id = r.readVarintExact();
  return typeof id === 'number' ? id : STREAM_ID_SATURATED_BASE + Number(id & 3n);
}

/** MAX_STREAMS / STREAMS_BLOCKED value: above 2^60 is FRAME_ENCODING_ERROR (RFC 9000 §19.11, §19.14). */
function readStreamCount(r: Reader): number {
  const count = r.readVarintExact();
  if (typeof count === 'number') return count;
  if (count > MAX_STREAMS_BIG) r.fail('stream count exceeds 2^60');
  return MAX_SAFE;
}

function saturate(value: number | bigint): number {
  return typeof value === 'number' ? value : MAX_SAFE;
}

function saturateBig(value: bigint): number {
  return value > MAX_SAFE_BIG ? MAX_SAFE : Number(value);
}

function decodeAck(r: Reader, withEcn: boolean): AckFrame {
  const largest = r.readVarintExact();
  const ackDelay = r.readVarint();
  const ranges = readAckRanges(r, largest);
  const largestAcknowledged = ranges[0]!.largest;
  if (!withEcn) return { type: 'ack', largestAcknowledged, ackDelay, ranges };
  return { type: 'ack', largestAcknowledged, ackDelay, ranges, ecn: readEcnCounts(r) };
}

function decodePathAck(r: Reader, withEcn: boolean): PathAckFrame {
  const pathId = r.readVarint();
  const largest = r.readVarintExact();
  const ackDelay = r.readVarint();
  const ranges = readAckRanges(r, largest);
  const largestAcknowledged = ranges[0]!.largest;
  if (!withEcn) return { type: 'path_ack', pathId, largestAcknowledged, ackDelay, ranges };
  return { type: 'path_ack', pathId, largestAcknowledged, ackDelay, ranges, ecn: readEcnCounts(r) };
}

function readEcnCounts(r: Reader): EcnCounts {
  const ect0 = r.readVarint();
  const ect1 = r.readVarint();
  const ce = r.readVarint();
  return { ect0, ect1, ce };
}

/**
 * Reads ACK Range Count, First ACK Range and the ACK Ranges (RFC 9000 §19.3.1) into descending ranges.
 * A range or gap reaching below packet number 0 is FRAME_ENCODING_ERROR (§19.3.1). Arithmetic is exact:
 * with a safe `largest` every valid field is below 2^53, so a field decoded as bigint is necessarily invalid.
 */
function readAckRanges(r: Reader, largest: number | bigint): AckRange[] {
  const count = r.readVarint();
  // Each ACK Range takes at least two bytes after the First ACK Range's one: a count the remaining bytes
  // cannot hold is a truncation, caught before any work is done for it.
  if (count > (r.end - r.offset - 1) / 2) r.fail('ACK Range Count exceeds the frame');
  if (typeof largest === 'bigint') return readAckRangesBig(r, largest, count);

  const firstRange = r.readVarintExact();
  if (typeof firstRange !== 'number' || firstRange > largest) {
    return r.fail('First ACK Range goes below packet number 0');
  }
  let smallest = largest - firstRange;
  const ranges: AckRange[] = [{ largest, smallest }];
  const buf = r.buf;
  const end = r.end;
  for (let i = 0; i < count; i++) {
    // Gaps and range lengths are usually one-byte varints: read those inline, the rest through the reader.
    let o = r.offset;
    let gap: number | bigint;
    let length: number | bigint;
    if (o < end && buf[o]! < 0x40) {
      gap = buf[o++]!;
      r.offset = o;
    } else {
      gap = r.readVarintExact();
      o = r.offset;
    }
    if (o < end && buf[o]! < 0x40) {
      length = buf[o]!;
      r.offset = o + 1;
    } else {
      length = r.readVarintExact();
    }
    if (typeof gap !== 'number' || typeof length !== 'number') return r.fail('ACK Range goes below packet number 0');
    // RFC 9000 §19.3.1: largest = previous smallest - gap - 2; smallest = largest - ACK Range Length.
    const next = smallest - gap - 2;
    if (next < 0 || length > next) return r.fail('ACK Range goes below packet number 0');
    smallest = next - length;
    ranges.push({ largest: next, smallest });
  }
  return ranges;
}

/**
 * Largest Acknowledged above 2^53-1: validated exactly in bigint, reported saturated (no packet number this
 * stack sends can be that large, so the recovery layer rejects the ACK as acknowledging unsent packets).
 */
function readAckRangesBig(r: Reader, largest: bigint, count: number): AckRange[] {
  const firstRange = BigInt(r.readVarintExact());
  if (firstRange > largest) return r.fail('First ACK Range goes below packet number 0');
  let smallest = largest - firstRange;
  const ranges: AckRange[] = [{ largest: saturateBig(largest), smallest: saturateBig(smallest) }];
  for (let i = 0; i < count; i++) {
    const gap = BigInt(r.readVarintExact());
    const length = BigInt(r.readVarintExact());
    const next = smallest - gap - 2n;
    if (next < 0n || length > next) return r.fail('ACK Range goes below packet number 0');
    smallest = next - length;
    ranges.push({ largest: saturateBig(next), smallest: saturateBig(smallest) });
  }
  return ranges;
}

function decodeCrypto(r: Reader): CryptoFrame {
  const exactOffset = r.readVarintExact();
  const length = r.readVarint();
  const data = r.readBytes(length);
  // RFC 9000 §19.6: offset + length must not exceed 2^62-1. A safe-integer offset plus a length that fits in
  // the buffer stays far below that, so only a bigint offset needs the (exact) check.
  if (typeof exactOffset === 'bigint' && exactOffset + BigInt(length) > VARINT_MAX) {
    r.fail('CRYPTO offset + length exceeds 2^62-1');
  }
  return { type: 'crypto', offset: saturate(exactOffset), data };
}

function decodeStream(r: Reader, type: number): StreamFrame {
  const streamId = readStreamId(r);
  const exactOffset = (type & StreamFrameBit.OFF) !== 0 ? r.readVarintExact() : 0;
  const explicitLength = (type & StreamFrameBit.LEN) !== 0;
  // RFC 9000 §19.8: without the LEN bit the data runs to the end of the packet.
  const length = explicitLength ? r.readVarint() : r.end - r.offset;
  const data = r.readBytes(length);
  // RFC 9000 §19.8: offset + length must not exceed 2^62-1 (see decodeCrypto for why only bigints need it).
  if (typeof exactOffset === 'bigint' && exactOffset + BigInt(length) > VARINT_MAX) {
    r.fail('STREAM offset + length exceeds 2^62-1');
  }
  return {
    type: 'stream',
    streamId,
    offset: saturate(exactOffset),
    fin: (type & StreamFrameBit.FIN) !== 0,
    data,
    explicitLength,
  };
}

/** RFC 9000 §19.15: Retire Prior To above Sequence Number is FRAME_ENCODING_ERROR (compared exactly). */
function checkRetirePriorTo(r: Reader, sequenceNumber: number | bigint, retirePriorTo: number | bigint): void {
  if (retirePriorTo > sequenceNumber) r.fail('Retire Prior To exceeds Sequence Number');
}

/** RFC 9000 §19.15: the Length byte must be 1..20, else FRAME_ENCODING_ERROR. */
function readNewConnectionId(r: Reader): Uint8Array {
  const length = r.readUint8();
  if (length < FrameLimits.MIN_NEW_CONNECTION_ID_LENGTH || length > FrameLimits.MAX_CONNECTION_ID_LENGTH) {
    r.fail(`invalid connection ID length ${length}`);
  }
  return r.readBytes(length);
}

function decodeNewConnectionId(r: Reader): NewConnectionIdFrame {
  const sequenceNumber = r.readVarintExact();
  const retirePriorTo = r.readVarintExact();
  checkRetirePriorTo(r, sequenceNumber, retirePriorTo);
  const connectionId = readNewConnectionId(r);
  const statelessResetToken = r.readBytes(FrameLimits.STATELESS_RESET_TOKEN_LENGTH);
  return {
    type: 'new_connection_id',
    sequenceNumber: saturate(sequenceNumber),
    retirePriorTo: saturate(retirePriorTo),
    connectionId,
    statelessResetToken,
  };
}

function decodePathNewConnectionId(r: Reader): PathNewConnectionIdFrame {
  const pathId = r.readVarint();
  const sequenceNumber = r.readVarintExact();
  const retirePriorTo = r.readVarintExact();
  checkRetirePriorTo(r, sequenceNumber, retirePriorTo);
  const connectionId = readNewConnectionId(r);
  const statelessResetToken = r.readBytes(FrameLimits.STATELESS_RESET_TOKEN_LENGTH);
  return {
    type: 'path_new_connection_id',
    pathId,
    sequenceNumber: saturate(sequenceNumber),
    retirePriorTo: saturate(retirePriorTo),
    connectionId,
    statelessResetToken,
  };
}

function decodeConnectionClose(r: Reader, application: boolean): ConnectionCloseFrame {
  const errorCode = r.readVarintExact();
  // RFC 9000 §19.19: only the transport form (0x1c) carries a Frame Type field.
  const frameType = application ? 0 : r.readVarintExact();
  const reasonLength = r.readVarint();
  const reason = r.readBytes(reasonLength);
  return { type: 'connection_close', application, errorCode, frameType, reason };
}

function decodeDatagram(r: Reader, explicitLength: boolean): DatagramFrame {
  // RFC 9221 §4: 0x30 has no Length field and runs to the end of the packet.
  const data = explicitLength ? r.readBytes(r.readVarint()) : r.readRest();
  return { type: 'datagram', data, explicitLength };
}
