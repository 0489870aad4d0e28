/**
 * Frame encoder: RFC 9000 §19, RFC 9221 §4 (DATAGRAM), draft-ietf-quic-multipath-21 (New Frames).
 *
 * `encodedFrameLength` validates the frame and returns its exact size; `encodeFrame` runs it, reserves that
 * many bytes in the writer and then writes without re-checking. A frame that would be invalid on the wire
 * (bad ranges, 7-byte PATH_CHALLENGE, empty NEW_TOKEN, Retire Prior To above Sequence Number, …) is a
 * programmer error: QuicEncodeError, with nothing written.
 *
 * Encoding choices: varints are minimal; STREAM sets the OFF bit only for a non-zero offset; STREAM and
 * DATAGRAM carry a Length field unless `explicitLength === false`.
 */
import type { Writer } from '../buffer.js';
import { QuicEncodeError } from '../errors.js';
import { VARINT_MAX, writeVarint8Parts } from '../varint.js';
import type { AckFields, Frame, FrameKind, NewConnectionIdFields } from './types.js';
import { DATAGRAM_LEN_BIT, FrameLimits, FrameType, StreamFrameBit } from './types.js';

const TWO_POW_32 = 0x1_0000_0000;
/** Largest value of a 1-, 2- and 4-byte varint (RFC 9000 §16). */
const VARINT1_MAX = 0x3f;
const VARINT2_MAX = 0x3fff;
const VARINT4_MAX = 0x3fff_ffff;

/** Frame type codepoint of each kind whose type does not depend on the frame's fields. */
const BASE_TYPE_CODE: Readonly<Record<FrameKind, number>> = {
  padding: FrameType.PADDING,
  ping: FrameType.PING,
  ack: FrameType.ACK,
  reset_stream: FrameType.RESET_STREAM,
  stop_sending: FrameType.STOP_SENDING,
  crypto: FrameType.CRYPTO,
  new_token: FrameType.NEW_TOKEN,
  stream: FrameType.STREAM,
  max_data: FrameType.MAX_DATA,
  max_stream_data: FrameType.MAX_STREAM_DATA,
  max_streams: FrameType.MAX_STREAMS_BIDI,
  data_blocked: FrameType.DATA_BLOCKED,
  stream_data_blocked: FrameType.STREAM_DATA_BLOCKED,
  streams_blocked: FrameType.STREAMS_BLOCKED_BIDI,
  new_connection_id: FrameType.NEW_CONNECTION_ID,
  retire_connection_id: FrameType.RETIRE_CONNECTION_ID,
  path_challenge: FrameType.PATH_CHALLENGE,
  path_response: FrameType.PATH_RESPONSE,
  connection_close: FrameType.CONNECTION_CLOSE,
  handshake_done: FrameType.HANDSHAKE_DONE,
  datagram: FrameType.DATAGRAM,
  path_ack: FrameType.PATH_ACK,
  path_abandon: FrameType.PATH_ABANDON,
  path_status_backup: FrameType.PATH_STATUS_BACKUP,
  path_status_available: FrameType.PATH_STATUS_AVAILABLE,
  path_new_connection_id: FrameType.PATH_NEW_CONNECTION_ID,
  path_retire_connection_id: FrameType.PATH_RETIRE_CONNECTION_ID,
  max_path_id: FrameType.MAX_PATH_ID,
  paths_blocked: FrameType.PATHS_BLOCKED,
  path_cids_blocked: FrameType.PATH_CIDS_BLOCKED,
};

/**
 * The frame type codepoint `encodeFrame` writes for this frame (e.g. 0x0b for a STREAM frame with LEN and
 * FIN, 0x1d for an application CONNECTION_CLOSE). Also what goes into CONNECTION_CLOSE's Frame Type field.
 */
