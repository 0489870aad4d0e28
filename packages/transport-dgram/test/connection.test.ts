import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  QuicConnectionClosedError,
  QuicStreamError,
  connect,
  listen,
  toDuplex,
  type QuicBidirectionalStream,
  type QuicConnection,
  type QuicServer,
} from '../src/index.js';
import { CERT, KEY, ROOT_CA, allSocketsClosed, clientOptions, patternBytes, readAllBytes, sha256, startServer, writeAll } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Echo server: every incoming bidirectional stream is piped back; unidirectional streams are read and answered on a new uni stream. */
function serveEcho(server: QuicServer, seen: QuicConnection[] = []): void {
  void (async () => {
    for await (const conn of server) {
      seen.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void s.readable.pipeTo(s.writable).catch(() => {});
      })();
      void (async () => {
        for await (const s of conn.incomingUnidirectionalStreams) {
          const data = await readAllBytes(s.readable).catch(() => new Uint8Array());
          const out = await conn.createUnidirectionalStream();
          await writeAll(out.writable, Buffer.concat([enc.encode('uni:'), data])).catch(() => {});
        }
      })();
    }
  })();
}

async function echoOnce(conn: QuicConnection, text: string): Promise<string> {
  const s = await conn.createBidirectionalStream();
  await writeAll(s.writable, enc.encode(text));
  return dec.decode(await readAllBytes(s.readable));
}

const servers: QuicServer[] = [];
const clients: QuicConnection[] = [];
async function setup(extra: Parameters<typeof startServer>[0] = {}): Promise<{ server: QuicServer; conn: QuicConnection; peers: QuicConnection[] }> {
  const server = await startServer(extra);
  servers.push(server);
  const peers: QuicConnection[] = [];
  serveEcho(server, peers);
  const conn = await connect(clientOptions(server));
  clients.push(conn);
  return { server, conn, peers };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await allSocketsClosed(15_000);
});

describe('connect / listen', () => {
  it('completes a handshake and echoes on a bidirectional stream (IPv4)', async () => {
    const { server, conn, peers } = await setup();
    expect(conn.alpn).toBe('test');
    expect(conn.remoteAddress).toEqual({ address: '127.0.0.1', port: server.address().port, family: 'IPv4' });
    await expect(conn.ready).resolves.toBeUndefined();
    expect(await echoOnce(conn, 'hello, quic')).toBe('hello, quic');
    expect(peers).toHaveLength(1);
    expect(peers[0]!.alpn).toBe('test');
    const st = conn.stats();
    expect(st.rtt).toBeGreaterThan(0);
    expect(st.cwnd).toBeGreaterThan(0);
    expect(st.bytesSent).toBeGreaterThan(1200);
    expect(st.bytesReceived).toBeGreaterThan(1200);
  });

  it('works over IPv6 (::1)', async () => {
    const server = await listen({ port: 0, host: '::1', cert: CERT, key: KEY, alpn: ['test'] });
    servers.push(server);
    serveEcho(server);
    expect(server.address().family).toBe('IPv6');
    const conn = await connect({ host: '::1', port: server.address().port, alpn: ['test'], servername: 'localhost', ca: ROOT_CA });
    clients.push(conn);
    expect(conn.remoteAddress.family).toBe('IPv6');
    expect(await echoOnce(conn, 'over v6')).toBe('over v6');
  });

  it('a dual-stack server on :: accepts IPv4 clients', async () => {
    const server = await listen({ port: 0, cert: CERT, key: KEY, alpn: ['test'] });
    servers.push(server);
    serveEcho(server);
    const conn = await connect({ host: '127.0.0.1', port: server.address().port, alpn: ['test'], servername: 'localhost', ca: ROOT_CA });
    clients.push(conn);
    expect(await echoOnce(conn, 'v4 on dual stack')).toBe('v4 on dual stack');
  });

  it('hands connections out through the "connection" event too', async () => {
    const server = await startServer();
    servers.push(server);
    const got = new Promise<QuicConnection>((resolve) => server.once('connection', resolve));
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    const peer = await got;
    expect(peer.role).toBe('server');
    expect(peer.remoteAddress.port).toBe(conn.localAddress.port);
  });

  it('insecure skips chain verification (no ca)', async () => {
    const server = await startServer();
    servers.push(server);
    serveEcho(server);
    const conn = await connect({ host: '127.0.0.1', port: server.address().port, alpn: ['test'], servername: 'localhost', insecure: true });
    clients.push(conn);
    expect(await echoOnce(conn, 'x')).toBe('x');
  });
});

