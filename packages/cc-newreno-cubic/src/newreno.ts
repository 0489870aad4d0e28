/**
 * NewReno as specified by RFC 9002 §7 and App. B, in bytes, with HyStart++ (RFC 9406) in the initial slow
 * start. `CubicController` extends this class and replaces the reduction and the congestion-avoidance growth.
 */
import type {
  AckedPacketInfo,
  CongestionControlAlgorithm,
  CongestionController,
  CongestionControllerOptions,
  LostPacketInfo,
  RttSnapshot,
} from './congestion.js';
import { HyStart } from './hystart.js';

/** kLossReductionFactor (RFC 9002 §7.3.2 / App. B.2). */
export const K_LOSS_REDUCTION_FACTOR = 0.5;

/** kInitialWindow = min(10·mds, max(14720, 2·mds)) (RFC 9002 §7.2). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** kMinimumWindow = 2·mds (RFC 9002 §7.2). */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

function checkDatagramSize(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new RangeError(`invalid max datagram size ${bytes}`);
  return bytes;
}

export class NewRenoController implements CongestionController {
  protected cwnd: number;
  protected ssthreshBytes = Infinity;
  protected flight = 0;
  protected mds: number;
  /** congestion_recovery_start_time (RFC 9002 App. B.2); undefined = no recovery period yet / reset. */
  protected recoveryStart: number | undefined = undefined;
  protected recovering = false;
  protected isAppLimited = false;
  protected readonly hs: HyStart | undefined;
  /** Set at the first congestion event or HyStart++ exit: HyStart++ runs only in the initial slow start. */
  protected hystartDone = false;
  private readonly fixedInitialWindow: boolean;
  private ackedAny = false;

  constructor(opts: CongestionControllerOptions = {}) {
    this.mds = checkDatagramSize(opts.maxDatagramSize ?? 1200);
    this.fixedInitialWindow = opts.initialWindow !== undefined;
    const iw = opts.initialWindow ?? initialWindow(this.mds);
    if (!Number.isFinite(iw) || iw <= 0) throw new RangeError(`invalid initial window ${iw}`);
    this.cwnd = Math.max(iw, minimumWindow(this.mds));
    this.hs = (opts.hystart ?? true) ? new HyStart(opts.paced ?? true) : undefined;
  }

