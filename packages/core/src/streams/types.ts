import type {
  DataBlockedFrame,
  MaxDataFrame,
  MaxStreamDataFrame,
  MaxStreamsFrame,
  ResetStreamFrame,
  StopSendingFrame,
  StreamDataBlockedFrame,
  StreamFrame,
  StreamsBlockedFrame,
  TransportParameters,
} from '@pathquic/wire-codec';
import type { SchedulingScheme } from '@pathquic/stream-priority';

/** The stream limits of a transport parameter set (RFC 9000 §18.2). */
export type StreamLimits = Pick<
  TransportParameters,
  | 'initialMaxData'
  | 'initialMaxStreamDataBidiLocal'
  | 'initialMaxStreamDataBidiRemote'
  | 'initialMaxStreamDataUni'
  | 'initialMaxStreamsBidi'
  | 'initialMaxStreamsUni'
>;

export interface StreamManagerOptions {
  role: 'client' | 'server';
  /** Our transport parameters' stream limits (what we advertise). */
  local: StreamLimits;
  /** Auto-tuning cap for a stream's receive window (ReceiveWindow.maxWindow). Default 16 MiB. */
  maxStreamReceiveWindow?: number;
  /** Auto-tuning cap for the connection's receive window. Default 24 MiB. */
  maxConnectionReceiveWindow?: number;
  /** Bytes the application may queue per stream beyond what is acked before write() accepts less. Default 1 MiB. */
  sendBufferSize?: number;
  /** How streams of equal priority share the path: 'round-robin' (default) or 'fifo' (sequential). */
  scheme?: SchedulingScheme;
  /** Round-robin quantum in bytes (default 8 × 1200, MsQuic's 8-packet batch). */
  quantum?: number;
  /**
   * Keep received STREAM data as views of the caller's buffers instead of copying it (default false). Only for a
   * caller that hands its datagram buffers over for good (see Endpoint's `ownsDatagrams`).
   */
  keepReceivedViews?: boolean;
}

/** The frames the stream layer handles (RFC 9000 §19.4–§19.14, without CRYPTO and NEW_TOKEN). */
export type StreamLayerFrame =
  | StreamFrame
  | ResetStreamFrame
  | StopSendingFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame;

export type StreamEvent =
  /** The peer opened the stream (each implicitly opened ID is reported, ascending). */
  | { type: 'opened'; id: number }
  /** New data or the FIN is available (edge: reported again only after a read drained the stream). */
  | { type: 'readable'; id: number }
  /** Send-buffer space came back after write() accepted less than offered. */
  | { type: 'writable'; id: number }
  /** The peer reset its sending part (RESET_STREAM); unread data is gone. */
  | { type: 'reset'; id: number; errorCode: number | bigint; finalSize: number }
  /** The peer sent STOP_SENDING; the stream was reset with the same code. */
  | { type: 'stopped'; id: number; errorCode: number | bigint }
  /** All our data and the FIN were acknowledged. */
  | { type: 'finished'; id: number }
  /** Both directions are done; the state is freed (peer streams: MAX_STREAMS credit given back). */
  | { type: 'closed'; id: number }
  /** open() returned undefined: the peer's MAX_STREAMS is reached. */
  | { type: 'blocked'; bidirectional: boolean }
  /** After 'blocked': the peer's MAX_STREAMS now allows more. */
  | { type: 'unblocked'; bidirectional: boolean };

export interface StreamManagerStats {
  openStreams: number;
  bufferedSendBytes: number;
  bufferedRecvBytes: number;
}
