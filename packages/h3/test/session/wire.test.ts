/** The exact bytes our client and server put on the wire, checked against RFC 9114 / RFC 9204 and the package's parsers. */
import { describe, expect, it } from 'vitest';
import {
  FrameReader,
  FrameType,
  RequestStreamParser,
  ResponseStreamParser,
  decodeFieldSection,
  decodeSettingsPayload,
  encodeGetRequest,
  encodeResponse,
} from '../../src/index.js';
import type { FrameEvent } from '../../src/index.js';
import { H3Client, encodeSessionControlPreface, readBody, serveH3 } from '../../src/session/index.js';
import { createFakeQuicPair } from './fake-quic.js';
import { toHex } from '../helpers.js';
import { collectUni, rawRequest, readAll, readAtLeast, ticks } from './raw.js';

// 00: control stream type; 04 09: SETTINGS, 9 bytes; 01 00: QPACK_MAX_TABLE_CAPACITY 0; 06 80010000:
// MAX_FIELD_SECTION_SIZE 65536 (4-byte varint); 07 00: QPACK_BLOCKED_STREAMS 0 (RFC 9114 §6.2.1, §7.2.4, RFC 9204 §5).
const CONTROL_PREFACE = '00' + '0409' + '0100' + '0680010000' + '0700';

function frames(bytes: Uint8Array): FrameEvent[] {
  const reader = new FrameReader();
  const events = reader.push(bytes);
  reader.end();
  return events;
}

describe('what the server sends', () => {
  it('one control stream: type 0x00 then SETTINGS, and no QPACK streams by default', async () => {
    const { client, server } = createFakeQuicPair();
    const uni = collectUni(client);
    serveH3(server, () => ({ status: 200 }));
    await ticks();
    expect(uni.length).toBe(1);
    expect(uni[0]!.id).toBe(3); // the server's first unidirectional stream (RFC 9000 §2.1)
    expect(toHex(await readAtLeast(uni[0]!.readable, 12))).toBe(CONTROL_PREFACE);
    expect(toHex(encodeSessionControlPreface(65536))).toBe(CONTROL_PREFACE);
  });

  it('the settings decode to capacity 0, blocked 0; GREASE adds one reserved setting', () => {
    const bytes = encodeSessionControlPreface(16384, true);
    const [frame] = frames(bytes.subarray(1));
    expect(frame).toMatchObject({ kind: 'frame', type: FrameType.SETTINGS });
    const settings = decodeSettingsPayload((frame as { payload: Uint8Array }).payload);
    expect(settings).toMatchObject({ qpackMaxTableCapacity: 0, qpackBlockedStreams: 0, maxFieldSectionSize: 16384 });
    expect(settings.unknown).toEqual([[0x40, 0]]);
  });

  it('openQpackStreams adds an encoder (0x02) and a decoder (0x03) stream with nothing after the type', async () => {
    const { client, server } = createFakeQuicPair();
    const uni = collectUni(client);
    serveH3(server, () => ({ status: 200 }), { openQpackStreams: true });
    await ticks();
    expect(uni.map((s) => s.id)).toEqual([3, 7, 11]);
    expect(toHex(await readAtLeast(uni[1]!.readable, 1))).toBe('02');
    expect(toHex(await readAtLeast(uni[2]!.readable, 1))).toBe('03');
  });

  it('a response: HEADERS with Required Insert Count 0, DATA frames of the chunk size, FIN', async () => {
    const { client, server } = createFakeQuicPair({ maxPiece: 100 });
    const body = new Uint8Array(2500).map((_, i) => i % 251);
    serveH3(server, () => ({ status: 200, headers: { 'Content-Type': 'application/x-test' }, body }), { chunkSize: 1000 });
    const stream = await rawRequest(client, encodeGetRequest({ authority: 'example.test', path: '/x' }));
    const bytes = await readAll(stream.readable);
    const events = frames(bytes);
    const headers = events[0]!;
    expect(headers).toMatchObject({ kind: 'frame', type: FrameType.HEADERS });
    const block = (headers as { payload: Uint8Array }).payload;
    expect(toHex(block.subarray(0, 2))).toBe('0000'); // RFC 9204 §4.5.1: Required Insert Count 0, Base 0
    expect(decodeFieldSection(block)).toEqual([
      { name: ':status', value: '200' },
      { name: 'content-type', value: 'application/x-test' },
      { name: 'content-length', value: '2500' },
    ]);
    const dataFrameSizes: number[] = [];
    let current = 0;
    for (const e of events.slice(1)) {
      expect(e.kind).toBe('data');
      if (e.kind !== 'data') continue;
      current += e.data.length;
      if (e.end) {
        dataFrameSizes.push(current);
        current = 0;
      }
    }
    expect(dataFrameSizes).toEqual([1000, 1000, 500]);
    const parser = new ResponseStreamParser();
    const got = parser.push(bytes).flatMap((e) => (e.kind === 'data' ? [...e.data] : []));
    parser.end();
    expect(Uint8Array.from(got)).toEqual(body);
  });

  it('answers a request whose bytes arrive one at a time', async () => {
    const { client, server } = createFakeQuicPair({ maxPiece: 1 });
    serveH3(server, (req) => ({ status: 200, body: new TextEncoder().encode(req.path ?? '') }));
    const stream = await rawRequest(client, encodeGetRequest({ authority: 'a', path: '/one-by-one' }));
    expect(Buffer.from(await readAll(stream.readable)).toString('hex')).toBe(
      toHex(encodeResponse(200, {}, new TextEncoder().encode('/one-by-one'))),
    );
  });
});

describe('what the client sends', () => {
  it('its control stream and a request: HEADERS (pseudo-headers first, names lowercased), DATA, FIN', async () => {
    const { client, server } = createFakeQuicPair({ maxPiece: 50 });
    const uni = collectUni(server);
    const h3 = new H3Client(client);
    const requests = server.incomingBidirectionalStreams.getReader();
    const pending = h3.fetch('https://example.test:8443/path?q=1', {
      method: 'POST',
      headers: { 'User-Agent': 'pathquic-test' },
      body: new TextEncoder().encode('payload'),
    });
    const { value: stream } = await requests.read();
    const bytes = await readAll(stream!.readable);
    const events = frames(bytes);
    const block = (events[0] as { payload: Uint8Array }).payload;
    expect(toHex(block.subarray(0, 2))).toBe('0000');
    expect(decodeFieldSection(block)).toEqual([
      { name: ':method', value: 'POST' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'example.test:8443' },
      { name: ':path', value: '/path?q=1' },
      { name: 'user-agent', value: 'pathquic-test' },
      { name: 'content-length', value: '7' },
    ]);
    const parser = new RequestStreamParser();
    const data = parser.push(bytes).flatMap((e) => (e.kind === 'data' ? [...e.data] : []));
    parser.end(); // the stream ended with FIN after a complete message
    expect(Buffer.from(data).toString()).toBe('payload');

    const writer = stream!.writable.getWriter();
    await writer.write(encodeResponse(200, { 'x-a': 'b' }, new TextEncoder().encode('fine')));
    await writer.close();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(Buffer.from(await readBody(res.body)).toString()).toBe('fine');

    expect(uni.length).toBe(1);
    expect(uni[0]!.id).toBe(2);
    expect(toHex(await readAtLeast(uni[0]!.readable, 12))).toBe(CONTROL_PREFACE);
  });
});
