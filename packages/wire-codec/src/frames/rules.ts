/**
 * Which frames may go in which packets, and how frames affect acknowledgement, congestion control and path
 * probing: RFC 9000 §12.4 (Table 3) and §12.5, RFC 9002 §2, RFC 9221 §4/§5, draft-ietf-quic-multipath-21.
 *
 * Everything is driven by {@link FRAME_FLAGS}, one frozen bit set per frame kind, so per-packet checks are a
 * property load and a mask each (no allocation).
 */
import { QuicEncodeError, protocolViolation } from '../errors.js';
import { frameTypeCode } from './encode.js';
import type { Frame, FrameKind } from './types.js';

/** Packet types that carry frames (RFC 9000 §12.4 Table 3 columns I, 0, H, 1). */
export type ProtectedPacketType = 'initial' | '0rtt' | 'handshake' | '1rtt';

/** Bits of {@link FRAME_FLAGS}. */
export const FrameFlag = {
  /** May appear in Initial packets (Table 3 "I"). */
  INITIAL: 0x01,
  /** May appear in 0-RTT packets (Table 3 "0"). */
  ZERO_RTT: 0x02,
  /** May appear in Handshake packets (Table 3 "H"). */
  HANDSHAKE: 0x04,
  /** May appear in 1-RTT packets (Table 3 "1"). */
  ONE_RTT: 0x08,
  /** Makes its packet ack-eliciting (RFC 9002 §2; Table 3 "N" = not). */
  ACK_ELICITING: 0x10,
  /** Makes its packet count toward bytes in flight (RFC 9002 §2: ack-eliciting or PADDING). */
  IN_FLIGHT: 0x20,
  /** Probing frame (RFC 9000 §9.1; Table 3 "P"). */
  PROBING: 0x40,
  /** Subject to flow control (Table 3 "F"). */
  FLOW_CONTROLLED: 0x80,
} as const;

/** The {@link FrameFlag} packet-type bit of each packet type. */
export const PACKET_TYPE_FLAG: Readonly<Record<ProtectedPacketType, number>> = Object.freeze({
  initial: FrameFlag.INITIAL,
  '0rtt': FrameFlag.ZERO_RTT,
  handshake: FrameFlag.HANDSHAKE,
  '1rtt': FrameFlag.ONE_RTT,
});

const I = FrameFlag.INITIAL;
const Z = FrameFlag.ZERO_RTT;
const H = FrameFlag.HANDSHAKE;
const O = FrameFlag.ONE_RTT;
/** Ordinary ack-eliciting frame: eliciting and in flight. */
const AE = FrameFlag.ACK_ELICITING | FrameFlag.IN_FLIGHT;

/**
 * Per-kind flags: allowed packet types, ack-eliciting, in flight, probing, flow-controlled.
 *
 * Deliberate readings of the specs:
 * - RETIRE_CONNECTION_ID: Table 3 lists "__01", but RFC 9000 §12.5 says it cannot be sent in 0-RTT and lets a
 *   server treat it there as PROTOCOL_VIOLATION; it is 1-RTT only here, like the other frames of that list
 *   (ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE), which Table 3 already excludes from 0-RTT.
 * - CONNECTION_CLOSE: Table 3 "ih01" — only the transport form (0x1c) is allowed in Initial/Handshake. This
 *   table is per kind, so it allows both; {@link frameAllowedInPacket} and {@link validatePacketFrames}
 *   reject the application form (0x1d) there.
 * - CONNECTION_CLOSE is neither ack-eliciting nor PADDING, so under RFC 9002 §2 it does not put its packet
 *   in flight (Table 3's "C" marks only ACK, but a CONNECTION_CLOSE-only packet is never acknowledged).
 * - DATAGRAM: 0-RTT and 1-RTT only, ack-eliciting, congestion-controlled, not flow-controlled (RFC 9221 §4, §5).
 * - Multipath frames: 1-RTT only; PATH_ACK behaves like ACK, the others are ack-eliciting
 *   (draft-ietf-quic-multipath-21, New Frames). None is a probing frame in the RFC 9000 §9.1 sense.
 */
