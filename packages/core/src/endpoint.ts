/**
 * A QUIC endpoint (RFC 9000 §5.2): one UDP socket's worth of connections. It routes datagrams to connections by
 * destination CID, creates server connections for new clients' Initials, answers unknown versions with Version
 * Negotiation (§6), optionally validates addresses with Retry (§8.1.2), accepts NEW_TOKEN tokens (§8.1.3), and
 * sends Stateless Resets for packets of connections it no longer knows (§10.3). Sans-I/O like the connection.
 */
import {
  CidRouter,
  RandomCidGenerator,
  StatelessResetKey,
  bytesEqual,
  createStatelessReset,
  type CidEvent,
} from '@pathquic/cid-manager';
import { cryptoRandom } from '@pathquic/path-validation';
import {
  MIN_INITIAL_DATAGRAM_SIZE,
  QUIC_V1,
  QuicCodecError,
  buildRetryPacket,
  encodeVersionNegotiation,
  nodeCryptoProvider,
  parsePacketHeader,
  reservedVersion,
  type CryptoProvider,
} from '@pathquic/wire-codec';
import { AddressTokenKey } from './address-token.js';
import type { QlogWriter } from './qlog.js';
import { Connection, type ConnectionEvent } from './connection/connection.js';
import {
  ConnectionUsageError,
  type ClientTlsOptions,
  type ServerTlsOptions,
  type SocketAddress,
  type Transmit,
  type TransportConfig,
} from './connection/types.js';
import type { PreferredAddresses } from './connection/addresses.js';

/** RFC 9000 §10.3: a reset is smaller than the packet that triggered it; 21 bytes is the least that can look like one. */
const MIN_RESET_TRIGGER = 22;
/** Endpoint-level datagrams (VN, Retry, resets) queued at most; beyond this they are dropped (they are all optional). */
const MAX_QUEUED_ENDPOINT_DATAGRAMS = 256;

export interface EndpointServerOptions {
  tls: ServerTlsOptions;
  /** Send a Retry to every client without a valid token before creating state (RFC 9000 §8.1.2). Default false. */
  retry?: boolean;
  /** Issue NEW_TOKEN tokens for future connections (RFC 9000 §8.1.3). Default true. */
  newTokens?: boolean;
  /** Most connections still in their handshake; further Initials are dropped (bounded state). Default 1000. */
  maxHandshakingConnections?: number;
  /**
   * Advertise a preferred address (RFC 9000 §9.6) that clients move to after the handshake. The caller must
   * deliver datagrams arriving there to this endpoint, passing `local` to handleDatagram for every datagram (the
   * connections then answer from the address the client used).
   */
  preferredAddress?: PreferredAddresses;
  transport?: TransportConfig;
}

export interface EndpointOptions {
  /** Accept connections with these settings; without it the endpoint is client-only. */
  server?: EndpointServerOptions;
  /** Transport settings of client connections (per-connect options override). */
  transport?: TransportConfig;
  /** Length of our connection IDs, 4..20 (RFC 9000 §17.2 allows up to 20). Default 8. */
  cidLength?: number;
  /** 32-byte static key for stateless reset tokens (RFC 9000 §10.3.2), shared across restarts. Default random. */
  statelessResetKey?: Uint8Array;
  /** Key protecting Retry and NEW_TOKEN tokens. Default a fresh random key. */
  tokenKey?: AddressTokenKey;
  provider?: CryptoProvider;
  random?: (length: number) => Uint8Array;
  /** Added to `now` to get epoch ms for TLS (certificate dates, ticket ages); see ConnectionCommonOptions. */
  wallClockOffset?: number;
  /** handleDatagram may keep views of the datagrams it is given (the caller hands them over); see ConnectionCommonOptions. */
  ownsDatagrams?: boolean;
  /** Creates the qlog writer of each connection (or none). */
  qlog?: (info: { role: 'client' | 'server'; odcid: Uint8Array; now: number }) => QlogWriter | undefined;
}

