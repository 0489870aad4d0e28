/**
 * The QUIC connection the HTTP/3 client and server run on, as a structural interface: the subset of the
 * WebTransport-shaped `QuicConnection` of @pathquic/transport-dgram that HTTP/3 needs, so that package (or a test
 * double) fits without h3 depending on it.
 *
 * Semantics this package relies on:
 * - Closing a stream's `writable` (writer.close()) sends FIN; aborting it or calling `reset(code)` sends
 *   RESET_STREAM with that code (RFC 9000 §19.4).
 * - A `readable` ends at the peer's FIN and errors on the peer's RESET_STREAM with an error whose `code` is the
 *   application error code; `stopSending(code)` sends STOP_SENDING (RFC 9000 §19.5).
 * - When the connection closes, every stream's readable and writable errors, and `closed` resolves.
 * - Chunks read from a `readable` belong to the reader (not reused by the transport); chunks written to a `writable`
 *   must not be mutated by the writer afterwards (the transport may keep references until they are acked).
 */

/** What `closed` resolves to: the CONNECTION_CLOSE code and reason, and whether the peer sent it. */
export interface H3CloseInfo {
  readonly closeCode: number;
  readonly reason: string;
  readonly remote: boolean;
}

export interface H3SendStream {
  readonly id: number;
  readonly writable: WritableStream<Uint8Array>;
  /** RESET_STREAM with an application error code (RFC 9000 §19.4). */
  reset(code: number): void;
}

export interface H3ReceiveStream {
  readonly id: number;
  readonly readable: ReadableStream<Uint8Array>;
  /** STOP_SENDING with an application error code (RFC 9000 §19.5). */
  stopSending(code: number): void;
}

export interface H3BidirectionalStream extends H3SendStream, H3ReceiveStream {}

export interface H3QuicConnection {
  /** Resolves once the connection is closed, by either side or by idle timeout. */
  readonly closed: Promise<H3CloseInfo>;
  /** CONNECTION_CLOSE of type 0x1d (application) with this code (RFC 9000 §19.19). */
  close(info?: { closeCode?: number; reason?: string }): void;
  /** Opens a stream; waits while the peer's MAX_STREAMS does not allow one (RFC 9000 §4.6). */
  createBidirectionalStream(options?: { priority?: number }): Promise<H3BidirectionalStream>;
  createUnidirectionalStream(options?: { priority?: number }): Promise<H3SendStream>;
  readonly incomingBidirectionalStreams: ReadableStream<H3BidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<H3ReceiveStream>;
}
