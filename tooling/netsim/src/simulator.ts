import { EventQueue } from './event-queue.js';
import type { EventHandler } from './event-queue.js';
import { Random } from './random.js';

/** Identifies a scheduled event, for `Simulator.cancel`. */
export type EventId = number;

export interface SimulatorOptions {
  /** Seed of the simulator's PRNG (default 1). Same seed and same calls, same run. */
  readonly seed?: number;
  /** Initial clock value in ms (default 0). */
  readonly startTime?: number;
}

/**
 * A single-threaded discrete-event simulator on a virtual clock in milliseconds (fractional). Events run in time
 * order; events scheduled for the same time run in the order they were scheduled. Nothing here reads a real clock.
 */
export class Simulator {
  /** The simulator's PRNG; links and applications draw from it unless given their own. */
  readonly rng: Random;
  private readonly queue = new EventQueue();
  private clock: number;
  private processed = 0;
  private stopped = false;
  private running = false;

  constructor(options: SimulatorOptions = {}) {
    this.rng = new Random(options.seed ?? 1);
    this.clock = options.startTime ?? 0;
    if (!Number.isFinite(this.clock)) throw new RangeError('startTime must be finite');
  }

  /** Current virtual time in ms. */
  get now(): number {
    return this.clock;
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.queue.size;
  }

  /** Events run since construction. */
  get eventsProcessed(): number {
    return this.processed;
  }

  /** Time of the next event, or `Infinity` when idle. */
  get nextEventTime(): number {
    return this.queue.peekTime();
  }

  /** A uniform float in [0, 1) from the simulator's PRNG. */
  random(): number {
    return this.rng.next();
  }

  /**
   * Runs `fn(arg)` at absolute time `at` (ms, not before `now`). Passing a pre-bound handler and its data as `arg`
   * avoids allocating a closure per event.
   */
  schedule(at: number, fn: () => void): EventId;
  schedule<T>(at: number, fn: (arg: T) => void, arg: T): EventId;
  schedule(at: number, fn: EventHandler, arg?: unknown): EventId {
    if (!(at >= this.clock)) {
      throw new RangeError(`cannot schedule at ${at}: the clock is at ${this.clock} (and NaN is not a time)`);
    }
    return this.queue.push(at, fn, arg);
  }

  /** Runs `fn(arg)` `delay` ms from now (`delay >= 0`). */
  after(delay: number, fn: () => void): EventId;
  after<T>(delay: number, fn: (arg: T) => void, arg: T): EventId;
  after(delay: number, fn: EventHandler, arg?: unknown): EventId {
    if (!(delay >= 0)) throw new RangeError(`delay must be >= 0, got ${delay}`);
    return this.queue.push(this.clock + delay, fn, arg);
  }

  /** Removes a scheduled event that has not run yet; returns whether it was pending. O(pending). */
  cancel(id: EventId): boolean {
    return this.queue.remove(id);
  }

  /**
   * Runs events with time <= `until`, then advances the clock to `until` (if finite and not stopped). Returns the
   * number of events run. `stop()` from inside an event ends the run after that event.
   */
  run(until = Infinity): number {
    if (this.running) throw new Error('Simulator.run is not re-entrant');
    if (until < this.clock) throw new RangeError(`cannot run until ${until}: the clock is at ${this.clock}`);
    this.running = true;
    this.stopped = false;
    const queue = this.queue;
    const before = this.processed;
    try {
      while (!this.stopped && queue.size > 0 && queue.peekTime() <= until) {
        queue.pop();
        this.clock = queue.poppedTime;
        this.processed++;
        const fn = queue.poppedFn;
        const arg = queue.poppedArg;
        queue.poppedArg = undefined;
        fn(arg);
      }
      if (!this.stopped && until !== Infinity) this.clock = until;
    } finally {
      this.running = false;
    }
    return this.processed - before;
  }

  /** Runs until no events remain (or `stop()`); the clock stays at the last event's time. */
  runUntilIdle(): number {
    return this.run(Infinity);
  }

  /** Runs events for `duration` ms of virtual time from now. */
  runFor(duration: number): number {
    return this.run(this.clock + duration);
  }

  /** Ends the current `run` after the event that calls it. */
  stop(): void {
    this.stopped = true;
  }
}

/**
 * A re-armable one-shot timer (a retransmission or pacing timer). Moving the deadline later costs nothing (the
 * pending event re-arms itself when it fires early); moving it earlier or clearing it cancels the pending event.
 */
export class Timer {
  private deadlineAt: number | undefined = undefined;
  private eventAt = Infinity;
  private eventId: EventId = -1;
  private readonly fire: () => void;

  constructor(
    private readonly sim: Simulator,
    callback: (now: number) => void,
  ) {
    this.fire = () => {
      this.eventId = -1;
      this.eventAt = Infinity;
      const deadline = this.deadlineAt;
      if (deadline === undefined) return;
      if (deadline > this.sim.now) {
        this.arm(deadline);
        return;
      }
      this.deadlineAt = undefined;
      callback(this.sim.now);
    };
  }

  /** The time the callback will run, or undefined when not armed. */
  get deadline(): number | undefined {
    return this.deadlineAt;
  }

  get armed(): boolean {
    return this.deadlineAt !== undefined;
  }

  /** Arms (or re-arms) the timer for absolute time `at`; a time in the past fires at `now`, `Infinity` clears. */
  set(at: number): void {
    if (Number.isNaN(at)) throw new RangeError('timer deadline is NaN');
    if (at === Infinity) {
      this.clear();
      return;
    }
    const when = Math.max(at, this.sim.now);
    this.deadlineAt = when;
    if (this.eventId !== -1) {
      if (when >= this.eventAt) return;
      this.sim.cancel(this.eventId);
    }
    this.arm(when);
  }

  clear(): void {
    this.deadlineAt = undefined;
    if (this.eventId !== -1) {
      this.sim.cancel(this.eventId);
      this.eventId = -1;
      this.eventAt = Infinity;
    }
  }

  private arm(at: number): void {
    this.eventAt = at;
    this.eventId = this.sim.schedule(at, this.fire);
  }
}
