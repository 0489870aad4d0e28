// The server side. node:net can listen on a descriptor it is handed (`listen({ fd })`), so we create and bind the
// MPTCP socket natively and let libuv do listen(2), accept(2) and the rest. accept() on an MPTCP listener yields
// MPTCP sockets; a client without MPTCP yields a socket that the kernel fell back to TCP, which we label.
import dns from 'node:dns';
import net from 'node:net';
import { MptcpUnavailableError } from './errors.js';
import type { MptcpFallbackReason, MptcpMode, MptcpState } from './errors.js';
import { isMptcpSocketFd, runsMptcp } from './info.js';
import { fdOf, loadNative, systemError } from './native.js';
import { createMptcpFd, mptcpDisabledByEnv } from './socket.js';

export interface MptcpServerOptions extends net.ServerOpts {
  /** `true` (default): listen with MPTCP when possible, else TCP. `'required'`: fail instead of TCP, and drop
   * connections that fell back to TCP (peer without MPTCP; the server emits 'mptcpRejected' with the socket).
   * `false`: plain TCP. */
  mptcp?: MptcpMode;
}

/** An accepted connection: a plain net.Socket plus what we learnt about it. */
export type MptcpAcceptedSocket = net.Socket & MptcpState;

interface TcpListenRequest {
  port: number;
  host: string | undefined;
  backlog: number | undefined;
  ipv6Only: boolean;
  exclusive: boolean | undefined;
  signal: AbortSignal | undefined;
}

function validPort(port: unknown): number | null {
  if (typeof port === 'string' && /^\s*$/.test(port)) return null;
  if (typeof port !== 'number' && typeof port !== 'string') return null;
  const n = Number(port);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : null;
}

/**
 * Reads net.Server#listen's argument forms. Returns null for the forms that are not "a TCP port" (a path, a handle,
 * an fd, or arguments Node itself will reject), which are passed to net.Server untouched.
 */
export function parseListenArgs(args: unknown[]): { request: TcpListenRequest; cb: (() => void) | undefined } | { path: boolean } {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = cb === undefined ? args : args.slice(0, -1);
  const first = rest[0];
  if (first !== null && typeof first === 'object') {
    const o = first as net.ListenOptions & { fd?: unknown; handle?: unknown; _handle?: unknown };
    if (o.path !== undefined) return { path: true };
    if (o.fd !== undefined || o.handle !== undefined || o._handle !== undefined || !('port' in o)) return { path: false };
    const port = o.port === undefined || o.port === null ? 0 : validPort(o.port);
    if (port === null) return { path: false };
    return {
      request: { port, host: o.host || undefined, backlog: o.backlog, ipv6Only: o.ipv6Only === true, exclusive: o.exclusive, signal: o.signal },
      cb,
    };
  }
  if (typeof first === 'string' && validPort(first) === null) return { path: true };
  const port = first === undefined || first === null ? 0 : validPort(first);
  if (port === null) return { path: false };
  const host = typeof rest[1] === 'string' && rest[1] !== '' ? rest[1] : undefined;
  const backlog = typeof rest[1] === 'number' ? rest[1] : typeof rest[2] === 'number' ? rest[2] : undefined;
  return { request: { port, host, backlog, ipv6Only: false, exclusive: undefined, signal: undefined }, cb };
}

/** A net.Server that listens with Multipath TCP when the kernel allows it. */
export class MptcpServer extends net.Server implements MptcpState {
  mptcp = false;
  mptcpFallbackReason: MptcpFallbackReason | null = null;
  private mptcpMode: MptcpMode;

  constructor(connectionListener?: (socket: MptcpAcceptedSocket) => void);
  constructor(options?: MptcpServerOptions, connectionListener?: (socket: MptcpAcceptedSocket) => void);
  constructor(a?: MptcpServerOptions | ((socket: MptcpAcceptedSocket) => void), b?: (socket: MptcpAcceptedSocket) => void) {
    const options = typeof a === 'object' && a !== null ? a : {};
    const listener = typeof a === 'function' ? a : b;
    super(options, listener as ((socket: net.Socket) => void) | undefined);
    this.mptcpMode = options.mptcp ?? true;
  }

