/**
 * The QUIC send scheduler: which stream's data goes into the next packet.
 *
 * Semantics are MsQuic's stream priority (src/core/send.c `QuicSendGetNextStream`, stream.c, inc/msquic.h):
 * - a priority is an unsigned 16-bit value, 0x0000 lowest, 0x7FFF default, 0xFFFF highest
 *   (`QUIC_PARAM_STREAM_PRIORITY`, `QUIC_STREAM_PRIORITY_DEFAULT`);
 * - strict priority between levels: a lower level sends only when no higher level has a sendable stream;
 * - within a level, FIFO (`QUIC_STREAM_SCHEDULING_SCHEME_FIFO`, MsQuic's default: the stream that became ready
 *   first keeps sending until it is empty or blocked) or round-robin (`..._ROUND_ROBIN`: a stream sends a quantum,
 *   `QUIC_STREAM_SEND_BATCH_COUNT` = 8 packets, then moves behind the others of its level);
 * - a stream whose priority changes joins the back of its new level (`QuicSendUpdateStreamPriority`).
 *
 * The data structure is not MsQuic's. MsQuic keeps every stream with pending data in one list sorted by priority
 * and walks it on insert, on re-prioritisation and on every pick (past blocked streams). Here:
 * - every distinct priority in use has a `Level`, found through a small open-addressing hash table keyed by the
 *   16-bit priority;
 * - a level holds its *ready* streams in a doubly linked list;
 * - the levels that have ready streams sit in a binary max-heap keyed by priority.
 * Blocked and idle streams are unlinked, so they cost nothing at pick time. With L the number of distinct
 * priorities in use: pick is O(1); onSent, setReady, setBlocked, setPriority and remove are O(1) or O(log L) (the
 * heap changes only when a level becomes empty or non-empty); add is O(1) amortized. Memory is O(streams).
 *
 * Layout. A stream is a slot number. What the scheduler keeps per stream is five Int32 words in one array: previous
 * and next slot in its level's list, level id and flags, round-robin credit, and a generation counter that `remove`
 * bumps. The handle `add` returns is slot and generation in one small integer, so a removed stream's handle is
 * detected (unless its slot has since been reused a multiple of 2048 times).
 * The hot state is thus 20 bytes per stream, 2 MB for 100,000 streams, where node objects with links (~100 bytes
 * each, plus a Map entry) would exceed the caches and turn every operation on a cold stream and its two list
 * neighbours into memory round trips. Nothing allocates on pick, onSent, setReady, setBlocked, or setPriority among
 * the priorities in use: a level whose last stream leaves stays in the table for reuse (up to 64 idle levels;
 * beyond that its object is kept on a spare list for another priority).
 */
import { StreamPriorityError } from './errors.js';

/** The lowest stream priority (MsQuic: 0x0000). */
export const PRIORITY_LOWEST = 0x0000;
/** The default stream priority (MsQuic `QUIC_STREAM_PRIORITY_DEFAULT` = 0x7FFF). */
export const PRIORITY_DEFAULT = 0x7fff;
/** The highest stream priority (MsQuic: 0xFFFF). */
export const PRIORITY_HIGHEST = 0xffff;
/** Round-robin quantum, in packets: MsQuic `QUIC_STREAM_SEND_BATCH_COUNT`. */
export const DEFAULT_QUANTUM = 8;
/** Streams one scheduler can hold at once (slots are reused after `remove`). */
export const MAX_STREAMS = 2 ** 20;

/**
 * How streams of one level share it. `'fifo'` (MsQuic's default): the stream at the front of its level keeps
 * sending until it is blocked, idle or removed. `'round-robin'`: it sends a quantum, then moves behind the others.
 */
export type SchedulingScheme = 'fifo' | 'round-robin';

declare const streamHandleBrand: unique symbol;
/**
 * A stream's handle, returned by `add`: a number (slot and generation), valid until `remove`. Keep it on your
 * stream object; every per-stream method takes it. A handle means something only to the scheduler that issued it
 * (another scheduler may have issued the same number).
 */
export type StreamHandle = number & { readonly [streamHandleBrand]: true };

