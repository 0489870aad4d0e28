/**
 * The one error class of this package. It is thrown only for programmer errors (a priority outside 0..0xFFFF, a
 * stream the scheduler does not know, a bad option); malformed input from the peer — a `Priority` field value —
 * never throws: RFC 9218 §4 says to ignore what cannot be understood and use the defaults.
 */

/** Why a {@link StreamPriorityError} was thrown. */
export type StreamPriorityErrorCode =
  /** A priority that is not an integer in 0x0000..0xFFFF, or an urgency that is not an integer in 0..7. */
  | 'INVALID_PRIORITY'
  /** A stream handle this scheduler never issued, or whose stream was removed. */
  | 'UNKNOWN_STREAM'
  /** `add` of a stream that is already scheduled. */
  | 'DUPLICATE_STREAM'
  /** Any other bad argument: quantum, amount sent, scheme name, too many streams. */
  | 'INVALID_ARGUMENT';

export class StreamPriorityError extends Error {
  override readonly name = 'StreamPriorityError';
  readonly code: StreamPriorityErrorCode;

  constructor(code: StreamPriorityErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
