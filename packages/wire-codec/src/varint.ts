/**
 * QUIC variable-length integers (RFC 9000 §16).
 *
 * Representation of values above 2^53-1 (JavaScript's largest exact integer):
 * - `decodeVarint` and `Reader.readVarintExact` return an exact `bigint` for them and a `number` otherwise.
 * - `Reader.readVarint` (the hot-path form used by frame fields that are limits, offsets, counts and packet
 *   numbers) saturates them to `Number.MAX_SAFE_INTEGER`: no legitimate peer can reach such a value within flow
 *   control, and a saturated value still exceeds every limit, so the right error (FLOW_CONTROL_ERROR,
 *   STREAM_LIMIT_ERROR, …) is still raised by the layer that checks it.
 * Encoders accept `number` (a non-negative safe integer) or `bigint` up to 2^62-1.
 */
import { QuicEncodeError, frameEncodingError } from './errors.js';

/** Largest value a varint can carry: 2^62-1 (RFC 9000 §16). */
export const VARINT_MAX = (1n << 62n) - 1n;
/** Largest varint value that is also an exact JavaScript number. */
export const VARINT_MAX_NUMBER = Number.MAX_SAFE_INTEGER;

const TWO_POW_32 = 0x1_0000_0000;
/** hi word (of the 62 value bits) above which the value exceeds 2^53-1. */
const SAFE_HI_LIMIT = 0x20_0000; // 2^21

/** Number of bytes needed for `value` in the minimal encoding (RFC 9000 §16 table 4). */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof value === 'bigint') {
    if (value < 0n || value > VARINT_MAX) throw new QuicEncodeError(`varint out of range: ${value}`);
    if (value < 0x40n) return 1;
    if (value < 0x4000n) return 2;
    if (value < 0x4000_0000n) return 4;
    return 8;
  }
  if (!(value >= 0) || !Number.isSafeInteger(value)) {
    throw new QuicEncodeError(`varint must be a non-negative safe integer or a bigint, got ${value}`);
  }
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x4000_0000) return 4;
  return 8;
}

/**
 * Writes `value` at `offset` using exactly `length` bytes (1, 2, 4 or 8; a non-minimal length is legal
 * everywhere except frame types). Returns the offset after it. Throws QuicEncodeError if it does not fit.
 */
export function writeVarintAt(buf: Uint8Array, offset: number, value: number | bigint, length: 1 | 2 | 4 | 8): number {
  if (offset < 0 || offset + length > buf.length) throw new QuicEncodeError('varint does not fit in buffer');
  if (typeof value === 'bigint') {
    if (value < 0n || value > VARINT_MAX) throw new QuicEncodeError(`varint out of range: ${value}`);
    if (length === 8) {
      const hi = Number(value >> 32n);
      const lo = Number(value & 0xffff_ffffn);
      return writeVarint8Parts(buf, offset, hi, lo);
    }
    value = Number(value);
  } else if (!(value >= 0) || !Number.isSafeInteger(value)) {
    throw new QuicEncodeError(`varint must be a non-negative safe integer or a bigint, got ${value}`);
  }
  switch (length) {
    case 1:
      if (value > 0x3f) break;
      buf[offset] = value;
      return offset + 1;
    case 2:
      if (value > 0x3fff) break;
      buf[offset] = 0x40 | (value >>> 8);
      buf[offset + 1] = value & 0xff;
      return offset + 2;
    case 4:
      if (value > 0x3fff_ffff) break;
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      return offset + 4;
    case 8:
      return writeVarint8Parts(buf, offset, Math.floor(value / TWO_POW_32), value >>> 0);
  }
  throw new QuicEncodeError(`varint ${value} does not fit in ${length} bytes`);
}

/**
 * Writes an 8-byte varint from its high 30 and low 32 value bits (no checks: callers have validated the value).
 * Returns the offset after it.
 */
export function writeVarint8Parts(buf: Uint8Array, offset: number, hi: number, lo: number): number {
  buf[offset] = 0xc0 | (hi >>> 24);
  buf[offset + 1] = (hi >>> 16) & 0xff;
  buf[offset + 2] = (hi >>> 8) & 0xff;
  buf[offset + 3] = hi & 0xff;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = (lo >>> 16) & 0xff;
  buf[offset + 6] = (lo >>> 8) & 0xff;
  buf[offset + 7] = lo & 0xff;
  return offset + 8;
}

/** Encodes `value` minimally into a new array. */
export function encodeVarint(value: number | bigint): Uint8Array {
  const length = varintLength(value);
  const out = new Uint8Array(length);
  writeVarintAt(out, 0, value, length);
  return out;
}

/**
 * Decodes the varint at `offset`. `value` is a number up to 2^53-1 and an exact bigint above.
 * Truncated input throws QuicCodecError(FRAME_ENCODING_ERROR).
 */
export function decodeVarint(buf: Uint8Array, offset: number): { value: number | bigint; length: number } {
  if (!(offset >= 0) || offset >= buf.length) throw frameEncodingError('truncated varint');
  const first = buf[offset]!;
  const length = 1 << (first >> 6);
  if (offset + length > buf.length) throw frameEncodingError('truncated varint');
  let value: number | bigint;
  switch (length) {
    case 1:
      value = first & 0x3f;
      break;
    case 2:
      value = ((first & 0x3f) << 8) | buf[offset + 1]!;
      break;
    case 4:
      value = ((first & 0x3f) * 0x100_0000) + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      break;
    default: {
      const hi = ((first & 0x3f) * 0x100_0000) + ((buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!);
      const lo = ((buf[offset + 4]! * 0x100_0000) + ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!));
      value = hi < SAFE_HI_LIMIT ? hi * TWO_POW_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    }
  }
  return { value, length };
}

/** True when the varint starting with byte `first` used more bytes than `value` needs. */
export function isNonMinimal(first: number, value: number | bigint): boolean {
  return (1 << (first >> 6)) !== varintLength(value);
}