export interface StreamSchedulerOptions {
  /**
   * The connection's scheme (MsQuic `QUIC_PARAM_CONN_STREAM_SCHEDULING_SCHEME`), used by every stream that does not
   * choose its own. Default `'fifo'`, as in MsQuic.
   */
  scheme?: SchedulingScheme;
  /**
   * The round-robin quantum in whatever unit the caller reports to `onSent`: packets (default 8, MsQuic's batch
   * count) or bytes (e.g. 8 * 1200). A positive integer below 2^31.
   */
  quantum?: number;
}

export interface AddStreamOptions {
  /**
   * This stream's own scheme, overriding the connection's; leave undefined to follow the connection. This is how
   * HTTP/3 mixes RFC 9218 incremental (round-robin) and non-incremental (FIFO) responses — see `priorityFromHttp`.
   */
  scheme?: SchedulingScheme | undefined;
  /** Start ready (linked at the back of its level). Default false: the stream starts idle. */
  ready?: boolean;
}

/** A snapshot of one stream's scheduling state (`StreamScheduler.info`). */
export interface StreamInfo<S> {
  readonly stream: S;
  /** 0x0000..0xFFFF, higher first. */
  readonly priority: number;
  /** The scheme in effect: the stream's own, or the connection's. */
  readonly scheme: SchedulingScheme;
  /** The stream's own scheme, undefined when it follows the connection's. */
  readonly ownScheme: SchedulingScheme | undefined;
  /** Linked in its level: has data and is not blocked. */
  readonly ready: boolean;
  /** What is left of the round-robin quantum (refilled whenever the stream joins the back of its level). */
  readonly credit: number;
}

// Per-slot record: five Int32 words.
const STRIDE = 5;
const PREV = 0;
const NEXT = 1;
const META = 2; // level id << 3 | mode << 1 | ready
const CREDIT = 3;
const GEN = 4; // generation (11 bits): bumped by remove, so the slot's old handle stops matching
const READY = 1;
const MODE_SHIFT = 1;
const LEVEL_SHIFT = 3;
const NIL = -1;

const INHERIT = 0;
const FIFO = 1;
const ROUND_ROBIN = 2;
type Mode = typeof INHERIT | typeof FIFO | typeof ROUND_ROBIN;

const SLOT_MASK = MAX_STREAMS - 1;
// Handles are generation * 2^20 + slot < 2^31: small integers, which V8 keeps unboxed (no allocation to return one).
const GEN_MASK = 0x7ff;
/**
 * Empty levels kept in the table for their priority. Beyond that an emptied level leaves the table and its object
 * (and id) waits on a spare list for the next new priority, so level objects never outnumber the most levels ever
 * in use at once plus this.
 */
const MAX_IDLE_LEVELS = 64;

function modeOf(scheme: SchedulingScheme | undefined): Mode {
  if (scheme === undefined) return INHERIT;
  if (scheme === 'fifo') return FIFO;
  if (scheme === 'round-robin') return ROUND_ROBIN;
  throw new StreamPriorityError('INVALID_ARGUMENT', `unknown scheduling scheme ${JSON.stringify(scheme)}`);
}

const schemeOfMode = (mode: number): SchedulingScheme | undefined =>
  mode === ROUND_ROBIN ? 'round-robin' : mode === FIFO ? 'fifo' : undefined;

function checkPriority(priority: number): void {
  // One test rejects non-numbers, NaN, fractions, negatives and values above 0xFFFF.
  if ((priority & 0xffff) !== priority) {
    throw new StreamPriorityError('INVALID_PRIORITY', `priority must be an integer in 0..0xFFFF, got ${String(priority)}`);
  }
}

function describe(value: unknown): string {
  return typeof value === 'object' && value !== null ? 'object' : typeof value === 'symbol' ? value.toString() : String(value);
}

class Level {
  /** Index in `levelById`, stored in the META word of its streams. */
  readonly id: number;
  priority = 0;
  /** First and last ready stream (slots), NIL when the level has none. */
  head = NIL;
  tail = NIL;
  /** Streams (ready or not) whose priority is this level's; the level is idle at zero. */
  members = 0;
  /** Position in the heap, -1 while the level has no ready stream. */
  heapIndex = -1;

  constructor(id: number) {
    this.id = id;
  }
}

/** Home bucket of a priority in a table of 2^(32 - shift) buckets (Fibonacci hashing). */
const home = (priority: number, shift: number): number => Math.imul(priority, 0x9e3779b1) >>> shift;

