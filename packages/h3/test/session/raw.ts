/** A hand-driven HTTP/3 peer on a fake QUIC connection: writes exact bytes, reads exact bytes. */
import { expect } from 'vitest';
import type { H3BidirectionalStream, H3CloseInfo, H3ReceiveStream, H3SendStream } from '../../src/session/index.js';
import type { FakeQuicConnection } from './fake-quic.js';
import { readAll } from './helpers.js';

export async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Opens a unidirectional stream and writes `bytes` on it, leaving it open unless `fin`. */
export async function rawUni(conn: FakeQuicConnection, bytes: Uint8Array, fin = false): Promise<H3SendStream> {
  const stream = await conn.createUnidirectionalStream();
  const writer = stream.writable.getWriter();
  if (bytes.length > 0) await writer.write(bytes);
  if (fin) await writer.close();
  else writer.releaseLock();
  return stream;
}

/** Opens a request stream, writes `bytes` and (by default) FIN. */
export async function rawRequest(conn: FakeQuicConnection, bytes: Uint8Array, fin = true): Promise<H3BidirectionalStream> {
  const stream = await conn.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(bytes);
  if (fin) await writer.close();
  writer.releaseLock();
  return stream;
}

/** Collects the peer's unidirectional streams as they arrive. */
export function collectUni(conn: FakeQuicConnection): H3ReceiveStream[] {
  const streams: H3ReceiveStream[] = [];
  const reader = conn.incomingUnidirectionalStreams.getReader();
  void (async () => {
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return;
      streams.push(next.value);
    }
  })();
  return streams;
}

/** Reads at least `n` bytes from a stream that stays open. */
export async function readAtLeast(readable: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < n) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  reader.releaseLock();
  return Buffer.concat(parts);
}

export { readAll };

/** Waits for the connection to close and checks the code the peer closed it with. */
export async function expectClosedBy(conn: FakeQuicConnection, code: number): Promise<H3CloseInfo> {
  const info = await conn.closed;
  expect(info.remote, 'closed by the peer').toBe(true);
  expect(`0x${info.closeCode.toString(16)}`).toBe(`0x${code.toString(16)}`);
  return info;
}
