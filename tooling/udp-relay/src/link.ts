/**
 * One direction of the relay: the impairment pipeline a datagram goes through between being received and being
 * forwarded. It does no socket I/O itself (the relay hands it datagrams and a `deliver` callback) and reads time and
 * sets timers only through a `Scheduler`, so it can be driven by a fake clock in tests.
 *
 * Pipeline, per received datagram:
 *   1. six PRNG draws, always, so decisions depend only on the seed and the position of the datagram in the
 *      direction's sequence (not on timing or on which impairments are on): loss, duplicate, and for each of the
 *      two possible copies jitter and reorder;
 *   2. blackhole (`dropAll`) drops it;
 *   3. random loss drops it with probability `loss`;
 *   4. with probability `duplicateProbability` it becomes two copies;
 *   5. each copy goes through the token-bucket shaper (`bandwidthBps`, `burstBytes`) with a drop-tail queue of
 *      `queueBytes`;
 *   6. leaving the shaper, each copy waits `delayMs` + uniform [0, `jitterMs`) ms, plus `reorderDelayMs` with
 *      probability `reorderProbability` (later datagrams overtake it). Jitter alone may also reorder datagrams that
 *      are closer together than the jitter.
 */
import { Mulberry32 } from './random.js';

/** The impairments of one direction. Every field is optional when configuring; unset fields keep their value. */
export interface Impairments {
  /** Probability in [0, 1] that a datagram is dropped. Default 0. */
  loss: number;
  /** Fixed one-way delay added to every datagram, in ms. Default 0. */
  delayMs: number;
  /** Extra delay, uniform in [0, jitterMs) ms, per datagram. Default 0. */
  jitterMs: number;
  /** Probability in [0, 1] that a datagram is held back `reorderDelayMs` so that later ones overtake it. Default 0. */
  reorderProbability: number;
  /** How long a reordered datagram is held back, in ms. Default 10. */
  reorderDelayMs: number;
  /** Probability in [0, 1] that a datagram is sent twice. Default 0. */
  duplicateProbability: number;
  /** Bandwidth cap in bits per second (token bucket); Infinity (default) means no cap. */
  bandwidthBps: number;
  /**
   * Drop-tail limit, in bytes, of datagrams waiting for tokens. `undefined` (default) means 50 ms worth of
   * `bandwidthBps`, at least 15 000 bytes.
   */
  queueBytes: number | undefined;
  /**
   * Token-bucket depth in bytes: the largest burst sent at once after an idle period. `undefined` (default) means
   * 5 ms worth of `bandwidthBps`, at least 3 000 bytes (timers fire with ~1 ms granularity, so a smaller bucket
   * would waste capacity).
   */
  burstBytes: number | undefined;
  /** Blackhole: drop every datagram arriving from now on (datagrams already queued or delayed still go). */
  dropAll: boolean;
}

export const DEFAULT_IMPAIRMENTS: Readonly<Impairments> = Object.freeze({
  loss: 0,
  delayMs: 0,
  jitterMs: 0,
  reorderProbability: 0,
  reorderDelayMs: 10,
  duplicateProbability: 0,
  bandwidthBps: Infinity,
  queueBytes: undefined,
  burstBytes: undefined,
  dropAll: false,
});

/** Counters of one direction. */
export interface DirectionStats {
  /** Datagrams (and their bytes) the relay received in this direction. */
  received: number;
  bytesReceived: number;
  /** Datagrams (and bytes) handed to the socket, duplicates included. */
  forwarded: number;
  bytesForwarded: number;
  dropped: { loss: number; queue: number; blackhole: number };
  /** Datagrams that were sent twice (each counts once here; both copies count in `forwarded`). */
  duplicated: number;
  /** Copies held back by `reorderDelayMs`. */
  reordered: number;
  /** Sends the operating system refused. */
  sendErrors: number;
  /** Current state: copies waiting in the shaper's queue, their bytes, and copies in the delay line. */
  queued: number;
  queuedBytes: number;
  delayed: number;
  /** The largest `queuedBytes` seen. */
  maxQueuedBytes: number;
}

