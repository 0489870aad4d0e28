// A bulk QUIC-like flow over @pathquic/netsim, driven by this package's loss detection, congestion controllers and
// pacer: the sender always has data (application space only, handshake confirmed), the receiver acknowledges
// every second packet or after max_ack_delay, immediately on a gap (RFC 9000 §13.2.1). Lost data is resent in new
// packets. Used by the simulator tests and by `pnpm bench`; not shipped.
import { Timer, type Link, type Simulator } from '@pathquic/netsim';
import {
  LossDetection,
  Pacer,
  createCongestionController,
  type AckInfo,
  type CongestionControlAlgorithm,
  type CongestionController,
  type RecoveryContext,
  type SentPacket,
} from '../src/index.js';

export interface DataPacket {
  readonly size: number;
  readonly flow: number;
  readonly packetNumber: number;
  /** Index of the application chunk carried (chunks are retransmitted in new packets when lost). */
  readonly chunk: number;
}

export interface AckPacket {
  readonly size: number;
  readonly flow: number;
  readonly ack: AckInfo;
}

interface FlowPacket extends SentPacket {
  readonly chunk: number;
}

export interface BulkFlowOptions {
  readonly flow: number;
  readonly algorithm: CongestionControlAlgorithm;
  readonly hystart?: boolean;
  readonly paced?: boolean;
  readonly packetSize?: number;
  readonly maxAckDelay?: number;
  readonly startAt?: number;
  readonly pacingGain?: number;
}

const CTX: RecoveryContext = {
  isClient: true,
  handshakeConfirmed: true,
  maxAckDelay: 25,
  peerCompletedAddressValidation: true,
  hasHandshakeKeys: true,
  amplificationBlocked: false,
};

/** The sending half. `forward` is the bottleneck; ACKs come back through `onAck`. */
export class BulkSender {
  readonly cc: CongestionController;
  readonly recovery = new LossDetection<FlowPacket>();
  readonly pacer: Pacer | undefined;
  private nextPn = 0;
  private nextChunk = 0;
  private readonly retransmit: number[] = [];
  private readonly sendTimer: Timer;
  private readonly lossTimer: Timer;
  private readonly size: number;
  /** Packets declared lost, and those of them sent during the initial slow start (its overshoot). */
  lostPackets = 0;
  lostInInitialSlowStart = 0;
  /** Time the first congestion event ended slow start (undefined while still in it). */
  slowStartExitAt: number | undefined;
  sentPackets = 0;
  /** Window reductions caused by congestion events, in order. */
  readonly reductions: { time: number; before: number; after: number }[] = [];
  /** (time, cwnd) after each ACK during the first `traceMs` of the flow, for shape tests. */
  readonly windowTrace: { time: number; window: number }[] = [];
  traceMs = 0;
  ptoCount = 0;
  private exitedSlowStart = false;

  constructor(
    private readonly sim: Simulator,
    private readonly forward: Link<DataPacket>,
    readonly options: BulkFlowOptions,
  ) {
    this.size = options.packetSize ?? 1200;
    const paced = options.paced ?? true;
    this.cc = createCongestionController(options.algorithm, {
      maxDatagramSize: this.size,
      hystart: options.hystart ?? true,
      paced,
    });
    this.pacer = paced ? new Pacer({ maxDatagramSize: this.size, ...(options.pacingGain !== undefined && { n: options.pacingGain }) }) : undefined;
    this.sendTimer = new Timer(sim, () => this.trySend());
    this.lossTimer = new Timer(sim, (now) => this.onLossTimer(now));
    sim.schedule(options.startAt ?? 0, () => this.trySend());
  }

  private trySend(): void {
    const now = this.sim.now;
    const rtt = this.recovery.rtt;
    while (this.cc.canSend(this.size)) {
      if (this.pacer !== undefined) {
        const at = this.pacer.nextSendTime(now, this.size, this.cc.window, rtt.smoothedRtt);
        if (at > now) {
          this.sendTimer.set(at);
          break;
        }
      }
      this.sendOne(now);
    }
    this.armLossTimer();
  }

  private sendOne(now: number): void {
    const chunk = this.retransmit.length > 0 ? this.retransmit.shift()! : this.nextChunk++;
    const pn = this.nextPn++;
    const packet: FlowPacket = { packetNumber: pn, timeSent: now, bytes: this.size, ackEliciting: true, inFlight: true, chunk };
    this.recovery.onPacketSent('application', packet, now);
    this.cc.onPacketSent(this.size, now, pn);
    this.pacer?.onSent(now, this.size, this.cc.window, this.recovery.rtt.smoothedRtt);
    this.sentPackets++;
    this.forward.send({ size: this.size, flow: this.options.flow, packetNumber: pn, chunk });
  }

  onAck(ack: AckInfo, now: number): void {
    const inSlowStart = !this.exitedSlowStart;
    const result = this.recovery.onAckReceived('application', ack, now, CTX);
    if (result.ackOfUnsentPacket || result.ignored) return;
    this.onLost(result.lost, now, inSlowStart);
    if (result.persistentCongestion) this.cc.onPersistentCongestion(now);
    if (result.newlyAcked.length > 0) this.cc.onPacketsAcked(result.newlyAcked, now, this.recovery.rtt);
    if (now < this.traceMs) this.windowTrace.push({ time: now, window: this.cc.window });
    if (!this.exitedSlowStart && !this.cc.inSlowStart) {
      this.exitedSlowStart = true;
      this.slowStartExitAt = now;
    }
    this.trySend();
  }

