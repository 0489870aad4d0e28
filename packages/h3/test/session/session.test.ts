import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3Error, H3ErrorCode } from '../../src/index.js';
import {
  H3ClosedError,
  H3StreamError,
  fetchH3,
  fileHandler,
  h3Client,
  readBody,
  saveBody,
  serveH3,
} from '../../src/session/index.js';
import type { H3Handler, H3Request } from '../../src/session/index.js';
import { FakeStreamError, createFakeQuicPair } from './fake-quic.js';
import { FILE_SIZES, makeTree, rejection, sha256, startSession, text } from './helpers.js';
import type { Tree } from './helpers.js';

let tree: Tree;
beforeAll(async () => {
  tree = await makeTree();
});
afterAll(async () => {
  await rm(join(tree.root, '..'), { recursive: true, force: true });
});

describe('file serving over a fake QUIC connection', () => {
  it('serves files of every size byte-identical, with content-length', async () => {
    const s = startSession(fileHandler(tree.root), { fake: { maxPiece: 3000 } });
    for (const size of FILE_SIZES) {
      const name = `size-${size}.bin`;
      const res = await s.client.fetch({ authority: 'example.test', path: `/${name}` });
      expect(res.status).toBe(200);
      expect(res.header('content-length')).toBe(String(size));
      expect(res.header('content-type')).toBe('application/octet-stream');
      const body = await readBody(res.body);
      expect(body.length).toBe(size);
      expect(sha256(body)).toBe(sha256(tree.files.get(name)!));
      expect(await res.trailers).toEqual([]);
    }
    expect(s.client.activeRequests).toBe(0);
    expect(s.errors).toEqual([]);
  });

  it('runs many requests in parallel on one connection', async () => {
    const s = startSession(fileHandler(tree.root), { fake: { maxPiece: 5000 } });
    const names = [...tree.files.keys()].filter((n) => n.startsWith('size-'));
    const all = [...names, ...names];
    const results = await Promise.all(
      all.map(async (name) => {
        const res = await s.client.fetch({ authority: 'example.test', path: `/${name}` });
        return { name, id: res.streamId, body: await readBody(res.body) };
      }),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(all.length);
    for (const r of results) expect(sha256(r.body)).toBe(sha256(tree.files.get(r.name)!));
    expect(s.server.activeRequests).toBe(0);
  });

  it('fetchH3 takes a URL, shares one client per connection, and saveBody writes the file', async () => {
    const { client: cc, server: sc } = createFakeQuicPair();
    serveH3(sc, fileHandler(tree.root));
    const [a, b] = await Promise.all([
      fetchH3(cc, 'https://example.test:4433/size-1048583.bin?x=1'),
      fetchH3(cc, new URL('https://example.test/hello.txt')),
    ]);
    expect(h3Client(cc)).toBe(h3Client(cc));
    const out = join(tmpdir(), `h3-save-${process.pid}-${a.streamId}.bin`);
    expect(await saveBody(a.body, out)).toBe(1_048_583);
    expect(sha256(await readFile(out))).toBe(sha256(tree.files.get('size-1048583.bin')!));
    await rm(out);
    expect(text(await readBody(b.body))).toBe('hello, world\n');
    expect(b.header('Content-Type')).toBe('text/plain; charset=utf-8');
  });

  it('answers HEAD with the length and no content', async () => {
    const s = startSession(fileHandler(tree.root));
    const res = await s.client.fetch({ authority: 'a', path: '/size-200000.bin', method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('200000');
    expect((await readBody(res.body)).length).toBe(0);
  });

  it.each([
    ['/missing.bin', 404],
    ['/sub', 200],
    ['/sub/', 200],
    ['/sub/data.bin', 200],
    ['/with%20space.txt', 200],
    ['/./hello.txt', 200],
    ['/../outside/secret.txt', 404],
    ['/sub/../../outside/secret.txt', 404],
    ['/%2e%2e/outside/secret.txt', 404],
    ['/sub/%2E%2E/hello.txt', 404],
    ['/sub%2Fdata.bin', 400],
    ['/sub%5cdata.bin', 400],
    ['/%zz', 400],
    ['/hello%00.txt', 400],
    ['/link.txt', 404],
  ])('GET %s → %i', async (path, status) => {
    const s = startSession(fileHandler(tree.root));
    const res = await s.client.fetch({ authority: 'a', path });
    expect(res.status).toBe(status);
    const body = await readBody(res.body);
    if (status === 200 && path.startsWith('/sub') && !path.includes('data')) expect(text(body)).toBe('<h1>sub</h1>\n');
    if (status !== 200) expect(text(body)).not.toContain('secret');
  });

  it('answers other methods with 405 and an allow header', async () => {
    const s = startSession(fileHandler(tree.root));
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await s.client.fetch({ authority: 'a', path: '/hello.txt', method, body: new Uint8Array([1, 2]) });
      expect(res.status).toBe(405);
      expect(res.header('allow')).toBe('GET, HEAD');
      await readBody(res.body);
    }
  });

  it('a directory without an index is 404', async () => {
    const s = startSession(fileHandler(tree.root, { index: false }));
    expect((await s.client.fetch({ authority: 'a', path: '/sub/' })).status).toBe(404);
  });
});

describe('custom handlers', () => {
  it('streams request bodies and trailers both ways', async () => {
    let seen: H3Request | undefined;
    const handler: H3Handler = async (req) => {
      seen = req;
      const got = await readBody(req.body);
      const trailers = await req.trailers;
      return {
        status: 201,
        headers: { 'X-Echo': String(got.length) },
        body: new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(got);
            c.enqueue(new TextEncoder().encode(`|${trailers.map((t) => `${t.name}=${t.value}`).join(',')}`));
            c.close();
          },
        }),
        trailers: { 'x-done': 'yes' },
      };
    };
    const s = startSession(handler, { fake: { maxPiece: 7 } });
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10; i++) yield new TextEncoder().encode(`part${i};`);
    }
    const res = await s.client.fetch(
      { authority: 'example.test', path: '/echo?q=1', method: 'POST', headers: { 'X-Custom': 'v' } },
      { body: parts(), trailers: { 'x-sum': '42' } },
    );
    expect(res.status).toBe(201);
    expect(res.header('x-echo')).toBe('60');
    expect(res.contentLength).toBeUndefined();
    expect(text(await readBody(res.body))).toBe('part0;part1;part2;part3;part4;part5;part6;part7;part8;part9;|x-sum=42');
    expect(await res.trailers).toEqual([{ name: 'x-done', value: 'yes' }]);
    expect(seen?.method).toBe('POST');
    expect(seen?.path).toBe('/echo?q=1');
    expect(seen?.authority).toBe('example.test');
    expect(seen?.scheme).toBe('https');
    expect(seen?.header('x-custom')).toBe('v');
  });

  it('a throwing handler or an invalid status becomes 500', async () => {
    const s = startSession((req) => {
      if (req.path === '/throw') throw new Error('boom');
      return { status: 42 };
    });
    expect((await s.client.fetch({ authority: 'a', path: '/throw' })).status).toBe(500);
    expect((await s.client.fetch({ authority: 'a', path: '/status' })).status).toBe(500);
    expect(s.errors.length).toBe(2);
  });

  it('a body source failing midway resets the stream with H3_INTERNAL_ERROR', async () => {
    const s = startSession(() => ({
      status: 200,
      body: (async function* () {
        yield new Uint8Array(100);
        throw new Error('disk on fire');
      })(),
    }));
    const res = await s.client.fetch({ authority: 'a', path: '/' });
    const err = await rejection(readBody(res.body));
    expect(err).toBeInstanceOf(H3StreamError);
    expect((err as H3StreamError).code).toBe(H3ErrorCode.H3_INTERNAL_ERROR);
    expect((err as H3StreamError).cause).toBeInstanceOf(FakeStreamError);
  });

  it('writes with backpressure: an unread body does not run the source ahead', async () => {
    let produced = 0;
    let finalized = false;
    const s = startSession(
      () => ({
        status: 200,
        body: (async function* () {
          try {
            for (;;) {
              produced++;
              yield new Uint8Array(1000);
            }
          } finally {
            finalized = true;
          }
        })(),
      }),
      { fake: { receiveBuffer: 8000 } },
    );
    const res = await s.client.fetch({ authority: 'a', path: '/endless' });
    const reader = res.body.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    // 8000 bytes of receive buffer, a queued write or two, the 5 chunks read: far from unbounded.
    expect(produced).toBeLessThan(20);
    // Cancelling the body is H3_REQUEST_CANCELLED; the server's writer fails and the generator is finalized.
    await reader.cancel();
    for (let i = 0; i < 50 && !finalized; i++) await new Promise((r) => setImmediate(r));
    expect(finalized).toBe(true);
    expect(s.clientConn.log).toContainEqual({
      op: 'stop-sending',
      by: 'client',
      id: res.streamId,
      code: H3ErrorCode.H3_REQUEST_CANCELLED,
    });
  });

  it('HEAD drops a body the handler returned, and 204 carries none', async () => {
    let returned = false;
    const s = startSession((req) => ({
      status: req.path === '/empty' ? 204 : 200,
      headers: { 'content-length': '5' },
      body: (async function* () {
        try {
          yield new TextEncoder().encode('hello');
        } finally {
          returned = true;
        }
      })(),
    }));
    const head = await s.client.fetch({ authority: 'a', path: '/', method: 'HEAD' });
    expect(head.header('content-length')).toBe('5');
    expect((await readBody(head.body)).length).toBe(0);
    const empty = await s.client.fetch({ authority: 'a', path: '/empty' });
    expect(empty.status).toBe(204);
    expect((await readBody(empty.body)).length).toBe(0);
    // The generators never started, so nothing was held open.
    expect(returned).toBe(false);
  });

  it('aborting a request rejects the fetch with the reason and cancels the stream', async () => {
    const never = new Promise<never>(() => {});
    const s = startSession(() => never);
    const controller = new AbortController();
    const pending = s.client.fetch({ authority: 'a', path: '/slow' }, { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('user gave up'));
    const err = await rejection(pending);
    expect((err as Error).message).toBe('user gave up');
    expect(s.clientConn.log.some((e) => e.code === H3ErrorCode.H3_REQUEST_CANCELLED && e.by === 'client')).toBe(true);
    // An already aborted signal never opens a stream.
    await expect(s.client.fetch({ authority: 'a', path: '/' }, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('the server stops reading a request body it does not need, after a complete response', async () => {
    const s = startSession(() => ({ status: 200, body: new TextEncoder().encode('ok') }));
    let sent = 0;
    async function* big(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) {
        sent += 16384;
        yield new Uint8Array(16384);
      }
    }
    const res = await s.client.fetch({ authority: 'a', path: '/upload', method: 'PUT' }, { body: big() });
    expect(text(await readBody(res.body))).toBe('ok');
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    expect(s.serverConn.log).toContainEqual({ op: 'stop-sending', by: 'server', id: res.streamId, code: H3ErrorCode.H3_NO_ERROR });
    expect(sent).toBeLessThan(16384 * 1000);
  });
});

describe('settings, GOAWAY and closing', () => {
  it('each side learns the other one\'s SETTINGS', async () => {
    const s = startSession(fileHandler(tree.root), { server: { maxFieldSectionSize: 10000 } });
    const [fromServer, fromClient] = await Promise.all([s.client.settings, s.server.settings]);
    expect(fromServer).toMatchObject({ qpackMaxTableCapacity: 0, qpackBlockedStreams: 0, maxFieldSectionSize: 10000 });
    expect(fromClient).toMatchObject({ qpackMaxTableCapacity: 0, qpackBlockedStreams: 0, maxFieldSectionSize: 65536 });
    // The client respects the server's limit.
    await expect(
      s.client.fetch({ authority: 'a', path: '/', headers: { 'x-big': 'x'.repeat(20000) } }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('a header section over our limit is a stream error H3_EXCESSIVE_LOAD, the connection survives', async () => {
    const s = startSession(fileHandler(tree.root), { server: { maxFieldSectionSize: 1000 } });
    // Send before the client learned the limit.
    const err = await rejection(s.client.fetch({ authority: 'a', path: '/', headers: { 'x-big': 'x'.repeat(2000) } }));
    expect(err).toBeInstanceOf(H3StreamError);
    expect((err as H3StreamError).code).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
    expect((await s.client.fetch({ authority: 'a', path: '/hello.txt' })).status).toBe(200);
  });

  it('shutdown sends GOAWAY, finishes accepted requests, rejects new ones, closes with H3_NO_ERROR', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = startSession(async () => {
      await gate;
      return { status: 200, body: new TextEncoder().encode('done') };
    });
    const first = s.client.fetch({ authority: 'a', path: '/one' });
    await new Promise((r) => setImmediate(r));
    const shutdown = s.server.shutdown();
    for (let i = 0; i < 10 && s.client.goawayId === undefined; i++) await new Promise((r) => setImmediate(r));
    expect(s.server.goawayId).toBe(4);
    expect(s.client.goawayId).toBe(4);
    const refused = await rejection(s.client.fetch({ authority: 'a', path: '/two' }));
    expect(refused).toBeInstanceOf(H3Error);
    expect((refused as H3Error).code).toBe(H3ErrorCode.H3_REQUEST_REJECTED);
    release();
    const res = await first;
    expect(text(await readBody(res.body))).toBe('done');
    await shutdown;
    expect(await s.clientConn.closed).toEqual({ closeCode: H3ErrorCode.H3_NO_ERROR, reason: 'shutdown', remote: true });
    await expect(s.client.fetch({ authority: 'a', path: '/three' })).rejects.toBeInstanceOf(H3ClosedError);
  });

  it('a request stream at or beyond the GOAWAY ID is rejected with H3_REQUEST_REJECTED', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = startSession(async () => {
      await gate;
      return { status: 200 };
    });
    const first = s.client.fetch({ authority: 'a', path: '/one' });
    await new Promise((r) => setImmediate(r));
    const shutdown = s.server.shutdown();
    await new Promise((r) => setImmediate(r));
    // A client that ignores GOAWAY: stream 4 on the same connection, written directly.
    const stream = await s.clientConn.createBidirectionalStream();
    expect(stream.id).toBe(4);
    const err = await rejection(stream.readable.getReader().read());
    expect((err as FakeStreamError).code).toBe(H3ErrorCode.H3_REQUEST_REJECTED);
    expect(s.serverConn.log).toContainEqual({ op: 'reset', by: 'server', id: 4, code: H3ErrorCode.H3_REQUEST_REJECTED });
    release();
    expect((await first).status).toBe(200);
    await shutdown;
  });

  it('a connection closed under a pending request fails it with H3StreamError', async () => {
    const s = startSession(() => new Promise<never>(() => {}));
    const pending = s.client.fetch({ authority: 'a', path: '/' });
    await new Promise((r) => setImmediate(r));
    s.serverConn.close({ closeCode: 0x100, reason: 'bye' });
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(H3StreamError);
    expect((err as H3StreamError).code).toBeUndefined();
    expect(s.client.closeInfo).toEqual({ closeCode: 0x100, reason: 'bye', remote: true });
    await expect(s.client.settings.then(() => 'ok')).resolves.toBe('ok'); // settings had arrived before
  });

  it('only one client per connection', () => {
    const { client } = createFakeQuicPair();
    const first = h3Client(client);
    expect(() => new (first.constructor as new (c: typeof client) => unknown)(client)).toThrow(/already has an H3Client/);
  });
});

describe('a GET that carries content (RFC 9110 §9.3.1)', () => {
  it('fileHandler reads and drops the content while the response streams, so a client uploading is never stuck', async () => {
    const s = startSession(fileHandler(tree.root), { fake: { maxPiece: 16384 } });
    const total = 8 << 20; // far more than the server drains after a response, or than the stream buffers
    let sent = 0;
    async function* upload(): AsyncGenerator<Uint8Array> {
      const chunk = new Uint8Array(64 * 1024).fill(7);
      while (sent < total) {
        sent += chunk.length;
        yield chunk;
      }
    }
    const res = await s.client.fetch({ authority: 'a', path: '/size-1048583.bin' }, { body: upload() });
    expect(res.status).toBe(200);
    expect(sha256(await readBody(res.body))).toBe(sha256(tree.files.get('size-1048583.bin')!));
    await expect.poll(() => sent, { timeout: 5000 }).toBe(total);
    expect(s.errors).toEqual([]);
  });
});
