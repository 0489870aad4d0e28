import { createUdpRelay } from '@pathquic/udp-relay';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { ROOT_CA, allSocketsClosed, drain, patternBytes, readAllBytes, sha256, startServer, writeAll } from './helpers.js';

afterAll(async () => {
  await allSocketsClosed(15_000);
});

describe('through a lossy relay', () => {
  it('transfers both ways with 5 % loss, reordering and duplication, sha256 identical', async () => {
    const server = await startServer();
    const size = 4_000_000;
    const fromServer = patternBytes(size, 21);
    void (async () => {
      for await (const conn of server) {
        for await (const s of conn.incomingBidirectionalStreams) {
          void (async () => {
            const got = await readAllBytes(s.readable);
            // Answer with the upload's hash, then a download of `size` bytes.
            const w = s.writable.getWriter();
            await w.write(Buffer.from(sha256(got)));
            for (let o = 0; o < size; o += 256 * 1024) await w.write(fromServer.subarray(o, Math.min(size, o + 256 * 1024)));
            await w.close();
          })().catch(() => {});
        }
      }
    })();
    const impairments = { loss: 0.05, reorderProbability: 0.05, reorderDelayMs: 5, duplicateProbability: 0.05, delayMs: 2 };
    const relay = await createUdpRelay({
      listen: { host: '127.0.0.1', port: 0 },
      target: { host: '127.0.0.1', port: server.address().port },
      seed: 7,
      clientToServer: impairments,
      serverToClient: impairments,
    });
    const conn = await connect({ host: '127.0.0.1', port: relay.address.port, alpn: ['test'], servername: 'localhost', ca: ROOT_CA });
    try {
      const upload = patternBytes(size, 22);
      const s = await conn.createBidirectionalStream();
      await writeAll(s.writable, upload);
      const reader = s.readable.getReader();
      // The first 64 bytes are the hex sha256 of what the server received.
      let head = Buffer.alloc(0);
      let rest: Uint8Array[] = [];
      while (head.length < 64) {
        const { value, done } = await reader.read();
        expect(done).toBe(false);
        head = Buffer.concat([head, value!]);
      }
      if (head.length > 64) rest = [head.subarray(64)];
      expect(head.subarray(0, 64).toString()).toBe(sha256(upload));
      reader.releaseLock();
      const inner = s.readable.getReader();
      const tail = await drain(
        new ReadableStream<Uint8Array>({
          start(c) {
            for (const r of rest) c.enqueue(r);
          },
          async pull(c) {
            const r = await inner.read();
            if (r.done) c.close();
            else c.enqueue(r.value);
          },
        }),
      );
      expect(tail).toEqual({ length: size, sha256: sha256(fromServer) });
      const st = relay.stats;
      // The impairments really happened, both ways, and QUIC recovered from them.
      for (const dir of [st.clientToServer, st.serverToClient]) {
        expect(dir.dropped.loss).toBeGreaterThan(0);
        expect(dir.duplicated).toBeGreaterThan(0);
        expect(dir.reordered).toBeGreaterThan(0);
      }
      expect(conn.stats().lost).toBeGreaterThan(0);
    } finally {
      conn.close();
      await server.close();
      await relay.close();
    }
  }, 120_000);
});
