/**
 * Receive-side state machines for request streams (RFC 9114 §4.1, §6.1): one HEADERS frame, DATA frames, and an
 * optional trailing HEADERS frame, with unknown frame types ignored anywhere (RFC 9114 §9).
 *
 * - A frame in the wrong place (DATA before HEADERS, anything after the trailers, control-stream frames) is a
 *   connection error H3_FRAME_UNEXPECTED (RFC 9114 §4.1, §7.2).
 * - A malformed message — pseudo-header rules, invalid names or values, content-length not matching the DATA
 *   received — is a stream error H3_MESSAGE_ERROR (RFC 9114 §4.1.2).
 * - QPACK failures are QPACK_DECOMPRESSION_FAILED (connection), oversized sections H3_EXCESSIVE_LOAD (stream).
 */
import { H3ErrorCode, h3Fail } from './errors.js';
import { FrameReader } from './frame-reader.js';
import type { FrameReaderOptions } from './frame-reader.js';
import { FrameType, frameTypeName } from './frames.js';
import { validateRequestHeaders, validateResponseHeaders, validateTrailers } from './message.js';
import type { RequestHead, ResponseHead } from './message.js';
import { DEFAULT_MAX_FIELD_SECTION_SIZE, decodeFieldSection } from './qpack/field-section.js';
import type { Field } from './qpack/field-section.js';

export interface MessageStreamOptions extends FrameReaderOptions {
  /** Largest decoded header or trailer section (RFC 9114 §4.2.2); default 65536. */
  readonly maxFieldSectionSize?: number;
}

export type DataEvent = { readonly kind: 'data'; readonly data: Uint8Array };
export type TrailersEvent = { readonly kind: 'trailers'; readonly trailers: Field[] };

export type RequestEvent =
  | { readonly kind: 'request'; readonly request: RequestHead; readonly fields: Field[] }
  | DataEvent
  | TrailersEvent;

export type ResponseEvent =
  /** An interim 1xx response (RFC 9114 §4.1); the final response follows. */
  | { readonly kind: 'informational'; readonly status: number; readonly headers: Field[] }
  | { readonly kind: 'response'; readonly response: ResponseHead; readonly fields: Field[] }
  | DataEvent
  | TrailersEvent;

type Phase = 'headers' | 'body' | 'done';

abstract class MessageStreamParser<E> {
  private readonly frames: FrameReader;
  private readonly maxFieldSectionSize: number;
  protected phase: Phase = 'headers';
  /** Expected content length, when declared and content is expected. */
  protected expectedLength: number | undefined;
  /** Sum of the DATA payload lengths received. */
  received = 0;
  private finished = false;

  constructor(options: MessageStreamOptions) {
    this.frames = new FrameReader(options);
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? DEFAULT_MAX_FIELD_SECTION_SIZE;
  }

  /** True once the final header section has arrived. */
  get headersComplete(): boolean {
    return this.phase !== 'headers';
  }

