/**
 * HTTP messages over HTTP/3 (RFC 9114 §4): encoding requests and responses as frames, and the checks that make a
 * received header or trailer section malformed (RFC 9114 §4.1.2, §4.2, §4.3), which are stream errors of type
 * H3_MESSAGE_ERROR.
 */
import { H3ErrorCode, h3Fail } from './errors.js';
import { encodeDataFrame, encodeHeadersFrame } from './frames.js';
import { encodeFieldSection } from './qpack/field-section.js';
import type { EncodeFieldSectionOptions, Field } from './qpack/field-section.js';

/** Header fields as a list of lines or a plain object (one line per key). */
export type HeaderInput = Iterable<Field> | Readonly<Record<string, string>>;

function toFields(headers: HeaderInput | undefined): Field[] {
  if (headers === undefined) return [];
  if (Symbol.iterator in headers) return [...(headers as Iterable<Field>)];
  return Object.entries(headers as Record<string, string>).map(([name, value]) => ({ name, value }));
}

/** Field names go on the wire in lowercase (RFC 9114 §4.2). */
function lower(fields: Field[]): Field[] {
  return fields.map((f) => (f.name === f.name.toLowerCase() ? f : { ...f, name: f.name.toLowerCase() }));
}

export interface RequestInit {
  readonly method?: string;
  readonly scheme?: string;
  readonly authority: string;
  readonly path: string;
  readonly headers?: HeaderInput;
}

/** The HEADERS frame of a request: :method, :scheme, :authority, :path, then the headers (RFC 9114 §4.3.1). */
export function encodeRequestHeaders(init: RequestInit, options: EncodeFieldSectionOptions = {}): Uint8Array {
  const fields: Field[] = [
    { name: ':method', value: init.method ?? 'GET' },
    { name: ':scheme', value: init.scheme ?? 'https' },
    { name: ':authority', value: init.authority },
    { name: ':path', value: init.path },
    ...lower(toFields(init.headers)),
  ];
  return encodeHeadersFrame(encodeFieldSection(fields, options));
}

/**
 * Everything a client writes on the request stream of a GET: one HEADERS frame. The caller then ends the stream
 * (FIN), as RFC 9114 §4.1 requires after a request.
 */
export function encodeGetRequest(
  init: Omit<RequestInit, 'method'>,
  options: EncodeFieldSectionOptions = {},
): Uint8Array {
  return encodeRequestHeaders({ ...init, method: 'GET' }, options);
}

function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`invalid status ${status}`);
}

/** The HEADERS frame of a response: :status then the headers (RFC 9114 §4.3.2). */
export function encodeResponseHeaders(
  status: number,
  headers?: HeaderInput,
  options: EncodeFieldSectionOptions = {},
): Uint8Array {
  checkStatus(status);
  const fields: Field[] = [{ name: ':status', value: String(status) }, ...lower(toFields(headers))];
  return encodeHeadersFrame(encodeFieldSection(fields, options));
}

/**
 * A complete response: HEADERS, then one DATA frame when `body` is not empty. The caller then ends the stream.
 * A content-length header is added when `body` is given and the headers have none.
 */
export function encodeResponse(
  status: number,
  headers?: HeaderInput,
  body?: Uint8Array,
  options: EncodeFieldSectionOptions = {},
): Uint8Array {
  let fields = lower(toFields(headers));
  if (body !== undefined && !fields.some((f) => f.name === 'content-length')) {
    fields = [...fields, { name: 'content-length', value: String(body.length) }];
  }
  const head = encodeResponseHeaders(status, fields, options);
  if (body === undefined || body.length === 0) return head;
  const data = encodeDataFrame(body);
  const out = new Uint8Array(head.length + data.length);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}

/** A trailer section: a HEADERS frame after the DATA frames (RFC 9114 §4.1). */
export function encodeTrailers(trailers: HeaderInput, options: EncodeFieldSectionOptions = {}): Uint8Array {
  return encodeHeadersFrame(encodeFieldSection(lower(toFields(trailers)), options));
}

// ---- validation of received sections ----

function malformed(message: string): never {
  h3Fail(H3ErrorCode.H3_MESSAGE_ERROR, message, 'stream');
}

/** token characters of RFC 9110 §5.6.2 without uppercase letters (RFC 9114 §4.2). */
const NAME_CHAR = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** NUL, CR and LF never appear in a field value (RFC 9110 §5.5, RFC 9114 §10.3). */
const BAD_VALUE_CHAR = /[\0\r\n]/;

