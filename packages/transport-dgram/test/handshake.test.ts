import { generateKeyPairSync } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { QuicHandshakeError, connect, listen, type QuicServer } from '../src/index.js';
import { CERT, ROOT_CA, allSocketsClosed, clientOptions, startServer } from './helpers.js';

async function failure(p: Promise<unknown>): Promise<QuicHandshakeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(QuicHandshakeError);
  return e as QuicHandshakeError;
}

async function withServer(opts: Parameters<typeof startServer>[0], fn: (s: QuicServer) => Promise<void>): Promise<void> {
  const server = await startServer(opts);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

afterAll(async () => {
  await allSocketsClosed(15_000);
});

describe('handshake failures name their reason', () => {
  it("'alpn' when no protocol is in common", async () => {
    await withServer({ alpn: ['h3'] }, async (server) => {
      const e = await failure(connect(clientOptions(server, { alpn: ['not-h3'] })));
      expect(e.reason).toBe('alpn');
      expect(e.message).toMatch(/ALPN/);
      expect(e.closeInfo?.errorCode).toBe(0x178);
    });
  });

  it("'certificate' when the server's chain is not trusted", async () => {
    await withServer({}, async (server) => {
      // No ca: Node's Mozilla roots do not include the test root.
      const e = await failure(connect(clientOptions(server, { ca: undefined })));
      expect(e.reason).toBe('certificate');
      expect(e.message).toMatch(/certificate/);
    });
  });

  it("'certificate' when the name does not match", async () => {
    await withServer({}, async (server) => {
      const e = await failure(connect(clientOptions(server, { servername: 'wrong.example' })));
      expect(e.reason).toBe('certificate');
    });
  });

  it("'timeout' when nothing answers (short handshakeTimeout)", async () => {
    // A bound UDP socket that never answers: like a firewall dropping everything.
    const sink = createSocket('udp4');
    sink.bind(0, '127.0.0.1');
    await once(sink, 'listening');
    try {
      const start = Date.now();
      const e = await failure(
        connect({ host: '127.0.0.1', port: sink.address().port, alpn: ['test'], ca: ROOT_CA, servername: 'localhost', transport: { handshakeTimeout: 300 } }),
      );
      expect(e.reason).toBe('timeout');
      expect(Date.now() - start).toBeLessThan(3000);
    } finally {
      sink.close();
    }
  });

  it("'timeout' when nothing listens on the port at all", async () => {
    const probe = createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = probe.address().port;
    probe.close();
    const e = await failure(connect({ host: '127.0.0.1', port, alpn: ['test'], ca: ROOT_CA, servername: 'localhost', transport: { handshakeTimeout: 300 } }));
    expect(e.reason).toBe('timeout');
  });

  it("'aborted' when the signal fires during the handshake", async () => {
    const sink = createSocket('udp4');
    sink.bind(0, '127.0.0.1');
    await once(sink, 'listening');
    try {
      const ac = new AbortController();
      const p = connect({ host: '127.0.0.1', port: sink.address().port, alpn: ['test'], ca: ROOT_CA, servername: 'localhost', signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      const e = await failure(p);
      expect(e.reason).toBe('aborted');
      // Already aborted: rejects at once.
      const e2 = await failure(connect({ host: '127.0.0.1', port: sink.address().port, alpn: ['test'], signal: AbortSignal.abort() }));
      expect(e2.reason).toBe('aborted');
    } finally {
      sink.close();
    }
  });

  it('an AbortSignal closes an established connection', async () => {
    await withServer({}, async (server) => {
      const ac = new AbortController();
      const conn = await connect(clientOptions(server, { signal: ac.signal }));
      ac.abort();
      expect(await conn.closed).toMatchObject({ source: 'local', remote: false });
    });
  });

  it('listen() rejects a key that does not match the certificate, and a port in use', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await expect(listen({ port: 0, host: '127.0.0.1', cert: CERT, key: other, alpn: ['x'] })).rejects.toThrow(/does not match/);
    const server = await startServer();
    try {
      await expect(startServer({ port: server.address().port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await server.close();
    }
  });
});