export function frameTypeCode(frame: Frame): number {
  switch (frame.type) {
    case 'ack':
      return frame.ecn === undefined ? FrameType.ACK : FrameType.ACK_ECN;
    case 'path_ack':
      return frame.ecn === undefined ? FrameType.PATH_ACK : FrameType.PATH_ACK_ECN;
    case 'stream':
      return streamTypeCode(frame.offset, frame.fin, frame.explicitLength !== false);
    case 'max_streams':
      return frame.bidirectional ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI;
    case 'streams_blocked':
      return frame.bidirectional ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI;
    case 'connection_close':
      return frame.application ? FrameType.CONNECTION_CLOSE_APPLICATION : FrameType.CONNECTION_CLOSE;
    case 'datagram':
      return frame.explicitLength === false ? FrameType.DATAGRAM : FrameType.DATAGRAM | DATAGRAM_LEN_BIT;
    default: {
      const code: unknown = BASE_TYPE_CODE[(frame as Frame).type];
      if (typeof code !== 'number') throw new QuicEncodeError(`unknown frame type ${String((frame as Frame).type)}`);
      return code;
    }
  }
}

/** RFC 9000 §19.8: STREAM type bits. */
function streamTypeCode(offset: number, fin: boolean, explicitLength: boolean): number {
  return (
    FrameType.STREAM |
    (offset > 0 ? StreamFrameBit.OFF : 0) |
    (explicitLength ? StreamFrameBit.LEN : 0) |
    (fin ? StreamFrameBit.FIN : 0)
  );
}

// ---------------------------------------------------------------------------------------------------------
// Sizes (validating)

/** Minimal varint size of a value already known to be a non-negative safe integer (RFC 9000 §16). */
function varintSize(value: number): 1 | 2 | 4 | 8 {
  return value <= VARINT1_MAX ? 1 : value <= VARINT2_MAX ? 2 : value <= VARINT4_MAX ? 4 : 8;
}

/** Size of a `number` field, checking it is a non-negative safe integer. `what` names it in the error. */
function fieldSize(value: number, what: string): number {
  if (!(value >= 0) || !Number.isSafeInteger(value)) {
    throw new QuicEncodeError(`${what} must be a non-negative safe integer, got ${String(value)}`);
  }
  return varintSize(value);
}

/** Size of an exact `number | bigint` field (error codes, Frame Type), checking 0..2^62-1. */
function exactFieldSize(value: number | bigint, what: string): number {
  if (typeof value === 'number') return fieldSize(value, what);
  if (typeof value !== 'bigint' || value < 0n || value > VARINT_MAX) {
    throw new QuicEncodeError(`${what} must be in 0..2^62-1, got ${String(value)}`);
  }
  return value <= 0x3fn ? 1 : value <= 0x3fffn ? 2 : value <= 0x3fff_ffffn ? 4 : 8;
}

function bytesLength(value: Uint8Array, what: string): number {
  if (!(value instanceof Uint8Array)) throw new QuicEncodeError(`${what} must be a Uint8Array`);
  return value.length;
}

function fixedBytes(value: Uint8Array, length: number, what: string): number {
  if (bytesLength(value, what) !== length) {
    throw new QuicEncodeError(`${what} must be ${length} bytes, got ${value.length}`);
  }
  return length;
}

/**
 * Size of everything after the frame type for ACK-like frames, validating the ranges: non-empty, first range
 * starting at Largest Acknowledged, each range `largest >= smallest >= 0`, descending with at least one
 * unacknowledged packet number between consecutive ranges (RFC 9000 §19.3.1: Gap = previous smallest -
 * largest - 2 must be >= 0).
 */
function ackFieldsSize(frame: AckFields): number {
  const ranges = frame.ranges;
  if (!Array.isArray(ranges) || ranges.length === 0) throw new QuicEncodeError('ACK needs at least one range');
  let size = fieldSize(frame.largestAcknowledged, 'ACK largestAcknowledged');
  size += fieldSize(frame.ackDelay, 'ACK ackDelay');
  size += varintSize(ranges.length - 1);
  const first = ranges[0]!;
  if (first.largest !== frame.largestAcknowledged) {
    throw new QuicEncodeError('ACK ranges[0].largest must equal largestAcknowledged');
  }
  let previousSmallest = checkRange(first.largest, first.smallest);
  size += varintSize(first.largest - previousSmallest);
  for (let i = 1; i < ranges.length; i++) {
    const range = ranges[i]!;
    const smallest = checkRange(range.largest, range.smallest);
    const gap = previousSmallest - range.largest - 2;
    if (gap < 0) throw new QuicEncodeError('ACK ranges must be descending and separated by a gap');
    size += varintSize(gap) + varintSize(range.largest - smallest);
    previousSmallest = smallest;
  }
  const ecn = frame.ecn;
  if (ecn !== undefined) {
    size += fieldSize(ecn.ect0, 'ECN ect0') + fieldSize(ecn.ect1, 'ECN ect1') + fieldSize(ecn.ce, 'ECN ce');
  }
  return size;
}

