/**
 * The sending part of a stream (RFC 9000 §3.1): the application's queued bytes, what was sent, acknowledged and
 * lost, the FIN, RESET_STREAM, and the peer's per-stream credit (§4.1).
 *
 * Memory: the queue holds references to the application's buffers (small writes are coalesced into a shared
 * buffer) from the lowest unacknowledged byte up; a chunk is released as soon as everything in it is acked.
 * Frames carry subarrays of these chunks. Bookkeeping is per range, never per byte: `ackedBase` is the
 * contiguous acknowledged prefix (in-order acks only move it), `acked` the acknowledged ranges above it, `lost`
 * the ranges to retransmit (always disjoint from acknowledged data).
 */
import type { StreamHandle } from '@pathquic/stream-priority';
import { SendCredit } from '../flow-control.js';
import { RangeSet } from './range-set.js';

/** RFC 9000 §3.1 sending-part states. */
export type SendState = 'ready' | 'send' | 'data-sent' | 'data-recvd' | 'reset-sent' | 'reset-recvd';

/** Writes shorter than this are copied into a shared buffer instead of becoming a chunk of their own. */
const COALESCE_BELOW = 1024;
const COALESCE_CAPACITY = 16384;
/**
 * A frame reaching the end of a chunk is cut there (no copy) when the piece is at least this long; shorter
 * pieces are joined with the following chunks into one copied buffer, so that many small writes do not become
 * many small frames.
 */
const MIN_ZERO_COPY_PIECE = 512;
const COMPACT_THRESHOLD = 64;

/** Bits returned by onAck. */
export const ACK_FREED = 1;
export const ACK_DONE = 2;

export class SendStream {
  state: SendState = 'ready';
  credit: SendCredit;
  /** Scheduler handle (set by the manager right after construction). */
  handle = 0 as StreamHandle;
  /** Bytes queued by the application so far (end of the queue). */
  writeOffset = 0;
  /** Highest offset sent (new data starts here; flow control counts up to it, §4.1). */
  sentOffset = 0;
  /** Every byte below this is acknowledged. */
  ackedBase = 0;
  /** The final size once finish() was called (§4.5). */
  finalSize: number | undefined = undefined;
  finSent = false;
  finAcked = false;
  finLost = false;
  resetCode: number | bigint = 0;
  resetFinalSize = 0;
  /** A RESET_STREAM is due (first time, or its packet was lost). */
  resetPending = false;
  /** Limit for a STREAM_DATA_BLOCKED frame to send (§4.1, §19.13). */
  blockedPending: number | undefined = undefined;
  /** write() accepted less than offered: report 'writable' when buffer space comes back. */
  wantWritable = false;
  /** Whether the frame taken last (takeNew / takeLost) ends with the FIN. */
  frameFin = false;
  /** Acknowledged ranges above ackedBase. */
  readonly acked = new RangeSet();
  /** Ranges declared lost and not acknowledged since: to retransmit. */
  readonly lost = new RangeSet();

  private chunks: (Uint8Array | undefined)[] = [];
  private offsets: number[] = [];
  private head = 0;
  private hint = 0;
  /** Owned buffer coalescing small writes; the last chunk is a view of it while `tailActive`. */
  private tail: Uint8Array | undefined = undefined;
  private tailUsed = 0;
  private tailChunkStart = 0;
  private tailActive = false;

  constructor(initialCredit: number) {
    this.credit = new SendCredit(initialCredit);
  }

  get isReset(): boolean {
    return this.state === 'reset-sent' || this.state === 'reset-recvd';
  }

  /** Terminal: everything acknowledged, or the reset acknowledged (§3.1). */
  get isDone(): boolean {
    return this.state === 'data-recvd' || this.state === 'reset-recvd';
  }

  /** Bytes held for (re)transmission: queued and not yet acknowledged in order. */
  get bufferedBytes(): number {
    return this.isReset || this.state === 'data-recvd' ? 0 : this.writeOffset - this.ackedBase;
  }

  /** New data is queued and the stream credit allows some of it (the scheduler's notion of ready). */
  get sendable(): boolean {
    return this.sentOffset < this.writeOffset && this.credit.available > 0 && !this.isReset;
  }

  /** A FIN must go out on its own: finish() after all data was sent, or a lost FIN (§3.1). */
  get needsFin(): boolean {
    if (this.finalSize === undefined || this.isReset || this.finAcked) return false;
    return this.finLost || (!this.finSent && this.sentOffset === this.writeOffset);
  }