/** Where time and timers come from. The relay uses `performance.now()` and `setTimeout`. */
export interface Scheduler {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Copy<T> {
  readonly data: Uint8Array;
  readonly context: T;
  /** Extra delay decided on arrival (delay + jitter + reorder hold), in ms. */
  readonly extraMs: number;
}

interface Delayed<T> {
  readonly data: Uint8Array;
  readonly context: T;
  readonly at: number;
  readonly seq: number;
}

const PROBABILITIES = ['loss', 'reorderProbability', 'duplicateProbability'] as const;
const DURATIONS = ['delayMs', 'jitterMs', 'reorderDelayMs'] as const;

/** Checks a partial impairment set, throwing a RangeError naming the bad field. */
export function validateImpairments(partial: Partial<Impairments>): void {
  for (const key of PROBABILITIES) {
    const v = partial[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${key} must be a probability in [0, 1], got ${v}`);
  }
  for (const key of DURATIONS) {
    const v = partial[key];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new RangeError(`${key} must be a finite number ≥ 0, got ${v}`);
  }
  const bw = partial.bandwidthBps;
  if (bw !== undefined && !(bw > 0)) throw new RangeError(`bandwidthBps must be > 0 (Infinity for no cap), got ${bw}`);
  for (const key of ['queueBytes', 'burstBytes'] as const) {
    const v = partial[key];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new RangeError(`${key} must be a finite number ≥ 0, got ${v}`);
  }
  if (partial.dropAll !== undefined && typeof partial.dropAll !== 'boolean') throw new RangeError('dropAll must be a boolean');
}

export function emptyStats(): DirectionStats {
  return {
    received: 0,
    bytesReceived: 0,
    forwarded: 0,
    bytesForwarded: 0,
    dropped: { loss: 0, queue: 0, blackhole: 0 },
    duplicated: 0,
    reordered: 0,
    sendErrors: 0,
    queued: 0,
    queuedBytes: 0,
    delayed: 0,
    maxQueuedBytes: 0,
  };
}

export class Link<T> {
  private config: Impairments;
  private readonly rng: Mulberry32;
  private counters = emptyStats();

  // Token-bucket shaper.
  private tokens = 0;
  private lastRefill: number;
  private readonly queue: (Copy<T> | undefined)[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private shaperTimer: unknown = undefined;

  // Delay line: a binary min-heap on (at, seq).
  private readonly heap: Delayed<T>[] = [];
  private seq = 0;
  private delayTimer: unknown = undefined;
  private delayTimerAt = Infinity;

  private closed = false;

  constructor(
    seed: number,
    impairments: Partial<Impairments>,
    private readonly deliver: (data: Uint8Array, context: T) => void,
    private readonly scheduler: Scheduler = realScheduler,
  ) {
    validateImpairments(impairments);
    this.config = { ...DEFAULT_IMPAIRMENTS, ...stripUndefinedExceptSizes(impairments) };
    this.rng = new Mulberry32(seed);
    this.lastRefill = scheduler.now();
    this.tokens = this.burstLimit();
  }

  get impairments(): Readonly<Impairments> {
    return { ...this.config };
  }

  /** A snapshot of the counters. */
  get stats(): DirectionStats {
    return {
      ...this.counters,
      dropped: { ...this.counters.dropped },
      queued: this.queue.length - this.queueHead,
      queuedBytes: this.queuedBytes,
      delayed: this.heap.length,
    };
  }

  resetStats(): void {
    this.counters = emptyStats();
    this.counters.maxQueuedBytes = this.queuedBytes;
  }

  /** The relay reports a send the operating system refused. */
  noteSendError(): void {
    this.counters.sendErrors++;
  }

  /** Changes some impairments; they apply to datagrams arriving from now on (and to the shaper's rate at once). */
  configure(partial: Partial<Impairments>): void {
    validateImpairments(partial);
    const now = this.scheduler.now();
    this.refill(now); // tokens earned so far count at the old rate
    this.config = { ...this.config, ...stripUndefinedExceptSizes(partial) };
    this.tokens = Math.min(this.tokens, this.burstLimit());
    this.clearShaperTimer();
    this.drainQueue();
  }

  /** A datagram arrives. */
  push(data: Uint8Array, context: T): void {
    if (this.closed) return;
    const c = this.config;
    const n = this.counters;
    n.received++;
    n.bytesReceived += data.byteLength;
    const lossDraw = this.rng.next();
    const duplicateDraw = this.rng.next();
    const copyDraws = [this.rng.next(), this.rng.next(), this.rng.next(), this.rng.next()];
    if (c.dropAll) {
      n.dropped.blackhole++;
      return;
    }
    if (lossDraw < c.loss) {
      n.dropped.loss++;
      return;
    }
    const copies = duplicateDraw < c.duplicateProbability ? 2 : 1;
    if (copies === 2) n.duplicated++;
    for (let i = 0; i < copies; i++) {
      const jitter = (copyDraws[2 * i] ?? 0) * c.jitterMs;
      const reorder = (copyDraws[2 * i + 1] ?? 1) < c.reorderProbability && c.reorderDelayMs > 0;
      if (reorder) n.reordered++;
      this.shape({ data, context, extraMs: c.delayMs + jitter + (reorder ? c.reorderDelayMs : 0) });
    }
  }

  /** Drops everything queued or delayed and cancels the timers. */
  close(): void {
    this.closed = true;
    this.clearShaperTimer();
    if (this.delayTimer !== undefined) this.scheduler.clearTimer(this.delayTimer);
    this.delayTimer = undefined;
    this.delayTimerAt = Infinity;
    this.queue.length = 0;
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.heap.length = 0;
  }

  // --- shaper --------------------------------------------------------------------------------------------------

  private bytesPerMs(): number {
    return this.config.bandwidthBps / 8 / 1000;
  }

  private burstLimit(): number {
    const c = this.config;
    if (c.burstBytes !== undefined) return c.burstBytes;
    if (!Number.isFinite(c.bandwidthBps)) return Infinity;
    return Math.max(3000, this.bytesPerMs() * 5);
  }

  private queueLimit(): number {
    const c = this.config;
    if (c.queueBytes !== undefined) return c.queueBytes;
    if (!Number.isFinite(c.bandwidthBps)) return Infinity;
    return Math.max(15_000, this.bytesPerMs() * 50);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.lastRefill);
    this.lastRefill = now;
    if (!Number.isFinite(this.config.bandwidthBps)) {
      this.tokens = Infinity;
      return;
    }
    if (!Number.isFinite(this.tokens)) this.tokens = this.burstLimit();
    this.tokens = Math.min(this.burstLimit(), this.tokens + elapsed * this.bytesPerMs());
  }

  /** Can a copy of `size` bytes go now? Packets larger than the bucket go when the bucket is full (tokens < 0 after). */
  private canSend(size: number): boolean {
    return this.tokens >= Math.min(size, this.burstLimit());
  }

  private shape(copy: Copy<T>): void {
    const size = copy.data.byteLength;
    if (this.queue.length === this.queueHead) {
      this.refill(this.scheduler.now());
      if (this.canSend(size)) {
        this.tokens -= size;
        this.delay(copy);
        return;
      }
    }
    if (this.queuedBytes + size > this.queueLimit()) {
      this.counters.dropped.queue++;
      return;
    }
    this.queue.push(copy);
    this.queuedBytes += size;
    if (this.queuedBytes > this.counters.maxQueuedBytes) this.counters.maxQueuedBytes = this.queuedBytes;
    this.armShaperTimer();
  }

  private drainQueue(): void {
    if (this.closed) return;
    this.refill(this.scheduler.now());
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead];
      if (head === undefined || !this.canSend(head.data.byteLength)) break;
      this.queue[this.queueHead] = undefined;
      this.queueHead++;
      this.queuedBytes -= head.data.byteLength;
      this.tokens -= head.data.byteLength;
      this.delay(head);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.armShaperTimer();
  }

  private armShaperTimer(): void {
    if (this.closed || this.shaperTimer !== undefined) return;
    const head = this.queue[this.queueHead];
    if (head === undefined) return;
    const missing = Math.min(head.data.byteLength, this.burstLimit()) - this.tokens;
    const waitMs = Math.max(1, Math.ceil(missing / this.bytesPerMs()));
    this.shaperTimer = this.scheduler.setTimer(() => {
      this.shaperTimer = undefined;
      this.drainQueue();
    }, waitMs);
  }

  private clearShaperTimer(): void {
    if (this.shaperTimer !== undefined) this.scheduler.clearTimer(this.shaperTimer);
    this.shaperTimer = undefined;
  }

  // --- delay line ----------------------------------------------------------------------------------------------

  private delay(copy: Copy<T>): void {
    if (copy.extraMs <= 0) {
      this.forward(copy.data, copy.context);
      return;
    }
    const item: Delayed<T> = { data: copy.data, context: copy.context, at: this.scheduler.now() + copy.extraMs, seq: this.seq++ };
    this.heapPush(item);
    this.armDelayTimer();
  }

  private forward(data: Uint8Array, context: T): void {
    this.counters.forwarded++;
    this.counters.bytesForwarded += data.byteLength;
    this.deliver(data, context);
  }

  private armDelayTimer(): void {
    const head = this.heap[0];
    if (this.closed || head === undefined) return;
    if (this.delayTimer !== undefined) {
      if (this.delayTimerAt <= head.at) return;
      this.scheduler.clearTimer(this.delayTimer);
    }
    const now = this.scheduler.now();
    this.delayTimerAt = head.at;
    this.delayTimer = this.scheduler.setTimer(() => this.onDelayTimer(), Math.max(1, Math.ceil(head.at - now)));
  }

  private onDelayTimer(): void {
    this.delayTimer = undefined;
    this.delayTimerAt = Infinity;
    const now = this.scheduler.now();
    for (let head = this.heap[0]; head !== undefined && head.at <= now && !this.closed; head = this.heap[0]) {
      this.heapPop();
      this.forward(head.data, head.context);
    }
    this.armDelayTimer();
  }

  private heapPush(item: Delayed<T>): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Delayed<T>;
      if (!before(item, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = item;
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const left = h[l] as Delayed<T>;
      const right = h[r];
      const child = right !== undefined && before(right, left) ? r : l;
      const c = h[child] as Delayed<T>;
      if (!before(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
  }
}

function before(a: Delayed<unknown>, b: Delayed<unknown>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Drops keys whose value is undefined so they do not overwrite the current value, except queueBytes and burstBytes
 * whose undefined means "automatic" when given explicitly.
 */
function stripUndefinedExceptSizes(partial: Partial<Impairments>): Partial<Impairments> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined || key === 'queueBytes' || key === 'burstBytes') out[key] = value;
  }
  return out as Partial<Impairments>;
}
