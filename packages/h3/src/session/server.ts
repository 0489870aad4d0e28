/**
 * HTTP/3 server side of one QUIC connection (RFC 9114): every client-initiated bidirectional stream is a request;
 * the handler's response goes back on the same stream.
 */
import { H3Error, H3ErrorCode } from '../errors.js';
import { encodeResponseHeaders, encodeTrailers } from '../message.js';
import type { HeaderInput } from '../message.js';
import { RequestStreamParser } from '../message-stream.js';
import type { RequestEvent } from '../message-stream.js';
import type { Field } from '../qpack/field-section.js';
import { H3StreamError } from './errors.js';
import { H3Endpoint, abortStream } from './endpoint.js';
import type { H3EndpointOptions } from './endpoint.js';
import {
  DEFAULT_CHUNK_SIZE,
  EventPump,
  bodyStream,
  closeWriter,
  deferred,
  discardBody,
  fieldSectionSize,
  headerValue,
  noop,
  toFields,
  writeBody,
  writeChunk,
} from './message-io.js';
import type { H3Body } from './message-io.js';
import type { H3BidirectionalStream, H3QuicConnection } from './transport.js';

/** A request as the handler sees it. The body streams from the QUIC stream as it is read. */
export interface H3Request {
  readonly streamId: number;
  readonly method: string;
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  /** The :path, query included; undefined only for CONNECT. */
  readonly path: string | undefined;
  /** Regular header fields in order (pseudo-headers are the properties above). */
  readonly headers: readonly Field[];
  /** One header's value, several lines joined with ", ". */
  header(name: string): string | undefined;
  readonly contentLength: number | undefined;
  readonly body: ReadableStream<Uint8Array>;
  /** The trailer section ([] if none) once the body was read to its end. */
  readonly trailers: Promise<Field[]>;
}

/** What a handler answers. A Uint8Array body gets a content-length header unless one is given. */
export interface H3ResponseInit {
  /** Final status, 200..599 (interim 1xx responses are not supported). */
  readonly status: number;
  readonly headers?: HeaderInput;
  readonly body?: H3Body;
  readonly trailers?: HeaderInput;
}

export type H3Handler = (request: H3Request) => H3ResponseInit | Promise<H3ResponseInit>;

export interface H3ServerOptions extends H3EndpointOptions {
  /** Largest DATA frame written (bodies are cut into frames of this size); default 65536. */
  readonly chunkSize?: number;
}

/** Request body bytes read and dropped after the response is complete, before giving up with STOP_SENDING. */
const DRAIN_LIMIT = 64 * 1024;

export class H3Server extends H3Endpoint {
  private readonly handler: H3Handler;
  private readonly chunkSize: number;
  private readonly requests = new Set<Promise<void>>();
  /** Lowest client-initiated bidirectional stream ID not seen yet: the GOAWAY ID (RFC 9114 §5.2). */
  private nextStreamId = 0;
  private goaway: number | undefined;

  constructor(conn: H3QuicConnection, handler: H3Handler, options: H3ServerOptions = {}) {
    super(conn, 'server', options);
    this.handler = handler;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.start();
  }

  /** The stream ID of the GOAWAY sent, if any. */
  get goawayId(): number | undefined {
    return this.goaway;
  }

  /** Requests being answered. */
  get activeRequests(): number {
    return this.requests.size;
  }

  /**
   * Graceful shutdown (RFC 9114 §5.2): GOAWAY with the next stream ID, so later requests are rejected with
   * H3_REQUEST_REJECTED and may be retried elsewhere; then, once the accepted requests are answered, CONNECTION_CLOSE
   * with H3_NO_ERROR.
   */
  async shutdown(): Promise<void> {
    if (this.goaway === undefined && !this.closing) {
      this.goaway = this.nextStreamId;
      await this.sendGoaway(this.goaway).catch(noop);
    }
    while (this.requests.size > 0) await Promise.allSettled([...this.requests]);
    this.close(H3ErrorCode.H3_NO_ERROR, 'shutdown');
  }

  protected onGoaway(): void {
    // A client's GOAWAY carries a push ID (RFC 9114 §7.2.6); this server never pushes, so there is nothing to stop.
  }