/**
 * Strict-priority stream scheduler, generic over the caller's stream type `S` (a stream object, a stream ID, …).
 *
 * Typical send loop: `const h = scheduler.pickHandle()`; write a packet from `scheduler.streamOf(h)`;
 * `scheduler.onSent(h, 1)`; when the stream runs out of data or flow-control credit, `scheduler.setBlocked(h)`; when
 * it has data and credit again, `scheduler.setReady(h)`. Picking changes nothing, so picking twice returns the same
 * stream.
 */
export class StreamScheduler<S> {
  /** The round-robin quantum (see {@link StreamSchedulerOptions.quantum}). */
  readonly quantum: number;
  private roundRobin: boolean;

  // Slots.
  private rec = new Int32Array(STRIDE * 16);
  private readonly streams: (S | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly byStream = new Map<S, number>();

  // Levels: open addressing with linear probing; keys are priorities, -1 marks an empty bucket.
  private levelKeys = new Int32Array(16).fill(-1);
  private levelValues: (Level | undefined)[] = new Array<Level | undefined>(16).fill(undefined);
  private levelShift = 28;
  private levelCount = 0;
  private idleLevels = 0;
  private readonly spareLevels: Level[] = [];
  private readonly levelById: Level[] = [];

  /** Max-heap, by priority, of the levels that have at least one ready stream. */
  private readonly heap: Level[] = [];
  private nReady = 0;

  constructor(options: StreamSchedulerOptions = {}) {
    const quantum = options.quantum ?? DEFAULT_QUANTUM;
    if (typeof quantum !== 'number' || !Number.isInteger(quantum) || quantum < 1 || quantum > 0x7fffffff) {
      throw new StreamPriorityError('INVALID_ARGUMENT', `quantum must be a positive integer below 2^31, got ${String(quantum)}`);
    }
    this.quantum = quantum;
    this.roundRobin = modeOf(options.scheme ?? 'fifo') === ROUND_ROBIN;
  }

  /** The connection's scheme. Changing it affects every stream without its own scheme, from its next packet on. */
  get scheme(): SchedulingScheme {
    return this.roundRobin ? 'round-robin' : 'fifo';
  }

  set scheme(scheme: SchedulingScheme) {
    const mode = modeOf(scheme);
    if (mode === INHERIT) throw new StreamPriorityError('INVALID_ARGUMENT', 'the connection scheme cannot be undefined');
    this.roundRobin = mode === ROUND_ROBIN;
  }

  /** Streams added and not removed. */
  get size(): number {
    return this.byStream.size;
  }

  /** Streams that are ready (linked in a level). */
  get readyCount(): number {
    return this.nReady;
  }

  /** Distinct priorities that have a ready stream (L in the cost figures). */
  get activeLevels(): number {
    return this.heap.length;
  }

  /** Distinct priorities in use by any added stream, ready or not. */
  get priorities(): number {
    return this.levelCount - this.idleLevels;
  }

  /**
   * Schedule a new stream, idle unless `options.ready`, and return its handle. Throws `DUPLICATE_STREAM` if it is
   * already scheduled and `INVALID_PRIORITY` outside 0..0xFFFF.
   */
  add(stream: S, priority: number = PRIORITY_DEFAULT, options: AddStreamOptions = {}): StreamHandle {
    checkPriority(priority);
    const mode = modeOf(options.scheme);
    if (this.byStream.has(stream)) {
      throw new StreamPriorityError('DUPLICATE_STREAM', `stream ${describe(stream)} is already scheduled`);
    }
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.streams.length;
      if (slot === MAX_STREAMS) throw new StreamPriorityError('INVALID_ARGUMENT', `a scheduler holds at most ${MAX_STREAMS} streams`);
      if (slot * STRIDE === this.rec.length) this.growSlots();
      this.streams.push(stream);
    } else {
      this.streams[slot] = stream;
    }
    const level = this.acquire(priority);
    const i = slot * STRIDE;
    const rec = this.rec;
    rec[i + PREV] = NIL;
    rec[i + NEXT] = NIL;
    rec[i + META] = (level.id << LEVEL_SHIFT) | (mode << MODE_SHIFT);
    rec[i + CREDIT] = this.quantum;
    this.byStream.set(stream, slot);
    if (options.ready === true) this.link(slot);
    return this.handle(slot);
  }

  /** The handle of a scheduled stream, or undefined. */
  handleOf(stream: S): StreamHandle | undefined {
    const slot = this.byStream.get(stream);
    return slot === undefined ? undefined : this.handle(slot);
  }