  /** Lost data or a FIN that goes out before new data. */
  get hasRetransmit(): boolean {
    return !this.lost.isEmpty || this.needsFin;
  }

  /** Queues application bytes; keeps a reference to `data` unless it is small enough to coalesce. */
  append(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    const offset = this.writeOffset;
    this.writeOffset += n;
    if (this.state === 'ready') this.state = 'send';
    if (n >= COALESCE_BELOW) {
      this.pushChunk(offset, data);
      this.tailActive = false;
      return;
    }
    let t = this.tail;
    if (t === undefined || this.tailUsed + n > t.length) {
      t = this.tail = new Uint8Array(COALESCE_CAPACITY);
      this.tailUsed = 0;
      this.tailActive = false;
    }
    t.set(data, this.tailUsed);
    const last = this.chunks.length - 1;
    if (this.tailActive && last >= this.head) {
      this.tailUsed += n;
      this.chunks[last] = t.subarray(this.tailChunkStart, this.tailUsed);
    } else {
      this.tailChunkStart = this.tailUsed;
      this.tailUsed += n;
      this.pushChunk(offset, t.subarray(this.tailChunkStart, this.tailUsed));
      this.tailActive = true;
    }
  }

  /**
   * Bytes from `offset` (at most `maxLen`, at least 1): a view of the application's buffer when one chunk holds
   * them. Requires ackedBase <= offset < writeOffset.
   */
  slice(offset: number, maxLen: number): Uint8Array {
    if (maxLen > this.writeOffset - offset) maxLen = this.writeOffset - offset;
    let i = this.chunkAt(offset);
    const c = this.chunks[i] as Uint8Array;
    const rel = offset - (this.offsets[i] as number);
    const avail = c.length - rel;
    if (avail >= maxLen) return c.subarray(rel, rel + maxLen);
    if (avail >= MIN_ZERO_COPY_PIECE) return c.subarray(rel);
    const out = new Uint8Array(maxLen);
    out.set(c.subarray(rel), 0);
    let filled = avail;
    while (filled < maxLen) {
      i++;
      const d = this.chunks[i] as Uint8Array;
      const take = Math.min(d.length, maxLen - filled);
      out.set(take === d.length ? d : d.subarray(0, take), filled);
      filled += take;
    }
    return out;
  }

  /** New data at sentOffset (at most maxLen >= 1 bytes); the caller charges the credits. Sets `frameFin`. */
  takeNew(maxLen: number): Uint8Array {
    const data = this.slice(this.sentOffset, maxLen);
    this.sentOffset += data.length;
    this.frameFin = this.sentOffset === this.finalSize;
    if (this.frameFin) {
      this.finSent = true;
      this.state = 'data-sent';
    }
    return data;
  }

  /** Lost bytes from the lowest lost range (at most maxLen >= 1); removes them from `lost`. Sets `frameFin`. */
  takeLost(maxLen: number): Uint8Array {
    const start = this.lost.firstStart as number;
    const end = this.lost.firstEnd as number;
    const data = this.slice(start, Math.min(end - start, maxLen));
    this.lost.remove(start, start + data.length);
    // A retransmission that reaches the final size carries the FIN again (§19.8: repeating it is allowed).
    this.frameFin = start + data.length === this.finalSize && !this.finAcked;
    if (this.frameFin) {
      this.finSent = true;
      this.finLost = false;
      this.state = 'data-sent';
    }
    return data;
  }

  /** The FIN goes out in an empty frame at the final size. */
  takeFinOnly(): void {
    this.finSent = true;
    this.finLost = false;
    this.state = 'data-sent';
  }

  /** A STREAM frame was acknowledged. Returns ACK_FREED / ACK_DONE bits. */
  onAck(offset: number, length: number, fin: boolean): number {
    if (this.isReset || this.state === 'data-recvd') return 0;
    let result = 0;
    if (fin) this.finAcked = true;
    const end = offset + length;
    if (end > this.ackedBase) {
      if (offset <= this.ackedBase) {
        this.ackedBase = this.acked.isEmpty ? end : this.acked.absorb(end);
        this.release();
        result |= ACK_FREED;
      } else {
        this.acked.add(offset, end);
      }
      if (!this.lost.isEmpty) this.lost.remove(offset, end);
    }
    if (this.finAcked && this.ackedBase === this.finalSize) {
      // §3.1: all data and the FIN acknowledged.
      this.state = 'data-recvd';
      this.dropBuffers();
      result |= ACK_DONE;
    }
    return result;
  }

