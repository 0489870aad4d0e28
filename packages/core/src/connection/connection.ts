/**
 * One QUIC connection (RFC 9000, RFC 9001, RFC 9002), sans-I/O and driven the quinn-proto way:
 * `handleDatagram` feeds what the socket received, `pollTransmit` yields datagrams to send, `pollTimeout` says when
 * `handleTimeout` must run next, `pollEvent` reports what the application should know. Time is always an argument
 * (ms, any monotonic origin). Nothing the network sends throws out of `handleDatagram`: a peer's error becomes a
 * CONNECTION_CLOSE with the right code.
 */
import {
  LossDetection,
  Pacer,
  createCongestionController,
  type CongestionController,
  type RecoveryContext,
  type SentPacket,
} from '@pathquic/cc-newreno-cubic';
import type {
  StatelessResetKey} from '@pathquic/cid-manager';
import {
  LocalCidIssuer,
  PeerCidPool,
  RandomCidGenerator,
  bytesEqual,
  type CidEvent,
} from '@pathquic/cid-manager';
import {
  MigrationController,
  cryptoRandom,
  type MigrationEvent,
  type MigrationResult,
  type PathAddress,
  type PathStatus,
  type ProbeTransmit,
} from '@pathquic/path-validation';
import { TlsAlertError, TlsClient, TlsServer, type SessionTicket, type TlsEvent, type TrafficSecret } from '@pathquic/tls';
import {
  AEAD_INTEGRITY_LIMIT,
  FrameType,
  KEY_PHASE_BIT,
  LONG_HEADER_RESERVED_BITS,
  MIN_INITIAL_DATAGRAM_SIZE,
  PN_LENGTH_MASK,
  PacketFrameSummary,
  PacketProtection,
  QUIC_V1,
  QuicCodecError,
  SHORT_HEADER_RESERVED_BITS,
  TransportErrorCode,
  Writer,
  decodePacketNumber,
  decodeTransportParameters,
  deriveInitialKeys,
  derivePacketKeys,
  encodeFrame,
  encodeTransportParameters,
  encodedFrameLength,
  hashForAead,
  isAckEliciting,
  nextTrafficSecret,
  nodeCryptoProvider,
  packetNumberLength,
  parseFrames,
  parsePacketHeader,
  patchLongHeaderLength,
  truncatePacketNumber,
  validatePacketFrames,
  verifyRetryIntegrity,
  writeLongHeader,
  writeShortHeader,
  type AckFrame,
  type AeadAlgorithm,
  type CryptoProvider,
  type Frame,
  type LongHeader,
  type PacketOpenJob,
  type PacketSealJob,
  type PacketHeader,
  type RetryHeader,
  type ShortHeader,
  type TransportParameters,
} from '@pathquic/wire-codec';
import type { SchedulingScheme } from '@pathquic/stream-priority';
import type { QlogPacketType, QlogWriter } from '../qlog.js';
import { isStreamSentItem, type FrameSink, type SentItem } from '../sent-items.js';
import { StreamManager, type StreamEvent, type StreamLimits } from '../streams/index.js';
import { LEVELS, PacketSpace, type Level } from './packet-space.js';
import { decodePreferredAddress, encodePreferredAddress, type PreferredAddresses } from './addresses.js';
import {
  ConnectionUsageError,
  type ClientTlsOptions,
  type CloseInfo,
  type ConnectionCommonOptions,
  type ServerTlsOptions,
  type SocketAddress,
  type Transmit,
  type TransportConfig,
} from './types.js';

const AEAD_TAG_LENGTH = 16;
/** RFC 9000 §10.2: closing and draining last three PTOs. */
const CLOSE_PTO_MULTIPLIER = 3;
/** RFC 9001 §5.7: undecryptable packets kept while keys are missing. */
const MAX_BUFFERED_PACKETS = 16;
/** DATAGRAM frames queued by the application before the oldest is dropped. */
const MAX_QUEUED_DATAGRAMS = 128;
/** Packets sent under one key before a key update is forced: well under AES-GCM's 2^23 (RFC 9001 §6.6). */
const DEFAULT_KEY_UPDATE_INTERVAL = 2 ** 22;
function pathOf(remote: SocketAddress, local?: SocketAddress): PathAddress {
  if (local === undefined) return { key: `${remote.address}|${remote.port}`, remoteAddress: remote.address, remotePort: remote.port };
  return {
    key: `${remote.address}|${remote.port}|${local.address}|${local.port}`,
    remoteAddress: remote.address,
    remotePort: remote.port,
    localAddress: local.address,
    localPort: local.port,
  };
}
/** Bytes allocated at once for outgoing datagrams. */
const SLAB_SIZE = 64 * 1024;
/** Most datagrams one pacing wake-up sends: libuv reads at most 32 datagrams per socket per loop turn. */
const MAX_PACED_BURST = 32;
/** Consecutive PTOs after which a client gives up on its path for a spare validated one (RFC 9002 §6.2). */
const FAILOVER_PTO_COUNT = 2;
/** PTOs of receive silence, after the peer was sending, before a client with a spare path checks its path. */
const SILENCE_PTOS = 2;
const MIGRATION_STATE = { draft: 'quic:migration_state_updated', qvis: 'connectivity:migration_state_updated' };
const STATE_UPDATED = { draft: 'quic:connection_state_updated', qvis: 'connectivity:connection_state_updated' };

export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

export type ConnectionEvent =
  /** The handshake completed: streams may be used at full speed. */
  | { readonly type: 'connected'; readonly alpn: string | undefined; readonly resumed: boolean; readonly earlyDataAccepted: boolean }
  /** Handshake confirmed (RFC 9001 §4.1.2). */
  | { readonly type: 'handshake-confirmed' }
  | { readonly type: 'stream'; readonly event: StreamEvent }
  | { readonly type: 'datagram'; readonly data: Uint8Array }
  | { readonly type: 'session-ticket'; readonly ticket: SessionTicket }
  | { readonly type: 'new-token'; readonly token: Uint8Array }
  | { readonly type: 'early-data-rejected' }
  | { readonly type: 'key-update'; readonly initiatedBy: 'local' | 'peer'; readonly phase: number }
  /** Path validation and migration (RFC 9000 §8.2, §9): the controller's events, e.g. the peer moved (NAT rebinding). */
  | { readonly type: 'path'; readonly event: MigrationEvent }
  /**
   * Client, once the handshake is confirmed: the server offered preferred_address (RFC 9000 §9.6.1). To follow it,
   * open a socket and call `migrate(now, local, { remote: offer.ipv4 ?? offer.ipv6 })`.
   */
  | { readonly type: 'preferred-address'; readonly offer: PreferredAddresses }
  /** The connection ended (closing or draining begins); `closed` state follows after the drain period. */
  | { readonly type: 'closed'; readonly info: CloseInfo };

/** One path of the connection (RFC 9000 §9) with what was measured on it. */
export interface ConnectionPath extends PathStatus {
  readonly remote: SocketAddress;
  /** Undefined when the connection does not track local addresses (a server, or a client created without one). */
  readonly local: SocketAddress | undefined;
  /** Smoothed RTT (ms) on the active path; elsewhere the validation round trip, if the path was validated. */
  readonly rtt: number | undefined;
  /** Congestion window (bytes) on the active path; undefined elsewhere (no congestion state yet). */
  readonly congestionWindow: number | undefined;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly datagramsSent: number;
  readonly datagramsReceived: number;
}

interface PathCounters {
  bytesSent: number;
  bytesReceived: number;
  datagramsSent: number;
  datagramsReceived: number;
}

function newPathCounters(): PathCounters {
  return { bytesSent: 0, bytesReceived: 0, datagramsSent: 0, datagramsReceived: 0 };
}

export interface ConnectionStats {
  readonly state: ConnectionState;
  readonly smoothedRtt: number;
  readonly minRtt: number;
  readonly latestRtt: number;
  readonly rttVar: number;
  readonly congestionWindow: number;
  readonly bytesInFlight: number;
  readonly ssthresh: number;
  readonly congestionControl: string;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly datagramsSent: number;
  readonly datagramsReceived: number;
  readonly ptoCount: number;
  readonly keyUpdates: number;
  /** Packets opened by handleDatagramBatch's batched AEAD path. */
  readonly packetsReceivedInBatches: number;
}

interface ConnSentPacket extends SentPacket {
  readonly items: SentItem[];
  readonly zeroRtt: boolean;
  /** 1-RTT key phase count the packet was sent in (key updates wait for an ACK in the current phase, RFC 9001 §6.5). */
  readonly phase: number;
  readonly qlogType: QlogPacketType;
}

interface ResolvedConfig {
  maxIdleTimeout: number;
  keepAliveInterval: number;
  handshakeTimeout: number;
  initialMaxData: number;
  initialMaxStreamData: number;
  maxStreamReceiveWindow: number;
  maxConnectionReceiveWindow: number;
  maxConcurrentBidiStreams: number;
  maxConcurrentUniStreams: number;
  streamSendBufferSize: number;
  congestionControl: 'newreno' | 'cubic';
  maxDatagramSize: number;
  maxDatagramFrameSize: number;
  maxAckDelay: number;
  pacing: boolean;
  pacingGranularity: number;
  disableActiveMigration: boolean;
  pathFailover: boolean;
  keyUpdateInterval: number;
  schedulingScheme: SchedulingScheme;
  initialRtt: number;
  greaseTransportParameters: boolean;
}

function resolveConfig(t: TransportConfig = {}): ResolvedConfig {
  const cfg: ResolvedConfig = {
    maxIdleTimeout: t.maxIdleTimeout ?? 30_000,
    keepAliveInterval: t.keepAliveInterval ?? 0,
    handshakeTimeout: t.handshakeTimeout ?? 10_000,
    initialMaxData: t.initialMaxData ?? 1 << 20,
    initialMaxStreamData: t.initialMaxStreamData ?? 512 * 1024,
    maxStreamReceiveWindow: t.maxStreamReceiveWindow ?? 16 << 20,
    maxConnectionReceiveWindow: t.maxConnectionReceiveWindow ?? 24 << 20,
    maxConcurrentBidiStreams: t.maxConcurrentBidiStreams ?? 100,
    maxConcurrentUniStreams: t.maxConcurrentUniStreams ?? 100,
    streamSendBufferSize: t.streamSendBufferSize ?? 1 << 20,
    congestionControl: t.congestionControl ?? 'cubic',
    maxDatagramSize: t.maxDatagramSize ?? MIN_INITIAL_DATAGRAM_SIZE,
    maxDatagramFrameSize: t.maxDatagramFrameSize ?? 65535,
    maxAckDelay: t.maxAckDelay ?? 25,
    pacing: t.pacing ?? true,
    pacingGranularity: t.pacingGranularity ?? 1,
    disableActiveMigration: t.disableActiveMigration ?? false,
    pathFailover: t.pathFailover ?? true,
    keyUpdateInterval: t.keyUpdateInterval ?? DEFAULT_KEY_UPDATE_INTERVAL,
    schedulingScheme: t.schedulingScheme ?? 'round-robin',
    initialRtt: t.initialRtt ?? 333,
    greaseTransportParameters: t.greaseTransportParameters ?? true,
  };
  if (!Number.isInteger(cfg.maxDatagramSize) || cfg.maxDatagramSize < MIN_INITIAL_DATAGRAM_SIZE || cfg.maxDatagramSize > 65527) {
    throw new ConnectionUsageError(`maxDatagramSize must be an integer in [1200, 65527], got ${cfg.maxDatagramSize}`);
  }
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new ConnectionUsageError(`${k} must be a non-negative number, got ${v}`);
  }
  if (cfg.keyUpdateInterval < 1) throw new ConnectionUsageError('keyUpdateInterval must be at least 1');
  return cfg;
}

/** Internal options the endpoint gives a connection. */
export interface ConnectionInit extends ConnectionCommonOptions {
  readonly now: number;
  readonly remote: SocketAddress;
  /** Our handshake SCID (sequence number 0), chosen by the endpoint so that it routes to us. */
  readonly localCid: Uint8Array;
  /**
   * The local address the connection starts on. Given, local addresses become part of every path (a client that
   * may migrate to another socket); then every handleDatagram must say which local address received the datagram.
   */
  readonly local?: SocketAddress;
  readonly resetKey: StatelessResetKey;
  /** Generates further CIDs of the endpoint's length; `isCidInUse` checks endpoint-wide uniqueness. */
  readonly cidGenerator?: RandomCidGenerator;
  readonly isCidInUse?: (cid: Uint8Array) => boolean;
}

export interface ClientConnectionInit extends ConnectionInit {
  readonly tls: ClientTlsOptions;
  /** The random DCID of our first Initial (RFC 9000 §7.2); generated when absent. */
  readonly initialDcid?: Uint8Array;
  /** A NEW_TOKEN token from an earlier connection to this server (RFC 9000 §8.1.3). */
  readonly token?: Uint8Array;
}

export interface ServerConnectionInit extends ConnectionInit {
  readonly tls: ServerTlsOptions;
  /** DCID of the client's first Initial (before any Retry): original_destination_connection_id. */
  readonly originalDcid: Uint8Array;
  /** DCID of the Initial that created this connection (the Retry's SCID when a Retry was sent). */
  readonly initialDcid: Uint8Array;
  /** Set when this connection follows a Retry: retry_source_connection_id (RFC 9000 §7.3). */
  readonly retrySourceCid?: Uint8Array;
  /** The client's address is already validated (Retry or NEW_TOKEN token, RFC 9000 §8.1). */
  readonly addressValidated?: boolean;
  /** Issues a NEW_TOKEN token after the handshake (RFC 9000 §8.1.3). */
  readonly newToken?: () => Uint8Array | undefined;
  /** Advertise these addresses in preferred_address (RFC 9000 §9.6); the endpoint must receive on them too. */
  readonly preferredAddress?: PreferredAddresses;
}