  get name(): CongestionControlAlgorithm {
    return 'newreno';
  }
  get window(): number {
    return this.cwnd;
  }
  get bytesInFlight(): number {
    return this.flight;
  }
  get ssthresh(): number {
    return this.ssthreshBytes;
  }
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthreshBytes;
  }
  get inRecovery(): boolean {
    return this.recovering;
  }
  get recoveryStartTime(): number | undefined {
    return this.recoveryStart;
  }
  get appLimited(): boolean {
    return this.isAppLimited;
  }
  get maxDatagramSize(): number {
    return this.mds;
  }
  get minimumWindow(): number {
    return minimumWindow(this.mds);
  }
  /** The HyStart++ state (read-only use), undefined when disabled. */
  get hystart(): Readonly<HyStart> | undefined {
    return this.hs;
  }
  /** Whether HyStart++ currently drives slow start (initial slow start only, RFC 9406 §4.3). */
  get hystartActive(): boolean {
    return this.hs !== undefined && !this.hystartDone && this.ssthreshBytes === Infinity;
  }

  onPacketSent(bytes: number, _now: number, packetNumber?: number): void {
    this.flight += bytes;
    if (packetNumber !== undefined && this.hystartActive) this.hs?.onPacketSent(packetNumber);
  }

  // RFC 9002 App. B.5 (OnPacketsAcked), per ACK frame; no allocation.
  onPacketsAcked(packets: readonly AckedPacketInfo[], now: number, rtt: RttSnapshot): void {
    let eligible = 0;
    let largestPn = -1;
    let any = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.inFlight === false) continue;
      any = true;
      this.flight -= p.bytes;
      if (p.packetNumber > largestPn) largestPn = p.packetNumber;
      // §7.3.2: no growth for packets sent before (or at) the recovery start.
      if (this.recoveryStart !== undefined && p.timeSent <= this.recoveryStart) continue;
      // §7.3.2: a packet sent during the recovery period was acked ⇒ recovery ends.
      this.recovering = false;
      eligible += p.bytes;
    }
    if (this.flight < 0) this.flight = 0;
    if (!any) return;
    this.ackedAny = true;
    // §7.8: no growth while application- or flow-control-limited.
    const growth = this.isAppLimited ? 0 : eligible;
    if (this.cwnd < this.ssthreshBytes) {
      const hs = this.hystartActive ? this.hs : undefined;
      if (hs !== undefined) {
        // RFC 9406 §4.2: HyStart++ growth and delay-based exit.
        this.cwnd += hs.onAck(growth, largestPn, rtt.hasSample ? rtt.latestRtt : undefined, this.mds);
        if (hs.exitRequested) this.exitSlowStart(now);
      } else {
        this.cwnd += growth; // §7.3.1
      }
    } else if (growth > 0) {
      this.congestionAvoidance(growth, now, rtt);
    }
  }

  // RFC 9002 App. B.8 (OnPacketsLost).
  onPacketsLost(packets: readonly LostPacketInfo[], now: number): void {
    let lastLossSent = -Infinity;
    let congestion = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.inFlight === false) continue;
      this.flight -= p.bytes;
      if (p.isMtuProbe === true) continue; // RFC 9000 §14.4: not a congestion signal
      congestion = true;
      if (p.timeSent > lastLossSent) lastLossSent = p.timeSent;
    }
    if (this.flight < 0) this.flight = 0;
    if (congestion) this.onCongestionEvent(lastLossSent, now, false);
  }

  // RFC 9002 App. B.7 (ProcessECN).
  onEcnCe(largestAckedTimeSent: number, now: number): void {
    this.onCongestionEvent(largestAckedTimeSent, now, true);
  }

  // RFC 9002 §7.6.2 / App. B.8: cwnd = kMinimumWindow and leave recovery.
  onPersistentCongestion(_now: number): void {
    this.cwnd = this.minimumWindow;
    this.recoveryStart = undefined;
    this.recovering = false;
    this.hystartDone = true;
    this.afterPersistentCongestion();
  }

  // RFC 9002 App. B.9: discarded packets leave flight, no congestion reaction.
  onPacketsDiscarded(bytes: number): void {
    this.flight -= bytes;
    if (this.flight < 0) this.flight = 0;
  }

  onSpuriousLoss(_now: number): boolean {
    return false;
  }

  canSend(bytes: number = this.mds): boolean {
    return this.flight + bytes <= this.cwnd;
  }

  available(): number {
    return this.cwnd > this.flight ? this.cwnd - this.flight : 0;
  }

  setAppLimited(limited: boolean, now: number): void {
    if (limited === this.isAppLimited) return;
    this.isAppLimited = limited;
    this.onAppLimitedChange(limited, now);
  }

  // RFC 9002 §7.2: recompute the initial window for a new size before any ACK; keep cwnd >= kMinimumWindow.
  setMaxDatagramSize(bytes: number): void {
    this.mds = checkDatagramSize(bytes);
    if (!this.ackedAny && !this.fixedInitialWindow && this.ssthreshBytes === Infinity) {
      this.cwnd = initialWindow(this.mds);
    }
    if (this.cwnd < this.minimumWindow) this.cwnd = this.minimumWindow;
  }

  // RFC 9002 App. B.6 (OnCongestionEvent): one reduction per recovery period.
  protected onCongestionEvent(sentTime: number, now: number, ecn: boolean): void {
    if (this.recoveryStart !== undefined && sentTime <= this.recoveryStart) return;
    this.hystartDone = true; // RFC 9406 §4.2: loss/ECN in SS or CSS ⇒ normal response, HyStart++ over
    this.reduce(now, ecn);
    this.recoveryStart = now;
    this.recovering = true;
  }

  /** The window reduction of a congestion event (NewReno: halve, RFC 9002 §7.3.2). */
  protected reduce(_now: number, _ecn: boolean): void {
    this.ssthreshBytes = this.cwnd * K_LOSS_REDUCTION_FACTOR;
    this.cwnd = Math.max(this.ssthreshBytes, this.minimumWindow);
  }

  /** Congestion-avoidance growth for `ackedBytes` eligible bytes of one ACK (RFC 9002 §7.3.3). */
  protected congestionAvoidance(ackedBytes: number, _now: number, _rtt: RttSnapshot): void {
    this.cwnd += (this.mds * ackedBytes) / this.cwnd;
  }

  /** HyStart++ finished CSS (RFC 9406 §4.2): ssthresh = cwnd, enter congestion avoidance. */
  protected exitSlowStart(_now: number): void {
    this.hystartDone = true;
    this.ssthreshBytes = this.cwnd;
  }

  protected afterPersistentCongestion(): void {}

  protected onAppLimitedChange(_limited: boolean, _now: number): void {}
}