describe('streams', () => {
  it('carries many parallel bidirectional streams', async () => {
    const { conn } = await setup();
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const data = patternBytes(10_000 + i * 997, i + 1);
        const s = await conn.createBidirectionalStream();
        const [, back] = await Promise.all([writeAll(s.writable, data, 4096), readAllBytes(s.readable)]);
        return sha256(back) === sha256(data);
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  });

  it('opens more streams than MAX_STREAMS allows at once by waiting for credit', async () => {
    const server = await startServer({ transport: { maxConcurrentBidiStreams: 4 } });
    servers.push(server);
    serveEcho(server);
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    const texts = Array.from({ length: 12 }, (_, i) => `stream ${i}`);
    expect(await Promise.all(texts.map((t) => echoOnce(conn, t)))).toEqual(texts);
  });

  it('carries unidirectional streams both ways', async () => {
    const { conn } = await setup();
    const reply = (async () => {
      const reader = conn.incomingUnidirectionalStreams.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      return dec.decode(await readAllBytes(value!.readable));
    })();
    const s = await conn.createUnidirectionalStream();
    expect(() => (s as unknown as QuicBidirectionalStream).readable).toThrow(TypeError);
    await writeAll(s.writable, enc.encode('one way'));
    expect(await reply).toBe('uni:one way');
  });

  it('priority is settable and validated', async () => {
    const { conn } = await setup();
    const s = await conn.createBidirectionalStream({ priority: 10 });
    expect(s.priority).toBe(10);
    s.priority = 0xffff;
    expect(s.priority).toBe(0xffff);
    expect(() => (s.priority = 0x10000)).toThrow(RangeError);
    await writeAll(s.writable, enc.encode('p'));
    expect(dec.decode(await readAllBytes(s.readable))).toBe('p');
  });

  it('a peer RESET_STREAM errors the readable with QuicStreamError(code)', async () => {
    const server = await startServer();
    servers.push(server);
    void (async () => {
      for await (const peer of server) {
        for await (const s of peer.incomingBidirectionalStreams) {
          const w = s.writable.getWriter();
          await w.write(enc.encode('partial'));
          await w.abort(new QuicStreamError(77, 'local'));
        }
      }
    })().catch(() => {});
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    const s = await conn.createBidirectionalStream();
    await writeAll(s.writable, enc.encode('go'));
    const err = await readAllBytes(s.readable).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QuicStreamError);
    expect((err as QuicStreamError).code).toBe(77);
    expect((err as QuicStreamError).kind).toBe('reset');
  });

  it('cancelling a readable sends STOP_SENDING: the peer writer errors with that code', async () => {
    const server = await startServer();
    servers.push(server);
    const writerError = new Promise<unknown>((resolve) => {
      void (async () => {
        for await (const peer of server) {
          for await (const s of peer.incomingBidirectionalStreams) {
            const w = s.writable.getWriter();
            const chunk = new Uint8Array(16 * 1024);
            try {
              for (let i = 0; i < 10_000; i++) await w.write(chunk);
              resolve(undefined);
            } catch (e) {
              resolve(e);
            }
          }
        }
      })().catch(() => {});
    });
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    const s = await conn.createBidirectionalStream();
    const w = s.writable.getWriter();
    await w.write(enc.encode('send me a lot'));
    const reader = s.readable.getReader();
    await reader.read();
    await reader.cancel(new QuicStreamError(42, 'local'));
    const e = await writerError;
    expect(e).toBeInstanceOf(QuicStreamError);
    expect((e as QuicStreamError).code).toBe(42);
    expect((e as QuicStreamError).kind).toBe('stop-sending');
  });

  it('stream.reset() / stopSending() locally error the local side', async () => {
    const { conn } = await setup();
    const s = await conn.createBidirectionalStream();
    s.reset(5);
    await expect(s.writable.getWriter().write(new Uint8Array(1))).rejects.toMatchObject({ code: 5, kind: 'local' });
    s.stopSending(6);
    await expect(s.readable.getReader().read()).rejects.toMatchObject({ code: 6, kind: 'local' });
  });

  it('toDuplex / openDuplex work with pipeline()', async () => {
    const { conn } = await setup();
    const data = patternBytes(300_000, 3);
    const duplex = await conn.openDuplex();
    const parts: Buffer[] = [];
    await Promise.all([
      pipeline(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), duplex),
      pipeline(
        duplex,
        new Writable({
          write(chunk: Buffer, _e, cb) {
            parts.push(chunk);
            cb();
          },
        }),
      ),
    ]);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    const s = await conn.createBidirectionalStream();
    const d2 = toDuplex(s);
    d2.end(Buffer.from('via toDuplex'));
    const chunks: Buffer[] = [];
    for await (const c of d2) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('via toDuplex');
  });
});