class PacketBuilder implements FrameSink {
  w: Writer;
  limit = 0;
  items: SentItem[] = [];
  ackEliciting = false;
  hasFrames = false;
  /** Frames of the packet, kept only while qlog is on. */
  frames: Frame[] | undefined;
  keepFrames = false;

  constructor(buf: Uint8Array) {
    this.w = new Writer(buf, 0);
  }

  reset(offset: number, limit: number): void {
    this.w.offset = offset;
    this.limit = limit;
    this.items = [];
    this.ackEliciting = false;
    this.hasFrames = false;
    this.frames = this.keepFrames ? [] : undefined;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.w.offset);
  }

  push(frame: Frame, item?: SentItem): void {
    encodeFrame(frame, this.w);
    if (item !== undefined) this.items.push(item);
    this.frames?.push(frame);
    if (!this.ackEliciting && isAckEliciting(frame)) this.ackEliciting = true;
    this.hasFrames = true;
  }
}

interface PendingPacket {
  level: Level;
  zeroRtt: boolean;
  start: number;
  pnOffset: number; // absolute
  pnLength: 1 | 2 | 3 | 4;
  pn: number;
  payloadEnd: number; // absolute
  lengthOffset: number; // absolute, -1 for short headers
  protection: PacketProtection;
  items: SentItem[];
  ackEliciting: boolean;
  ackLargest: number; // ACK frame's largest acknowledged, -1 if none
  frames?: Frame[] | undefined;
  /** payloadEnd before padding. */
  unpaddedEnd: number;
}

interface CloseFrameInfo {
  errorCode: number | bigint;
  reason: string;
  application: boolean;
  frameType: number | bigint;
}

const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);


