/**
 * A user-space UDP relay for tests: a client sends to the relay's listen address, the relay forwards each datagram
 * to the target from an outgoing socket and forwards the target's replies back to the client, impairing each
 * direction independently (see link.ts). `rebind()` replaces the outgoing socket, so the target sees the client's
 * address change, as after a NAT rebinding.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DirectionStats, Impairments, Scheduler } from './link.js';
import { Link, realScheduler, validateImpairments } from './link.js';
import { deriveSeed } from './random.js';

export type Direction = 'clientToServer' | 'serverToClient';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface SocketAddress {
  readonly address: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly port: number;
}

export interface UdpRelayOptions {
  /** Where the relay listens for the client. Default 127.0.0.1, port 0 (an ephemeral port; see `relay.address`). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Where the relay forwards to (the server). A host name is resolved once, at creation. */
  readonly target: HostPort;
  /**
   * The local address outgoing sockets bind to. Default: the loopback address of the target's family when the
   * target is a loopback address, otherwise the wildcard address of that family.
   */
  readonly outgoingHost?: string;
  /** PRNG seed: the same seed and the same datagram sequence give the same decisions. Default 1. */
  readonly seed?: number;
  readonly clientToServer?: Partial<Impairments>;
  readonly serverToClient?: Partial<Impairments>;
  /**
   * false (default): one client. Replies go to the address the latest client datagram came from, so a client that
   * changes its own port is followed, and all traffic to the target leaves from one outgoing socket.
   * true: every client address gets its own outgoing socket (and its own `rebind`).
   */
  readonly multipleClients?: boolean;
  /** With `multipleClients`, datagrams from further new clients are ignored (see `stats.rejectedClients`). Default 64. */
  readonly maxClients?: number;
  /** SO_RCVBUF and SO_SNDBUF for every socket, in bytes (the OS default when unset). */
  readonly socketBufferBytes?: number;
  /** Socket errors (the relay keeps running). Default: ignored. */
  readonly onError?: (error: Error) => void;
  /** Time and timers; tests of the relay itself may replace them. Default: performance.now and setTimeout. */
  readonly scheduler?: Scheduler;
}

export interface RelayClient {
  /** The client's address as the relay sees it. */
  readonly client: SocketAddress;
  /** The address the target sees this client's traffic coming from. */
  readonly outgoing: SocketAddress;
}

export interface RelayStats {
  readonly clientToServer: DirectionStats;
  readonly serverToClient: DirectionStats;
  /** Outgoing sockets replaced by `rebind()`. */
  readonly rebinds: number;
  /** Datagrams ignored because `maxClients` was reached. */
  readonly rejectedClients: number;
  /** Datagrams arriving on an outgoing socket from somewhere other than the target (ignored). */
  readonly strayDatagrams: number;
}

export interface RebindOptions {
  /** The local port of the new outgoing socket. Default 0: a new ephemeral port (different from the current one). */
  readonly port?: number;
  /**
   * The local address of the new outgoing socket (a complete address change, not just a port: the target sees a
   * new IP, as after a move to another network). Default the relay's outgoing host. Later rebinds keep it.
   */
  readonly host?: string;
  /** Which client's socket (with `multipleClients`); default the only (or, in single-client mode, the) client. */
  readonly client?: { readonly address: string; readonly port: number };
}

export interface UdpRelay {
  /** The listen socket's address: give its port to the client. */
  readonly address: SocketAddress;
  /** The resolved target. */
  readonly target: SocketAddress;
  /** The outgoing address of the (first) client, once a client has sent something; undefined before. */
  readonly outgoingAddress: SocketAddress | undefined;
  readonly clients: readonly RelayClient[];
  readonly stats: RelayStats;
  readonly closed: boolean;
  /** The current impairments of one direction. */
  impairments(direction: Direction): Readonly<Impairments>;
  /** Changes impairments at runtime; `'both'` applies the same change to both directions. */
  configure(direction: Direction | 'both', impairments: Partial<Impairments>): void;
  /** Replaces a client's outgoing socket with one on a new port; resolves to the new outgoing address. */
  rebind(options?: RebindOptions): Promise<SocketAddress>;
  resetStats(): void;
  /** Closes every socket and timer; datagrams still queued or delayed are dropped. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  client: SocketAddress;
  socket: Socket;
  outgoing: SocketAddress;
  rebinding: boolean;
}

const LOOPBACK_V4 = /^127\./;

/** Creates a relay and waits until its listen socket is bound. */
export async function createUdpRelay(options: UdpRelayOptions): Promise<UdpRelay> {
  validateImpairments(options.clientToServer ?? {});
  validateImpairments(options.serverToClient ?? {});
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const resolved = await lookup(options.target.host);
  const target: SocketAddress = {
    address: resolved.address,
    family: resolved.family === 6 ? 'IPv6' : 'IPv4',
    port: checkPort(options.target.port, 'target.port'),
  };
  const outgoingHost =
    options.outgoingHost ??
    (target.family === 'IPv6'
      ? target.address === '::1'
        ? '::1'
        : '::'
      : LOOPBACK_V4.test(target.address)
        ? '127.0.0.1'
        : '0.0.0.0');
  const listenHost = options.listen?.host ?? '127.0.0.1';
  const listenPort = checkPort(options.listen?.port ?? 0, 'listen.port');
  const listenFamily = await familyOf(listenHost);
  const listenSocket = await bindSocket(listenFamily, listenHost, listenPort, options.socketBufferBytes);
  return new Relay(options, seed, target, outgoingHost, listenSocket);
}

class Relay implements UdpRelay {
  readonly address: SocketAddress;
  private readonly c2s: Link<Session>;
  private readonly s2c: Link<Session>;
  private readonly sessions = new Map<string, Session>();
  private readonly multiple: boolean;
  private readonly maxClients: number;
  private readonly onError: (error: Error) => void;
  private rebinds = 0;
  private rejectedClients = 0;
  private strayDatagrams = 0;
  private closing: Promise<void> | undefined;
  private readonly pendingSockets = new Set<Socket>();

