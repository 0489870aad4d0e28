/**
 * QUIC frame codepoints and the decoded frame model.
 *
 * Covered: every frame of RFC 9000 §19, DATAGRAM (RFC 9221 §4) and the frames of
 * draft-ietf-quic-multipath-21 ("New Frames" section) with that draft's (suggested permanent) codepoints.
 *
 * Representation rules, shared by the decoder and the encoder:
 * - Numeric fields are `number`. Fields that are limits, offsets, counts, sequence numbers or packet numbers
 *   are decoded with saturation: a value above 2^53-1 becomes `Number.MAX_SAFE_INTEGER` (see varint.ts for
 *   why that still produces the right error in the layer that checks the value).
 * - Stream IDs above 2^53-1 saturate to `STREAM_ID_SATURATED_BASE + (id & 3)`, i.e. to the largest safe stream
 *   ID of the same type, so the initiator and direction bits (RFC 9000 §2.1) survive: the stream layer still
 *   classifies the frame correctly and rejects it as beyond every stream limit.
 * - Application and transport error codes, and CONNECTION_CLOSE's Frame Type field, are exact:
 *   `number` up to 2^53-1, `bigint` above.
 * - Byte fields (`data`, `token`, `connectionId`, `statelessResetToken`, `reason`) of decoded frames are
 *   `subarray` views of the decoded payload, not copies: they alias the datagram buffer, so a caller that
 *   keeps one beyond the buffer's lifetime (or reuses the buffer) must copy it.
 */

/** Frame type codepoints. */
export const FrameType = {
  /** RFC 9000 §19.1 */
  PADDING: 0x00,
  /** RFC 9000 §19.2 */
  PING: 0x01,
  /** RFC 9000 §19.3 */
  ACK: 0x02,
  /** RFC 9000 §19.3 (ACK carrying ECN counts, §19.3.2) */
  ACK_ECN: 0x03,
  /** RFC 9000 §19.4 */
  RESET_STREAM: 0x04,
  /** RFC 9000 §19.5 */
  STOP_SENDING: 0x05,
  /** RFC 9000 §19.6 */
  CRYPTO: 0x06,
  /** RFC 9000 §19.7 */
  NEW_TOKEN: 0x07,
  /** RFC 9000 §19.8: STREAM types are 0x08..0x0f, low three bits are OFF/LEN/FIN (see StreamFrameBit). */
  STREAM: 0x08,
  /** RFC 9000 §19.8: highest STREAM type (all three flag bits set). */
  STREAM_MAX: 0x0f,
  /** RFC 9000 §19.9 */
  MAX_DATA: 0x10,
  /** RFC 9000 §19.10 */
  MAX_STREAM_DATA: 0x11,
  /** RFC 9000 §19.11 */
  MAX_STREAMS_BIDI: 0x12,
  /** RFC 9000 §19.11 */
  MAX_STREAMS_UNI: 0x13,
  /** RFC 9000 §19.12 */
  DATA_BLOCKED: 0x14,
  /** RFC 9000 §19.13 */
  STREAM_DATA_BLOCKED: 0x15,
  /** RFC 9000 §19.14 */
  STREAMS_BLOCKED_BIDI: 0x16,
  /** RFC 9000 §19.14 */
  STREAMS_BLOCKED_UNI: 0x17,
  /** RFC 9000 §19.15 */
  NEW_CONNECTION_ID: 0x18,
  /** RFC 9000 §19.16 */
  RETIRE_CONNECTION_ID: 0x19,
  /** RFC 9000 §19.17 */
  PATH_CHALLENGE: 0x1a,
  /** RFC 9000 §19.18 */
  PATH_RESPONSE: 0x1b,
  /** RFC 9000 §19.19: transport form (carries a Frame Type field). */
  CONNECTION_CLOSE: 0x1c,
  /** RFC 9000 §19.19: application form. */
  CONNECTION_CLOSE_APPLICATION: 0x1d,
  /** RFC 9000 §19.20 */
  HANDSHAKE_DONE: 0x1e,
  /** RFC 9221 §4: DATAGRAM without Length (runs to the end of the packet). */
  DATAGRAM: 0x30,
  /** RFC 9221 §4: DATAGRAM with Length. */
  DATAGRAM_WITH_LENGTH: 0x31,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_ACK) */
  PATH_ACK: 0x3e,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_ACK with ECN counts) */
  PATH_ACK_ECN: 0x3f,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_ABANDON) */
  PATH_ABANDON: 0x3e75,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_BACKUP) */
  PATH_STATUS_BACKUP: 0x3e76,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_AVAILABLE) */
  PATH_STATUS_AVAILABLE: 0x3e77,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_NEW_CONNECTION_ID) */
  PATH_NEW_CONNECTION_ID: 0x3e78,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_RETIRE_CONNECTION_ID) */
  PATH_RETIRE_CONNECTION_ID: 0x3e79,
  /** draft-ietf-quic-multipath-21 "New Frames" (MAX_PATH_ID) */
  MAX_PATH_ID: 0x3e7a,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATHS_BLOCKED) */
  PATHS_BLOCKED: 0x3e7b,
  /** draft-ietf-quic-multipath-21 "New Frames" (PATH_CIDS_BLOCKED) */
  PATH_CIDS_BLOCKED: 0x3e7c,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits in the STREAM frame type (RFC 9000 §19.8). */
