/** Peers that break RFC 9114 / RFC 9204: the right error code, at the right scope. */
import { describe, expect, it } from 'vitest';
import {
  H3Error,
  H3ErrorCode,
  encodeDataFrame,
  encodeGetRequest,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeRequestHeaders,
  encodeResponse,
  encodeResponseHeaders,
  encodeSettingsFrame,
  encodeFieldSection,
} from '../../src/index.js';
import { H3Client, H3StreamError, fileHandler, readBody, serveH3 } from '../../src/session/index.js';
import type { H3Server } from '../../src/session/index.js';
import { concat, hex } from '../helpers.js';
import { FakeStreamError, createFakeQuicPair } from './fake-quic.js';
import type { FakeQuicConnection } from './fake-quic.js';
import { rejection } from './helpers.js';
import { expectClosedBy, rawRequest, rawUni, readAll, ticks } from './raw.js';

const SETTINGS = encodeSettingsFrame({});
const CONTROL = concat(hex('00'), SETTINGS);
const GET = encodeGetRequest({ authority: 'a', path: '/' });

function rawClient(): { conn: FakeQuicConnection; server: H3Server; errors: unknown[] } {
  const { client, server } = createFakeQuicPair({ maxPiece: 3 });
  const errors: unknown[] = [];
  const h3 = serveH3(server, (req) => ({ status: 200, body: new TextEncoder().encode(req.path ?? '') }), {
    onError: (e) => errors.push(e),
  });
  return { conn: client, server: h3, errors };
}

/** A plain GET on the raw connection still works (the connection survived). */
async function stillServes(conn: FakeQuicConnection): Promise<void> {
  const stream = await rawRequest(conn, encodeGetRequest({ authority: 'a', path: '/alive' }));
  expect(Buffer.from(await readAll(stream.readable)).includes(Buffer.from('/alive'))).toBe(true);
  expect(conn.closeInfo).toBeUndefined();
}

