/**
 * What the HTTP/3 client and server share on one QUIC connection (RFC 9114 §6.2): this endpoint's control stream
 * with its SETTINGS, the peer's unidirectional streams (control, QPACK encoder/decoder, unknown types), connection
 * errors and closing.
 */
import type { ReadableStreamReadResult } from 'node:stream/web';
import { Writer } from '@pathquic/wire-codec';
import { H3Error, H3ErrorCode } from '../errors.js';
import { FrameType, encodeFrame, encodeGoawayFrame } from '../frames.js';
import { ControlStreamReader } from '../control-stream.js';
import type { ControlEvent } from '../control-stream.js';
import { DEFAULT_MAX_FIELD_SECTION_SIZE } from '../qpack/field-section.js';
import { QpackDecoderStreamReader, QpackEncoderStreamReader } from '../qpack/instruction-streams.js';
import { SettingId } from '../settings.js';
import type { DecodedSettings } from '../settings.js';
import { UniStreamClassifier, UniStreamPrefaceReader, UniStreamType, encodeUniStreamType } from '../stream-types.js';
import type { UniStreamKind } from '../stream-types.js';
import { H3ClosedError } from './errors.js';
import { deferred, noop } from './message-io.js';
import type { Deferred } from './message-io.js';
import type { H3BidirectionalStream, H3CloseInfo, H3QuicConnection, H3ReceiveStream } from './transport.js';

export interface H3EndpointOptions {
  /**
   * Largest header or trailer section accepted (RFC 9114 §4.2.2), advertised as SETTINGS_MAX_FIELD_SECTION_SIZE;
   * default 65536. Larger sections are H3_EXCESSIVE_LOAD stream errors.
   */
  readonly maxFieldSectionSize?: number;
  /**
   * Also open a QPACK encoder and decoder stream (type byte only). Not needed: with a dynamic table capacity of 0
   * on both sides, RFC 9204 §4.2 lets an endpoint omit both. Default false.
   */
  readonly openQpackStreams?: boolean;
  /** Add one reserved setting 0x1f * N + 0x21 to SETTINGS (RFC 9114 §7.2.4.1 "SHOULD"); default false. */
  readonly greaseSettings?: boolean;
  /** Diagnostics: errors no caller sees (connection errors raised here, failing handlers, stream errors). */
  readonly onError?: (err: unknown) => void;
}

/** Longest CONNECTION_CLOSE reason phrase sent, in characters (it has to fit one packet, RFC 9000 §19.19). */
const MAX_REASON_LENGTH = 100;

/**
 * The first bytes of this endpoint's control stream: Stream Type 0x00 (RFC 9114 §6.2.1) then SETTINGS (§7.2.4)
 * with QPACK_MAX_TABLE_CAPACITY 0 and QPACK_BLOCKED_STREAMS 0 (RFC 9204 §5: no dynamic table, so no encoder
 * instructions are ever needed) and MAX_FIELD_SECTION_SIZE. The zero values are the defaults (§7.2.4.2) but are
 * sent explicitly so a peer's logs show them.
 */
export function encodeSessionControlPreface(maxFieldSectionSize: number, grease = false): Uint8Array {
  const settings = new Writer(32);
  settings.writeVarint(SettingId.QPACK_MAX_TABLE_CAPACITY);
  settings.writeVarint(0);
  settings.writeVarint(SettingId.MAX_FIELD_SECTION_SIZE);
  settings.writeVarint(maxFieldSectionSize);
  settings.writeVarint(SettingId.QPACK_BLOCKED_STREAMS);
  settings.writeVarint(0);
  if (grease) {
    // RFC 9114 §7.2.4.1: reserved identifiers 0x1f * N + 0x21 with any value; N = 1 keeps it one byte.
    settings.writeVarint(0x1f * 1 + 0x21);
    settings.writeVarint(0);
  }
  const type = encodeUniStreamType(UniStreamType.CONTROL);
  const frame = encodeFrame(FrameType.SETTINGS, settings.bytes());
  const out = new Uint8Array(type.length + frame.length);
  out.set(type, 0);
  out.set(frame, type.length);
  return out;
}

interface UniSink {
  push(chunk: Uint8Array): void;
  end(): void;
}

