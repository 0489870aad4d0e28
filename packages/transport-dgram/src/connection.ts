/** QuicConnection: the WebTransport-shaped face of one core Connection, driven by an EndpointDriver. */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { networkInterfaces } from 'node:os';
import type { CloseInfo, Connection, ConnectionEvent, ConnectionStats, MigrationEvent, PathAddress, PreferredAddresses, SessionTicket, SocketAddress, StreamEvent, StreamManagerStats } from '@pathquic/core';
import type { ConnectionOwner, EndpointDriver } from './driver.js';
import { QuicConnectionClosedError, QuicMigrationError, handshakeErrorFromClose, toNumberCode, type QuicHandshakeError } from './errors.js';
import { openPathSocket, toQuicPath, type MigrateOptions, type QuicPath, type QuicPathAddress, type QuicPathChange } from './paths.js';
import { QuicStream, type QuicBidirectionalStream, type QuicReceiveStream, type QuicSendStream, type StreamHost } from './stream.js';
import { toDuplex } from './duplex.js';

/** Default bytes a stream's readable queues ahead of the application (beyond what core buffers). */
export const DEFAULT_READ_HIGH_WATER_MARK = 256 * 1024;
/** Received datagrams queued for the application at most; further ones are dropped (they are unreliable anyway). */
const DATAGRAM_QUEUE = 256;

export interface QuicCloseInfo {
  /** Application close code (for transport errors: the transport error code, with `application` false). */
  readonly closeCode: number;
  readonly reason: string;
  /** The peer closed the connection (CONNECTION_CLOSE received). */
  readonly remote: boolean;
  readonly application: boolean;
  /** Who or what ended it: 'local', 'remote', 'idle-timeout', 'handshake-timeout', 'stateless-reset', 'version-negotiation'. */
  readonly source: CloseInfo['source'];
}

export interface QuicConnectionStats extends ConnectionStats {
  /** Smoothed RTT in ms (= smoothedRtt). */
  readonly rtt: number;
  /** Congestion window in bytes (= congestionWindow). */
  readonly cwnd: number;
  /** Packets declared lost (= packetsLost). */
  readonly lost: number;
  readonly streams: StreamManagerStats;
  /** Received datagrams dropped because the application did not read `datagrams.readable` fast enough. */
  readonly datagramsDropped: number;
}

export interface QuicDatagrams {
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Each chunk becomes one DATAGRAM frame (RFC 9221). As with WebTransport, a datagram larger than
   * `maxDatagramSize` is dropped, not an error.
   */
  readonly writable: WritableStream<Uint8Array>;
  /** Largest payload the peer accepts now (0: the peer does not accept datagrams). */
  readonly maxDatagramSize: number;
}

export interface QuicConnectionOptions {
  readHighWaterMark?: number;
  /** Client: move to the server's preferred address once the handshake is confirmed (RFC 9000 §9.6). Default true. */
  followPreferredAddress?: boolean;
  /** Client: poll the interfaces every this many ms and migrate when the local address in use disappears. */
  watchLocalAddressMs?: number;
}

interface PendingMigration {
  local: SocketAddress;
  remote: SocketAddress;
  resolve: (path: QuicPath) => void;
  reject: (e: Error) => void;
  /** probePath(): settles on validation, not on a move. */
  probe?: boolean;
}

function sameAddress(a: SocketAddress | undefined, address: string | undefined, port: number | undefined): boolean {
  return a !== undefined && a.address === address && a.port === port;
}

