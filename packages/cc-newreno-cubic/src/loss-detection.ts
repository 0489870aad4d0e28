/**
 * Loss detection and the PTO (RFC 9002 §6, pseudocode in App. A), persistent congestion (§7.6), one object per path
 * holding the three packet-number spaces. It does not own the congestion controller: results say what to feed it.
 * Time is `now` in milliseconds; nothing here reads a clock or arms a timer.
 */
import type { EcnValidator } from './ecn.js';
import { K_GRANULARITY, RttEstimator } from './rtt.js';
import type { AckInfo, PacketNumberSpace, RecoveryContext, SentPacket } from './types.js';

/** kPacketThreshold (RFC 9002 §6.1.1). */
export const K_PACKET_THRESHOLD = 3;
/** kTimeThreshold (RFC 9002 §6.1.2). */
export const K_TIME_THRESHOLD = 9 / 8;
/** kPersistentCongestionThreshold (RFC 9002 §7.6.1). */
export const K_PERSISTENT_CONGESTION_THRESHOLD = 3;

/** Skipped packet-number ranges remembered per space for the ACK-of-unsent-packet check. */
const MAX_SKIPPED_RANGES = 1024;

/** In the order RFC 9002 App. A.8 walks them. */
export const PACKET_NUMBER_SPACES: readonly PacketNumberSpace[] = ['initial', 'handshake', 'application'];

// ---------------------------------------------------------------------------------------------------------------
// Sent-packet storage
// ---------------------------------------------------------------------------------------------------------------

/** Slot states of `SentPacketRing`. */
export const SLOT_EMPTY = 0; // never sent (skipped packet number) or outside the window
export const SLOT_LIVE = 1; // sent, neither acknowledged nor declared lost
export const SLOT_ACKED = 2;
export const SLOT_LOST = 3;
export type SlotState = typeof SLOT_EMPTY | typeof SLOT_LIVE | typeof SLOT_ACKED | typeof SLOT_LOST;

/**
 * Sent packets of one space in a ring buffer indexed by packet number, from the oldest unresolved packet (`head`) to
 * the newest (`tail - 1`). Resolved slots stay as tombstones (acked / lost / skipped) until they reach the head;
 * `find` skips runs of them with path-compressed "next candidate" links, so acknowledging N ranges costs about
 * O(newly acked + ranges) however many tombstones sit behind a hole.
 */
export class SentPacketRing<P extends SentPacket = SentPacket> {
  #pkts: (P | undefined)[];
  #state: Uint8Array;
  #next: Float64Array;
  #mask: number;
  #headIdx = 0;
  #head = 0;
  #tail = 0;
  #live = 0;

  constructor(initialCapacity = 64) {
    let cap = 8;
    while (cap < initialCapacity) cap *= 2;
    this.#pkts = new Array<P | undefined>(cap).fill(undefined);
    this.#state = new Uint8Array(cap);
    this.#next = new Float64Array(cap);
    this.#mask = cap - 1;
  }

  /** Packet number of the oldest slot kept (a live packet unless the ring is empty). */
  get head(): number {
    return this.#head;
  }

  /** One past the newest packet number pushed (once anything was pushed). */
  get tail(): number {
    return this.#tail;
  }

  /** Live (outstanding) packets. */
  get size(): number {
    return this.#live;
  }

  get capacity(): number {
    return this.#mask + 1;
  }

  #idx(pn: number): number {
    return (this.#headIdx + (pn - this.#head)) & this.#mask;
  }