export interface ConnectOptions {
  tls: ClientTlsOptions;
  /** The local address (socket) the connection starts on; needed to migrate it to another one later. */
  local?: SocketAddress;
  transport?: TransportConfig;
  /** NEW_TOKEN token from an earlier connection to this server. */
  token?: Uint8Array;
}

export type EndpointEvent = { readonly type: 'connection'; readonly connection: Connection };


function addressKey(a: SocketAddress): string {
  return `${a.address}|${a.port}`;
}

export class Endpoint {
  private readonly router: CidRouter<Connection>;
  private readonly resetKey: StatelessResetKey;
  private readonly tokenKey: AddressTokenKey;
  private readonly cidGenerator: RandomCidGenerator;
  private readonly provider: CryptoProvider;
  private readonly random: (n: number) => Uint8Array;
  private readonly connectionSet = new Set<Connection>();
  /** The same connections as an array, for round-robin polling without copying the set per datagram. */
  private connectionList: Connection[] = [];
  /** Client DCIDs of Initials that created connections, routed until the handshake completes (RFC 9000 §7.2). */
  private readonly initialDcids = new Map<Connection, Uint8Array>();
  private readonly queue: Transmit[] = [];
  private readonly events: EndpointEvent[] = [];
  private cursor = 0;
  private closed = false;

  constructor(private readonly options: EndpointOptions = {}) {
    const cidLength = options.cidLength ?? 8;
    // Zero-length CIDs route by address (RFC 9000 §5.2): fine for a client, not for a server that many clients reach.
    const min = options.server === undefined ? 0 : 4;
    if (!Number.isInteger(cidLength) || (cidLength !== 0 && cidLength < 4) || cidLength < min || cidLength > 20) {
      throw new ConnectionUsageError(`cidLength must be ${min === 0 ? '0 or ' : ''}an integer in [4, 20], got ${cidLength}`);
    }
    this.random = options.random ?? cryptoRandom;
    this.provider = options.provider ?? nodeCryptoProvider;
    this.router = new CidRouter<Connection>({ localCidLength: cidLength });
    this.resetKey = new StatelessResetKey(options.statelessResetKey ?? this.random(32));
    this.tokenKey = options.tokenKey ?? new AddressTokenKey({ random: this.random });
    this.cidGenerator = new RandomCidGenerator(cidLength, this.random);
  }

  /** Live connections (not yet fully closed). */
  get connections(): ReadonlySet<Connection> {
    return this.connectionSet;
  }

  get isServer(): boolean {
    return this.options.server !== undefined;
  }

  /** Starts a client connection to `remote`. Its first datagrams come out of `pollTransmit`. */
  connect(now: number, remote: SocketAddress, opts: ConnectOptions): Connection {
    if (this.closed) throw new ConnectionUsageError('the endpoint is closed');
    const zeroLength = this.router.localCidLength === 0;
    if (zeroLength && this.router.getAddress(addressKey(remote)) !== undefined) {
      throw new ConnectionUsageError(`with zero-length connection IDs only one connection per peer address is possible (${remote.address}:${remote.port})`);
    }
    const localCid = this.newCid();
    const transport = { ...this.options.transport, ...opts.transport };
    const initialDcid = this.random(8);
    const qlog = this.options.qlog?.({ role: 'client', odcid: initialDcid, now });
    const conn = Connection.client({
      now,
      remote,
      localCid,
      initialDcid,
      ...(opts.local !== undefined && { local: opts.local }),
      resetKey: this.resetKey,
      cidGenerator: this.cidGenerator,
      isCidInUse: (cid) => this.router.has(cid),
      tls: opts.tls,
      transport,
      provider: this.provider,
      random: this.random,
      wallClockOffset: this.options.wallClockOffset ?? 0,
      ownsDatagrams: this.options.ownsDatagrams ?? false,
      ...(opts.token !== undefined && { token: opts.token }),
      ...(qlog !== undefined && { qlog }),
    });
    this.adopt(conn);
    if (zeroLength) this.router.addAddress(addressKey(remote), conn);
    return conn;
  }

