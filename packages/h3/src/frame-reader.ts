/**
 * Incremental HTTP/3 frame parser over one stream's bytes (RFC 9114 §7.1), sans-I/O: the core pushes stream data
 * in whatever chunks QUIC delivered and gets frame events back.
 *
 * - Frames may be split anywhere, including inside the Type and Length varints.
 * - DATA payloads are streamed as they arrive (views into the pushed chunks, no copy, never buffered whole).
 * - Other known frames are buffered, but only after their Length has been checked against `maxFramePayload`
 *   (H3_EXCESSIVE_LOAD), so a peer cannot make the reader allocate more than that.
 * - Unknown and reserved (GREASE) frame types are skipped without buffering (RFC 9114 §9, §7.2.8).
 * - HTTP/2-only frame types are a connection error H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8).
 * - CANCEL_PUSH, GOAWAY, MAX_PUSH_ID whose Length cannot be one varint are H3_FRAME_ERROR (RFC 9114 §7.1).
 * - A stream that ends inside a frame is H3_FRAME_ERROR (RFC 9114 §7.1).
 *
 * Which frames are allowed on which stream is decided by the stream state machines built on this reader.
 */
import { Reader } from '@pathquic/wire-codec';
import { H3ErrorCode, h3Fail } from './errors.js';
import {
  FrameType,
  SINGLE_VARINT_PAYLOAD_MAX,
  frameTypeName,
  isHttp2OnlyFrameType,
  isKnownFrameType,
} from './frames.js';

export type FrameEvent =
  /** A complete known frame other than DATA (HEADERS, SETTINGS, GOAWAY, …) with its payload (a copy). */
  | { readonly kind: 'frame'; readonly type: FrameType; readonly payload: Uint8Array }
  /**
   * Part of a DATA frame's payload: a view into the pushed chunk. `end` marks the frame's last part; a zero-length
   * DATA frame yields one event with empty `data` and `end: true`.
   */
  | { readonly kind: 'data'; readonly data: Uint8Array; readonly end: boolean }
  /** The header of a frame of an unknown or reserved type, whose payload is skipped. */
  | { readonly kind: 'unknown'; readonly type: number | bigint; readonly length: number };

export interface FrameReaderOptions {
  /** Largest payload buffered for a frame other than DATA (default 65536). Larger ones are H3_EXCESSIVE_LOAD. */
  readonly maxFramePayload?: number;
}

export const DEFAULT_MAX_FRAME_PAYLOAD = 65536;

enum State {
  Header,
  Payload,
  Data,
  Skip,
}

export class FrameReader {
  readonly maxFramePayload: number;
  private state: State = State.Header;
  private readonly header = new Uint8Array(16);
  private headerLength = 0;
  private type = 0;
  private payload: Uint8Array = new Uint8Array(0);
  private filled = 0;
  private remaining = 0;
  private ended = false;

  constructor(options: FrameReaderOptions = {}) {
    this.maxFramePayload = options.maxFramePayload ?? DEFAULT_MAX_FRAME_PAYLOAD;
  }

  /** True when the bytes so far end exactly at a frame boundary. */
  get atFrameBoundary(): boolean {
    return this.state === State.Header && this.headerLength === 0;
  }

  /** Feeds the next bytes of the stream; returns the events they complete, in order. Throws H3Error. */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.ended) h3Fail(H3ErrorCode.H3_INTERNAL_ERROR, 'data pushed after the end of the stream');
    const events: FrameEvent[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case State.Header:
          offset = this.readHeader(chunk, offset, events);
          break;
        case State.Payload: {
          const n = Math.min(this.payload.length - this.filled, chunk.length - offset);
          this.payload.set(chunk.subarray(offset, offset + n), this.filled);
          this.filled += n;
          offset += n;
          if (this.filled === this.payload.length) this.finishPayload(events);
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, chunk.length - offset);
          this.remaining -= n;
          events.push({ kind: 'data', data: chunk.subarray(offset, offset + n), end: this.remaining === 0 });
          offset += n;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
        case State.Skip: {
          const n = Math.min(this.remaining, chunk.length - offset);
          this.remaining -= n;
          offset += n;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
      }
    }
    return events;
  }

  /** The stream ended cleanly (FIN). A partial frame is H3_FRAME_ERROR (RFC 9114 §7.1). */
  end(): void {
    this.ended = true;
    if (!this.atFrameBoundary) h3Fail(H3ErrorCode.H3_FRAME_ERROR, 'stream ended inside a frame');
  }

  private readHeader(chunk: Uint8Array, offset: number, events: FrameEvent[]): number {
    const h = this.header;
    // Copy only as many bytes as the two varints need (RFC 9000 §16 lengths from the first byte's two bits).
    for (;;) {
      let need = 1;
      if (this.headerLength >= 1) {
        const typeLength = 1 << (h[0]! >> 6);
        need = typeLength + 1;
        if (this.headerLength >= need) need = typeLength + (1 << (h[typeLength]! >> 6));
      }
      if (this.headerLength >= need) break;
      if (offset >= chunk.length) return offset;
      const n = Math.min(need - this.headerLength, chunk.length - offset);
      h.set(chunk.subarray(offset, offset + n), this.headerLength);
      this.headerLength += n;
      offset += n;
    }
    const r = new Reader(h, 0, this.headerLength);
    const type = r.readVarintExact();
    const length = r.readVarint(); // saturates beyond 2^53-1: still above every limit
    this.headerLength = 0;
    this.startFrame(type, length, events);
    return offset;
  }

  private startFrame(type: number | bigint, length: number, events: FrameEvent[]): void {
    if (isHttp2OnlyFrameType(type)) {
      h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)} is reserved in HTTP/3`);
    }
    if (!isKnownFrameType(type)) {
      events.push({ kind: 'unknown', type, length });
      this.remaining = length;
      this.state = length === 0 ? State.Header : State.Skip;
      return;
    }
    if (type === FrameType.DATA) {
      this.remaining = length;
      if (length === 0) events.push({ kind: 'data', data: new Uint8Array(0), end: true });
      else this.state = State.Data;
      return;
    }
    if (type === FrameType.CANCEL_PUSH || type === FrameType.GOAWAY || type === FrameType.MAX_PUSH_ID) {
      if (length === 0 || length > SINGLE_VARINT_PAYLOAD_MAX) {
        h3Fail(H3ErrorCode.H3_FRAME_ERROR, `${frameTypeName(type)} frame with length ${length}`);
      }
    } else if (length > this.maxFramePayload) {
      h3Fail(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        `${frameTypeName(type)} frame of ${length} bytes exceeds the limit of ${this.maxFramePayload}`,
      );
    }
    this.type = type;
    this.payload = new Uint8Array(length);
    this.filled = 0;
    if (length === 0) this.finishPayload(events);
    else this.state = State.Payload;
  }

  private finishPayload(events: FrameEvent[]): void {
    events.push({ kind: 'frame', type: this.type as FrameType, payload: this.payload });
    this.payload = new Uint8Array(0);
    this.state = State.Header;
  }
}