  /** Feeds stream bytes; returns the events they complete. Throws H3Error. */
  push(chunk: Uint8Array): E[] {
    if (this.finished) h3Fail(H3ErrorCode.H3_INTERNAL_ERROR, 'data pushed after the end of the stream');
    const out: E[] = [];
    for (const event of this.frames.push(chunk)) {
      if (event.kind === 'unknown') continue; // RFC 9114 §9
      if (event.kind === 'data') {
        if (this.phase !== 'body') {
          h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `DATA ${this.phase === 'done' ? 'after trailers' : 'before HEADERS'}`);
        }
        this.received += event.data.length;
        if (this.expectedLength !== undefined && this.received > this.expectedLength) {
          h3Fail(H3ErrorCode.H3_MESSAGE_ERROR, `more DATA than content-length ${this.expectedLength}`, 'stream');
        }
        if (event.data.length > 0) out.push({ kind: 'data', data: event.data } as E);
        continue;
      }
      switch (event.type) {
        case FrameType.HEADERS: {
          if (this.phase === 'done') h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'HEADERS after trailers');
          const fields = decodeFieldSection(event.payload, { maxFieldSectionSize: this.maxFieldSectionSize });
          if (this.phase === 'body') {
            this.phase = 'done';
            out.push({ kind: 'trailers', trailers: validateTrailers(fields) } as E);
          } else {
            out.push(this.onHeaders(fields));
          }
          break;
        }
        case FrameType.PUSH_PROMISE:
          this.onPushPromise();
          break;
        default:
          // SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH belong on the control stream (RFC 9114 §7.2).
          h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `${frameTypeName(event.type)} on a request stream`);
      }
    }
    return out;
  }

  /**
   * The stream ended cleanly (FIN). Throws H3_FRAME_ERROR for a partial frame (RFC 9114 §7.1), an incomplete
   * message error when no final header section arrived, H3_MESSAGE_ERROR for a content-length mismatch.
   */
  end(): void {
    this.finished = true;
    this.frames.end();
    if (this.phase === 'headers') this.onIncomplete();
    if (this.expectedLength !== undefined && this.received !== this.expectedLength) {
      h3Fail(
        H3ErrorCode.H3_MESSAGE_ERROR,
        `content-length ${this.expectedLength} but ${this.received} bytes of DATA`,
        'stream',
      );
    }
  }

  protected abstract onHeaders(fields: Field[]): E;
  protected abstract onPushPromise(): void;
  protected abstract onIncomplete(): never;
}

/** What a server reads on a client-initiated bidirectional stream. */
export class RequestStreamParser extends MessageStreamParser<RequestEvent> {
  request: RequestHead | undefined;

  constructor(options: MessageStreamOptions = {}) {
    super(options);
  }

  protected onHeaders(fields: Field[]): RequestEvent {
    const request = validateRequestHeaders(fields);
    this.request = request;
    this.expectedLength = request.contentLength;
    this.phase = 'body';
    return { kind: 'request', request, fields };
  }

  protected onPushPromise(): void {
    // RFC 9114 §7.2.5: a client never sends PUSH_PROMISE.
    h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'PUSH_PROMISE from a client');
  }

  protected onIncomplete(): never {
    // RFC 9114 §4.1: the stream ended without a complete request.
    h3Fail(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'request stream ended before its HEADERS', 'stream');
  }
}

export interface ResponseStreamOptions extends MessageStreamOptions {
  /** The request's method: a HEAD response has no content whatever its content-length (RFC 9110 §8.6). */
  readonly requestMethod?: string;
}

/** What a client reads on the request stream it opened. */
export class ResponseStreamParser extends MessageStreamParser<ResponseEvent> {
  response: ResponseHead | undefined;
  private readonly requestMethod: string | undefined;

  constructor(options: ResponseStreamOptions = {}) {
    super(options);
    this.requestMethod = options.requestMethod;
  }

  protected onHeaders(fields: Field[]): ResponseEvent {
    const response = validateResponseHeaders(fields);
    if (response.status < 200) return { kind: 'informational', status: response.status, headers: response.headers };
    this.response = response;
    // RFC 9114 §4.1.2: responses defined as never having content may carry any content-length.
    const noContent = this.requestMethod === 'HEAD' || response.status === 204 || response.status === 304;
    this.expectedLength = noContent ? undefined : response.contentLength;
    this.phase = 'body';
    return { kind: 'response', response, fields };
  }

  protected onPushPromise(): void {
    // RFC 9114 §4.6, §7.2.5: this client never sends MAX_PUSH_ID, so every push ID is beyond the limit.
    h3Fail(H3ErrorCode.H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
  }

  protected onIncomplete(): never {
    h3Fail(H3ErrorCode.H3_MESSAGE_ERROR, 'response stream ended before a final response', 'stream');
  }
}
