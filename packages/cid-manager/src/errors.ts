/**
 * Errors of this package.
 *
 * Two kinds, never mixed:
 * - Misbehaviour of the peer (a bad NEW_CONNECTION_ID, a RETIRE_CONNECTION_ID for a sequence number never sent, …)
 *   raises `QuicCodecError` from @pathquic/wire-codec, carrying the transport error code the connection closes with.
 * - Misuse by the caller (a 3-byte CID length, a config rotation codepoint of 7, …) raises {@link CidConfigError}.
 */

/** A programmer error: bad options or a call that breaks this package's contract. Never caused by network input. */
export class CidConfigError extends TypeError {
  override readonly name = 'CidConfigError';
}
