import { DEFAULT_MAX_ACK_DELAY, K_GRANULARITY, K_INITIAL_RTT, VALIDATION_TIMEOUT_PTOS } from './constants.js';
import { requireInteger, requirePositiveDuration } from './errors.js';

/**
 * The PTO of a path nothing has been measured on (RFC 9002 §6.2.2 with the initial estimates of §5.3:
 * smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2), i.e. 333 + max(4 × 166.5, 1) + max_ack_delay
 * = 999 ms + max_ack_delay. Path validation runs in the application data space, so the peer's max_ack_delay
 * counts (RFC 9002 §6.2.1); pass 0 for the Initial and Handshake spaces.
 */
export function initialPto(maxAckDelay: number = DEFAULT_MAX_ACK_DELAY): number {
  requireInteger('maxAckDelay', maxAckDelay, 0);
  const smoothedRtt = K_INITIAL_RTT;
  const rttVar = K_INITIAL_RTT / 2;
  return smoothedRtt + Math.max(4 * rttVar, K_GRANULARITY) + maxAckDelay;
}

/**
 * RFC 9000 §8.2.4: path validation is abandoned after 3 × max(current PTO, PTO of the new path computed with
 * kInitialRtt), because the new path may be much slower than the one the current PTO was measured on.
 */
export function validationTimeout(pto: number, initialPtoValue: number): number {
  requirePositiveDuration('pto', pto);
  requirePositiveDuration('initialPto', initialPtoValue);
  return VALIDATION_TIMEOUT_PTOS * Math.max(pto, initialPtoValue);
}