  override listen(port?: number, hostname?: string, backlog?: number, listeningListener?: () => void): this;
  override listen(port?: number, hostname?: string, listeningListener?: () => void): this;
  override listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  override listen(port?: number, listeningListener?: () => void): this;
  override listen(path: string, backlog?: number, listeningListener?: () => void): this;
  override listen(path: string, listeningListener?: () => void): this;
  override listen(options: net.ListenOptions, listeningListener?: () => void): this;
  override listen(handle: unknown, backlog?: number, listeningListener?: () => void): this;
  override listen(handle: unknown, listeningListener?: () => void): this;
  override listen(...args: unknown[]): this {
    // Already listening: net.Server throws ERR_SERVER_ALREADY_LISTEN, and our state must stay as it is.
    if (this.listening) return (super.listen as (...a: unknown[]) => this)(...args);
    const parsed = parseListenArgs(args);
    const plain = (reason: MptcpFallbackReason): this => {
      this.mptcp = false;
      this.mptcpFallbackReason = reason;
      return (super.listen as (...a: unknown[]) => this)(...args);
    };
    if ('path' in parsed) return plain('not-tcp');
    if (this.mptcpMode === false) return plain('disabled');
    const { request, cb } = parsed;
    if (cb !== undefined) this.once('listening', cb);
    if (mptcpDisabledByEnv()) {
      this.listenPlain(request, 'disabled');
    } else if (request.host === undefined || net.isIP(request.host) !== 0) {
      this.listenMptcp(request, request.host ?? null, net.isIP(request.host ?? '') === 6 ? 6 : 4);
    } else {
      dns.lookup(request.host, (err, address, family) => {
        if (err !== null) this.emit('error', err);
        else this.listenMptcp(request, address, family === 6 ? 6 : 4);
      });
    }
    return this;
  }

  private listenPlain(request: TcpListenRequest, reason: MptcpFallbackReason, detail?: string): void {
    this.mptcp = false;
    this.mptcpFallbackReason = reason;
    if (this.mptcpMode === 'required') {
      process.nextTick(() => this.emit('error', new MptcpUnavailableError(reason, detail)));
      return;
    }
    const { port, host, backlog, ipv6Only, exclusive, signal } = request;
    super.listen({ port, host, backlog, ipv6Only, exclusive, signal });
  }

  /** Native socket + bind, then net.Server#listen({ fd }). No address means Node's default: [::] dual-stack, else 0.0.0.0. */
  private listenMptcp(request: TcpListenRequest, address: string | null, family: 4 | 6): void {
    const attempts: Array<[string, 4 | 6]> = address === null ? [['::', 6], ['0.0.0.0', 4]] : [[address, family]];
    for (let i = 0; i < attempts.length; i++) {
      const [addr, fam] = attempts[i] as [string, 4 | 6];
      const made = createMptcpFd(fam);
      if ('reason' in made) return this.listenPlain(request, made.reason, 'detail' in made ? made.detail : undefined);
      if ('error' in made) {
        process.nextTick(() => this.emit('error', made.error));
        return;
      }
      const binding = loadNative().binding;
      const rc = binding?.bind(made.fd, fam, addr, request.port, request.ipv6Only) ?? -1;
      if (rc !== 0) {
        binding?.close(made.fd);
        if (i + 1 < attempts.length) continue;
        const err = systemError(-rc, 'listen', addr, request.port);
        process.nextTick(() => this.emit('error', err));
        return;
      }
      this.mptcp = true;
      this.mptcpFallbackReason = null;
      super.listen({ fd: made.fd, backlog: request.backlog, signal: request.signal } as net.ListenOptions);
      return;
    }
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'listening') {
      // Also covers listen(handle) / listen({ fd }) with a descriptor made elsewhere.
      this.mptcp = isMptcpSocketFd(fdOf(this));
      if (this.mptcp) this.mptcpFallbackReason = null;
      else this.mptcpFallbackReason ??= 'not-tcp';
      if (!this.mptcp && this.mptcpMode === 'required' && this.mptcpFallbackReason === 'not-tcp') {
        this.close();
        return super.emit('error', new MptcpUnavailableError('not-tcp'));
      }
    } else if (event === 'connection') {
      const socket = args[0] as MptcpAcceptedSocket;
      socket.mptcp = this.mptcp && runsMptcp(fdOf(socket));
      socket.mptcpFallbackReason = socket.mptcp ? null : this.mptcp ? 'peer' : this.mptcpFallbackReason;
      if (!socket.mptcp && this.mptcpMode === 'required') {
        socket.destroy();
        super.emit('mptcpRejected', socket);
        return false;
      }
    }
    return super.emit(event, ...args);
  }
}

/** Like net.createServer, listening with MPTCP. Extra option `mptcp` (`true` | `'required'` | `false`). */
export function createServer(connectionListener?: (socket: MptcpAcceptedSocket) => void): MptcpServer;
export function createServer(options?: MptcpServerOptions, connectionListener?: (socket: MptcpAcceptedSocket) => void): MptcpServer;
export function createServer(a?: MptcpServerOptions | ((socket: MptcpAcceptedSocket) => void), b?: (socket: MptcpAcceptedSocket) => void): MptcpServer {
  return typeof a === 'function' ? new MptcpServer(a) : new MptcpServer(a, b);
}
