/**
 * HTTP/3 frame types and encoders (RFC 9114 §7). Every frame is Type (i), Length (i), Payload (§7.1).
 */
import { Reader, Writer, encodeVarint, varintLength } from '@pathquic/wire-codec';
import { H3ErrorCode, h3Fail, isReservedCodepoint } from './errors.js';

/** RFC 9114 §7.2 / §11.2.1 frame types. */
export const FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const KNOWN = new Set<number>(Object.values(FrameType));

/** HTTP/2 frame types with no HTTP/3 equivalent (PRIORITY, PING, WINDOW_UPDATE, CONTINUATION): RFC 9114 §7.2.8. */
export function isHttp2OnlyFrameType(type: number | bigint): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

/** A frame type this package understands (anything else, GREASE included, is skipped: RFC 9114 §9). */
export function isKnownFrameType(type: number | bigint): type is FrameType {
  return typeof type === 'number' && KNOWN.has(type);
}

/** Reserved frame types 0x1f * N + 0x21 (RFC 9114 §7.2.8). */
export function isGreaseFrameType(type: number | bigint): boolean {
  return isReservedCodepoint(type);
}

/** Name of a frame type for messages. */
export function frameTypeName(type: number | bigint): string {
  for (const [name, value] of Object.entries(FrameType)) if (value === type) return name;
  return `0x${type.toString(16)}`;
}

/** Encodes one frame: Type (i), Length (i), Payload (RFC 9114 §7.1). */
export function encodeFrame(type: number | bigint, payload: Uint8Array): Uint8Array {
  const w = new Writer(payload.length + 16);
  w.writeVarint(type);
  w.writeVarint(payload.length);
  w.writeBytes(payload);
  return w.bytes().slice();
}

/**
 * The Type and Length of a DATA frame whose payload the caller sends separately (RFC 9114 §7.2.1): lets a sender
 * stream a file without copying it into a frame.
 */
export function encodeDataFrameHeader(length: number): Uint8Array {
  const w = new Writer(16);
  w.writeVarint(FrameType.DATA);
  w.writeVarint(length);
  return w.bytes().slice();
}

/** A DATA frame (RFC 9114 §7.2.1). */
export function encodeDataFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame(FrameType.DATA, payload);
}

/** A HEADERS frame around an encoded field section (RFC 9114 §7.2.2). */
export function encodeHeadersFrame(encodedFieldSection: Uint8Array): Uint8Array {
  return encodeFrame(FrameType.HEADERS, encodedFieldSection);
}

/** CANCEL_PUSH (RFC 9114 §7.2.3). */
export function encodeCancelPushFrame(pushId: number | bigint): Uint8Array {
  return encodeFrame(FrameType.CANCEL_PUSH, encodeVarint(pushId));
}

/** GOAWAY carrying a stream ID (server) or push ID (client) (RFC 9114 §7.2.6). */
export function encodeGoawayFrame(id: number | bigint): Uint8Array {
  return encodeFrame(FrameType.GOAWAY, encodeVarint(id));
}

/** MAX_PUSH_ID (RFC 9114 §7.2.7). */
export function encodeMaxPushIdFrame(pushId: number | bigint): Uint8Array {
  return encodeFrame(FrameType.MAX_PUSH_ID, encodeVarint(pushId));
}

/** A reserved (GREASE) frame 0x1f * n + 0x21 with the given payload (RFC 9114 §7.2.8), e.g. for padding. */
export function encodeGreaseFrame(n: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeFrame(0x1f * n + 0x21, payload);
}

/** Largest payload of CANCEL_PUSH, GOAWAY and MAX_PUSH_ID: one varint (RFC 9114 §7.2.3, §7.2.6, §7.2.7). */
export const SINGLE_VARINT_PAYLOAD_MAX = 8;

/**
 * Decodes the payload of CANCEL_PUSH, GOAWAY or MAX_PUSH_ID: exactly one varint, else H3_FRAME_ERROR (RFC 9114 §7.1).
 */
export function decodeSingleVarintPayload(type: number, payload: Uint8Array): number | bigint {
  if (payload.length === 0) h3Fail(H3ErrorCode.H3_FRAME_ERROR, `empty ${frameTypeName(type)} frame`);
  const r = new Reader(payload);
  const first = payload[0]!;
  if (1 << (first >> 6) !== payload.length) {
    h3Fail(H3ErrorCode.H3_FRAME_ERROR, `${frameTypeName(type)} payload is not exactly one varint`);
  }
  return r.readVarintExact();
}

/** Bytes a frame with this type and payload length takes on the wire. */
export function frameSize(type: number | bigint, payloadLength: number): number {
  return varintLength(type) + varintLength(payloadLength) + payloadLength;
}