export abstract class H3Endpoint {
  readonly conn: H3QuicConnection;
  readonly role: 'client' | 'server';
  /** The limit this endpoint advertises and enforces for received field sections. */
  readonly maxFieldSectionSize: number;
  /** The peer's SETTINGS once its control stream delivered them (RFC 9114 §7.2.4). */
  peerSettings: DecodedSettings | undefined;
  /** The connection error this endpoint closed the connection with, if it did. */
  error: H3Error | undefined;
  /** Set once the connection is closed. */
  closeInfo: H3CloseInfo | undefined;

  protected readonly onError: (err: unknown) => void;
  protected closing = false;
  private readonly settingsDeferred: Deferred<DecodedSettings> = deferred();
  private readonly classifier: UniStreamClassifier;
  private readonly options: H3EndpointOptions;
  private controlWriter: Promise<WritableStreamDefaultWriter<Uint8Array> | undefined> = Promise.resolve(undefined);
  /** Writers of our critical streams, kept open for the life of the connection (RFC 9114 §6.2.1). */
  private readonly criticalWriters: WritableStreamDefaultWriter<Uint8Array>[] = [];

  protected constructor(conn: H3QuicConnection, role: 'client' | 'server', options: H3EndpointOptions) {
    this.conn = conn;
    this.role = role;
    this.options = options;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? DEFAULT_MAX_FIELD_SECTION_SIZE;
    this.onError = options.onError ?? noop;
    this.classifier = new UniStreamClassifier({ role });
  }

  /** Resolves with the peer's SETTINGS; rejects if the connection closes first. */
  get settings(): Promise<DecodedSettings> {
    return this.settingsDeferred.promise;
  }

  /** Resolves when the QUIC connection is closed. */
  get closed(): Promise<H3CloseInfo> {
    return this.conn.closed;
  }

  /** Closes the connection now with an application error code (default H3_NO_ERROR, RFC 9114 §8.1). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.conn.close({ closeCode: code, reason });
  }

  /** Opens our control stream and starts reading the peer's streams. */
  protected start(): void {
    this.conn.closed.then(
      (info) => this.onClosed(info),
      () => this.onClosed({ closeCode: 0, reason: 'transport failed', remote: false }),
    );
    this.controlWriter = this.openControlStreams().catch((err: unknown) => {
      if (!this.closing) this.onError(err);
      return undefined;
    });
    this.acceptUnidirectional().catch(this.onError);
    this.acceptBidirectional().catch(this.onError);
  }

  /** A request stream for the server; for the client a server-initiated bidirectional stream (an error). */
  protected abstract onBidirectionalStream(stream: H3BidirectionalStream): void;

  /** The peer sent GOAWAY (RFC 9114 §5.2). */
  protected abstract onGoaway(id: number | bigint): void;

  protected onClosed(info: H3CloseInfo): void {
    this.closing = true;
    this.closeInfo = info;
    this.settingsDeferred.reject(new H3ClosedError('the connection closed before the peer\'s SETTINGS arrived', info));
  }

  /** A connection error (RFC 9114 §8): CONNECTION_CLOSE with the H3 error code. */
  protected fail(err: H3Error): void {
    if (this.closing) return;
    this.error = err;
    this.onError(err);
    this.close(err.code, err.message.slice(0, MAX_REASON_LENGTH));
  }

  /**
   * Handles an error met on a stream: connection-scoped H3Errors close the connection, stream-scoped ones abort
   * the stream (RESET_STREAM and STOP_SENDING with the code, RFC 9114 §8). Transport failures need nothing.
   */
  protected streamError(err: unknown, stream: H3BidirectionalStream | undefined): void {
    if (!(err instanceof H3Error)) return;
    if (err.scope === 'connection') {
      this.fail(err);
    } else {
      this.onError(err);
      if (stream !== undefined) abortStream(stream, err.code);
    }
  }

  /** Writes GOAWAY on our control stream (RFC 9114 §5.2, §7.2.6). */
  protected async sendGoaway(id: number): Promise<void> {
    const writer = await this.controlWriter;
    if (writer === undefined) return;
    await writer.write(encodeGoawayFrame(id));
  }