export const FRAME_FLAGS: Readonly<Record<FrameKind, number>> = Object.freeze({
  // RFC 9000 §12.4 Table 3
  padding: I | Z | H | O | FrameFlag.IN_FLIGHT | FrameFlag.PROBING,
  ping: I | Z | H | O | AE,
  ack: I | H | O,
  reset_stream: Z | O | AE,
  stop_sending: Z | O | AE,
  crypto: I | H | O | AE,
  new_token: O | AE,
  stream: Z | O | AE | FrameFlag.FLOW_CONTROLLED,
  max_data: Z | O | AE,
  max_stream_data: Z | O | AE,
  max_streams: Z | O | AE,
  data_blocked: Z | O | AE,
  stream_data_blocked: Z | O | AE,
  streams_blocked: Z | O | AE,
  new_connection_id: Z | O | AE | FrameFlag.PROBING,
  retire_connection_id: O | AE,
  path_challenge: Z | O | AE | FrameFlag.PROBING,
  path_response: O | AE | FrameFlag.PROBING,
  connection_close: I | Z | H | O,
  handshake_done: O | AE,
  // RFC 9221 §4
  datagram: Z | O | AE,
  // draft-ietf-quic-multipath-21, New Frames: "MUST only be sent in 1-RTT packets"
  path_ack: O,
  path_abandon: O | AE,
  path_status_backup: O | AE,
  path_status_available: O | AE,
  path_new_connection_id: O | AE,
  path_retire_connection_id: O | AE,
  max_path_id: O | AE,
  paths_blocked: O | AE,
  path_cids_blocked: O | AE,
});

/**
 * Whether a frame of this kind may appear in this packet type (RFC 9000 §12.4 Table 3, plus the extensions).
 * For 'connection_close' this answers for the transport form; use {@link frameAllowedInPacket} to also
 * reject the application form in Initial/Handshake packets.
 */
export function frameAllowedIn(frameType: FrameKind, packetType: ProtectedPacketType): boolean {
  return (FRAME_FLAGS[frameType] & PACKET_TYPE_FLAG[packetType]) !== 0;
}

/** Like {@link frameAllowedIn}, for a frame value: also knows that 0x1d is application-space only. */
export function frameAllowedInPacket(frame: Frame, packetType: ProtectedPacketType): boolean {
  const packetBit = PACKET_TYPE_FLAG[packetType];
  if ((FRAME_FLAGS[frame.type] & packetBit) === 0) return false;
  // RFC 9000 §12.5: CONNECTION_CLOSE of type 0x1d only in the application data packet number space.
  return !(frame.type === 'connection_close' && frame.application && (packetBit & (I | H)) !== 0);
}

/** RFC 9002 §2: every frame except ACK, PADDING and CONNECTION_CLOSE (and PATH_ACK) elicits an ACK. */
export function isAckEliciting(frame: Frame): boolean {
  return (FRAME_FLAGS[frame.type] & FrameFlag.ACK_ELICITING) !== 0;
}

/** RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING are probing frames. */
export function isProbingFrame(frame: Frame): boolean {
  return (FRAME_FLAGS[frame.type] & FrameFlag.PROBING) !== 0;
}

/** RFC 9002 §2: a packet is in flight if it is ack-eliciting or contains PADDING. */
export function countsInFlight(frame: Frame): boolean {
  return (FRAME_FLAGS[frame.type] & FrameFlag.IN_FLIGHT) !== 0;
}

/** Bits returned by {@link validatePacketFrames}. */
export const PacketFrameSummary = {
  /** At least one ack-eliciting frame (RFC 9002 §2). */
  ACK_ELICITING: 0x1,
  /** The packet counts toward bytes in flight (RFC 9002 §2). */
  IN_FLIGHT: 0x2,
  /** At least one non-probing frame, i.e. not a probing packet (RFC 9000 §9.1). */
  NON_PROBING: 0x4,
} as const;

/**
 * Checks a decoded packet's frames against its packet type. Throws QuicCodecError(PROTOCOL_VIOLATION) for a
 * packet without frames (RFC 9000 §12.4) or with a frame its type does not allow (RFC 9000 §12.4, §12.5),
 * carrying the offending frame's type. Returns a {@link PacketFrameSummary} bit set so the caller needs no
 * second pass to know whether to acknowledge the packet or treat it as non-probing.
 */
export function validatePacketFrames(frames: readonly Frame[], packetType: ProtectedPacketType): number {
  const packetBit = PACKET_TYPE_FLAG[packetType];
  if (packetBit === undefined) throw new QuicEncodeError(`unknown packet type ${String(packetType)}`);
  const count = frames.length;
  // RFC 9000 §12.4: a packet must contain at least one frame.
  if (count === 0) throw protocolViolation(`${packetType} packet contains no frames`);
  let summary = 0;
  for (let i = 0; i < count; i++) {
    const frame = frames[i]!;
    const flags = FRAME_FLAGS[frame.type];
    if (
      (flags & packetBit) === 0 ||
      (frame.type === 'connection_close' && frame.application && (packetBit & (I | H)) !== 0)
    ) {
      throw protocolViolation(`${frame.type} frame not allowed in ${packetType} packet`, frameTypeCode(frame));
    }
    if ((flags & FrameFlag.ACK_ELICITING) !== 0) summary |= PacketFrameSummary.ACK_ELICITING;
    if ((flags & FrameFlag.IN_FLIGHT) !== 0) summary |= PacketFrameSummary.IN_FLIGHT;
    if ((flags & FrameFlag.PROBING) === 0) summary |= PacketFrameSummary.NON_PROBING;
  }
  return summary;
}
