import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameType,
  H3ErrorCode,
  RequestStreamParser,
  ResponseStreamParser,
  encodeDataFrame,
  encodeFieldSection,
  encodeFrame,
  encodeGetRequest,
  encodeGoawayFrame,
  encodeGreaseFrame,
  encodeHeadersFrame,
  encodeRequestHeaders,
  encodeResponse,
  encodeResponseHeaders,
  encodeSettingsFrame,
  encodeTrailers,
} from '../src/index.js';
import type { Field, RequestEvent, ResponseEvent } from '../src/index.js';
import { concat, expectH3Error, hex, splits, toHex } from './helpers.js';

function runRequest(chunks: Uint8Array[], parser = new RequestStreamParser()): RequestEvent[] {
  const events = chunks.flatMap((c) => parser.push(c));
  parser.end();
  return events;
}

function runResponse(chunks: Uint8Array[], parser = new ResponseStreamParser()): ResponseEvent[] {
  const events = chunks.flatMap((c) => parser.push(c));
  parser.end();
  return events;
}

/** Joins consecutive data events so that split-dependent chunking compares equal. */
function normalize<E extends { kind: string }>(events: E[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    const last = out[out.length - 1] as { kind: string; data: string } | undefined;
    if (e.kind === 'data') {
      const d = toHex((e as unknown as { data: Uint8Array }).data);
      if (last?.kind === 'data') last.data += d;
      else out.push({ kind: 'data', data: d });
    } else out.push(e);
  }
  return out;
}

const headers = (fields: Field[]): Uint8Array => encodeHeadersFrame(encodeFieldSection(fields));
const req = (extra: Field[] = [], pseudo?: Field[]): Field[] => [
  ...(pseudo ?? [
    { name: ':method', value: 'GET' },
    { name: ':scheme', value: 'https' },
    { name: ':authority', value: 'example.com' },
    { name: ':path', value: '/' },
  ]),
  ...extra,
];

describe('encoding requests and responses', () => {
  it('encodes a GET request as one HEADERS frame with the static-table entries', () => {
    const bytes = encodeGetRequest({ authority: 'example.com', path: '/index.html' }, { huffman: 'never' });
    // HEADERS, length, RIC 0, Base 0, :method GET (17), :scheme https (23), :authority literal, :path literal
    expect(toHex(bytes)).toBe(
      toHex(concat(hex('01 1e 0000 d1 d7 500b'), new TextEncoder().encode('example.com'), hex('510b'), new TextEncoder().encode('/index.html'))),
    );
  });

  it('lowercases header names and accepts objects or field lists', () => {
    const [e] = runRequest([encodeRequestHeaders({ method: 'POST', scheme: 'http', authority: 'a', path: '/x', headers: { 'X-Thing': '1' } })]);
    expect(e).toMatchObject({ kind: 'request', request: { method: 'POST', scheme: 'http', headers: [{ name: 'x-thing', value: '1' }] } });
  });

  it('encodes a response with content-length added and rejects impossible status codes', () => {
    const events = runResponse([encodeResponse(200, [{ name: 'content-type', value: 'text/plain' }], new Uint8Array([1, 2, 3]))]);
    expect(events[0]).toMatchObject({
      kind: 'response',
      response: { status: 200, contentLength: 3, headers: [{ name: 'content-type', value: 'text/plain' }, { name: 'content-length', value: '3' }] },
    });
    expect(toHex(encodeResponse(404))).toBe(toHex(encodeResponseHeaders(404)));
    expect(() => encodeResponseHeaders(99)).toThrow(RangeError);
    expect(() => encodeResponseHeaders(600)).toThrow(RangeError);
  });
});

