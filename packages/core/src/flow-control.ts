/**
 * Flow control (RFC 9000 §4): byte credit in both directions, for a stream or the whole connection, and the
 * stream-count limits of §4.6. Sans-I/O: time (`now`, ms) and the smoothed RTT (ms) are arguments.
 */
import { FrameLimits, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';

/** Raised for invalid arguments (programmer errors, never network input). */
export class FlowControlUsageError extends TypeError {
  override readonly name = 'FlowControlUsageError';
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FlowControlUsageError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

/**
 * What we may send: the peer's MAX_DATA / MAX_STREAM_DATA limit against the bytes (highest offset) sent.
 * Retransmissions do not consume credit (RFC 9000 §4.1 counts offsets, not transmissions).
 */
export class SendCredit {
  private maxValue: number;
  private sentValue = 0;
  /** The limit a DATA_BLOCKED / STREAM_DATA_BLOCKED was last reported for. */
  private blockedReportedAt = -1;

  /** `initialMax`: the peer's initial_max_data / initial_max_stream_data_* transport parameter (§18.2). */
  constructor(initialMax: number) {
    checkCount('initialMax', initialMax);
    this.maxValue = initialMax;
  }

  /** The peer's current limit. */
  get max(): number {
    return this.maxValue;
  }

  /** Bytes counted against the limit. */
  get sent(): number {
    return this.sentValue;
  }

  /** Bytes that may still be sent. */
  get available(): number {
    return this.maxValue - this.sentValue;
  }

  /** A MAX_DATA / MAX_STREAM_DATA value; returns whether it raised the limit (§4.1: lower values are ignored). */
  onMaxUpdate(max: number): boolean {
    checkCount('max', max);
    if (max <= this.maxValue) return false;
    this.maxValue = max;
    return true;
  }

  /** Counts `bytes` of new data; sending past the peer's limit is a bug in the caller (§4.1). */
  onSent(bytes: number): void {
    checkCount('bytes', bytes);
    if (bytes > this.available) {
      throw new FlowControlUsageError(`sending ${bytes} bytes exceeds the ${this.available} bytes of credit left`);
    }
    this.sentValue += bytes;
  }

  /** Whether the limit has been reached. */
  get isBlocked(): boolean {
    return this.sentValue >= this.maxValue;
  }

  /**
   * Called when data is waiting but the credit is used up: the limit to put in a DATA_BLOCKED /
   * STREAM_DATA_BLOCKED frame, once per limit (§4.1 "SHOULD send ... when it wishes to send data but is unable
   * to"), or undefined when not blocked or already reported at this limit.
   */
  takeBlocked(): number | undefined {
    if (!this.isBlocked || this.blockedReportedAt === this.maxValue) return undefined;
    this.blockedReportedAt = this.maxValue;
    return this.maxValue;
  }
}

export interface ReceiveWindowOptions {
  /** The window first advertised (our initial_max_data / initial_max_stream_data_* transport parameter). */
  initialWindow: number;
  /** Auto-tuning never grows the window past this (defaults to initialWindow: no tuning). */
  maxWindow?: number;
}

/**
 * What the peer may send us: the limit we advertised, the highest offset received, and the bytes the application
 * consumed. The limit is raised (MAX_DATA / MAX_STREAM_DATA) once less than half the window remains, and the
 * window doubles, up to `maxWindow`, when updates come less than two RTTs apart: the sender is then limited by
 * the window rather than the path (the bandwidth-delay product exceeds it), as quinn and Chromium tune theirs.
 */
export class ReceiveWindow {
  readonly maxWindow: number;
  private windowValue: number;
  private limit: number;
  private highest = 0;
  private consumedValue = 0;
  private lastUpdateTime: number | undefined = undefined;

  constructor(options: ReceiveWindowOptions) {
    checkCount('initialWindow', options.initialWindow);
    const maxWindow = options.maxWindow ?? options.initialWindow;
    checkCount('maxWindow', maxWindow);
    if (maxWindow < options.initialWindow) {
      throw new FlowControlUsageError(`maxWindow ${maxWindow} is below initialWindow ${options.initialWindow}`);
    }
    this.windowValue = options.initialWindow;
    this.maxWindow = maxWindow;
    this.limit = options.initialWindow;
  }

  /** The limit currently advertised to the peer. */
  get maxData(): number {
    return this.limit;
  }

  /** The current window size (grows with auto-tuning). */
  get window(): number {
    return this.windowValue;
  }

  /** Highest offset (stream) or sum of highest offsets (connection) received. */
  get highestReceived(): number {
    return this.highest;
  }

  /** Bytes the application consumed. */
  get consumed(): number {
    return this.consumedValue;
  }

  /**
   * A stream's data reached `offset` (offset + length of a STREAM frame, or a final size). Throws
   * QuicCodecError(FLOW_CONTROL_ERROR) past the advertised limit (§4.1). Returns the increase, which the
   * connection-level window takes via `onIncrease`.
   */
  onReceivedUpTo(offset: number): number {
    checkCount('offset', offset);
    if (offset <= this.highest) return 0;
    const increase = offset - this.highest;
    this.onIncrease(increase);
    return increase;
  }

  /** Adds `bytes` of new data (the connection-level sum of per-stream increases, §4.1). */
  onIncrease(bytes: number): void {
    checkCount('bytes', bytes);
    if (this.highest + bytes > this.limit) {
      throw new QuicCodecError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `peer sent data up to ${this.highest + bytes}, beyond the advertised limit ${this.limit}`,
      );
    }
    this.highest += bytes;
  }

  /** The application read `bytes` (or they were discarded, e.g. after RESET_STREAM, §4.5). */
  onConsumed(bytes: number): void {
    checkCount('bytes', bytes);
    if (this.consumedValue + bytes > this.highest) {
      throw new FlowControlUsageError(`consumed ${this.consumedValue + bytes} exceeds received ${this.highest}`);
    }
    this.consumedValue += bytes;
  }

  /** Whether a limit update is due: less than half the window remains unconsumed below the limit. */
  get shouldUpdate(): boolean {
    return this.limit - this.consumedValue < this.windowValue / 2;
  }

  /**
   * The new limit for a MAX_DATA / MAX_STREAM_DATA frame when one is due, or undefined. Auto-tunes the window
   * first: two updates less than 2 RTTs apart double it (capped at `maxWindow`). `rtt` is the smoothed RTT in
   * ms (RFC 9002 §5.3); with no sample yet (0) the window is not tuned.
   */
  takeMaxUpdate(now: number, rtt: number): number | undefined {
    if (!this.shouldUpdate) return undefined;
    if (this.lastUpdateTime !== undefined && rtt > 0 && now - this.lastUpdateTime < 2 * rtt) {
      this.windowValue = Math.min(this.windowValue * 2, this.maxWindow);
    }
    this.lastUpdateTime = now;
    // §4.1: a limit never decreases.
    const next = Math.max(this.limit, this.consumedValue + this.windowValue);
    if (next === this.limit) return undefined;
    this.limit = next;
    return next;
  }
}

/** RFC 9000 §19.11, §19.14: stream counts may not exceed 2^60. */
export const MAX_STREAM_COUNT = FrameLimits.MAX_STREAMS;

/** Rejects a MAX_STREAMS / STREAMS_BLOCKED count above 2^60 (RFC 9000 §19.11, §19.14: FRAME_ENCODING_ERROR). */
export function checkStreamCount(count: number, frameType?: number): void {
  if (count > MAX_STREAM_COUNT) {
    throw new QuicCodecError(TransportErrorCode.FRAME_ENCODING_ERROR, `stream count ${count} exceeds 2^60`, frameType);
  }
}

/**
 * Streams of one type (bidirectional or unidirectional) that we open, against the peer's MAX_STREAMS (§4.6): the
 * same credit-and-blocked-once-per-limit rules as SendCredit, counted in streams.
 */
export class OutgoingStreamLimit {
  private readonly credit: SendCredit;

  /** `initialMax`: the peer's initial_max_streams_bidi / _uni transport parameter (§18.2). */
  constructor(initialMax: number) {
    this.credit = new SendCredit(initialMax);
  }

  get max(): number {
    return this.credit.max;
  }

  /** Streams of this type opened so far. */
  get opened(): number {
    return this.credit.sent;
  }

  get canOpen(): boolean {
    return !this.credit.isBlocked;
  }

  /** Takes a stream index (stream ID >> 2, RFC 9000 §2.1); opening past the peer's limit is a caller bug. */
  open(): number {
    if (!this.canOpen) throw new FlowControlUsageError(`the peer allows only ${this.max} streams`);
    const index = this.credit.sent;
    this.credit.onSent(1);
    return index;
  }

  /**
   * A MAX_STREAMS value: above 2^60 is FRAME_ENCODING_ERROR (§19.11), lower values are ignored (§4.6).
   * Returns whether the limit rose. Counts beyond 2^53 − 1 are as good as unlimited and are held at that value.
   */
  onMaxStreams(max: number, frameType?: number): boolean {
    checkStreamCount(max, frameType);
    return this.credit.onMaxUpdate(Math.min(max, Number.MAX_SAFE_INTEGER));
  }

  /** The limit for a STREAMS_BLOCKED frame, once per limit, when a stream is wanted but none may open (§4.6). */
  takeBlocked(): number | undefined {
    return this.credit.takeBlocked();
  }
}

/**
 * Streams of one type that the peer opens, against our MAX_STREAMS (§4.6). The limit rolls forward as streams
 * close so that up to `maxConcurrent` may be open at once; a new MAX_STREAMS is due once the peer has used more
 * than half of the unopened credit.
 */
export class IncomingStreamLimit {
  readonly maxConcurrent: number;
  private limit: number;
  private openedValue = 0;
  private closedValue = 0;

  /** `maxConcurrent`: our initial_max_streams_bidi / _uni transport parameter (§18.2). */
  constructor(maxConcurrent: number) {
    checkCount('maxConcurrent', maxConcurrent);
    if (maxConcurrent > MAX_STREAM_COUNT) throw new FlowControlUsageError('maxConcurrent exceeds 2^60');
    this.maxConcurrent = maxConcurrent;
    this.limit = maxConcurrent;
  }

  /** The MAX_STREAMS value currently advertised. */
  get max(): number {
    return this.limit;
  }

  /** Streams the peer has opened (explicitly or implicitly). */
  get opened(): number {
    return this.openedValue;
  }

  get closed(): number {
    return this.closedValue;
  }

  /**
   * A frame referenced the stream with this index (stream ID >> 2). Opening a stream opens every lower one of
   * its type (RFC 9000 §3.2), so this returns how many streams it newly opened (0 if already open). An index at
   * or past the limit is STREAM_LIMIT_ERROR (§4.6).
   */
  onStreamReferenced(index: number, frameType?: number): number {
    checkCount('index', index);
    if (index >= this.limit) {
      throw new QuicCodecError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `stream index ${index} is beyond the ${this.limit} streams allowed`,
        frameType,
      );
    }
    if (index < this.openedValue) return 0;
    const opened = index + 1 - this.openedValue;
    this.openedValue = index + 1;
    return opened;
  }

  /** A peer-opened stream is finished in both directions and its state discarded. */
  onStreamClosed(): void {
    if (this.closedValue >= this.openedValue) throw new FlowControlUsageError('more streams closed than opened');
    this.closedValue += 1;
  }

  /** The new MAX_STREAMS value when one is due, or undefined. */
  takeMaxStreams(): number | undefined {
    const next = Math.min(this.closedValue + this.maxConcurrent, MAX_STREAM_COUNT);
    if (next <= this.limit) return undefined;
    if (this.limit - this.openedValue >= this.maxConcurrent / 2) return undefined;
    this.limit = next;
    return next;
  }
}
