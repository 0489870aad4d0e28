/**
 * Errors of the HTTP/3 session layer that are not protocol violations (those are {@link H3Error}): the QUIC stream
 * under a message failed, or the connection is gone.
 */
import type { H3CloseInfo } from './transport.js';

/** The application error code carried by a transport error (a reset stream's `QuicStreamError`), if any. */
export function transportErrorCode(err: unknown): number | bigint | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'number' || typeof code === 'bigint' ? code : undefined;
}

/**
 * The QUIC stream carrying a request or response stopped: the peer reset it (`code` is its RESET_STREAM or
 * STOP_SENDING error code, e.g. H3_REQUEST_CANCELLED / H3_REQUEST_REJECTED, RFC 9114 §4.1.1), or the connection
 * closed (`code` undefined). The transport's error is the `cause`.
 */
export class H3StreamError extends Error {
  override readonly name = 'H3StreamError';
  readonly code: number | bigint | undefined;

  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.code = transportErrorCode(cause);
  }
}

/** The HTTP/3 connection is closed (or closing): no new requests. */
export class H3ClosedError extends Error {
  override readonly name = 'H3ClosedError';
  readonly info: H3CloseInfo | undefined;

  constructor(message: string, info?: H3CloseInfo) {
    super(message);
    this.info = info;
  }
}