  /** A STREAM frame was declared lost. Returns whether something now waits for retransmission. */
  onLoss(offset: number, length: number, fin: boolean): boolean {
    if (this.isReset || this.state === 'data-recvd') return false;
    // Clipping to sentOffset ignores records from before a 0-RTT rejection rewound the stream.
    const start = Math.max(offset, this.ackedBase);
    const end = Math.min(offset + length, this.sentOffset);
    let any = false;
    if (start < end) {
      this.lost.add(start, end);
      if (!this.acked.isEmpty) this.lost.subtractWithin(this.acked, start, end);
      any = !this.lost.isEmpty;
    }
    if (fin && this.finSent && !this.finAcked) {
      this.finLost = true;
      any = true;
    }
    return any;
  }

  /**
   * Abandons the data (§3.1 "Reset Sent"): nothing of it is sent again. Final size = the credit consumed, i.e.
   * the highest offset sent (§4.5). Returns false when there is nothing to reset (already reset, or done).
   */
  reset(code: number | bigint): boolean {
    if (this.isReset || this.state === 'data-recvd') return false;
    this.state = 'reset-sent';
    this.resetCode = code;
    this.resetFinalSize = this.sentOffset;
    this.resetPending = true;
    this.blockedPending = undefined;
    this.finLost = false;
    this.wantWritable = false;
    this.dropBuffers();
    return true;
  }

  /**
   * 0-RTT was rejected (RFC 9001 §4.6.2): nothing sent so far reached the peer, so everything not acknowledged
   * is unsent again. A reset stream resends its RESET_STREAM with the rewound final size.
   */
  rewind(): void {
    if (this.state === 'data-recvd') return;
    this.sentOffset = this.ackedBase;
    this.acked.clear();
    this.lost.clear();
    this.blockedPending = undefined;
    this.finLost = false;
    if (this.isReset) {
      this.state = 'reset-sent';
      this.resetFinalSize = this.sentOffset;
      this.resetPending = true;
      return;
    }
    this.finSent = this.finAcked;
    this.state = this.writeOffset > 0 || this.finalSize !== undefined ? 'send' : 'ready';
  }

  private pushChunk(offset: number, data: Uint8Array): void {
    this.chunks.push(data);
    this.offsets.push(offset);
  }

  /** Index of the chunk holding byte `offset` (which must be held). */
  private chunkAt(offset: number): number {
    const offsets = this.offsets;
    const h = this.hint;
    if (h >= this.head && h < offsets.length && (offsets[h] as number) <= offset) {
      if (offset - (offsets[h] as number) < (this.chunks[h] as Uint8Array).length) return h;
      const next = h + 1;
      if (next < offsets.length && (offsets[next] as number) <= offset && offset - (offsets[next] as number) < (this.chunks[next] as Uint8Array).length) {
        return (this.hint = next);
      }
    }
    let a = this.head;
    let b = offsets.length - 1;
    while (a < b) {
      const m = (a + b + 1) >>> 1;
      if ((offsets[m] as number) <= offset) a = m;
      else b = m - 1;
    }
    return (this.hint = a);
  }

  /** Drops chunks wholly below ackedBase. */
  private release(): void {
    const chunks = this.chunks;
    const offsets = this.offsets;
    let head = this.head;
    while (head < chunks.length && (offsets[head] as number) + (chunks[head] as Uint8Array).length <= this.ackedBase) {
      chunks[head] = undefined;
      head++;
    }
    if (head === chunks.length) {
      chunks.length = 0;
      offsets.length = 0;
      this.head = 0;
      this.hint = 0;
      this.tailActive = false;
      return;
    }
    if (head >= COMPACT_THRESHOLD && head * 2 >= chunks.length) {
      chunks.splice(0, head);
      offsets.splice(0, head);
      this.hint = Math.max(0, this.hint - head);
      head = 0;
    }
    this.head = head;
  }

  private dropBuffers(): void {
    this.chunks = [];
    this.offsets = [];
    this.head = 0;
    this.hint = 0;
    this.tail = undefined;
    this.tailActive = false;
    this.lost.clear();
    this.acked.clear();
  }
}
