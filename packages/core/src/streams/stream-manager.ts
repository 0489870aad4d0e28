/**
 * The stream layer of a QUIC connection (RFC 9000 §2–§4, §19.4–§19.14): opens and accepts streams, enforces
 * flow control and stream limits both ways, turns application writes into STREAM frames in priority order and
 * peer frames into readable data and events. Sans-I/O: the connection feeds frames in (onFrame), asks for
 * frames (writeFrames through a FrameSink) and hands back what its packets carried (onAcked / onLost).
 */
import {
  QuicCodecError,
  TransportErrorCode,
  encodedFrameLength,
  frameTypeCode,
  maxStreamDataLength,
} from '@pathquic/wire-codec';
import type { Frame, ResetStreamFrame, StopSendingFrame, StreamFrame } from '@pathquic/wire-codec';
import { PRIORITY_DEFAULT, StreamScheduler } from '@pathquic/stream-priority';
import type { SchedulingScheme } from '@pathquic/stream-priority';
import { IncomingStreamLimit, MAX_STREAM_COUNT, ReceiveWindow, SendCredit, checkStreamCount } from '../flow-control.js';
import type { FrameSink, StreamSentItem } from '../sent-items.js';
import { StreamError } from './errors.js';
import { RecvStream } from './recv-stream.js';
import { ACK_DONE, ACK_FREED, SendStream } from './send-stream.js';
import { Stream } from './stream.js';
import { isBidirectional, isLocallyInitiated, isValidStreamId, makeStreamId, streamIndex } from './stream-id.js';
import type { Role } from './stream-id.js';
import type { StreamEvent, StreamLayerFrame, StreamLimits, StreamManagerOptions, StreamManagerStats } from './types.js';

export const DEFAULT_MAX_STREAM_RECEIVE_WINDOW = 16 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTION_RECEIVE_WINDOW = 24 * 1024 * 1024;
export const DEFAULT_SEND_BUFFER_SIZE = 1024 * 1024;
/** Round-robin quantum in bytes: MsQuic's 8-packet batch (QUIC_STREAM_SEND_BATCH_COUNT) of ~1200-byte packets. */
export const DEFAULT_QUANTUM_BYTES = 8 * 1200;
/** A new frame that cannot take all a stream has is not started for fewer bytes than this (packet nearly full). */
const MIN_FRAGMENT = 16;
/** RFC 9000 §16: error codes are varints, at most 2^62-1. */
const MAX_ERROR_CODE = 2n ** 62n - 1n;
const EMPTY = new Uint8Array(0);

const BIDI = 0;
const UNI = 1;
type StreamType = typeof BIDI | typeof UNI;

/** Which part of the stream a peer frame concerns. */
const NEED_RECV = 1; // the peer sends: STREAM, RESET_STREAM, STREAM_DATA_BLOCKED
const NEED_SEND = 2; // the peer receives: STOP_SENDING, MAX_STREAM_DATA

/**
 * Our streams of one type against the peer's MAX_STREAMS (RFC 9000 §4.6). Unlike OutgoingStreamLimit this can
 * hold more open streams than the limit: after a 0-RTT rejection the server's new limit may be lower than what
 * the client already opened (those streams wait until MAX_STREAMS covers them).
 */
interface OutgoingStreams {
  opened: number;
  max: number;
  blockedReportedAt: number;
  /** STREAMS_BLOCKED to send (§19.14). */
  blockedPending: number | undefined;
  /** A 'blocked' event was reported and no 'unblocked' yet. */
  blockedEvent: boolean;
}

const ZERO_LIMITS: StreamLimits = {
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
};

function checkLimits(name: string, l: StreamLimits): void {
  for (const key of Object.keys(ZERO_LIMITS) as (keyof StreamLimits)[]) {
    const v = l[key];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new StreamError('invalid-argument', `${name}.${key} must be a non-negative safe integer, got ${String(v)}`);
    }
  }
}

function checkErrorCode(code: number | bigint): void {
  const ok =
    typeof code === 'bigint' ? code >= 0n && code <= MAX_ERROR_CODE : Number.isSafeInteger(code) && code >= 0;
  if (!ok) throw new StreamError('invalid-argument', `error code must be an integer in 0..2^62-1, got ${String(code)}`);
}

function creditFrom(max: number, sent: number): SendCredit {
  const c = new SendCredit(Math.max(max, sent));
  c.onSent(sent);
  return c;
}

function stateError(message: string, frame: Frame): QuicCodecError {
  return new QuicCodecError(TransportErrorCode.STREAM_STATE_ERROR, message, frameTypeCode(frame));
}

/** Errors from the flow-control classes carry no frame type: add it for CONNECTION_CLOSE (§19.19). */
function withFrameType(error: unknown, frame: Frame): unknown {
  if (error instanceof QuicCodecError && error.frameType === undefined) {
    const e = new QuicCodecError(error.code, error.message, frameTypeCode(frame));
    e.stack = error.stack;
    return e;
  }
  return error;
}

