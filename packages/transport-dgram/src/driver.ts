/**
 * Runs one sans-I/O core Endpoint over one node:dgram socket: datagrams in, datagrams out, one timer.
 *
 * The loop:
 * - 'message' → endpoint.handleDatagram at once; the flush that answers is deferred with setImmediate, so that the
 *   (up to 32) datagrams libuv reads per turn are answered together (one ACK for the batch, fewer wake-ups).
 * - application calls (stream writes, opens, closes) → a flush in a microtask, so the writes of one tick are sent
 *   together.
 * - a flush drains endpoint events (new server connections), hands connection events to their owners, then sends
 *   until pollTransmit has nothing (or the connection is paced / congestion-limited), then arms ONE timer from
 *   pollTimeout. Deadlines less than 1 ms away (pacing gaps are microseconds at 100 MB/s) use setImmediate: Node's
 *   timers have 1 ms resolution, and an immediate still lets the loop poll the socket first.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Connection, ConnectionEvent, Endpoint, SocketAddress, Transmit } from '@pathquic/core';

/** What the driver tells the owner of a connection. */
export interface ConnectionOwner {
  onEvent(event: ConnectionEvent): void;
  /** The connection reached 'closed' (after its closing/draining period) and the endpoint forgot it. */
  onTerminated(): void;
}

/** Above this many datagrams waiting in the socket's send queue we stop building packets until it drains. */
const SEND_QUEUE_HIGH = 64;
const SEND_QUEUE_LOW = 16;
/** Datagrams pulled from core at a time. */
const TRANSMIT_BATCH = 16;

/** One UDP socket of the endpoint: the listening one, a client's, or one opened to migrate. */
export class BoundSocket {
  /** Its local address as core sees it (the key of the paths that use it). */
  readonly local: SocketAddress;
  closed = false;
  /** libuv queued more than SEND_QUEUE_HIGH datagrams: nothing more until it drains. */
  blocked = false;
  readonly onSent: () => void;

  constructor(
    readonly socket: Socket,
    /** When the socket is connect()ed, sends need no address (and skip a route lookup per datagram). */
    readonly peer: SocketAddress | undefined,
    onDrained: (s: BoundSocket) => void,
  ) {
    const a = socket.address();
    this.local = { address: a.address, port: a.port };
    this.onSent = () => {
      if (this.blocked && !this.closed && socket.getSendQueueCount() <= SEND_QUEUE_LOW) {
        this.blocked = false;
        onDrained(this);
      }
    };
  }

