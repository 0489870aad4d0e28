// The client side. node:net does everything (resolve, connect, timeouts, errors, streams); we only slip an MPTCP
// descriptor into the socket's libuv handle in the short window between `Socket#connect()` creating the empty
// handle and Node calling connect(2) on it. libuv then connects that descriptor instead of creating a TCP one.
import dns from 'node:dns';
import type { LookupAddress, LookupOneOptions } from 'node:dns';
import net from 'node:net';
import { FALLBACK_ERRNOS, MptcpUnavailableError } from './errors.js';
import type { MptcpFallbackReason, MptcpMode, MptcpState } from './errors.js';
import { runsMptcp } from './info.js';
import { errnoName, fdOf, loadNative, systemError } from './native.js';

export interface MptcpSocketOptions extends net.SocketConstructorOpts {
  /** `true` (default): MPTCP when possible, else TCP. `'required'`: fail instead of TCP. `false`: plain TCP. */
  mptcp?: MptcpMode;
  /** Like net.connect's: abort the connection attempt / close the socket. */
  signal?: AbortSignal;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export type MptcpConnectOptions = (net.TcpNetConnectOpts | net.IpcNetConnectOpts) & MptcpSocketOptions;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type LookupFunction = (hostname: string, options: LookupOneOptions, callback: LookupCallback) => void;

interface TcpHandle {
  open(fd: number): number;
}

/** `PATHQUIC_MPTCP=0` turns MPTCP off process-wide, like Go's GODEBUG=multipathtcp=0. */
export function mptcpDisabledByEnv(): boolean {
  const v = process.env['PATHQUIC_MPTCP'];
  return v === '0' || v === 'false' || v === 'off';
}

/** Creates an MPTCP descriptor, or says why not (a fallback reason, or a hard error such as EMFILE). */
export function createMptcpFd(family: 4 | 6): { fd: number } | { reason: MptcpFallbackReason; detail?: string } | { error: Error } {
  const native = loadNative();
  if (native.binding === null) return { reason: native.error, detail: native.detail };
  const fd = native.binding.socket(family);
  if (fd >= 0) return { fd };
  const name = errnoName(-fd);
  if (FALLBACK_ERRNOS.has(name)) return { reason: name as MptcpFallbackReason };
  return { error: systemError(-fd, 'socket') };
}

/** net.connect's argument forms: (options[, cb]), (port[, host][, cb]), (path[, cb]). */
export function normalizeConnectArgs(args: unknown[]): [MptcpConnectOptions, (() => void) | undefined] {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = cb === undefined ? args : args.slice(0, -1);
  const [first, second] = rest;
  if (first !== null && typeof first === 'object') return [first as MptcpConnectOptions, cb];
  if (typeof first === 'string' && !/^\d+$/.test(first)) return [{ path: first }, cb];
  const options: net.TcpNetConnectOpts = { port: first as number };
  if (typeof second === 'string') options.host = second;
  return [options, cb];
}

/** A net.Socket whose connections are Multipath TCP when the kernel allows it. */
export class MptcpSocket extends net.Socket implements MptcpState {
  mptcp = false;
  mptcpFallbackReason: MptcpFallbackReason | null = null;
  private mptcpMode: MptcpMode;
  private mptcpRejected = false;

  constructor(options: MptcpSocketOptions = {}) {
    super(options);
    this.mptcpMode = options.mptcp ?? true;
  }

