/**
 * Receive-side acknowledgment state of one packet-number space (RFC 9000 §13.2).
 *
 * Sans-I/O: every method that depends on time takes `now` in milliseconds. The connection calls, per packet:
 * `isDuplicate(pn)` after removing packet protection (a duplicate is dropped before its frames are processed),
 * then `onPacketReceived(pn, now, ackEliciting, ecn)` once the frames were processed. It arms a timer at
 * `ackDeadline()`, builds ACK frames with `buildAckFrame(now)`, and reports `onAckSent()` when a packet carrying
 * that frame leaves and `onAckOfAckReceived(largest)` when the peer acknowledges that packet.
 */
import type { AckFrame, AckRange, EcnCounts } from '@pathquic/wire-codec';

/** Packet-number space (RFC 9000 §12.3); Initial and Handshake packets are acknowledged immediately. */
export type PacketNumberSpaceKind = 'initial' | 'handshake' | 'application';

/** The ECN codepoint of the IP header a packet arrived in (RFC 3168 §5). */
export type EcnCodepoint = 'not-ect' | 'ect0' | 'ect1' | 'ce';

/** RFC 9000 §18.2: max_ack_delay default, in milliseconds. */
export const DEFAULT_MAX_ACK_DELAY_MS = 25;
/** RFC 9000 §18.2: ack_delay_exponent default. */
export const DEFAULT_ACK_DELAY_EXPONENT = 3;
/** RFC 9000 §18.2: ack_delay_exponent values above 20 are invalid. */
const MAX_ACK_DELAY_EXPONENT = 20;
/** RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet. */
export const DEFAULT_ACK_ELICITING_THRESHOLD = 2;
/** Ranges kept per space (RFC 9000 §13.2.3 lets a receiver bound them). */
export const DEFAULT_MAX_ACK_RANGES = 64;

export interface ReceivedPacketTrackerOptions {
  space: PacketNumberSpaceKind;
  /** Our max_ack_delay transport parameter in ms (RFC 9000 §18.2). Ignored for Initial/Handshake. */
  maxAckDelay?: number;
  /** Our ack_delay_exponent transport parameter (RFC 9000 §18.2), used to encode ACK Delay. */
  ackDelayExponent?: number;
  /** Ack-eliciting packets that trigger an immediate ACK (RFC 9000 §13.2.2 recommends 2). */
  ackElicitingThreshold?: number;
  /** Most ranges remembered; beyond it the oldest (lowest) are forgotten (RFC 9000 §13.2.3). */
  maxRanges?: number;
}

/** Raised for invalid arguments or configuration (programmer errors, never network input). */
export class AckTrackerConfigError extends TypeError {
  override readonly name = 'AckTrackerConfigError';
}

