import { AlertDescription, TlsAlertError, TlsConfigError } from './errors.js';

/**
 * Reader for TLS presentation-language structures (RFC 8446 §3). Every malformation is a decode_error alert: the
 * bytes come from the peer.
 */
export class TlsReader {
  offset: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    end = buf.length,
    readonly what = 'message',
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(message: string, description: AlertDescription = AlertDescription.decode_error): never {
    throw new TlsAlertError(description, `${this.what}: ${message}`);
  }

  private need(n: number, field: string): void {
    if (this.end - this.offset < n) this.fail(`truncated ${field}`);
  }

  u8(field = 'uint8'): number {
    this.need(1, field);
    return this.buf[this.offset++]!;
  }

  u16(field = 'uint16'): number {
    this.need(2, field);
    const o = this.offset;
    this.offset += 2;
    return (this.buf[o]! << 8) | this.buf[o + 1]!;
  }

  u24(field = 'uint24'): number {
    this.need(3, field);
    const o = this.offset;
    this.offset += 3;
    return (this.buf[o]! << 16) | (this.buf[o + 1]! << 8) | this.buf[o + 2]!;
  }

  u32(field = 'uint32'): number {
    this.need(4, field);
    const o = this.offset;
    this.offset += 4;
    return ((this.buf[o]! << 24) | (this.buf[o + 1]! << 16) | (this.buf[o + 2]! << 8) | this.buf[o + 3]!) >>> 0;
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A `<min..max>` vector with a lenBytes-byte length prefix; returns its body as a view. */
  vector(lenBytes: 1 | 2 | 3, min: number, max: number, field: string): Uint8Array {
    const len = lenBytes === 1 ? this.u8(field) : lenBytes === 2 ? this.u16(field) : this.u24(field);
    if (len < min || len > max) this.fail(`${field} length ${len} outside ${min}..${max}`);
    return this.bytes(len, field);
  }

  /** Like vector() but returns a reader over the body. */
  sub(lenBytes: 1 | 2 | 3, min: number, max: number, field: string): TlsReader {
    const body = this.vector(lenBytes, min, max, field);
    return new TlsReader(body, 0, body.length, `${this.what} ${field}`);
  }

  expectEnd(field = 'message'): void {
    if (this.offset !== this.end) this.fail(`${this.end - this.offset} trailing bytes after ${field}`);
  }
}

/** Growable writer for TLS structures. Length prefixes are back-patched so nested vectors need no copies. */
export class TlsWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initial = 512) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.length++] = (v >>> 24) & 0xff;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Writes a length-prefixed vector whose body is produced by `body`. */
  vector(lenBytes: 1 | 2 | 3, body: (w: this) => void): this {
    this.ensure(lenBytes);
    const at = this.length;
    this.length += lenBytes;
    body(this);
    const len = this.length - at - lenBytes;
    const max = lenBytes === 1 ? 0xff : lenBytes === 2 ? 0xffff : 0xffffff;
    if (len > max) throw new TlsConfigError(`vector of ${len} bytes does not fit a ${lenBytes}-byte length`);
    for (let i = lenBytes - 1, v = len; i >= 0; i--, v >>>= 8) this.buf[at + i] = v & 0xff;
    return this;
  }

  vectorBytes(lenBytes: 1 | 2 | 3, b: Uint8Array): this {
    return this.vector(lenBytes, (w) => w.bytes(b));
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Byte-wise equality (not constant time: for public data; secrets use key-schedule's constantTimeEqual). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** Strict UTF-8 decode; undefined when invalid. */
export function fromUtf8(b: Uint8Array): string | undefined {
  try {
    return textDecoder.decode(b);
  } catch {
    return undefined;
  }
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
