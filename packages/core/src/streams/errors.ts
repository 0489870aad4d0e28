/**
 * Programmer errors of the stream layer's application API (never network input: peer violations are
 * QuicCodecError with an RFC 9000 §20.1 code).
 */

export type StreamErrorCode =
  /** No stream with this ID was ever opened (or the ID is not a valid stream ID). */
  | 'unknown-stream'
  /** The stream existed but is closed: both directions finished and its state was freed. */
  | 'closed'
  /** The stream has no send side for us (peer's unidirectional stream) or the FIN was already queued. */
  | 'not-writable'
  /** The stream has no receive side for us (our unidirectional stream). */
  | 'not-readable'
  /** The send side was reset (by reset(), or in answer to the peer's STOP_SENDING). */
  | 'stream-reset'
  /** An argument is out of range (priority, error code, maxBytes, data). */
  | 'invalid-argument';

export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