export class StreamManager {
  private readonly role: Role;
  private readonly local: StreamLimits;
  private readonly maxStreamWindow: number;
  private readonly sendBufferSize: number;
  private readonly streams = new Map<number, Stream>();
  private readonly scheduler: StreamScheduler<Stream>;
  private connCredit = new SendCredit(0);
  private readonly connWindow: ReceiveWindow;
  private peer: StreamLimits | undefined = undefined;
  private readonly outgoing: [OutgoingStreams, OutgoingStreams];
  private readonly incoming: [IncomingStreamLimit, IncomingStreamLimit];
  /** The last MAX_STREAMS was lost while current. */
  private readonly maxStreamsResend = [false, false];
  private maxDataResend = false;
  private dataBlockedPending: number | undefined = undefined;
  /** Streams with a control frame due (RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED). */
  private readonly controlStreams = new Set<Stream>();
  /** Streams with lost data or a FIN to (re)send; these go before new data. */
  private readonly retransmit = new Set<Stream>();
  private events: (StreamEvent | undefined)[] = [];
  private eventHead = 0;
  /** After a 0-RTT rejection the next setPeerLimits replaces the remembered limits instead of raising them. */
  private replaceLimits = false;
  private dead = false;

  private readonly keepReceivedViews: boolean;

  constructor(opts: StreamManagerOptions) {
    if (opts.role !== 'client' && opts.role !== 'server') {
      throw new StreamError('invalid-argument', `role must be 'client' or 'server', got ${String(opts.role)}`);
    }
    checkLimits('local', opts.local);
    this.role = opts.role;
    this.keepReceivedViews = opts.keepReceivedViews ?? false;
    this.local = { ...opts.local };
    this.maxStreamWindow = opts.maxStreamReceiveWindow ?? DEFAULT_MAX_STREAM_RECEIVE_WINDOW;
    this.sendBufferSize = opts.sendBufferSize ?? DEFAULT_SEND_BUFFER_SIZE;
    if (!Number.isSafeInteger(this.sendBufferSize) || this.sendBufferSize < 1) {
      throw new StreamError('invalid-argument', `sendBufferSize must be a positive integer, got ${this.sendBufferSize}`);
    }
    this.connWindow = new ReceiveWindow({
      initialWindow: opts.local.initialMaxData,
      maxWindow: Math.max(opts.local.initialMaxData, opts.maxConnectionReceiveWindow ?? DEFAULT_MAX_CONNECTION_RECEIVE_WINDOW),
    });
    this.scheduler = new StreamScheduler<Stream>({
      scheme: opts.scheme ?? 'round-robin',
      quantum: opts.quantum ?? DEFAULT_QUANTUM_BYTES,
    });
    const out = (): OutgoingStreams => ({ opened: 0, max: 0, blockedReportedAt: -1, blockedPending: undefined, blockedEvent: false });
    this.outgoing = [out(), out()];
    this.incoming = [new IncomingStreamLimit(opts.local.initialMaxStreamsBidi), new IncomingStreamLimit(opts.local.initialMaxStreamsUni)];
  }

