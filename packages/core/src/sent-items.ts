/**
 * What a sent packet carried, frame by frame, so that the connection can hand each part back to its owner when the
 * packet is acknowledged or declared lost. RFC 9000 §13.3: lost information is resent in new frames (with current
 * values), never by retransmitting the packet, so these records describe *what* was sent, not the bytes.
 */
import type { Frame } from '@pathquic/wire-codec';

/** Records owned by the stream layer (StreamManager). */
export type StreamSentItem =
  | { readonly kind: 'stream'; readonly id: number; readonly offset: number; readonly length: number; readonly fin: boolean }
  | { readonly kind: 'reset_stream'; readonly id: number }
  | { readonly kind: 'stop_sending'; readonly id: number }
  | { readonly kind: 'max_data'; readonly value: number }
  | { readonly kind: 'max_stream_data'; readonly id: number; readonly value: number }
  | { readonly kind: 'max_streams'; readonly bidirectional: boolean; readonly value: number }
  | { readonly kind: 'data_blocked'; readonly value: number }
  | { readonly kind: 'stream_data_blocked'; readonly id: number; readonly value: number }
  | { readonly kind: 'streams_blocked'; readonly bidirectional: boolean; readonly value: number };

/** Records owned by the connection itself. */
export type ConnectionSentItem =
  | { readonly kind: 'crypto'; readonly level: 'initial' | 'handshake' | 'application'; readonly offset: number; readonly length: number }
  | { readonly kind: 'ack'; readonly largest: number }
  | { readonly kind: 'handshake_done' }
  | { readonly kind: 'new_connection_id'; readonly sequence: number }
  | { readonly kind: 'retire_connection_id'; readonly sequence: number }
  | { readonly kind: 'new_token' }
  | { readonly kind: 'ping' }
  | { readonly kind: 'datagram' };

export type SentItem = StreamSentItem | ConnectionSentItem;

const STREAM_KINDS: ReadonlySet<SentItem['kind']> = new Set([
  'stream',
  'reset_stream',
  'stop_sending',
  'max_data',
  'max_stream_data',
  'max_streams',
  'data_blocked',
  'stream_data_blocked',
  'streams_blocked',
]);

export function isStreamSentItem(item: SentItem): item is StreamSentItem {
  return STREAM_KINDS.has(item.kind);
}

/**
 * The packet under construction, as seen by whoever contributes frames to it. `push` encodes the frame right after
 * the previous one; the caller must first check `encodedFrameLength(frame) <= remaining`.
 */
export interface FrameSink {
  /** Bytes still free for frames in this packet. */
  readonly remaining: number;
  /** Appends `frame` and, when given, remembers `item` with the packet for onAcked/onLost. */
  push(frame: Frame, item?: SentItem): void;
}