  constructor(
    private readonly options: UdpRelayOptions,
    seed: number,
    readonly target: SocketAddress,
    private readonly outgoingHost: string,
    private readonly listenSocket: Socket,
  ) {
    this.address = toSocketAddress(listenSocket);
    this.multiple = options.multipleClients ?? false;
    this.maxClients = this.multiple ? (options.maxClients ?? 64) : 1;
    this.onError = options.onError ?? (() => {});
    const scheduler = options.scheduler ?? realScheduler;
    this.c2s = new Link(deriveSeed(seed, 0), options.clientToServer ?? {}, (d, s) => this.sendToServer(d, s), scheduler);
    this.s2c = new Link(deriveSeed(seed, 1), options.serverToClient ?? {}, (d, s) => this.sendToClient(d, s), scheduler);
    listenSocket.on('message', (msg, rinfo) => this.onClientDatagram(msg, rinfo));
    listenSocket.on('error', (error) => this.onError(error));
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  get outgoingAddress(): SocketAddress | undefined {
    for (const session of this.sessions.values()) return session.outgoing;
    return undefined;
  }

  get clients(): readonly RelayClient[] {
    return [...this.sessions.values()].map((s) => ({ client: s.client, outgoing: s.outgoing }));
  }

  get stats(): RelayStats {
    return {
      clientToServer: this.c2s.stats,
      serverToClient: this.s2c.stats,
      rebinds: this.rebinds,
      rejectedClients: this.rejectedClients,
      strayDatagrams: this.strayDatagrams,
    };
  }

  impairments(direction: Direction): Readonly<Impairments> {
    return this.link(direction).impairments;
  }

  configure(direction: Direction | 'both', impairments: Partial<Impairments>): void {
    validateImpairments(impairments);
    if (direction === 'both') {
      this.c2s.configure(impairments);
      this.s2c.configure(impairments);
    } else {
      this.link(direction).configure(impairments);
    }
  }

  resetStats(): void {
    this.c2s.resetStats();
    this.s2c.resetStats();
    this.rebinds = 0;
    this.rejectedClients = 0;
    this.strayDatagrams = 0;
  }

  async rebind(options: RebindOptions = {}): Promise<SocketAddress> {
    if (this.closed) throw new Error('the relay is closed');
    const session = this.findSession(options.client);
    if (session.rebinding) throw new Error('a rebind of this client is already in progress');
    const port = checkPort(options.port ?? 0, 'port');
    session.rebinding = true;
    try {
      const old = session.socket;
      const family = this.target.family === 'IPv6' ? 'udp6' : 'udp4';
      const host = options.host ?? session.outgoing.address;
      // A specific port equal to the current one can only be bound once the old socket is gone.
      if (port !== 0 && port === session.outgoing.port && host === session.outgoing.address) await closeSocket(old);
      const fresh = await this.bindTracked(family, host, port);
      if (this.closed) {
        await closeSocket(fresh);
        throw new Error('the relay was closed during rebind');
      }
      this.attachOutgoing(fresh, session);
      session.socket = fresh;
      session.outgoing = toSocketAddress(fresh);
      this.rebinds++;
      await closeSocket(old);
      return session.outgoing;
    } finally {
      session.rebinding = false;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.c2s.close();
      this.s2c.close();
      const sockets = [this.listenSocket, ...[...this.sessions.values()].map((s) => s.socket), ...this.pendingSockets];
      this.sessions.clear();
      await Promise.all(sockets.map(closeSocket));
    })();
    return this.closing;
  }

  // --- internals -----------------------------------------------------------------------------------------------

  private link(direction: Direction): Link<Session> {
    if (direction === 'clientToServer') return this.c2s;
    if (direction === 'serverToClient') return this.s2c;
    throw new RangeError(`direction must be clientToServer, serverToClient or both, got ${String(direction)}`);
  }