  override connect(options: MptcpConnectOptions, connectionListener?: () => void): this;
  override connect(port: number, host: string, connectionListener?: () => void): this;
  override connect(port: number, connectionListener?: () => void): this;
  override connect(path: string, connectionListener?: () => void): this;
  override connect(...args: unknown[]): this {
    const [options, cb] = normalizeConnectArgs(args);
    if (options.mptcp !== undefined) this.mptcpMode = options.mptcp;
    this.mptcpRejected = false;
    if ('path' in options && options.path !== undefined) return this.connectPlain(options, cb, 'not-tcp');
    if (this.mptcpMode === false || mptcpDisabledByEnv()) return this.connectPlain(options, cb, 'disabled');

    const tcp = options as net.TcpNetConnectOpts & MptcpSocketOptions;
    const host = tcp.host || 'localhost';
    const literal = net.isIP(host);
    // Happy Eyeballs opens a fresh handle per attempt, out of our reach: MPTCP connects to the first address.
    const opts: net.TcpNetConnectOpts = { ...tcp, autoSelectFamily: false };
    if (literal === 0) {
      const userLookup = (tcp.lookup ?? dns.lookup) as unknown as LookupFunction;
      const lookup: LookupFunction = (hostname, dnsOptions, callback) => {
        userLookup(hostname, dnsOptions, (err, address, family) => {
          // The family of the socket must be that of the address libuv will connect to.
          if (err === null && typeof address === 'string') this.attachMptcp(net.isIP(address) === 6 ? 6 : 4);
          callback(err, address, family);
        });
      };
      opts.lookup = lookup as unknown as net.LookupFunction;
    }
    super.connect(opts, cb);
    if (literal !== 0) this.attachMptcp(literal === 6 ? 6 : 4);
    return this;
  }

  private connectPlain(options: MptcpConnectOptions, cb: (() => void) | undefined, reason: MptcpFallbackReason): this {
    this.mptcp = false;
    this.mptcpFallbackReason = reason;
    super.connect(options as net.TcpNetConnectOpts, cb);
    if (this.mptcpMode === 'required') this.destroy(new MptcpUnavailableError(reason));
    return this;
  }

  /** Puts an MPTCP descriptor into the still empty handle that Socket#connect() created. */
  private attachMptcp(family: 4 | 6): void {
    const handle = (this as unknown as { _handle: TcpHandle | null })._handle;
    if (!this.connecting || this.destroyed || handle === null || fdOf(this) >= 0) return;
    const made = createMptcpFd(family);
    if ('error' in made) {
      this.destroy(made.error);
      return;
    }
    if ('reason' in made) {
      this.mptcp = false;
      this.mptcpFallbackReason = made.reason;
      if (this.mptcpMode === 'required') this.destroy(new MptcpUnavailableError(made.reason, 'detail' in made ? made.detail : undefined));
      return;
    }
    const err = handle.open(made.fd);
    if (err !== 0) {
      loadNative().binding?.close(made.fd);
      this.destroy(systemError(-err, 'open'));
      return;
    }
    this.mptcp = true;
    this.mptcpFallbackReason = null;
  }

  // 'connect' is where the kernel has finished the handshake and knows whether the peer speaks MPTCP: record a
  // fallback before any listener runs, and in required mode turn it into an error instead of a connection.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connect' && this.mptcp && !runsMptcp(fdOf(this))) {
      this.mptcp = false;
      this.mptcpFallbackReason = 'peer';
      if (this.mptcpMode === 'required') {
        this.mptcpRejected = true;
        this.destroy(new MptcpUnavailableError('peer', `${this.remoteAddress}:${this.remotePort}`));
        return false;
      }
    }
    if (this.mptcpRejected && (event === 'connect' || event === 'ready')) return false;
    return super.emit(event, ...args);
  }
}

/**
 * Like net.connect / net.createConnection, with an MPTCP socket. Extra option `mptcp` (`true` | `'required'` |
 * `false`). Check `socket.mptcp` after 'connect' (the peer may not speak MPTCP).
 */
export function connect(options: MptcpConnectOptions, connectionListener?: () => void): MptcpSocket;
export function connect(port: number, host?: string, connectionListener?: () => void): MptcpSocket;
export function connect(port: number, connectionListener?: () => void): MptcpSocket;
export function connect(path: string, connectionListener?: () => void): MptcpSocket;
export function connect(...args: unknown[]): MptcpSocket {
  const [options, cb] = normalizeConnectArgs(args);
  const socket = new MptcpSocket(options);
  if (options.timeout !== undefined && options.timeout > 0) socket.setTimeout(options.timeout);
  return socket.connect(options, cb);
}

export const createConnection = connect;
