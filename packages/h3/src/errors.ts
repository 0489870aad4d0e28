/**
 * HTTP/3 and QPACK error codes and the one typed error this package throws for anything a peer sent.
 *
 * Every decoder and state machine here turns malformed input into an {@link H3Error} whose `code` is the
 * application error code the connection core should use: with `scope: 'connection'` to close the connection
 * (CONNECTION_CLOSE of type 0x1d), with `scope: 'stream'` to reset the stream / stop sending on it.
 */

/** RFC 9114 §8.1 and RFC 9204 §6 error codes. */
export const H3ErrorCode = {
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;
export type H3ErrorCode = (typeof H3ErrorCode)[keyof typeof H3ErrorCode];

const NAMES = new Map<number, string>(Object.entries(H3ErrorCode).map(([name, code]) => [code, name]));

/**
 * Name of an error code; reserved GREASE codes (0x1f * N + 0x21, RFC 9114 §8.1) and unknown codes are shown in hex.
 * Unknown codes received from a peer are equivalent to H3_NO_ERROR (RFC 9114 §8).
 */
export function h3ErrorName(code: number | bigint): string {
  const name = typeof code === 'number' ? NAMES.get(code) : undefined;
  return name ?? `0x${code.toString(16)}`;
}

/** Whether the error ends the whole connection or only one stream (RFC 9114 §8). */
export type H3ErrorScope = 'connection' | 'stream';

export class H3Error extends Error {
  override readonly name = 'H3Error';
  readonly code: H3ErrorCode;
  readonly scope: H3ErrorScope;

  constructor(code: H3ErrorCode, message: string, scope: H3ErrorScope = 'connection') {
    super(`${h3ErrorName(code)}: ${message}`);
    this.code = code;
    this.scope = scope;
  }
}

/** Shorthand for the common throw sites. */
export function h3Fail(code: H3ErrorCode, message: string, scope: H3ErrorScope = 'connection'): never {
  throw new H3Error(code, message, scope);
}

/** True for the reserved "GREASE" code points 0x1f * N + 0x21 shared by frame types, settings, stream types and errors. */
export function isReservedCodepoint(value: number | bigint): boolean {
  if (typeof value === 'bigint') return value >= 0x21n && (value - 0x21n) % 0x1fn === 0n;
  return value >= 0x21 && (value - 0x21) % 0x1f === 0;
}
