/**
 * Transport error codes (RFC 9000 §20.1) and the typed error every decoder in this package throws.
 *
 * Decoders never let a RangeError or an out-of-bounds read escape: any malformed input becomes a
 * {@link QuicCodecError} carrying the QUIC error code the connection should close with.
 */

/** RFC 9000 §20.1 transport error codes. */
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  /** CRYPTO_ERROR range start: 0x0100 + TLS alert (RFC 9000 §20.1, RFC 9001 §4.8). */
  CRYPTO_ERROR: 0x0100,
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode] | number;

/** The name of a transport error code, for messages and logs. */
export function transportErrorName(code: number): string {
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${(code - 0x100).toString(16)})`;
  for (const [name, value] of Object.entries(TransportErrorCode)) {
    if (value === code) return name;
  }
  return `0x${code.toString(16)}`;
}

/**
 * A decoding or validation failure that maps onto a QUIC transport error.
 * `frameType` is set when the failure is inside a frame (it goes into CONNECTION_CLOSE's Frame Type field).
 */
export class QuicCodecError extends Error {
  override readonly name = 'QuicCodecError';
  readonly code: number;
  readonly frameType: number | bigint | undefined;

  constructor(code: number, message: string, frameType?: number | bigint) {
    super(
      frameType === undefined
        ? `${transportErrorName(code)}: ${message}`
        : `${transportErrorName(code)} in frame 0x${frameType.toString(16)}: ${message}`,
    );
    this.code = code;
    this.frameType = frameType;
  }
}

/** Raised for programmer errors (bad arguments to an encoder), never for network input. */
export class QuicEncodeError extends TypeError {
  override readonly name = 'QuicEncodeError';
}

export function frameEncodingError(message: string, frameType?: number | bigint): QuicCodecError {
  return new QuicCodecError(TransportErrorCode.FRAME_ENCODING_ERROR, message, frameType);
}

export function protocolViolation(message: string, frameType?: number | bigint): QuicCodecError {
  return new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, message, frameType);
}

export function transportParameterError(message: string): QuicCodecError {
  return new QuicCodecError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, message);
}
