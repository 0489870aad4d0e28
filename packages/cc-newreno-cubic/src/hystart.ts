/**
 * HyStart++ (RFC 9406): delay-based slow-start exit with Conservative Slow Start (CSS).
 *
 * A small state machine that a controller consults while it is in its *initial* slow start (RFC 9406 §4.3:
 * "SHOULD use HyStart++ only for the initial slow start"). It never touches cwnd itself: `onAck` returns the
 * increment to apply and raises `exitRequested` once CSS has lasted CSS_ROUNDS rounds.
 *
 * Rounds are tracked with packet numbers (RFC 9406 §4.2, windowEnd = SND.NXT): a round starts with
 * `windowEnd` = the next packet number to be sent and ends when a packet numbered `windowEnd` or later (so a
 * packet sent after the round start) is acknowledged. RTTs are in milliseconds.
 */

/** RFC 9406 §4.3 constants (RTT thresholds in ms). */
export const HYSTART_MIN_RTT_THRESH = 4;
export const HYSTART_MAX_RTT_THRESH = 16;
export const HYSTART_MIN_RTT_DIVISOR = 8;
export const HYSTART_N_RTT_SAMPLE = 8;
export const HYSTART_CSS_GROWTH_DIVISOR = 4;
export const HYSTART_CSS_ROUNDS = 5;
/** L for a sender that does not pace (RFC 9406 §4.3); a paced sender uses L = infinity. */
export const HYSTART_UNPACED_L = 8;

/** RttThresh = clamp(lastRoundMinRTT / MIN_RTT_DIVISOR, MIN_RTT_THRESH, MAX_RTT_THRESH) (RFC 9406 §4.2). */
export function hystartRttThreshold(lastRoundMinRtt: number): number {
  return Math.max(
    HYSTART_MIN_RTT_THRESH,
    Math.min(lastRoundMinRtt / HYSTART_MIN_RTT_DIVISOR, HYSTART_MAX_RTT_THRESH),
  );
}

export class HyStart {
  /** Cap on the bytes of one ACK applied to cwnd, in segments (RFC 9406 §4.2 `L`). */
  readonly l: number;
  /** Minimum RTT of the previous round (ms); Infinity until a round with samples has ended. */
  lastRoundMinRtt = Infinity;
  /** Minimum RTT of the current round (ms). */
  currentRoundMinRtt = Infinity;
  /** RTT samples taken in the current round. */
  rttSampleCount = 0;
  /** First packet number of the current round; undefined until the first packet is sent. */
  windowEnd: number | undefined = undefined;
  /** Baseline minimum RTT captured on CSS entry (ms); Infinity outside CSS. */
  cssBaselineMinRtt = Infinity;
  /** Whether Conservative Slow Start is active. */
  inCss = false;
  /** Rounds completed (ended) while in CSS, counting the round in which CSS was entered. */
  cssRound = 0;
  /** Set when CSS_ROUNDS rounds of CSS have completed: the controller must enter congestion avoidance. */
  exitRequested = false;
  /** Largest packet number sent so far (-1 before any). */
  private largestSent = -1;

  constructor(paced: boolean) {
    // RFC 9406 §4.3: a paced sender SHOULD use L = infinity, otherwise L = 8.
    this.l = paced ? Infinity : HYSTART_UNPACED_L;
  }

  /** Record a sent packet number; the very first one starts the first round. */
  onPacketSent(packetNumber: number): void {
    if (packetNumber > this.largestSent) this.largestSent = packetNumber;
    if (this.windowEnd === undefined) this.startRound(packetNumber);
  }

  /**
   * Process one ACK received in slow start.
   * @param ackedBytes newly acknowledged bytes eligible for growth (N; 0 when application-limited)
   * @param largestAckedPacketNumber largest packet number newly acknowledged by this ACK
   * @param rttSample the latest RTT sample in ms, or undefined if none exists yet
   * @param maxDatagramSize SMSS in bytes
   * @returns the cwnd increment in bytes
   */
  onAck(
    ackedBytes: number,
    largestAckedPacketNumber: number,
    rttSample: number | undefined,
    maxDatagramSize: number,
  ): number {
    // §4.2: cwnd += min(N, L*SMSS), divided by CSS_GROWTH_DIVISOR in CSS.
    let increment = Math.min(ackedBytes, this.l * maxDatagramSize);
    if (this.inCss) increment /= HYSTART_CSS_GROWTH_DIVISOR;

    if (rttSample !== undefined) {
      if (rttSample < this.currentRoundMinRtt) this.currentRoundMinRtt = rttSample;
      this.rttSampleCount++;
    }

    if (this.rttSampleCount >= HYSTART_N_RTT_SAMPLE) {
      if (!this.inCss) {
        // §4.2: delay increase ⇒ enter CSS.
        if (this.currentRoundMinRtt !== Infinity && this.lastRoundMinRtt !== Infinity) {
          const thresh = hystartRttThreshold(this.lastRoundMinRtt);
          if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
            this.cssBaselineMinRtt = this.currentRoundMinRtt;
            this.inCss = true;
            this.cssRound = 0;
          }
        }
      } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
        // §4.2: the RTT went back down: the CSS entry was spurious, resume slow start.
        this.cssBaselineMinRtt = Infinity;
        this.inCss = false;
        this.cssRound = 0;
      }
    }

    // Round end: a packet sent after the round started has been acknowledged.
    if (this.windowEnd !== undefined && largestAckedPacketNumber >= this.windowEnd) {
      if (this.inCss) {
        this.cssRound++;
        // §4.2: after CSS_ROUNDS rounds in CSS, enter congestion avoidance (ssthresh = cwnd).
        if (this.cssRound >= HYSTART_CSS_ROUNDS) this.exitRequested = true;
      }
      this.startRound(this.largestSent + 1);
    }
    return increment;
  }

  /** Forget everything (e.g. to run HyStart++ again after an idle restart, RFC 9406 §4.3 MAY). */
  reset(): void {
    this.lastRoundMinRtt = Infinity;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.windowEnd = undefined;
    this.cssBaselineMinRtt = Infinity;
    this.inCss = false;
    this.cssRound = 0;
    this.exitRequested = false;
  }

  // §4.2: at the start of each round, lastRoundMinRTT = currentRoundMinRTT, reset the current round.
  private startRound(windowEnd: number): void {
    this.lastRoundMinRtt = this.currentRoundMinRtt;
    this.currentRoundMinRtt = Infinity;
    this.rttSampleCount = 0;
    this.windowEnd = windowEnd;
  }
}
