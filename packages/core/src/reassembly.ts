/**
 * Reassembly of STREAM and CRYPTO data (RFC 9000 §2.2, §4.5, §7.5, §19.6, §19.8).
 *
 * Chunks arrive at any offset, in any order, overlapping or repeated; the application reads them back in order.
 * Stored chunks never overlap: where new data overlaps data already held, the first copy is kept (RFC 9000 §2.2
 * allows, but does not require, checking that the bytes match). Data below the read offset is ignored.
 * Reads return views of stored chunks, so each byte is copied at most once (on insert, see `copy`).
 *
 * Flow control is the caller's: before inserting, it checks `offset + data.length` against its ReceiveWindow and
 * uses `highestOffset` to know how much new credit a frame consumes (RFC 9000 §4.1, §4.5).
 */
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';

/** Raised for invalid arguments (programmer errors, never network input). */
export class ReassemblyUsageError extends TypeError {
  override readonly name = 'ReassemblyUsageError';
}

export interface ReassemblyOptions {
  /**
   * Copy inserted bytes (default true). Decoded frames alias the datagram buffer (see wire-codec's frames
   * module), so only a caller that owns the bytes should pass false.
   */
  copy?: boolean;
}

interface Chunk {
  offset: number;
  data: Uint8Array;
}

/** Compact the chunk array once this many consumed slots have piled up at its head. */
const COMPACT_THRESHOLD = 64;

/** STREAM data reassembly with the final size rules of RFC 9000 §4.5. */
export class ReassemblyBuffer {
  /** Sorted by offset, non-overlapping; slots before `head` are consumed (undefined). */
  private chunks: (Chunk | undefined)[] = [];
  /** Index of the first unread chunk (consumed slots before it are dropped lazily). */
  private head = 0;
  private readPos = 0;
  private contiguous = 0;
  private highest = 0;
  private buffered = 0;
  private final: number | undefined = undefined;
  private discarding = false;
  private readonly copy: boolean;

  constructor(options: ReassemblyOptions = {}) {
    this.copy = options.copy ?? true;
  }

  /** Bytes delivered to the reader so far. */
  get readOffset(): number {
    return this.readPos;
  }

  /** One past the highest byte received (RFC 9000 §4.5: the flow-control figure for a stream). */
  get highestOffset(): number {
    return this.highest;
  }

  /** Bytes held and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Bytes readable now, in order. */
  get availableBytes(): number {
    return this.contiguous - this.readPos;
  }

  /** The final size once known (FIN or RESET_STREAM, RFC 9000 §4.5). */
  get finalSize(): number | undefined {
    return this.final;
  }

  /** Every byte up to the final size has been received. */
  get isComplete(): boolean {
    return this.final !== undefined && this.contiguous === this.final;
  }

  /** Every byte up to the final size has been read. */
  get isFinished(): boolean {
    return this.final !== undefined && this.readPos === this.final;
  }

  /**
   * Adds a chunk (a STREAM frame's Offset, Stream Data and FIN). Returns the number of bytes newly stored.
   * Throws QuicCodecError(FINAL_SIZE_ERROR) for data past the final size or a conflicting final size.
   */
  insert(offset: number, data: Uint8Array, fin = false): number {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ReassemblyUsageError(`invalid offset ${offset}`);
    const end = offset + data.length;
    // RFC 9000 §19.8: offset + length may not exceed 2^62-1; beyond 2^53-1 no credit could ever cover it.
    if (!Number.isSafeInteger(end)) {
      throw new QuicCodecError(TransportErrorCode.FLOW_CONTROL_ERROR, `data ends beyond 2^53-1 (offset ${offset})`);
    }
    if (fin) this.setFinalSize(end);
    else if (this.final !== undefined && end > this.final) {
      // RFC 9000 §4.5: no data at or beyond the final size.
      throw new QuicCodecError(TransportErrorCode.FINAL_SIZE_ERROR, `data ends at ${end}, past final size ${this.final}`);
    }
    if (end > this.highest) this.highest = end;
    if (this.discarding) {
      this.readPos = this.contiguous = this.highest;
      return 0;
    }
    return this.store(offset, data);
  }