  private async openControlStreams(): Promise<WritableStreamDefaultWriter<Uint8Array>> {
    const control = await this.conn.createUnidirectionalStream();
    const writer = control.writable.getWriter();
    this.criticalWriters.push(writer);
    // Not awaited: a slow peer must not delay the QPACK streams; writes on one writer stay in order.
    writer.write(encodeSessionControlPreface(this.maxFieldSectionSize, this.options.greaseSettings)).catch(noop);
    if (this.options.openQpackStreams === true) {
      for (const type of [UniStreamType.QPACK_ENCODER, UniStreamType.QPACK_DECODER]) {
        const stream = await this.conn.createUnidirectionalStream();
        const w = stream.writable.getWriter();
        this.criticalWriters.push(w);
        w.write(encodeUniStreamType(type)).catch(noop);
      }
    }
    return writer;
  }

  private async acceptUnidirectional(): Promise<void> {
    const reader = this.conn.incomingUnidirectionalStreams.getReader();
    for (;;) {
      let next: ReadableStreamReadResult<H3ReceiveStream>;
      try {
        next = await reader.read();
      } catch {
        return; // the connection closed
      }
      if (next.done) return;
      this.readUnidirectional(next.value).catch(this.onError);
    }
  }

  private async acceptBidirectional(): Promise<void> {
    const reader = this.conn.incomingBidirectionalStreams.getReader();
    for (;;) {
      let next: ReadableStreamReadResult<H3BidirectionalStream>;
      try {
        next = await reader.read();
      } catch {
        return;
      }
      if (next.done) return;
      this.onBidirectionalStream(next.value);
    }
  }

  /** One peer-initiated unidirectional stream: its Stream Type, then the matching reader (RFC 9114 §6.2). */
  private async readUnidirectional(stream: H3ReceiveStream): Promise<void> {
    const reader = stream.readable.getReader();
    const preface = new UniStreamPrefaceReader();
    let sink: UniSink | undefined;
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch {
          // A reset critical stream is closed too (RFC 9114 §6.2.1, RFC 9204 §4.2); a stream reset before its
          // type, or any stream when the connection is closing, needs nothing.
          if (sink !== undefined && !this.closing) sink.end();
          return;
        }
        if (next.done) {
          sink?.end(); // a stream that ends before its type is fine (RFC 9114 §6.2)
          return;
        }
        let chunk = next.value;
        if (sink === undefined) {
          const got = preface.push(chunk);
          if (got === undefined) continue;
          const decision = this.classifier.classify(got.type);
          if (decision.action === 'ignore') {
            // RFC 9114 §6.2: abort reading an unknown stream type.
            stream.stopSending(decision.stopSendingCode);
            reader.cancel().catch(noop);
            return;
          }
          sink = this.uniSink(decision.kind);
          chunk = got.rest;
        }
        if (chunk.length > 0) sink.push(chunk);
      }
    } catch (err) {
      if (err instanceof H3Error) this.fail(err);
      else throw err;
    }
  }

  private uniSink(kind: UniStreamKind): UniSink {
    switch (kind) {
      case 'control': {
        const control = new ControlStreamReader({
          role: this.role,
          maxFramePayload: Math.max(this.maxFieldSectionSize, 65536),
        });
        return {
          push: (chunk) => {
            for (const event of control.push(chunk)) this.onControlEvent(event);
          },
          end: () => control.end(),
        };
      }
      case 'qpack-encoder':
        // RFC 9204 §4.2: the peer's encoder stream may only set a capacity within our maximum, 0.
        return new QpackEncoderStreamReader(0);
      case 'qpack-decoder':
        return new QpackDecoderStreamReader();
      case 'push':
        // The classifier only accepts push streams after MAX_PUSH_ID, which this package never sends.
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
    }
  }

  private onControlEvent(event: ControlEvent): void {
    switch (event.kind) {
      case 'settings':
        this.peerSettings = event.settings;
        this.settingsDeferred.resolve(event.settings);
        break;
      case 'goaway':
        this.onGoaway(event.id);
        break;
      default:
        // MAX_PUSH_ID: this server never pushes (RFC 9114 §4.6); CANCEL_PUSH is rejected by the reader.
        break;
    }
  }
}

/** RESET_STREAM and STOP_SENDING with one code; either may fail on a stream that is already gone. */
export function abortStream(stream: H3BidirectionalStream, code: number): void {
  try {
    stream.reset(code);
  } catch {
    // already reset or closed
  }
  try {
    stream.stopSending(code);
  } catch {
    // already stopped or closed
  }
}