  /**
   * A datagram arrived on the socket from `remote`. Never throws for anything in `data`: unroutable and malformed
   * datagrams are dropped or answered as RFC 9000 says.
   */
  handleDatagram(now: number, data: Uint8Array, remote: SocketAddress, local?: SocketAddress): void {
    if (data.length === 0) return;
    const conn = this.router.route(data, addressKey(remote));
    if (conn !== undefined) {
      conn.handleDatagram(now, data, remote, local);
      this.afterConnectionActivity(conn);
      return;
    }
    try {
      this.handleUnrouted(now, data, remote, local);
    } catch (e) {
      if (!(e instanceof QuicCodecError)) throw e;
    }
  }

  /**
   * Datagrams that arrived together (one socket read burst), in order: each connection gets its run of them at once,
   * so that it can open their packets in one AEAD batch. Same rules as handleDatagram.
   */
  handleDatagramBatch(now: number, datagrams: readonly { readonly data: Uint8Array; readonly remote: SocketAddress; readonly local?: SocketAddress }[]): void {
    let runConn: Connection | undefined;
    let run: { readonly data: Uint8Array; readonly remote: SocketAddress; readonly local?: SocketAddress }[] = [];
    const flush = (): void => {
      if (runConn !== undefined && run.length > 0) {
        runConn.handleDatagramBatch(now, run);
        this.afterConnectionActivity(runConn);
      }
      runConn = undefined;
      run = [];
    };
    for (const d of datagrams) {
      if (d.data.length === 0) continue;
      const conn = this.router.route(d.data, addressKey(d.remote));
      if (conn === undefined) {
        flush();
        this.handleDatagram(now, d.data, d.remote, d.local);
        continue;
      }
      if (conn !== runConn) flush();
      runConn = conn;
      run.push(d);
    }
    flush();
  }

