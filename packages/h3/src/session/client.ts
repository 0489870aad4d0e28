/**
 * HTTP/3 client side of one QUIC connection (RFC 9114): each request on its own client-initiated bidirectional
 * stream, any number in parallel, responses streamed as web ReadableStreams.
 */
import { H3Error, H3ErrorCode } from '../errors.js';
import { encodeRequestHeaders, encodeTrailers } from '../message.js';
import type { HeaderInput } from '../message.js';
import { ResponseStreamParser } from '../message-stream.js';
import type { ResponseEvent } from '../message-stream.js';
import type { Field } from '../qpack/field-section.js';
import { H3ClosedError, H3StreamError } from './errors.js';
import { H3Endpoint, abortStream } from './endpoint.js';
import type { H3EndpointOptions } from './endpoint.js';
import {
  DEFAULT_CHUNK_SIZE,
  EventPump,
  bodyStream,
  closeWriter,
  deferred,
  fieldSectionSize,
  headerValue,
  toFields,
  writeBody,
  writeChunk,
} from './message-io.js';
import type { H3Body } from './message-io.js';
import type { H3BidirectionalStream, H3QuicConnection } from './transport.js';

/** A request given by its parts instead of a URL. */
export interface H3RequestTarget extends H3FetchInit {
  /** host[:port] (RFC 9114 §4.3.1). */
  readonly authority: string;
  /** Path and query, starting with "/". */
  readonly path: string;
  /** Default "https". */
  readonly scheme?: string;
}

export interface H3FetchInit {
  /** Default GET. */
  readonly method?: string;
  readonly headers?: HeaderInput;
  readonly body?: H3Body;
  readonly trailers?: HeaderInput;
  /** Aborting cancels the request: RESET_STREAM and STOP_SENDING with H3_REQUEST_CANCELLED (RFC 9114 §4.1.1). */
  readonly signal?: AbortSignal;
}

export interface H3Response {
  readonly streamId: number;
  readonly status: number;
  /** Regular header fields in order. */
  readonly headers: readonly Field[];
  /** One header's value, several lines joined with ", ". */
  header(name: string): string | undefined;
  readonly contentLength: number | undefined;
  /**
   * The content. Ends cleanly only when the stream ended with a well-formed message (content-length checked);
   * errors with an H3Error (malformed response), an H3StreamError (reset, connection closed) or the abort reason.
   * Cancelling it cancels the request (H3_REQUEST_CANCELLED).
   */
  readonly body: ReadableStream<Uint8Array>;
  /** The trailer section ([] if none) once the body was read to its end. */
  readonly trailers: Promise<Field[]>;
}

export interface H3ClientOptions extends H3EndpointOptions {
  /** Largest DATA frame written for request bodies; default 65536. */
  readonly chunkSize?: number;
}

interface Exchange {
  readonly stream: H3BidirectionalStream;
  readonly pump: EventPump<ResponseEvent>;
  /** Still writing the request. */
  sending: boolean;
}

interface Target {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly init: H3FetchInit;
}

function toTarget(input: string | URL | H3RequestTarget, init: H3FetchInit): Target {
  if (typeof input === 'string' || input instanceof URL) {
    const url = typeof input === 'string' ? new URL(input) : input;
    return {
      method: init.method ?? 'GET',
      scheme: url.protocol.replace(/:$/, ''),
      authority: url.host,
      path: `${url.pathname}${url.search}`,
      init,
    };
  }
  const merged: H3FetchInit = { ...input, ...init };
  return {
    method: merged.method ?? 'GET',
    scheme: input.scheme ?? 'https',
    authority: input.authority,
    path: input.path,
    init: merged,
  };
}

const clients = new WeakMap<H3QuicConnection, H3Client>();

export class H3Client extends H3Endpoint {
  private readonly chunkSize: number;
  private readonly exchanges = new Set<Exchange>();
  private goaway: number | undefined;

  /** One client per connection (a second would open a second control stream, RFC 9114 §6.2.1). */
  constructor(conn: H3QuicConnection, options: H3ClientOptions = {}) {
    if (clients.has(conn)) throw new Error('this connection already has an H3Client: use h3Client(conn)');
    super(conn, 'client', options);
    clients.set(conn, this);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.start();
  }

  /** The smallest GOAWAY stream ID received: requests on this stream ID and above are not processed (RFC 9114 §5.2). */
  get goawayId(): number | undefined {
    return this.goaway;
  }

  /** Requests whose response has not been read to its end yet. */
  get activeRequests(): number {
    return this.exchanges.size;
  }