function checkRange(largest: number, smallest: number): number {
  if (!Number.isSafeInteger(largest) || !Number.isSafeInteger(smallest) || !(smallest >= 0) || largest < smallest) {
    throw new QuicEncodeError(`invalid ACK range ${String(largest)}..${String(smallest)}`);
  }
  return smallest;
}

function newConnectionIdFieldsSize(frame: NewConnectionIdFields): number {
  const size =
    fieldSize(frame.sequenceNumber, 'sequenceNumber') + fieldSize(frame.retirePriorTo, 'retirePriorTo');
  // RFC 9000 §19.15
  if (frame.retirePriorTo > frame.sequenceNumber) {
    throw new QuicEncodeError('retirePriorTo must not exceed sequenceNumber');
  }
  const cidLength = bytesLength(frame.connectionId, 'connectionId');
  if (cidLength < FrameLimits.MIN_NEW_CONNECTION_ID_LENGTH || cidLength > FrameLimits.MAX_CONNECTION_ID_LENGTH) {
    throw new QuicEncodeError(`connectionId must be 1..20 bytes, got ${cidLength}`);
  }
  return (
    size +
    1 +
    cidLength +
    fixedBytes(frame.statelessResetToken, FrameLimits.STATELESS_RESET_TOKEN_LENGTH, 'statelessResetToken')
  );
}

/**
 * Exact number of bytes `encodeFrame` writes for this frame. Validates the frame like `encodeFrame` does
 * (QuicEncodeError for an invalid one), so a packet builder can plan without encoding.
 */