/** Connection-specific fields are malformed in HTTP/3 (RFC 9114 §4.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function checkLine(field: Field, kind: 'request' | 'response' | 'trailers'): void {
  const pseudo = field.name.startsWith(':');
  const bare = pseudo ? field.name.slice(1) : field.name;
  if (!NAME_CHAR.test(bare)) malformed(`invalid field name ${JSON.stringify(field.name)}`);
  if (BAD_VALUE_CHAR.test(field.value)) malformed(`invalid character in the value of ${field.name}`);
  if (pseudo) return;
  if (CONNECTION_SPECIFIC.has(field.name)) malformed(`connection-specific field ${field.name}`);
  // RFC 9114 §4.2: TE only in a request header, and only "trailers".
  if (field.name === 'te' && (kind !== 'request' || field.value !== 'trailers')) malformed('TE other than "trailers"');
}

/** Parses and checks content-length lines (RFC 9110 §8.6); undefined when absent. */
function contentLength(fields: readonly Field[]): number | undefined {
  let result: number | undefined;
  for (const f of fields) {
    if (f.name !== 'content-length') continue;
    if (!/^[0-9]+$/.test(f.value)) malformed(`invalid content-length ${JSON.stringify(f.value)}`);
    const n = Number(f.value);
    if (!Number.isSafeInteger(n)) malformed('content-length too large');
    if (result !== undefined && result !== n) malformed('conflicting content-length values');
    result = n;
  }
  return result;
}

/** Splits a header section into pseudo-header values and regular fields, enforcing order and uniqueness. */
function splitPseudo(fields: readonly Field[], allowed: readonly string[], kind: 'request' | 'response'): {
  pseudo: Map<string, string>;
  headers: Field[];
} {
  const pseudo = new Map<string, string>();
  const headers: Field[] = [];
  for (const f of fields) {
    checkLine(f, kind);
    if (f.name.startsWith(':')) {
      // RFC 9114 §4.3: pseudo-headers first, only the defined ones, each once.
      if (headers.length > 0) malformed(`pseudo-header ${f.name} after a regular field`);
      if (!allowed.includes(f.name)) malformed(`pseudo-header ${f.name} not allowed in a ${kind}`);
      if (pseudo.has(f.name)) malformed(`duplicate ${f.name}`);
      pseudo.set(f.name, f.value);
    } else {
      headers.push(f);
    }
  }
  return { pseudo, headers };
}

/** A received request header section after validation. */
export interface RequestHead {
  readonly method: string;
  /** Absent only for CONNECT. */
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  /** Absent only for CONNECT. */
  readonly path: string | undefined;
  /** The regular fields, in order. */
  readonly headers: Field[];
  readonly contentLength: number | undefined;
}

/** Validates a request header section (RFC 9114 §4.3.1, §4.4); malformed → H3_MESSAGE_ERROR stream error. */
export function validateRequestHeaders(fields: readonly Field[]): RequestHead {
  const { pseudo, headers } = splitPseudo(fields, [':method', ':scheme', ':authority', ':path'], 'request');
  const method = pseudo.get(':method');
  const scheme = pseudo.get(':scheme');
  const authority = pseudo.get(':authority');
  const path = pseudo.get(':path');
  if (method === undefined) malformed('missing :method');
  if (!NAME_CHAR.test(method.toLowerCase())) malformed('invalid :method');
  const hosts = headers.filter((f) => f.name === 'host');
  if (method === 'CONNECT') {
    // RFC 9114 §4.4
    if (scheme !== undefined || path !== undefined) malformed('CONNECT with :scheme or :path');
    if (authority === undefined || authority === '') malformed('CONNECT without :authority');
  } else {
    if (scheme === undefined) malformed('missing :scheme');
    if (path === undefined) malformed('missing :path');
    if (scheme === 'http' || scheme === 'https') {
      if (path === '') malformed('empty :path');
      if (path === '*' ? method !== 'OPTIONS' : !path.startsWith('/')) malformed(`invalid :path ${JSON.stringify(path)}`);
      // An authority (pseudo-header or Host) is mandatory, non-empty, and the two agree.
      if (authority === undefined && hosts.length === 0) malformed('missing :authority and host');
      if (authority === '' || hosts.some((h) => h.value === '')) malformed('empty authority');
      if (hosts.length > 1) malformed('several host fields');
      if (authority !== undefined && hosts.length === 1 && hosts[0]!.value !== authority) {
        malformed(':authority and host differ');
      }
    }
  }
  return { method, scheme, authority, path, headers, contentLength: contentLength(headers) };
}

/** A received response header section after validation. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: Field[];
  readonly contentLength: number | undefined;
}

/** Validates a response header section (RFC 9114 §4.3.2, §4.5); malformed → H3_MESSAGE_ERROR stream error. */
export function validateResponseHeaders(fields: readonly Field[]): ResponseHead {
  const { pseudo, headers } = splitPseudo(fields, [':status'], 'response');
  const raw = pseudo.get(':status');
  if (raw === undefined) malformed('missing :status');
  if (!/^[1-5][0-9][0-9]$/.test(raw)) malformed(`invalid :status ${JSON.stringify(raw)}`);
  const status = Number(raw);
  if (status === 101) malformed('101 Switching Protocols is not allowed in HTTP/3'); // RFC 9114 §4.5
  return { status, headers, contentLength: contentLength(headers) };
}

/** Validates a trailer section: no pseudo-headers (RFC 9114 §4.3) and valid lines. */
export function validateTrailers(fields: readonly Field[]): Field[] {
  for (const f of fields) {
    if (f.name.startsWith(':')) malformed(`pseudo-header ${f.name} in trailers`);
    checkLine(f, 'trailers');
  }
  return [...fields];
}
