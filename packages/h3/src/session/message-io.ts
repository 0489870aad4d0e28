/**
 * Moving HTTP/3 messages between QUIC streams and web streams: parser events pulled on demand from a stream's
 * readable (so a slow body reader holds back QUIC flow control instead of filling memory), and bodies written as
 * DATA frames with the writer's backpressure.
 */
import type { ReadableStreamReadResult } from 'node:stream/web';
import { encodeDataFrameHeader } from '../frames.js';
import type { HeaderInput } from '../message.js';
import type { Field } from '../qpack/field-section.js';
import { H3StreamError } from './errors.js';

/** A message body: bytes, an async iterable of chunks (e.g. an async generator), or a web ReadableStream. */
export type H3Body = Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** Default size of the DATA frames a body is cut into. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

export function noop(): void {}

/** Header input as field lines, names lowercased (RFC 9114 §4.2). */
export function toFields(headers: HeaderInput | undefined): Field[] {
  if (headers === undefined) return [];
  const list: Field[] =
    Symbol.iterator in headers
      ? [...(headers as Iterable<Field>)]
      : Object.entries(headers as Record<string, string>).map(([name, value]) => ({ name, value }));
  return list.map((f) => (f.name === f.name.toLowerCase() ? f : { ...f, name: f.name.toLowerCase() }));
}

/** The value of a header; several lines with that name are joined with ", " (RFC 9110 §5.3). */
export function headerValue(fields: readonly Field[], name: string): string | undefined {
  const key = name.toLowerCase();
  const values = fields.filter((f) => f.name === key).map((f) => f.value);
  return values.length === 0 ? undefined : values.join(', ');
}

/** Size of a field section as SETTINGS_MAX_FIELD_SECTION_SIZE counts it (RFC 9114 §4.2.2). */
export function fieldSectionSize(fields: readonly Field[]): number {
  let size = 0;
  for (const f of fields) size += Buffer.byteLength(f.name) + Buffer.byteLength(f.value) + 32;
  return size;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** A promise with its settle functions; a rejection nobody awaits is not reported as unhandled. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}

interface Parser<E> {
  push(chunk: Uint8Array): E[];
  end(): void;
}

/**
 * Pulls parser events from a QUIC stream's readable, one read at a time and only when asked. Calls are serialized.
 * A transport failure (peer reset, connection closed) is an {@link H3StreamError}; parser failures are the
 * parser's H3Error; after `cancel(reason)`, `next()` rejects with `reason`.
 */
export class EventPump<E> {
  private queue: E[] = [];
  private head = 0;
  private ended = false;
  private cancelled: { reason: unknown } | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly parser: Parser<E>,
  ) {}

  /** True once the stream's FIN was read and the parser accepted the end of the message. */
  get finished(): boolean {
    return this.ended && this.head >= this.queue.length;
  }

  /** The next event, or undefined after the end of the stream. */
  next(): Promise<E | undefined> {
    const result = this.tail.then(() => this.step());
    this.tail = result.catch(noop);
    return result;
  }

  /** Stops reading: the transport readable is cancelled and pending and later `next()` calls reject with `reason`. */
  cancel(reason: unknown): void {
    if (this.cancelled !== undefined || this.ended) return;
    this.cancelled = { reason };
    this.reader.cancel(reason).catch(noop);
  }

  private throwIfCancelled(): void {
    if (this.cancelled !== undefined) throw this.cancelled.reason;
  }

  private async step(): Promise<E | undefined> {
    while (this.head >= this.queue.length) {
      this.throwIfCancelled();
      if (this.ended) return undefined;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.reader.read();
      } catch (err) {
        this.throwIfCancelled();
        throw new H3StreamError('the QUIC stream was reset or the connection closed', err);
      }
      this.throwIfCancelled();
      if (result.done) {
        this.ended = true;
        this.parser.end();
      } else {
        this.queue = this.parser.push(result.value);
        this.head = 0;
      }
    }
    return this.queue[this.head++];
  }
}