type Deferred<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Events: 'connected', 'sessionticket' (SessionTicket: pass as `session` to a later connect() to resume),
 * 'newtoken' (Uint8Array: pass as `token`), 'keyupdate', 'earlydatarejected', 'closed' (QuicCloseInfo);
 * paths (RFC 9000 §8.2, §9): 'pathvalidated' (QuicPath), 'pathfailed' ({ path: QuicPath, reason }), 'migrated'
 * (QuicPathChange: this client moved, the peer moved, or a fallback), 'preferredaddress' (the server's offer).
 */
export class QuicConnection extends EventEmitter implements StreamHost {
  /** @internal */
  readonly core: Connection;
  readonly #driver: EndpointDriver;
  readonly #streams = new Map<number, QuicStream>();
  readonly #ready = deferred<void>();
  readonly #closed = deferred<QuicCloseInfo>();
  readonly #terminated = deferred<void>();
  readonly #readHwm: number;
  #incomingBidiCtl: ReadableStreamDefaultController<QuicBidirectionalStream> | undefined;
  #incomingUniCtl: ReadableStreamDefaultController<QuicReceiveStream> | undefined;
  #datagramCtl: ReadableStreamDefaultController<Uint8Array> | undefined;
  #datagramsDropped = 0;
  #connected = false;
  #closeInfo: CloseInfo | undefined;
  #terminalError: Error | undefined;
  #aborted = false;
  #blockedWaiters: { bidi: (() => void)[]; uni: (() => void)[] } = { bidi: [], uni: [] };
  #sessionTicket: SessionTicket | undefined;
  #newToken: Uint8Array | undefined;
  #resumed = false;
  #earlyDataAccepted = false;
  /** Called once on 'connected' (the server uses it to hand the connection out). */
  #onConnected: ((c: QuicConnection) => void) | undefined;
  #onTerminated: (() => void) | undefined;
  #pendingMigrations: PendingMigration[] = [];
  readonly #followPreferredAddress: boolean;
  #watchTimer: NodeJS.Timeout | undefined;
  #autoMigrating = false;

  readonly incomingBidirectionalStreams: ReadableStream<QuicBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<QuicReceiveStream>;
  readonly datagrams: QuicDatagrams;

  /** @internal Created by connect() / listen(). */
  constructor(driver: EndpointDriver, core: Connection, opts: QuicConnectionOptions = {}) {
    super();
    this.#driver = driver;
    this.core = core;
    this.#readHwm = opts.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK;
    this.#followPreferredAddress = opts.followPreferredAddress ?? true;
    if (opts.watchLocalAddressMs !== undefined && core.role === 'client') {
      this.#watchTimer = setInterval(() => this.#checkLocalAddress(), opts.watchLocalAddressMs);
      this.#watchTimer.unref();
    }
    // Nobody may be listening to these: the rejection / resolution is still observable through the properties.
    this.#ready.promise.catch(() => {});
    this.incomingBidirectionalStreams = new ReadableStream<QuicBidirectionalStream>(
      {
        start: (c) => {
          this.#incomingBidiCtl = c;
        },
      },
      { highWaterMark: Infinity },
    );
    this.incomingUnidirectionalStreams = new ReadableStream<QuicReceiveStream>(
      {
        start: (c) => {
          this.#incomingUniCtl = c;
        },
      },
      { highWaterMark: Infinity },
    );
    const readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#datagramCtl = c;
        },
      },
      { highWaterMark: DATAGRAM_QUEUE },
    );
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (!(chunk instanceof Uint8Array)) throw new TypeError('datagrams must be Uint8Array');
        if (this.#terminalError !== undefined) throw this.#terminalError;
        if (this.core.sendDatagram(chunk)) this.scheduleFlush();
      },
    });
    this.datagrams = {
      readable,
      writable,
      get maxDatagramSize() {
        return core.maxDatagramPayload;
      },
    };
  }

  /** @internal The endpoint driver (its sockets), for tests. */
  get driver(): EndpointDriver {
    return this.#driver;
  }

  /** @internal */
  get owner(): ConnectionOwner {
    return { onEvent: (e) => this.#onEvent(e), onTerminated: () => this.#terminate() };
  }

  /** @internal */
  set onConnected(f: ((c: QuicConnection) => void) | undefined) {
    this.#onConnected = f;
  }

  /** @internal */
  set onTerminated(f: (() => void) | undefined) {
    this.#onTerminated = f;
  }

  /** Resolves when the handshake completes; rejects with QuicHandshakeError if it fails. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Resolves (never rejects) with how the connection ended. */
  get closed(): Promise<QuicCloseInfo> {
    return this.#closed.promise;
  }

  /** Resolves once the connection's closing/draining period is over and its state is freed. */
  get terminated(): Promise<void> {
    return this.#terminated.promise;
  }

  get alpn(): string | undefined {
    return this.core.alpn;
  }

  get role(): 'client' | 'server' {
    return this.core.role;
  }

  get remoteAddress(): { address: string; port: number; family: 'IPv4' | 'IPv6' } {
    const r = this.core.remote;
    return { address: r.address, port: r.port, family: r.address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  get localAddress(): { address: string; port: number; family: string } {
    const local = this.core.path().local;
    if (local === undefined) return this.#driver.socket.address();
    return { address: local.address, port: local.port, family: local.address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** The path in use: addresses, RTT, congestion window, bytes each way. */
  get path(): QuicPath {
    return toQuicPath(this.core.path(), this.#defaultLocal());
  }

  /** The active path and the others known: being validated, validated spares, the one a migration left. */
  get paths(): QuicPath[] {
    return this.core.paths().map((p) => toQuicPath(p, this.#defaultLocal()));
  }

  /** Client: the server's preferred_address offer (RFC 9000 §9.6), once the handshake is confirmed. */
  get preferredAddress(): PreferredAddresses | undefined {
    return this.core.preferredAddress;
  }

  #defaultLocal(): QuicPathAddress {
    const a = this.#driver.socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Client: moves the connection to a new local socket (RFC 9000 §9.2), e.g. from Wi-Fi to cellular. Opens the
   * socket (or takes `options.socket`), probes the new path with PATH_CHALLENGE and switches once it is validated
   * (or at once with `immediate`), then retires the old path's connection ID. Resolves with the new path once it
   * is the active one; rejects with QuicMigrationError (the connection stays on its old path).
   */
  async migrate(options: MigrateOptions = {}): Promise<QuicPath> {
    return this.#migrate(options, undefined);
  }

  /**
   * Client: validates a second path and keeps it ready (RFC 9000 §9.1 probing) without moving: with the transport
   * setting `pathFailover` (default on), the connection moves there by itself when the active path goes dark
   * (two PTOs without an acknowledgment); `migrate()` to it later needs no new validation.
   */
  async probePath(options: Omit<MigrateOptions, 'immediate'> = {}): Promise<QuicPath> {
    return this.#migrate(options, undefined, true);
  }

  async #migrate(options: MigrateOptions, remoteOverride: SocketAddress | undefined, probeOnly = false): Promise<QuicPath> {
    if (this.core.role !== 'client') throw new QuicMigrationError('not-client');
    if (this.#terminalError !== undefined) throw new QuicMigrationError('closed', this.#terminalError.message);
    const remote = remoteOverride ?? this.core.remote;
    // A socket this connection already has (a path probed with probePath, or the one a migration left): reuse it.
    const existing =
      options.socket === undefined && options.localAddress !== undefined && options.localPort !== undefined
        ? this.#driver.socketFor({ address: options.localAddress, port: options.localPort })
        : undefined;
    let bound = existing;
    if (bound === undefined) {
      const socket = await openPathSocket(remote, options);
      const closedMeanwhile = this.#closedError();
      if (closedMeanwhile !== undefined) {
        socket.close();
        throw new QuicMigrationError('closed', closedMeanwhile.message);
      }
      bound = this.#driver.addSocket(socket, remote);
    }
    const now = performance.now();
    let result;
    try {
      result = probeOnly
        ? this.core.probePath(now, bound.local, remoteOverride)
        : this.core.migrate(now, bound.local, { ...(options.immediate === true && { immediate: true }), ...(remoteOverride !== undefined && { remote }) });
    } catch (e) {
      if (existing === undefined) void this.#driver.removeSocket(bound);
      throw e;
    }
    if (!result.ok) {
      if (existing === undefined) void this.#driver.removeSocket(bound);
      throw new QuicMigrationError(result.reason);
    }
    const done = new Promise<QuicPath>((resolve, reject) => {
      this.#pendingMigrations.push({ local: bound.local, remote, resolve, reject, ...(probeOnly && { probe: true }) });
    });
    this.scheduleFlush();
    return done;
  }

  /** A method, so that TypeScript does not keep #terminalError narrowed to undefined across an await. */
  #closedError(): Error | undefined {
    return this.#terminalError;
  }

  /** A path event from core: tell the application, settle migrate() promises, close sockets no path uses. */
  #onPathEvent(ev: MigrationEvent): void {
    const describe = (p: PathAddress): QuicPath => {
      const known = this.core.paths().find((s) => s.path.key === p.key);
      if (known !== undefined) return toQuicPath(known, this.#defaultLocal());
      return {
        local: p.localAddress !== undefined && p.localPort !== undefined ? { address: p.localAddress, port: p.localPort } : this.#defaultLocal(),
        remote: { address: p.remoteAddress, port: p.remotePort },
        state: 'unvalidated',
        rtt: undefined,
        cwnd: undefined,
        validationRtt: undefined,
        bytesSent: 0,
        bytesReceived: 0,
        datagramsSent: 0,
        datagramsReceived: 0,
      };
    };
    const settle = (p: PathAddress, outcome: 'moved' | 'validated' | 'failed'): void => {
      const keep: PendingMigration[] = [];
      for (const m of this.#pendingMigrations) {
        const match = sameAddress(m.local, p.localAddress, p.localPort) && sameAddress(m.remote, p.remoteAddress, p.remotePort);
        const probe = m.probe === true;
        if (!match || (outcome === 'validated' && !probe)) keep.push(m);
        else if (outcome === 'failed') m.reject(new QuicMigrationError('validation-failed'));
        else m.resolve(describe(p));
      }
      this.#pendingMigrations = keep;
    };
    switch (ev.type) {
      case 'active-path-changed': {
        const change: QuicPathChange = { from: describe(ev.from), to: describe(ev.to), reason: ev.reason };
        settle(ev.to, 'moved');
        this.emit('migrated', change);
        return;
      }
      case 'path-validated':
        settle(ev.path, 'validated');
        this.emit('pathvalidated', describe(ev.path));
        return;
      case 'path-validation-failed':
        settle(ev.path, 'failed');
        this.emit('pathfailed', { path: describe(ev.path), reason: ev.reason });
        return;
      case 'path-discarded':
        settle(ev.path, 'failed');
        this.#releaseSocket(ev.path);
        return;
      default:
        return;
    }
  }

  /** Client: a path was forgotten; its socket closes unless another path still uses it. */
  #releaseSocket(p: PathAddress): void {
    if (this.core.role !== 'client' || p.localAddress === undefined || p.localPort === undefined) return;
    const local = { address: p.localAddress, port: p.localPort };
    const stillUsed = this.core.paths().some((s) => sameAddress(local, s.path.localAddress, s.path.localPort));
    if (stillUsed) return;
    const bound = this.#driver.socketFor(local);
    if (bound !== undefined) void this.#driver.removeSocket(bound);
  }

  /** A migration the connection started by itself failed: nobody awaits it, so it becomes a 'pathfailed' event. */
  readonly #reportMigrationFailure = (e: unknown): void => {
    this.emit('pathfailed', { path: undefined, reason: e instanceof QuicMigrationError ? e.reason : 'socket', error: e });
  };

  /** Client, RFC 9000 §9.6.1: after confirmation, validate the server's preferred address and move there. */
  #onPreferredAddress(offer: PreferredAddresses): void {
    this.emit('preferredaddress', offer);
    if (!this.#followPreferredAddress) return;
    // The family the connection already uses: this host evidently has a route for it.
    const target = this.core.remote.address.includes(':') ? (offer.ipv6 ?? offer.ipv4) : (offer.ipv4 ?? offer.ipv6);
    if (target === undefined) return;
    this.#migrate({}, target).catch(this.#reportMigrationFailure);
  }

  /**
   * The local address of the active path no longer exists on any interface (Wi-Fi gone, DHCP lease lost): move
   * to a new socket at once (break-before-make: the old address cannot send any more).
   */
  #checkLocalAddress(): void {
    if (this.#terminalError !== undefined || this.#autoMigrating || !this.core.isHandshakeConfirmed) return;
    const local = this.localAddress;
    if (local.address === '0.0.0.0' || local.address === '::') return;
    const present = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === local.address));
    if (present) return;
    this.#autoMigrating = true;
    this.emit('localaddresslost', { address: local.address, port: local.port });
    this.#migrate({ immediate: true }, undefined)
      .catch(this.#reportMigrationFailure)
      .finally(() => {
        this.#autoMigrating = false;
      });
  }

  /** The handshake resumed a session (PSK). */
  get resumed(): boolean {
    return this.#resumed;
  }

  get earlyDataAccepted(): boolean {
    return this.#earlyDataAccepted;
  }

  /** The latest session ticket from the server (clients), for `connect({ session })`. */
  get sessionTicket(): SessionTicket | undefined {
    return this.#sessionTicket;
  }

  /** The latest NEW_TOKEN token from the server (clients), for `connect({ token })`. */
  get newToken(): Uint8Array | undefined {
    return this.#newToken;
  }

  /** @internal */
  get terminalError(): Error | undefined {
    return this.#terminalError;
  }

  /** @internal */
  scheduleFlush(): void {
    this.#driver.scheduleFlush();
  }

  /** @internal */
  pumpEvents(): void {
    for (let e = this.core.pollEvent(); e !== undefined; e = this.core.pollEvent()) this.#onEvent(e);
  }

  stats(): QuicConnectionStats {
    const s = this.core.stats();
    return {
      ...s,
      rtt: s.smoothedRtt,
      cwnd: s.congestionWindow,
      lost: s.packetsLost,
      streams: this.core.streams.stats(),
      datagramsDropped: this.#datagramsDropped,
    };
  }

  /** Closes with an application close code (CONNECTION_CLOSE, RFC 9000 §10.2); `closed` resolves right after. */
  close(info: { closeCode?: number; reason?: string } = {}): void {
    this.core.close(performance.now(), { errorCode: info.closeCode ?? 0, reason: info.reason ?? '', application: true });
    this.scheduleFlush();
  }

  /** Starts a key update (RFC 9001 §6); false while one is not allowed yet (before confirmation, or one in flight). */
  updateKeys(): boolean {
    const ok = this.core.updateKeys();
    if (ok) this.scheduleFlush();
    return ok;
  }

  async createBidirectionalStream(opts: { priority?: number } = {}): Promise<QuicBidirectionalStream> {
    const id = await this.#open(true);
    const s = new QuicStream(this, id, true, true, this.#readHwm);
    this.#streams.set(id, s);
    if (opts.priority !== undefined) s.priority = opts.priority;
    return s;
  }

  async createUnidirectionalStream(opts: { priority?: number } = {}): Promise<QuicSendStream> {
    const id = await this.#open(false);
    const s = new QuicStream(this, id, false, true, this.#readHwm);
    this.#streams.set(id, s);
    if (opts.priority !== undefined) s.priority = opts.priority;
    return s;
  }

  /** A new bidirectional stream as a Node Duplex (for pipeline() and other Node-style code). */
  async openDuplex(opts: { priority?: number } = {}): Promise<Duplex> {
    return toDuplex(await this.createBidirectionalStream(opts));
  }

  async #open(bidirectional: boolean): Promise<number> {
    for (;;) {
      if (this.#terminalError !== undefined) throw this.#terminalError;
      const id = this.core.streams.open(bidirectional);
      this.scheduleFlush();
      if (id !== undefined) return id;
      // RFC 9000 §4.6: the peer's MAX_STREAMS is reached; wait for it to grant more.
      await new Promise<void>((resolve) => (bidirectional ? this.#blockedWaiters.bidi : this.#blockedWaiters.uni).push(resolve));
    }
  }

  /** @internal Aborted by the caller's signal: close, and make a pending handshake fail with 'aborted'. */
  abort(reason: string): void {
    if (!this.#connected) this.#aborted = true;
    this.close({ closeCode: 0, reason });
  }

  // ---------------------------------------------------------------------------------------------------------

  #onEvent(e: ConnectionEvent): void {
    switch (e.type) {
      case 'stream':
        this.#onStreamEvent(e.event);
        return;
      case 'connected':
        this.#connected = true;
        this.#resumed = e.resumed;
        this.#earlyDataAccepted = e.earlyDataAccepted;
        this.#ready.resolve();
        this.#onConnected?.(this);
        this.emit('connected');
        return;
      case 'handshake-confirmed':
        this.emit('handshakeconfirmed');
        return;
      case 'datagram': {
        const c = this.#datagramCtl;
        if (c !== undefined && (c.desiredSize ?? 0) > 0) c.enqueue(e.data);
        else this.#datagramsDropped++;
        return;
      }
      case 'session-ticket':
        this.#sessionTicket = e.ticket;
        this.emit('sessionticket', e.ticket);
        return;
      case 'new-token':
        this.#newToken = e.token;
        this.emit('newtoken', e.token);
        return;
      case 'early-data-rejected':
        this.emit('earlydatarejected');
        return;
      case 'key-update':
        this.emit('keyupdate', { initiatedBy: e.initiatedBy, phase: e.phase });
        return;
      case 'path':
        this.#onPathEvent(e.event);
        return;
      case 'preferred-address':
        this.#onPreferredAddress(e.offer);
        return;
      case 'closed':
        this.#onClosed(e.info);
        return;
    }
  }

  #onStreamEvent(e: StreamEvent): void {
    switch (e.type) {
      case 'opened': {
        const bidi = (e.id & 2) === 0;
        const s = new QuicStream(this, e.id, true, bidi, this.#readHwm);
        this.#streams.set(e.id, s);
        try {
          if (bidi) this.#incomingBidiCtl?.enqueue(s);
          else this.#incomingUniCtl?.enqueue(s);
        } catch {
          // the application cancelled the incoming stream reader
        }
        return;
      }
      case 'readable':
        this.#streams.get(e.id)?.onReadable();
        return;
      case 'writable':
        this.#streams.get(e.id)?.onWritable();
        return;
      case 'reset':
        this.#streams.get(e.id)?.onReset(e.errorCode);
        return;
      case 'stopped':
        this.#streams.get(e.id)?.onStopped(e.errorCode);
        return;
      case 'finished':
        this.#streams.get(e.id)?.onFinished();
        return;
      case 'closed':
        this.#streams.delete(e.id);
        return;
      case 'blocked':
        return;
      case 'unblocked': {
        const list = e.bidirectional ? this.#blockedWaiters.bidi : this.#blockedWaiters.uni;
        const waiters = list.splice(0);
        for (const w of waiters) w();
        return;
      }
    }
  }

  #onClosed(info: CloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    const err = new QuicConnectionClosedError(info);
    this.#terminalError = err;
    if (!this.#connected) {
      const he: QuicHandshakeError = handshakeErrorFromClose(info, this.#aborted);
      this.#ready.reject(he);
    }
    for (const s of this.#streams.values()) s.onConnectionClosed(err);
    this.#streams.clear();
    for (const ctl of [this.#incomingBidiCtl, this.#incomingUniCtl, this.#datagramCtl]) {
      try {
        ctl?.close();
      } catch {
        // already closed or cancelled
      }
    }
    for (const w of [...this.#blockedWaiters.bidi.splice(0), ...this.#blockedWaiters.uni.splice(0)]) w();
    for (const m of this.#pendingMigrations.splice(0)) m.reject(new QuicMigrationError('closed', err.message));
    if (this.#watchTimer !== undefined) clearInterval(this.#watchTimer);
    this.#watchTimer = undefined;
    const closeInfo: QuicCloseInfo = {
      closeCode: toNumberCode(info.errorCode),
      reason: info.reason,
      remote: info.source === 'remote',
      application: info.application,
      source: info.source,
    };
    this.#closed.resolve(closeInfo);
    this.emit('closed', closeInfo);
  }

  #terminate(): void {
    // A connection can reach 'closed' without a 'closed' event only if it was never started; cover it anyway.
    if (this.#closeInfo === undefined) {
      this.#onClosed(this.core.closeReason ?? { source: 'local', errorCode: 0, application: true, reason: '' });
    }
    this.#terminated.resolve();
    this.#onTerminated?.();
  }
}