function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Connection {
  readonly role: 'client' | 'server';
  readonly version = QUIC_V1;
  private readonly cfg: ResolvedConfig;
  private readonly provider: CryptoProvider;
  private readonly tls: TlsClient | TlsServer;
  private readonly random: (n: number) => Uint8Array;
  private readonly qlog: QlogWriter | undefined;
  private readonly spaces: Record<Level, PacketSpace>;
  private loss: LossDetection<ConnSentPacket>;
  private cc: CongestionController;
  private readonly pacer: Pacer;
  readonly streams: StreamManager;
  private readonly localCids: LocalCidIssuer;
  private readonly peerCids: PeerCidPool;
  private readonly events: ConnectionEvent[] = [];
  private stateValue: ConnectionState = 'handshake';

  private remoteAddr: SocketAddress;
  /** DCID of packets we send before the peer's first packet tells us its SCID (client). */
  private initialDcid: Uint8Array;
  private readonly originalDcid: Uint8Array;
  private retrySourceCid: Uint8Array | undefined;
  private token: Uint8Array = EMPTY;
  private peerScidSeen = false;
  private peerHandshakeScid: Uint8Array | undefined;
  private retried = false;
  private receivedAnyPacket = false;

  // Keys beyond the Initial/Handshake/1-RTT spaces: 0-RTT and 1-RTT key phases (RFC 9001 §6).
  private zeroRttWrite: PacketProtection | undefined;
  private zeroRttRead: PacketProtection | undefined;
  private zeroRttRejected = false;
  private appAead: AeadAlgorithm | undefined;
  private appReadSecret: Uint8Array | undefined;
  private appWriteSecret: Uint8Array | undefined;
  private readNext: PacketProtection | undefined;
  private readPrev: PacketProtection | undefined;
  private readPrevDiscardAt: number | undefined;
  private readPhaseBit = false;
  private readPhaseStartPn = 0;
  private writePhase = 0;
  private writePhaseAcked = true;
  private packetsInWritePhase = 0;
  private keyUpdateRequested = false;
  private decryptFailures = 0;
  private keyUpdates = 0;

  private handshakeComplete = false;
  private handshakeConfirmed = false;
  private handshakeAckReceived = false;
  private handshakeDonePending = false;
  private peerParams: TransportParameters | undefined;
  private readonly localParams: Partial<TransportParameters>;
  private readonly newTokenSource: (() => Uint8Array | undefined) | undefined;
  private newTokenPending = false;

  // Address validation / anti-amplification (RFC 9000 §8.1).
  private addressValidated: boolean;
  private bytesReceivedUnvalidated = 0;
  private bytesSentUnvalidated = 0;

  // Timers.
  private readonly createdAt: number;
  /** Added to `now` for TLS, which checks certificate dates and ticket ages against wall-clock time. */
  private readonly wallClockOffset: number;
  private lastReceiveTime: number;
  private lastAckElicitingSendTime: number | undefined;
  private idleTimeoutMs: number;
  private pacingBlockedUntil: number | undefined;
  private closeDeadline: number | undefined;

  private closeFrame: CloseFrameInfo | undefined;
  private closeSendPending = false;
  private closeReceivedCount = 0;
  private closeInfo: CloseInfo | undefined;

  /** Path validation and migration (RFC 9000 §8.2, §9) from @pathquic/path-validation. */
  private readonly migration: MigrationController;
  private activePath: PathAddress;
  /** Local addresses are part of paths (see ConnectionInit.local). */
  private readonly tracksLocal: boolean;
  /** The local address of the datagram being processed. */
  private rxLocal: SocketAddress | undefined;
  /** A client migration waiting for its path to be validated (RFC 9000 §9.2). */
  private pendingMigrationKey: string | undefined;
  /** Server: the preferred_address we advertise. Client: the one the server offered (RFC 9000 §9.6). */
  private preferredOffer: PreferredAddresses | undefined;
  /** Bytes and datagrams per tracked path; the active path's record is also kept at hand for the hot paths. */
  private readonly pathCounters = new Map<string, PathCounters>();
  private activeCounters: PathCounters = newPathCounters();
  private datagramQueue: Uint8Array[] = [];
  private pingPending = false;
  /** When the last ack-eliciting 1-RTT packet arrived (the peer was sending something, not just acknowledging). */
  private lastAckElicitingReceived = -Infinity;
  /** A PING already went out for the current receive silence (see silenceDeadline). */
  private silenceProbed = false;
  /** A validated path other than the active one is at hand (failover target). */
  private hasSparePath = false;
  private bufferedPackets: { level: Level | '0rtt'; data: Uint8Array; remote: SocketAddress }[] = [];
  private maxPeerDatagramFrame = 0;

  // Statistics.
  private packetsSent = 0;
  private packetsReceived = 0;
  private packetsLost = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private datagramsSent = 0;
  private datagramsReceived = 0;
  private packetsReceivedInBatches = 0;

  private readonly builder: PacketBuilder;

  private constructor(role: 'client' | 'server', init: ConnectionInit & { tls: ClientTlsOptions | ServerTlsOptions }, server?: ServerConnectionInit) {
    this.role = role;
    this.wallClockOffset = init.wallClockOffset ?? 0;
    this.cfg = resolveConfig(init.transport);
    this.provider = init.provider ?? nodeCryptoProvider;
    this.random = init.random ?? cryptoRandom;
    this.qlog = init.qlog;
    this.remoteAddr = init.remote;
    this.createdAt = init.now;
    this.lastReceiveTime = init.now;
    this.idleTimeoutMs = this.cfg.maxIdleTimeout;
    const ackExp = 3;
    this.spaces = {
      initial: new PacketSpace('initial', 0, ackExp),
      handshake: new PacketSpace('handshake', 0, ackExp),
      application: new PacketSpace('application', this.cfg.maxAckDelay, ackExp),
    };
    this.loss = new LossDetection<ConnSentPacket>({ initialRtt: this.cfg.initialRtt });
    this.cc = createCongestionController(this.cfg.congestionControl, { maxDatagramSize: this.cfg.maxDatagramSize, paced: this.cfg.pacing });
    // The driver's timers wake it about every `pacingGranularity` ms, so each wake-up may send that much of the
    // pacing rate; bursts stay within what libuv reads per socket per loop turn (32 datagrams).
    this.pacer = new Pacer({ maxDatagramSize: this.cfg.maxDatagramSize, granularity: this.cfg.pacingGranularity, maxBurstPackets: MAX_PACED_BURST });
    // Each datagram gets its own buffer (nextDatagramBuffer); the builder is pointed at it per packet.
    this.builder = new PacketBuilder(EMPTY);
    this.builder.keepFrames = this.qlog?.enabled === true;

    const limits: StreamLimits = {
      initialMaxData: this.cfg.initialMaxData,
      initialMaxStreamDataBidiLocal: this.cfg.initialMaxStreamData,
      initialMaxStreamDataBidiRemote: this.cfg.initialMaxStreamData,
      initialMaxStreamDataUni: this.cfg.initialMaxStreamData,
      initialMaxStreamsBidi: this.cfg.maxConcurrentBidiStreams,
      initialMaxStreamsUni: this.cfg.maxConcurrentUniStreams,
    };
    this.streams = new StreamManager({
      role,
      local: limits,
      maxStreamReceiveWindow: Math.max(this.cfg.maxStreamReceiveWindow, this.cfg.initialMaxStreamData),
      maxConnectionReceiveWindow: Math.max(this.cfg.maxConnectionReceiveWindow, this.cfg.initialMaxData),
      sendBufferSize: this.cfg.streamSendBufferSize,
      scheme: this.cfg.schedulingScheme,
      keepReceivedViews: init.ownsDatagrams === true,
    });

    const generator = init.cidGenerator ?? new RandomCidGenerator(init.localCid.length === 0 ? 8 : init.localCid.length);
    if (role === 'server') this.preferredOffer = server?.preferredAddress;
    this.localCids = new LocalCidIssuer({
      generator,
      resetKey: init.resetKey,
      handshakeCid: init.localCid,
      // RFC 9000 §5.1.1: the preferred_address CID is sequence number 1.
      ...(this.preferredOffer !== undefined && { preferredAddress: true }),
      ...(init.isCidInUse !== undefined && { isCidInUse: init.isCidInUse }),
    });
    this.peerCids = new PeerCidPool({ activeConnectionIdLimit: 8 });

    if (role === 'server' && server !== undefined) {
      this.originalDcid = server.originalDcid.slice();
      this.initialDcid = server.initialDcid.slice();
      this.retrySourceCid = server.retrySourceCid?.slice();
      this.addressValidated = server.addressValidated ?? false;
      this.newTokenSource = server.newToken;
    } else {
      const client = init as ClientConnectionInit;
      this.initialDcid = client.initialDcid?.slice() ?? this.random(8);
      this.originalDcid = this.initialDcid;
      this.token = client.token ?? EMPTY;
      this.addressValidated = true;
      this.newTokenSource = undefined;
    }
    this.installInitialKeys(this.initialDcid);
    this.tracksLocal = init.local !== undefined;
    this.activePath = pathOf(init.remote, init.local);
    this.pathCounters.set(this.activePath.key, this.activeCounters);
    const initialKey = this.activePath.key;
    this.migration = new MigrationController({
      role,
      initialPath: this.activePath,
      // The handshake path's anti-amplification limit is this connection's own (RFC 9000 §8.1); the controller
      // limits the new paths a peer moves to (§9.3.1).
      initialPathValidated: true,
      random: (n) => this.random(n),
      disableActiveMigration: this.cfg.disableActiveMigration,
      acquirePeerCid: (path) => path.key === initialKey || this.peerCids.acquire(path.key) !== undefined,
    });

    this.localParams = this.buildLocalParams(init.localCid);
    const tp = encodeTransportParameters(this.localParams, {
      grease: this.cfg.greaseTransportParameters,
      sender: role,
      random: (out) => out.set(this.random(out.length)),
    });
    if (role === 'client') {
      const tlsCfg = init.tls as ClientTlsOptions;
      this.tls = new TlsClient({ ...tlsCfg, transportParameters: tp });
      // RFC 9000 §7.4.1: 0-RTT uses the remembered transport parameters' limits.
      const remembered = tlsCfg.earlyData === true ? tlsCfg.session?.peerTransportParameters : undefined;
      if (remembered !== undefined) {
        try {
          const p = decodeTransportParameters(remembered, 'server');
          this.streams.setPeerLimits(p);
          this.maxPeerDatagramFrame = p.maxDatagramFrameSize ?? 0;
        } catch {
          // A corrupt stored ticket only costs 0-RTT.
        }
      }
      this.tls.start(init.now + this.wallClockOffset);
      this.processTls(init.now);
    } else {
      this.tls = new TlsServer({ ...(init.tls as ServerTlsOptions), transportParameters: tp });
    }
    this.qlog?.connectionStarted(init.now, {
      remote: { address: this.remoteAddr.address, port: this.remoteAddr.port },
      sourceCid: init.localCid,
      destinationCid: this.initialDcid,
      version: this.version,
    });
    this.qlog?.parametersSet(init.now, 'local', this.localParams);
  }

  /** Starts a client connection; its first Initial is ready in `pollTransmit`. */
  static client(init: ClientConnectionInit): Connection {
    return new Connection('client', init);
  }

  /** A server connection for a client's first Initial (the endpoint then passes that datagram to it). */
  static server(init: ServerConnectionInit): Connection {
    return new Connection('server', init, init);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Accessors

  get state(): ConnectionState {
    return this.stateValue;
  }

  get remote(): SocketAddress {
    return this.remoteAddr;
  }

  /** RFC 9001 §4.1.2: migration and key updates wait for this. */
  get isHandshakeConfirmed(): boolean {
    return this.handshakeConfirmed;
  }

  get isHandshakeComplete(): boolean {
    return this.handshakeComplete;
  }

  get isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  get closeReason(): CloseInfo | undefined {
    return this.closeInfo;
  }

  get alpn(): string | undefined {
    return this.tls.alpn;
  }

  get peerTransportParameters(): TransportParameters | undefined {
    return this.peerParams;
  }

  get tlsSession(): TlsClient | TlsServer {
    return this.tls;
  }

  /** Our CIDs currently routed to this connection (for the endpoint). */
  localConnectionIds(): Uint8Array[] {
    return this.localCids.connectionIds().map((c) => c.connectionId);
  }

  /** Router changes since the last call: CIDs issued or retired (for the endpoint). */
  takeCidEvents(): CidEvent[] {
    return this.localCids.pollEvents();
  }

  stats(): ConnectionStats {
    const rtt = this.loss.rtt;
    return {
      state: this.stateValue,
      smoothedRtt: rtt.smoothedRtt,
      minRtt: rtt.hasSample ? rtt.minRtt : 0,
      latestRtt: rtt.latestRtt,
      rttVar: rtt.rttvar,
      congestionWindow: this.cc.window,
      bytesInFlight: this.cc.bytesInFlight,
      ssthresh: this.cc.ssthresh,
      congestionControl: this.cc.name,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      packetsLost: this.packetsLost,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      datagramsSent: this.datagramsSent,
      datagramsReceived: this.datagramsReceived,
      ptoCount: this.loss.ptoCount,
      keyUpdates: this.keyUpdates,
      packetsReceivedInBatches: this.packetsReceivedInBatches,
    };
  }

  pollEvent(): ConnectionEvent | undefined {
    if (this.events.length === 0) this.drainStreamEvents();
    return this.events.shift();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Application API (streams are used through `streams` directly; these cover the connection itself)

  /** Sends an unreliable DATAGRAM frame (RFC 9221). Returns false when the peer does not accept one this large. */
  sendDatagram(data: Uint8Array): boolean {
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed') return false;
    // RFC 9221 §3: the whole frame must fit the peer's max_datagram_frame_size and our packets.
    const frameSize = 1 + 8 + data.length;
    if (this.maxPeerDatagramFrame === 0 || frameSize > this.maxPeerDatagramFrame || frameSize > this.cfg.maxDatagramSize - 60) return false;
    if (this.datagramQueue.length >= MAX_QUEUED_DATAGRAMS) this.datagramQueue.shift();
    this.datagramQueue.push(data);
    return true;
  }

  /** Largest datagram payload sendDatagram accepts now (0 when the peer accepts none). */
  get maxDatagramPayload(): number {
    if (this.maxPeerDatagramFrame === 0) return 0;
    return Math.max(0, Math.min(this.maxPeerDatagramFrame, this.cfg.maxDatagramSize - 60) - 9);
  }

  /** Sends a PING (an ack-eliciting packet), e.g. to measure RTT or keep a path alive. */
  ping(): void {
    this.pingPending = true;
  }

  /** Starts a key update (RFC 9001 §6); refused until the handshake is confirmed and the last update was acked. */
  updateKeys(): boolean {
    if (!this.handshakeConfirmed || !this.writePhaseAcked || this.appWriteSecret === undefined) return false;
    this.keyUpdateRequested = true;
    return true;
  }

  /**
   * Closes the connection: CONNECTION_CLOSE with an application error code (or a transport code with
   * `{ application: false }`), then the closing period of RFC 9000 §10.2.1.
   */
  close(now: number, opts: { errorCode?: number | bigint; reason?: string; application?: boolean } = {}): void {
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed') return;
    const application = opts.application ?? true;
    this.enterClosing(now, {
      errorCode: opts.errorCode ?? 0,
      reason: opts.reason ?? '',
      application,
      frameType: 0,
    }, 'local');
  }

  // -------------------------------------------------------------------------------------------------------------
  // Receiving

  handleDatagram(now: number, data: Uint8Array, remote: SocketAddress, local?: SocketAddress): void {
    if (this.stateValue === 'draining' || this.stateValue === 'closed') return;
    this.rxLocal = local;
    this.datagramsReceived++;
    this.bytesReceived += data.length;
    this.countOnActivePath(remote, data.length);
    if (this.stateValue === 'closing') {
      // RFC 9000 §10.2.2: a CONNECTION_CLOSE from the peer moves us to draining (only that frame is acted on).
      try {
        this.processDatagram(now, data, remote);
      } catch {
        // Nothing the peer sends matters any more.
      }
      if (this.stateValue !== 'closing') return;
      // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE, rate-limited (every 2^n-th datagram).
      this.closeReceivedCount++;
      if ((this.closeReceivedCount & (this.closeReceivedCount - 1)) === 0) this.closeSendPending = true;
      return;
    }
    if (!this.addressValidated) this.bytesReceivedUnvalidated += data.length;
    try {
      this.processDatagram(now, data, remote);
    } catch (e) {
      this.onError(now, e);
    }
    this.processBuffered(now);
  }

  /**
   * Several datagrams that arrived together, in order. Runs of datagrams that each hold one 1-RTT packet are opened
   * with one AEAD batch call (the AES-GCM engine computes all their keystreams at once); anything else, and any
   * packet the batch could not open (another key phase, a Stateless Reset), takes the one-by-one path.
   */
  handleDatagramBatch(now: number, datagrams: readonly { readonly data: Uint8Array; readonly remote: SocketAddress; readonly local?: SocketAddress }[]): void {
    const read = this.spaces.application.read;
    if (this.stateValue !== 'established' || !this.handshakeConfirmed || read === undefined || datagrams.length < 2) {
      for (const d of datagrams) this.handleDatagram(now, d.data, d.remote, d.local);
      return;
    }
    const cidLength = this.localCidLength();
    const jobs = this.openJobs;
    let count = 0;
    const flush = (): void => {
      if (count > 0) this.openRun(now, read, jobs, count);
      count = 0;
    };
    for (const d of datagrams) {
      const first = d.data[0] ?? 0;
      // A lone short-header packet: fixed bit set, long-header bit clear, room for a sample (RFC 9001 §5.4.2).
      if ((first & 0xc0) !== 0x40 || d.data.length < 1 + cidLength + 4 + 16 + 1) {
        flush();
        this.handleDatagram(now, d.data, d.remote, d.local);
        continue;
      }
      let job = jobs[count];
      if (job === undefined) {
        job = { packet: d.data, pnOffset: 0, largestPn: 0, isLong: false, result: null };
        jobs.push(job);
      }
      job.packet = d.data;
      job.pnOffset = 1 + cidLength;
      job.largestPn = this.spaces.application.tracker.largestReceived;
      job.result = null;
      this.openRemotes[count] = d.remote;
      this.openLocals[count] = d.local;
      count++;
    }
    flush();
  }

  private readonly openJobs: PacketOpenJob[] = [];
  private readonly openRemotes: SocketAddress[] = [];
  private readonly openLocals: (SocketAddress | undefined)[] = [];

  private openRun(now: number, read: PacketProtection, jobs: PacketOpenJob[], count: number): void {
    read.openBatch(jobs, count);
    for (let i = 0; i < count; i++) {
      const job = jobs[i]!;
      const remote = this.openRemotes[i]!;
      const local = this.openLocals[i];
      const opened = job.result;
      const packet = job.packet;
      job.packet = EMPTY;
      job.result = null;
      if (this.stateValue !== 'established' || this.spaces.application.read !== read) {
        // The state or the keys changed under this run: what is left goes one by one (opened ones are dropped: a
        // peer's retransmission repairs that rare case).
        if (opened === null) this.handleDatagram(now, packet, remote, local);
        continue;
      }
      if (opened === null || opened.keyPhase !== this.readPhaseBit) {
        if (opened === null) this.handleDatagram(now, packet, remote, local);
        continue;
      }
      this.rxLocal = local;
      this.datagramsReceived++;
      this.bytesReceived += packet.length;
      this.countOnActivePath(remote, packet.length);
      this.packetsReceivedInBatches++;
      try {
        if ((opened.firstByte & SHORT_HEADER_RESERVED_BITS) !== 0) {
          throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits are not zero (RFC 9000 §17.3.1)');
        }
        const space = this.spaces.application;
        if (space.tracker.isDuplicate(opened.packetNumber)) continue;
        this.receivedAnyPacket = true;
        this.lastDcid = packet.subarray(1, 1 + this.localCidLength());
        this.handlePayload(now, 'application', '1rtt', opened.packetNumber, opened.payload, remote, packet.length);
      } catch (e) {
        this.onError(now, e);
      }
    }
  }

  private processDatagram(now: number, data: Uint8Array, remote: SocketAddress): void {
    let offset = 0;
    let firstDcid: Uint8Array | undefined;
    let anyProcessed = false;
    while (offset < data.length) {
      let header: PacketHeader;
      try {
        header = parsePacketHeader(data, offset, { shortDcidLength: this.localCidLength() });
      } catch (e) {
        if (e instanceof QuicCodecError) break; // RFC 9000 §12.2: the rest of the datagram is dropped
        throw e;
      }
      const packet = data.subarray(offset, offset + header.packetLength);
      offset += header.packetLength;
      // RFC 9000 §12.2: coalesced packets with another DCID are dropped.
      if (firstDcid === undefined) firstDcid = header.dcid;
      else if (!bytesEqual(firstDcid, header.dcid)) continue;
      const processed = this.processPacket(now, header, packet, remote);
      anyProcessed ||= processed;
      if (this.stateValue === 'draining' || this.stateValue === 'closed') return;
    }
    // RFC 9000 §10.3.1: a datagram we cannot process whose tail is the reset token of a CID we use.
    if (!anyProcessed && this.isStatelessReset(data)) this.onStatelessReset(now);
  }

  /** Whether `datagram`, which could not be processed, is a Stateless Reset for this connection (RFC 9000 §10.3.1). */
  isStatelessReset(datagram: Uint8Array): boolean {
    return this.peerScidSeen && this.peerCids.isStatelessReset(datagram);
  }

  /** The peer lost our connection's state: enter draining without sending anything (RFC 9000 §10.3.1). */
  onStatelessReset(now: number): void {
    if (this.stateValue === 'draining' || this.stateValue === 'closed') return;
    this.enterDraining(now, { source: 'stateless-reset', errorCode: 0, application: false, reason: 'stateless reset received' });
  }

  private processPacket(now: number, header: PacketHeader, packet: Uint8Array, remote: SocketAddress): boolean {
    switch (header.form) {
      case 'version_negotiation':
        this.onVersionNegotiation(now, header.supportedVersions);
        return false;
      case 'short':
        return this.processShort(now, header, packet, remote);
      case 'long':
        if (header.type === 'retry') return this.onRetry(now, header, packet);
        if (header.type === 'unsupported') return false;
        if (header.version !== this.version) return false;
        return this.processLong(now, header, packet, remote);
    }
  }

  private onVersionNegotiation(now: number, versions: number[]): void {
    // RFC 9000 §6.2: only before any other packet from the server, ignored if it lists our version.
    if (this.role !== 'client' || this.receivedAnyPacket || versions.includes(this.version)) return;
    this.enterDraining(now, {
      source: 'version-negotiation',
      errorCode: 0,
      application: false,
      reason: `server supports versions ${versions.map((v) => `0x${v.toString(16)}`).join(', ')}, not QUIC v1`,
    });
  }

  private onRetry(now: number, header: RetryHeader, packet: Uint8Array): boolean {
    // RFC 9000 §17.2.5.2: one Retry, before any other server packet, with a token and a valid tag.
    if (this.role !== 'client' || this.retried || this.receivedAnyPacket) return false;
    if (header.token.length === 0 || bytesEqual(header.scid, this.initialDcid)) return false;
    if (!verifyRetryIntegrity(header.version, this.originalDcid, packet, this.provider)) return false;
    this.retried = true;
    this.token = header.token.slice();
    this.retrySourceCid = header.scid.slice();
    this.initialDcid = header.scid.slice();
    this.installInitialKeys(this.initialDcid);
    // RFC 9002 §6.3: reset recovery and congestion state; everything sent is sent again (with new numbers).
    for (const space of ['initial', 'application'] as const) {
      for (const p of this.loss.discardSpace(space, now)) this.onPacketLostItems(p);
    }
    this.resetRecovery();
    this.spaces.initial.cryptoSend.resendUnacked();
    this.qlog?.packetReceived(now, { packetType: 'retry', length: packet.length, scid: header.scid, tokenLength: header.token.length });
    return true;
  }

  private resetRecovery(): void {
    this.loss = new LossDetection<ConnSentPacket>({ initialRtt: this.cfg.initialRtt });
    this.cc = createCongestionController(this.cfg.congestionControl, { maxDatagramSize: this.cfg.maxDatagramSize, paced: this.cfg.pacing });
    this.pacer.reset();
  }

  private processLong(now: number, header: LongHeader, packet: Uint8Array, remote: SocketAddress): boolean {
    const level: Level = header.type === 'initial' ? 'initial' : header.type === 'handshake' ? 'handshake' : 'application';
    const space = this.spaces[level];
    if (space.discarded) return false;
    let protection: PacketProtection | undefined;
    if (header.type === '0rtt') {
      if (this.role !== 'server') return false;
      protection = this.zeroRttRead;
      if (protection === undefined) {
        if (!this.handshakeComplete && !this.zeroRttRejected) this.bufferPacket('0rtt', packet, remote);
        return false;
      }
    } else {
      protection = space.read;
      if (protection === undefined) {
        this.bufferPacket(level, packet, remote);
        return false;
      }
    }
    // Initial packets from the client fix its SCID; later ones must not change it (RFC 9000 §7.2).
    const opened = protection.open(packet, header.pnOffset, space.tracker.largestReceived, true);
    if (opened === null) return false;
    if ((opened.firstByte & LONG_HEADER_RESERVED_BITS) !== 0) {
      throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits are not zero (RFC 9000 §17.2)');
    }
    const pn = opened.packetNumber;
    if (space.tracker.isDuplicate(pn)) return true;
    this.receivedAnyPacket = true;
    if (!this.peerScidSeen) {
      this.peerScidSeen = true;
      this.peerHandshakeScid = header.scid.slice();
      // RFC 9000 §7.2: the client switches to the server's SCID; the server answers to the client's SCID.
      this.peerCids.setHandshakeCid(header.scid);
      this.peerCids.acquire(this.activePath.key);
    } else if (header.type === 'initial' || header.type === 'handshake') {
      if (this.peerHandshakeScid !== undefined && !bytesEqual(header.scid, this.peerHandshakeScid)) return false;
    }
    if (this.role === 'server' && header.type === 'handshake') {
      // RFC 9000 §8.1: a Handshake packet proves the client owns its address; RFC 9001 §4.9.1: Initial keys go.
      this.addressValidated = true;
      if (!this.spaces.initial.discarded) this.discardSpace('initial', now);
    }
    const type = header.type === '0rtt' ? '0rtt' : header.type;
    this.lastDcid = header.dcid;
    this.handlePayload(now, level, type, pn, opened.payload, remote, packet.length);
    return true;
  }

  private processShort(now: number, header: ShortHeader, packet: Uint8Array, remote: SocketAddress): boolean {
    const space = this.spaces.application;
    const current = space.read;
    // RFC 9001 §5.7: a server processes 1-RTT packets only once the handshake is complete.
    if (current === undefined || (this.role === 'server' && !this.handshakeComplete)) {
      this.bufferPacket('application', packet, remote);
      return false;
    }
    const firstByte = current.removeHeaderProtection(packet, header.pnOffset, false);
    if (firstByte < 0) return false;
    const pnLength = ((firstByte & PN_LENGTH_MASK) + 1) as 1 | 2 | 3 | 4;
    let truncated = 0;
    for (let i = 0; i < pnLength; i++) truncated = truncated * 256 + packet[header.pnOffset + i]!;
    const largest = space.tracker.largestReceived;
    const pn = decodePacketNumber(largest, truncated, pnLength);
    const phaseBit = (firstByte & KEY_PHASE_BIT) !== 0;
    let protection: PacketProtection | undefined = current;
    let phaseChange = false;
    if (phaseBit !== this.readPhaseBit) {
      if (this.readPrev !== undefined && pn < this.readPhaseStartPn) protection = this.readPrev;
      else {
        protection = this.readNext;
        phaseChange = true;
      }
    }
    if (protection === undefined) return false;
    const headerLength = header.pnOffset + pnLength;
    const length = protection.decryptPayload(packet, headerLength, pn);
    if (length < 0) {
      this.decryptFailures++;
      // RFC 9001 §6.6: past the integrity limit the connection must close.
      if (this.appAead !== undefined && this.decryptFailures >= AEAD_INTEGRITY_LIMIT[this.appAead]) {
        throw new QuicCodecError(TransportErrorCode.AEAD_LIMIT_REACHED, 'too many packets failed authentication');
      }
      return false;
    }
    if ((firstByte & SHORT_HEADER_RESERVED_BITS) !== 0) {
      throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits are not zero (RFC 9000 §17.3.1)');
    }
    if (space.tracker.isDuplicate(pn)) return true;
    if (phaseChange) this.onPeerKeyUpdate(now, pn, phaseBit);
    this.receivedAnyPacket = true;
    this.lastDcid = header.dcid;
    this.handlePayload(now, 'application', '1rtt', pn, packet.subarray(headerLength, headerLength + length), remote, packet.length);
    return true;
  }

  private bufferPacket(level: Level | '0rtt', packet: Uint8Array, remote: SocketAddress): void {
    if (this.bufferedPackets.length >= MAX_BUFFERED_PACKETS) return;
    this.bufferedPackets.push({ level, data: packet.slice(), remote });
  }

  private processBuffered(now: number): void {
    if (this.bufferedPackets.length === 0) return;
    for (let guard = 0; guard < 4 && this.bufferedPackets.length > 0; guard++) {
      const ready = this.bufferedPackets.filter((b) =>
        b.level === '0rtt'
          ? this.zeroRttRead !== undefined
          : this.spaces[b.level].discarded ||
            (this.spaces[b.level].read !== undefined && (b.level !== 'application' || this.role === 'client' || this.handshakeComplete)),
      );
      if (ready.length === 0) return;
      this.bufferedPackets = this.bufferedPackets.filter((b) => !ready.includes(b));
      for (const b of ready) {
        if (this.stateValue !== 'handshake' && this.stateValue !== 'established') return;
        try {
          this.processDatagram(now, b.data, b.remote);
        } catch (e) {
          this.onError(now, e);
          return;
        }
      }
    }
  }

  private handlePayload(
    now: number,
    level: Level,
    type: 'initial' | 'handshake' | '0rtt' | '1rtt',
    pn: number,
    payload: Uint8Array,
    remote: SocketAddress,
    size: number,
  ): void {
    const frames = parseFrames(payload);
    if (this.stateValue === 'closing') {
      for (const frame of frames) if (frame.type === 'connection_close') this.handleFrame(now, level, frame, remote);
      return;
    }
    if (frames.length === 0) throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet without frames (RFC 9000 §12.4)');
    const summary = validatePacketFrames(frames, type);
    if (type === '1rtt') {
      // RFC 9000 §9: which path the packet came on, and whether the peer moved (its highest non-probing packet).
      const path = this.pathFor(remote);
      // The active path's datagrams were counted on arrival; others only once authenticated (they may be spoofed).
      const elsewhere = path !== this.activePath;
      const verdict = this.migration.onDatagram({
        path,
        bytes: size,
        now,
        packetNumber: pn,
        nonProbing: (summary & PacketFrameSummary.NON_PROBING) !== 0,
      });
      if (verdict !== 'process') return;
      this.drainMigrationEvents(now);
      const counters = elsewhere ? this.countersOf(path) : undefined;
      if (counters !== undefined) {
        counters.bytesReceived += size;
        counters.datagramsReceived++;
      }
    }
    this.packetsReceived++;
    let ackEliciting = false;
    for (const frame of frames) {
      if (!ackEliciting && isAckEliciting(frame)) ackEliciting = true;
      this.handleFrame(now, level, frame, remote);
      if (!this.isOpen()) break;
    }
    this.qlog?.packetReceived(now, { packetType: type, packetNumber: pn, length: size, frames });
    if (this.stateValue === 'draining' || this.stateValue === 'closed') return;
    const space = this.spaces[level];
    if (!space.discarded) space.tracker.onPacketReceived(pn, now, ackEliciting);
    // RFC 9000 §10.1: any processed packet restarts the idle timer.
    this.lastReceiveTime = now;
    this.silenceProbed = false;
    if (ackEliciting && level === 'application') this.lastAckElicitingReceived = now;
    this.lastAckElicitingSendTime = undefined;
  }

  private handleFrame(now: number, level: Level, frame: Frame, remote: SocketAddress): void {
    switch (frame.type) {
      case 'padding':
      case 'ping':
        return;
      case 'ack':
        this.onAckFrame(now, level, frame);
        return;
      case 'crypto':
        this.onCryptoFrame(now, level, frame.offset, frame.data);
        return;
      case 'new_token':
        if (this.role === 'server') throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client (RFC 9000 §19.7)', FrameType.NEW_TOKEN);
        this.events.push({ type: 'new-token', token: frame.token.slice() });
        return;
      case 'stream':
      case 'reset_stream':
      case 'stop_sending':
      case 'max_data':
      case 'max_stream_data':
      case 'max_streams':
      case 'data_blocked':
      case 'stream_data_blocked':
      case 'streams_blocked':
        this.streams.onFrame(frame, now);
        return;
      case 'new_connection_id':
        this.peerCids.onNewConnectionId(frame);
        if (this.peerCids.current(this.activePath.key) === undefined) this.peerCids.acquire(this.activePath.key);
        return;
      case 'retire_connection_id':
        this.localCids.onRetire(frame.sequenceNumber, this.lastDcid ?? EMPTY);
        return;
      case 'path_challenge':
        // RFC 9000 §8.2.2: answered on the path the challenge came from (the controller queues the PATH_RESPONSE).
        if (level === 'application') this.migration.onPathChallenge(this.pathFor(remote).key, frame.data.slice());
        return;
      case 'path_response':
        // A response that matches no challenge is ignored (RFC 9000 §8.2.3).
        this.migration.onPathResponse(frame.data, now);
        this.drainMigrationEvents(now);
        return;
      case 'connection_close':
        this.enterDraining(now, {
          source: 'remote',
          errorCode: frame.errorCode,
          application: frame.application,
          reason: new TextDecoder('utf-8', { fatal: false }).decode(frame.reason),
          ...(frame.frameType !== undefined && { frameType: frame.frameType }),
        });
        return;
      case 'handshake_done':
        if (this.role === 'server') {
          throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client (RFC 9000 §19.20)', FrameType.HANDSHAKE_DONE);
        }
        this.confirmHandshake(now);
        return;
      case 'datagram':
        // RFC 9221 §3: DATAGRAM frames we did not ask for, or larger than we allow, are a PROTOCOL_VIOLATION.
        if (this.cfg.maxDatagramFrameSize === 0 || encodedFrameLength(frame) > this.cfg.maxDatagramFrameSize) {
          throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'DATAGRAM frame not allowed (RFC 9221 §3)', FrameType.DATAGRAM);
        }
        this.events.push({ type: 'datagram', data: frame.data.slice() });
        return;
      default:
        // Multipath frames without negotiated multipath (draft-ietf-quic-multipath-21 §3).
        throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, `${frame.type} frame without multipath`);
    }
  }

  private lastDcid: Uint8Array | undefined;

  /** The path a datagram from `remote` arrived on (the active path's own object when it is that one). */
  private pathFor(remote: SocketAddress): PathAddress {
    return this.arrivedOnActivePath(remote) ? this.activePath : pathOf(remote, this.tracksLocal ? this.rxLocal : undefined);
  }

  /** The datagram being processed came from `remote` to the active path's local address (no allocation). */
  private arrivedOnActivePath(remote: SocketAddress): boolean {
    const a = this.activePath;
    if (remote.port !== a.remotePort || remote.address !== a.remoteAddress) return false;
    const local = this.tracksLocal ? this.rxLocal : undefined;
    return local === undefined || (local.port === a.localPort && local.address === a.localAddress);
  }

  /** `path` leads to another server address than the current one: the server's preferred address (RFC 9000 §9.6). */
  private toOtherServerAddress(path: PathAddress): boolean {
    return path.remoteAddress !== this.remoteAddr.address || path.remotePort !== this.remoteAddr.port;
  }

  /** Client: make `path` the active one now (the migration controller tells a move to the preferred address apart). */
  private moveTo(path: PathAddress, now: number): MigrationResult {
    return this.migration.migrate(path, now, { preferredAddress: this.toOtherServerAddress(path) });
  }

  /** A validated path other than the active one, with a peer CID of its own: where a client can fail over to. */
  private sparePath(): PathStatus | undefined {
    return this.migration.paths().find((s) => !s.active && s.validated && s.hasPeerCid);
  }

  /** Where datagrams on `path` leave from (undefined when local addresses are not tracked). */
  private localOf(path: PathAddress): SocketAddress | undefined {
    return path.localAddress !== undefined && path.localPort !== undefined ? { address: path.localAddress, port: path.localPort } : undefined;
  }

  /**
   * Client: move the connection to another local address (RFC 9000 §9.2), e.g. a new socket. By default the new
   * path is validated first and used once PATH_RESPONSE arrives; `immediate` switches at once (validating meanwhile,
   * falling back if that fails). `remote` may name the server's preferred address (RFC 9000 §9.6, see the
   * 'preferred-address' event); otherwise the peer address stays. Refused before the handshake is confirmed, when
   * the peer sent disable_active_migration, or without a spare peer connection ID.
   */
  migrate(now: number, local: SocketAddress, options: { immediate?: boolean; remote?: SocketAddress } = {}): MigrationResult {
    const path = this.clientPath('migrate', local, options.remote);
    // A path validated earlier (probePath) needs no new validation: move at once.
    const validated = this.migration.pathStatus(path.key)?.validated === true;
    const result =
      options.immediate === true || validated
        ? this.moveTo(path, now)
        : this.migration.probe(path, now);
    if (result.ok && options.immediate !== true && !validated) this.pendingMigrationKey = path.key;
    this.drainMigrationEvents(now);
    return result;
  }

  /**
   * Client: validate another path and keep it ready without moving to it (RFC 9000 §9.1 probing): a later
   * `migrate` to it needs no new validation, and with `pathFailover` the connection moves there by itself when the
   * active path goes dark.
   */
  probePath(now: number, local: SocketAddress, remote?: SocketAddress): MigrationResult {
    const path = this.clientPath('probePath', local, remote);
    const result = this.migration.probe(path, now);
    this.drainMigrationEvents(now);
    return result;
  }

  private clientPath(what: string, local: SocketAddress, remote: SocketAddress | undefined): PathAddress {
    if (this.role !== 'client') throw new ConnectionUsageError(`${what}(): only a client migrates (RFC 9000 §9)`);
    if (!this.tracksLocal) throw new ConnectionUsageError(`${what}() needs a connection created with its local address`);
    const path = pathOf(remote ?? this.remoteAddr, local);
    if (this.toOtherServerAddress(path)) {
      const offer = this.preferredOffer;
      const offered = [offer?.ipv4, offer?.ipv6].some((a) => a !== undefined && a.address === path.remoteAddress && a.port === path.remotePort);
      // RFC 9000 §9: a client only ever talks to the server's handshake address and its preferred address.
      if (!offered) throw new ConnectionUsageError(`${what}(): ${path.remoteAddress}:${path.remotePort} is neither the server's address nor its preferred address`);
    }
    return path;
  }

  /** The active path and the others being validated or kept for fallback, with their figures. */
  paths(): ConnectionPath[] {
    return this.migration.paths().map((s) => this.describePath(s));
  }

  /** The path in use. */
  path(): ConnectionPath {
    const s = this.migration.pathStatus(this.activePath.key);
    return this.describePath(
      s ?? { path: this.activePath, active: true, validated: true, validating: false, hasPeerCid: true, allowance: Infinity, validationRtt: undefined },
    );
  }

  /** The server's preferred_address offer (client), or the one we advertise (server). */
  get preferredAddress(): PreferredAddresses | undefined {
    return this.preferredOffer;
  }

  private describePath(s: PathStatus): ConnectionPath {
    const p = s.path;
    const c = this.pathCounters.get(p.key);
    const rtt = this.loss.rtt;
    return {
      ...s,
      remote: { address: p.remoteAddress, port: p.remotePort },
      local: this.localOf(p),
      rtt: s.active && rtt.hasSample ? rtt.smoothedRtt : s.validationRtt,
      congestionWindow: s.active ? this.cc.window : undefined,
      bytesSent: c?.bytesSent ?? 0,
      bytesReceived: c?.bytesReceived ?? 0,
      datagramsSent: c?.datagramsSent ?? 0,
      datagramsReceived: c?.datagramsReceived ?? 0,
    };
  }

  private countOnActivePath(remote: SocketAddress, bytes: number): void {
    if (!this.arrivedOnActivePath(remote)) return;
    const c = this.activeCounters;
    c.bytesReceived += bytes;
    c.datagramsReceived++;
  }

  /** Counters of a path the migration controller tracks (never of arbitrary addresses a datagram claims). */
  private countersOf(path: PathAddress): PathCounters | undefined {
    let c = this.pathCounters.get(path.key);
    if (c === undefined && this.migration.pathStatus(path.key) !== undefined) {
      c = newPathCounters();
      this.pathCounters.set(path.key, c);
    }
    return c;
  }

  /**
   * A black hole: the active path stopped answering (FAILOVER_PTO_COUNT PTOs in a row with nothing acknowledged).
   * A client with another validated path moves there; the PTO probes then go out on it, and the server follows
   * the non-probing packets (RFC 9000 §9.3). Once per run of PTOs, so two dark paths do not ping-pong.
   */
  private maybeFailOver(now: number): void {
    if (this.role !== 'client' || !this.cfg.pathFailover || !this.handshakeConfirmed) return;
    if (this.loss.ptoCount !== FAILOVER_PTO_COUNT) return;
    const spare = this.sparePath();
    if (spare === undefined) return;
    this.qlog?.event(now, MIGRATION_STATE, { new: 'migration_started', trigger: 'pto_failover', pto_count: this.loss.ptoCount });
    this.moveTo(spare.path, now);
    this.drainMigrationEvents(now);
  }

  /** quic-events' migration_state_updated: probing_started/successful/abandoned and migration_complete. */
  private qlogMigration(now: number, ev: MigrationEvent): void {
    const tuple = (p: PathAddress): Record<string, unknown> => ({
      path_remote: { ip: p.remoteAddress, port: p.remotePort },
      ...(p.localAddress !== undefined && { path_local: { ip: p.localAddress, port: p.localPort } }),
    });
    switch (ev.type) {
      case 'path-validation-started':
        this.qlog?.event(now, MIGRATION_STATE, { new: 'probing_started', trigger: ev.purpose, ...tuple(ev.path) });
        return;
      case 'path-validated':
        this.qlog?.event(now, MIGRATION_STATE, { new: 'probing_successful', rtt: ev.rtt, ...tuple(ev.path) });
        return;
      case 'path-validation-failed':
        this.qlog?.event(now, MIGRATION_STATE, { new: 'probing_abandoned', trigger: ev.reason, ...tuple(ev.path) });
        return;
      case 'active-path-changed':
        this.qlog?.event(now, MIGRATION_STATE, { new: 'migration_complete', trigger: ev.reason, congestion: ev.congestion, ...tuple(ev.to) });
        return;
      default:
        return;
    }
  }

  /** Applies the migration controller's decisions and reports them. */
  private drainMigrationEvents(now: number): void {
    let any = false;
    for (let ev = this.migration.pollEvent(); ev !== undefined; ev = this.migration.pollEvent()) {
      any = true;
      if (this.qlog !== undefined) this.qlogMigration(now, ev);
      switch (ev.type) {
        case 'active-path-changed': {
          this.activePath = ev.to;
          this.remoteAddr = { address: ev.to.remoteAddress, port: ev.to.remotePort };
          this.activeCounters = this.countersOf(ev.to) ?? newPathCounters();
          // RFC 9000 §9.5: the CID of the path we left is retired; should we ever return there, a fresh one is taken.
          if (this.role === 'client' && ev.reason === 'local-migration') this.peerCids.release(ev.from.key);
          // RFC 9000 §9.4: a new path (not just a new port) starts with a fresh congestion controller and RTT
          // estimator; the PATH_CHALLENGE round trip that validated it, if any, is its first RTT sample.
          if (ev.congestion !== 'keep') {
            this.cc = createCongestionController(this.cfg.congestionControl, { maxDatagramSize: this.cfg.maxDatagramSize, paced: this.cfg.pacing });
            this.pacer.reset();
            this.loss.resetRtt(now, this.migration.pathStatus(ev.to.key)?.validationRtt);
          }
          break;
        }
        case 'path-validated':
          if (ev.path.key === this.pendingMigrationKey && this.role === 'client') {
            this.pendingMigrationKey = undefined;
            this.moveTo(ev.path, now);
          }
          break;
        case 'path-validation-failed':
          if (ev.path.key === this.pendingMigrationKey) this.pendingMigrationKey = undefined;
          break;
        case 'path-discarded':
          if (ev.path.key !== this.activePath.key) {
            this.peerCids.release(ev.path.key);
            this.pathCounters.delete(ev.path.key);
          }
          break;
        case 'no-viable-path':
          // RFC 9000 §9.3.2: no validated path is left: the connection ends without a word.
          this.enterDraining(now, { source: 'idle-timeout', errorCode: TransportErrorCode.NO_VIABLE_PATH, application: false, reason: 'no viable path' });
          break;
        default:
          break;
      }
      this.events.push({ type: 'path', event: ev });
    }
    if (any && this.role === 'client') this.hasSparePath = this.sparePath() !== undefined;
  }

  /** Handshake or established (a method, so that TypeScript does not narrow the state across frame handlers). */
  private isOpen(): boolean {
    return this.stateValue === 'handshake' || this.stateValue === 'established';
  }

  private onCryptoFrame(now: number, level: Level, offset: number, data: Uint8Array): void {
    const space = this.spaces[level];
    if (space.discarded) return;
    space.cryptoRecv.insert(offset, data);
    for (let chunk = space.cryptoRecv.read(); chunk !== undefined; chunk = space.cryptoRecv.read()) {
      const alert = this.tls.receive(level, chunk, now + this.wallClockOffset);
      if (alert !== undefined) {
        this.processTls(now);
        throw alert;
      }
      this.processTls(now);
    }
  }

  private onAckFrame(now: number, level: Level, frame: AckFrame): void {
    const space = this.spaces[level];
    if (space.discarded) return;
    const exponent = this.peerParams?.ackDelayExponent ?? 3;
    // RFC 9000 §19.3: ACK Delay is in units of 2^ack_delay_exponent µs; Initial/Handshake ACK delays are ignored (RFC 9002 §5.3).
    const ackDelay = level === 'application' ? (frame.ackDelay * 2 ** exponent) / 1000 : 0;
    const result = this.loss.onAckReceived(
      level,
      { largestAcknowledged: frame.largestAcknowledged, ackDelay, ranges: frame.ranges, ...(frame.ecn !== undefined && { ecn: frame.ecn }) },
      now,
      this.recoveryContext(),
    );
    if (result.ignored) return;
    if (result.ackOfUnsentPacket) {
      throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'ACK of a packet never sent (RFC 9000 §13.1)', FrameType.ACK);
    }
    if (level === 'handshake') this.handshakeAckReceived = true;
    this.onLostPackets(now, result.lost);
    if (result.persistentCongestion) this.cc.onPersistentCongestion(now);
    if (result.ecnCeIncreased && result.largestAckedTimeSent !== undefined) this.cc.onEcnCe(result.largestAckedTimeSent, now);
    if (result.newlyAcked.length > 0) {
      for (const p of result.newlyAcked) {
        if (p.phase === this.writePhase && level === 'application' && !p.zeroRtt) this.writePhaseAcked = true;
        for (const item of p.items) this.onItemAcked(level, item);
      }
      this.cc.onPacketsAcked(result.newlyAcked, now, this.loss.rtt);
      // RFC 9001 §4.1.2: a client may treat an acknowledged 1-RTT packet as handshake confirmation.
      if (level === 'application' && this.role === 'client' && this.handshakeComplete && !this.handshakeConfirmed) {
        if (result.newlyAcked.some((p) => !p.zeroRtt)) this.confirmHandshake(now);
      }
    }
    if (this.qlog !== undefined && result.rttUpdated) {
      const rtt = this.loss.rtt;
      this.qlog.metricsUpdated(now, {
        smoothedRtt: rtt.smoothedRtt,
        minRtt: rtt.minRtt,
        latestRtt: rtt.latestRtt,
        rttVariance: rtt.rttvar,
        congestionWindow: Math.round(this.cc.window),
        bytesInFlight: this.cc.bytesInFlight,
        ...(Number.isFinite(this.cc.ssthresh) && { ssthresh: Math.round(this.cc.ssthresh) }),
      });
    }
  }

  private onLostPackets(now: number, lost: readonly ConnSentPacket[]): void {
    if (lost.length === 0) return;
    const forCc: ConnSentPacket[] = [];
    for (const p of lost) {
      this.packetsLost++;
      this.onPacketLostItems(p);
      if (!(p.zeroRtt && this.zeroRttRejected)) forCc.push(p);
      this.qlog?.packetLost(now, { packetType: p.qlogType, packetNumber: p.packetNumber });
    }
    if (forCc.length > 0) this.cc.onPacketsLost(forCc, now);
  }

  private onPacketLostItems(p: ConnSentPacket): void {
    if (p.zeroRtt && this.zeroRttRejected) return; // already handed back to the streams in one piece
    for (const item of p.items) this.onItemLost(item);
  }

  private onItemAcked(level: Level, item: SentItem): void {
    if (isStreamSentItem(item)) {
      this.streams.onAcked(item);
      return;
    }
    switch (item.kind) {
      case 'crypto':
        if (!this.spaces[item.level].discarded) this.spaces[item.level].cryptoSend.onAcked(item.offset, item.length);
        return;
      case 'ack':
        this.spaces[level].tracker.onAckOfAckReceived(item.largest);
        return;
      case 'new_connection_id':
        this.localCids.onFrameAcked(item.sequence);
        return;
      case 'retire_connection_id':
        this.peerCids.onFrameAcked(item.sequence);
        return;
      default:
        return;
    }
  }

  private onItemLost(item: SentItem): void {
    if (isStreamSentItem(item)) {
      this.streams.onLost(item);
      return;
    }
    switch (item.kind) {
      case 'crypto':
        if (!this.spaces[item.level].discarded) this.spaces[item.level].cryptoSend.onLost(item.offset, item.length);
        return;
      case 'handshake_done':
        this.handshakeDonePending = true;
        return;
      case 'new_connection_id':
        this.localCids.onFrameLost(item.sequence);
        return;
      case 'retire_connection_id':
        this.peerCids.onFrameLost(item.sequence);
        return;
      case 'new_token':
        this.newTokenPending = this.newTokenSource !== undefined;
        return;
      default:
        return;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // TLS

  private processTls(now: number): void {
    for (let ev: TlsEvent | undefined = this.tls.poll(); ev !== undefined; ev = this.tls.poll()) {
      switch (ev.type) {
        case 'handshake-data':
          this.spaces[ev.level].cryptoSend.append(ev.data);
          break;
        case 'secret':
          this.installSecret(ev);
          break;
        case 'early-data-rejected':
          this.onZeroRttRejected();
          break;
        case 'handshake-complete':
          this.onHandshakeComplete(now);
          break;
        case 'session-ticket':
          this.events.push({ type: 'session-ticket', ticket: ev.ticket });
          break;
        case 'error':
          throw ev.error;
      }
    }
    if (this.peerParams === undefined) {
      const raw = this.tls.peerTransportParameters;
      if (raw !== undefined) this.applyPeerParams(raw);
    }
  }

  private installSecret(s: TrafficSecret): void {
    const keys = derivePacketKeys(this.provider, s.aead, s.secret, this.version);
    const protection = new PacketProtection(this.provider, s.aead, keys);
    const write = s.direction === 'write';
    switch (s.level) {
      case 'early':
        if (write) this.zeroRttWrite = protection;
        else this.zeroRttRead = protection;
        return;
      case 'handshake':
        if (write) this.spaces.handshake.write = protection;
        else this.spaces.handshake.read = protection;
        return;
      case 'application':
        this.appAead = s.aead;
        if (write) {
          this.appWriteSecret = s.secret.slice();
          this.spaces.application.write = protection;
        } else {
          this.appReadSecret = s.secret.slice();
          this.spaces.application.read = protection;
          this.readNext = this.deriveNextRead();
        }
        return;
    }
  }

  private deriveNextRead(): PacketProtection | undefined {
    const current = this.spaces.application.read;
    if (this.appReadSecret === undefined || this.appAead === undefined || current === undefined) return undefined;
    const secret = nextTrafficSecret(this.provider, hashForAead(this.appAead), this.appReadSecret, this.version);
    const keys = derivePacketKeys(this.provider, this.appAead, secret, this.version);
    return current.nextPhase(this.provider, keys);
  }

  private installInitialKeys(dcid: Uint8Array): void {
    const keys = deriveInitialKeys(dcid, this.version, this.provider);
    const mine = this.role === 'client' ? keys.client : keys.server;
    const theirs = this.role === 'client' ? keys.server : keys.client;
    this.spaces.initial.write = new PacketProtection(this.provider, 'aes-128-gcm', mine);
    this.spaces.initial.read = new PacketProtection(this.provider, 'aes-128-gcm', theirs);
  }

  private buildLocalParams(localCid: Uint8Array): Partial<TransportParameters> {
    const p: Partial<TransportParameters> = {
      maxIdleTimeout: this.cfg.maxIdleTimeout,
      maxUdpPayloadSize: 65527,
      initialMaxData: this.cfg.initialMaxData,
      initialMaxStreamDataBidiLocal: this.cfg.initialMaxStreamData,
      initialMaxStreamDataBidiRemote: this.cfg.initialMaxStreamData,
      initialMaxStreamDataUni: this.cfg.initialMaxStreamData,
      initialMaxStreamsBidi: this.cfg.maxConcurrentBidiStreams,
      initialMaxStreamsUni: this.cfg.maxConcurrentUniStreams,
      ackDelayExponent: 3,
      maxAckDelay: this.cfg.maxAckDelay,
      disableActiveMigration: this.cfg.disableActiveMigration,
      activeConnectionIdLimit: 8,
      initialSourceConnectionId: localCid,
    };
    if (this.cfg.maxDatagramFrameSize > 0) p.maxDatagramFrameSize = this.cfg.maxDatagramFrameSize;
    if (this.role === 'server') {
      p.originalDestinationConnectionId = this.originalDcid;
      if (this.retrySourceCid !== undefined) p.retrySourceConnectionId = this.retrySourceCid;
      const seq0 = this.localCids.handshakeCid;
      if (seq0 !== undefined) p.statelessResetToken = seq0.statelessResetToken;
      const seq1 = this.localCids.preferredAddressCid;
      if (this.preferredOffer !== undefined && seq1 !== undefined) {
        p.preferredAddress = encodePreferredAddress(this.preferredOffer, seq1.connectionId, seq1.statelessResetToken);
      }
    }
    return p;
  }

  private applyPeerParams(raw: Uint8Array): void {
    const peer = this.role === 'client' ? 'server' : 'client';
    const p = decodeTransportParameters(raw, peer);
    const tpError = (m: string): QuicCodecError => new QuicCodecError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, m);
    // RFC 9000 §7.3: authenticate the connection IDs of the handshake.
    if (this.peerHandshakeScid !== undefined) {
      if (p.initialSourceConnectionId === undefined || !bytesEqual(p.initialSourceConnectionId, this.peerHandshakeScid)) {
        throw tpError('initial_source_connection_id does not match the peer SCID');
      }
    } else if (p.initialSourceConnectionId === undefined) {
      throw tpError('initial_source_connection_id missing');
    }
    if (this.role === 'client') {
      if (p.originalDestinationConnectionId === undefined || !bytesEqual(p.originalDestinationConnectionId, this.originalDcid)) {
        throw tpError('original_destination_connection_id does not match');
      }
      if (this.retried) {
        if (p.retrySourceConnectionId === undefined || this.retrySourceCid === undefined || !bytesEqual(p.retrySourceConnectionId, this.retrySourceCid)) {
          throw tpError('retry_source_connection_id does not match the Retry');
        }
      } else if (p.retrySourceConnectionId !== undefined) {
        throw tpError('retry_source_connection_id without a Retry');
      }
      if (p.statelessResetToken !== undefined && this.peerCids.connectionIds().length > 0 && !this.peerCids.usesZeroLength) {
        this.peerCids.setHandshakeResetToken(p.statelessResetToken);
      }
      if (p.preferredAddress !== undefined) {
        // RFC 9000 §9.6: its CID (sequence 1) is a spare CID like any other; the addresses wait for confirmation.
        this.peerCids.addPreferredAddressCid(p.preferredAddress.connectionId, p.preferredAddress.statelessResetToken);
        const offer = decodePreferredAddress(p.preferredAddress);
        if (offer.ipv4 !== undefined || offer.ipv6 !== undefined) this.preferredOffer = offer;
      }
    }
    this.peerParams = p;
    this.migration.onPeerTransportParameters({ disableActiveMigration: p.disableActiveMigration, maxAckDelay: p.maxAckDelay });
    this.qlog?.parametersSet(this.lastReceiveTime, 'remote', p);
    this.streams.setPeerLimits(p);
    this.maxPeerDatagramFrame = p.maxDatagramFrameSize ?? 0;
    this.localCids.setPeerActiveConnectionIdLimit(p.activeConnectionIdLimit);
    // RFC 9000 §10.1: the effective idle timeout is the minimum of both, where 0 means none.
    const mine = this.cfg.maxIdleTimeout;
    const theirs = p.maxIdleTimeout;
    this.idleTimeoutMs = mine === 0 ? theirs : theirs === 0 ? mine : Math.min(mine, theirs);
  }

  private onHandshakeComplete(now: number): void {
    if (this.handshakeComplete) return;
    this.handshakeComplete = true;
    this.stateValue = 'established';
    this.events.push({
      type: 'connected',
      alpn: this.tls.alpn,
      resumed: this.tls.resumed,
      earlyDataAccepted: this.tls.earlyDataAccepted,
    });
    this.qlog?.event(now, STATE_UPDATED, { new: 'handshake_complete' });
    if (this.role === 'server') {
      // RFC 9001 §4.1.2: the server's handshake is confirmed at completion; it tells the client with HANDSHAKE_DONE.
      this.handshakeDonePending = true;
      this.newTokenPending = this.newTokenSource !== undefined;
      this.confirmHandshake(now);
    }
  }

  private confirmHandshake(now: number): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.migration.onHandshakeConfirmed();
    this.events.push({ type: 'handshake-confirmed' });
    // RFC 9000 §9.6.1: a client moves to the preferred address only once the handshake is confirmed.
    if (this.role === 'client' && this.preferredOffer !== undefined) this.events.push({ type: 'preferred-address', offer: this.preferredOffer });
    // RFC 9001 §4.9.2: Handshake keys are discarded once the handshake is confirmed.
    if (!this.spaces.handshake.discarded) this.discardSpace('handshake', now);
    if (!this.spaces.initial.discarded) this.discardSpace('initial', now);
    this.zeroRttWrite = undefined;
    this.qlog?.event(now, STATE_UPDATED, { new: 'handshake_confirmed' });
  }

  private onZeroRttRejected(): void {
    this.zeroRttRejected = true;
    this.zeroRttWrite = undefined;
    this.streams.onZeroRttRejected();
    // RFC 9002 §6.4 (as applied by RFC 9001 §4.6.2): rejected 0-RTT packets no longer count in flight.
    let bytes = 0;
    for (const p of this.loss.outstanding('application')) if (p.zeroRtt && p.inFlight) bytes += p.bytes;
    if (bytes > 0) this.cc.onPacketsDiscarded(bytes);
    this.events.push({ type: 'early-data-rejected' });
  }

  private discardSpace(level: Level, now: number): void {
    const dropped = this.loss.discardSpace(level, now);
    let bytes = 0;
    for (const p of dropped) if (p.inFlight) bytes += p.bytes;
    if (bytes > 0) this.cc.onPacketsDiscarded(bytes);
    this.spaces[level].discard();
    this.bufferedPackets = this.bufferedPackets.filter((b) => b.level !== level);
  }

  private onPeerKeyUpdate(now: number, pn: number, phaseBit: boolean): void {
    // RFC 9001 §6.2: the peer moved to the next key phase: our read keys follow, and our write keys too if needed.
    const next = this.readNext;
    if (next === undefined || this.appReadSecret === undefined || this.appAead === undefined) return;
    this.readPrev = this.spaces.application.read;
    this.spaces.application.read = next;
    this.appReadSecret = nextTrafficSecret(this.provider, hashForAead(this.appAead), this.appReadSecret, this.version);
    this.readNext = this.deriveNextRead();
    this.readPhaseBit = phaseBit;
    this.readPhaseStartPn = pn;
    this.readPrevDiscardAt = now + CLOSE_PTO_MULTIPLIER * this.ptoPeriod();
    const writeBit = (this.writePhase & 1) === 1;
    if (writeBit !== phaseBit) {
      this.rotateWriteKeys();
      this.events.push({ type: 'key-update', initiatedBy: 'peer', phase: this.writePhase });
    }
  }

  private rotateWriteKeys(): void {
    if (this.appWriteSecret === undefined || this.appAead === undefined || this.spaces.application.write === undefined) return;
    this.appWriteSecret = nextTrafficSecret(this.provider, hashForAead(this.appAead), this.appWriteSecret, this.version);
    const keys = derivePacketKeys(this.provider, this.appAead, this.appWriteSecret, this.version);
    this.spaces.application.write = this.spaces.application.write.nextPhase(this.provider, keys);
    this.writePhase++;
    this.writePhaseAcked = false;
    this.packetsInWritePhase = 0;
    this.keyUpdates++;
  }

  private maybeInitiateKeyUpdate(): void {
    if (!this.handshakeConfirmed || !this.writePhaseAcked) return;
    const forced = this.packetsInWritePhase >= this.cfg.keyUpdateInterval;
    if (!forced && !this.keyUpdateRequested) return;
    // RFC 9001 §6.1: we may not initiate again before the peer's answer to the last update (read phase caught up).
    if (((this.writePhase & 1) === 1) !== this.readPhaseBit) return;
    this.keyUpdateRequested = false;
    this.rotateWriteKeys();
    this.events.push({ type: 'key-update', initiatedBy: 'local', phase: this.writePhase });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Errors and closing

  private onError(now: number, e: unknown): void {
    if (e instanceof QuicCodecError) {
      this.enterClosing(now, { errorCode: e.code, reason: e.message, application: false, frameType: e.frameType ?? 0 }, 'local');
    } else if (e instanceof TlsAlertError) {
      // RFC 9001 §4.8: a TLS alert becomes CRYPTO_ERROR 0x100 + alert.
      this.enterClosing(now, { errorCode: e.quicErrorCode, reason: e.message, application: false, frameType: FrameType.CRYPTO }, 'local');
    } else {
      // A bug of ours must still not escape into the caller's event loop: close as INTERNAL_ERROR.
      this.enterClosing(now, { errorCode: TransportErrorCode.INTERNAL_ERROR, reason: `internal error: ${errorMessage(e)}`, application: false, frameType: 0 }, 'local');
    }
  }

  private enterClosing(now: number, frame: CloseFrameInfo, source: 'local'): void {
    this.closeFrame = frame;
    this.closeSendPending = true;
    this.stateValue = 'closing';
    this.closeDeadline = now + CLOSE_PTO_MULTIPLIER * this.ptoPeriod();
    this.setCloseInfo({ source, errorCode: frame.errorCode, application: frame.application, reason: frame.reason, frameType: frame.frameType });
    this.streams.closeAll();
  }

  private enterDraining(now: number, info: CloseInfo): void {
    const wasClosing = this.stateValue === 'closing';
    this.stateValue = info.source === 'remote' ? 'draining' : 'closed';
    // Draining after closing keeps the closing period's deadline (RFC 9000 §10.2.2).
    if (!wasClosing || this.closeDeadline === undefined) {
      this.closeDeadline = info.source === 'remote' ? now + CLOSE_PTO_MULTIPLIER * this.ptoPeriod() : undefined;
    }
    this.closeSendPending = false;
    this.setCloseInfo(info);
    this.streams.closeAll();
  }

  private setCloseInfo(info: CloseInfo): void {
    if (this.closeInfo !== undefined) return;
    this.closeInfo = info;
    this.events.push({ type: 'closed', info });
    const triggers = {
      local: info.application ? 'application' : 'error',
      remote: 'unspecified',
      'idle-timeout': 'idle_timeout',
      'handshake-timeout': 'idle_timeout',
      'stateless-reset': 'stateless_reset',
      'version-negotiation': 'version_mismatch',
    } as const;
    this.qlog?.connectionClosed(this.lastReceiveTime, {
      initiator: info.source === 'remote' ? 'remote' : 'local',
      errorCode: info.errorCode,
      application: info.application,
      reason: info.reason,
      trigger: triggers[info.source],
    });
  }

  private ptoPeriod(): number {
    return this.loss.rtt.pto(this.peerParams?.maxAckDelay ?? 25);
  }

  /** Refreshed in place: it is read on every ACK and every pollTimeout. */
  private readonly ctx = {
    isClient: false,
    handshakeConfirmed: false,
    maxAckDelay: 25,
    peerCompletedAddressValidation: false,
    hasHandshakeKeys: false,
    amplificationBlocked: false,
  };

  private recoveryContext(): RecoveryContext {
    const c = this.ctx;
    c.isClient = this.role === 'client';
    c.handshakeConfirmed = this.handshakeConfirmed;
    c.maxAckDelay = this.peerParams?.maxAckDelay ?? 25;
    c.peerCompletedAddressValidation = this.role === 'server' || this.handshakeConfirmed || this.handshakeAckReceived;
    c.hasHandshakeKeys = this.spaces.handshake.write !== undefined;
    c.amplificationBlocked = this.role === 'server' && this.amplificationBudget() < MIN_INITIAL_DATAGRAM_SIZE;
    return c;
  }

  private amplificationBudget(): number {
    if (this.addressValidated) return Infinity;
    // RFC 9000 §8.1: at most three times the bytes received from an unvalidated address.
    return 3 * this.bytesReceivedUnvalidated - this.bytesSentUnvalidated;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Timers

  pollTimeout(): number | undefined {
    if (this.stateValue === 'closed') return undefined;
    if (this.stateValue === 'closing' || this.stateValue === 'draining') return this.closeDeadline;
    let t = Infinity;
    const timer = this.loss.lossDetectionTimer(this.recoveryContext());
    if (timer !== undefined) t = Math.min(t, timer.time);
    for (const level of LEVELS) {
      const space = this.spaces[level];
      if (space.discarded) continue;
      const d = space.tracker.ackDeadline();
      if (d !== undefined) t = Math.min(t, d);
    }
    const idle = this.idleDeadline();
    if (idle !== undefined) t = Math.min(t, idle);
    if (!this.handshakeComplete && this.cfg.handshakeTimeout > 0) t = Math.min(t, this.createdAt + this.cfg.handshakeTimeout);
    if (this.pacingBlockedUntil !== undefined) t = Math.min(t, this.pacingBlockedUntil);
    if (this.cfg.keepAliveInterval > 0 && this.handshakeComplete) t = Math.min(t, this.lastActivity() + this.cfg.keepAliveInterval);
    if (this.readPrevDiscardAt !== undefined) t = Math.min(t, this.readPrevDiscardAt);
    const m = this.migration.nextTimeout();
    if (m !== undefined) t = Math.min(t, m);
    if (timer === undefined) {
      const s = this.silenceDeadline();
      if (s !== undefined) t = Math.min(t, s);
    }
    return t === Infinity ? undefined : t;
  }

  /**
   * A client receiving a transfer has nothing in flight, so a path that goes dark raises no PTO on its side. When
   * the peer was sending and then nothing arrives for SILENCE_PTOS PTOs, a PING asks the path whether it is alive:
   * unanswered, its PTOs lead to failover (maybeFailOver). Only with a spare path to go to; a false alarm costs
   * one PING.
   */
  private silenceDeadline(): number | undefined {
    if (this.role !== 'client' || !this.cfg.pathFailover || !this.hasSparePath || this.silenceProbed || !this.handshakeConfirmed) return undefined;
    const pto = this.ptoPeriod();
    if (this.lastReceiveTime - this.lastAckElicitingReceived > pto) return undefined;
    return this.lastReceiveTime + SILENCE_PTOS * pto;
  }

  private lastActivity(): number {
    return Math.max(this.lastReceiveTime, this.lastAckElicitingSendTime ?? -Infinity);
  }

  private idleDeadline(): number | undefined {
    if (this.idleTimeoutMs === 0) return undefined;
    // RFC 9000 §10.1: at least three PTOs, so that probes get their chance.
    const timeout = Math.max(this.idleTimeoutMs, CLOSE_PTO_MULTIPLIER * this.ptoPeriod());
    return this.lastActivity() + timeout;
  }

  handleTimeout(now: number): void {
    try {
      this.onTimeouts(now);
    } catch (e) {
      this.onError(now, e);
    }
  }

  private onTimeouts(now: number): void {
    if (this.stateValue === 'closed') return;
    if (this.stateValue === 'closing' || this.stateValue === 'draining') {
      if (this.closeDeadline !== undefined && now >= this.closeDeadline) {
        this.stateValue = 'closed';
        this.closeDeadline = undefined;
      }
      return;
    }
    const idle = this.idleDeadline();
    if (idle !== undefined && now >= idle) {
      // RFC 9000 §10.1: silently closed.
      this.enterDraining(now, { source: 'idle-timeout', errorCode: 0, application: false, reason: 'idle timeout' });
      return;
    }
    if (!this.handshakeComplete && this.cfg.handshakeTimeout > 0 && now >= this.createdAt + this.cfg.handshakeTimeout) {
      this.enterDraining(now, { source: 'handshake-timeout', errorCode: 0, application: false, reason: `handshake not complete after ${this.cfg.handshakeTimeout} ms` });
      return;
    }
    if (this.pacingBlockedUntil !== undefined && now >= this.pacingBlockedUntil) this.pacingBlockedUntil = undefined;
    if (this.readPrevDiscardAt !== undefined && now >= this.readPrevDiscardAt) {
      // RFC 9001 §6.5: old read keys are kept about three PTOs for reordered packets, then dropped.
      this.readPrev = undefined;
      this.readPrevDiscardAt = undefined;
    }
    if (this.cfg.keepAliveInterval > 0 && this.handshakeComplete && now >= this.lastActivity() + this.cfg.keepAliveInterval) {
      this.pingPending = true;
    }
    this.migration.setPto(this.ptoPeriod());
    const m = this.migration.nextTimeout();
    if (m !== undefined && now >= m) {
      this.migration.onTimeout(now);
      this.drainMigrationEvents(now);
      if (!this.isOpen()) return;
    }
    const ctx = this.recoveryContext();
    const timer = this.loss.lossDetectionTimer(ctx);
    if (timer === undefined) {
      const silence = this.silenceDeadline();
      if (silence !== undefined && now >= silence) {
        this.silenceProbed = true;
        this.pingPending = true;
        this.qlog?.event(now, MIGRATION_STATE, { new: 'probing_started', trigger: 'receive_silence', path_remote: { ip: this.remoteAddr.address, port: this.remoteAddr.port } });
      }
    }
    if (timer !== undefined && now >= timer.time) {
      const r = this.loss.onTimeout(now, ctx);
      if (r.kind === 'loss') {
        this.onLostPackets(now, r.lost);
        if (r.persistentCongestion) this.cc.onPersistentCongestion(now);
      } else if (r.kind === 'pto') {
        const space = this.spaces[r.space];
        space.probes = Math.max(space.probes, r.probes);
        if (r.space === 'application') this.maybeFailOver(now);
        // RFC 9002 §6.2.4: probes carry data when there is some: unacknowledged CRYPTO data is sent again.
        if (r.space !== 'application') space.cryptoSend.resendUnacked();
        else if (!this.handshakeConfirmed) {
          // RFC 9002 §6.2.4 / §6.2.2.1: also probe the handshake spaces still in use.
          if (!this.spaces.handshake.discarded && this.spaces.handshake.write !== undefined) {
            this.spaces.handshake.cryptoSend.resendUnacked();
            this.spaces.handshake.probes = Math.max(this.spaces.handshake.probes, 1);
          }
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sending

  /**
   * The next datagram to send, or undefined when nothing may be sent now (see pollTimeout). Call repeatedly until
   * it returns undefined after every handleDatagram / handleTimeout / application call.
   */
  pollTransmit(now: number): Transmit | undefined {
    try {
      return this.buildTransmit(now);
    } catch (e) {
      this.onError(now, e);
      try {
        return this.buildTransmit(now);
      } catch {
        return undefined;
      }
    }
  }

  private buildTransmit(now: number): Transmit | undefined {
    if (this.stateValue === 'closed' || this.stateValue === 'draining') return undefined;
    if (this.stateValue === 'closing') return this.buildCloseTransmit();
    if (this.handshakeComplete && this.spaces.application.write !== undefined) {
      // PATH_RESPONSE / PATH_CHALLENGE datagrams first (RFC 9000 §8.2.2: responses are not delayed).
      const probe = this.migration.pollTransmit(now);
      if (probe !== undefined) return this.buildProbe(now, probe);
    }
    this.maybeInitiateKeyUpdate();

    // RFC 9000 §8.1 (handshake path) and §9.3.1 (a path the peer moved to, until validated): three times what came in.
    const budget = Math.min(this.cfg.maxDatagramSize, this.amplificationBudget(), this.migration.allowance(this.activePath.key));
    if (budget < 64) return undefined;
    const probing = this.spaces.initial.probes + this.spaces.handshake.probes + this.spaces.application.probes > 0;
    let congestionOk = probing || this.cc.canSend(this.cfg.maxDatagramSize);
    if (congestionOk && !probing && this.cfg.pacing && this.loss.rtt.hasSample) {
      const at = this.pacer.nextSendTime(now, this.cfg.maxDatagramSize, this.cc.window, this.loss.rtt.smoothedRtt);
      if (at > now) {
        congestionOk = false;
        this.pacingBlockedUntil = at;
      } else this.pacingBlockedUntil = undefined;
    } else if (!congestionOk) this.pacingBlockedUntil = undefined;

    const buf = this.nextDatagramBuffer();
    this.builder.w = new Writer(buf, 0);
    const packets: PendingPacket[] = [];
    let offset = 0;
    let mustPad = false;
    for (const level of LEVELS) {
      const space = this.spaces[level];
      if (space.discarded) continue;
      const zeroRtt = level === 'application' && space.write === undefined && this.zeroRttWrite !== undefined && this.role === 'client';
      if (space.write === undefined && !zeroRtt) continue;
      if (budget - offset < 48) break;
      const p = this.buildPacket(now, level, zeroRtt, buf, offset, budget, congestionOk);
      if (p === undefined) continue;
      packets.push(p);
      offset = p.payloadEnd + AEAD_TAG_LENGTH;
      // RFC 9000 §14.1: a client pads every datagram with an Initial; a server those with an ack-eliciting Initial.
      if (level === 'initial' && (this.role === 'client' || p.ackEliciting)) mustPad = true;
    }
    if (packets.length === 0) {
      // RFC 9002 §7.8: the window had room and nothing went out: the sender is application-limited, so the window
      // must not grow on what it did not use (else it swells without bound, and with it the pacing rate).
      if (congestionOk && !probing && this.handshakeConfirmed) this.cc.setAppLimited(true, now);
      return undefined;
    }
    if (mustPad) {
      const target = Math.min(budget, Math.max(MIN_INITIAL_DATAGRAM_SIZE, offset));
      if (offset < target) {
        const last = packets[packets.length - 1]!;
        last.payloadEnd += target - offset; // zero bytes are PADDING frames
        offset = target;
      }
    }
    let sentHandshake = false;
    for (const p of packets) {
      this.sealAndRecord(now, p, buf);
      if (p.level === 'handshake') sentHandshake = true;
    }
    if (this.cc.appLimited && !this.cc.canSend(this.cfg.maxDatagramSize)) this.cc.setAppLimited(false, now);
    // RFC 9001 §4.9.1: the client discards Initial keys once it has sent a Handshake packet.
    if (sentHandshake && this.role === 'client' && !this.spaces.initial.discarded) {
      this.discardSpace('initial', now);
    }
    this.datagramsSent++;
    this.bytesSent += offset;
    if (!this.addressValidated) this.bytesSentUnvalidated += offset;
    this.migration.onDatagramSent(this.activePath.key, offset);
    const counters = this.activeCounters;
    counters.bytesSent += offset;
    counters.datagramsSent++;
    const local = this.localOf(this.activePath);
    return local === undefined ? { data: buf.subarray(0, offset), remote: this.remoteAddr } : { data: buf.subarray(0, offset), remote: this.remoteAddr, local };
  }

  /**
   * A zeroed buffer for the next datagram, cut from a larger slab: one allocation per ~50 datagrams instead of one
   * each. Every datagram gets its own region (the caller keeps it until the socket has sent it), never reused.
   */
  private nextDatagramBuffer(): Uint8Array {
    const size = this.cfg.maxDatagramSize;
    if (this.slabOffset + size > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_SIZE, size));
      this.slabOffset = 0;
    }
    const buf = this.slab.subarray(this.slabOffset, this.slabOffset + size);
    this.slabOffset += size;
    return buf;
  }

  private slab = new Uint8Array(0);
  private slabOffset = 0;

  private currentDcid(): Uint8Array {
    if (!this.peerScidSeen) return this.initialDcid;
    const cid = this.peerCids.current(this.activePath.key) ?? this.peerCids.acquire(this.activePath.key);
    return cid?.connectionId ?? this.peerHandshakeScid ?? this.initialDcid;
  }

  private localCidLength(): number {
    return this.localCids.handshakeCid?.connectionId.length ?? 8;
  }

  private writeHeader(
    level: Level,
    zeroRtt: boolean,
    buf: Uint8Array,
    start: number,
    pn: number,
    pnLength: 1 | 2 | 3 | 4,
    dcid: Uint8Array = this.currentDcid(),
  ): { pnOffset: number; lengthOffset: number } {
    const w = new Writer(buf, start);
    const truncated = truncatePacketNumber(pn, pnLength);
    if (level === 'application' && !zeroRtt) {
      const pnOff = writeShortHeader(w, { dcid, packetNumber: truncated, pnLength, keyPhase: (this.writePhase & 1) === 1 });
      return { pnOffset: start + pnOff, lengthOffset: -1 };
    }
    const scid = this.localCids.handshakeCid?.connectionId ?? EMPTY;
    const written = writeLongHeader(w, {
      type: zeroRtt ? '0rtt' : level === 'initial' ? 'initial' : 'handshake',
      version: this.version,
      dcid,
      scid,
      ...(level === 'initial' && this.role === 'client' && { token: this.token }),
      packetNumber: truncated,
      pnLength,
      length: 0,
      lengthFieldSize: 2,
    });
    return { pnOffset: start + written.pnOffset, lengthOffset: start + written.lengthOffset };
  }

  private buildPacket(
    now: number,
    level: Level,
    zeroRtt: boolean,
    buf: Uint8Array,
    start: number,
    budget: number,
    congestionOk: boolean,
  ): PendingPacket | undefined {
    const space = this.spaces[level];
    const protection = zeroRtt ? this.zeroRttWrite! : space.write!;
    const pn = space.nextPn;
    const pnLength = packetNumberLength(pn, this.loss.largestAcked(level) ?? -1);
    const { pnOffset, lengthOffset } = this.writeHeader(level, zeroRtt, buf, start, pn, pnLength);
    const payloadStart = pnOffset + pnLength;
    const b = this.builder;
    b.reset(payloadStart, budget - AEAD_TAG_LENGTH);
    if (b.remaining < 24) return this.abandonPacket(buf, start, payloadStart);

    let ackLargest = -1;
    const tracker = space.tracker;
    const probe = space.probes > 0;
    // ACK: when due, or piggybacked on anything else we send (RFC 9000 §13.2.1). Never in 0-RTT packets.
    if (!zeroRtt && tracker.hasNewPackets && tracker.largestReceived >= 0) {
      const due = tracker.shouldSendAck(now) || level !== 'application';
      const willSendData = congestionOk && this.hasDataFor(level, zeroRtt);
      if (due || willSendData || probe) {
        const maxRanges = Math.max(1, Math.floor((b.remaining - 16) / 4));
        const ack = tracker.buildAckFrame(now, Math.min(32, maxRanges));
        if (ack !== undefined && encodedFrameLength(ack) <= b.remaining) {
          b.push(ack, { kind: 'ack', largest: ack.largestAcknowledged });
          ackLargest = ack.largestAcknowledged;
        }
      }
    }
    if (congestionOk) {
      if (level !== 'application') {
        space.cryptoSend.write(b);
      } else if (!zeroRtt) {
        space.cryptoSend.write(b);
        this.writeApplicationControl(b);
      }
      if (level === 'application') {
        this.writeDatagrams(b);
        if (b.remaining > 8) this.streams.writeFrames(b, now, this.loss.rtt.hasSample ? this.loss.rtt.smoothedRtt : 0);
      }
      if ((probe || (this.pingPending && level === 'application' && !zeroRtt)) && !b.ackEliciting && b.remaining >= 1) {
        b.push({ type: 'ping' }, { kind: 'ping' });
      }
      if (level === 'application' && !zeroRtt) this.pingPending = this.pingPending && !b.ackEliciting;
    }
    if (!b.hasFrames) return this.abandonPacket(buf, start, payloadStart);
    if (probe && b.ackEliciting) space.probes--;
    // RFC 9001 §5.4.2: the header-protection sample needs 4 bytes after the packet number start (plus the tag).
    let payloadEnd = b.w.offset;
    const minEnd = pnOffset + 4;
    if (payloadEnd < minEnd) payloadEnd = minEnd;
    space.nextPn = pn + 1;
    if (ackLargest >= 0) tracker.onAckSent();
    return {
      level,
      zeroRtt,
      start,
      pnOffset,
      pnLength,
      pn,
      payloadEnd,
      lengthOffset,
      protection,
      items: b.items,
      ackEliciting: b.ackEliciting,
      ackLargest,
      frames: b.frames,
      unpaddedEnd: b.w.offset,
    };
  }

  /**
   * The header of an abandoned packet is already in the buffer: it must leave zeros (PADDING) behind, because the
   * padding of the previous packet in the datagram may extend over these bytes.
   */
  private abandonPacket(buf: Uint8Array, start: number, payloadStart: number): undefined {
    buf.fill(0, start, Math.max(this.builder.w.offset, payloadStart));
    return undefined;
  }

  private hasDataFor(level: Level, zeroRtt: boolean): boolean {
    const space = this.spaces[level];
    if (space.cryptoSend.hasData && !zeroRtt) return true;
    if (level !== 'application') return false;
    if (this.datagramQueue.length > 0 || this.pingPending) return true;
    if (!zeroRtt && (this.handshakeDonePending || this.localCids.hasPendingFrames || this.peerCids.hasPendingFrames)) {
      return true;
    }
    return this.streams.wantsToSend();
  }

  private writeApplicationControl(b: PacketBuilder): void {
    if (this.handshakeDonePending && b.remaining >= 1) {
      b.push({ type: 'handshake_done' }, { kind: 'handshake_done' });
      this.handshakeDonePending = false;
    }
    if (this.handshakeComplete) {
      if (this.newTokenPending && this.newTokenSource !== undefined) {
        const token = this.newTokenSource();
        this.newTokenPending = false;
        if (token !== undefined && token.length > 0 && b.remaining >= token.length + 8) {
          b.push({ type: 'new_token', token }, { kind: 'new_token' });
        }
      }
      while (this.localCids.hasPendingFrames && b.remaining >= 48) {
        const [frame] = this.localCids.pollFrames(1);
        if (frame === undefined) break;
        b.push(frame, { kind: 'new_connection_id', sequence: frame.sequenceNumber });
      }
      while (this.peerCids.hasPendingFrames && b.remaining >= 10) {
        const [frame] = this.peerCids.pollFrames(1);
        if (frame === undefined) break;
        b.push(frame, { kind: 'retire_connection_id', sequence: frame.sequenceNumber });
      }
    }
  }

  private writeDatagrams(b: PacketBuilder): void {
    while (this.datagramQueue.length > 0) {
      const data = this.datagramQueue[0]!;
      const frame: Frame = { type: 'datagram', data, explicitLength: true };
      const size = encodedFrameLength(frame);
      if (size > b.remaining) {
        // Too large for what is left of this packet; a fresh packet takes it (sendDatagram bounded its size).
        if (b.hasFrames) return;
        this.datagramQueue.shift();
        continue;
      }
      this.datagramQueue.shift();
      b.push(frame, { kind: 'datagram' });
    }
  }

  private sealAndRecord(now: number, p: PendingPacket, buf: Uint8Array): void {
    if (p.lengthOffset >= 0) {
      // Long header Length: packet number + payload + tag (RFC 9000 §17.2).
      patchLongHeaderLength(buf, p.lengthOffset, p.payloadEnd - p.pnOffset + AEAD_TAG_LENGTH);
    }
    const packetView = buf.subarray(p.start);
    let size: number;
    if (this.deferSeal && p.lengthOffset < 0) {
      // Sealed together with the other short-header packets of this batch (one AEAD call, see pollTransmitBatch).
      if (this.sealJobCount > 0 && this.sealJobProtection !== p.protection) this.flushSeals();
      this.sealJobProtection = p.protection;
      let job = this.sealJobs[this.sealJobCount];
      if (job === undefined) {
        job = { packet: packetView, pnOffset: 0, pnLength: 1, packetNumber: 0, payloadEnd: 0, length: 0 };
        this.sealJobs.push(job);
      }
      job.packet = packetView;
      job.pnOffset = p.pnOffset - p.start;
      job.pnLength = p.pnLength;
      job.packetNumber = p.pn;
      job.payloadEnd = p.payloadEnd - p.start;
      this.sealJobCount++;
      size = job.payloadEnd + AEAD_TAG_LENGTH;
    } else {
      size = p.protection.seal(packetView, p.pnOffset - p.start, p.pnLength, p.pn, p.payloadEnd - p.start);
    }
    // RFC 9002 §2: ack-eliciting packets and those with PADDING count in flight; ACK-only packets do not.
    const inFlight = p.ackEliciting || p.payloadEnd > p.unpaddedEnd;
    const record: ConnSentPacket = {
      packetNumber: p.pn,
      timeSent: now,
      bytes: size,
      ackEliciting: p.ackEliciting,
      inFlight,
      items: p.items,
      zeroRtt: p.zeroRtt,
      phase: this.writePhase,
      qlogType: p.zeroRtt ? '0rtt' : p.level === 'application' ? '1rtt' : p.level,
    };
    this.loss.onPacketSent(p.level, record, now);
    if (record.inFlight) {
      this.cc.onPacketSent(size, now, p.pn);
      if (this.cfg.pacing) this.pacer.onSent(now, size, this.cc.window, this.loss.rtt.smoothedRtt);
    }
    if (p.ackEliciting) {
      // RFC 9000 §10.1: sending the first ack-eliciting packet after a receive restarts the idle timer.
      if (this.lastAckElicitingSendTime === undefined) this.lastAckElicitingSendTime = now;
    }
    if (p.level === 'application' && !p.zeroRtt) this.packetsInWritePhase++;
    this.packetsSent++;
    if (this.qlog !== undefined) {
      this.qlog.packetSent(now, { packetType: record.qlogType, packetNumber: p.pn, length: size, frames: p.frames ?? [] });
    }
  }

  private deferSeal = false;
  private readonly sealJobs: PacketSealJob[] = [];
  private sealJobCount = 0;
  private sealJobProtection: PacketProtection | undefined;

  private flushSeals(): void {
    if (this.sealJobCount === 0 || this.sealJobProtection === undefined) return;
    this.sealJobProtection.sealBatch(this.sealJobs, this.sealJobCount);
    for (let i = 0; i < this.sealJobCount; i++) this.sealJobs[i]!.packet = EMPTY;
    this.sealJobCount = 0;
    this.sealJobProtection = undefined;
  }

  /**
   * Up to `max` datagrams at once (what pollTransmit would return one by one), with the short-header packets sealed
   * in one batch: the AES-GCM engine computes the keystream of a whole batch in one native call.
   */
  pollTransmitBatch(now: number, max = 16): Transmit[] {
    const out: Transmit[] = [];
    this.deferSeal = true;
    try {
      while (out.length < max) {
        const t = this.buildTransmit(now);
        if (t === undefined) break;
        out.push(t);
      }
      this.flushSeals();
    } catch (e) {
      this.sealJobCount = 0;
      this.sealJobProtection = undefined;
      this.deferSeal = false;
      this.onError(now, e);
      const close = this.pollTransmit(now);
      return close === undefined ? [] : [close];
    } finally {
      this.deferSeal = false;
    }
    return out;
  }

  /** A datagram of probing frames from the migration controller, sent on its path (RFC 9000 §8.2, §9). */
  private buildProbe(now: number, probe: ProbeTransmit): Transmit | undefined {
    const key = probe.path.key;
    const dcid = key === this.activePath.key ? this.currentDcid() : (this.peerCids.current(key) ?? this.peerCids.acquire(key))?.connectionId;
    if (dcid === undefined) return undefined;
    const size = Math.max(64, Math.min(probe.padTo, this.cfg.maxDatagramSize));
    const buf = new Uint8Array(size);
    const space = this.spaces.application;
    const pn = space.nextPn;
    const pnLength = packetNumberLength(pn, this.loss.largestAcked('application') ?? -1);
    const { pnOffset } = this.writeHeader('application', false, buf, 0, pn, pnLength, dcid);
    const b = this.builder;
    b.w = new Writer(buf, 0);
    b.reset(pnOffset + pnLength, buf.length - AEAD_TAG_LENGTH);
    for (const frame of probe.frames) if (encodedFrameLength(frame) <= b.remaining) b.push(frame);
    // RFC 9000 §9.3.3: a challenge on the active path asks for a non-probing packet back.
    if (probe.elicitNonProbing && b.remaining >= 1) b.push({ type: 'ping' }, { kind: 'ping' });
    // Expanded to padTo (RFC 9000 §8.2.1: 1200 bytes unless the amplification limit says less); zeros are PADDING.
    const payloadEnd = Math.max(b.w.offset, pnOffset + 4, buf.length - AEAD_TAG_LENGTH);
    space.nextPn++;
    const p: PendingPacket = {
      level: 'application',
      zeroRtt: false,
      start: 0,
      pnOffset,
      pnLength,
      pn,
      payloadEnd,
      lengthOffset: -1,
      protection: space.write!,
      items: b.items,
      ackEliciting: true,
      ackLargest: -1,
      frames: b.frames,
      unpaddedEnd: b.w.offset,
    };
    const deferred = this.deferSeal;
    this.deferSeal = false;
    this.sealAndRecord(now, p, buf);
    this.deferSeal = deferred;
    this.migration.onDatagramSent(key, buf.length);
    this.datagramsSent++;
    this.bytesSent += buf.length;
    const counters = key === this.activePath.key ? this.activeCounters : this.countersOf(probe.path);
    if (counters !== undefined) {
      counters.bytesSent += buf.length;
      counters.datagramsSent++;
    }
    const local = this.localOf(probe.path);
    const remote = { address: probe.path.remoteAddress, port: probe.path.remotePort };
    return local === undefined ? { data: buf, remote } : { data: buf, remote, local };
  }


  private buildCloseTransmit(): Transmit | undefined {
    if (!this.closeSendPending || this.closeFrame === undefined) return undefined;
    this.closeSendPending = false;
    const c = this.closeFrame;
    const buf = new Uint8Array(this.cfg.maxDatagramSize);
    let offset = 0;
    let hasInitial = false;
    const reason = textEncoder.encode(c.reason).subarray(0, 256);
    const levels: Level[] = this.handshakeConfirmed ? ['application'] : ['initial', 'handshake', 'application'];
    const budget = Math.min(buf.length, this.amplificationBudget());
    for (const level of levels) {
      const space = this.spaces[level];
      if (space.discarded || space.write === undefined) continue;
      // RFC 9000 §10.2.3: before the handshake completes an application close goes out as APPLICATION_ERROR in
      // Initial/Handshake packets, whose peers may not have 1-RTT keys.
      const appForm = c.application && level === 'application';
      const frame: Frame = appForm
        ? { type: 'connection_close', application: true, errorCode: c.errorCode, frameType: 0, reason }
        : {
            type: 'connection_close',
            application: false,
            errorCode: c.application ? TransportErrorCode.APPLICATION_ERROR : c.errorCode,
            frameType: c.application ? 0 : c.frameType,
            reason: c.application ? EMPTY : reason,
          };
      const pn = space.nextPn;
      const pnLength = packetNumberLength(pn, this.loss.largestAcked(level) ?? -1);
      if (budget - offset < 64 + reason.length) break;
      const { pnOffset, lengthOffset } = this.writeHeader(level, false, buf, offset, pn, pnLength);
      const w = new Writer(buf, pnOffset + pnLength);
      encodeFrame(frame, w);
      let payloadEnd = Math.max(w.offset, pnOffset + 4);
      if (level === 'initial') hasInitial = true;
      if (hasInitial && this.role === 'client' && level === levels[levels.length - 1]) {
        payloadEnd = Math.max(payloadEnd, Math.min(budget, MIN_INITIAL_DATAGRAM_SIZE) - AEAD_TAG_LENGTH);
      }
      space.nextPn++;
      if (lengthOffset >= 0) patchLongHeaderLength(buf, lengthOffset, payloadEnd - pnOffset + AEAD_TAG_LENGTH);
      space.write.seal(buf.subarray(offset), pnOffset - offset, pnLength, pn, payloadEnd - offset);
      offset = payloadEnd + AEAD_TAG_LENGTH;
    }
    if (offset === 0) return undefined;
    this.datagramsSent++;
    this.bytesSent += offset;
    if (!this.addressValidated) this.bytesSentUnvalidated += offset;
    const local = this.localOf(this.activePath);
    return local === undefined ? { data: buf.subarray(0, offset), remote: this.remoteAddr } : { data: buf.subarray(0, offset), remote: this.remoteAddr, local };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Events and qlog

  private drainStreamEvents(): void {
    for (let ev = this.streams.pollEvent(); ev !== undefined; ev = this.streams.pollEvent()) {
      this.events.push({ type: 'stream', event: ev });
    }
  }

}


