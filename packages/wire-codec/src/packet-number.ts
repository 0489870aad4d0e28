/**
 * Packet-number truncation and recovery (RFC 9000 §17.1, App. A.2 and A.3).
 *
 * Packet numbers are `number`s: they grow by one per packet, so 2^53 is out of reach of any connection.
 */
import { QuicEncodeError } from './errors.js';

const PN_MAX = 2 ** 62 - 1;

/**
 * Number of bytes (1..4) to encode `fullPn` so the receiver can recover it: the encoding must cover more than
 * twice the distance to the largest acknowledged packet (RFC 9000 §17.1, App. A.2). `largestAcked` is undefined
 * when nothing in this packet-number space has been acknowledged yet.
 */
export function packetNumberLength(fullPn: number, largestAcked: number | undefined): 1 | 2 | 3 | 4 {
  const unacked = largestAcked === undefined ? fullPn + 1 : fullPn - largestAcked;
  if (!(unacked > 0)) throw new QuicEncodeError(`packet number ${fullPn} is not above largest acked ${largestAcked}`);
  // bits needed = floor(log2(unacked)) + 2 (one for the value, one for the doubled range)
  const range = unacked * 2;
  if (range <= 0x100) return 1;
  if (range <= 0x1_0000) return 2;
  if (range <= 0x100_0000) return 3;
  if (range <= 0x1_0000_0000) return 4;
  throw new QuicEncodeError(`packet number ${fullPn} is too far ahead of largest acked ${largestAcked}`);
}

/** The low `length` bytes of `fullPn`, as written on the wire. */
export function truncatePacketNumber(fullPn: number, length: 1 | 2 | 3 | 4): number {
  return fullPn % 2 ** (8 * length);
}

/**
 * Recovers a full packet number from its truncated form (RFC 9000 App. A.3). `largestPn` is the largest packet
 * number successfully processed in this space, or -1 if none.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, length: number): number {
  const expected = largestPn + 1;
  const win = 2 ** (8 * length);
  const hwin = win / 2;
  // (expected & ~(win - 1)) | truncated, done arithmetically because values exceed 32 bits.
  const candidate = expected - (expected % win) + truncatedPn;
  if (candidate <= expected - hwin && candidate < PN_MAX + 1 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}