describe('datagrams', () => {
  it('sends and receives DATAGRAM frames', async () => {
    const server = await startServer();
    servers.push(server);
    void (async () => {
      for await (const peer of server) {
        void (async () => {
          const w = peer.datagrams.writable.getWriter();
          for await (const d of peer.datagrams.readable) await w.write(Buffer.concat([enc.encode('echo:'), d]));
        })().catch(() => {});
      }
    })();
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    expect(conn.datagrams.maxDatagramSize).toBeGreaterThan(1000);
    const reader = conn.datagrams.readable.getReader();
    const w = conn.datagrams.writable.getWriter();
    // Datagrams are unreliable: resend until one echo arrives (loopback rarely drops).
    const got = (async () => dec.decode((await reader.read()).value))();
    let done = false;
    void got.then(() => (done = true));
    for (let i = 0; i < 20 && !done; i++) {
      await w.write(enc.encode('ping'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await got).toBe('echo:ping');
    // Too large for one datagram: dropped, as WebTransport does, not an error.
    await expect(w.write(new Uint8Array(conn.datagrams.maxDatagramSize + 1))).resolves.toBeUndefined();
  });
});

describe('closing', () => {
  it('close codes and reasons arrive at the peer', async () => {
    const { conn, peers } = await setup();
    expect(await echoOnce(conn, 'x')).toBe('x');
    const peer = peers[0]!;
    conn.close({ closeCode: 0x1234, reason: 'done here' });
    expect(await conn.closed).toMatchObject({ closeCode: 0x1234, reason: 'done here', remote: false, application: true, source: 'local' });
    expect(await peer.closed).toMatchObject({ closeCode: 0x1234, reason: 'done here', remote: true, application: true, source: 'remote' });
  });

  it('server close() closes its connections and streams fail with QuicConnectionClosedError', async () => {
    const server = await startServer();
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    // Before the server's handshake completes, an application close travels as APPLICATION_ERROR (RFC 9000 §10.2.3).
    await accepted;
    const s = await conn.createBidirectionalStream();
    const reading = readAllBytes(s.readable).catch((e: unknown) => e);
    await server.close({ closeCode: 9, reason: 'maintenance' });
    expect(await conn.closed).toMatchObject({ closeCode: 9, reason: 'maintenance', remote: true });
    const e = await reading;
    expect(e).toBeInstanceOf(QuicConnectionClosedError);
    await expect(conn.createBidirectionalStream()).rejects.toBeInstanceOf(QuicConnectionClosedError);
    expect(server.closed).toBe(true);
  });

  it('an AbortSignal closes the server', async () => {
    const ac = new AbortController();
    const server = await startServer({ signal: ac.signal });
    const iterated = (async () => {
      const got: QuicConnection[] = [];
      for await (const c of server) got.push(c);
      return got.length;
    })();
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const conn = await connect(clientOptions(server));
    clients.push(conn);
    await accepted;
    ac.abort();
    expect((await conn.closed).remote).toBe(true);
    expect(await iterated).toBe(1);
    await new Promise<void>((resolve) => (server.closed ? resolve() : server.once('close', resolve)));
  });
});

describe('resumption, tokens, key update, logs', () => {
  it('hands out a session ticket and a NEW_TOKEN token that a second connection resumes with', async () => {
    const ticketKey = new Uint8Array(32).fill(9);
    const { server, conn } = await setup({ ticketKey });
    const ticket = await new Promise((resolve) => (conn.sessionTicket !== undefined ? resolve(conn.sessionTicket) : conn.once('sessionticket', resolve)));
    expect(ticket).toBeDefined();
    await new Promise((resolve) => (conn.newToken !== undefined ? resolve(undefined) : conn.once('newtoken', resolve)));
    const second = await connect(clientOptions(server, { session: conn.sessionTicket, token: conn.newToken }));
    clients.push(second);
    expect(second.resumed).toBe(true);
    expect(await echoOnce(second, 'resumed')).toBe('resumed');
  });

  it('sends 0-RTT data when the server accepts early data', async () => {
    const ticketKey = new Uint8Array(32).fill(3);
    const { server, conn } = await setup({ ticketKey, earlyData: true });
    await new Promise((resolve) => (conn.sessionTicket !== undefined ? resolve(undefined) : conn.once('sessionticket', resolve)));
    const early = await connect(clientOptions(server, { session: conn.sessionTicket, earlyData: true }));
    clients.push(early);
    const answer = echoOnce(early, 'early bird');
    await early.ready;
    expect(await answer).toBe('early bird');
    expect(early.earlyDataAccepted).toBe(true);
  });

  it('updateKeys() runs a key update both sides survive', async () => {
    const { conn, peers } = await setup();
    expect(await echoOnce(conn, 'before')).toBe('before');
    await new Promise((r) => setTimeout(r, 50)); // handshake confirmation
    const seen = new Promise((resolve) => peers[0]!.once('keyupdate', resolve));
    expect(conn.updateKeys()).toBe(true);
    expect(await echoOnce(conn, 'after')).toBe('after');
    expect(await seen).toMatchObject({ initiatedBy: 'peer' });
    expect(conn.stats().keyUpdates).toBeGreaterThanOrEqual(1);
  });

  it('writes a key log and qlog files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pathquic-logs-'));
    try {
      const server = await startServer({ qlogDir: join(dir, 'qlog'), keylog: join(dir, 'server.keys') });
      servers.push(server);
      serveEcho(server);
      const lines: string[] = [];
      const conn = await connect(clientOptions(server, { qlogDir: join(dir, 'qlog'), keylog: (l: string) => lines.push(l) }));
      expect(await echoOnce(conn, 'logged')).toBe('logged');
      conn.close();
      await conn.terminated;
      await server.close();
      expect(lines.some((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0 '))).toBe(true);
      const serverKeys = readFileSync(join(dir, 'server.keys'), 'utf8').trim().split('\n');
      expect(serverKeys.some((l) => l.startsWith('SERVER_HANDSHAKE_TRAFFIC_SECRET '))).toBe(true);
      const files = readdirSync(join(dir, 'qlog')).sort();
      expect(files.filter((f) => f.endsWith('_client.sqlog'))).toHaveLength(1);
      expect(files.filter((f) => f.endsWith('_server.sqlog'))).toHaveLength(1);
      for (const f of files) {
        const records = readFileSync(join(dir, 'qlog', f), 'utf8').split('\u001e').filter((r) => r.length > 0);
        const parsed = records.map((r) => JSON.parse(r) as Record<string, unknown>);
        expect(parsed.length).toBeGreaterThan(5);
        expect(parsed.slice(1).some((e) => e['name'] === 'quic:packet_sent')).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes qlog in the form qvis loads with qlogFormat: qvis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pathquic-qvis-'));
    try {
      const server = await startServer({ qlogDir: dir, qlogFormat: 'qvis' });
      servers.push(server);
      serveEcho(server);
      const conn = await connect(clientOptions(server, { qlogDir: dir, qlogFormat: 'qvis' }));
      expect(await echoOnce(conn, 'qvis')).toBe('qvis');
      conn.close();
      await conn.terminated;
      await server.close();
      for (const f of readdirSync(dir)) {
        const records = readFileSync(join(dir, f), 'utf8').split('\u001e').filter((r) => r.length > 0);
        const [header, ...events] = records.map((r) => JSON.parse(r) as Record<string, unknown>);
        // ../shared/quic-facts.md §8.2: qvis needs qlog_version/qlog_format in the first record and qvis event names.
        expect(header).toMatchObject({ qlog_version: '0.3', qlog_format: 'JSON-SEQ' });
        expect(events.some((e) => e['name'] === 'transport:packet_sent')).toBe(true);
        expect(events.some((e) => e['name'] === 'recovery:metrics_updated')).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
