import { afterAll, describe, expect, it } from 'vitest';
import { connect, type QuicConnection, type QuicServer } from '../src/index.js';
import { allSocketsClosed, clientOptions, drain, readAllBytes, patternBytes, sha256, startServer, waitFor, writeAll } from './helpers.js';

/**
 * Server: on each bidirectional stream, the first 9 bytes are a request: 'U' + 8-byte length to upload (the server
 * reads that many bytes and answers with their sha256) or 'D' + length to download (the server sends that many
 * pattern bytes).
 */
function serveTransfers(server: QuicServer): void {
  void (async () => {
    for await (const conn of server) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void (async () => {
            const reader = s.readable.getReader();
            const head: number[] = [];
            let rest: Uint8Array | undefined;
            while (head.length < 9) {
              const { value, done } = await reader.read();
              if (done) return;
              const need = 9 - head.length;
              head.push(...value.subarray(0, need));
              if (value.length > need) rest = value.subarray(need);
            }
            const len = Number(Buffer.from(head.slice(1)).readBigUInt64BE());
            if (head[0] === 0x55) {
              reader.releaseLock();
              const pre = rest;
              const inner = s.readable.getReader();
              const body = new ReadableStream<Uint8Array>({
                start(c) {
                  if (pre !== undefined) c.enqueue(pre);
                },
                pull: async (c) => {
                  const r = await inner.read();
                  if (r.done) c.close();
                  else c.enqueue(r.value);
                },
              });
              const got = await drain(body);
              await writeAll(s.writable, Buffer.from(`${got.length} ${got.sha256}`));
            } else {
              await writeAll(s.writable, patternBytes(len, 11), 1 << 20);
            }
          })().catch(() => {});
        }
      })();
    }
  })();
}

function request(kind: 'U' | 'D', length: number): Uint8Array {
  const b = Buffer.alloc(9);
  b[0] = kind.charCodeAt(0);
  b.writeBigUInt64BE(BigInt(length), 1);
  return b;
}

async function upload(conn: QuicConnection, data: Uint8Array): Promise<string> {
  const s = await conn.createBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(request('U', data.length));
  for (let o = 0; o < data.length; o += 1 << 20) await w.write(data.subarray(o, Math.min(data.length, o + (1 << 20))));
  await w.close();
  return Buffer.from(await readAllBytes(s.readable)).toString();
}

async function download(conn: QuicConnection, length: number): Promise<{ length: number; sha256: string }> {
  const s = await conn.createBidirectionalStream();
  await writeAll(s.writable, request('D', length));
  return drain(s.readable);
}

afterAll(async () => {
  await allSocketsClosed(15_000);
});

describe('bulk transfers over loopback', () => {
  it('10 MB client→server and server→client, sha256 identical', async () => {
    const server = await startServer();
    serveTransfers(server);
    const conn = await connect(clientOptions(server));
    try {
      const data = patternBytes(10_000_000, 5);
      expect(await upload(conn, data)).toBe(`${data.length} ${sha256(data)}`);
      const got = await download(conn, 10_000_000);
      expect(got).toEqual({ length: 10_000_000, sha256: sha256(patternBytes(10_000_000, 11)) });
    } finally {
      conn.close();
      await server.close();
    }
  }, 60_000);

  it('100 MB each way, sha256 identical (prints MB/s)', async () => {
    const server = await startServer();
    serveTransfers(server);
    const conn = await connect(clientOptions(server));
    try {
      const size = 100_000_000;
      const data = patternBytes(size, 5);
      let t = performance.now();
      expect(await upload(conn, data)).toBe(`${size} ${sha256(data)}`);
      const up = size / 1e6 / ((performance.now() - t) / 1000);
      t = performance.now();
      const got = await download(conn, size);
      const down = size / 1e6 / ((performance.now() - t) / 1000);
      expect(got).toEqual({ length: size, sha256: sha256(patternBytes(size, 11)) });
      const st = conn.stats();
      console.log(
        `100 MB over loopback (client and server in one process): upload ${up.toFixed(1)} MB/s, download ${down.toFixed(1)} MB/s; ` +
          `rtt ${st.rtt.toFixed(2)} ms, client packets lost ${st.lost}`,
      );
    } finally {
      conn.close();
      await server.close();
    }
  }, 240_000);

  it('backpressure: a reader that stops does not make the sender buffer without bound', async () => {
    const server = await startServer({ transport: { maxStreamReceiveWindow: 1 << 20, maxConnectionReceiveWindow: 2 << 20 } });
    let serverConn: QuicConnection | undefined;
    let written = 0;
    let writerBlocked = false;
    void (async () => {
      for await (const conn of server) {
        serverConn = conn;
        for await (const s of conn.incomingBidirectionalStreams) {
          const w = s.writable.getWriter();
          const chunk = new Uint8Array(64 * 1024);
          try {
            for (;;) {
              const p = w.write(chunk);
              let done = false;
              void p.then(
                () => (done = true),
                () => {},
              );
              await new Promise((r) => setTimeout(r, 0));
              if (!done) writerBlocked = true;
              await p;
              written += chunk.length;
            }
          } catch {
            // connection closed at the end
          }
        }
      }
    })();
    const conn = await connect(clientOptions(server, { streamReadHighWaterMark: 64 * 1024 }));
    try {
      const s = await conn.createBidirectionalStream();
      await writeAll(s.writable, request('D', 0));
      const reader = s.readable.getReader();
      await reader.read(); // one chunk, then stop reading
      await waitFor(() => writerBlocked && written > 0, 10_000, 'the writer to block');
      await new Promise((r) => setTimeout(r, 500));
      const plateau = written;
      await new Promise((r) => setTimeout(r, 500));
      // Nothing more is accepted while the reader sleeps: the peer's flow control (1 MiB stream window, 64 KiB
      // queue) and the sender's 1 MiB send buffer bound what is in memory.
      expect(written).toBe(plateau);
      expect(written).toBeLessThan(4 * 1024 * 1024);
      const st = serverConn!.stats();
      expect(st.streams.bufferedSendBytes).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
      expect(conn.stats().streams.bufferedRecvBytes).toBeLessThanOrEqual(1024 * 1024);
      // Reading again lets the transfer continue.
      let more = 0;
      while (more < 3 * 1024 * 1024) {
        const { value } = await reader.read();
        more += value!.length;
      }
      expect(written).toBeGreaterThan(plateau);
    } finally {
      conn.close();
      await server.close();
    }
  }, 30_000);
});