  matches(local: SocketAddress): boolean {
    return local.port === this.local.port && local.address === this.local.address;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

interface Received {
  data: Uint8Array;
  remote: RemoteInfo;
  local?: SocketAddress;
}

export class EndpointDriver {
  readonly endpoint: Endpoint;
  /** Live connections and who gets their events. */
  readonly owners = new Map<Connection, ConnectionOwner>();
  /** Called for each new server connection (from endpoint events); returns its owner. */
  onIncoming: ((conn: Connection) => ConnectionOwner) | undefined;
  /** Called once the last connection terminated while `closeWhenIdle` is set. */
  onIdle: (() => void) | undefined;
  closeWhenIdle = false;
  /** The endpoint's sockets; the first is the one it was created with, used when a datagram names no local address. */
  readonly sockets: BoundSocket[] = [];
  /**
   * Tell core which socket each datagram arrived on. Needed as soon as the endpoint has more than one socket (a
   * client that migrates, a server with a preferred address): paths are then 4-tuples.
   */
  private readonly passLocal: boolean;

  private flushPending = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private immediate: NodeJS.Immediate | undefined;
  private sendBlocked = false;
  private socketClosed = false;
  /** A datagram arrived since the last flush. */
  private dirty = false;
  private received: Received[] = [];
  private batchNow = 0;

  private readonly flushNow = (): void => {
    this.flush();
  };
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.runTimeouts();
  };
  private readonly onImmediateTimer = (): void => {
    this.immediate = undefined;
    this.runTimeouts();
  };
  private readonly onDrained = (): void => {
    if (this.socketClosed) return;
    this.sendBlocked = this.sockets.some((s) => s.blocked);
    if (!this.sendBlocked) this.scheduleFlush();
  };

  constructor(socket: Socket, endpoint: Endpoint, options: { connectedPeer?: SocketAddress; passLocal?: boolean } = {}) {
    this.endpoint = endpoint;
    this.passLocal = options.passLocal ?? false;
    this.addSocket(socket, options.connectedPeer);
  }

  /** The endpoint's first socket (datagrams that name no local address leave from it). */
  get socket(): Socket {
    return this.sockets[0]!.socket;
  }

  /** Starts reading `socket` into this endpoint (a socket opened to migrate, or a server's preferred address). */
  addSocket(socket: Socket, connectedPeer?: SocketAddress): BoundSocket {
    const bound = new BoundSocket(socket, connectedPeer, this.onDrained);
    const local = this.passLocal ? bound.local : undefined;
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      // One clock reading per batch: libuv reads the batch in one go, so its datagrams arrived together.
      if (!this.dirty) {
        this.dirty = true;
        this.batchNow = performance.now();
        setImmediate(this.flushNow);
      }
      // Handed to core together in the flush that follows (an immediate), so that core can open the packets of the
      // burst in one AEAD batch. rinfo already has the {address, port} shape core wants.
      this.received.push(local === undefined ? { data: msg, remote: rinfo } : { data: msg, remote: rinfo, local });
    });
    // ICMP errors (port unreachable on a connected socket) and the like: QUIC relies on its own timers instead.
    socket.on('error', () => {});
    this.sockets.push(bound);
    return bound;
  }

  /** Stops using a socket (a path no longer used) and closes it; the endpoint's last socket stays until closeSocket. */
  removeSocket(bound: BoundSocket): Promise<void> {
    const i = this.sockets.indexOf(bound);
    if (i < 0 || this.sockets.length === 1) return Promise.resolve();
    this.sockets.splice(i, 1);
    this.sendBlocked = this.sockets.some((s) => s.blocked);
    return bound.close();
  }

  /** The socket whose local address is `local`. */
  socketFor(local: SocketAddress): BoundSocket | undefined {
    return this.sockets.find((s) => s.matches(local));
  }

  get closed(): boolean {
    return this.socketClosed;
  }

  /** After an application call: flush in a microtask (coalescing the calls of this tick). */
  scheduleFlush(): void {
    if (this.flushPending || this.socketClosed) return;
    this.flushPending = true;
    queueMicrotask(this.flushNow);
  }

  adopt(conn: Connection, owner: ConnectionOwner): void {
    this.owners.set(conn, owner);
  }

  private runTimeouts(): void {
    if (this.socketClosed) return;
    const now = performance.now();
    this.endpoint.handleTimeout(now);
    this.flush(now);
  }

  flush(now = performance.now()): void {
    this.flushPending = false;
    const endpoint = this.endpoint;
    if (this.received.length > 0) {
      const burst = this.received;
      this.received = [];
      if (!this.socketClosed) endpoint.handleDatagramBatch(this.batchNow, burst);
    }
    this.dirty = false;
    if (this.socketClosed) return;
    for (let ev = endpoint.pollEvent(); ev !== undefined; ev = endpoint.pollEvent()) {
      if (this.onIncoming !== undefined) this.owners.set(ev.connection, this.onIncoming(ev.connection));
    }
    this.dispatch();
    if (!this.sendBlocked) this.transmit(now);
    // Building packets can end a connection (an internal error closes it): report that too.
    this.dispatch();
    this.reap();
    if (!this.socketClosed) this.armTimer(now);
  }

  private dispatch(): void {
    for (const [conn, owner] of this.owners) {
      for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) owner.onEvent(e);
    }
  }

  private transmit(now: number): void {
    const endpoint = this.endpoint;
    // Batches let core seal their short-header packets in one AEAD call (cheaper per packet than one by one).
    for (;;) {
      const batch = endpoint.pollTransmitBatch(now, TRANSMIT_BATCH);
      if (batch.length === 0) return;
      for (const t of batch) this.send(t);
      if (this.sendBlocked) return;
    }
  }

  private send(t: Transmit): void {
    const sockets = this.sockets;
    let bound = sockets[0]!;
    if (sockets.length > 1 && t.local !== undefined) {
      const found = this.socketFor(t.local);
      // A path whose socket is gone (closed after a migration): nothing can leave from there any more.
      if (found === undefined) return;
      bound = found;
    }
    if (bound.closed) return;
    const socket = bound.socket;
    const peer = bound.peer;
    const queued = socket.getSendQueueCount();
    if (peer !== undefined) {
      // A connected socket can only reach its peer; datagrams for elsewhere need a socket connected there.
      if (t.remote.port !== peer.port || t.remote.address !== peer.address) return;
      if (queued === 0) socket.send(t.data);
      else socket.send(t.data, bound.onSent);
    } else if (queued === 0) socket.send(t.data, t.remote.port, t.remote.address);
    else socket.send(t.data, t.remote.port, t.remote.address, bound.onSent);
    // The kernel refused (EAGAIN) and libuv queued: stop producing until the queue drains (the callbacks say when).
    if (queued + 1 >= SEND_QUEUE_HIGH && socket.getSendQueueCount() >= SEND_QUEUE_HIGH) {
      bound.blocked = true;
      this.sendBlocked = true;
    }
  }

  private reap(): void {
    let removed = false;
    for (const [conn, owner] of this.owners) {
      if (!conn.isClosed) continue;
      this.owners.delete(conn);
      removed = true;
      owner.onTerminated();
    }
    if (removed && this.owners.size === 0 && this.closeWhenIdle) this.onIdle?.();
  }

  private armTimer(now: number): void {
    const deadline = this.endpoint.pollTimeout();
    if (deadline === undefined) {
      this.clearTimer();
      return;
    }
    const delay = deadline - now;
    if (delay < 1) {
      if (this.immediate === undefined) this.immediate = setImmediate(this.onImmediateTimer);
      return;
    }
    // An armed timer that fires no later than needed is kept: firing early only costs a no-op handleTimeout and a
    // re-arm, while clearTimeout/setTimeout on every flush (deadlines move on every ACK) costs more.
    const at = deadline;
    if (this.timer !== undefined && this.timerAt <= at + 1) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.ceil(delay));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Closes every socket and stops all timers; connections still open are abandoned (close them first). */
  async closeSocket(): Promise<void> {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.clearTimer();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    await Promise.all(this.sockets.map((s) => s.close()));
  }
}
