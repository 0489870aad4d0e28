import type { Random } from './random.js';
import type { Simulator } from './simulator.js';

/** What travels over a link: a size on the wire in bytes and whatever the application attaches. */
export interface Packet<T = unknown> {
  readonly size: number;
  readonly payload: T;
}

/** Anything with a size in bytes can be sent; the object is delivered as is (no copy). */
export interface Sized {
  readonly size: number;
}

export type Receiver<P> = (packet: P, now: number) => void;
export type DropReason = 'queue' | 'random';
export type DropObserver<P> = (packet: P, reason: DropReason, now: number) => void;

/** The tunable properties of a link; all may be changed between packets with `Link.configure`. */
export interface LinkConfig {
  /** Serialization rate in bit/s (> 0; `Infinity` for no serialization delay). */
  readonly bandwidth: number;
  /** One-way propagation delay in ms (>= 0). */
  readonly delay: number;
  /**
   * Drop-tail limit in bytes of packets waiting for the transmitter (the packet being serialised does not count).
   * A packet that would take the queue above it is dropped. Default `Infinity`.
   */
  readonly queueLimit: number;
  /** Probability that a packet is lost on the wire after being serialised (default 0). */
  readonly loss: number;
  /** Probability that a packet is held back by `reorderDelay` ms so later packets overtake it (default 0). */
  readonly reorderProbability: number;
  /** Extra delay in ms of a held-back packet (default 0). */
  readonly reorderDelay: number;
  /**
   * Extra per-packet delay drawn uniformly from [0, jitter) ms (default 0). Jitter never reorders: a packet is not
   * delivered before the one serialised ahead of it (only `reorderProbability` reorders).
   */
  readonly jitter: number;
}

export interface LinkOptions<P extends Sized = Packet> extends Partial<LinkConfig> {
  readonly bandwidth: number;
  /** Called for every delivered packet at its arrival time (see also `Link.connect`). */
  readonly deliver?: Receiver<P>;
  /** Called when a packet is dropped, at the time `send` is called. */
  readonly onDrop?: DropObserver<P>;
  /** A PRNG of its own (e.g. `sim.rng.fork()`) instead of the simulator's. */
  readonly rng?: Random;
  /** For messages and reports. */
  readonly name?: string;
}

/** Counters since construction or the last `resetStats()`. Packets and bytes as offered to `send`. */
export interface LinkStats {
  sent: number;
  bytesSent: number;
  droppedQueue: number;
  bytesDroppedQueue: number;
  droppedRandom: number;
  bytesDroppedRandom: number;
  delivered: number;
  bytesDelivered: number;
  /** Packets given the reordering extra delay. */
  reordered: number;
  /** Largest queue occupancy seen, in bytes (excluding the packet being serialised). */
  maxQueuedBytes: number;
  /** Sum of the queueing delays (time waiting for the transmitter) of accepted packets, ms. */
  queueDelayMs: number;
  /** Time the transmitter spent serialising, ms (lost-on-the-wire packets included). */
  busyMs: number;
}

