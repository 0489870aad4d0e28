/**
 * ECN validation (RFC 9000 §13.4.2, sample algorithm in RFC 9000 App. A.4). One validator per network path; ECN
 * counts themselves are kept per packet-number space (RFC 9000 §13.4.1), so every call names the space.
 */
import type { EcnCodepoint, PacketNumberSpace } from './types.js';

/** RFC 9000 §13.4.2: mark "the first ten outgoing packets on a path, or for a period of three PTOs". */
export const ECN_TESTING_PACKETS = 10;
export const ECN_TESTING_PTOS = 3;

/** RFC 9000 App. A.4 states. */
export type EcnValidationState = 'testing' | 'unknown' | 'capable' | 'failed';

/** Why validation failed (for logs/qlog). */
export type EcnFailureReason =
  | 'missing-counts' // §13.4.2.1: ECT packets newly acked, ACK without ECN counts
  | 'decreased' // a cumulative count went down
  | 'remarked' // §13.4.2.1: increase of ECT(x) + CE below the newly acked ECT(x) packets
  | 'exceeds-sent' // §13.4.2.1: a total count exceeds the packets sent with that codepoint
  | 'all-lost' // App. A.4: every marked packet was declared lost
  | 'all-ce' // App. A.4: every marked packet that arrived was CE-marked
  | 'disabled'; // the caller turned ECN off

/** The three counters of an ACK_ECN frame (RFC 9000 §19.3.2). */
export interface EcnCounts {
  readonly ect0: number;
  readonly ect1: number;
  readonly ce: number;
}

/** What an ACK newly acknowledged, as far as ECN cares. */
export interface EcnAckInput {
  /** Newly acknowledged packets that were sent with ECT(0). */
  readonly newlyAckedEct0: number;
  /** Newly acknowledged packets that were sent with ECT(1). */
  readonly newlyAckedEct1: number;
  /** Whether this ACK raised the space's largest acknowledged packet number (reordered ACKs never fail). */
  readonly largestAckedIncreased: boolean;
}

export interface EcnAckOutcome {
  /** The validated CE count went up: a congestion event (RFC 9002 §7.1). Always false once validation failed. */
  readonly ceIncreased: boolean;
  /** By how much the CE count went up (0 when not validated). */
  readonly ceDelta: number;
  /** This ACK made validation fail (ECN is now off: send not-ect). */
  readonly failed: boolean;
  readonly state: EcnValidationState;
}

export interface EcnValidatorOptions {
  /** Packets marked during the testing period (default 10). */
  testingPackets?: number;
  /** Testing period limit in PTOs (default 3). */
  testingPtos?: number;
  /** Codepoint to mark with (default 'ect0'). */
  codepoint?: 'ect0' | 'ect1';
  /** false: start in 'failed' (ECN off) until `restart()`. Default true. */
  enabled?: boolean;
}

interface SpaceCounts {
  sentEct0: number;
  sentEct1: number;
  /** Counts of the last successfully processed ACK frame (§13.4.2.1). */
  last: EcnCounts;
}

const ZERO: EcnCounts = { ect0: 0, ect1: 0, ce: 0 };

function requireCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be an integer >= 0, got ${String(n)}`);
}

export class EcnValidator {
  readonly testingPackets: number;
  readonly testingPtos: number;
  readonly codepoint: 'ect0' | 'ect1';
  #state: EcnValidationState;
  #failureReason: EcnFailureReason | undefined;
  #spaces: Record<PacketNumberSpace, SpaceCounts> = {
    initial: { sentEct0: 0, sentEct1: 0, last: ZERO },
    handshake: { sentEct0: 0, sentEct1: 0, last: ZERO },
    application: { sentEct0: 0, sentEct1: 0, last: ZERO },
  };
  // The current validation round (since construction or restart()).
  #testingStart: number | undefined;
  #testingSent = 0;
  #markedSent = 0;
  #markedAcked = 0;
  #markedLost = 0;
  #baselineEct = 0;
  #baselineCe = 0;

  constructor(options: EcnValidatorOptions = {}) {
    this.testingPackets = options.testingPackets ?? ECN_TESTING_PACKETS;
    this.testingPtos = options.testingPtos ?? ECN_TESTING_PTOS;
    this.codepoint = options.codepoint ?? 'ect0';
    requireCount('testingPackets', this.testingPackets);
    if (!(this.testingPtos >= 0)) throw new RangeError('testingPtos must be >= 0');
    const enabled = options.enabled ?? true;
    this.#state = enabled ? 'testing' : 'failed';
    this.#failureReason = enabled ? undefined : 'disabled';
  }

  get state(): EcnValidationState {
    return this.#state;
  }

  get failureReason(): EcnFailureReason | undefined {
    return this.#failureReason;
  }

  /** Marked packets sent / acked / lost in the current validation round. */
  get roundStats(): { readonly sent: number; readonly acked: number; readonly lost: number } {
    return { sent: this.#markedSent, acked: this.#markedAcked, lost: this.#markedLost };
  }

  /** Counts of the last ACK frame accepted in `space` (the baseline the next ACK is compared with). */
  lastCounts(space: PacketNumberSpace): EcnCounts {
    return this.#spaces[space].last;
  }

  /** Packets sent in `space` with ECT(0) / ECT(1) so far. */
  sentCounts(space: PacketNumberSpace): { readonly ect0: number; readonly ect1: number } {
    const s = this.#spaces[space];
    return { ect0: s.sentEct0, ect1: s.sentEct1 };
  }

  /**
   * The codepoint for the next packet (App. A.4: ECT in 'testing' and 'capable', not-ect otherwise). Ends the testing
   * period once `testingPackets` were marked or `testingPtos` × `pto` ms passed since the first marked packet
   * (RFC 9000 §13.4.2); pass the current PTO period so the time limit applies.
   */
  marking(now: number, pto?: number): 'ect0' | 'ect1' | 'not-ect' {
    if (this.#state === 'testing') {
      const timeUp =
        this.#testingStart !== undefined && pto !== undefined && now - this.#testingStart >= this.testingPtos * pto;
      if (timeUp || this.#testingSent >= this.testingPackets) this.#enterUnknown();
    }
    return this.#state === 'testing' || this.#state === 'capable' ? this.codepoint : 'not-ect';
  }

  /** Records a sent packet and the codepoint it carried (call for every packet, marked or not). */
  onPacketSent(space: PacketNumberSpace, codepoint: EcnCodepoint | undefined, now: number): void {
    const s = this.#spaces[space];
    if (codepoint === 'ect0') s.sentEct0 += 1;
    else if (codepoint === 'ect1') s.sentEct1 += 1;
    else return;
    this.#markedSent += 1;
    if (this.#state === 'testing') {
      this.#testingStart ??= now;
      this.#testingSent += 1;
      if (this.#testingSent >= this.testingPackets) this.#enterUnknown();
    }
  }

  /**
   * Validates the ECN counts of an ACK frame that newly acknowledged packets (RFC 9000 §13.4.2.1). `counts` is
   * undefined for an ACK frame without ECN counts (type 0x02).
   */
  onAckEcnCounts(
    space: PacketNumberSpace,
    input: EcnAckInput,
    counts: EcnCounts | undefined,
    _now: number,
  ): EcnAckOutcome {
    requireCount('newlyAckedEct0', input.newlyAckedEct0);
    requireCount('newlyAckedEct1', input.newlyAckedEct1);
    const s = this.#spaces[space];
    const newlyMarked = input.newlyAckedEct0 + input.newlyAckedEct1;
    const ignored = (): EcnAckOutcome => ({ ceIncreased: false, ceDelta: 0, failed: false, state: this.#state });
    if (counts !== undefined) {
      requireCount('ect0', counts.ect0);
      requireCount('ect1', counts.ect1);
      requireCount('ce', counts.ce);
    }

    if (this.#state === 'failed') {
      // ECN is off; keep the baseline current so that a later restart() compares against fresh counts.
      if (counts !== undefined && counts.ect0 >= s.last.ect0 && counts.ect1 >= s.last.ect1 && counts.ce >= s.last.ce) {
        s.last = { ...counts };
      }
      return ignored();
    }

    if (counts === undefined) {
      // §13.4.2.1: newly acked ECT packets and no counts. Never fail on a reordered ACK.
      if (newlyMarked > 0 && input.largestAckedIncreased) return this.#fail('missing-counts');
      return ignored();
    }

    const d0 = counts.ect0 - s.last.ect0;
    const d1 = counts.ect1 - s.last.ect1;
    const dCe = counts.ce - s.last.ce;
    let reason: EcnFailureReason | undefined;
    if (d0 < 0 || d1 < 0 || dCe < 0) reason = 'decreased';
    else if (d0 + dCe < input.newlyAckedEct0 || d1 + dCe < input.newlyAckedEct1) reason = 'remarked';
    else if (counts.ect0 > s.sentEct0 || counts.ect1 > s.sentEct1) reason = 'exceeds-sent';
    if (reason !== undefined) {
      // §13.4.2.1: MUST NOT fail on an ACK that does not increase the largest acknowledged; just skip it.
      return input.largestAckedIncreased ? this.#fail(reason) : ignored();
    }

    s.last = { ...counts };
    this.#markedAcked += newlyMarked;
    if (this.#state === 'unknown' && this.#markedAcked > 0) {
      // App. A.4: unknown → capable on a validated ACK, unless no marked packet was acknowledged; a path that turned
      // every marked packet into CE "can" be marked failed.
      const { ect, ce } = this.#totals();
      if (ect - this.#baselineEct === 0 && ce - this.#baselineCe > 0) return this.#fail('all-ce');
      this.#state = 'capable';
    }
    return { ceIncreased: dCe > 0, ceDelta: dCe, failed: false, state: this.#state };
  }

  /** Marked packets declared lost (App. A.4: all marked packets lost ⇒ failed). */
  onPacketsLost(lostEct0: number, lostEct1: number): void {
    requireCount('lostEct0', lostEct0);
    requireCount('lostEct1', lostEct1);
    this.#markedLost += lostEct0 + lostEct1;
    this.#checkAllLost();
  }

  /** Starts a new validation round (new path, migration, or a periodic retry after failure — RFC 9000 §13.4.2.2). */
  restart(): void {
    this.#state = 'testing';
    this.#failureReason = undefined;
    this.#testingStart = undefined;
    this.#testingSent = 0;
    this.#markedSent = 0;
    this.#markedAcked = 0;
    this.#markedLost = 0;
    const { ect, ce } = this.#totals();
    this.#baselineEct = ect;
    this.#baselineCe = ce;
  }

  /** Turns ECN off (state 'failed', reason 'disabled'). */
  disable(): void {
    this.#state = 'failed';
    this.#failureReason = 'disabled';
  }

  #totals(): { ect: number; ce: number } {
    let ect = 0;
    let ce = 0;
    for (const s of Object.values(this.#spaces)) {
      ect += s.last.ect0 + s.last.ect1;
      ce += s.last.ce;
    }
    return { ect, ce };
  }

  #enterUnknown(): void {
    this.#state = 'unknown';
    this.#checkAllLost();
  }

  #checkAllLost(): void {
    if (this.#state !== 'unknown') return;
    if (this.#markedSent > 0 && this.#markedAcked === 0 && this.#markedLost >= this.#markedSent) {
      this.#state = 'failed';
      this.#failureReason = 'all-lost';
    }
  }

  #fail(reason: EcnFailureReason): EcnAckOutcome {
    this.#state = 'failed';
    this.#failureReason = reason;
    return { ceIncreased: false, ceDelta: 0, failed: true, state: this.#state };
  }
}
