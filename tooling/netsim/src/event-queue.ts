/** What an event runs: a function of one argument, so callers can pass a pre-bound handler and data without a closure. */
export type EventHandler = (arg: unknown) => void;

const noop: EventHandler = () => {};

/**
 * A binary min-heap of events keyed by (time, insertion sequence): earlier times first and, for equal times, the
 * order in which they were pushed (stable FIFO). Stored as parallel arrays so pushing and popping allocate nothing
 * once the arrays have grown to the working size.
 */
export class EventQueue {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly fns: EventHandler[] = [];
  private readonly args: unknown[] = [];
  private n = 0;
  private nextSeq = 0;

  /** Fields of the event most recently removed by `pop()`. */
  poppedTime = 0;
  poppedSeq = 0;
  poppedFn: EventHandler = noop;
  poppedArg: unknown = undefined;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event; `Infinity` when empty. */
  peekTime(): number {
    return this.n === 0 ? Infinity : (this.times[0] as number);
  }

  /** Adds an event and returns its id (the insertion sequence number, unique for this queue). */
  push(time: number, fn: EventHandler, arg: unknown): number {
    const seq = this.nextSeq++;
    this.siftUp(this.n++, time, seq, fn, arg);
    return seq;
  }

  /** Removes the earliest event into the `popped*` fields; returns false when the queue is empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    this.poppedTime = this.times[0] as number;
    this.poppedSeq = this.seqs[0] as number;
    this.poppedFn = this.fns[0] as EventHandler;
    this.poppedArg = this.args[0];
    this.removeAt(0);
    return true;
  }

  /** Removes the event with this id if it is still queued (O(n) search). */
  remove(id: number): boolean {
    const seqs = this.seqs;
    for (let i = 0; i < this.n; i++) {
      if (seqs[i] === id) {
        this.removeAt(i);
        return true;
      }
    }
    return false;
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) {
      this.fns[i] = noop;
      this.args[i] = undefined;
    }
    this.n = 0;
  }

  private removeAt(i: number): void {
    const last = --this.n;
    const time = this.times[last] as number;
    const seq = this.seqs[last] as number;
    const fn = this.fns[last] as EventHandler;
    const arg = this.args[last];
    // Drop references held by the vacated slot so delivered packets can be collected.
    this.fns[last] = noop;
    this.args[last] = undefined;
    if (i === last) return;
    // The moved element may need to go either way when removing from the middle.
    if (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.times[parent] as number;
      if (time < pt || (time === pt && seq < (this.seqs[parent] as number))) {
        this.siftUp(i, time, seq, fn, arg);
        return;
      }
    }
    this.siftDown(i, time, seq, fn, arg);
  }

  /** Places (time, seq, fn, arg) into the hole at `i`, moving parents down while they are later. */
  private siftUp(i: number, time: number, seq: number, fn: EventHandler, arg: unknown): void {
    const times = this.times;
    const seqs = this.seqs;
    const fns = this.fns;
    const args = this.args;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      fns[i] = fns[parent] as EventHandler;
      args[i] = args[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    fns[i] = fn;
    args[i] = arg;
  }

  /** Places (time, seq, fn, arg) into the hole at `i`, moving earlier children up. */
  private siftDown(i: number, time: number, seq: number, fn: EventHandler, arg: unknown): void {
    const times = this.times;
    const seqs = this.seqs;
    const fns = this.fns;
    const args = this.args;
    const n = this.n;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ct = times[child] as number;
      let cs = seqs[child] as number;
      const right = child + 1;
      if (right < n) {
        const rt = times[right] as number;
        const rs = seqs[right] as number;
        if (rt < ct || (rt === ct && rs < cs)) {
          child = right;
          ct = rt;
          cs = rs;
        }
      }
      if (time < ct || (time === ct && seq < cs)) break;
      times[i] = ct;
      seqs[i] = cs;
      fns[i] = fns[child] as EventHandler;
      args[i] = args[child];
      i = child;
    }
    times[i] = time;
    seqs[i] = seq;
    fns[i] = fn;
    args[i] = arg;
  }
}