  /**
   * Fixes the final size, from a FIN or a RESET_STREAM (RFC 9000 §4.5): it may not change once known, nor fall
   * below data already received.
   */
  setFinalSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new ReassemblyUsageError(`invalid final size ${size}`);
    if (this.final !== undefined) {
      if (this.final !== size) {
        throw new QuicCodecError(TransportErrorCode.FINAL_SIZE_ERROR, `final size changed from ${this.final} to ${size}`);
      }
      return;
    }
    if (size < this.highest) {
      throw new QuicCodecError(
        TransportErrorCode.FINAL_SIZE_ERROR,
        `final size ${size} is below data already received up to ${this.highest}`,
      );
    }
    this.final = size;
  }

  /**
   * The next in-order bytes (at most `maxBytes`), a view of the stored chunk, or undefined when none are
   * readable. Call repeatedly to drain.
   */
  read(maxBytes = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    if (!(maxBytes >= 1) || (maxBytes !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(maxBytes))) {
      throw new ReassemblyUsageError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const chunk = this.chunks[this.head];
    if (chunk === undefined || chunk.offset !== this.readPos) return undefined;
    let out = chunk.data;
    if (out.length > maxBytes) {
      out = chunk.data.subarray(0, maxBytes);
      chunk.data = chunk.data.subarray(maxBytes);
      chunk.offset += maxBytes;
    } else {
      this.chunks[this.head] = undefined; // release the bytes now
      this.head += 1;
      this.compact();
    }
    this.readPos += out.length;
    this.buffered -= out.length;
    return out;
  }

  /**
   * Drops every buffered byte and stores no more (the reader gave up, e.g. it sent STOP_SENDING, RFC 9000 §3.5).
   * Later inserts still enforce the final size rules and advance `highestOffset`, as flow control needs them;
   * the data counts as read, so `isFinished` turns true once the final size is reached.
   */
  discard(): void {
    this.discarding = true;
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    this.readPos = this.contiguous = this.highest;
  }

  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_THRESHOLD && this.head * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }

  private piece(offset: number, data: Uint8Array, from: number, to: number): Chunk {
    const view = data.subarray(from - offset, to - offset);
    return { offset: from, data: this.copy ? view.slice() : view };
  }

  /** First chunk index (>= head) whose end is above `pos`. */
  private firstEndingAfter(pos: number): number {
    let lo = this.head;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid] as Chunk;
      if (c.offset + c.data.length <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private store(offset: number, data: Uint8Array): number {
    const end = offset + data.length;
    // Data already delivered is ignored (RFC 9000 §2.2: retransmissions may repeat it).
    const start = Math.max(offset, this.readPos);
    if (start >= end) return 0;
    let added = 0;
    const last = this.chunks[this.chunks.length - 1];
    if (this.head === this.chunks.length || (last !== undefined && last.offset + last.data.length <= start)) {
      this.chunks.push(this.piece(offset, data, start, end)); // in-order fast path
      added = end - start;
    } else {
      const first = this.firstEndingAfter(start);
      const merged: Chunk[] = [];
      let cursor = start;
      let j = first;
      for (; j < this.chunks.length; j++) {
        const c = this.chunks[j] as Chunk;
        if (c.offset >= end) break;
        if (c.offset > cursor) {
          merged.push(this.piece(offset, data, cursor, c.offset));
          added += c.offset - cursor;
        }
        merged.push(c); // keep the first copy of overlapping bytes
        cursor = Math.max(cursor, c.offset + c.data.length);
      }
      if (cursor < end) {
        merged.push(this.piece(offset, data, cursor, end));
        added += end - cursor;
      }
      if (added > 0) this.chunks.splice(first, j - first, ...merged);
    }
    this.buffered += added;
    if (added > 0 && start <= this.contiguous) this.advanceContiguous();
    return added;
  }

  /** Moves the contiguous mark over chunks that now touch it; each chunk is passed once. */
  private advanceContiguous(): void {
    for (let i = this.firstEndingAfter(this.contiguous); i < this.chunks.length; i++) {
      const c = this.chunks[i] as Chunk;
      if (c.offset > this.contiguous) break;
      this.contiguous = c.offset + c.data.length;
    }
  }
}

/** RFC 9000 §7.5: an endpoint MUST buffer at least 4096 bytes of out-of-order CRYPTO data. */
export const MIN_CRYPTO_BUFFER = 4096;
/**
 * Default bound: a certificate flight of tens of kilobytes whose first packet was lost arrives almost whole
 * before the gap is filled, so 4096 bytes would close healthy handshakes.
 */
export const DEFAULT_CRYPTO_BUFFER = 65536;

export interface CryptoReassemblyOptions extends ReassemblyOptions {
  /** Most bytes held beyond the read offset (RFC 9000 §7.5); at least MIN_CRYPTO_BUFFER. */
  maxBuffered?: number;
}

/** CRYPTO data of one encryption level: no final size, a bound on what lies ahead of the reader (§7.5). */
export class CryptoReassemblyBuffer {
  readonly maxBuffered: number;
  private readonly buffer: ReassemblyBuffer;

  constructor(options: CryptoReassemblyOptions = {}) {
    const max = options.maxBuffered ?? DEFAULT_CRYPTO_BUFFER;
    if (!Number.isSafeInteger(max) || max < MIN_CRYPTO_BUFFER) {
      throw new ReassemblyUsageError(`maxBuffered must be an integer >= ${MIN_CRYPTO_BUFFER}, got ${max}`);
    }
    this.maxBuffered = max;
    this.buffer = new ReassemblyBuffer(options);
  }

  get readOffset(): number {
    return this.buffer.readOffset;
  }

  get highestOffset(): number {
    return this.buffer.highestOffset;
  }

  get bufferedBytes(): number {
    return this.buffer.bufferedBytes;
  }

  get availableBytes(): number {
    return this.buffer.availableBytes;
  }

  /**
   * Adds a CRYPTO frame's data. Throws QuicCodecError(CRYPTO_BUFFER_EXCEEDED) when it ends more than
   * `maxBuffered` bytes past the read offset (RFC 9000 §7.5).
   */
  insert(offset: number, data: Uint8Array): number {
    const end = offset + data.length;
    if (end - this.buffer.readOffset > this.maxBuffered) {
      throw new QuicCodecError(
        TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
        `CRYPTO data up to ${end} is more than ${this.maxBuffered} bytes past the read offset ${this.buffer.readOffset}`,
      );
    }
    return this.buffer.insert(offset, data);
  }

  read(maxBytes?: number): Uint8Array | undefined {
    return this.buffer.read(maxBytes);
  }
}