  /** Whether the handle refers to a stream scheduled here (false once it is removed). */
  contains(handle: StreamHandle): boolean {
    return this.lookup(handle) !== NIL;
  }

  /** The stream a handle refers to. */
  streamOf(handle: StreamHandle): S {
    return this.streams[this.slotOf(handle)] as S;
  }

  /** The stream's priority. */
  priorityOf(handle: StreamHandle): number {
    return this.levelOf(this.slotOf(handle)).priority;
  }

  /** Whether the stream is ready (linked in its level). */
  isReady(handle: StreamHandle): boolean {
    return ((this.rec[this.slotOf(handle) * STRIDE + META] as number) & READY) !== 0;
  }

  /** A snapshot of the stream's state (allocates; for inspection). */
  info(handle: StreamHandle): StreamInfo<S> {
    const slot = this.slotOf(handle);
    const meta = this.rec[slot * STRIDE + META] as number;
    const ownScheme = schemeOfMode((meta >>> MODE_SHIFT) & 3);
    return {
      stream: this.streams[slot] as S,
      priority: this.levelOf(slot).priority,
      scheme: ownScheme ?? this.scheme,
      ownScheme,
      ready: (meta & READY) !== 0,
      credit: this.rec[slot * STRIDE + CREDIT] as number,
    };
  }

  /** Forget the stream (closed or reset). Its handle becomes invalid for every method. */
  remove(handle: StreamHandle): void {
    const slot = this.slotOf(handle);
    const meta = this.rec[slot * STRIDE + META] as number;
    if ((meta & READY) !== 0) this.unlink(slot);
    this.release(this.levelOf(slot));
    this.byStream.delete(this.streams[slot] as S);
    this.streams[slot] = undefined;
    const g = slot * STRIDE + GEN;
    this.rec[g] = ((this.rec[g] as number) + 1) & GEN_MASK; // invalidates the handle
    this.freeSlots.push(slot);
  }

  /**
   * The stream has data and credit: link it at the back of its level with a fresh quantum (MsQuic
   * `QuicSendQueueFlushForStream`). No effect if it is already ready (it keeps its place).
   */
  setReady(handle: StreamHandle): void {
    const slot = this.slotOf(handle);
    if (((this.rec[slot * STRIDE + META] as number) & READY) === 0) this.link(slot);
  }

  /**
   * The stream cannot send now — blocked by flow control, or idle with nothing to send: unlink it, so it costs
   * nothing at pick time. When it is ready again it joins the back of its level. No effect if it is not ready.
   */
  setBlocked(handle: StreamHandle): void {
    const slot = this.slotOf(handle);
    if (((this.rec[slot * STRIDE + META] as number) & READY) !== 0) this.unlink(slot);
  }

  /**
   * Change the stream's priority. If it changes and the stream is ready, the stream joins the back of its new level
   * with a fresh quantum (MsQuic `QuicSendUpdateStreamPriority`); setting the current value changes nothing.
   */
  setPriority(handle: StreamHandle, priority: number): void {
    checkPriority(priority);
    const slot = this.slotOf(handle);
    const m = slot * STRIDE + META;
    const old = this.levelOf(slot);
    if (old.priority === priority) return;
    const ready = ((this.rec[m] as number) & READY) !== 0;
    if (ready) this.unlink(slot);
    const level = this.acquire(priority);
    this.rec[m] = (level.id << LEVEL_SHIFT) | ((this.rec[m] as number) & ((1 << LEVEL_SHIFT) - 1));
    this.release(old);
    if (ready) this.link(slot);
  }

  /** The stream's own scheme, or undefined when it follows the connection's. */
  schemeOf(handle: StreamHandle): SchedulingScheme | undefined {
    return schemeOfMode(((this.rec[this.slotOf(handle) * STRIDE + META] as number) >>> MODE_SHIFT) & 3);
  }

  /**
   * Give the stream its own scheme, or `undefined` to follow the connection's. A change refills its quantum and
   * keeps its place in the level; setting the current value changes nothing.
   */
  setScheme(handle: StreamHandle, scheme: SchedulingScheme | undefined): void {
    const slot = this.slotOf(handle);
    const mode = modeOf(scheme);
    const i = slot * STRIDE;
    const meta = this.rec[i + META] as number;
    if (((meta >>> MODE_SHIFT) & 3) === mode) return;
    this.rec[i + META] = (meta & ~(3 << MODE_SHIFT)) | (mode << MODE_SHIFT);
    this.rec[i + CREDIT] = this.quantum;
  }