export const StreamFrameBit = {
  FIN: 0x01,
  LEN: 0x02,
  OFF: 0x04,
} as const;

/** LEN bit of the DATAGRAM frame type (RFC 9221 §4). */
export const DATAGRAM_LEN_BIT = 0x01;

/** Fixed sizes and bounds of frame fields. */
export const FrameLimits = {
  /** Connection ID length in NEW_CONNECTION_ID: 1..20 (RFC 9000 §19.15). */
  MIN_NEW_CONNECTION_ID_LENGTH: 1,
  MAX_CONNECTION_ID_LENGTH: 20,
  /** Stateless Reset Token (RFC 9000 §19.15, §10.3). */
  STATELESS_RESET_TOKEN_LENGTH: 16,
  /** PATH_CHALLENGE / PATH_RESPONSE data (RFC 9000 §19.17, §19.18). */
  PATH_CHALLENGE_DATA_LENGTH: 8,
  /** MAX_STREAMS / STREAMS_BLOCKED cannot exceed 2^60 (RFC 9000 §19.11, §19.14). Exact as a double. */
  MAX_STREAMS: 2 ** 60,
} as const;

/**
 * Largest safe stream ID whose low two bits are 0 (2^53-4): a stream ID above 2^53-1 decodes as this plus its
 * two type bits (RFC 9000 §2.1), see the module comment.
 */
export const STREAM_ID_SATURATED_BASE = Number.MAX_SAFE_INTEGER - 3;

/** One acknowledged range, inclusive on both ends: `largest >= smallest`. */
export interface AckRange {
  largest: number;
  smallest: number;
}

/** ECN counts of an ACK_ECN / PATH_ACK_ECN frame (RFC 9000 §19.3.2). */
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

/**
 * Fields shared by ACK and PATH_ACK. `ranges` are in descending order, non-overlapping and non-adjacent
 * (a gap of at least one packet number between them), and `ranges[0].largest === largestAcknowledged`.
 * `ackDelay` is the raw field: multiplying by 2^ack_delay_exponent (RFC 9000 §19.3) is the caller's job.
 */
export interface AckFields {
  largestAcknowledged: number;
  ackDelay: number;
  ranges: AckRange[];
  ecn?: EcnCounts;
}