  /**
   * The peer's limits (its transport parameters, or the remembered ones for 0-RTT). Later calls only raise
   * limits (RFC 9000 §7.4.1: a server accepting 0-RTT must not lower them), except the first call after
   * onZeroRttRejected, which replaces them.
   */
  setPeerLimits(p: StreamLimits): void {
    checkLimits('peer limits', p);
    if (this.dead) return;
    if (this.replaceLimits) {
      this.replaceLimits = false;
      this.peer = { ...p };
      let sent = 0;
      for (const s of this.streams.values()) {
        if (s.send === undefined) continue;
        sent += s.send.sentOffset;
        s.send.credit = creditFrom(this.initialCreditFor(s, p), s.send.sentOffset);
      }
      this.connCredit = creditFrom(p.initialMaxData, sent);
      for (const t of [BIDI, UNI] as const) {
        const o = this.outgoing[t];
        o.max = 0;
        o.blockedReportedAt = -1;
        this.raiseOutgoing(t, t === BIDI ? p.initialMaxStreamsBidi : p.initialMaxStreamsUni);
      }
      for (const s of this.streams.values()) this.requeue(s);
      return;
    }
    const prev = this.peer ?? ZERO_LIMITS;
    const next: StreamLimits = {
      initialMaxData: Math.max(prev.initialMaxData, p.initialMaxData),
      initialMaxStreamDataBidiLocal: Math.max(prev.initialMaxStreamDataBidiLocal, p.initialMaxStreamDataBidiLocal),
      initialMaxStreamDataBidiRemote: Math.max(prev.initialMaxStreamDataBidiRemote, p.initialMaxStreamDataBidiRemote),
      initialMaxStreamDataUni: Math.max(prev.initialMaxStreamDataUni, p.initialMaxStreamDataUni),
      initialMaxStreamsBidi: Math.max(prev.initialMaxStreamsBidi, p.initialMaxStreamsBidi),
      initialMaxStreamsUni: Math.max(prev.initialMaxStreamsUni, p.initialMaxStreamsUni),
    };
    this.peer = next;
    this.onMaxData(next.initialMaxData);
    for (const s of this.streams.values()) {
      if (s.send !== undefined && s.send.credit.onMaxUpdate(this.initialCreditFor(s, next))) this.onStreamCredit(s);
    }
    this.raiseOutgoing(BIDI, next.initialMaxStreamsBidi);
    this.raiseOutgoing(UNI, next.initialMaxStreamsUni);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Application side

  /** Opens a stream; undefined when the peer's MAX_STREAMS is reached (a STREAMS_BLOCKED is then queued). */
  open(bidirectional: boolean): number | undefined {
    if (this.dead) return undefined;
    const t: StreamType = bidirectional ? BIDI : UNI;
    const o = this.outgoing[t];
    if (o.opened >= o.max) {
      // RFC 9000 §4.6, §19.14: say so once per limit (not while the real limit is unknown after a rejection).
      if (o.blockedReportedAt !== o.max && !this.replaceLimits) {
        o.blockedReportedAt = o.max;
        o.blockedPending = o.max;
      }
      if (!o.blockedEvent) {
        o.blockedEvent = true;
        this.emit({ type: 'blocked', bidirectional });
      }
      return undefined;
    }
    const index = o.opened++;
    const id = makeStreamId(index, this.role, bidirectional);
    this.createStream(id, index, true, bidirectional);
    return id;
  }

  /**
   * Queues bytes (keeping a reference to `data`, which must not change); returns how many were accepted (send
   * buffer bound). The FIN is queued only if all of `data` was accepted. Throws 'stream-reset' after a reset
   * (ours, or our answer to STOP_SENDING), 'not-writable' after the FIN, 'closed' once the stream is closed.
   */
  write(id: number, data: Uint8Array, fin = false): number {
    if (!(data instanceof Uint8Array)) throw new StreamError('invalid-argument', 'data must be a Uint8Array');
    const s = this.lookup(id);
    if (s === undefined) throw new StreamError('closed', `stream ${id} is closed`);
    const send = this.writableSide(s);
    const room = Math.max(0, this.sendBufferSize - send.bufferedBytes);
    const n = Math.min(room, data.length);
    if (n > 0) send.append(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) send.wantWritable = true;
    else if (fin) send.finalSize = send.writeOffset;
    this.requeue(s);
    return n;
  }

  /** Queues the FIN (RFC 9000 §3.1). No effect once queued or after a reset. */
  finish(id: number): void {
    const s = this.lookup(id);
    if (s === undefined) return;
    const send = s.send;
    if (send === undefined) throw new StreamError('not-writable', `stream ${id} is the peer's unidirectional stream`);
    if (send.isReset || send.finalSize !== undefined) return;
    send.finalSize = send.writeOffset;
    this.requeue(s);
  }

  /**
   * Reads in order. `fin` turns true with the read that reaches the final size; after that the receiving part
   * is done (and the stream is freed once the sending part is done too). After a reset or stopSending, or once
   * the stream is closed, it yields `{ data: undefined, fin: false }`.
   */
  read(id: number, maxBytes = Number.POSITIVE_INFINITY): { data: Uint8Array | undefined; fin: boolean } {
    if (!(maxBytes >= 1) || (maxBytes !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(maxBytes))) {
      throw new StreamError('invalid-argument', `maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const s = this.lookup(id);
    if (s === undefined) return { data: undefined, fin: false };
    const r = s.recv;
    if (r === undefined) throw new StreamError('not-readable', `stream ${id} is our unidirectional stream`);
    if (r.state === 'data-read') return { data: undefined, fin: true };
    if (r.stopRequested || r.state === 'reset-recvd' || r.state === 'reset-read') return { data: undefined, fin: false };
    const data = r.read(maxBytes, this.connWindow);
    if (r.maxDataPending) this.requeue(s);
    const fin = r.isFinishedReading;
    if (fin) this.maybeClose(s);
    return { data, fin };
  }

  /** Abandons sending (RESET_STREAM, RFC 9000 §3.1, §19.4). No effect when already reset or fully acked. */
  reset(id: number, errorCode: number | bigint): void {
    checkErrorCode(errorCode);
    const s = this.lookup(id);
    if (s === undefined) return;
    const send = s.send;
    if (send === undefined) throw new StreamError('not-writable', `stream ${id} is the peer's unidirectional stream`);
    if (send.reset(errorCode)) this.afterReset(s);
  }

  /** Asks the peer to stop sending (STOP_SENDING, RFC 9000 §3.5, §19.5); unread data is discarded. */
  stopSending(id: number, errorCode: number | bigint): void {
    checkErrorCode(errorCode);
    const s = this.lookup(id);
    if (s === undefined) return;
    const r = s.recv;
    if (r === undefined) throw new StreamError('not-readable', `stream ${id} is our unidirectional stream`);
    r.stop(errorCode, this.connWindow);
    this.requeue(s);
    this.maybeClose(s);
  }

  /**
   * Send priority, 0..0xFFFF (higher first, default 0x7FFF). `incremental`: true shares the level round-robin,
   * false sends sequentially (FIFO), undefined follows the connection's scheme.
   */
  setPriority(id: number, priority: number, incremental?: boolean): void {
    if ((priority & 0xffff) !== priority) {
      throw new StreamError('invalid-argument', `priority must be an integer in 0..0xFFFF, got ${String(priority)}`);
    }
    const s = this.lookup(id);
    if (s === undefined) return;
    s.priority = priority;
    if (s.send === undefined) return;
    this.scheduler.setPriority(s.send.handle, priority);
    if (incremental !== s.incremental) {
      s.incremental = incremental;
      this.scheduler.setScheme(s.send.handle, incremental === undefined ? undefined : incremental ? 'round-robin' : 'fifo');
    }
  }

  setScheme(scheme: SchedulingScheme): void {
    if (scheme !== 'fifo' && scheme !== 'round-robin') {
      throw new StreamError('invalid-argument', `scheme must be 'fifo' or 'round-robin', got ${String(scheme)}`);
    }
    this.scheduler.scheme = scheme;
  }

  /** What write() would accept now (0 once the FIN is queued or the stream reset). */
  writableBytes(id: number): number {
    const s = this.lookup(id);
    if (s === undefined) return 0;
    const send = s.send;
    if (send === undefined) throw new StreamError('not-writable', `stream ${id} is the peer's unidirectional stream`);
    if (send.isReset || send.finalSize !== undefined) return 0;
    return Math.max(0, this.sendBufferSize - send.bufferedBytes);
  }

  /** IDs of the streams currently open (not yet closed). */
  streamIds(): Iterable<number> {
    return this.streams.keys();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Frames from the peer

  onFrame(frame: StreamLayerFrame, _now: number): void {
    if (this.dead) return;
    switch (frame.type) {
      case 'stream':
        this.onStreamFrame(frame);
        return;
      case 'reset_stream':
        this.onResetStream(frame);
        return;
      case 'stop_sending':
        this.onStopSending(frame);
        return;
      case 'max_data':
        this.onMaxData(frame.maximumData);
        return;
      case 'max_stream_data': {
        const s = this.streamFor(frame.streamId, NEED_SEND, frame);
        if (s !== undefined) {
          const send = s.send as SendStream;
          if (!send.isReset && send.credit.onMaxUpdate(frame.maximumStreamData)) this.onStreamCredit(s);
        }
        return;
      }
      case 'max_streams': {
        // RFC 9000 §19.11: above 2^60 is FRAME_ENCODING_ERROR.
        checkStreamCount(frame.maximumStreams, frameTypeCode(frame));
        this.raiseOutgoing(frame.bidirectional ? BIDI : UNI, frame.maximumStreams);
        return;
      }
      case 'data_blocked':
        // RFC 9000 §19.12: informational; our MAX_DATA goes out as the application reads.
        return;
      case 'stream_data_blocked':
        // RFC 9000 §19.13: a send-only stream of ours is STREAM_STATE_ERROR; otherwise informational.
        this.streamFor(frame.streamId, NEED_RECV, frame);
        return;
      case 'streams_blocked':
        // RFC 9000 §19.14: informational; MAX_STREAMS goes out as the peer's streams close.
        checkStreamCount(frame.limit, frameTypeCode(frame));
        return;
      default:
        throw new StreamError('invalid-argument', `not a stream-layer frame: ${(frame as Frame).type}`);
    }
  }

  private onStreamFrame(f: StreamFrame): void {
    const s = this.streamFor(f.streamId, NEED_RECV, f);
    if (s === undefined) return;
    const r = s.recv as RecvStream;
    try {
      r.onData(f.offset, f.data, f.fin, this.connWindow, frameTypeCode(f));
    } catch (error) {
      throw withFrameType(error, f);
    }
    if (r.maxDataPending && !r.wantsCredit) {
      // The size became known: no more credit needed (§3.2).
      r.maxDataPending = false;
      this.refreshControl(s);
    }
    if (r.isDone) this.maybeClose(s);
    else if (r.readableArmed && r.hasReadable) {
      r.readableArmed = false;
      this.emit({ type: 'readable', id: s.id });
    }
  }

  private onResetStream(f: ResetStreamFrame): void {
    const s = this.streamFor(f.streamId, NEED_RECV, f);
    if (s === undefined) return;
    const r = s.recv as RecvStream;
    let ended: boolean;
    try {
      ended = r.onReset(f.finalSize, this.connWindow, frameTypeCode(f));
    } catch (error) {
      throw withFrameType(error, f);
    }
    if (ended) {
      this.emit({ type: 'reset', id: s.id, errorCode: f.errorCode, finalSize: f.finalSize });
      // The event is the application's notice (§3.2 "Reset Read"); nothing is kept for it.
      r.state = 'reset-read';
      r.stopPending = false;
      r.maxDataPending = false;
      this.refreshControl(s);
    }
    this.maybeClose(s);
  }

  private onStopSending(f: StopSendingFrame): void {
    const s = this.streamFor(f.streamId, NEED_SEND, f);
    if (s === undefined) return;
    const send = s.send as SendStream;
    // RFC 9000 §3.5: answer with RESET_STREAM carrying the same code (we do so in Data Sent too).
    if (send.reset(f.errorCode)) {
      this.emit({ type: 'stopped', id: s.id, errorCode: f.errorCode });
      this.afterReset(s);
    }
  }

  private onMaxData(max: number): void {
    if (this.connCredit.onMaxUpdate(max) && this.dataBlockedPending !== undefined && this.dataBlockedPending < this.connCredit.max) {
      this.dataBlockedPending = undefined;
    }
  }

  /**
   * The stream a peer frame refers to, opening peer streams implicitly (RFC 9000 §3.2: a frame for a higher ID
   * opens every lower one of its type). Undefined for a stream already closed (late frames are ignored). Throws
   * STREAM_STATE_ERROR for a direction the stream lacks or for our stream not yet opened, STREAM_LIMIT_ERROR
   * beyond our MAX_STREAMS (§4.6).
   */
  private streamFor(id: number, need: number, frame: Frame): Stream | undefined {
    const s = this.streams.get(id);
    if (s !== undefined) {
      if (need === NEED_RECV ? s.recv === undefined : s.send === undefined) throw this.directionError(id, need, frame);
      return s;
    }
    const bidi = isBidirectional(id);
    const local = isLocallyInitiated(id, this.role);
    if (!bidi && local === (need === NEED_RECV)) throw this.directionError(id, need, frame);
    const index = streamIndex(id);
    const t: StreamType = bidi ? BIDI : UNI;
    if (local) {
      if (index < this.outgoing[t].opened) return undefined;
      // §19.4, §19.5, §19.8, §19.10, §19.13: a locally-initiated stream not yet created.
      throw stateError(`stream ${id} has not been opened by us`, frame);
    }
    const incoming = this.incoming[t];
    if (index < incoming.opened) return undefined;
    if (index >= incoming.max) {
      throw new QuicCodecError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `stream ${id} is beyond the ${incoming.max} ${bidi ? 'bidirectional' : 'unidirectional'} streams allowed`,
        frameTypeCode(frame),
      );
    }
    const first = incoming.opened;
    incoming.onStreamReferenced(index);
    for (let i = first; i <= index; i++) {
      const sid = makeStreamId(i, this.role === 'client' ? 'server' : 'client', bidi);
      this.createStream(sid, i, false, bidi);
      this.emit({ type: 'opened', id: sid });
    }
    return this.streams.get(id);
  }

  private directionError(id: number, need: number, frame: Frame): QuicCodecError {
    return stateError(
      need === NEED_RECV
        ? `stream ${id} is send-only for the peer's receiver (our unidirectional stream)`
        : `stream ${id} is receive-only for us (the peer's unidirectional stream)`,
      frame,
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Frames to the peer

  wantsToSend(): boolean {
    if (this.dead) return false;
    return (
      this.controlStreams.size > 0 ||
      this.retransmit.size > 0 ||
      (this.scheduler.readyCount > 0 && this.connCredit.available > 0) ||
      this.connWindow.shouldUpdate ||
      this.maxDataResend ||
      this.dataBlockedPending !== undefined ||
      maxStreamsDue(this.incoming[BIDI]) ||
      maxStreamsDue(this.incoming[UNI]) ||
      this.maxStreamsResend[BIDI] === true ||
      this.maxStreamsResend[UNI] === true ||
      this.outgoing[BIDI].blockedPending !== undefined ||
      this.outgoing[UNI].blockedPending !== undefined
    );
  }

  /**
   * Fills the packet: control frames, then lost data (and FINs), then new data in scheduler order, then any
   * blocked signal that the new data ran into. `rtt`: smoothed RTT in ms, for receive-window auto-tuning.
   */
  writeFrames(sink: FrameSink, now: number, rtt: number): void {
    if (this.dead) return;
    if (!this.writeControl(sink, now, rtt)) return;
    if (!this.writeRetransmits(sink)) return;
    this.writeNewData(sink);
    this.writeControl(sink, now, rtt);
  }

  private writeControl(sink: FrameSink, now: number, rtt: number): boolean {
    // RFC 9000 §19.9 / §4.1: a lost MAX_DATA is replaced by the current limit.
    if (this.connWindow.shouldUpdate || this.maxDataResend) {
      const value = this.connWindow.takeMaxUpdate(now, rtt) ?? this.connWindow.maxData;
      this.maxDataResend = true;
      if (!push(sink, { type: 'max_data', maximumData: value }, { kind: 'max_data', value })) return false;
      this.maxDataResend = false;
    }
    for (const t of [BIDI, UNI] as const) {
      // §4.6: MAX_STREAMS as peer streams close.
      if (this.maxStreamsResend[t] === true || maxStreamsDue(this.incoming[t])) {
        const fresh = this.incoming[t].takeMaxStreams();
        if (fresh !== undefined || this.maxStreamsResend[t] === true) {
          const value = fresh ?? this.incoming[t].max;
          const bidirectional = t === BIDI;
          this.maxStreamsResend[t] = true;
          if (!push(sink, { type: 'max_streams', bidirectional, maximumStreams: value }, { kind: 'max_streams', bidirectional, value })) {
            return false;
          }
          this.maxStreamsResend[t] = false;
        }
      }
    }
    if (this.dataBlockedPending !== undefined) {
      const value = this.dataBlockedPending;
      if (!push(sink, { type: 'data_blocked', limit: value }, { kind: 'data_blocked', value })) return false;
      this.dataBlockedPending = undefined;
    }
    for (const t of [BIDI, UNI] as const) {
      const o = this.outgoing[t];
      if (o.blockedPending !== undefined) {
        const value = o.blockedPending;
        const bidirectional = t === BIDI;
        if (!push(sink, { type: 'streams_blocked', bidirectional, limit: value }, { kind: 'streams_blocked', bidirectional, value })) {
          return false;
        }
        o.blockedPending = undefined;
      }
    }
    for (const s of this.controlStreams) {
      if (!this.allowed(s)) {
        this.controlStreams.delete(s);
        continue;
      }
      const id = s.id;
      const send = s.send;
      if (send !== undefined) {
        if (send.resetPending) {
          const frame: Frame = { type: 'reset_stream', streamId: id, errorCode: send.resetCode, finalSize: send.resetFinalSize };
          if (!push(sink, frame, { kind: 'reset_stream', id })) return false;
          send.resetPending = false;
        }
        if (send.blockedPending !== undefined) {
          const value = send.blockedPending;
          if (!send.isReset && !push(sink, { type: 'stream_data_blocked', streamId: id, limit: value }, { kind: 'stream_data_blocked', id, value })) {
            return false;
          }
          send.blockedPending = undefined;
        }
      }
      const recv = s.recv;
      if (recv !== undefined) {
        if (recv.stopPending) {
          if (recv.wantsStop && !push(sink, { type: 'stop_sending', streamId: id, errorCode: recv.stopCode }, { kind: 'stop_sending', id })) {
            return false;
          }
          recv.stopPending = false;
        }
        if (recv.maxDataPending) {
          if (recv.wantsCredit) {
            const value = recv.window.takeMaxUpdate(now, rtt) ?? recv.window.maxData;
            const frame: Frame = { type: 'max_stream_data', streamId: id, maximumStreamData: value };
            if (!push(sink, frame, { kind: 'max_stream_data', id, value })) return false;
          }
          recv.maxDataPending = false;
        }
      }
      this.controlStreams.delete(s);
    }
    return true;
  }

  private writeRetransmits(sink: FrameSink): boolean {
    for (const s of this.retransmit) {
      const send = s.send as SendStream;
      if (!this.allowed(s) || !send.hasRetransmit) {
        this.retransmit.delete(s);
        continue;
      }
      const id = s.id;
      const lost = send.lost;
      while (!lost.isEmpty) {
        const offset = lost.firstStart as number;
        const room = maxStreamDataLength(id, offset, sink.remaining);
        if (room < 1 || (room < (lost.firstEnd as number) - offset && room < MIN_FRAGMENT)) return false;
        const data = send.takeLost(room);
        pushStream(sink, id, offset, data, send.frameFin);
      }
      if (send.needsFin) {
        const offset = send.finalSize as number;
        if (maxStreamDataLength(id, offset, sink.remaining) < 0) return false;
        send.takeFinOnly();
        pushStream(sink, id, offset, EMPTY, true);
      }
      this.retransmit.delete(s);
    }
    return true;
  }

  private writeNewData(sink: FrameSink): void {
    const scheduler = this.scheduler;
    for (;;) {
      const connAvailable = this.connCredit.available;
      if (connAvailable <= 0) {
        if (scheduler.readyCount > 0) this.noteConnectionBlocked();
        return;
      }
      const h = scheduler.pickHandle();
      if (h === undefined) return;
      const s = scheduler.streamOf(h);
      const send = s.send as SendStream;
      const offset = send.sentOffset;
      const want = Math.min(send.writeOffset - offset, send.credit.available, connAvailable);
      if (want <= 0) {
        scheduler.setBlocked(h); // not sendable (should not be linked)
        continue;
      }
      const room = maxStreamDataLength(s.id, offset, sink.remaining);
      if (room < 1 || (room < want && room < MIN_FRAGMENT)) return;
      const data = send.takeNew(room < want ? room : want);
      const n = data.length;
      send.credit.onSent(n);
      this.connCredit.onSent(n);
      pushStream(sink, s.id, offset, data, send.frameFin);
      scheduler.onSent(h, n);
      if (!send.sendable) {
        scheduler.setBlocked(h);
        if (send.sentOffset < send.writeOffset) {
          // §4.1, §19.13: blocked by the stream limit, once per limit.
          const limit = send.credit.takeBlocked();
          if (limit !== undefined) {
            send.blockedPending = limit;
            this.controlStreams.add(s);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Acknowledgements and losses

  onAcked(item: StreamSentItem): void {
    if (this.dead) return;
    switch (item.kind) {
      case 'stream': {
        const s = this.streams.get(item.id);
        const send = s?.send;
        if (s === undefined || send === undefined) return;
        const result = send.onAck(item.offset, item.length, item.fin);
        // Lost data acknowledged after all (spurious loss) no longer needs a retransmission.
        if (this.retransmit.size > 0 && !send.hasRetransmit) this.retransmit.delete(s);
        if ((result & ACK_FREED) !== 0 && send.wantWritable && this.sendBufferSize > send.bufferedBytes) {
          send.wantWritable = false;
          this.emit({ type: 'writable', id: s.id });
        }
        if ((result & ACK_DONE) !== 0) {
          this.emit({ type: 'finished', id: s.id });
          this.maybeClose(s);
        }
        return;
      }
      case 'reset_stream': {
        const s = this.streams.get(item.id);
        const send = s?.send;
        if (s === undefined || send === undefined || send.state !== 'reset-sent') return;
        send.state = 'reset-recvd';
        send.resetPending = false;
        this.maybeClose(s);
        return;
      }
      default:
        // Flow-control and blocked frames need nothing once acknowledged.
        return;
    }
  }

  onLost(item: StreamSentItem): void {
    if (this.dead) return;
    switch (item.kind) {
      case 'stream': {
        const s = this.streams.get(item.id);
        if (s?.send !== undefined && s.send.onLoss(item.offset, item.length, item.fin) && this.allowed(s)) this.retransmit.add(s);
        return;
      }
      case 'reset_stream': {
        const s = this.streams.get(item.id);
        if (s?.send !== undefined && s.send.state === 'reset-sent') {
          s.send.resetPending = true;
          this.requeue(s);
        }
        return;
      }
      case 'stop_sending': {
        const s = this.streams.get(item.id);
        const r = s?.recv;
        if (s !== undefined && r !== undefined && r.wantsStop) {
          r.stopPending = true;
          this.requeue(s);
        }
        return;
      }
      case 'max_data':
        // §13.3: only the current limit is worth resending.
        if (item.value === this.connWindow.maxData) this.maxDataResend = true;
        return;
      case 'max_stream_data': {
        const s = this.streams.get(item.id);
        const r = s?.recv;
        if (s !== undefined && r !== undefined && r.wantsCredit && item.value === r.window.maxData) {
          r.maxDataPending = true;
          this.requeue(s);
        }
        return;
      }
      case 'max_streams': {
        const t = item.bidirectional ? BIDI : UNI;
        if (item.value === this.incoming[t].max) this.maxStreamsResend[t] = true;
        return;
      }
      case 'data_blocked':
        if (item.value === this.connCredit.max && this.connCredit.isBlocked) this.dataBlockedPending = item.value;
        return;
      case 'stream_data_blocked': {
        const s = this.streams.get(item.id);
        const send = s?.send;
        if (s !== undefined && send !== undefined && !send.isReset && item.value === send.credit.max && send.credit.isBlocked && send.sentOffset < send.writeOffset) {
          send.blockedPending = item.value;
          this.requeue(s);
        }
        return;
      }
      case 'streams_blocked': {
        const o = this.outgoing[item.bidirectional ? BIDI : UNI];
        if (item.value === o.max && o.opened >= o.max) o.blockedPending = item.value;
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Events, lifecycle

  pollEvent(): StreamEvent | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const e = this.events[this.eventHead];
    this.events[this.eventHead++] = undefined;
    if (this.eventHead === this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
    }
    return e;
  }

  /**
   * 0-RTT was rejected (RFC 9000 §7.4.1, RFC 9001 §4.6.2): nothing sent in it arrived. Streams stay open, all
   * their data is unsent again, resets and STOP_SENDINGs are repeated, raised limits are advertised again, and
   * no data goes out until setPeerLimits gives the server's actual limits (which then replace the remembered ones).
   */
  onZeroRttRejected(): void {
    if (this.dead) return;
    this.replaceLimits = true;
    this.connCredit = new SendCredit(0);
    this.dataBlockedPending = undefined;
    for (const o of this.outgoing) {
      o.max = 0;
      o.blockedReportedAt = -1;
      o.blockedPending = undefined;
    }
    this.controlStreams.clear();
    this.retransmit.clear();
    for (const s of this.streams.values()) {
      const send = s.send;
      if (send !== undefined) {
        send.rewind();
        send.credit = new SendCredit(0);
      }
      const r = s.recv;
      if (r !== undefined) {
        if (r.wantsStop) r.stopPending = true;
        if (r.wantsCredit && r.window.maxData > this.initialWindowFor(s)) r.maxDataPending = true;
      }
      this.requeue(s);
    }
    this.maxDataResend = this.connWindow.maxData > this.local.initialMaxData;
    this.maxStreamsResend[BIDI] = this.incoming[BIDI].max > this.local.initialMaxStreamsBidi;
    this.maxStreamsResend[UNI] = this.incoming[UNI].max > this.local.initialMaxStreamsUni;
  }

  /** The connection is closed: drop everything. Later calls see no streams and send nothing. */
  closeAll(): void {
    this.dead = true;
    this.streams.clear();
    this.controlStreams.clear();
    this.retransmit.clear();
    this.events = [];
    this.eventHead = 0;
  }

  stats(): StreamManagerStats {
    let bufferedSendBytes = 0;
    let bufferedRecvBytes = 0;
    for (const s of this.streams.values()) {
      if (s.send !== undefined) bufferedSendBytes += s.send.bufferedBytes;
      if (s.recv !== undefined) bufferedRecvBytes += s.recv.buffer.bufferedBytes;
    }
    return { openStreams: this.streams.size, bufferedSendBytes, bufferedRecvBytes };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Internals

  private emit(e: StreamEvent): void {
    this.events.push(e);
  }

  /**
   * The stream, or undefined when it was open and is now closed (events already queued may still name it, so
   * most calls treat that as a no-op). Throws 'unknown-stream' for an ID never opened.
   */
  private lookup(id: number): Stream | undefined {
    const s = this.streams.get(id);
    if (s !== undefined) return s;
    if (!isValidStreamId(id)) throw new StreamError('unknown-stream', `${String(id)} is not a stream ID`);
    const index = streamIndex(id);
    const t: StreamType = isBidirectional(id) ? BIDI : UNI;
    const opened = isLocallyInitiated(id, this.role) ? this.outgoing[t].opened : this.incoming[t].opened;
    if (this.dead || index < opened) return undefined;
    throw new StreamError('unknown-stream', `stream ${id} is not open`);
  }

  private writableSide(s: Stream): SendStream {
    const send = s.send;
    if (send === undefined) throw new StreamError('not-writable', `stream ${s.id} is the peer's unidirectional stream`);
    if (send.isReset) throw new StreamError('stream-reset', `stream ${s.id} was reset (code ${String(send.resetCode)})`);
    if (send.finalSize !== undefined) throw new StreamError('not-writable', `stream ${s.id} is finished (FIN queued)`);
    return send;
  }

  private createStream(id: number, index: number, local: boolean, bidirectional: boolean): Stream {
    const peer = this.peer ?? ZERO_LIMITS;
    const l = this.local;
    let send: SendStream | undefined;
    let recv: RecvStream | undefined;
    if (local || bidirectional) {
      // §18.2: the peer's *_bidi_remote limits streams we open, *_bidi_local the ones it opens.
      send = new SendStream(local ? (bidirectional ? peer.initialMaxStreamDataBidiRemote : peer.initialMaxStreamDataUni) : peer.initialMaxStreamDataBidiLocal);
    }
    if (!local || bidirectional) {
      const initial = local ? l.initialMaxStreamDataBidiLocal : bidirectional ? l.initialMaxStreamDataBidiRemote : l.initialMaxStreamDataUni;
      recv = new RecvStream(initial, this.maxStreamWindow, this.keepReceivedViews);
    }
    const s = new Stream(id, index, local, bidirectional, send, recv);
    if (send !== undefined) send.handle = this.scheduler.add(s, PRIORITY_DEFAULT);
    this.streams.set(id, s);
    return s;
  }

  private initialCreditFor(s: Stream, p: StreamLimits): number {
    if (!s.local) return p.initialMaxStreamDataBidiLocal;
    return s.bidirectional ? p.initialMaxStreamDataBidiRemote : p.initialMaxStreamDataUni;
  }

  private initialWindowFor(s: Stream): number {
    const l = this.local;
    if (s.local) return l.initialMaxStreamDataBidiLocal;
    return s.bidirectional ? l.initialMaxStreamDataBidiRemote : l.initialMaxStreamDataUni;
  }

  /** Whether the peer's stream limit covers this stream (false only for our streams after a 0-RTT rejection). */
  private allowed(s: Stream): boolean {
    return !s.local || s.index < this.outgoing[s.bidirectional ? BIDI : UNI].max;
  }

  /** Puts the stream where its pending work is: scheduler (new data), retransmit set, control set. */
  private requeue(s: Stream): void {
    const send = s.send;
    if (!this.allowed(s)) {
      if (send !== undefined) this.scheduler.setBlocked(send.handle);
      return;
    }
    if (send !== undefined) {
      if (send.sendable) {
        this.scheduler.setReady(send.handle);
        if (this.connCredit.available <= 0) this.noteConnectionBlocked();
      } else {
        this.scheduler.setBlocked(send.handle);
        if (send.sentOffset < send.writeOffset && !send.isReset) {
          // §4.1: data waits on the stream limit (possibly from the start), once per limit.
          const limit = send.credit.takeBlocked();
          if (limit !== undefined) send.blockedPending = limit;
        }
      }
      if (send.hasRetransmit) this.retransmit.add(s);
    }
    this.refreshControl(s);
  }

  /** Keeps the stream in the control set exactly while it has a control frame due. */
  private refreshControl(s: Stream): void {
    const send = s.send;
    const recv = s.recv;
    const due =
      (send !== undefined && (send.resetPending || send.blockedPending !== undefined)) ||
      (recv !== undefined && (recv.stopPending || recv.maxDataPending));
    if (due && this.allowed(s)) this.controlStreams.add(s);
    else this.controlStreams.delete(s);
  }

  /** §4.1, §19.12: data waits on the connection limit; DATA_BLOCKED once per limit. */
  private noteConnectionBlocked(): void {
    const limit = this.connCredit.takeBlocked();
    if (limit !== undefined) this.dataBlockedPending = limit;
  }

  private onStreamCredit(s: Stream): void {
    const send = s.send as SendStream;
    if (send.blockedPending !== undefined && send.blockedPending < send.credit.max) send.blockedPending = undefined;
    this.requeue(s);
  }

  private afterReset(s: Stream): void {
    this.retransmit.delete(s);
    this.requeue(s);
  }

  private raiseOutgoing(t: StreamType, max: number): void {
    const o = this.outgoing[t];
    const next = Math.min(max, Number.MAX_SAFE_INTEGER);
    if (next <= o.max) return;
    const old = o.max;
    o.max = next;
    if (o.blockedPending !== undefined && o.blockedPending < next) o.blockedPending = undefined;
    // Streams opened beyond the old limit (after a 0-RTT rejection) may send now.
    const bidirectional = t === BIDI;
    for (let i = old, end = Math.min(o.opened, next); i < end; i++) {
      const s = this.streams.get(makeStreamId(i, this.role, bidirectional));
      if (s !== undefined) this.requeue(s);
    }
    if (o.blockedEvent && o.opened < o.max) {
      o.blockedEvent = false;
      this.emit({ type: 'unblocked', bidirectional });
    }
  }

  /** Frees a stream whose both parts are done (§3.3); a peer's stream gives its MAX_STREAMS credit back (§4.6). */
  private maybeClose(s: Stream): void {
    if (!s.isDone || this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (s.send !== undefined) this.scheduler.remove(s.send.handle);
    this.controlStreams.delete(s);
    this.retransmit.delete(s);
    if (!s.local) {
      const t: StreamType = s.bidirectional ? BIDI : UNI;
      this.incoming[t].onStreamClosed();
    }
    this.emit({ type: 'closed', id: s.id });
  }
}

/** Whether IncomingStreamLimit.takeMaxStreams would return a value now (same rule, without taking it). */
function maxStreamsDue(limit: IncomingStreamLimit): boolean {
  const next = Math.min(limit.closed + limit.maxConcurrent, MAX_STREAM_COUNT);
  return next > limit.max && limit.max - limit.opened < limit.maxConcurrent / 2;
}

function push(sink: FrameSink, frame: Frame, item: StreamSentItem): boolean {
  if (encodedFrameLength(frame) > sink.remaining) return false;
  sink.push(frame, item);
  return true;
}

function pushStream(sink: FrameSink, id: number, offset: number, data: Uint8Array, fin: boolean): void {
  sink.push({ type: 'stream', streamId: id, offset, fin, data }, { kind: 'stream', id, offset, length: data.length, fin });
}
