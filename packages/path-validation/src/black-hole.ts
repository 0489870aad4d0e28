import { MIN_MAX_DATAGRAM_SIZE } from './constants.js';

/**
 * Black-hole detection from ordinary traffic (RFC 8899 §4.3, third method: "excessive loss of data sent with a
 * specific packet size"). A loss counts as evidence when the lost packet was larger than BASE_PLPMTU, no larger than
 * the current PLPMTU, and no packet at least as large sent after it has been acknowledged. QUIC declares a loss only
 * once a later packet is acknowledged (RFC 9002 §6.1), so each counted loss already means something smaller got
 * through. `threshold` such losses in a row, with no qualifying acknowledgment in between, mean a black hole.
 */
export class BlackHoleDetector {
  readonly #threshold: number;
  #runLength = 0;
  #runMinSize = Number.POSITIVE_INFINITY;
  #runMaxPacketNumber = -1;
  #ackedLargePacketNumber = -1;
  #ackedLargeSize = 0;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  /** Consecutive losses counted so far. */
  get lossRun(): number {
    return this.#runLength;
  }

  reset(): void {
    this.#runLength = 0;
    this.#runMinSize = Number.POSITIVE_INFINITY;
    this.#runMaxPacketNumber = -1;
    this.#ackedLargePacketNumber = -1;
    this.#ackedLargeSize = 0;
  }

  onPacketAcked(size: number, packetNumber: number): void {
    if (size <= MIN_MAX_DATAGRAM_SIZE) return;
    if (packetNumber > this.#ackedLargePacketNumber) {
      this.#ackedLargePacketNumber = packetNumber;
      this.#ackedLargeSize = size;
    }
    // A packet as large as the smallest lost one, sent after all of them, got through: the size works.
    if (this.#runLength > 0 && size >= this.#runMinSize && packetNumber > this.#runMaxPacketNumber) {
      this.#runLength = 0;
      this.#runMinSize = Number.POSITIVE_INFINITY;
      this.#runMaxPacketNumber = -1;
    }
  }

  /** Returns true when this loss completes a run of `threshold`: the current PLPMTU looks like a black hole. */
  onPacketLost(size: number, packetNumber: number, plpmtu: number): boolean {
    if (size <= MIN_MAX_DATAGRAM_SIZE || size > plpmtu) return false;
    // Congestion loss, not size: a later packet at least this large was acknowledged.
    if (this.#ackedLargePacketNumber > packetNumber && this.#ackedLargeSize >= size) return false;
    this.#runLength++;
    if (size < this.#runMinSize) this.#runMinSize = size;
    if (packetNumber > this.#runMaxPacketNumber) this.#runMaxPacketNumber = packetNumber;
    return this.#runLength >= this.#threshold;
  }
}