  /**
   * Sends a request and resolves with the response head once it arrives (interim 1xx responses are skipped); the
   * body streams afterwards. Rejects with an H3Error (malformed response, or H3_REQUEST_REJECTED after GOAWAY), an
   * H3StreamError (stream reset, connection closed), an H3ClosedError (connection already closed) or the abort reason.
   */
  async fetch(input: string | URL | H3RequestTarget, init: H3FetchInit = {}): Promise<H3Response> {
    const target = toTarget(input, init);
    const signal = target.init.signal;
    signal?.throwIfAborted();
    if (this.closing) throw new H3ClosedError('the HTTP/3 connection is closed', this.closeInfo);
    if (this.goawayId !== undefined) throw this.rejected();
    const headersFrame = this.encodeHead(target);
    let stream: H3BidirectionalStream;
    try {
      stream = await this.conn.createBidirectionalStream();
    } catch (err) {
      if (this.closing) throw new H3ClosedError('the HTTP/3 connection is closed', this.closeInfo);
      throw new H3StreamError('could not open a request stream', err);
    }
    if (this.goawayId !== undefined && stream.id >= this.goawayId) {
      abortStream(stream, H3ErrorCode.H3_REQUEST_CANCELLED);
      throw this.rejected();
    }
    const pump = new EventPump<ResponseEvent>(
      stream.readable.getReader(),
      new ResponseStreamParser({
        requestMethod: target.method,
        maxFieldSectionSize: this.maxFieldSectionSize,
        maxFramePayload: Math.max(this.maxFieldSectionSize, 65536),
      }),
    );
    const exchange: Exchange = { stream, pump, sending: true };
    this.exchanges.add(exchange);
    const onAbort = (): void => this.abortExchange(exchange, signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      this.exchanges.delete(exchange);
      signal?.removeEventListener('abort', onAbort);
    };
    this.sendRequest(exchange, stream.writable.getWriter(), headersFrame, target.init).catch(this.onError);

    let response: Extract<ResponseEvent, { kind: 'response' }>;
    try {
      for (;;) {
        const event = await pump.next();
        if (event === undefined) throw new Error('response parser ended without a response');
        if (event.kind === 'response') {
          response = event;
          break;
        }
        // 'informational': interim responses carry nothing this client uses (RFC 9114 §4.1).
      }
    } catch (err) {
      finish();
      this.streamError(err, stream);
      throw err;
    }

    const trailers = deferred<Field[]>();
    const body = bodyStream(pump, {
      end: (t) => {
        finish();
        trailers.resolve(t);
      },
      error: (err) => {
        finish();
        trailers.reject(err);
        this.streamError(err, stream);
        return err;
      },
      cancel: (reason) => {
        finish();
        trailers.reject(reason);
        this.abortExchange(exchange, reason);
      },
    });
    const head = response.response;
    return {
      streamId: stream.id,
      status: head.status,
      headers: head.headers,
      header: (name) => headerValue(head.headers, name),
      contentLength: head.contentLength,
      body,
      trailers: trailers.promise,
    };
  }

  protected onGoaway(id: number | bigint): void {
    // RFC 9114 §5.2: no new requests; those at or above the ID were not and will not be processed.
    const limit = Number(id);
    if (this.goaway === undefined || limit < this.goaway) this.goaway = limit;
    for (const exchange of this.exchanges) {
      if (exchange.stream.id >= limit) this.abortExchange(exchange, this.rejected());
    }
  }

  protected onBidirectionalStream(stream: H3BidirectionalStream): void {
    // RFC 9114 §6.1: servers do not open bidirectional streams without a negotiated extension.
    abortStream(stream, H3ErrorCode.H3_STREAM_CREATION_ERROR);
    this.fail(new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server opened bidirectional stream ${stream.id}`));
  }

  private rejected(): H3Error {
    return new H3Error(
      H3ErrorCode.H3_REQUEST_REJECTED,
      `the server sent GOAWAY ${this.goawayId}: request not processed, retry on a new connection`,
      'stream',
    );
  }

  /** Cancels a request (RFC 9114 §4.1.1): the reader sees `reason`, the server H3_REQUEST_CANCELLED. */
  private abortExchange(exchange: Exchange, reason: unknown): void {
    exchange.pump.cancel(reason);
    try {
      exchange.stream.stopSending(H3ErrorCode.H3_REQUEST_CANCELLED);
    } catch {
      // already gone
    }
    if (exchange.sending) {
      try {
        exchange.stream.reset(H3ErrorCode.H3_REQUEST_CANCELLED);
      } catch {
        // already gone
      }
    }
  }

  private encodeHead(target: Target): Uint8Array {
    const fields = toFields(target.init.headers);
    const body = target.init.body;
    if (body instanceof Uint8Array && body.length > 0 && !fields.some((f) => f.name === 'content-length')) {
      fields.push({ name: 'content-length', value: String(body.length) });
    }
    // RFC 9114 §4.2.2: stay within the peer's SETTINGS_MAX_FIELD_SECTION_SIZE when it is known.
    const limit = this.peerSettings?.maxFieldSectionSize ?? Number.POSITIVE_INFINITY;
    const size =
      fieldSectionSize(fields) +
      fieldSectionSize([
        { name: ':method', value: target.method },
        { name: ':scheme', value: target.scheme },
        { name: ':authority', value: target.authority },
        { name: ':path', value: target.path },
      ]);
    if (size > limit) throw new RangeError(`request header section of ${size} bytes exceeds the peer's limit ${limit}`);
    return encodeRequestHeaders({ ...target, headers: fields });
  }

  private async sendRequest(
    exchange: Exchange,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    headersFrame: Uint8Array,
    init: H3FetchInit,
  ): Promise<void> {
    try {
      await writeChunk(writer, headersFrame);
      if (init.body !== undefined) await writeBody(writer, init.body, this.chunkSize);
      if (init.trailers !== undefined) await writeChunk(writer, encodeTrailers(toFields(init.trailers)));
      await closeWriter(writer); // FIN ends the request (RFC 9114 §4.1)
      exchange.sending = false;
    } catch (err) {
      // A writer failure is the server stopping our request (possibly after a complete response) or the
      // connection closing: the response side tells the caller. A body source failure cancels the request.
      if (!(err instanceof H3StreamError)) this.abortExchange(exchange, err);
      exchange.sending = false;
    }
  }
}

/** The HTTP/3 client of a connection, created on first use (one per connection). */
export function h3Client(conn: H3QuicConnection, options: H3ClientOptions = {}): H3Client {
  return clients.get(conn) ?? new H3Client(conn, options);
}

/** Fetches over HTTP/3 on this QUIC connection (several calls share one client and run in parallel). */
export function fetchH3(
  conn: H3QuicConnection,
  input: string | URL | H3RequestTarget,
  init: H3FetchInit = {},
): Promise<H3Response> {
  return h3Client(conn).fetch(input, init);
}