  private handleUnrouted(now: number, data: Uint8Array, remote: SocketAddress, local: SocketAddress | undefined): void {
    const first = data[0]!;
    if ((first & 0x80) === 0) {
      // RFC 9000 §10.3.1: a Stateless Reset carries no DCID of ours; its last 16 bytes say whose it is. Checking it
      // first also keeps two endpoints from resetting each other's resets forever (§10.3.3).
      for (const conn of this.connectionSet) {
        if (conn.isStatelessReset(data)) {
          conn.onStatelessReset(now);
          this.afterConnectionActivity(conn);
          return;
        }
      }
      this.maybeStatelessReset(data, remote);
      return;
    }
    const header = parsePacketHeader(data, 0, { shortDcidLength: this.router.localCidLength });
    if (header.form === 'version_negotiation') return;
    const server = this.options.server;
    if (server === undefined || this.closed) return;
    if (header.form === 'long' && header.type === 'unsupported') {
      // RFC 9000 §6.1: Version Negotiation only for datagrams that could be a first Initial (>= 1200 bytes).
      if (data.length >= MIN_INITIAL_DATAGRAM_SIZE) this.sendVersionNegotiation(header.dcid, header.scid, remote);
      return;
    }
    if (header.form !== 'long' || header.type !== 'initial') return; // 0-RTT before its Initial, stray Handshake
    // RFC 9000 §14.1: a server drops Initials in datagrams smaller than 1200 bytes; §7.2: DCID at least 8 bytes.
    if (data.length < MIN_INITIAL_DATAGRAM_SIZE || header.dcid.length < 8) return;
    let handshaking = 0;
    for (const c of this.connectionList) if (c.role === 'server' && !c.isHandshakeComplete) handshaking++;
    if (handshaking >= (server.maxHandshakingConnections ?? 1000)) return;

    let originalDcid = header.dcid;
    let retrySourceCid: Uint8Array | undefined;
    let validated = false;
    if (header.token.length > 0) {
      const v = this.tokenKey.validate(header.token, remote, now);
      if (v.status === 'valid' && v.token.kind === 'retry') {
        // RFC 9000 §8.1.2: the token says which original DCID the client used and which SCID our Retry chose.
        const retryToken = v.token;
        if (!bytesEqual(retryToken.retrySourceCid, header.dcid)) return;
        originalDcid = retryToken.originalDestinationCid;
        retrySourceCid = retryToken.retrySourceCid;
        validated = true;
      } else if (v.status === 'valid') {
        validated = true;
      } else {
        // RFC 9000 §8.1.3: a Retry token that fails is dropped (a client only has one after our Retry); an expired or
        // foreign NEW_TOKEN token just means no shortcut: the client is treated as if it sent none.
        const kind = v.status === 'invalid' ? v.claimedKind : v.kind;
        if (kind === 'retry' && v.status !== 'invalid') return;
      }
    }
    if (server.retry === true && !validated) {
      this.sendRetry(now, header.dcid, header.scid, header.version, remote);
      return;
    }
    const localCid = this.newCid();
    const qlog = this.options.qlog?.({ role: 'server', odcid: originalDcid, now });
    const newTokens = server.newTokens ?? true;
    const conn = Connection.server({
      now,
      remote,
      localCid,
      originalDcid,
      initialDcid: header.dcid,
      ...(retrySourceCid !== undefined && { retrySourceCid }),
      addressValidated: validated,
      resetKey: this.resetKey,
      cidGenerator: this.cidGenerator,
      isCidInUse: (cid) => this.router.has(cid),
      tls: server.tls,
      ...(server.transport !== undefined && { transport: server.transport }),
      provider: this.provider,
      random: this.random,
      wallClockOffset: this.options.wallClockOffset ?? 0,
      ownsDatagrams: this.options.ownsDatagrams ?? false,
      ...(newTokens && { newToken: () => this.tokenKey.sealNewToken(now, remote) }),
      ...(qlog !== undefined && { qlog }),
      ...(local !== undefined && { local }),
      ...(server.preferredAddress !== undefined && { preferredAddress: server.preferredAddress }),
    });
    this.adopt(conn);
    this.router.add(header.dcid, conn);
    this.initialDcids.set(conn, header.dcid.slice());
    this.events.push({ type: 'connection', connection: conn });
    conn.handleDatagram(now, data, remote, local);
    this.afterConnectionActivity(conn);
  }

  private sendVersionNegotiation(dcid: Uint8Array, scid: Uint8Array, remote: SocketAddress): void {
    // RFC 9000 §17.2.1: the CIDs are echoed swapped; a reserved version is listed to exercise the mechanism (§6.3).
    const grease = reservedVersion(this.random(1)[0]!);
    this.enqueue({
      data: encodeVersionNegotiation({ dcid: scid, scid: dcid, supportedVersions: [QUIC_V1, grease], unusedBits: this.random(1)[0]! }),
      remote,
    });
  }

  private sendRetry(now: number, odcid: Uint8Array, clientScid: Uint8Array, version: number, remote: SocketAddress): void {
    const retryScid = this.newCid();
    const token = this.tokenKey.sealRetryToken(now, remote, odcid, retryScid);
    const packet = buildRetryPacket({ version, dcid: clientScid, scid: retryScid, token, unusedBits: this.random(1)[0]! & 0x0f }, odcid, this.provider);
    this.enqueue({ data: packet, remote });
  }

  private maybeStatelessReset(data: Uint8Array, remote: SocketAddress): void {
    // RFC 9000 §10.3: only for packets at least as large as a reset could be, and always smaller than the trigger.
    if (data.length < MIN_RESET_TRIGGER) return;
    const dcid = data.subarray(1, 1 + this.router.localCidLength);
    const reset = createStatelessReset({ token: this.resetKey.token(dcid), triggerLength: data.length, random: this.random });
    if (reset !== undefined) this.enqueue({ data: reset, remote });
  }