/** Inclusive range stored in ascending order; mutable so merges do not allocate. */
interface StoredRange {
  smallest: number;
  largest: number;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AckTrackerConfigError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export class ReceivedPacketTracker {
  readonly space: PacketNumberSpaceKind;
  readonly maxAckDelay: number;
  readonly ackDelayExponent: number;
  readonly ackElicitingThreshold: number;
  readonly maxRanges: number;

  /** Received packet numbers, ascending, non-overlapping and non-adjacent. */
  private ranges: StoredRange[] = [];
  /**
   * Packets below this are treated as duplicates: their ranges were forgotten, so a repeat could not be told
   * from a first arrival (RFC 9000 §13.2.3: "a minimum packet number that increases as ranges are discarded").
   */
  private duplicateFloor = 0;
  /** Packets at or below this need no more acknowledging: the peer saw an ACK covering them (RFC 9000 §13.2.4). */
  private ackedFloor = -1;
  private largestPn = -1;
  private largestTime = 0;
  private largestAckElicitingPn = -1;
  private ackElicitingUnacked = 0;
  /** Something arrived since the last ACK was sent (ack-eliciting or not). */
  private newSinceAck = false;
  private deadline: number | undefined = undefined;
  private readonly ecnCounts: EcnCounts = { ect0: 0, ect1: 0, ce: 0 };

  constructor(options: ReceivedPacketTrackerOptions) {
    this.space = options.space;
    this.maxAckDelay = checkInteger('maxAckDelay', options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY_MS, 0, 2 ** 14 - 1);
    this.ackDelayExponent = checkInteger(
      'ackDelayExponent',
      options.ackDelayExponent ?? DEFAULT_ACK_DELAY_EXPONENT,
      0,
      MAX_ACK_DELAY_EXPONENT,
    );
    this.ackElicitingThreshold = checkInteger(
      'ackElicitingThreshold',
      options.ackElicitingThreshold ?? DEFAULT_ACK_ELICITING_THRESHOLD,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.maxRanges = checkInteger('maxRanges', options.maxRanges ?? DEFAULT_MAX_ACK_RANGES, 1, 1 << 20);
  }

  /** Largest packet number received, or -1; kept even when ranges are dropped (RFC 9000 §13.2.3, §17.1). */
  get largestReceived(): number {
    return this.largestPn;
  }

  /** When the largest packet number was received (ms), meaningful once `largestReceived >= 0`. */
  get largestReceivedTime(): number {
    return this.largestTime;
  }

  /** Number of ranges currently remembered. */
  get rangeCount(): number {
    return this.ranges.length;
  }

  /** ECN counts of this space (RFC 9000 §13.4.1); a copy. */
  get ecn(): EcnCounts {
    return { ...this.ecnCounts };
  }

  /** Ack-eliciting packets received since the last ACK was sent. */
  get ackElicitingSinceAck(): number {
    return this.ackElicitingUnacked;
  }

  /** Whether an ACK frame would acknowledge something not yet acknowledged (to piggyback on outgoing packets). */
  get hasNewPackets(): boolean {
    return this.newSinceAck;
  }

  /**
   * Whether `pn` must be dropped as a duplicate (RFC 9000 §12.3: a repeated packet number is a duplicate).
   * Packets below the forgotten ranges also count as duplicates (see `duplicateFloor`), and so do packets that
   * would open a new lowest range when all `maxRanges` are in use: they could never be acknowledged.
   */
  isDuplicate(pn: number): boolean {
    if (pn < this.duplicateFloor) return true;
    // With every range slot taken, a packet that would open a new lowest range would be forgotten at once.
    const lowest = this.ranges[0];
    if (this.ranges.length >= this.maxRanges && lowest !== undefined && pn < lowest.smallest - 1) return true;
    return this.indexContaining(pn) >= 0;
  }

  /**
   * Records an authenticated, processed packet. Returns false (and changes nothing) for a duplicate.
   * `ackEliciting`: the packet held a frame other than ACK, PADDING or CONNECTION_CLOSE (RFC 9000 §13.2).
   */
  onPacketReceived(pn: number, now: number, ackEliciting: boolean, ecn: EcnCodepoint = 'not-ect'): boolean {
    if (!Number.isSafeInteger(pn) || pn < 0) throw new AckTrackerConfigError(`invalid packet number ${pn}`);
    if (this.isDuplicate(pn)) return false;
    const range = this.insert(pn);
    if (pn > this.largestPn) {
      this.largestPn = pn;
      this.largestTime = now;
    }
    // RFC 9000 §13.2.4: a late packet below what the peer saw acknowledged must be acknowledged again.
    if (pn <= this.ackedFloor) this.ackedFloor = pn - 1;
    // RFC 9000 §13.4.1: duplicates (returned above) do not change the counts.
    if (ecn !== 'not-ect') this.ecnCounts[ecn] += 1;
    this.newSinceAck = true;
    if (!ackEliciting) return true;

    // RFC 9000 §13.2.1: acknowledge immediately a packet below another ack-eliciting one, or one above the
    // largest ack-eliciting packet with missing packets in between; the range holding pn shows the gap.
    const outOfOrder =
      this.largestAckElicitingPn >= 0 &&
      (pn < this.largestAckElicitingPn || range.smallest > this.largestAckElicitingPn + 1);
    if (pn > this.largestAckElicitingPn) this.largestAckElicitingPn = pn;
    this.ackElicitingUnacked += 1;

    const immediate =
      this.space !== 'application' || // RFC 9000 §13.2.1: Initial and Handshake are acknowledged immediately
      outOfOrder ||
      ecn === 'ce' || // RFC 9000 §13.2.1: CE-marked packets SHOULD be acknowledged immediately
      this.ackElicitingUnacked >= this.ackElicitingThreshold; // RFC 9000 §13.2.2
    const due = immediate ? now : now + this.maxAckDelay; // RFC 9000 §13.2.1: within max_ack_delay
    this.deadline = this.deadline === undefined ? due : Math.min(this.deadline, due);
    return true;
  }

  /** When an ACK must be sent (ms), or undefined when no ack-eliciting packet awaits one. */
  ackDeadline(): number | undefined {
    return this.deadline;
  }

  /** Whether an ACK is due at `now`. */
  shouldSendAck(now: number): boolean {
    return this.deadline !== undefined && now >= this.deadline;
  }

  /**
   * The ACK frame for the current state, or undefined when there is nothing left to acknowledge.
   * `maxRanges` caps the frame's ranges (the highest are kept) so it fits the packet.
   * Building does not change state; call `onAckSent` when the packet carrying it is sent.
   */
  buildAckFrame(now: number, maxRanges = this.maxRanges): AckFrame | undefined {
    if (this.largestPn <= this.ackedFloor) return undefined;
    const ranges: AckRange[] = [];
    for (let i = this.ranges.length - 1; i >= 0 && ranges.length < maxRanges; i--) {
      const r = this.ranges[i];
      if (r === undefined || r.largest <= this.ackedFloor) break;
      ranges.push({ largest: r.largest, smallest: Math.max(r.smallest, this.ackedFloor + 1) });
    }
    if (ranges.length === 0) return undefined;
    const frame: AckFrame = {
      type: 'ack',
      largestAcknowledged: this.largestPn,
      ackDelay: this.encodeAckDelay(now),
      ranges,
    };
    const e = this.ecnCounts;
    // RFC 9000 §19.3.2: ECN counts are sent (type 0x03) once any codepoint was seen.
    if (e.ect0 + e.ect1 + e.ce > 0) frame.ecn = { ...e };
    return frame;
  }

  /** The packet carrying an ACK frame was sent: the pending ACK is satisfied (RFC 9000 §13.2.1). */
  onAckSent(): void {
    this.ackElicitingUnacked = 0;
    this.newSinceAck = false;
    this.deadline = undefined;
  }

  /**
   * The peer acknowledged a packet carrying our ACK frame whose Largest Acknowledged was `largestAcknowledged`:
   * packets up to it need not be acknowledged again (RFC 9000 §13.2.4), keeping later ACK frames small.
   * The ranges are kept for duplicate detection.
   */
  onAckOfAckReceived(largestAcknowledged: number): void {
    if (largestAcknowledged > this.ackedFloor) this.ackedFloor = Math.min(largestAcknowledged, this.largestPn);
  }

  /** RFC 9000 §13.2.5, §19.3: time since the largest was received, in units of 2^ack_delay_exponent µs. */
  private encodeAckDelay(now: number): number {
    // RFC 9002 §5.3: the peer ignores ACK Delay in Initial and Handshake ACKs (and cannot yet know our exponent).
    if (this.space !== 'application') return 0;
    const micros = Math.max(0, now - this.largestTime) * 1000;
    return Math.floor(micros / 2 ** this.ackDelayExponent);
  }

  /** Index of the range holding pn, or -1. */
  private indexContaining(pn: number): number {
    const i = this.lowerBound(pn);
    const r = this.ranges[i];
    return r !== undefined && r.smallest <= pn ? i : -1;
  }

  /** First index whose range has largest >= pn (ranges.length if none). */
  private lowerBound(pn: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    // Most packets extend the top range: check it before searching.
    const top = this.ranges[hi - 1];
    if (top === undefined || top.largest < pn) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as StoredRange).largest < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds a packet number known not to be present; returns the range now holding it. */
  private insert(pn: number): StoredRange {
    const i = this.lowerBound(pn);
    const below = this.ranges[i - 1];
    const above = this.ranges[i];
    const joinsBelow = below !== undefined && below.largest + 1 === pn;
    const joinsAbove = above !== undefined && above.smallest - 1 === pn;
    if (joinsBelow && joinsAbove) {
      below.largest = above.largest;
      this.ranges.splice(i, 1);
      return below;
    }
    if (joinsBelow) {
      below.largest = pn;
      return below;
    }
    if (joinsAbove) {
      above.smallest = pn;
      return above;
    }
    const range: StoredRange = { smallest: pn, largest: pn };
    if (i === this.ranges.length) this.ranges.push(range);
    else this.ranges.splice(i, 0, range);
    if (this.ranges.length > this.maxRanges) {
      // RFC 9000 §13.2.3: forget the oldest ranges and raise the floor so their packets stay duplicates.
      const excess = this.ranges.length - this.maxRanges;
      this.ranges.splice(0, excess);
      this.duplicateFloor = (this.ranges[0] as StoredRange).smallest;
    }
    return range;
  }
}
