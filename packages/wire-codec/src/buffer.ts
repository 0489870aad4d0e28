/**
 * Cursor reader and writer over `Uint8Array`.
 *
 * `Reader` never reads out of bounds: every overrun throws QuicCodecError(FRAME_ENCODING_ERROR) carrying
 * `reader.frameType` when a frame decoder has set it. `readBytes` returns a `subarray` view (no copy): the
 * result aliases the input, so callers that keep data past the datagram's lifetime must copy it.
 *
 * `Writer` writes into a caller-owned buffer (fixed size: overflow is a QuicEncodeError, a programmer error)
 * or into its own buffer that grows (when constructed with a capacity).
 */
import { QuicCodecError, QuicEncodeError, TransportErrorCode } from './errors.js';
import { varintLength, writeVarintAt } from './varint.js';

const TWO_POW_32 = 0x1_0000_0000;
const SAFE_HI_LIMIT = 0x20_0000; // 2^21: hi words at or above this make the 62-bit value exceed 2^53-1

export class Reader {
  readonly buf: Uint8Array;
  offset: number;
  readonly end: number;
  /** Frame type reported in errors raised while decoding a frame (set by frame decoders). */
  frameType: number | bigint | undefined = undefined;

  constructor(buf: Uint8Array, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new QuicEncodeError(`bad reader bounds ${offset}..${end} over ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  get atEnd(): boolean {
    return this.offset >= this.end;
  }

  /** Throws the codec's typed error (FRAME_ENCODING_ERROR unless another code is given). */
  fail(message: string, code: number = TransportErrorCode.FRAME_ENCODING_ERROR): never {
    throw new QuicCodecError(code, message, this.frameType);
  }

  private need(n: number, what: string): void {
    if (this.end - this.offset < n) this.fail(`truncated ${what}`);
  }

  peekUint8(): number {
    this.need(1, 'byte');
    return this.buf[this.offset]!;
  }

  readUint8(): number {
    this.need(1, 'byte');
    return this.buf[this.offset++]!;
  }

  readUint16(): number {
    this.need(2, 'uint16');
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 2;
    return (b[o]! << 8) | b[o + 1]!;
  }

  readUint32(): number {
    this.need(4, 'uint32');
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 4;
    return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }

  /** Reads `n` bytes (1..4) as a big-endian unsigned integer (packet numbers). */
  readUintN(n: number): number {
    this.need(n, 'integer');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[this.offset + i]!;
    this.offset += n;
    return v;
  }

  /**
   * Reads a varint as a number, saturating values above 2^53-1 to Number.MAX_SAFE_INTEGER.
   * Use for limits, offsets, lengths, counts and packet numbers (see varint.ts for why this is safe).
   */
  readVarint(): number {
    const v = this.readVarintExact();
    return typeof v === 'number' ? v : Number.MAX_SAFE_INTEGER;
  }

  /** Reads a varint exactly: a number up to 2^53-1, a bigint above. */
  readVarintExact(): number | bigint {
    this.need(1, 'varint');
    const b = this.buf;
    const o = this.offset;
    const first = b[o]!;
    switch (first >> 6) {
      case 0:
        this.offset = o + 1;
        return first;
      case 1:
        this.need(2, 'varint');
        this.offset = o + 2;
        return ((first & 0x3f) << 8) | b[o + 1]!;
      case 2:
        this.need(4, 'varint');
        this.offset = o + 4;
        return (first & 0x3f) * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
      default: {
        this.need(8, 'varint');
        this.offset = o + 8;
        const hi = (first & 0x3f) * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
        const lo = b[o + 4]! * 0x100_0000 + ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!);
        return hi < SAFE_HI_LIMIT ? hi * TWO_POW_32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
      }
    }
  }

  /** Length in bytes of the varint at the cursor, without consuming it. */
  peekVarintLength(): number {
    return 1 << (this.peekUint8() >> 6);
  }

  /** Returns a view of the next `n` bytes (no copy) and advances. */
  readBytes(n: number): Uint8Array {
    if (!(n >= 0) || this.end - this.offset < n) this.fail(`truncated data (need ${n} bytes, have ${this.remaining})`);
    const o = this.offset;
    this.offset = o + n;
    return this.buf.subarray(o, o + n);
  }

  /** Returns a view of everything left (no copy) and moves to the end. */
  readRest(): Uint8Array {
    const o = this.offset;
    this.offset = this.end;
    return this.buf.subarray(o, this.end);
  }

  skip(n: number): void {
    if (!(n >= 0) || this.end - this.offset < n) this.fail('truncated data');
    this.offset += n;
  }
}

export class Writer {
  buf: Uint8Array;
  offset: number;
  private readonly growable: boolean;

  /**
   * `new Writer(buffer, offset?)` writes into a caller-owned buffer (no growth);
   * `new Writer(capacity?)` owns a buffer that grows as needed.
   */
  constructor(bufOrCapacity: Uint8Array | number = 256, offset = 0) {
    if (typeof bufOrCapacity === 'number') {
      this.buf = new Uint8Array(Math.max(16, bufOrCapacity));
      this.growable = true;
    } else {
      this.buf = bufOrCapacity;
      this.growable = false;
    }
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  /** The bytes written so far (a view from 0 to the cursor). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }

  /** Makes room for `n` more bytes (grows an owned buffer; throws for a caller-owned one). */
  ensure(n: number): void {
    if (this.buf.length - this.offset >= n) return;
    if (!this.growable) {
      throw new QuicEncodeError(`writer overflow: need ${n} bytes, ${this.remaining} left`);
    }
    let size = this.buf.length * 2;
    while (size - this.offset < n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  writeUint8(v: number): void {
    this.ensure(1);
    this.buf[this.offset++] = v;
  }

  writeUint16(v: number): void {
    this.ensure(2);
    this.buf[this.offset++] = (v >>> 8) & 0xff;
    this.buf[this.offset++] = v & 0xff;
  }

  writeUint32(v: number): void {
    this.ensure(4);
    const o = this.offset;
    this.buf[o] = (v >>> 24) & 0xff;
    this.buf[o + 1] = (v >>> 16) & 0xff;
    this.buf[o + 2] = (v >>> 8) & 0xff;
    this.buf[o + 3] = v & 0xff;
    this.offset = o + 4;
  }

  /** Writes the low `n` bytes (1..4) of `v` big-endian (packet numbers). */
  writeUintN(v: number, n: number): void {
    this.ensure(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.offset + i] = v & 0xff;
      v = Math.floor(v / 256);
    }
    this.offset += n;
  }

  /** Writes a varint in its minimal encoding. */
  writeVarint(v: number | bigint): void {
    const len = varintLength(v);
    this.ensure(len);
    this.offset = writeVarintAt(this.buf, this.offset, v, len);
  }

  /** Writes a varint with a chosen encoded length (1, 2, 4 or 8), e.g. to patch a Length field later. */
  writeVarintWithLength(v: number | bigint, length: 1 | 2 | 4 | 8): void {
    this.ensure(length);
    this.offset = writeVarintAt(this.buf, this.offset, v, length);
  }

  writeBytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }

  /** Writes `n` copies of `byte` (PADDING is `fill(n, 0)`). */
  fill(n: number, byte = 0): void {
    this.ensure(n);
    this.buf.fill(byte, this.offset, this.offset + n);
    this.offset += n;
  }
}