  private enqueue(t: Transmit): void {
    if (this.queue.length < MAX_QUEUED_ENDPOINT_DATAGRAMS) this.queue.push(t);
  }

  private newCid(): Uint8Array {
    for (;;) {
      const cid = this.cidGenerator.generate();
      if (!this.router.has(cid)) return cid;
    }
  }

  private adopt(conn: Connection): void {
    this.connectionSet.add(conn);
    this.connectionList.push(conn);
    this.applyCidEvents(conn, conn.takeCidEvents());
    for (const cid of conn.localConnectionIds()) if (cid.length > 0 && !this.router.has(cid)) this.router.add(cid, conn);
  }

  private applyCidEvents(conn: Connection, events: CidEvent[]): void {
    if (events.length > 0) this.router.applyEvents(events, conn);
  }

  private afterConnectionActivity(conn: Connection): void {
    this.applyCidEvents(conn, conn.takeCidEvents());
    if (conn.isHandshakeComplete) {
      const dcid = this.initialDcids.get(conn);
      if (dcid !== undefined) {
        this.router.remove(dcid, conn);
        this.initialDcids.delete(conn);
      }
    }
    if (conn.isClosed) this.forget(conn);
  }

  private forget(conn: Connection): void {
    if (!this.connectionSet.delete(conn)) return;
    this.connectionList = this.connectionList.filter((c) => c !== conn);
    if (this.router.localCidLength === 0) this.router.removeAddress(addressKey(conn.remote), conn);
    for (const cid of conn.localConnectionIds()) if (cid.length > 0) this.router.remove(cid, conn);
    const dcid = this.initialDcids.get(conn);
    if (dcid !== undefined) this.router.remove(dcid, conn);
    this.initialDcids.delete(conn);
  }

  /** Next datagram to send: endpoint-level ones first, then connections in turn. */
  pollTransmit(now: number): Transmit | undefined {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    const conns = this.connectionList;
    const n = conns.length;
    for (let i = 0; i < n; i++) {
      const conn = conns[(this.cursor + i) % n]!;
      const t = conn.pollTransmit(now);
      if (t !== undefined) {
        this.cursor = (this.cursor + i + 1) % n;
        this.applyCidEvents(conn, conn.takeCidEvents());
        return t;
      }
    }
    return undefined;
  }

  /**
   * Up to `max` datagrams at once, short-header packets sealed in batches (cheaper per packet than pollTransmit).
   * An empty array means nothing to send now.
   */
  pollTransmitBatch(now: number, max = 16): Transmit[] {
    const out: Transmit[] = [];
    while (out.length < max && this.queue.length > 0) out.push(this.queue.shift()!);
    const conns = this.connectionList;
    const n = conns.length;
    for (let i = 0; i < n && out.length < max; i++) {
      const conn = conns[(this.cursor + i) % n]!;
      const batch = conn.pollTransmitBatch(now, max - out.length);
      if (batch.length > 0) {
        for (const t of batch) out.push(t);
        this.applyCidEvents(conn, conn.takeCidEvents());
      }
    }
    this.cursor = n === 0 ? 0 : (this.cursor + 1) % n;
    return out;
  }

  /** Earliest deadline over all connections. */
  pollTimeout(): number | undefined {
    let t: number | undefined;
    for (const c of this.connectionSet) {
      const d = c.pollTimeout();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  handleTimeout(now: number): void {
    for (const c of this.connectionList.slice()) {
      const d = c.pollTimeout();
      if (d !== undefined && d <= now) c.handleTimeout(now);
      this.afterConnectionActivity(c);
    }
  }

  pollEvent(): EndpointEvent | undefined {
    return this.events.shift();
  }

  /** Stops accepting connections; existing ones continue. */
  close(): void {
    this.closed = true;
  }
}


export type { ConnectionEvent };