  private onLost(lost: readonly FlowPacket[], now: number, inSlowStart: boolean): void {
    if (lost.length === 0) return;
    for (const p of lost) this.retransmit.push(p.chunk);
    this.lostPackets += lost.length;
    // Overshoot of the initial slow start: packets sent before it ended that were lost, whenever detected.
    for (const p of lost) if (inSlowStart || p.timeSent <= (this.slowStartExitAt ?? Infinity)) this.lostInInitialSlowStart++;
    const before = this.cc.window;
    this.cc.onPacketsLost(lost, now);
    if (this.cc.window < before) this.reductions.push({ time: now, before, after: this.cc.window });
  }

  private armLossTimer(): void {
    const timer = this.recovery.lossDetectionTimer(CTX);
    if (timer === undefined) this.lossTimer.clear();
    else this.lossTimer.set(timer.time);
  }

  private onLossTimer(now: number): void {
    const inSlowStart = !this.exitedSlowStart;
    const r = this.recovery.onTimeout(now, CTX);
    if (r.kind === 'loss') {
      this.onLost(r.lost, now, inSlowStart);
      if (r.persistentCongestion) this.cc.onPersistentCongestion(now);
    } else if (r.kind === 'pto') {
      this.ptoCount++;
      // Probes bypass the congestion window (RFC 9002 §6.2.4); they carry queued retransmissions or new data.
      for (let i = 0; i < r.probes; i++) this.sendOne(now);
    }
    this.trySend();
  }
}

/** The receiving half: tracks received packet numbers as ranges and the unique chunks delivered. */
export class BulkReceiver {
  private ranges: { smallest: number; largest: number }[] = []; // descending
  private largestArrival = 0;
  private unacked = 0;
  private readonly ackTimer: Timer;
  private seen = new Uint8Array(1 << 16);
  uniqueBytes = 0;
  /** Unique bytes delivered, with arrival time, for goodput over windows. */
  readonly deliveries: { time: number; bytes: number }[] = [];

  constructor(
    private readonly sim: Simulator,
    private readonly back: Link<AckPacket>,
    private readonly flow: number,
    private readonly maxAckDelay = 25,
    /** Record a delivery sample every this many ms (keeps memory small). */
    private readonly sampleMs = 100,
  ) {
    this.ackTimer = new Timer(sim, () => this.sendAck());
  }

  private bucketBytes = 0;
  private bucketEnd = 0;

  onPacket(p: DataPacket, now: number): void {
    if (p.chunk >= this.seen.length) {
      let n = this.seen.length;
      while (n <= p.chunk) n *= 2;
      const next = new Uint8Array(n);
      next.set(this.seen);
      this.seen = next;
    }
    if (this.seen[p.chunk] === 0) {
      this.seen[p.chunk] = 1;
      this.uniqueBytes += p.size;
      if (now >= this.bucketEnd) {
        if (this.bucketBytes > 0) this.deliveries.push({ time: this.bucketEnd, bytes: this.bucketBytes });
        this.bucketBytes = 0;
        this.bucketEnd = (Math.floor(now / this.sampleMs) + 1) * this.sampleMs;
      }
      this.bucketBytes += p.size;
    }
    const gap = this.insert(p.packetNumber);
    if (p.packetNumber === this.ranges[0]!.largest) this.largestArrival = now;
    this.unacked++;
    // RFC 9000 §13.2.1/13.2.2: every second ack-eliciting packet, at once on reordering/gaps, else within max_ack_delay.
    if (this.unacked >= 2 || gap) this.sendAck();
    else if (!this.ackTimer.armed) this.ackTimer.set(now + this.maxAckDelay);
  }

  /** Unique bytes delivered in (from, to], at the sampling resolution. */
  bytesBetween(from: number, to: number): number {
    if (this.bucketBytes > 0) {
      this.deliveries.push({ time: this.bucketEnd, bytes: this.bucketBytes });
      this.bucketBytes = 0;
    }
    let n = 0;
    for (const d of this.deliveries) if (d.time > from && d.time <= to) n += d.bytes;
    return n;
  }

  /** Adds pn to the descending range list; returns true when it arrived out of order or as a duplicate. */
  private insert(pn: number): boolean {
    const r = this.ranges;
    const top = r[0];
    if (top === undefined) {
      r.push({ smallest: pn, largest: pn });
      return false;
    }
    if (pn === top.largest + 1) {
      top.largest = pn;
      return false;
    }
    if (pn > top.largest + 1) {
      r.unshift({ smallest: pn, largest: pn });
      if (r.length > 32) r.length = 32; // an ACK frame carries a bounded number of ranges
      return true;
    }
    for (let i = 0; i < r.length; i++) {
      const cur = r[i]!;
      if (pn > cur.largest) {
        // In the gap between r[i] (below) and r[i - 1] (above; exists because pn <= top.largest).
        const above = r[i - 1]!;
        if (pn === cur.largest + 1) {
          cur.largest = pn;
          if (above.smallest === pn + 1) {
            above.smallest = cur.smallest;
            r.splice(i, 1);
          }
        } else if (above.smallest === pn + 1) {
          above.smallest = pn;
        } else {
          r.splice(i, 0, { smallest: pn, largest: pn });
        }
        return true;
      }
      if (pn >= cur.smallest) return true; // duplicate
    }
    const last = r[r.length - 1]!;
    if (pn === last.smallest - 1) last.smallest = pn;
    else if (r.length < 32) r.push({ smallest: pn, largest: pn });
    return true;
  }

  private sendAck(): void {
    this.ackTimer.clear();
    this.unacked = 0;
    const top = this.ranges[0];
    if (top === undefined) return;
    const ack: AckInfo = {
      largestAcknowledged: top.largest,
      ackDelay: this.sim.now - this.largestArrival,
      ranges: this.ranges.map((x) => ({ smallest: x.smallest, largest: x.largest })),
    };
    this.back.send({ size: 40 + 4 * this.ranges.length, flow: this.flow, ack });
  }
}