describe('server: connection errors from the client', () => {
  it.each([
    ['an HTTP/2 frame type (0x02) on the control stream', concat(CONTROL, hex('02 01 00')), H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['DATA on the control stream', concat(CONTROL, encodeDataFrame(hex('aa'))), H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['HEADERS on the control stream', concat(CONTROL, encodeHeadersFrame(hex('0000'))), H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['a second SETTINGS', concat(CONTROL, SETTINGS), H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['GOAWAY before SETTINGS', concat(hex('00'), encodeGoawayFrame(0)), H3ErrorCode.H3_MISSING_SETTINGS],
    ['an unknown frame before SETTINGS', concat(hex('00'), hex('21 00'), SETTINGS), H3ErrorCode.H3_MISSING_SETTINGS],
    ['a truncated setting', concat(hex('00'), hex('04 01 06')), H3ErrorCode.H3_FRAME_ERROR],
    ['an HTTP/2 setting', concat(hex('00'), hex('04 02 02 00')), H3ErrorCode.H3_SETTINGS_ERROR],
    ['garbage: GOAWAY whose payload is not one varint', concat(CONTROL, hex('07 03 ff ff ff')), H3ErrorCode.H3_FRAME_ERROR],
    ['garbage: an oversized SETTINGS length', concat(hex('00'), hex('04 bf ff ff ff')), H3ErrorCode.H3_EXCESSIVE_LOAD],
    ['a push stream (type 0x01)', hex('01 00'), H3ErrorCode.H3_STREAM_CREATION_ERROR],
    ['a QPACK encoder stream inserting an entry', hex('02 c1 01 61'), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR],
    ['a QPACK encoder stream setting capacity 100', hex('02 3f 45'), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR],
    ['a QPACK decoder stream acknowledging a section', hex('03 80'), H3ErrorCode.QPACK_DECODER_STREAM_ERROR],
  ])('%s', async (_name, bytes, code) => {
    const { conn, server } = rawClient();
    await rawUni(conn, bytes);
    await expectClosedBy(conn, code);
    expect(server.error?.code).toBe(code);
  });

  it('a second control stream is H3_STREAM_CREATION_ERROR', async () => {
    const { conn } = rawClient();
    await rawUni(conn, CONTROL);
    await ticks(5);
    expect(conn.closeInfo).toBeUndefined();
    await rawUni(conn, CONTROL);
    await expectClosedBy(conn, H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });

  it.each([
    ['ended (FIN)', (s: { writable: WritableStream<Uint8Array> }) => s.writable.close()],
    ['reset', (s: { reset(code: number): void }) => s.reset(H3ErrorCode.H3_NO_ERROR)],
  ])('a control stream %s is H3_CLOSED_CRITICAL_STREAM', async (_name, end) => {
    const { conn } = rawClient();
    const stream = await rawUni(conn, CONTROL);
    await ticks(5);
    await end(stream as never);
    await expectClosedBy(conn, H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });

  it('a closed QPACK encoder stream is H3_CLOSED_CRITICAL_STREAM', async () => {
    const { conn } = rawClient();
    await rawUni(conn, hex('02'), true);
    await expectClosedBy(conn, H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });

  it('empty QPACK streams, Stream Cancellations, GREASE frames and settings are all accepted', async () => {
    const { conn } = rawClient();
    await rawUni(conn, concat(hex('00'), encodeSettingsFrame({}, { greaseN: 3 }), hex('21 03 010203')));
    await rawUni(conn, hex('02'));
    await rawUni(conn, hex('03 41'));
    await stillServes(conn);
  });

  it.each([
    ['DATA before HEADERS', concat(encodeDataFrame(hex('00')), GET)],
    ['SETTINGS on a request stream', concat(SETTINGS, GET)],
    ['GOAWAY on a request stream', concat(GET, encodeGoawayFrame(0))],
    ['a second HEADERS after trailers', concat(GET, encodeHeadersFrame(hex('0000')), encodeHeadersFrame(hex('0000')))],
  ])('%s is H3_FRAME_UNEXPECTED', async (_name, bytes) => {
    const { conn } = rawClient();
    await rawRequest(conn, bytes);
    await expectClosedBy(conn, H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('a field section with a non-zero Required Insert Count is QPACK_DECOMPRESSION_FAILED', async () => {
    const { conn } = rawClient();
    await rawRequest(conn, encodeHeadersFrame(hex('01 00 d1')));
    await expectClosedBy(conn, H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
  });
});

describe('server: stream errors from the client leave the connection up', () => {
  async function expectReset(bytes: Uint8Array, code: number, fin = true): Promise<void> {
    const { conn } = rawClient();
    const stream = await rawRequest(conn, bytes, fin);
    const err = await rejection(readAll(stream.readable));
    expect(err).toBeInstanceOf(FakeStreamError);
    expect(`0x${(err as FakeStreamError).code.toString(16)}`).toBe(`0x${code.toString(16)}`);
    expect(conn.log).toContainEqual({ op: 'reset', by: 'server', id: stream.id, code });
    await stillServes(conn);
  }

  it('missing :path is H3_MESSAGE_ERROR', () =>
    expectReset(
      encodeHeadersFrame(encodeFieldSection([{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }])),
      H3ErrorCode.H3_MESSAGE_ERROR,
    ));

  it('an uppercase field name is H3_MESSAGE_ERROR', () =>
    expectReset(
      encodeHeadersFrame(
        encodeFieldSection([
          { name: ':method', value: 'GET' },
          { name: ':scheme', value: 'https' },
          { name: ':authority', value: 'a' },
          { name: ':path', value: '/' },
          { name: 'X-Upper', value: '1' },
        ]),
      ),
      H3ErrorCode.H3_MESSAGE_ERROR,
    ));

  it('FIN before HEADERS is H3_REQUEST_INCOMPLETE', () => expectReset(new Uint8Array(0), H3ErrorCode.H3_REQUEST_INCOMPLETE));

  it('a stream ending inside a frame is H3_FRAME_ERROR on the connection', async () => {
    const { conn } = rawClient();
    await rawRequest(conn, GET.subarray(0, GET.length - 1));
    await expectClosedBy(conn, H3ErrorCode.H3_FRAME_ERROR);
  });

  it('a request body shorter than its content-length is H3_MESSAGE_ERROR for a handler that reads it', async () => {
    const { client, server } = createFakeQuicPair();
    serveH3(server, async (req) => ({ status: 200, body: await readBody(req.body) }));
    const stream = await rawRequest(
      client,
      concat(encodeRequestHeaders({ method: 'POST', authority: 'a', path: '/', headers: { 'content-length': '10' } }), encodeDataFrame(hex('010203'))),
    );
    const err = await rejection(readAll(stream.readable));
    expect((err as FakeStreamError).code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
  });

  it('an unknown unidirectional stream type is stopped with H3_STREAM_CREATION_ERROR', async () => {
    const { conn } = rawClient();
    const stream = await rawUni(conn, hex('21 01 02 03')); // reserved type 0x21 (RFC 9114 §6.2.3)
    await ticks(10);
    expect(conn.log).toContainEqual({ op: 'stop-sending', by: 'server', id: stream.id, code: H3ErrorCode.H3_STREAM_CREATION_ERROR });
    const writer = stream.writable.getWriter();
    await expect(writer.write(hex('00'))).rejects.toBeInstanceOf(FakeStreamError);
    await stillServes(conn);
  });

  it('a unidirectional stream that ends before its type is ignored', async () => {
    const { conn } = rawClient();
    await rawUni(conn, new Uint8Array(0), true);
    await rawUni(conn, hex('40'), true); // the first byte of a two-byte type, then FIN
    await stillServes(conn);
  });
});

describe('client: errors from the server', () => {
  function rawServer(): { conn: FakeQuicConnection; client: H3Client; next: () => Promise<{ writable: WritableStream<Uint8Array>; readable: ReadableStream<Uint8Array>; id: number }> } {
    const { client, server } = createFakeQuicPair({ maxPiece: 4 });
    const h3 = new H3Client(client);
    const reader = server.incomingBidirectionalStreams.getReader();
    return {
      conn: server,
      client: h3,
      next: async () => {
        const { value } = await reader.read();
        return value!;
      },
    };
  }

  async function respond(stream: { writable: WritableStream<Uint8Array> }, bytes: Uint8Array): Promise<void> {
    const writer = stream.writable.getWriter();
    await writer.write(bytes);
    await writer.close();
  }

  it('DATA before HEADERS: the fetch fails with H3_FRAME_UNEXPECTED and the connection closes with it', async () => {
    const { conn, client, next } = rawServer();
    const pending = rejection(client.fetch({ authority: 'a', path: '/' }));
    // The client closes the connection as soon as it sees the DATA frame, so the FIN may fail.
    await respond(await next(), concat(encodeDataFrame(hex('01')), encodeResponse(200))).catch(() => undefined);
    const err = await pending;
    expect(err).toBeInstanceOf(H3Error);
    expect((err as H3Error).code).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
    await expectClosedBy(conn, H3ErrorCode.H3_FRAME_UNEXPECTED);
    expect(client.error?.code).toBe(H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('a server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR', async () => {
    const { conn } = rawServer();
    await conn.createBidirectionalStream();
    await expectClosedBy(conn, H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });

  it.each([
    ['a control stream without SETTINGS first', concat(hex('00'), encodeGoawayFrame(0)), H3ErrorCode.H3_MISSING_SETTINGS],
    ['MAX_PUSH_ID from a server', concat(CONTROL, hex('0d 01 00')), H3ErrorCode.H3_FRAME_UNEXPECTED],
    ['GOAWAY with a stream ID that is not client bidirectional', concat(CONTROL, encodeGoawayFrame(2)), H3ErrorCode.H3_ID_ERROR],
    ['GOAWAY IDs going up', concat(CONTROL, encodeGoawayFrame(4), encodeGoawayFrame(8)), H3ErrorCode.H3_ID_ERROR],
    ['a push stream without MAX_PUSH_ID', hex('01 00'), H3ErrorCode.H3_ID_ERROR],
  ])('%s', async (_name, bytes, code) => {
    const { conn } = rawServer();
    await rawUni(conn, bytes);
    await expectClosedBy(conn, code);
  });

  it('a body shorter than content-length errors the body with H3_MESSAGE_ERROR and aborts the stream', async () => {
    const { conn, client, next } = rawServer();
    const pending = client.fetch({ authority: 'a', path: '/' });
    const stream = await next();
    await respond(stream, concat(encodeResponseHeaders(200, { 'content-length': '5' }), encodeDataFrame(hex('0102'))));
    const res = await pending;
    const err = await rejection(readBody(res.body));
    expect((err as H3Error).code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
    expect(conn.log).toContainEqual({ op: 'stop-sending', by: 'client', id: stream.id, code: H3ErrorCode.H3_MESSAGE_ERROR });
    expect(conn.closeInfo).toBeUndefined();
  });

  it('a 101 response is H3_MESSAGE_ERROR; interim 103 responses are skipped', async () => {
    const { client, next } = rawServer();
    const bad = client.fetch({ authority: 'a', path: '/' });
    await respond(await next(), encodeResponseHeaders(101));
    expect(((await rejection(bad)) as H3Error).code).toBe(H3ErrorCode.H3_MESSAGE_ERROR);
    const good = client.fetch({ authority: 'a', path: '/' });
    await respond(await next(), concat(encodeResponseHeaders(103, { link: '</a>' }), encodeResponse(200, {}, hex('aa'))));
    const res = await good;
    expect(res.status).toBe(200);
    expect([...(await readBody(res.body))]).toEqual([0xaa]);
  });

  it('a reset response stream fails the fetch with H3StreamError carrying the code', async () => {
    const { client, next } = rawServer();
    const pending = client.fetch({ authority: 'a', path: '/' });
    const stream = (await next()) as unknown as { reset(code: number): void };
    stream.reset(H3ErrorCode.H3_REQUEST_REJECTED);
    const err = await rejection(pending);
    expect(err).toBeInstanceOf(H3StreamError);
    expect((err as H3StreamError).code).toBe(H3ErrorCode.H3_REQUEST_REJECTED);
  });

  it('GOAWAY fails in-flight requests at or above its ID with H3_REQUEST_REJECTED, keeps those below', async () => {
    const { conn, client, next } = rawServer();
    const a = client.fetch({ authority: 'a', path: '/a' });
    const b = client.fetch({ authority: 'a', path: '/b' });
    const first = await next();
    await next();
    await rawUni(conn, concat(CONTROL, encodeGoawayFrame(4)));
    const err = await rejection(b);
    expect((err as H3Error).code).toBe(H3ErrorCode.H3_REQUEST_REJECTED);
    expect(client.goawayId).toBe(4);
    await respond(first, encodeResponse(200, {}, hex('01')));
    expect((await a).status).toBe(200);
    expect(((await rejection(client.fetch({ authority: 'a', path: '/c' }))) as H3Error).code).toBe(H3ErrorCode.H3_REQUEST_REJECTED);
  });
});

describe('server and client together keep working after stream errors', () => {
  it('a file server survives a cancelled download and serves the next one', async () => {
    const { client, server } = createFakeQuicPair();
    serveH3(server, fileHandler('/definitely/not/here'));
    const h3 = new H3Client(client);
    const res = await h3.fetch({ authority: 'a', path: '/x' });
    expect(res.status).toBe(404);
    await res.body.cancel();
    expect((await h3.fetch({ authority: 'a', path: '/y' })).status).toBe(404);
  });
});
