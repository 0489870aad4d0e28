/**
 * MsQuic's stream send queue, re-implemented for comparison (the benchmark, and test/msquic-compat.test.ts which
 * checks that the pathquic scheduler serves streams in the same order).
 *
 * What MsQuic does (src/core/send.c; ../../shared/quic-facts.md §6.1): the connection keeps ONE doubly linked list,
 * `Send->SendStreams`, of every stream with something to send (`SendFlags != 0`), sorted by `SendPriority`
 * descending (0xFFFF first).
 * - `QuicSendQueueFlushForStream`, the first time a stream has something to send: walk from the TAIL backwards to
 *   the first entry whose priority is >= the stream's and insert the stream after it (FIFO among equals; O(1) when
 *   the stream's priority is <= the tail's, O(n) worst case).
 * - `QuicSendUpdateStreamPriority`: unlink, then the same tail-first insertion.
 * - `QuicSendGetNextStream`: walk from the HEAD to the first stream `QuicSendCanSendStreamNow` accepts — a stream
 *   blocked by flow control stays in the list and is walked over on every pick. FIFO: the stream gets a packet
 *   budget of UINT32_MAX. Round-robin: move it behind the last stream of equal priority (walking forward over its
 *   group) and give it `QUIC_STREAM_SEND_BATCH_COUNT` = 8 packets.
 * - A stream whose `SendFlags` drop to 0 (nothing left to send) is unlinked.
 *
 * The list is a circular doubly linked list with a sentinel head, like `CXPLAT_LIST_ENTRY`.
 */

/** `QUIC_STREAM_SEND_BATCH_COUNT`. */
export const MSQUIC_SEND_BATCH_COUNT = 8;
const UINT32_MAX = 0xffffffff;

class ListEntry {
  flink: ListEntry | null = null;
  blink: ListEntry | null = null;
}

/** The part of `QUIC_STREAM` the send queue touches. */
export class MsQuicStream<T = unknown> extends ListEntry {
  /** `Stream->SendPriority`. */
  sendPriority: number;
  /** Blocked by flow control: `QuicSendCanSendStreamNow` returns false, but the stream stays queued. */
  blocked = false;
  readonly id: T;

  constructor(id: T, priority: number) {
    super();
    this.id = id;
    this.sendPriority = priority;
  }

  /** `Stream->SendLink.Flink != NULL`: the stream is in `SendStreams`. */
  get queued(): boolean {
    return this.flink !== null;
  }
}

function entryRemove(e: ListEntry): void {
  // CxPlatListEntryRemove
  const f = e.flink as ListEntry;
  const b = e.blink as ListEntry;
  b.flink = f;
  f.blink = b;
}

function insertAfter(at: ListEntry, e: ListEntry): void {
  // CxPlatListInsertHead(at, e): e becomes at's successor.
  const f = at.flink as ListEntry;
  e.flink = f;
  e.blink = at;
  f.blink = e;
  at.flink = e;
}

function insertBefore(at: ListEntry, e: ListEntry): void {
  // CxPlatListInsertTail(at, e): e becomes at's predecessor.
  const b = at.blink as ListEntry;
  e.flink = at;
  e.blink = b;
  b.flink = e;
  at.blink = e;
}

export class MsQuicSendQueue<T = unknown> {
  /** `Connection->State.UseRoundRobinStreamScheduling`. */
  useRoundRobin: boolean;
  /** The packet budget `getNextStream` gave with its last stream. */
  packetCount = 0;
  private readonly head = new ListEntry();

  constructor(roundRobin = false) {
    this.useRoundRobin = roundRobin;
    this.head.flink = this.head;
    this.head.blink = this.head;
  }

  /** `QuicSendQueueFlushForStream`: queue a stream that now has something to send (no-op if already queued). */
  queueFlushForStream(stream: MsQuicStream<T>): void {
    if (stream.flink === null) this.insertByPriority(stream);
  }

  /** The stream has nothing left to send (`SendFlags` became 0): unlink it. */
  removeStream(stream: MsQuicStream<T>): void {
    if (stream.flink === null) return;
    entryRemove(stream);
    stream.flink = null;
    stream.blink = null;
  }

  /** `QUIC_PARAM_STREAM_PRIORITY` set: a changed value re-inserts a queued stream (`QuicSendUpdateStreamPriority`). */
  setPriority(stream: MsQuicStream<T>, priority: number): void {
    if (stream.sendPriority === priority) return;
    stream.sendPriority = priority;
    if (stream.flink === null) return;
    entryRemove(stream);
    this.insertByPriority(stream);
  }

  /** `QuicSendGetNextStream`: the stream to send from, and its budget in `packetCount`; null if none can send. */
  getNextStream(): MsQuicStream<T> | null {
    const head = this.head;
    for (let e = head.flink as ListEntry; e !== head; e = e.flink as ListEntry) {
      const stream = e as MsQuicStream<T>;
      if (stream.blocked) continue; // !QuicSendCanSendStreamNow
      if (this.useRoundRobin) {
        // Move the stream behind the last stream of equal priority.
        let last = stream.flink as ListEntry;
        while (last !== head) {
          if (stream.sendPriority > (last as MsQuicStream<T>).sendPriority) break;
          last = last.flink as ListEntry;
        }
        if (last.blink !== stream) {
          entryRemove(stream);
          insertBefore(last, stream);
        }
        this.packetCount = MSQUIC_SEND_BATCH_COUNT;
      } else {
        this.packetCount = UINT32_MAX;
      }
      return stream;
    }
    this.packetCount = 0;
    return null;
  }

  /** The queued streams, head first (for tests). */
  toArray(): MsQuicStream<T>[] {
    const out: MsQuicStream<T>[] = [];
    for (let e = this.head.flink as ListEntry; e !== this.head; e = e.flink as ListEntry) out.push(e as MsQuicStream<T>);
    return out;
  }

  private insertByPriority(stream: MsQuicStream<T>): void {
    // Search back to front for the first entry of priority >= the stream's; insert after it.
    const head = this.head;
    let e = head.blink as ListEntry;
    while (e !== head) {
      if (stream.sendPriority <= (e as MsQuicStream<T>).sendPriority) break;
      e = e.blink as ListEntry;
    }
    insertAfter(e, stream);
  }
}
