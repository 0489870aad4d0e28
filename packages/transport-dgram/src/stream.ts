/**
 * Web-stream faces of a core stream (WebTransport-shaped): a `readable` pulling from streams.read and a `writable`
 * pushing into streams.write, both with real backpressure.
 *
 * - Writable: write() resolves once core accepted every byte of the chunk (its send buffer is bounded,
 *   `transport.streamSendBufferSize`, default 1 MiB); the rest waits for core's 'writable' event. Core keeps a
 *   reference to the chunk until the peer acknowledges it: do not modify a chunk after writing it. close() queues
 *   the FIN and resolves once the peer acknowledged all data and the FIN; abort(reason) sends RESET_STREAM.
 * - Readable: pulls only while its queue is below `highWaterMark` bytes; what stays in core is not consumed, so core
 *   grants the peer no more flow-control credit: a slow reader slows the sender. Ends at the peer's FIN, errors with
 *   QuicStreamError on RESET_STREAM; cancel(reason) sends STOP_SENDING.
 */
import type { Connection } from '@pathquic/core';
import { QuicStreamError, toNumberCode } from './errors.js';

/** Largest chunk the readable enqueues: several received frames are joined up to this size (fewer reads). */
const MAX_READ_CHUNK = 64 * 1024;

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly core: Connection;
  scheduleFlush(): void;
  /** Hands pending core events to their streams now (e.g. a STOP_SENDING that core processed but not yet reported). */
  pumpEvents(): void;
  /** The error streams fail with once the connection is gone (undefined while it is open). */
  readonly terminalError: Error | undefined;
}

export interface QuicSendStream {
  readonly id: number;
  readonly writable: WritableStream<Uint8Array>;
  /** Send priority 0..0xFFFF, higher first (default 0x7FFF). */
  priority: number;
  /** Abandons sending: RESET_STREAM with `code`. */
  reset(code?: number): void;
}

export interface QuicReceiveStream {
  readonly id: number;
  readonly readable: ReadableStream<Uint8Array>;
  /** Stops reading: STOP_SENDING with `code`; the readable errors. */
  stopSending(code?: number): void;
}

export interface QuicBidirectionalStream extends QuicSendStream, QuicReceiveStream {}