type BodyEvent = { readonly kind: string; readonly data?: Uint8Array; readonly trailers?: Field[] };

export interface BodyHooks {
  /** The body ended cleanly (after the trailers, if any). */
  end(trailers: Field[]): void;
  /** Reading failed; returns the error the body stream errors with. */
  error(err: unknown): unknown;
  /** The consumer cancelled the body stream. */
  cancel(reason: unknown): void;
}

/** A web ReadableStream over the DATA of a message, pulling from the QUIC stream only when read (highWaterMark 0). */
export function bodyStream<E extends BodyEvent>(pump: EventPump<E>, hooks: BodyHooks): ReadableStream<Uint8Array> {
  let trailers: Field[] = [];
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const event = await pump.next();
            if (event === undefined) {
              controller.close();
              hooks.end(trailers);
              return;
            }
            if (event.kind === 'data' && event.data !== undefined) {
              controller.enqueue(event.data);
              return;
            }
            if (event.kind === 'trailers' && event.trailers !== undefined) trailers = event.trailers;
          }
        } catch (err) {
          controller.error(hooks.error(err));
        }
      },
      cancel(reason) {
        hooks.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function isReadableStream(body: H3Body): body is ReadableStream<Uint8Array> {
  return typeof (body as { getReader?: unknown }).getReader === 'function';
}

/** Writes to the QUIC stream; a failure (STOP_SENDING, reset, closed connection) becomes an H3StreamError. */
export async function writeChunk(writer: WritableStreamDefaultWriter<Uint8Array>, bytes: Uint8Array): Promise<void> {
  try {
    await writer.write(bytes);
  } catch (err) {
    throw new H3StreamError('the peer stopped reading or the connection closed', err);
  }
}

/** Ends the stream with FIN (RFC 9114 §4.1); a failure becomes an H3StreamError. */
export async function closeWriter(writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  try {
    await writer.close();
  } catch (err) {
    throw new H3StreamError('the peer stopped reading or the connection closed', err);
  }
}

/** One DATA frame: its header, then the payload itself (no copy, RFC 9114 §7.2.1). Empty chunks are skipped. */
async function writeData(writer: WritableStreamDefaultWriter<Uint8Array>, data: Uint8Array, chunkSize: number): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    const piece = data.subarray(offset, offset + chunkSize);
    // The header write is not awaited on its own: writes complete in order, so awaiting the payload covers it.
    writer.write(encodeDataFrameHeader(piece.length)).catch(noop);
    await writeChunk(writer, piece);
  }
}

/**
 * Writes a body as DATA frames of at most `chunkSize` bytes, awaiting the writer after each (backpressure).
 * Writer failures are H3StreamError; anything else came from the body source. Either way the source is cancelled
 * (ReadableStream) or returned (async iterator) so it can release what it holds.
 */
export async function writeBody(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  body: H3Body,
  chunkSize: number,
): Promise<void> {
  if (body instanceof Uint8Array) {
    await writeData(writer, body, chunkSize);
    return;
  }
  if (isReadableStream(body)) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        await writeData(writer, asBytes(value), chunkSize);
      }
    } catch (err) {
      reader.cancel(err).catch(noop);
      throw err;
    }
  }
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const step = await it.next();
      if (step.done === true) return;
      await writeData(writer, asBytes(step.value), chunkSize);
    }
  } catch (err) {
    try {
      await it.return?.();
    } catch {
      // the original error is the one to report
    }
    throw err;
  }
}

function asBytes(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) throw new TypeError('body chunks must be Uint8Array');
  return chunk;
}

/** Releases a body that will not be sent (HEAD, 204, 304). */
export function discardBody(body: H3Body): void {
  if (body instanceof Uint8Array) return;
  if (isReadableStream(body)) {
    body.cancel().catch(noop);
    return;
  }
  const it = body[Symbol.asyncIterator]();
  it.return?.()?.catch(noop);
}
