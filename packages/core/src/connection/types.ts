/** Public types of the sans-I/O connection and endpoint. */
import type { CongestionControlAlgorithm } from '@pathquic/cc-newreno-cubic';
import type { SessionTicket, TlsClientConfig, TlsServerConfig } from '@pathquic/tls';
import type { CryptoProvider } from '@pathquic/wire-codec';
import type { SchedulingScheme } from '@pathquic/stream-priority';
import type { QlogWriter } from '../qlog.js';

/** A UDP address: what a socket reports for a datagram's source or destination. */
export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/** A datagram to send: the bytes and where they go. */
export interface Transmit {
  readonly data: Uint8Array;
  readonly remote: SocketAddress;
  /** The local address (socket) to send from, when the connection tracks local addresses (a client that migrates). */
  readonly local?: SocketAddress;
}

/** Transport settings shared by clients and servers; every field has a default. */
export interface TransportConfig {
  /** max_idle_timeout in ms (RFC 9000 §10.1); 0 disables. Default 30000. */
  maxIdleTimeout?: number;
  /** Send a PING after this much quiet (ms) to keep the connection and NAT bindings alive. Default off. */
  keepAliveInterval?: number;
  /** Give up a handshake that has not completed after this long (ms). Default 10000. */
  handshakeTimeout?: number;
  /** Connection-level receive window first advertised (initial_max_data). Default 1 MiB. */
  initialMaxData?: number;
  /** Per-stream receive window first advertised (initial_max_stream_data_*). Default 512 KiB. */
  initialMaxStreamData?: number;
  /** Auto-tuned windows never grow past these. Defaults 16 MiB per stream, 24 MiB per connection. */
  maxStreamReceiveWindow?: number;
  maxConnectionReceiveWindow?: number;
  /** Streams the peer may open concurrently (initial_max_streams_*). Default 100 each. */
  maxConcurrentBidiStreams?: number;
  maxConcurrentUniStreams?: number;
  /** Bytes an application may queue per stream before writes are refused (backpressure). Default 1 MiB. */
  streamSendBufferSize?: number;
  /** Congestion controller. Default 'cubic'. */
  congestionControl?: CongestionControlAlgorithm;
  /** UDP payload size of the datagrams we send (no PMTU discovery yet). Default 1200, the QUIC minimum. */
  maxDatagramSize?: number;
  /** Accept DATAGRAM frames up to this size (max_datagram_frame_size, RFC 9221 §3); 0 disables. Default 65535. */
  maxDatagramFrameSize?: number;
  /** max_ack_delay we advertise (ms). Default 25. */
  maxAckDelay?: number;
  /** Spread sends over the RTT (RFC 9002 §7.7). Default true. */
  pacing?: boolean;
  /**
   * How often (ms) the driver can come back to send paced packets: each wake-up may send this long's worth of the
   * pacing rate (at most 32 datagrams). Default 1, Node's timer resolution; 0 keeps bursts at 10 datagrams.
   */
  pacingGranularity?: number;
  /** Tell the peer not to migrate (disable_active_migration). Default false. */
  disableActiveMigration?: boolean;
  /**
   * Client: when the active path stops answering (two PTOs in a row, RFC 9002 §6.2) and another validated path is
   * at hand (the one a migration left, or one probed with probePath), move to it. Default true.
   */
  pathFailover?: boolean;
  /** Initiate a key update after this many packets under one key. Default: well under the AEAD limit. */
  keyUpdateInterval?: number;
  /** Scheduling among streams of equal priority. Default 'round-robin'. */
  schedulingScheme?: SchedulingScheme;
  /** Initial RTT estimate (ms) before the first sample (RFC 9002 §6.2.2). Default 333. */
  initialRtt?: number;
  /** Include a GREASE transport parameter (RFC 9000 §18.1). Default true. */
  greaseTransportParameters?: boolean;
}

/** How a connection ended. */
export interface CloseInfo {
  /** Who ended it: we did (local), the peer did (remote), or a timer / reset / negotiation failure. */
  readonly source: 'local' | 'remote' | 'idle-timeout' | 'handshake-timeout' | 'stateless-reset' | 'version-negotiation';
  /** Transport error code (application false) or application code (application true). */
  readonly errorCode: number | bigint;
  readonly application: boolean;
  readonly reason: string;
  /** Transport closes: the frame type that caused it, when known. */
  readonly frameType?: number | bigint;
}

export type { SessionTicket };

export interface ConnectionCommonOptions {
  transport?: TransportConfig;
  provider?: CryptoProvider;
  qlog?: QlogWriter;
  /**
   * Added to the `now` arguments to get wall-clock time in ms since the epoch, which TLS needs for certificate dates
   * and ticket ages. Default 0: `now` is already epoch time.
   */
  wallClockOffset?: number;
  /**
   * The caller gives up the datagram buffers it passes to handleDatagram (never reads or reuses them again), so
   * received stream data can stay in them instead of being copied. node:dgram hands out a fresh buffer per datagram.
   * Default false.
   */
  ownsDatagrams?: boolean;
  /** Randomness for CIDs, tokens and PATH_CHALLENGE data; default crypto.getRandomValues. */
  random?: (length: number) => Uint8Array;
}

export type ClientTlsOptions = Omit<TlsClientConfig, 'transportParameters'>;
export type ServerTlsOptions = Omit<TlsServerConfig, 'transportParameters'>;

/** Thrown for misuse of the API (never for anything the network sends). */
export class ConnectionUsageError extends Error {
  override readonly name = 'ConnectionUsageError';
}