/** Fields shared by NEW_CONNECTION_ID and PATH_NEW_CONNECTION_ID (RFC 9000 §19.15). */
export interface NewConnectionIdFields {
  sequenceNumber: number;
  retirePriorTo: number;
  /** 1..20 bytes. */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** One or more consecutive PADDING bytes (RFC 9000 §19.1), folded into one frame. */
export interface PaddingFrame {
  type: 'padding';
  length: number;
}

/** RFC 9000 §19.2 */
export interface PingFrame {
  type: 'ping';
}

/** RFC 9000 §19.3 (types 0x02 and, with `ecn`, 0x03). */
export interface AckFrame extends AckFields {
  type: 'ack';
}

/** RFC 9000 §19.4 */
export interface ResetStreamFrame {
  type: 'reset_stream';
  streamId: number;
  errorCode: number | bigint;
  finalSize: number;
}

/** RFC 9000 §19.5 */
export interface StopSendingFrame {
  type: 'stop_sending';
  streamId: number;
  errorCode: number | bigint;
}

/** RFC 9000 §19.6 */
export interface CryptoFrame {
  type: 'crypto';
  offset: number;
  data: Uint8Array;
}

/** RFC 9000 §19.7: the token is never empty. */
export interface NewTokenFrame {
  type: 'new_token';
  token: Uint8Array;
}

/**
 * RFC 9000 §19.8. The encoder sets the OFF bit only for a non-zero offset. `explicitLength` (default true)
 * controls the LEN bit: `false` omits the Length field, so the frame runs to the end of the packet and must
 * be the packet's last frame. Decoded frames always carry `explicitLength`.
 */
export interface StreamFrame {
  type: 'stream';
  streamId: number;
  offset: number;
  fin: boolean;
  data: Uint8Array;
  explicitLength?: boolean;
}

/** RFC 9000 §19.9 */
export interface MaxDataFrame {
  type: 'max_data';
  maximumData: number;
}

/** RFC 9000 §19.10 */
export interface MaxStreamDataFrame {
  type: 'max_stream_data';
  streamId: number;
  maximumStreamData: number;
}

/** RFC 9000 §19.11 (0x12 bidirectional, 0x13 unidirectional). */
export interface MaxStreamsFrame {
  type: 'max_streams';
  bidirectional: boolean;
  maximumStreams: number;
}

/** RFC 9000 §19.12 */
export interface DataBlockedFrame {
  type: 'data_blocked';
  limit: number;
}

/** RFC 9000 §19.13 */
export interface StreamDataBlockedFrame {
  type: 'stream_data_blocked';
  streamId: number;
  limit: number;
}

/** RFC 9000 §19.14 (0x16 bidirectional, 0x17 unidirectional). */
export interface StreamsBlockedFrame {
  type: 'streams_blocked';
  bidirectional: boolean;
  limit: number;
}

/** RFC 9000 §19.15 */
export interface NewConnectionIdFrame extends NewConnectionIdFields {
  type: 'new_connection_id';
}

/** RFC 9000 §19.16 */
export interface RetireConnectionIdFrame {
  type: 'retire_connection_id';
  sequenceNumber: number;
}

/** RFC 9000 §19.17: `data` is 8 bytes. */
export interface PathChallengeFrame {
  type: 'path_challenge';
  data: Uint8Array;
}

/** RFC 9000 §19.18: `data` is 8 bytes. */
export interface PathResponseFrame {
  type: 'path_response';
  data: Uint8Array;
}

/**
 * RFC 9000 §19.19. `application: false` is the transport form (0x1c), whose `frameType` names the frame that
 * triggered the error (0 when unknown); `application: true` is 0x1d, which has no Frame Type field: the
 * encoder ignores `frameType` and the decoder sets it to 0.
 */
export interface ConnectionCloseFrame {
  type: 'connection_close';
  application: boolean;
  errorCode: number | bigint;
  frameType: number | bigint;
  reason: Uint8Array;
}

/** RFC 9000 §19.20 */
export interface HandshakeDoneFrame {
  type: 'handshake_done';
}

/**
 * RFC 9221 §4. `explicitLength` (default true) selects 0x31 (with Length) over 0x30 (runs to the end of the
 * packet, so it must be the packet's last frame). Decoded frames always carry `explicitLength`.
 */
export interface DatagramFrame {
  type: 'datagram';
  data: Uint8Array;
  explicitLength?: boolean;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_ACK): an ACK for the packet number space of `pathId`. */
export interface PathAckFrame extends AckFields {
  type: 'path_ack';
  pathId: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_ABANDON) */
export interface PathAbandonFrame {
  type: 'path_abandon';
  pathId: number;
  errorCode: number | bigint;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_BACKUP) */
export interface PathStatusBackupFrame {
  type: 'path_status_backup';
  pathId: number;
  sequenceNumber: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_AVAILABLE) */
export interface PathStatusAvailableFrame {
  type: 'path_status_available';
  pathId: number;
  sequenceNumber: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_NEW_CONNECTION_ID) */
export interface PathNewConnectionIdFrame extends NewConnectionIdFields {
  type: 'path_new_connection_id';
  pathId: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_RETIRE_CONNECTION_ID) */
export interface PathRetireConnectionIdFrame {
  type: 'path_retire_connection_id';
  pathId: number;
  sequenceNumber: number;
}

/**
 * draft-ietf-quic-multipath-21 "New Frames" (MAX_PATH_ID). The value bounds (at most 2^32-1, not below
 * initial_max_path_id; else PROTOCOL_VIOLATION) and the "path ID above the advertised maximum" rule for every
 * multipath frame need connection state, so the connection layer checks them, not this codec.
 */
export interface MaxPathIdFrame {
  type: 'max_path_id';
  maximumPathId: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATHS_BLOCKED) */
export interface PathsBlockedFrame {
  type: 'paths_blocked';
  maximumPathId: number;
}

/** draft-ietf-quic-multipath-21 "New Frames" (PATH_CIDS_BLOCKED) */
export interface PathCidsBlockedFrame {
  type: 'path_cids_blocked';
  pathId: number;
  nextSequenceNumber: number;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame
  | PathAckFrame
  | PathAbandonFrame
  | PathStatusBackupFrame
  | PathStatusAvailableFrame
  | PathNewConnectionIdFrame
  | PathRetireConnectionIdFrame
  | MaxPathIdFrame
  | PathsBlockedFrame
  | PathCidsBlockedFrame;

/** The `type` discriminant of a frame: `'padding' | 'ping' | 'ack' | …`. */
export type FrameKind = Frame['type'];
