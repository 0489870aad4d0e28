/** Packet-number spaces (RFC 9000 §12.3). Multipath gives each path its own application space. */
export type PacketNumberSpace = 'initial' | 'handshake' | 'application';

/** ECN codepoints of the IP header (RFC 3168 §5, RFC 9000 §13.4). */
export type EcnCodepoint = 'not-ect' | 'ect0' | 'ect1' | 'ce';

/** What recovery remembers about a sent packet (RFC 9002 App. A.1.1). Times are milliseconds. */
export interface SentPacket {
  readonly packetNumber: number;
  readonly timeSent: number;
  /** Bytes on the wire (the whole UDP payload share of this packet). */
  readonly bytes: number;
  /** Contains a frame other than ACK, PADDING or CONNECTION_CLOSE (RFC 9002 §2). */
  readonly ackEliciting: boolean;
  /** Counts toward bytes in flight: ack-eliciting, or carrying PADDING (RFC 9002 §2). */
  readonly inFlight: boolean;
  /** A PMTU probe: its loss is not a congestion signal (RFC 9000 §14.4). */
  readonly isMtuProbe?: boolean;
  /** ECN codepoint in the IP header of the datagram that carried this packet (RFC 9000 §13.4); absent = not-ect. */
  readonly ecn?: EcnCodepoint;
  /** Opaque payload for the caller (frames to retransmit, stream ranges, …). */
  readonly data?: unknown;
}

/** A received ACK frame after decoding (ack delay already scaled to milliseconds by the caller). */
export interface AckInfo {
  readonly largestAcknowledged: number;
  readonly ackDelay: number;
  /** Acknowledged ranges, inclusive, in descending order (as ACK frames carry them). */
  readonly ranges: readonly { readonly smallest: number; readonly largest: number }[];
  readonly ecn?: { readonly ect0: number; readonly ect1: number; readonly ce: number };
}

/** Connection facts loss detection needs and does not own. */
export interface RecoveryContext {
  readonly isClient: boolean;
  readonly handshakeConfirmed: boolean;
  /** The peer's max_ack_delay in ms (RFC 9000 §18.2; default 25). */
  readonly maxAckDelay: number;
  /** Client only: whether the server has validated our address (RFC 9002 §6.2.2.1 anti-deadlock). */
  readonly peerCompletedAddressValidation: boolean;
  /** Whether Handshake keys are available (client anti-deadlock probes use them). */
  readonly hasHandshakeKeys: boolean;
  /** Server only: blocked by the anti-amplification limit, so no PTO is armed (RFC 9002 §6.2.2.1). */
  readonly amplificationBlocked: boolean;
}