function emptyStats(): LinkStats {
  return {
    sent: 0,
    bytesSent: 0,
    droppedQueue: 0,
    bytesDroppedQueue: 0,
    droppedRandom: 0,
    bytesDroppedRandom: 0,
    delivered: 0,
    bytesDelivered: 0,
    reordered: 0,
    maxQueuedBytes: 0,
    queueDelayMs: 0,
    busyMs: 0,
  };
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${p}`);
}

function checkNonNegative(name: string, v: number): void {
  if (!(v >= 0)) throw new RangeError(`${name} must be >= 0, got ${v}`);
}

function validate(c: LinkConfig): void {
  if (!(c.bandwidth > 0)) throw new RangeError(`bandwidth must be > 0 bit/s, got ${c.bandwidth}`);
  checkNonNegative('delay', c.delay);
  if (!Number.isFinite(c.delay)) throw new RangeError('delay must be finite');
  checkNonNegative('queueLimit', c.queueLimit);
  checkProbability('loss', c.loss);
  checkProbability('reorderProbability', c.reorderProbability);
  checkNonNegative('reorderDelay', c.reorderDelay);
  checkNonNegative('jitter', c.jitter);
  if (!Number.isFinite(c.reorderDelay) || !Number.isFinite(c.jitter)) {
    throw new RangeError('reorderDelay and jitter must be finite');
  }
}

/**
 * One direction of a network link: a drop-tail FIFO queue in front of a transmitter of fixed rate, then a wire with
 * a propagation delay, random loss, optional jitter and optional reordering.
 *
 * A packet sent at `t` starts serialising at `max(t, end of the previous packet's serialisation)`, finishes
 * `size * 8 / bandwidth` later, and arrives `delay` (+ jitter, + reordering delay) after that. The queue is tracked
 * lazily from those start times, so each accepted packet costs exactly one simulator event (its arrival).
 */
export class Link<P extends Sized = Packet> {
  readonly name: string;
  readonly stats: LinkStats = emptyStats();
  private cfg: LinkConfig;
  private receiver: Receiver<P> | undefined;
  private readonly onDrop: DropObserver<P> | undefined;
  private readonly rng: Random;
  /** When the transmitter finishes the last accepted packet. */
  private busyUntil = -Infinity;
  /** Arrival time of the last packet that was not held back for reordering (jitter keeps order against it). */
  private lastInOrderArrival = -Infinity;
  private inFlightCount = 0;
  private statsSince: number;
  /** Integral of queued bytes over time since `statsSince`, counting each waiting packet's whole wait at once. */
  private queueByteMs = 0;
  // Waiting packets as a ring of (start-of-serialisation time, size): occupancy without dequeue events.
  private qStart = new Float64Array(64);
  private qSize = new Float64Array(64);
  private qHead = 0;
  private qLen = 0;
  private queued = 0;
  private readonly arrive: (packet: P) => void;

  constructor(
    private readonly sim: Simulator,
    options: LinkOptions<P>,
  ) {
    this.cfg = {
      bandwidth: options.bandwidth,
      delay: options.delay ?? 0,
      queueLimit: options.queueLimit ?? Infinity,
      loss: options.loss ?? 0,
      reorderProbability: options.reorderProbability ?? 0,
      reorderDelay: options.reorderDelay ?? 0,
      jitter: options.jitter ?? 0,
    };
    validate(this.cfg);
    this.name = options.name ?? 'link';
    this.receiver = options.deliver;
    this.onDrop = options.onDrop;
    this.rng = options.rng ?? sim.rng;
    this.statsSince = sim.now;
    this.arrive = (packet: P): void => {
      this.inFlightCount--;
      this.stats.delivered++;
      this.stats.bytesDelivered += packet.size;
      const receiver = this.receiver;
      if (receiver !== undefined) receiver(packet, this.sim.now);
    };
  }

  get config(): LinkConfig {
    return this.cfg;
  }

  /** Changes properties for packets sent from now on (packets already accepted keep their schedule). */
  configure(changes: Partial<LinkConfig>): void {
    const next = { ...this.cfg, ...changes };
    validate(next);
    this.cfg = next;
  }

  /** Sets (or replaces) the receiver of delivered packets. */
  connect(receiver: Receiver<P> | undefined): void {
    this.receiver = receiver;
  }

  /** Serialization time of `bytes` on this link, ms. */
  transmissionTime(bytes: number): number {
    return (bytes * 8000) / this.cfg.bandwidth;
  }

  /** Bytes waiting for the transmitter now (excluding the packet being serialised). */
  get queuedBytes(): number {
    this.advanceQueue(this.sim.now);
    return this.queued;
  }

  /** Packets accepted and neither delivered yet nor lost on the wire. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** When the transmitter will be idle (<= now when it already is). */
  get idleAt(): number {
    return Math.max(this.busyUntil, this.sim.now);
  }

  /** Time-averaged queue occupancy in bytes since construction or `resetStats()`. */
  averageQueuedBytes(): number {
    const now = this.sim.now;
    const elapsed = now - this.statsSince;
    return elapsed > 0 ? (this.queueByteMs - this.futureQueueByteMs(now)) / elapsed : 0;
  }

  /** Fraction of the time since construction or `resetStats()` the transmitter was busy (0..1). */
  utilisation(): number {
    const now = this.sim.now;
    const elapsed = now - this.statsSince;
    if (elapsed <= 0) return 0;
    // Serialisation booked beyond `now` has not happened yet.
    const ahead = Math.max(0, this.busyUntil - now);
    return Math.min(1, (this.stats.busyMs - ahead) / elapsed);
  }

  /** Zeroes the counters and restarts the averages at `now` (packets in the system keep going). */
  resetStats(): void {
    Object.assign(this.stats, emptyStats());
    const now = this.sim.now;
    this.statsSince = now;
    this.advanceQueue(now);
    this.queueByteMs = this.futureQueueByteMs(now);
    this.stats.maxQueuedBytes = this.queued;
    // Keep in-progress serialisation consistent with `utilisation()`.
    this.stats.busyMs = Math.max(0, this.busyUntil - now);
  }

  /**
   * Offers a packet to the link at the current time. Returns false if the drop-tail queue refused it; a packet lost
   * on the wire returns true (the sender cannot tell).
   */
  send(packet: P): boolean {
    const now = this.sim.now;
    const size = packet.size;
    const cfg = this.cfg;
    const stats = this.stats;
    stats.sent++;
    stats.bytesSent += size;

    const start = this.busyUntil > now ? this.busyUntil : now;
    if (start > now) {
      this.advanceQueue(now);
      if (this.queued + size > cfg.queueLimit) {
        stats.droppedQueue++;
        stats.bytesDroppedQueue += size;
        if (this.onDrop !== undefined) this.onDrop(packet, 'queue', now);
        return false;
      }
      this.enqueue(start, size);
      const wait = start - now;
      stats.queueDelayMs += wait;
      this.queueByteMs += size * wait;
    }
    const tx = (size * 8000) / cfg.bandwidth;
    const end = start + tx;
    this.busyUntil = end;
    stats.busyMs += tx;

    if (cfg.loss > 0 && this.rng.next() < cfg.loss) {
      stats.droppedRandom++;
      stats.bytesDroppedRandom += size;
      if (this.onDrop !== undefined) this.onDrop(packet, 'random', now);
      return true;
    }

    let arrival = end + cfg.delay;
    if (cfg.jitter > 0) arrival += cfg.jitter * this.rng.next();
    if (cfg.reorderProbability > 0 && this.rng.next() < cfg.reorderProbability) {
      stats.reordered++;
      arrival += cfg.reorderDelay;
    } else {
      if (arrival < this.lastInOrderArrival) arrival = this.lastInOrderArrival;
      this.lastInOrderArrival = arrival;
    }
    this.inFlightCount++;
    this.sim.schedule(arrival, this.arrive, packet);
    return true;
  }

  private enqueue(start: number, size: number): void {
    if (this.qLen === this.qStart.length) this.grow();
    const i = (this.qHead + this.qLen) & (this.qStart.length - 1);
    this.qStart[i] = start;
    this.qSize[i] = size;
    this.qLen++;
    this.queued += size;
    if (this.queued > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = this.queued;
  }

  /** Forgets waiting packets whose serialisation has started by `now`. */
  private advanceQueue(now: number): void {
    const mask = this.qStart.length - 1;
    while (this.qLen > 0 && (this.qStart[this.qHead] as number) <= now) {
      this.queued -= this.qSize[this.qHead] as number;
      this.qHead = (this.qHead + 1) & mask;
      this.qLen--;
    }
    if (this.qLen === 0) this.queued = 0; // no drift from float sums
  }

  /** The part of `queueByteMs` that lies after `now` (packets still waiting). */
  private futureQueueByteMs(now: number): number {
    const mask = this.qStart.length - 1;
    let sum = 0;
    for (let k = 0; k < this.qLen; k++) {
      const i = (this.qHead + k) & mask;
      const start = this.qStart[i] as number;
      if (start > now) sum += (this.qSize[i] as number) * (start - now);
    }
    return sum;
  }

  private grow(): void {
    const cap = this.qStart.length;
    const starts = new Float64Array(cap * 2);
    const sizes = new Float64Array(cap * 2);
    for (let k = 0; k < this.qLen; k++) {
      const i = (this.qHead + k) & (cap - 1);
      starts[k] = this.qStart[i] as number;
      sizes[k] = this.qSize[i] as number;
    }
    this.qStart = starts;
    this.qSize = sizes;
    this.qHead = 0;
  }
}