describe('RequestStreamParser', () => {
  const stream = concat(
    headers(req([{ name: 'content-length', value: '5' }], [
      { name: ':method', value: 'POST' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: 'example.com' },
      { name: ':path', value: '/upload?x=1' },
    ])),
    encodeGreaseFrame(4, hex('ff')),
    encodeDataFrame(hex('0102')),
    encodeDataFrame(new Uint8Array(0)),
    encodeDataFrame(hex('030405')),
    encodeTrailers({ 'x-checksum': 'abc' }),
  );

  it('parses HEADERS, DATA and trailers the same at every split', () => {
    const expected = normalize(runRequest([stream]));
    expect(expected).toMatchObject([
      { kind: 'request', request: { method: 'POST', path: '/upload?x=1', authority: 'example.com', contentLength: 5 } },
      { kind: 'data', data: '0102030405' },
      { kind: 'trailers', trailers: [{ name: 'x-checksum', value: 'abc' }] },
    ]);
    for (const chunks of splits(stream)) expect(normalize(runRequest(chunks))).toEqual(expected);
  });

  it('round-trips GET requests (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9.-]{1,30}(:[0-9]{1,5})?$/),
        fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,60}$/),
        fc.array(fc.record({ name: fc.stringMatching(/^x-[a-z0-9-]{1,10}$/), value: fc.stringMatching(/^[ -~]{0,30}$/) }), { maxLength: 5 }),
        (authority, path, extra) => {
          const bytes = encodeGetRequest({ authority, path, headers: extra });
          const parser = new RequestStreamParser();
          const [event, ...rest] = runRequest([bytes], parser);
          expect(rest).toEqual([]);
          expect(event).toEqual({
            kind: 'request',
            request: { method: 'GET', scheme: 'https', authority, path, headers: extra, contentLength: undefined },
            fields: req(extra, [
              { name: ':method', value: 'GET' },
              { name: ':scheme', value: 'https' },
              { name: ':authority', value: authority },
              { name: ':path', value: path },
            ]),
          });
          expect(parser.request?.path).toBe(path);
        },
      ),
    );
  });

  it('accepts CONNECT, OPTIONS *, and Host instead of :authority', () => {
    runRequest([headers(req([], [{ name: ':method', value: 'CONNECT' }, { name: ':authority', value: 'example.com:443' }]))]);
    runRequest([headers(req([], [{ name: ':method', value: 'OPTIONS' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '*' }]))]);
    runRequest([headers(req([{ name: 'host', value: 'a' }], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':path', value: '/' }]))]);
    runRequest([headers(req([{ name: 'te', value: 'trailers' }]))]);
    runRequest([headers(req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'foo' }, { name: ':path', value: 'x' }]))]);
  });

  const malformedRequests: Array<[string, Field[]]> = [
    ['missing :method', req([], [{ name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '/' }])],
    ['missing :scheme', req([], [{ name: ':method', value: 'GET' }, { name: ':authority', value: 'a' }, { name: ':path', value: '/' }])],
    ['missing :path', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }])],
    ['missing authority', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':path', value: '/' }])],
    ['empty :path', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '' }])],
    ['relative :path', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: 'x' }])],
    ['* :path on GET', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '*' }])],
    ['empty :authority', req([], [{ name: ':method', value: 'GET' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: '' }, { name: ':path', value: '/' }])],
    ['host differs from :authority', req([{ name: 'host', value: 'b' }])],
    ['two host fields', req([{ name: 'host', value: 'example.com' }, { name: 'host', value: 'example.com' }])],
    ['invalid :method', req([], [{ name: ':method', value: 'G T' }, { name: ':scheme', value: 'https' }, { name: ':authority', value: 'a' }, { name: ':path', value: '/' }])],
    ['duplicate :path', req([{ name: ':path', value: '/' }].slice(0, 0), [...req(), { name: ':path', value: '/b' }])],
    ['pseudo-header after a field', [...req([{ name: 'accept', value: '*/*' }]), { name: ':path', value: '/' }]],
    ['unknown pseudo-header', req([], [...req(), { name: ':protocol', value: 'websocket' }])],
    ['response pseudo-header', req([], [...req(), { name: ':status', value: '200' }])],
    ['uppercase field name', req([{ name: 'Accept', value: '*/*' }])],
    ['space in a field name', req([{ name: 'x y', value: '1' }])],
    ['empty field name', req([{ name: '', value: '1' }])],
    ['LF in a value', req([{ name: 'x', value: 'a\nb' }])],
    ['NUL in a value', req([{ name: 'x', value: 'a\0b' }])],
    ['connection header', req([{ name: 'connection', value: 'close' }])],
    ['transfer-encoding', req([{ name: 'transfer-encoding', value: 'chunked' }])],
    ['TE other than trailers', req([{ name: 'te', value: 'gzip' }])],
    ['invalid content-length', req([{ name: 'content-length', value: '-1' }])],
    ['conflicting content-length', req([{ name: 'content-length', value: '1' }, { name: 'content-length', value: '2' }])],
    ['CONNECT with :path', req([], [{ name: ':method', value: 'CONNECT' }, { name: ':authority', value: 'a:1' }, { name: ':path', value: '/' }])],
    ['CONNECT without :authority', req([], [{ name: ':method', value: 'CONNECT' }])],
  ];
  it.each(malformedRequests)('%s is H3_MESSAGE_ERROR on the stream', (_, fields) => {
    expectH3Error(() => new RequestStreamParser().push(headers(fields)), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
  });

  it('checks content-length against the DATA received (RFC 9114 §4.1.2)', () => {
    const head = headers(req([{ name: 'content-length', value: '3' }]));
    expectH3Error(() => runRequest([head, encodeDataFrame(hex('0102'))]), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
    expectH3Error(() => new RequestStreamParser().push(concat(head, encodeDataFrame(hex('01020304')))), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
    expect(normalize(runRequest([head, encodeDataFrame(hex('01')), encodeDataFrame(hex('0203'))]))).toHaveLength(2);
  });

  it('rejects frames out of place with H3_FRAME_UNEXPECTED', () => {
    const h = headers(req());
    const cases = [
      encodeDataFrame(hex('00')),
      concat(h, encodeTrailers({ a: 'b' }), encodeDataFrame(hex('00'))),
      concat(h, encodeTrailers({ a: 'b' }), encodeTrailers({ a: 'b' })),
      concat(h, encodeSettingsFrame({})),
      concat(h, encodeGoawayFrame(0)),
      encodeFrame(FrameType.MAX_PUSH_ID, hex('00')),
      encodeFrame(FrameType.CANCEL_PUSH, hex('00')),
      concat(h, encodeFrame(FrameType.PUSH_PROMISE, hex('000000'))),
      concat(h, encodeFrame(0x09, hex(''))),
    ];
    for (const c of cases) expectH3Error(() => new RequestStreamParser().push(c), H3ErrorCode.H3_FRAME_UNEXPECTED, 'connection');
  });

  it('rejects pseudo-headers in trailers', () => {
    const bytes = concat(headers(req()), headers([{ name: ':path', value: '/' }]));
    expectH3Error(() => new RequestStreamParser().push(bytes), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
    expectH3Error(() => new RequestStreamParser().push(concat(headers(req()), headers([{ name: 'X', value: '1' }]))), H3ErrorCode.H3_MESSAGE_ERROR);
  });

  it('reports incomplete streams', () => {
    expectH3Error(() => runRequest([]), H3ErrorCode.H3_REQUEST_INCOMPLETE, 'stream');
    expectH3Error(() => runRequest([encodeGreaseFrame(0)]), H3ErrorCode.H3_REQUEST_INCOMPLETE, 'stream');
    const bytes = headers(req());
    for (let cut = 1; cut < bytes.length; cut++) {
      expectH3Error(() => runRequest([bytes.subarray(0, cut)]), H3ErrorCode.H3_FRAME_ERROR, 'connection');
    }
    const p = new RequestStreamParser();
    p.push(bytes);
    expect(p.headersComplete).toBe(true);
    p.end();
    expectH3Error(() => p.push(hex('00')), H3ErrorCode.H3_INTERNAL_ERROR);
  });

  it('passes QPACK and size errors through', () => {
    expectH3Error(() => new RequestStreamParser().push(encodeHeadersFrame(hex('0100'))), H3ErrorCode.QPACK_DECOMPRESSION_FAILED, 'connection');
    const big = headers(req([{ name: 'x-big', value: 'a'.repeat(200) }]));
    expectH3Error(() => new RequestStreamParser({ maxFieldSectionSize: 200 }).push(big), H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream');
    expectH3Error(() => new RequestStreamParser({ maxFramePayload: 100 }).push(big), H3ErrorCode.H3_EXCESSIVE_LOAD, 'connection');
  });
});

describe('ResponseStreamParser', () => {
  const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const stream = concat(
    encodeResponseHeaders(103, { link: '</style.css>; rel=preload' }),
    encodeResponse(200, { 'content-type': 'application/octet-stream' }, body),
    encodeGreaseFrame(0),
    encodeTrailers({ 'x-done': '1' }),
  );

  it('parses interim and final responses, DATA and trailers the same at every split', () => {
    const expected = normalize(runResponse([stream]));
    expect(expected).toMatchObject([
      { kind: 'informational', status: 103, headers: [{ name: 'link', value: '</style.css>; rel=preload' }] },
      { kind: 'response', response: { status: 200, contentLength: 300 } },
      { kind: 'data', data: toHex(body) },
      { kind: 'trailers', trailers: [{ name: 'x-done', value: '1' }] },
    ]);
    for (const chunks of splits(stream)) expect(normalize(runResponse(chunks))).toEqual(expected);
  });

  it('ignores content-length for HEAD, 204 and 304 responses', () => {
    const head = encodeResponseHeaders(200, { 'content-length': '1000' });
    runResponse([head], new ResponseStreamParser({ requestMethod: 'HEAD' }));
    runResponse([encodeResponseHeaders(304, { 'content-length': '10' })]);
    runResponse([encodeResponseHeaders(204, { 'content-length': '10' })]);
    expectH3Error(() => runResponse([head]), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
  });

  const malformedResponses: Array<[string, Field[]]> = [
    ['missing :status', [{ name: 'server', value: 'x' }]],
    ['two-digit :status', [{ name: ':status', value: '99' }]],
    ['non-numeric :status', [{ name: ':status', value: '2oo' }]],
    ['101 Switching Protocols', [{ name: ':status', value: '101' }]],
    ['request pseudo-header', [{ name: ':status', value: '200' }, { name: ':path', value: '/' }]],
    ['duplicate :status', [{ name: ':status', value: '200' }, { name: ':status', value: '200' }]],
    ['TE in a response', [{ name: ':status', value: '200' }, { name: 'te', value: 'trailers' }]],
    ['keep-alive', [{ name: ':status', value: '200' }, { name: 'keep-alive', value: '5' }]],
  ];
  it.each(malformedResponses)('%s is H3_MESSAGE_ERROR on the stream', (_, fields) => {
    expectH3Error(() => new ResponseStreamParser().push(headers(fields)), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
  });

  it('rejects DATA before the final response, and PUSH_PROMISE without MAX_PUSH_ID', () => {
    expectH3Error(() => new ResponseStreamParser().push(encodeDataFrame(hex('00'))), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(() => new ResponseStreamParser().push(concat(encodeResponseHeaders(100), encodeDataFrame(hex('00')))), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(() => new ResponseStreamParser().push(encodeFrame(FrameType.PUSH_PROMISE, hex('000000'))), H3ErrorCode.H3_ID_ERROR, 'connection');
  });

  it('reports a stream that ends without a final response', () => {
    expectH3Error(() => runResponse([encodeResponseHeaders(100)]), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
    expectH3Error(() => runResponse([]), H3ErrorCode.H3_MESSAGE_ERROR, 'stream');
  });

  it('never throws anything but H3Error on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, fin) => {
        try {
          const p = new ResponseStreamParser();
          p.push(bytes);
          if (fin) p.end();
        } catch (e) {
          expect((e as Error).name).toBe('H3Error');
        }
      }),
    );
  });
});
