/**
 * Outgoing CRYPTO stream of one encryption level (RFC 9000 §19.6, RFC 9001 §4.1.3). Handshake data is small (a few
 * KiB), so it is kept whole until the level's keys are discarded; lost ranges are resent, acknowledged ones never.
 */
import { maxCryptoDataLength, type CryptoFrame } from '@pathquic/wire-codec';
import type { FrameSink } from '../sent-items.js';

type Level = 'initial' | 'handshake' | 'application';

export class CryptoSendBuffer {
  private buffer = new Uint8Array(0);
  private length = 0;
  /** Next never-sent offset. */
  private sentOffset = 0;
  /** Lost ranges [start, end) waiting to be resent, in order of loss. */
  private lost: [number, number][] = [];
  /** Acknowledged ranges [start, end), ascending and disjoint. */
  private acked: [number, number][] = [];

  constructor(readonly level: Level) {}

  append(data: Uint8Array): void {
    if (this.length + data.length > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.length + data.length, this.buffer.length * 2, 1024));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** Something (new or lost) is waiting to be sent. */
  get hasData(): boolean {
    return this.sentOffset < this.length || this.lost.length > 0;
  }

  /** Bytes never acknowledged (for Retry: everything is resent from offset 0). */
  get unackedBytes(): number {
    let acked = 0;
    for (const [s, e] of this.acked) acked += e - s;
    return this.length - acked;
  }

  /** Writes CRYPTO frames while they fit: lost ranges first. Returns whether any frame was written. */
  write(sink: FrameSink): boolean {
    let wrote = false;
    while (this.lost.length > 0) {
      const range = this.lost[0]!;
      const [start, end] = this.firstUnacked(range[0], range[1]);
      if (start >= end) {
        this.lost.shift();
        continue;
      }
      const n = Math.min(end - start, maxCryptoDataLength(start, sink.remaining));
      if (n <= 0) return wrote;
      this.emit(sink, start, n);
      wrote = true;
      if (start + n >= range[1]) this.lost.shift();
      else range[0] = start + n;
    }
    while (this.sentOffset < this.length) {
      const n = Math.min(this.length - this.sentOffset, maxCryptoDataLength(this.sentOffset, sink.remaining));
      if (n <= 0) return wrote;
      this.emit(sink, this.sentOffset, n);
      this.sentOffset += n;
      wrote = true;
    }
    return wrote;
  }

  /** Queues everything sent and not acknowledged for retransmission (PTO probes, Retry). */
  resendUnacked(): void {
    this.lost = [];
    let pos = 0;
    for (const [s, e] of this.acked) {
      if (s > pos) this.lost.push([pos, Math.min(s, this.sentOffset)]);
      pos = e;
    }
    if (pos < this.sentOffset) this.lost.push([pos, this.sentOffset]);
    this.lost = this.lost.filter(([s, e]) => e > s);
  }

  onAcked(offset: number, length: number): void {
    let start = offset;
    let end = offset + length;
    const out: [number, number][] = [];
    let placed = false;
    for (const r of this.acked) {
      if (r[1] < start) out.push(r);
      else if (r[0] > end) {
        if (!placed) {
          out.push([start, end]);
          placed = true;
        }
        out.push(r);
      } else {
        start = Math.min(start, r[0]);
        end = Math.max(end, r[1]);
      }
    }
    if (!placed) out.push([start, end]);
    this.acked = out;
  }

  onLost(offset: number, length: number): void {
    this.lost.push([offset, offset + length]);
  }

  /** The first sub-range of [start, end) not yet acknowledged. */
  private firstUnacked(start: number, end: number): [number, number] {
    let s = start;
    let e = end;
    for (const [as, ae] of this.acked) {
      if (ae <= s) continue;
      if (as >= e) break;
      if (as <= s) s = ae;
      else {
        e = as;
        break;
      }
    }
    return [s, Math.max(s, e)];
  }

  private emit(sink: FrameSink, offset: number, length: number): void {
    const frame: CryptoFrame = { type: 'crypto', offset, data: this.buffer.subarray(offset, offset + length) };
    sink.push(frame, { kind: 'crypto', level: this.level, offset, length });
  }
}