  /** Appends a packet; `pn` must be >= tail. Packet numbers skipped in between become empty slots. */
  push(pn: number, pkt: P): void {
    if (this.#tail === this.#head) {
      // Empty: restart the window at pn (no need to keep skipped numbers below it).
      this.#head = pn;
      this.#tail = pn;
    } else if (pn < this.#tail) {
      throw new RangeError(`packet number ${pn} is not above ${this.#tail - 1}`);
    }
    const span = pn - this.#head + 1;
    if (span > this.#mask + 1) this.#grow(span);
    for (let p = this.#tail; p < pn; p++) {
      const i = this.#idx(p);
      this.#pkts[i] = undefined;
      this.#state[i] = SLOT_EMPTY;
      this.#next[i] = p + 1;
    }
    const i = this.#idx(pn);
    this.#pkts[i] = pkt;
    this.#state[i] = SLOT_LIVE;
    this.#next[i] = pn + 1;
    this.#tail = pn + 1;
    this.#live += 1;
  }

  #grow(minCap: number): void {
    let cap = (this.#mask + 1) * 2;
    while (cap < minCap) cap *= 2;
    const pkts = new Array<P | undefined>(cap).fill(undefined);
    const state = new Uint8Array(cap);
    const next = new Float64Array(cap);
    for (let p = this.#head; p < this.#tail; p++) {
      const from = this.#idx(p);
      const to = p - this.#head;
      pkts[to] = this.#pkts[from];
      state[to] = this.#state[from] ?? SLOT_EMPTY;
      next[to] = this.#next[from] ?? p + 1;
    }
    this.#pkts = pkts;
    this.#state = state;
    this.#next = next;
    this.#mask = cap - 1;
    this.#headIdx = 0;
  }

  /** State of `pn` (SLOT_EMPTY outside [head, tail)). */
  stateOf(pn: number): SlotState {
    if (pn < this.#head || pn >= this.#tail) return SLOT_EMPTY;
    return (this.#state[this.#idx(pn)] ?? SLOT_EMPTY) as SlotState;
  }

  /** The live packet `pn`, or undefined. */
  get(pn: number): P | undefined {
    if (pn < this.#head || pn >= this.#tail) return undefined;
    const i = this.#idx(pn);
    return this.#state[i] === SLOT_LIVE ? this.#pkts[i] : undefined;
  }

  /** The smallest live packet number >= pn, or `tail` when there is none. */
  find(pn: number): number {
    const start = Math.max(pn, this.#head);
    let r = start;
    while (r < this.#tail) {
      const i = this.#idx(r);
      if (this.#state[i] === SLOT_LIVE) break;
      r = this.#next[i] ?? r + 1;
    }
    // Path compression: every slot walked over is resolved, point it at r.
    let c = start;
    while (c < r) {
      const i = this.#idx(c);
      const n = this.#next[i] ?? c + 1;
      this.#next[i] = r;
      c = n;
    }
    return Math.min(r, this.#tail);
  }

  /** Marks live packet `pn` acked or lost and returns it. */
  resolve(pn: number, state: typeof SLOT_ACKED | typeof SLOT_LOST): P {
    const pkt = this.get(pn);
    if (pkt === undefined) throw new RangeError(`packet ${pn} is not outstanding`);
    const i = this.#idx(pn);
    this.#pkts[i] = undefined;
    this.#state[i] = state;
    this.#next[i] = pn + 1;
    this.#live -= 1;
    return pkt;
  }

  /** Drops resolved slots at the head, so that the head is live (or the ring is empty). */
  prune(): void {
    while (this.#head < this.#tail) {
      const i = this.#headIdx;
      if (this.#state[i] === SLOT_LIVE) return;
      this.#pkts[i] = undefined;
      this.#state[i] = SLOT_EMPTY;
      this.#head += 1;
      this.#headIdx = (i + 1) & this.#mask;
    }
  }

  /** The oldest live packet. */
  first(): P | undefined {
    return this.get(this.find(this.#head));
  }

  /** Live packets in packet-number order. */
  *values(): IterableIterator<P> {
    for (let pn = this.find(this.#head); pn < this.#tail; pn = this.find(pn + 1)) {
      const pkt = this.get(pn);
      if (pkt !== undefined) yield pkt;
    }
  }

  /** Removes everything and returns the live packets in packet-number order. */
  clear(): P[] {
    const out = [...this.values()];
    this.#pkts.fill(undefined);
    this.#state.fill(SLOT_EMPTY);
    this.#head = this.#tail;
    this.#headIdx = 0;
    this.#live = 0;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loss detection
// ---------------------------------------------------------------------------------------------------------------

export interface LossDetectionOptions {
  /** Initial RTT for a new estimator (default 333 ms, RFC 9002 §6.2.2). Ignored when `rtt` is given. */
  initialRtt?: number;
  /** Use this estimator (shared with the caller) instead of a new one. */
  rtt?: RttEstimator;
  /** Ack-eliciting datagrams to send when the PTO fires (RFC 9002 §6.2.4: 1 or 2; default 2). */
  ptoProbes?: 1 | 2;
  /** kPacketThreshold (default 3; RFC 9002 §6.1.1 says SHOULD NOT be below 3). */
  packetThreshold?: number;
  /** kTimeThreshold (default 9/8). */
  timeThreshold?: number;
  /**
   * ECN validator fed automatically: every sent packet's `ecn`, newly acked / lost marked packets and the ACK's
   * counts. With it, `ecnCeIncreased` reports only validated CE increases.
   */
  ecn?: EcnValidator;
}

export interface AckResult<P extends SentPacket = SentPacket> {
  /** Newly acknowledged packets, ascending packet numbers. Feed them to the controller after `lost`. */
  readonly newlyAcked: P[];
  /**
   * Packets declared lost by this ACK, ascending (RFC 9002 §6.1). Includes non-in-flight ones (no CC effect) and PMTU
   * probes (`isMtuProbe`: no congestion signal, RFC 9000 §14.4) — filter before the controller.
   */
  readonly lost: P[];
  /** An RTT sample was taken (RFC 9002 §5.1). */
  readonly rttUpdated: boolean;
  /** Persistent congestion established (RFC 9002 §7.6); min_rtt was already reset (§5.2). */
  readonly persistentCongestion: boolean;
  /** ECN-CE count went up: congestion event (RFC 9002 §7.1, App. A.7); validated when a validator is set. */
  readonly ecnCeIncreased: boolean;
  /** Send time of the space's largest acknowledged packet (the argument of OnCongestionEvent for ECN-CE). */
  readonly largestAckedTimeSent: number | undefined;
  /** The ACK raised the space's largest acknowledged packet number. */
  readonly largestAckedIncreased: boolean;
  /** The attached ECN validator failed on this ACK (stop marking). */
  readonly ecnValidationFailed: boolean;
  /**
   * The ACK covers a packet number never sent (above the largest sent, below the first, or a skipped one): close the
   * connection with PROTOCOL_VIOLATION (RFC 9000 §13.1). Nothing else was processed.
   */
  readonly ackOfUnsentPacket?: true;
  /** The space was discarded; the ACK was ignored. */
  readonly ignored?: true;
}

export interface LossDetectionTimer {
  /** Absolute expiry time (ms); may already be in the past (then call `onTimeout` right away). */
  readonly time: number;
  /** 'loss': time-threshold loss detection (§6.1.2); 'pto': probe timeout (§6.2). */
  readonly kind: 'loss' | 'pto';
  readonly space: PacketNumberSpace;
  /** Client anti-deadlock PTO with nothing in flight (§6.2.2.1). */
  readonly antiDeadlock: boolean;
}

export type TimeoutResult<P extends SentPacket = SentPacket> =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'loss';
      readonly space: PacketNumberSpace;
      readonly lost: P[];
      readonly persistentCongestion: boolean;
    }
  | {
      readonly kind: 'pto';
      readonly space: PacketNumberSpace;
      /**
       * Ack-eliciting datagrams to send now in `space`, bypassing the congestion window (§6.2.4). For an anti-deadlock
       * probe (§6.2.2.1) this is 1: a padded Initial or, with Handshake keys, a Handshake packet.
       */
      readonly probes: 1 | 2;
      readonly antiDeadlock: boolean;
    };

interface SpaceState<P extends SentPacket> {
  readonly ring: SentPacketRing<P>;
  largestSent: number; // -1: none
  firstSent: number; // -1: none
  lastTimeSent: number;
  largestAcked: number; // -1: none (App. A.3 "infinite")
  largestAckedTimeSent: number | undefined;
  lossTime: number | undefined; // App. A.3 loss_time (undefined = 0)
  timeOfLastAckEliciting: number | undefined;
  ackElicitingOutstanding: number;
  bytesInFlight: number;
  ceCount: number;
  discarded: boolean;
  /** Skipped packet-number ranges, flat [from, to, …] ascending (RFC 9000 §21.4 optimistic-ACK defence). */
  readonly skipped: number[];
  /** Send times of acknowledged packets, ascending, for the cross-space persistent-congestion check. */
  ackedTimes: number[];
  ackedTimesStart: number;
}

function newSpace<P extends SentPacket>(): SpaceState<P> {
  return {
    ring: new SentPacketRing<P>(),
    largestSent: -1,
    firstSent: -1,
    lastTimeSent: -Infinity,
    largestAcked: -1,
    largestAckedTimeSent: undefined,
    lossTime: undefined,
    timeOfLastAckEliciting: undefined,
    ackElicitingOutstanding: 0,
    bytesInFlight: 0,
    ceCount: 0,
    discarded: false,
    skipped: [],
    ackedTimes: [],
    ackedTimesStart: 0,
  };
}

/** First index in sorted `a[from..]` whose value is > x. */
function upperBound(a: readonly number[], from: number, x: number): number {
  let lo = from;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] ?? Infinity) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * RFC 9002 loss detection for one path: the three packet-number spaces, RTT estimation, the loss/PTO timer and
 * persistent congestion. Generic in the packet type so that callers get their own objects back.
 */
export class LossDetection<P extends SentPacket = SentPacket> {
  readonly rtt: RttEstimator;
  readonly ptoProbes: 1 | 2;
  readonly packetThreshold: number;
  readonly timeThreshold: number;
  readonly ecn: EcnValidator | undefined;
  readonly #spaces: Record<PacketNumberSpace, SpaceState<P>> = {
    initial: newSpace<P>(),
    handshake: newSpace<P>(),
    application: newSpace<P>(),
  };
  #ptoCount = 0;
  #bytesInFlight = 0;
  #ackElicitingOutstanding = 0;
  /** When the timer was last (re)armed: the base of the client anti-deadlock PTO (App. A.8 "now() + duration"). */
  #timerArmedAt: number | undefined;
  /** App. A.3 first_rtt_sample: time of the first RTT sample (Infinity: none yet). */
  #firstRttSampleTime: number;
  #handshakeAckReceived = false;

  constructor(options: LossDetectionOptions = {}) {
    this.rtt = options.rtt ?? new RttEstimator(options.initialRtt);
    this.ptoProbes = options.ptoProbes ?? 2;
    this.packetThreshold = options.packetThreshold ?? K_PACKET_THRESHOLD;
    this.timeThreshold = options.timeThreshold ?? K_TIME_THRESHOLD;
    this.ecn = options.ecn;
    if (!Number.isInteger(this.packetThreshold) || this.packetThreshold < 1) {
      throw new RangeError('packetThreshold must be an integer >= 1');
    }
    if (!(this.timeThreshold >= 1)) throw new RangeError('timeThreshold must be >= 1');
    // A shared estimator that already has samples: every packet counts as sent after the first sample.
    this.#firstRttSampleTime = this.rtt.hasSample ? -Infinity : Infinity;
  }

  /**
   * The peer moved to a new address (RFC 9000 §9.4): RTT estimation starts over, and persistent congestion again
   * waits for a first sample on the new path (RFC 9002 §7.6.2). `firstSample`, e.g. the PATH_CHALLENGE round trip
   * that validated the path, is taken as that sample at `now`.
   */
  resetRtt(now: number, firstSample?: number): void {
    this.rtt.reset();
    this.#firstRttSampleTime = Infinity;
    if (firstSample !== undefined) {
      this.rtt.update(firstSample, 0, true, 0);
      this.#firstRttSampleTime = now;
    }
  }

  // ---- read-only state ----------------------------------------------------------------------------------------

  /** Bytes of in-flight packets (ack-eliciting or padded) not yet acknowledged, lost or discarded, all spaces. */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  /** Ack-eliciting packets outstanding, all spaces. */
  get ackElicitingInFlight(): number {
    return this.#ackElicitingOutstanding;
  }

  /** PTO backoff exponent (RFC 9002 §6.2.1). */
  get ptoCount(): number {
    return this.#ptoCount;
  }

  /** Time of the first RTT sample (undefined before it; -Infinity when a pre-sampled estimator was passed in). */
  get firstRttSampleTime(): number | undefined {
    return this.#firstRttSampleTime === Infinity ? undefined : this.#firstRttSampleTime;
  }

  bytesInFlightIn(space: PacketNumberSpace): number {
    return this.#spaces[space].bytesInFlight;
  }

  ackElicitingInFlightIn(space: PacketNumberSpace): number {
    return this.#spaces[space].ackElicitingOutstanding;
  }

  /** Largest acknowledged packet number of the space, or undefined. */
  largestAcked(space: PacketNumberSpace): number | undefined {
    const l = this.#spaces[space].largestAcked;
    return l < 0 ? undefined : l;
  }

  /** Largest packet number sent in the space, or undefined. */
  largestSent(space: PacketNumberSpace): number | undefined {
    const l = this.#spaces[space].largestSent;
    return l < 0 ? undefined : l;
  }

  /** Time-threshold loss time of the space (App. A.3 loss_time), or undefined. */
  lossTime(space: PacketNumberSpace): number | undefined {
    return this.#spaces[space].lossTime;
  }

  timeOfLastAckEliciting(space: PacketNumberSpace): number | undefined {
    return this.#spaces[space].timeOfLastAckEliciting;
  }

  isDiscarded(space: PacketNumberSpace): boolean {
    return this.#spaces[space].discarded;
  }

  /** Outstanding packets of the space in packet-number order (e.g. to pick data for a PTO probe). */
  outstanding(space: PacketNumberSpace): IterableIterator<P> {
    return this.#spaces[space].ring.values();
  }

  /** Outstanding packet `pn` of the space, if any. */
  getOutstanding(space: PacketNumberSpace, pn: number): P | undefined {
    return this.#spaces[space].ring.get(pn);
  }

  outstandingCount(space: PacketNumberSpace): number {
    return this.#spaces[space].ring.size;
  }

  /**
   * App. A.8 PeerCompletedAddressValidation: always for a server; for a client once a Handshake ACK arrived, the
   * handshake is confirmed, or the caller says so.
   */
  peerCompletedAddressValidation(ctx: RecoveryContext): boolean {
    if (!ctx.isClient) return true;
    return ctx.peerCompletedAddressValidation || ctx.handshakeConfirmed || this.#handshakeAckReceived;
  }

  /** The backed-off PTO period of a space (§6.2.1; max_ack_delay only for Application Data). */
  ptoPeriod(space: PacketNumberSpace, ctx: RecoveryContext): number {
    return this.rtt.pto(space === 'application' ? ctx.maxAckDelay : 0) * 2 ** this.#ptoCount;
  }

  // ---- events -------------------------------------------------------------------------------------------------

  /**
   * App. A.5 OnPacketSent. Packet numbers must increase within a space (gaps are remembered as skipped numbers) and
   * send times must not go backwards. An ack-eliciting packet must be in flight (RFC 9002 §2).
   */
  onPacketSent(space: PacketNumberSpace, packet: P, now: number): void {
    const sp = this.#spaces[space];
    if (sp.discarded) throw new Error(`cannot send in discarded ${space} space`);
    const pn = packet.packetNumber;
    if (!Number.isSafeInteger(pn) || pn < 0) throw new RangeError(`bad packet number ${String(pn)}`);
    if (pn <= sp.largestSent) throw new RangeError(`packet number ${pn} not above ${sp.largestSent} in ${space}`);
    if (!Number.isFinite(packet.bytes) || packet.bytes < 0) throw new RangeError(`bad size ${String(packet.bytes)}`);
    if (!Number.isFinite(packet.timeSent)) throw new RangeError('timeSent must be finite');
    if (packet.timeSent < sp.lastTimeSent) throw new RangeError('timeSent went backwards');
    if (packet.ackEliciting && !packet.inFlight) throw new RangeError('ack-eliciting packets are in flight');

    if (sp.largestSent < 0) {
      sp.firstSent = pn;
    } else if (pn > sp.largestSent + 1) {
      sp.skipped.push(sp.largestSent + 1, pn - 1);
      // Keep the most recent MAX_SKIPPED_RANGES (an optimistic ACK names recent numbers); amortized O(1).
      if (sp.skipped.length > 4 * MAX_SKIPPED_RANGES) sp.skipped.splice(0, sp.skipped.length - 2 * MAX_SKIPPED_RANGES);
    }
    sp.largestSent = pn;
    sp.lastTimeSent = packet.timeSent;
    sp.ring.push(pn, packet);
    if (packet.ackEliciting) {
      sp.ackElicitingOutstanding += 1;
      this.#ackElicitingOutstanding += 1;
    }
    if (packet.inFlight) {
      sp.bytesInFlight += packet.bytes;
      this.#bytesInFlight += packet.bytes;
      if (packet.ackEliciting) sp.timeOfLastAckEliciting = packet.timeSent;
      this.#timerArmedAt = now; // SetLossDetectionTimer()
    }
    this.ecn?.onPacketSent(space, packet.ecn, now);
  }

  /** App. A.7 OnAckReceived (with DetectAndRemoveAckedPackets, UpdateRtt, ProcessECN, DetectAndRemoveLostPackets). */
  onAckReceived(space: PacketNumberSpace, ack: AckInfo, now: number, ctx: RecoveryContext): AckResult<P> {
    const sp = this.#spaces[space];
    const empty = {
      newlyAcked: [] as P[],
      lost: [] as P[],
      rttUpdated: false,
      persistentCongestion: false,
      ecnCeIncreased: false,
      largestAckedTimeSent: sp.largestAckedTimeSent,
      largestAckedIncreased: false,
      ecnValidationFailed: false,
    };
    if (sp.discarded) return { ...empty, ignored: true };
    this.#checkRanges(ack);
    if (this.#acksUnsent(sp, ack)) return { ...empty, ackOfUnsentPacket: true };
    if (space === 'handshake') this.#handshakeAckReceived = true;

    // App. A.7: largest_acked_packet = max(largest_acked_packet, ack.largest_acked).
    const largestAckedIncreased = ack.largestAcknowledged > sp.largestAcked;
    if (largestAckedIncreased) sp.largestAcked = ack.largestAcknowledged;

    // DetectAndRemoveAckedPackets, ascending.
    const ring = sp.ring;
    const newlyAcked: P[] = [];
    const log = this.#otherSpaceActive(space);
    let anyAckEliciting = false;
    for (let r = ack.ranges.length - 1; r >= 0; r--) {
      const range = ack.ranges[r];
      if (range === undefined) continue;
      const hi = Math.min(range.largest, ring.tail - 1);
      for (let pn = ring.find(range.smallest); pn <= hi; pn = ring.find(pn + 1)) {
        const pkt = ring.resolve(pn, SLOT_ACKED);
        this.#removeAccounting(sp, pkt);
        newlyAcked.push(pkt);
        if (pkt.ackEliciting) anyAckEliciting = true;
        if (log) this.#logAcked(sp, pkt.timeSent);
      }
    }
    ring.prune();
    if (newlyAcked.length === 0) {
      // App. A.7: nothing newly acked, nothing else to do.
      return { ...empty, largestAckedIncreased };
    }
    const largestNewly = newlyAcked[newlyAcked.length - 1];
    if (largestNewly !== undefined && largestNewly.packetNumber === sp.largestAcked) {
      sp.largestAckedTimeSent = largestNewly.timeSent;
    }

    // §5.1: RTT sample when the largest acknowledged is newly acked and something ack-eliciting was newly acked.
    let rttUpdated = false;
    if (largestNewly !== undefined && largestNewly.packetNumber === ack.largestAcknowledged && anyAckEliciting) {
      const latest = Math.max(0, now - largestNewly.timeSent);
      // §5.3: the peer does not delay Initial ACKs, so the field MAY be ignored there.
      const ackDelay = space === 'initial' ? 0 : ack.ackDelay;
      if (!this.rtt.hasSample) this.#firstRttSampleTime = now;
      this.rtt.update(latest, ackDelay, ctx.handshakeConfirmed, ctx.maxAckDelay);
      rttUpdated = true;
    }

    // App. A.7 ProcessECN (RFC 9002 §7.1), validated per RFC 9000 §13.4.2.1 when a validator is attached.
    let ecnCeIncreased = false;
    let ecnValidationFailed = false;
    if (ack.ecn !== undefined && ack.ecn.ce > sp.ceCount) {
      sp.ceCount = ack.ecn.ce;
      ecnCeIncreased = true;
    }
    if (this.ecn !== undefined) {
      let ect0 = 0;
      let ect1 = 0;
      for (const p of newlyAcked) {
        if (p.ecn === 'ect0') ect0 += 1;
        else if (p.ecn === 'ect1') ect1 += 1;
      }
      const out = this.ecn.onAckEcnCounts(
        space,
        { newlyAckedEct0: ect0, newlyAckedEct1: ect1, largestAckedIncreased },
        ack.ecn,
        now,
      );
      ecnCeIncreased = out.ceIncreased;
      ecnValidationFailed = out.failed;
    }

    const { lost, persistentCongestion } = this.#detectAndRemoveLost(space, now, ctx);

    // App. A.7: reset pto_count unless the client is unsure whether the server validated its address.
    if (this.peerCompletedAddressValidation(ctx)) this.#ptoCount = 0;
    this.#timerArmedAt = now;
    this.#pruneAckLogs();
    return {
      newlyAcked,
      lost,
      rttUpdated,
      persistentCongestion,
      ecnCeIncreased,
      largestAckedTimeSent: sp.largestAckedTimeSent,
      largestAckedIncreased,
      ecnValidationFailed,
    };
  }

  /**
   * App. A.8 SetLossDetectionTimer / GetLossTimeAndSpace / GetPtoTimeAndSpace, computed from the current state:
   * the earliest time-threshold loss time, else the PTO (none for an amplification-blocked server, none when
   * nothing ack-eliciting is in flight and the peer validated our address, Application Data only once the handshake
   * is confirmed, client anti-deadlock timer otherwise). Undefined: no timer.
   */
  lossDetectionTimer(ctx: RecoveryContext): LossDetectionTimer | undefined {
    let lossTime: number | undefined;
    let lossSpace: PacketNumberSpace = 'initial';
    for (const space of PACKET_NUMBER_SPACES) {
      const t = this.#spaces[space].lossTime;
      if (t !== undefined && (lossTime === undefined || t < lossTime)) {
        lossTime = t;
        lossSpace = space;
      }
    }
    if (lossTime !== undefined) return { time: lossTime, kind: 'loss', space: lossSpace, antiDeadlock: false };

    // §6.2.2.1: a server blocked by the anti-amplification limit arms no timer.
    if (!ctx.isClient && ctx.amplificationBlocked) return undefined;
    if (this.#ackElicitingOutstanding === 0 && this.peerCompletedAddressValidation(ctx)) return undefined;
    return this.#ptoTimeAndSpace(ctx);
  }

  /**
   * App. A.9 OnLossDetectionTimeout. Returns 'none' when no timer is armed or it has not expired at `now`. A 'pto'
   * result increments pto_count; send the probes it asks for (they bypass the congestion window).
   */
  onTimeout(now: number, ctx: RecoveryContext): TimeoutResult<P> {
    const timer = this.lossDetectionTimer(ctx);
    if (timer === undefined || now < timer.time) return { kind: 'none' };
    this.#timerArmedAt = now;
    if (timer.kind === 'loss') {
      const { lost, persistentCongestion } = this.#detectAndRemoveLost(timer.space, now, ctx);
      this.#pruneAckLogs();
      return { kind: 'loss', space: timer.space, lost, persistentCongestion };
    }
    this.#ptoCount += 1;
    return {
      kind: 'pto',
      space: timer.space,
      probes: timer.antiDeadlock ? 1 : this.ptoProbes,
      antiDeadlock: timer.antiDeadlock,
    };
  }

  /**
   * App. A.11 OnPacketNumberSpaceDiscarded (Initial/Handshake keys dropped — RFC 9001 §4.9; Application Data is
   * accepted too, e.g. for an abandoned path). Forgets the space's packets and timers and resets pto_count. Returns
   * the in-flight packets removed: subtract their bytes from the controller's bytes in flight without a congestion
   * reaction.
   */
  discardSpace(space: PacketNumberSpace, now?: number): P[] {
    const sp = this.#spaces[space];
    if (sp.discarded) return [];
    const removed = sp.ring.clear();
    const inFlight: P[] = [];
    for (const pkt of removed) {
      this.#removeAccounting(sp, pkt);
      if (pkt.inFlight) inFlight.push(pkt);
    }
    sp.discarded = true;
    sp.lossTime = undefined;
    sp.timeOfLastAckEliciting = undefined;
    this.#ptoCount = 0;
    if (now !== undefined) this.#timerArmedAt = now;
    return inFlight;
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  #checkRanges(ack: AckInfo): void {
    const first = ack.ranges[0];
    if (first === undefined) throw new RangeError('ACK without ranges');
    if (first.largest !== ack.largestAcknowledged) {
      throw new RangeError('first ACK range must end at largestAcknowledged');
    }
    if (!Number.isFinite(ack.ackDelay) || ack.ackDelay < 0) throw new RangeError('ackDelay must be >= 0');
    let below = Infinity;
    for (const r of ack.ranges) {
      if (!Number.isSafeInteger(r.smallest) || !Number.isSafeInteger(r.largest) || r.smallest < 0) {
        throw new RangeError('ACK range bounds must be integers >= 0');
      }
      if (r.smallest > r.largest || r.largest >= below) {
        throw new RangeError('ACK ranges must be disjoint and in descending order');
      }
      below = r.smallest;
    }
  }

  /** RFC 9000 §13.1: an acknowledgment for a packet never sent. */
  #acksUnsent(sp: SpaceState<P>, ack: AckInfo): boolean {
    if (sp.largestSent < 0 || ack.largestAcknowledged > sp.largestSent) return true;
    const last = ack.ranges[ack.ranges.length - 1];
    if (last !== undefined && last.smallest < sp.firstSent) return true;
    const sk = sp.skipped;
    const pairs = sk.length / 2;
    if (pairs === 0) return false;
    for (const r of ack.ranges) {
      // First skipped range whose end is >= r.smallest.
      let lo = 0;
      let hi = pairs;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((sk[2 * mid + 1] ?? -1) >= r.smallest) hi = mid;
        else lo = mid + 1;
      }
      if (lo < pairs && (sk[2 * lo] ?? Infinity) <= r.largest) return true;
    }
    return false;
  }

  #removeAccounting(sp: SpaceState<P>, pkt: P): void {
    if (pkt.inFlight) {
      sp.bytesInFlight -= pkt.bytes;
      this.#bytesInFlight -= pkt.bytes;
    }
    if (pkt.ackEliciting) {
      sp.ackElicitingOutstanding -= 1;
      this.#ackElicitingOutstanding -= 1;
    }
  }

  /**
   * App. A.10 DetectAndRemoveLostPackets plus the persistent-congestion check of App. B.8 / §7.6.2. Send times grow
   * with packet numbers, so the lost packets are a prefix of the outstanding ones at or below the largest acked and
   * the scan stops at the first survivor (whose send time + loss_delay is the space's loss_time).
   */
  #detectAndRemoveLost(
    space: PacketNumberSpace,
    now: number,
    ctx: RecoveryContext,
  ): { lost: P[]; persistentCongestion: boolean } {
    const sp = this.#spaces[space];
    sp.lossTime = undefined;
    const lost: P[] = [];
    if (sp.largestAcked < 0) return { lost, persistentCongestion: false };
    const rtt = this.rtt;
    // §6.1.2: max(kTimeThreshold · max(smoothed_rtt, latest_rtt), kGranularity).
    const lossDelay = Math.max(this.timeThreshold * Math.max(rtt.latestRtt, rtt.smoothedRtt), K_GRANULARITY);
    // §7.6.1: (smoothed_rtt + max(4·rttvar, kGranularity) + max_ack_delay) × kPersistentCongestionThreshold,
    // max_ack_delay included whatever the space.
    const pcDuration = rtt.pto(ctx.maxAckDelay) * K_PERSISTENT_CONGESTION_THRESHOLD;
    let persistentCongestion = false;
    let runStart: number | undefined;
    let prevTime = 0;
    let lostEct0 = 0;
    let lostEct1 = 0;
    const ring = sp.ring;
    const end = Math.min(sp.largestAcked, ring.tail - 1);
    for (let pn = ring.head; pn <= end; pn++) {
      const state = ring.stateOf(pn);
      if (state === SLOT_ACKED) {
        // §7.6.2: an acknowledged packet between two lost ones ends the period.
        runStart = undefined;
        continue;
      }
      if (state !== SLOT_LIVE) continue;
      const pkt = ring.get(pn);
      if (pkt === undefined) continue;
      // Compared as time_sent + loss_delay <= now so that a timer set to exactly that value always fires.
      if (pkt.timeSent + lossDelay <= now || sp.largestAcked >= pn + this.packetThreshold) {
        ring.resolve(pn, SLOT_LOST);
        this.#removeAccounting(sp, pkt);
        lost.push(pkt);
        if (pkt.ecn === 'ect0') lostEct0 += 1;
        else if (pkt.ecn === 'ect1') lostEct1 += 1;
        // §7.6.2: ack-eliciting packets sent after the first RTT sample; PMTU probes are no congestion signal.
        if (pkt.ackEliciting && !pkt.isMtuProbe && pkt.timeSent > this.#firstRttSampleTime) {
          if (runStart !== undefined && this.#ackedInOtherSpaceBetween(space, prevTime, pkt.timeSent)) {
            runStart = undefined;
          }
          if (runStart === undefined) runStart = pkt.timeSent;
          else if (pkt.timeSent - runStart > pcDuration) persistentCongestion = true;
          prevTime = pkt.timeSent;
        }
      } else {
        sp.lossTime = pkt.timeSent + lossDelay;
        break;
      }
    }
    ring.prune();
    if (lostEct0 + lostEct1 > 0) this.ecn?.onPacketsLost(lostEct0, lostEct1);
    if (persistentCongestion) this.rtt.onPersistentCongestion(); // §5.2
    return { lost, persistentCongestion };
  }

  #ptoTimeAndSpace(ctx: RecoveryContext): LossDetectionTimer | undefined {
    const backoff = 2 ** this.#ptoCount;
    let duration = this.rtt.pto(0) * backoff;
    if (this.#ackElicitingOutstanding === 0) {
      // §6.2.2.1 anti-deadlock: the client arms the PTO from now (the last time the timer was set).
      if (this.#timerArmedAt === undefined) return undefined;
      const space: PacketNumberSpace = ctx.hasHandshakeKeys ? 'handshake' : 'initial';
      return { time: this.#timerArmedAt + duration, kind: 'pto', space, antiDeadlock: true };
    }
    let best: LossDetectionTimer | undefined;
    for (const space of PACKET_NUMBER_SPACES) {
      const sp = this.#spaces[space];
      if (sp.ackElicitingOutstanding === 0 || sp.timeOfLastAckEliciting === undefined) continue;
      if (space === 'application') {
        // §6.2.1: no Application Data PTO before the handshake is confirmed.
        if (!ctx.handshakeConfirmed) break;
        duration += ctx.maxAckDelay * backoff;
      }
      const t = sp.timeOfLastAckEliciting + duration;
      if (best === undefined || t < best.time) best = { time: t, kind: 'pto', space, antiDeadlock: false };
    }
    return best;
  }

  /** Whether another space that could still declare losses has sent anything (then acked send times are logged). */
  #otherSpaceActive(space: PacketNumberSpace): boolean {
    for (const s of PACKET_NUMBER_SPACES) {
      if (s === space) continue;
      const o = this.#spaces[s];
      if (!o.discarded && o.largestSent >= 0) return true;
    }
    return false;
  }

  #logAcked(sp: SpaceState<P>, t: number): void {
    const a = sp.ackedTimes;
    const last = a[a.length - 1];
    if (last === undefined || last <= t || a.length === sp.ackedTimesStart) {
      a.push(t);
      return;
    }
    a.splice(upperBound(a, sp.ackedTimesStart, t), 0, t); // a late ACK for an old packet: rare
  }

  /** §7.6.2 across spaces: was a packet of another space, sent strictly between a and b, acknowledged? */
  #ackedInOtherSpaceBetween(space: PacketNumberSpace, a: number, b: number): boolean {
    for (const s of PACKET_NUMBER_SPACES) {
      if (s === space) continue;
      const o = this.#spaces[s];
      const i = upperBound(o.ackedTimes, o.ackedTimesStart, a);
      const t = o.ackedTimes[i];
      if (t !== undefined && t < b) return true;
    }
    return false;
  }

  /** Acked send times older than every outstanding packet can no longer sit between two future losses. */
  #pruneAckLogs(): void {
    let oldest = Infinity;
    for (const s of PACKET_NUMBER_SPACES) {
      const first = this.#spaces[s].ring.first();
      if (first !== undefined) oldest = Math.min(oldest, first.timeSent);
    }
    for (const s of PACKET_NUMBER_SPACES) {
      const sp = this.#spaces[s];
      const a = sp.ackedTimes;
      if (a.length === sp.ackedTimesStart) continue;
      if (oldest === Infinity) {
        sp.ackedTimes = [];
        sp.ackedTimesStart = 0;
        continue;
      }
      let i = sp.ackedTimesStart;
      while (i < a.length && (a[i] ?? Infinity) < oldest) i++;
      if (i === a.length) {
        sp.ackedTimes = [];
        sp.ackedTimesStart = 0;
      } else if (i > 1024 && i * 2 > a.length) {
        sp.ackedTimes = a.slice(i);
        sp.ackedTimesStart = 0;
      } else {
        sp.ackedTimesStart = i;
      }
    }
  }
}
