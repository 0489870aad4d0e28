/**
 * CUBIC (RFC 9438), byte-based: windows are in bytes, the cubic function is evaluated in segments of
 * max_datagram_size and time in seconds (`now` arrives in ms). Shares recovery periods, flight accounting,
 * app-limited handling and HyStart++ with NewReno (RFC 9002 App. B) and replaces the reduction and the
 * congestion-avoidance growth.
 */
import type { CongestionControlAlgorithm, CongestionControllerOptions, RttSnapshot } from './congestion.js';
import { NewRenoController } from './newreno.js';

/** C (RFC 9438 §4.1.1, value from §5.1), segments / s³. */
export const CUBIC_C = 0.4;
/** β_cubic (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** α_cubic = 3(1 − β)/(1 + β) = 9/17 (RFC 9438 §4.3). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

export class CubicController extends NewRenoController {
  readonly fastConvergence: boolean;
  private wMaxBytes = 0;
  private kSeconds = 0;
  private wEstBytes = 0;
  private cwndPriorBytes = 0;
  private cwndEpochBytes = 0;
  /** t_epoch in ms; undefined until the first growing ACK of a congestion-avoidance stage. */
  private epochStartTime: number | undefined = undefined;
  /** RFC 9438 §4.8: after a timeout (persistent congestion) the next stage uses W_max = cwnd, K = 0. */
  private resetWmaxAtEpoch = false;
  private appLimitedSince = 0;
  // RFC 9438 §4.9.2 undo state (saved at a loss reduction).
  private undoValid = false;
  private undoCwnd = 0;
  private undoCwndPrior = 0;
  private undoSsthresh = 0;
  private undoWMax = 0;
  private undoK = 0;
  private undoEpochStart: number | undefined = undefined;
  private undoWEst = 0;
  private undoCwndEpoch = 0;
  private undoRecoveryStart: number | undefined = undefined;

  constructor(opts: CongestionControllerOptions = {}) {
    super(opts);
    this.fastConvergence = opts.fastConvergence ?? true;
  }

  override get name(): CongestionControlAlgorithm {
    return 'cubic';
  }
  /** W_max in bytes (0 before the first congestion event). */
  get wMax(): number {
    return this.wMaxBytes;
  }
  /** K in seconds for the current congestion-avoidance stage. */
  get k(): number {
    return this.kSeconds;
  }
  /** W_est in bytes (RFC 9438 §4.3). */
  get wEst(): number {
    return this.wEstBytes;
  }
  /** cwnd_prior in bytes. */
  get cwndPrior(): number {
    return this.cwndPriorBytes;
  }
  /** cwnd_epoch in bytes. */
  get cwndEpoch(): number {
    return this.cwndEpochBytes;
  }
  /** t_epoch in ms (shifted forward by application-limited periods), undefined outside a stage. */
  get epochStart(): number | undefined {
    return this.epochStartTime;
  }

  /** W_cubic(t) = C·(t − K)³ + W_max, in bytes, t in seconds since the epoch (RFC 9438 §4.2, eq. 1). */
  wCubic(tSeconds: number): number {
    const d = tSeconds - this.kSeconds;
    return CUBIC_C * d * d * d * this.mds + this.wMaxBytes;
  }

  override onSpuriousLoss(_now: number): boolean {
    // RFC 9438 §4.9.2: restore only if the window is still below cwnd_prior.
    if (!this.undoValid || this.cwnd >= this.cwndPriorBytes) return false;
    this.undoValid = false;
    this.cwnd = this.undoCwnd;
    this.cwndPriorBytes = this.undoCwndPrior;
    this.ssthreshBytes = this.undoSsthresh;
    this.wMaxBytes = this.undoWMax;
    this.kSeconds = this.undoK;
    this.epochStartTime = this.undoEpochStart;
    this.wEstBytes = this.undoWEst;
    this.cwndEpochBytes = this.undoCwndEpoch;
    // The congestion event is undone with its recovery period.
    this.recoveryStart = this.undoRecoveryStart;
    this.recovering = false;
    return true;
  }

  protected override reduce(_now: number, ecn: boolean): void {
    // RFC 9438 §4.9.2: save state before a loss reduction (ECN-CE is never spurious).
    this.undoValid = !ecn;
    if (!ecn) {
      this.undoCwnd = this.cwnd;
      this.undoCwndPrior = this.cwndPriorBytes;
      this.undoSsthresh = this.ssthreshBytes;
      this.undoWMax = this.wMaxBytes;
      this.undoK = this.kSeconds;
      this.undoEpochStart = this.epochStartTime;
      this.undoWEst = this.wEstBytes;
      this.undoCwndEpoch = this.cwndEpochBytes;
      this.undoRecoveryStart = this.recoveryStart;
    }
    // §4.7 fast convergence.
    this.wMaxBytes =
      this.fastConvergence && this.cwnd < this.wMaxBytes ? (this.cwnd * (1 + CUBIC_BETA)) / 2 : this.cwnd;
    // §4.6 multiplicative decrease (cwnd instead of flight_size: no growth while app-limited, RFC 9002 §7.8),
    // floored at kMinimumWindow (RFC 9002 App. B.6).
    this.cwndPriorBytes = this.cwnd;
    const min = this.minimumWindow;
    this.ssthreshBytes = Math.max(this.cwnd * CUBIC_BETA, min);
    this.cwnd = Math.max(this.ssthreshBytes, min);
    // A new congestion-avoidance stage starts at the first growing ACK after recovery.
    this.epochStartTime = undefined;
    this.resetWmaxAtEpoch = false;
  }

  protected override congestionAvoidance(ackedBytes: number, now: number, rtt: RttSnapshot): void {
    if (this.epochStartTime === undefined) this.startEpoch(now);
    const mds = this.mds;
    const cwnd = this.cwnd;
    const t = (now - (this.epochStartTime ?? now)) / 1000;
    // §4.2: target = clamp(W_cubic(t + RTT), cwnd, 1.5·cwnd), RTT = smoothed RTT.
    let target = this.wCubic(t + rtt.smoothedRtt / 1000);
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    // §4.3 Reno-friendly estimate; α = 1 once W_est has reached cwnd_prior. Bytes: α·acked·mds/cwnd.
    const alpha = this.wEstBytes >= this.cwndPriorBytes ? 1 : CUBIC_ALPHA;
    this.wEstBytes += (alpha * ackedBytes * mds) / cwnd;
    if (this.wCubic(t) < this.wEstBytes) {
      // Reno-friendly region: cwnd = W_est (never shrink on an ACK).
      if (this.wEstBytes > cwnd) this.cwnd = this.wEstBytes;
    } else {
      // §4.4 concave / §4.5 convex: (target − cwnd)/cwnd per acked segment.
      this.cwnd = cwnd + ((target - cwnd) * ackedBytes) / cwnd;
    }
  }

  // RFC 9438 §4.10: HyStart++ left slow start without loss: cwnd_prior = W_max = W_est = cwnd, K = 0.
  protected override exitSlowStart(now: number): void {
    super.exitSlowStart(now);
    this.cwndPriorBytes = this.cwnd;
    this.wMaxBytes = this.cwnd;
    this.cwndEpochBytes = this.cwnd;
    this.wEstBytes = this.cwnd;
    this.kSeconds = 0;
    this.epochStartTime = now;
    this.resetWmaxAtEpoch = false;
  }

  // RFC 9438 §4.8 (timeout ≈ persistent congestion): next stage with K = 0, W_max = W_est = cwnd_epoch.
  protected override afterPersistentCongestion(): void {
    this.epochStartTime = undefined;
    this.resetWmaxAtEpoch = true;
    this.undoValid = false;
  }

  // RFC 9438 §4.2 / §5.8: application-limited time is excluded from t.
  protected override onAppLimitedChange(limited: boolean, now: number): void {
    if (limited) {
      this.appLimitedSince = now;
    } else if (this.epochStartTime !== undefined) {
      // Only the part of the limited period after the epoch began (a HyStart++ exit may start one meanwhile).
      const from = Math.max(this.appLimitedSince, this.epochStartTime);
      if (now > from) this.epochStartTime += now - from;
    }
  }

  private startEpoch(now: number): void {
    this.epochStartTime = now;
    this.cwndEpochBytes = this.cwnd;
    if (this.resetWmaxAtEpoch) {
      this.wMaxBytes = this.cwnd;
      this.resetWmaxAtEpoch = false;
    }
    // §4.2 eq. 2 in bytes: K = cbrt((W_max − cwnd_epoch)/(C·mds)); negative (convex from cwnd) if W_max < cwnd.
    this.kSeconds = Math.cbrt((this.wMaxBytes - this.cwnd) / (CUBIC_C * this.mds));
    this.wEstBytes = this.cwnd;
  }
}