  /**
   * The stream to send from next: the front of the highest level with a ready stream, or undefined when nothing is
   * ready. O(1); changes nothing (the quantum is counted by `onSent`).
   */
  pick(): S | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : this.streams[top.head];
  }

  /** Like `pick`, but returns the stream's handle (for `onSent` and the other per-stream methods). */
  pickHandle(): StreamHandle | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : this.handle(top.head);
  }

  /**
   * Report what was sent from the stream, in the quantum's unit (a non-negative integer, default 1: one packet). For
   * a ready round-robin stream this uses up its quantum; when it is used up the stream moves behind the others of its
   * level and gets a fresh quantum (any overshoot is forgiven). FIFO streams and streams that are not ready are
   * unaffected.
   */
  onSent(handle: StreamHandle, amount = 1): void {
    const slot = this.slotOf(handle);
    if (!Number.isInteger(amount) || amount < 0) {
      throw new StreamPriorityError('INVALID_ARGUMENT', `amount sent must be a non-negative integer, got ${String(amount)}`);
    }
    const rec = this.rec;
    const i = slot * STRIDE;
    const meta = rec[i + META] as number;
    if ((meta & READY) === 0) return;
    const mode = (meta >>> MODE_SHIFT) & 3;
    if (mode === FIFO || (mode === INHERIT && !this.roundRobin)) return;
    const credit = (rec[i + CREDIT] as number) - amount;
    if (credit > 0) {
      rec[i + CREDIT] = credit;
      return;
    }
    rec[i + CREDIT] = this.quantum;
    const next = rec[i + NEXT] as number;
    if (next === NIL) return; // already the last of its level
    // Move to the back of the level (it stays non-empty: no heap change).
    const level = this.levelById[meta >>> LEVEL_SHIFT] as Level;
    const prev = rec[i + PREV] as number;
    if (prev === NIL) level.head = next;
    else rec[prev * STRIDE + NEXT] = next;
    rec[next * STRIDE + PREV] = prev;
    const tail = level.tail;
    rec[tail * STRIDE + NEXT] = slot;
    rec[i + PREV] = tail;
    rec[i + NEXT] = NIL;
    level.tail = slot;
  }

  /**
   * The ready streams in the order they would be served if nothing changed (highest level first, each level from its
   * front). For inspection and tests: O(n + L log L), allocates.
   */
  readyOrder(): S[] {
    const levels = [...this.heap].sort((a, b) => b.priority - a.priority);
    const out: S[] = [];
    for (const level of levels) {
      for (let s = level.head; s !== NIL; s = this.rec[s * STRIDE + NEXT] as number) out.push(this.streams[s] as S);
    }
    return out;
  }

  // ---- slots ----

  private handle(slot: number): StreamHandle {
    return ((this.rec[slot * STRIDE + GEN] as number) * MAX_STREAMS + slot) as StreamHandle;
  }

  /** The slot of a live handle, or NIL. */
  private lookup(handle: StreamHandle): number {
    if (typeof handle !== 'number') return NIL;
    const slot = handle & SLOT_MASK;
    // A removed stream's slot has a newer generation, so its old handle no longer matches.
    return slot < this.streams.length && (handle - slot) / MAX_STREAMS === this.rec[slot * STRIDE + GEN] ? slot : NIL;
  }

  private slotOf(handle: StreamHandle): number {
    const slot = this.lookup(handle);
    if (slot === NIL) {
      throw new StreamPriorityError('UNKNOWN_STREAM', `handle ${describe(handle)} is not a stream of this scheduler (removed, or never issued here)`);
    }
    return slot;
  }

  private levelOf(slot: number): Level {
    return this.levelById[(this.rec[slot * STRIDE + META] as number) >>> LEVEL_SHIFT] as Level;
  }

  private growSlots(): void {
    const rec = new Int32Array(this.rec.length * 2);
    rec.set(this.rec);
    this.rec = rec;
  }

  /** Append at the back of its level with a fresh quantum. */
  private link(slot: number): void {
    const rec = this.rec;
    const i = slot * STRIDE;
    const meta = rec[i + META] as number;
    const level = this.levelById[meta >>> LEVEL_SHIFT] as Level;
    const tail = level.tail;
    rec[i + PREV] = tail;
    rec[i + NEXT] = NIL;
    rec[i + META] = meta | READY;
    rec[i + CREDIT] = this.quantum;
    level.tail = slot;
    if (tail === NIL) {
      level.head = slot;
      this.heapInsert(level);
    } else {
      rec[tail * STRIDE + NEXT] = slot;
    }
    this.nReady++;
  }

  private unlink(slot: number): void {
    const rec = this.rec;
    const i = slot * STRIDE;
    const meta = rec[i + META] as number;
    const level = this.levelById[meta >>> LEVEL_SHIFT] as Level;
    const prev = rec[i + PREV] as number;
    const next = rec[i + NEXT] as number;
    if (prev === NIL) level.head = next;
    else rec[prev * STRIDE + NEXT] = next;
    if (next === NIL) level.tail = prev;
    else rec[next * STRIDE + PREV] = prev;
    rec[i + META] = meta & ~READY;
    if (level.head === NIL) this.heapDelete(level);
    this.nReady--;
  }

  // ---- levels: a hash table from priority to Level ----

  private acquire(priority: number): Level {
    const keys = this.levelKeys;
    const mask = keys.length - 1;
    let i = home(priority, this.levelShift);
    for (;;) {
      const key = keys[i];
      if (key === priority) {
        const level = this.levelValues[i] as Level;
        if (level.members++ === 0) this.idleLevels--;
        return level;
      }
      if (key === -1) break;
      i = (i + 1) & mask;
    }
    let level = this.spareLevels.pop();
    if (level === undefined) {
      level = new Level(this.levelById.length);
      this.levelById.push(level);
    }
    level.priority = priority;
    level.members = 1;
    keys[i] = priority;
    this.levelValues[i] = level;
    if (++this.levelCount * 2 > keys.length) this.growLevels();
    return level;
  }

  private release(level: Level): void {
    if (--level.members > 0) return;
    if (this.idleLevels < MAX_IDLE_LEVELS) {
      this.idleLevels++; // keep it for the next stream of this priority
      return;
    }
    this.deleteLevel(level.priority);
    this.spareLevels.push(level);
  }

  private growLevels(): void {
    const oldKeys = this.levelKeys;
    const oldValues = this.levelValues;
    const size = oldKeys.length * 2;
    this.levelKeys = new Int32Array(size).fill(-1);
    this.levelValues = new Array<Level | undefined>(size).fill(undefined);
    this.levelShift--;
    const mask = size - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j] as number;
      if (key === -1) continue;
      let i = home(key, this.levelShift);
      while (this.levelKeys[i] !== -1) i = (i + 1) & mask;
      this.levelKeys[i] = key;
      this.levelValues[i] = oldValues[j];
    }
  }

  /** Linear-probing deletion with backward shift (no tombstones). */
  private deleteLevel(priority: number): void {
    const keys = this.levelKeys;
    const values = this.levelValues;
    const mask = keys.length - 1;
    let i = home(priority, this.levelShift);
    while (keys[i] !== priority) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const key = keys[j] as number;
      if (key === -1) break;
      const h = home(key, this.levelShift);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      keys[i] = key;
      values[i] = values[j];
      i = j;
    }
    keys[i] = -1;
    values[i] = undefined;
    this.levelCount--;
  }

  // ---- the heap of non-empty levels ----

  private heapInsert(level: Level): void {
    this.heap.push(level);
    this.siftUp(this.heap.length - 1, level);
  }

  private heapDelete(level: Level): void {
    const heap = this.heap;
    const i = level.heapIndex;
    level.heapIndex = -1;
    const last = heap.pop() as Level;
    if (last === level) return;
    // Put the last level in the hole, then restore the heap order in whichever direction it is broken.
    if (i > 0 && (heap[(i - 1) >> 1] as Level).priority < last.priority) this.siftUp(i, last);
    else this.siftDown(i, last);
  }

  private siftUp(i: number, level: Level): void {
    const heap = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Level;
      if (parent.priority >= level.priority) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = level;
    level.heapIndex = i;
  }

  private siftDown(i: number, level: Level): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let child = heap[c] as Level;
      if (c + 1 < n) {
        const right = heap[c + 1] as Level;
        if (right.priority > child.priority) {
          c++;
          child = right;
        }
      }
      if (child.priority <= level.priority) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = level;
    level.heapIndex = i;
  }
}
