/**
 * The transport API of the issue 7 design (WebTransport-shaped QuicConnection of @pathquic/transport-dgram), written
 * out here as the design states it: it must be assignable to H3QuicConnection, or the real transport will not plug in.
 * Checked by tsc (`expectTypeOf` is a compile-time assertion).
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { H3QuicConnection } from '../../src/session/index.js';

interface QuicSendStream {
  readonly id: number;
  readonly writable: WritableStream<Uint8Array>;
  priority: number;
  reset(code: number): void;
}
interface QuicReceiveStream {
  readonly id: number;
  readonly readable: ReadableStream<Uint8Array>;
  stopSending(code: number): void;
}
interface QuicBidirectionalStream extends QuicSendStream, QuicReceiveStream {}
interface ConnectionStats {
  readonly bytesSent: number;
}
interface QuicConnection {
  readonly ready: Promise<void>;
  readonly closed: Promise<{ closeCode: number; reason: string; remote: boolean }>;
  close(info?: { closeCode?: number; reason?: string }): void;
  createBidirectionalStream(opts?: { priority?: number }): Promise<QuicBidirectionalStream>;
  createUnidirectionalStream(opts?: { priority?: number }): Promise<QuicSendStream>;
  readonly incomingBidirectionalStreams: ReadableStream<QuicBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<QuicReceiveStream>;
  readonly datagrams: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  readonly alpn: string | undefined;
  stats(): ConnectionStats;
}

describe('H3QuicConnection', () => {
  it('is a structural subset of the design\'s QuicConnection', () => {
    expectTypeOf<QuicConnection>().toExtend<H3QuicConnection>();
  });
});