  protected onBidirectionalStream(stream: H3BidirectionalStream): void {
    if (this.goaway !== undefined && stream.id >= this.goaway) {
      // RFC 9114 §5.2: beyond the GOAWAY ID; not processed, so the client may retry it.
      abortStream(stream, H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    if (stream.id >= this.nextStreamId) this.nextStreamId = stream.id + 4;
    const task = this.serve(stream)
      .catch(this.onError)
      .finally(() => this.requests.delete(task));
    this.requests.add(task);
  }

  private async serve(stream: H3BidirectionalStream): Promise<void> {
    const reader = stream.readable.getReader();
    const writer = stream.writable.getWriter();
    const pump = new EventPump<RequestEvent>(
      reader,
      new RequestStreamParser({
        maxFieldSectionSize: this.maxFieldSectionSize,
        maxFramePayload: Math.max(this.maxFieldSectionSize, 65536),
      }),
    );
    let first: RequestEvent | undefined;
    try {
      first = await pump.next();
    } catch (err) {
      if (err instanceof H3StreamError) {
        // RFC 9114 §4.1: the client aborted before a complete request.
        abortStream(stream, H3ErrorCode.H3_REQUEST_INCOMPLETE);
      } else {
        this.streamError(err, stream);
      }
      return;
    }
    if (first?.kind !== 'request') throw new Error('request parser produced no request');
    const head = first.request;

    let bodyDone = false;
    const trailers = deferred<Field[]>();
    const body = bodyStream(pump, {
      end: (t) => {
        bodyDone = true;
        trailers.resolve(t);
      },
      error: (err) => {
        bodyDone = true;
        trailers.reject(err);
        this.streamError(err, stream);
        return err;
      },
      cancel: (reason) => {
        bodyDone = true;
        trailers.reject(reason);
        // RFC 9114 §4.1: a server that does not need the rest of the request may stop reading it.
        try {
          stream.stopSending(H3ErrorCode.H3_NO_ERROR);
        } catch {
          // the stream is gone already
        }
        pump.cancel(reason);
      },
    });
    const request: H3Request = {
      streamId: stream.id,
      method: head.method,
      scheme: head.scheme,
      authority: head.authority,
      path: head.path,
      headers: head.headers,
      header: (name) => headerValue(head.headers, name),
      contentLength: head.contentLength,
      body,
      trailers: trailers.promise,
    };

    let response: H3ResponseInit;
    try {
      response = await this.handler(request);
    } catch (err) {
      this.onError(err);
      response = { status: 500 };
    }
    const sent = await this.respond(stream, writer, response, head.method);
    if (sent && !bodyDone) this.drain(stream, pump).catch(this.onError);
  }

  /** Writes the response; returns whether it was sent completely (FIN). */
  private async respond(
    stream: H3BidirectionalStream,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    response: H3ResponseInit,
    method: string,
  ): Promise<boolean> {
    try {
      let headers: Uint8Array;
      try {
        headers = this.encodeHead(response);
      } catch (err) {
        // The handler's response cannot be sent as is (bad status, headers too large): a bare 500 instead.
        this.onError(err);
        if (response.body !== undefined) discardBody(response.body);
        response = { status: 500 };
        headers = this.encodeHead(response);
      }
      await writeChunk(writer, headers);
      const { status, body } = response;
      // RFC 9110 §9.3.2, §15.3.5, §15.4.5: no content in responses to HEAD, nor in 204 and 304.
      const noContent = method === 'HEAD' || status === 204 || status === 304;
      if (body !== undefined) {
        if (noContent) discardBody(body);
        else await writeBody(writer, body, this.chunkSize);
      }
      if (response.trailers !== undefined) await writeChunk(writer, encodeTrailers(toFields(response.trailers)));
      await closeWriter(writer);
      return true;
    } catch (err) {
      if (err instanceof H3StreamError) return false; // the client stopped reading, or the connection closed
      // The body source failed (or the handler's headers could not be encoded at all): the response is incomplete,
      // which only a reset can say (RFC 9114 §4.1).
      this.onError(err);
      abortStream(stream, H3ErrorCode.H3_INTERNAL_ERROR);
      return false;
    }
  }

  private encodeHead(response: H3ResponseInit): Uint8Array {
    const { status, body } = response;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`response status ${status} is not a final status (200..599)`);
    }
    const fields = toFields(response.headers);
    const hasLength = fields.some((f) => f.name === 'content-length');
    if (body instanceof Uint8Array && !hasLength && status !== 204 && status !== 304) {
      fields.push({ name: 'content-length', value: String(body.length) });
    }
    // RFC 9114 §4.2.2: stay within the peer's SETTINGS_MAX_FIELD_SECTION_SIZE.
    const limit = this.peerSettings?.maxFieldSectionSize ?? Number.POSITIVE_INFINITY;
    const size = fieldSectionSize([{ name: ':status', value: String(status) }, ...fields]);
    if (size > limit) throw new RangeError(`response header section of ${size} bytes exceeds the peer's limit ${limit}`);
    return encodeResponseHeaders(status, fields);
  }

  /**
   * The response is complete but the handler left the request body unread: read to the FIN when little is left
   * (the usual GET whose FIN is already here), else stop the client's sending with H3_NO_ERROR (RFC 9114 §4.1).
   */
  private async drain(stream: H3BidirectionalStream, pump: EventPump<RequestEvent>): Promise<void> {
    let budget = DRAIN_LIMIT;
    try {
      for (;;) {
        const event = await pump.next();
        if (event === undefined) return;
        if (event.kind === 'data') budget -= event.data.length;
        if (budget < 0) {
          stream.stopSending(H3ErrorCode.H3_NO_ERROR);
          pump.cancel(new H3StreamError('request body not read', undefined));
          return;
        }
      }
    } catch (err) {
      if (err instanceof H3Error && err.scope === 'connection') this.fail(err);
      else if (err instanceof H3Error) {
        // The response already ended with FIN; only the receiving side is left to abort.
        try {
          stream.stopSending(err.code);
        } catch {
          // gone already
        }
      }
    }
  }
}

/** Serves HTTP/3 on one QUIC connection with `handler` (RFC 9114). */
export function serveH3(conn: H3QuicConnection, handler: H3Handler, options: H3ServerOptions = {}): H3Server {
  return new H3Server(conn, handler, options);
}