  private findSession(client: RebindOptions['client']): Session {
    if (client !== undefined && this.multiple) {
      const session = this.sessions.get(keyOf(client.address, client.port));
      if (session === undefined) throw new Error(`no client ${client.address}:${client.port}`);
      return session;
    }
    if (this.sessions.size === 0) throw new Error('no client has sent a datagram yet');
    if (this.sessions.size > 1) throw new Error('several clients: say which one to rebind');
    return this.sessions.values().next().value as Session;
  }

  private onClientDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const session = this.sessionFor(rinfo);
    if (session !== undefined) this.c2s.push(msg, session);
  }

  private sessionFor(rinfo: RemoteInfo): Session | undefined {
    const client: SocketAddress = { address: rinfo.address, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4', port: rinfo.port };
    if (!this.multiple) {
      const existing = this.sessions.get('single');
      if (existing !== undefined) {
        if (existing.client.port !== client.port || existing.client.address !== client.address) existing.client = client;
        return existing;
      }
      return this.newSession('single', client);
    }
    const key = keyOf(client.address, client.port);
    const existing = this.sessions.get(key);
    if (existing !== undefined) return existing;
    if (this.sessions.size >= this.maxClients) {
      this.rejectedClients++;
      return undefined;
    }
    return this.newSession(key, client);
  }

  private newSession(key: string, client: SocketAddress): Session {
    // Bound synchronously-enough: dgram queues sends issued while the socket is still binding.
    const socket = createSocket({ type: this.target.family === 'IPv6' ? 'udp6' : 'udp4' });
    const session: Session = {
      client,
      socket,
      outgoing: { address: this.outgoingHost, family: this.target.family, port: 0 },
      rebinding: false,
    };
    socket.on('error', (error) => this.onError(error));
    socket.once('listening', () => {
      if (session.socket === socket) session.outgoing = toSocketAddress(socket);
      applyBufferSize(socket, this.options.socketBufferBytes);
    });
    socket.bind(0, this.outgoingHost);
    this.attachOutgoing(socket, session);
    this.sessions.set(key, session);
    return session;
  }

  private attachOutgoing(socket: Socket, session: Session): void {
    socket.on('message', (msg, rinfo) => {
      if (this.closed || session.socket !== socket) return;
      if (rinfo.port !== this.target.port || rinfo.address !== this.target.address) {
        this.strayDatagrams++;
        return;
      }
      this.s2c.push(msg, session);
    });
  }

  private async bindTracked(family: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
    const socket = createSocket({ type: family });
    this.pendingSockets.add(socket);
    try {
      await bindExisting(socket, host, port, this.options.socketBufferBytes);
      socket.on('error', (error) => this.onError(error));
      return socket;
    } catch (error) {
      await closeSocket(socket);
      throw error;
    } finally {
      this.pendingSockets.delete(socket);
    }
  }

  private sendToServer(data: Uint8Array, session: Session): void {
    this.send(session.socket, data, this.target.port, this.target.address, this.c2s);
  }

  private sendToClient(data: Uint8Array, session: Session): void {
    this.send(this.listenSocket, data, session.client.port, session.client.address, this.s2c);
  }

  private send(socket: Socket, data: Uint8Array, port: number, address: string, link: Link<Session>): void {
    if (this.closed) return;
    try {
      socket.send(data, port, address, (error) => {
        if (error) link.noteSendError();
      });
    } catch {
      // The socket was closed under us (a rebind in progress): the datagram is lost, as in a real rebinding.
      link.noteSendError();
    }
  }
}

function keyOf(address: string, port: number): string {
  return `${address}|${port}`;
}

function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`${name} must be an integer in [0, 65535], got ${port}`);
  return port;
}

async function familyOf(host: string): Promise<'udp4' | 'udp6'> {
  const ip = isIP(host);
  if (ip === 4) return 'udp4';
  if (ip === 6) return 'udp6';
  return (await lookup(host)).family === 6 ? 'udp6' : 'udp4';
}

function toSocketAddress(socket: Socket): SocketAddress {
  const a = socket.address();
  return { address: a.address, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', port: a.port };
}

async function bindSocket(family: 'udp4' | 'udp6', host: string, port: number, bufferBytes: number | undefined): Promise<Socket> {
  const socket = createSocket({ type: family });
  try {
    await bindExisting(socket, host, port, bufferBytes);
  } catch (error) {
    await closeSocket(socket);
    throw error;
  }
  return socket;
}

function bindExisting(socket: Socket, host: string, port: number, bufferBytes: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      applyBufferSize(socket, bufferBytes);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, host);
  });
}

function applyBufferSize(socket: Socket, bytes: number | undefined): void {
  if (bytes === undefined) return;
  try {
    socket.setRecvBufferSize(bytes);
    socket.setSendBufferSize(bytes);
  } catch {
    // The OS refused the size (e.g. above its maximum): keep its default.
  }
}

const closedSockets = new WeakSet<Socket>();

function closeSocket(socket: Socket): Promise<void> {
  if (closedSockets.has(socket)) return Promise.resolve();
  closedSockets.add(socket);
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
