/**
 * The congestion controller interface (RFC 9002 §7) and a factory by name.
 *
 * Controllers are sans-I/O: `now` is in milliseconds, sizes in bytes. A controller owns cwnd, ssthresh, the
 * recovery period and its own bytes-in-flight count; loss detection (a separate object) tells the caller which
 * packets were acked or lost and the caller feeds them here.
 */
import { CubicController } from './cubic.js';
import { NewRenoController } from './newreno.js';

/**
 * The RTT figures a controller reads (ms). `RttEstimator` from rtt.ts satisfies it structurally.
 */
export interface RttSnapshot {
  readonly latestRtt: number;
  readonly minRtt: number;
  readonly smoothedRtt: number;
  readonly rttvar: number;
  readonly hasSample: boolean;
}

/** A newly acknowledged packet. `SentPacket` from types.ts satisfies it. */
export interface AckedPacketInfo {
  readonly bytes: number;
  readonly timeSent: number;
  readonly packetNumber: number;
  /** `false` ⇒ not counted in bytes in flight (ACK-only packet): ignored. Absent ⇒ in flight. */
  readonly inFlight?: boolean;
}

/** A packet declared lost. `SentPacket` from types.ts satisfies it. */
export interface LostPacketInfo {
  readonly bytes: number;
  readonly timeSent: number;
  /** `false` ⇒ not counted in bytes in flight: ignored. Absent ⇒ in flight. */
  readonly inFlight?: boolean;
  /** A lost PMTU probe leaves flight but is not a congestion signal (RFC 9000 §14.4). */
  readonly isMtuProbe?: boolean;
}

export type CongestionControlAlgorithm = 'newreno' | 'cubic';

export interface CongestionController {
  readonly name: CongestionControlAlgorithm;
  /** Congestion window in bytes (may be fractional). */
  readonly window: number;
  /** Bytes of in-flight packets sent and not yet acked, lost or discarded; never negative. */
  readonly bytesInFlight: number;
  /** Slow-start threshold in bytes (Infinity until the first congestion event or HyStart++ exit). */
  readonly ssthresh: number;
  /** cwnd < ssthresh. */
  readonly inSlowStart: boolean;
  /** In a recovery period: entered on a congestion event, left when a packet sent after it is acked. */
  readonly inRecovery: boolean;
  /** Start time of the current/last recovery period (ms), undefined if none (or after persistent congestion). */
  readonly recoveryStartTime: number | undefined;
  readonly appLimited: boolean;
  readonly maxDatagramSize: number;
  /** kMinimumWindow = 2 × max_datagram_size (RFC 9002 §7.2). */
  readonly minimumWindow: number;

  /** An in-flight packet was sent (call only for packets that count in bytes in flight). */
  onPacketSent(bytes: number, now: number, packetNumber?: number): void;
  /** Packets newly acknowledged by one ACK frame (RFC 9002 App. B.5). */
  onPacketsAcked(packets: readonly AckedPacketInfo[], now: number, rtt: RttSnapshot): void;
  /** Packets declared lost: removed from flight, and a congestion event if any was sent after recovery start. */
  onPacketsLost(packets: readonly LostPacketInfo[], now: number): void;
  /** ECN-CE count increased (RFC 9002 App. B.7): congestion event keyed by the largest acked packet's send time. */
  onEcnCe(largestAckedTimeSent: number, now: number): void;
  /** Persistent congestion (RFC 9002 §7.6.2): cwnd = kMinimumWindow, recovery left. Call after onPacketsLost. */
  onPersistentCongestion(now: number): void;
  /** Packets of a discarded packet-number space leave flight without any reaction (RFC 9002 App. B.9). */
  onPacketsDiscarded(bytes: number): void;
  /**
   * A loss previously reported to onPacketsLost proved spurious (the packet was acked later). CUBIC may undo the
   * last loss reduction (RFC 9438 §4.9.2); returns whether state was restored. NewReno never undoes.
   */
  onSpuriousLoss(now: number): boolean;
  /** bytesInFlight + bytes <= window (bytes defaults to maxDatagramSize). PTO probes bypass this (caller). */
  canSend(bytes?: number): boolean;
  /** max(0, window − bytesInFlight). */
  available(): number;
  /** The sender is application- or flow-control-limited: no cwnd growth (RFC 9002 §7.8, RFC 9438 §5.8). */
  setAppLimited(limited: boolean, now: number): void;
  /** PMTU raised or lowered (RFC 9002 §7.2). */
  setMaxDatagramSize(bytes: number): void;
}

export interface CongestionControllerOptions {
  /** SMSS in bytes; default 1200. */
  readonly maxDatagramSize?: number;
  /** Initial window in bytes; default kInitialWindow = min(10·mds, max(14720, 2·mds)) (RFC 9002 §7.2). */
  readonly initialWindow?: number;
  /** Use HyStart++ in the initial slow start; default true. */
  readonly hystart?: boolean;
  /** CUBIC fast convergence (RFC 9438 §4.7); default true. Ignored by NewReno. */
  readonly fastConvergence?: boolean;
  /** Whether the sender paces (HyStart++ L = infinity when paced, 8 otherwise); default true. */
  readonly paced?: boolean;
}

export function createCongestionController(
  name: CongestionControlAlgorithm,
  opts: CongestionControllerOptions = {},
): CongestionController {
  switch (name) {
    case 'newreno':
      return new NewRenoController(opts);
    case 'cubic':
      return new CubicController(opts);
    default: {
      const bad: never = name;
      throw new TypeError(`unknown congestion controller ${String(bad)}`);
    }
  }
}

export { CubicController, NewRenoController };
export {
  CUBIC_ALPHA,
  CUBIC_BETA,
  CUBIC_C,
} from './cubic.js';
export { initialWindow, minimumWindow, K_LOSS_REDUCTION_FACTOR } from './newreno.js';