/** Error code carried by a cancel/abort reason: a number, a QuicStreamError, or `{ code }` / `{ streamErrorCode }`. */
export function codeFromReason(reason: unknown): number {
  if (typeof reason === 'number' && Number.isSafeInteger(reason) && reason >= 0) return reason;
  if (typeof reason === 'bigint' && reason >= 0n) return Number(reason);
  if (typeof reason === 'object' && reason !== null) {
    const r = reason as { code?: unknown; streamErrorCode?: unknown };
    if (typeof r.streamErrorCode === 'number' && r.streamErrorCode >= 0) return r.streamErrorCode;
    if (typeof r.code === 'number' && Number.isSafeInteger(r.code) && r.code >= 0) return r.code;
  }
  return 0;
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface PendingWrite {
  chunk: Uint8Array;
  offset: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** One stream; `readable` and/or `writable` exist according to its direction. */
export class QuicStream implements QuicBidirectionalStream {
  readonly id: number;
  readonly #host: StreamHost;
  #priority = 0x7fff;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readCtl: ReadableStreamDefaultController<Uint8Array> | undefined;
  #writeCtl: WritableStreamDefaultController | undefined;
  #readDone: boolean;
  #writeDone: boolean;
  #readWaiter: (() => void) | undefined;
  #pendingWrite: PendingWrite | undefined;
  #finish: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  #finished = false;
  #writeError: Error | undefined;

  constructor(host: StreamHost, id: number, canRead: boolean, canWrite: boolean, readHighWaterMark: number) {
    this.#host = host;
    this.id = id;
    this.#readDone = !canRead;
    this.#writeDone = !canWrite;
    if (canRead) {
      this.#readable = new ReadableStream<Uint8Array>(
        {
          start: (c) => {
            this.#readCtl = c;
          },
          pull: () => this.#pull(),
          cancel: (reason) => this.#cancelRead(reason),
        },
        { highWaterMark: readHighWaterMark, size: (chunk) => chunk.byteLength },
      );
    }
    if (canWrite) {
      this.#writable = new WritableStream<Uint8Array>({
        start: (c) => {
          this.#writeCtl = c;
        },
        write: (chunk) => this.#write(chunk),
        close: () => this.#close(),
        abort: (reason) => this.#abortWrite(reason),
      });
    }
  }

  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable === undefined) throw new TypeError(`stream ${this.id} is a send-only stream`);
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === undefined) throw new TypeError(`stream ${this.id} is a receive-only stream`);
    return this.#writable;
  }

  get priority(): number {
    return this.#priority;
  }

  set priority(value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`priority must be an integer in 0..0xFFFF, got ${value}`);
    this.#priority = value;
    if (this.#writable === undefined || this.#writeDone) return;
    try {
      this.#host.core.streams.setPriority(this.id, value);
      this.#host.scheduleFlush();
    } catch {
      // the stream's state is already gone: nothing left to schedule
    }
  }

  reset(code = 0): void {
    if (this.#writable === undefined) throw new TypeError(`stream ${this.id} is a receive-only stream`);
    if (this.#writeDone) return;
    this.#resetCore(code);
    this.#failWrite(new QuicStreamError(code, 'local'));
  }

  stopSending(code = 0): void {
    if (this.#readable === undefined) throw new TypeError(`stream ${this.id} is a send-only stream`);
    if (this.#readDone) return;
    this.#stopCore(code);
    this.#failRead(new QuicStreamError(code, 'local', `reading was stopped locally with code ${code}`));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reading

  #pull(): Promise<void> | undefined {
    if (this.#drain()) return undefined;
    return new Promise<void>((resolve) => {
      this.#readWaiter = resolve;
    });
  }

  /** Moves readable bytes from core into the queue while it is below its high-water mark; true if it did anything. */
  #drain(): boolean {
    const c = this.#readCtl;
    if (c === undefined || this.#readDone) return false;
    const streams = this.#host.core.streams;
    let progressed = false;
    for (;;) {
      const desired = c.desiredSize;
      if (desired === null || desired <= 0) break;
      const pieces: Uint8Array[] = [];
      let total = 0;
      let fin = false;
      while (total < MAX_READ_CHUNK) {
        let r: { data: Uint8Array | undefined; fin: boolean };
        try {
          r = streams.read(this.id, MAX_READ_CHUNK - total);
        } catch {
          // state freed (connection closed): the close path errors the readable
          r = { data: undefined, fin: false };
        }
        if (r.data !== undefined && r.data.length > 0) {
          pieces.push(r.data);
          total += r.data.length;
        }
        if (r.fin) {
          fin = true;
          break;
        }
        if (r.data === undefined || r.data.length === 0) break;
      }
      if (total > 0) {
        c.enqueue(concat(pieces, total));
        progressed = true;
      }
      if (fin) {
        this.#readDone = true;
        c.close();
        progressed = true;
        break;
      }
      if (total === 0) break;
    }
    // Consuming may have opened the receive window: MAX_STREAM_DATA / MAX_DATA go out with the next flush.
    if (progressed) this.#host.scheduleFlush();
    return progressed;
  }

  #wakeReader(): void {
    const w = this.#readWaiter;
    if (w === undefined) return;
    if (this.#drain() || this.#readDone) {
      this.#readWaiter = undefined;
      w();
    }
  }

  #cancelRead(reason: unknown): void {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#stopCore(codeFromReason(reason));
  }

  #stopCore(code: number): void {
    try {
      this.#host.core.streams.stopSending(this.id, code);
      this.#host.scheduleFlush();
    } catch {
      // already closed
    }
  }

  #failRead(e: Error): void {
    if (this.#readDone) return;
    this.#readDone = true;
    try {
      this.#readCtl?.error(e);
    } catch {
      // already closed
    }
    const w = this.#readWaiter;
    this.#readWaiter = undefined;
    w?.();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Writing

  #write(chunk: Uint8Array): Promise<void> | undefined {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a QUIC stream accepts Uint8Array chunks only');
    const err = this.#host.terminalError;
    if (err !== undefined) throw err;
    const n = this.#coreWrite(chunk);
    if (n === chunk.length) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#pendingWrite = { chunk, offset: n, resolve, reject };
    });
  }

  #coreWrite(data: Uint8Array): number {
    let n: number;
    try {
      n = this.#host.core.streams.write(this.id, data);
    } catch (e) {
      // Core refused because the stream was reset (the peer's STOP_SENDING, not reported yet): report that cause.
      if (this.#writeError === undefined) this.#host.pumpEvents();
      throw this.#writeError ?? this.#host.terminalError ?? e;
    }
    if (n > 0) this.#host.scheduleFlush();
    return n;
  }

  #close(): Promise<void> {
    const err = this.#host.terminalError;
    if (err !== undefined) return Promise.reject(err);
    try {
      this.#host.core.streams.finish(this.id);
    } catch (e) {
      return Promise.reject(this.#host.terminalError ?? e);
    }
    this.#host.scheduleFlush();
    if (this.#finished) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#finish = { resolve, reject };
    });
  }

  #abortWrite(reason: unknown): void {
    if (this.#writeDone) return;
    this.#writeDone = true;
    this.#resetCore(codeFromReason(reason));
  }

  #resetCore(code: number): void {
    try {
      this.#host.core.streams.reset(this.id, code);
      this.#host.scheduleFlush();
    } catch {
      // already closed
    }
  }

  #failWrite(e: Error): void {
    if (this.#writeDone) return;
    this.#writeDone = true;
    this.#writeError = e;
    try {
      this.#writeCtl?.error(e);
    } catch {
      // already errored
    }
    const p = this.#pendingWrite;
    this.#pendingWrite = undefined;
    p?.reject(e);
    const f = this.#finish;
    this.#finish = undefined;
    f?.reject(e);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Core events (from the connection)

  /** @internal */
  onReadable(): void {
    this.#wakeReader();
  }

  /** @internal */
  onWritable(): void {
    const p = this.#pendingWrite;
    if (p === undefined) return;
    let n: number;
    try {
      n = this.#coreWrite(p.offset === 0 ? p.chunk : p.chunk.subarray(p.offset));
    } catch (e) {
      this.#pendingWrite = undefined;
      p.reject(e);
      return;
    }
    p.offset += n;
    if (p.offset === p.chunk.length) {
      this.#pendingWrite = undefined;
      p.resolve();
    }
  }

  /** @internal The peer reset its sending part. */
  onReset(code: number | bigint): void {
    this.#failRead(new QuicStreamError(toNumberCode(code), 'reset'));
  }

  /** @internal The peer sent STOP_SENDING (core answered with RESET_STREAM). */
  onStopped(code: number | bigint): void {
    this.#failWrite(new QuicStreamError(toNumberCode(code), 'stop-sending'));
  }

  /** @internal All our data and the FIN were acknowledged. */
  onFinished(): void {
    this.#finished = true;
    this.#writeDone = true;
    const f = this.#finish;
    this.#finish = undefined;
    f?.resolve();
  }

  /** @internal The connection ended. */
  onConnectionClosed(e: Error): void {
    this.#failRead(e);
    this.#failWrite(e);
  }
}