export function encodedFrameLength(frame: Frame): number {
  switch (frame.type) {
    case 'padding':
      if (!Number.isSafeInteger(frame.length) || frame.length < 1) {
        throw new QuicEncodeError(`PADDING length must be a positive integer, got ${String(frame.length)}`);
      }
      return frame.length;
    case 'ping':
    case 'handshake_done':
      return 1;
    case 'ack':
      return 1 + ackFieldsSize(frame);
    case 'reset_stream':
      return (
        1 +
        fieldSize(frame.streamId, 'streamId') +
        exactFieldSize(frame.errorCode, 'errorCode') +
        fieldSize(frame.finalSize, 'finalSize')
      );
    case 'stop_sending':
      return 1 + fieldSize(frame.streamId, 'streamId') + exactFieldSize(frame.errorCode, 'errorCode');
    case 'crypto': {
      const length = bytesLength(frame.data, 'CRYPTO data');
      return cryptoFrameOverhead(frame.offset, length) + length;
    }
    case 'new_token': {
      const length = bytesLength(frame.token, 'NEW_TOKEN token');
      // RFC 9000 §19.7
      if (length === 0) throw new QuicEncodeError('NEW_TOKEN token must not be empty');
      return 1 + varintSize(length) + length;
    }
    case 'stream': {
      const length = bytesLength(frame.data, 'STREAM data');
      return streamFrameOverhead(frame.streamId, frame.offset, length, frame.explicitLength !== false) + length;
    }
    case 'max_data':
      return 1 + fieldSize(frame.maximumData, 'maximumData');
    case 'max_stream_data':
      return 1 + fieldSize(frame.streamId, 'streamId') + fieldSize(frame.maximumStreamData, 'maximumStreamData');
    case 'max_streams':
      // RFC 9000 §19.11 caps this at 2^60; a safe integer is always below that.
      return 1 + fieldSize(frame.maximumStreams, 'maximumStreams');
    case 'data_blocked':
      return 1 + fieldSize(frame.limit, 'limit');
    case 'stream_data_blocked':
      return 1 + fieldSize(frame.streamId, 'streamId') + fieldSize(frame.limit, 'limit');
    case 'streams_blocked':
      return 1 + fieldSize(frame.limit, 'limit');
    case 'new_connection_id':
      return 1 + newConnectionIdFieldsSize(frame);
    case 'retire_connection_id':
      return 1 + fieldSize(frame.sequenceNumber, 'sequenceNumber');
    case 'path_challenge':
    case 'path_response':
      // RFC 9000 §19.17, §19.18
      return 1 + fixedBytes(frame.data, FrameLimits.PATH_CHALLENGE_DATA_LENGTH, `${frame.type} data`);
    case 'connection_close': {
      const reasonLength = bytesLength(frame.reason, 'CONNECTION_CLOSE reason');
      return (
        1 +
        exactFieldSize(frame.errorCode, 'errorCode') +
        (frame.application ? 0 : exactFieldSize(frame.frameType, 'frameType')) +
        varintSize(reasonLength) +
        reasonLength
      );
    }
    case 'datagram': {
      const length = bytesLength(frame.data, 'DATAGRAM data');
      return datagramFrameOverhead(length, frame.explicitLength !== false) + length;
    }
    case 'path_ack':
      return 1 + fieldSize(frame.pathId, 'pathId') + ackFieldsSize(frame);
    case 'path_abandon':
      return 2 + fieldSize(frame.pathId, 'pathId') + exactFieldSize(frame.errorCode, 'errorCode');
    case 'path_status_backup':
    case 'path_status_available':
    case 'path_retire_connection_id':
      return 2 + fieldSize(frame.pathId, 'pathId') + fieldSize(frame.sequenceNumber, 'sequenceNumber');
    case 'path_new_connection_id':
      return 2 + fieldSize(frame.pathId, 'pathId') + newConnectionIdFieldsSize(frame);
    case 'max_path_id':
    case 'paths_blocked':
      return 2 + fieldSize(frame.maximumPathId, 'maximumPathId');
    case 'path_cids_blocked':
      return 2 + fieldSize(frame.pathId, 'pathId') + fieldSize(frame.nextSequenceNumber, 'nextSequenceNumber');
    default:
      throw new QuicEncodeError(`unknown frame type ${String((frame as { type?: unknown }).type)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Packet-builder helpers

/**
 * Bytes a STREAM frame takes besides its data: type, Stream ID, Offset (only when non-zero) and Length
 * (only when `explicitLength`). RFC 9000 §19.8.
 */
export function streamFrameOverhead(
  streamId: number,
  offset: number,
  dataLength: number,
  explicitLength = true,
): number {
  const offsetSize = fieldSize(offset, 'STREAM offset');
  return (
    1 +
    fieldSize(streamId, 'streamId') +
    (offset > 0 ? offsetSize : 0) +
    (explicitLength ? fieldSize(dataLength, 'STREAM data length') : 0)
  );
}

/** Bytes a CRYPTO frame takes besides its data: type, Offset and Length (RFC 9000 §19.6). */
export function cryptoFrameOverhead(offset: number, dataLength: number): number {
  return 1 + fieldSize(offset, 'CRYPTO offset') + fieldSize(dataLength, 'CRYPTO data length');
}

/**
 * Bytes a DATAGRAM frame takes besides its data (RFC 9221 §4). The frame's total (this + data length) is what
 * the peer's max_datagram_frame_size limits (RFC 9221 §3).
 */
export function datagramFrameOverhead(dataLength: number, explicitLength = true): number {
  return 1 + (explicitLength ? fieldSize(dataLength, 'DATAGRAM data length') : 0);
}

/** Largest n with n + varintSize(n) <= room, or -1 if even n = 0 does not fit. */
function largestWithLengthField(room: number): number {
  if (room < 1) return -1;
  let best = Math.min(room - 1, VARINT1_MAX);
  if (room - 2 > best) best = Math.min(room - 2, VARINT2_MAX);
  if (room - 4 > best) best = Math.min(room - 4, VARINT4_MAX);
  if (room - 8 > best) best = room - 8;
  return best;
}

/**
 * Largest data length a STREAM frame can carry within `available` bytes (so that overhead + data fills them
 * as much as possible), or -1 if not even an empty frame fits.
 */
export function maxStreamDataLength(
  streamId: number,
  offset: number,
  available: number,
  explicitLength = true,
): number {
  checkAvailable(available);
  const room = available - streamFrameOverhead(streamId, offset, 0, false);
  if (!explicitLength) return room >= 0 ? room : -1;
  return largestWithLengthField(room);
}

/** Largest data length a CRYPTO frame can carry within `available` bytes, or -1 if none fits. */
export function maxCryptoDataLength(offset: number, available: number): number {
  checkAvailable(available);
  return largestWithLengthField(available - 1 - fieldSize(offset, 'CRYPTO offset'));
}

function checkAvailable(available: number): void {
  if (!(available >= 0) || !Number.isSafeInteger(available)) {
    throw new QuicEncodeError(`available must be a non-negative safe integer, got ${String(available)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing (values already validated by encodedFrameLength)

function putVarint(buf: Uint8Array, o: number, value: number): number {
  if (value <= VARINT1_MAX) {
    buf[o] = value;
    return o + 1;
  }
  if (value <= VARINT2_MAX) {
    buf[o] = 0x40 | (value >>> 8);
    buf[o + 1] = value & 0xff;
    return o + 2;
  }
  if (value <= VARINT4_MAX) {
    buf[o] = 0x80 | (value >>> 24);
    buf[o + 1] = (value >>> 16) & 0xff;
    buf[o + 2] = (value >>> 8) & 0xff;
    buf[o + 3] = value & 0xff;
    return o + 4;
  }
  return writeVarint8Parts(buf, o, Math.floor(value / TWO_POW_32), value >>> 0);
}

function putVarintExact(buf: Uint8Array, o: number, value: number | bigint): number {
  if (typeof value === 'number') return putVarint(buf, o, value);
  if (value <= 0x3fff_ffffn) return putVarint(buf, o, Number(value));
  return writeVarint8Parts(buf, o, Number(value >> 32n), Number(value & 0xffff_ffffn));
}

function putType(buf: Uint8Array, o: number, code: number): number {
  if (code <= VARINT1_MAX) {
    buf[o] = code;
    return o + 1;
  }
  buf[o] = 0x40 | (code >>> 8);
  buf[o + 1] = code & 0xff;
  return o + 2;
}

function putBytes(buf: Uint8Array, o: number, bytes: Uint8Array): number {
  buf.set(bytes, o);
  return o + bytes.length;
}

function putAckFields(buf: Uint8Array, o: number, frame: AckFields): number {
  const ranges = frame.ranges;
  o = putVarint(buf, o, frame.largestAcknowledged);
  o = putVarint(buf, o, frame.ackDelay);
  o = putVarint(buf, o, ranges.length - 1);
  const first = ranges[0]!;
  let previousSmallest = first.smallest;
  o = putVarint(buf, o, first.largest - previousSmallest);
  for (let i = 1; i < ranges.length; i++) {
    const range = ranges[i]!;
    // RFC 9000 §19.3.1: Gap = previous smallest - largest - 2, ACK Range Length = largest - smallest.
    o = putVarint(buf, o, previousSmallest - range.largest - 2);
    o = putVarint(buf, o, range.largest - range.smallest);
    previousSmallest = range.smallest;
  }
  const ecn = frame.ecn;
  if (ecn !== undefined) {
    o = putVarint(buf, o, ecn.ect0);
    o = putVarint(buf, o, ecn.ect1);
    o = putVarint(buf, o, ecn.ce);
  }
  return o;
}

function putNewConnectionIdFields(buf: Uint8Array, o: number, frame: NewConnectionIdFields): number {
  o = putVarint(buf, o, frame.sequenceNumber);
  o = putVarint(buf, o, frame.retirePriorTo);
  buf[o++] = frame.connectionId.length;
  o = putBytes(buf, o, frame.connectionId);
  return putBytes(buf, o, frame.statelessResetToken);
}

/**
 * Appends the frame to `writer` (a caller-owned fixed buffer throws QuicEncodeError if it lacks room; a
 * growable one grows). Invalid frames throw QuicEncodeError before anything is written.
 */
export function encodeFrame(frame: Frame, writer: Writer): void {
  const length = encodedFrameLength(frame);
  writer.ensure(length);
  const buf = writer.buf;
  const start = writer.offset;
  let o = putType(buf, start, frameTypeCode(frame));
  switch (frame.type) {
    case 'padding':
      buf.fill(0, start, start + length);
      o = start + length;
      break;
    case 'ping':
    case 'handshake_done':
      break;
    case 'ack':
      o = putAckFields(buf, o, frame);
      break;
    case 'reset_stream':
      o = putVarint(buf, o, frame.streamId);
      o = putVarintExact(buf, o, frame.errorCode);
      o = putVarint(buf, o, frame.finalSize);
      break;
    case 'stop_sending':
      o = putVarint(buf, o, frame.streamId);
      o = putVarintExact(buf, o, frame.errorCode);
      break;
    case 'crypto':
      o = putVarint(buf, o, frame.offset);
      o = putVarint(buf, o, frame.data.length);
      o = putBytes(buf, o, frame.data);
      break;
    case 'new_token':
      o = putVarint(buf, o, frame.token.length);
      o = putBytes(buf, o, frame.token);
      break;
    case 'stream':
      o = putVarint(buf, o, frame.streamId);
      if (frame.offset > 0) o = putVarint(buf, o, frame.offset);
      if (frame.explicitLength !== false) o = putVarint(buf, o, frame.data.length);
      o = putBytes(buf, o, frame.data);
      break;
    case 'max_data':
      o = putVarint(buf, o, frame.maximumData);
      break;
    case 'max_stream_data':
      o = putVarint(buf, o, frame.streamId);
      o = putVarint(buf, o, frame.maximumStreamData);
      break;
    case 'max_streams':
      o = putVarint(buf, o, frame.maximumStreams);
      break;
    case 'data_blocked':
    case 'streams_blocked':
      o = putVarint(buf, o, frame.limit);
      break;
    case 'stream_data_blocked':
      o = putVarint(buf, o, frame.streamId);
      o = putVarint(buf, o, frame.limit);
      break;
    case 'new_connection_id':
      o = putNewConnectionIdFields(buf, o, frame);
      break;
    case 'retire_connection_id':
      o = putVarint(buf, o, frame.sequenceNumber);
      break;
    case 'path_challenge':
    case 'path_response':
      o = putBytes(buf, o, frame.data);
      break;
    case 'connection_close':
      o = putVarintExact(buf, o, frame.errorCode);
      if (!frame.application) o = putVarintExact(buf, o, frame.frameType);
      o = putVarint(buf, o, frame.reason.length);
      o = putBytes(buf, o, frame.reason);
      break;
    case 'datagram':
      if (frame.explicitLength !== false) o = putVarint(buf, o, frame.data.length);
      o = putBytes(buf, o, frame.data);
      break;
    case 'path_ack':
      o = putVarint(buf, o, frame.pathId);
      o = putAckFields(buf, o, frame);
      break;
    case 'path_abandon':
      o = putVarint(buf, o, frame.pathId);
      o = putVarintExact(buf, o, frame.errorCode);
      break;
    case 'path_status_backup':
    case 'path_status_available':
    case 'path_retire_connection_id':
      o = putVarint(buf, o, frame.pathId);
      o = putVarint(buf, o, frame.sequenceNumber);
      break;
    case 'path_new_connection_id':
      o = putVarint(buf, o, frame.pathId);
      o = putNewConnectionIdFields(buf, o, frame);
      break;
    case 'max_path_id':
    case 'paths_blocked':
      o = putVarint(buf, o, frame.maximumPathId);
      break;
    case 'path_cids_blocked':
      o = putVarint(buf, o, frame.pathId);
      o = putVarint(buf, o, frame.nextSequenceNumber);
      break;
  }
  writer.offset = o;
}
