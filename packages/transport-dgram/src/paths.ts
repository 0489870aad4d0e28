/** Paths as the application sees them, and the sockets a client opens to move to a new one (RFC 9000 §9). */
import type { Socket } from 'node:dgram';
import type { ConnectionPath, SocketAddress } from '@pathquic/core';
import { QuicMigrationError } from './errors.js';
import { bindUdp, connectUdp, createUdpSocket } from './udp.js';
import { trackSocket } from './diagnostics.js';

export interface QuicPathAddress {
  readonly address: string;
  readonly port: number;
}

/** One path of a connection: a local and a remote address, its state and what was measured on it. */
export interface QuicPath {
  readonly local: QuicPathAddress;
  readonly remote: QuicPathAddress;
  /** 'active': in use; 'validated': answered path validation (a spare or the previous path); 'validating': probe in flight. */
  readonly state: 'active' | 'validated' | 'validating' | 'unvalidated';
  /** Smoothed RTT (ms) on the active path; the PATH_CHALLENGE round trip on others (undefined before validation). */
  readonly rtt: number | undefined;
  /** Congestion window (bytes); only the active path has one. */
  readonly cwnd: number | undefined;
  /** The round trip of the PATH_CHALLENGE that validated the path (ms); undefined for a path never validated that way. */
  readonly validationRtt: number | undefined;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly datagramsSent: number;
  readonly datagramsReceived: number;
}

/** The payload of 'migrated'. */
export interface QuicPathChange {
  readonly from: QuicPath;
  readonly to: QuicPath;
  /** 'local-migration' (this client moved), 'nat-rebinding' / 'peer-migration' (the peer moved), 'fallback'. */
  readonly reason: string;
}

export interface MigrateOptions {
  /** Local address for the new socket (for example the cellular interface's). Default: any (the route decides). */
  localAddress?: string;
  /** Local port for the new socket. Default ephemeral. */
  localPort?: number;
  /** Use this socket instead of opening one (bound or not; it becomes the connection's and is closed with it). */
  socket?: Socket;
  /** Switch at once instead of after validation (break-before-make); falls back to the old path if validation fails. */
  immediate?: boolean;
}

/** A path as the application sees it; `defaultLocal` fills in the local address where core does not track it. */
export function toQuicPath(p: ConnectionPath, defaultLocal: QuicPathAddress): QuicPath {
  return {
    local: p.local ?? defaultLocal,
    remote: p.remote,
    state: p.active ? 'active' : p.validated ? 'validated' : p.validating ? 'validating' : 'unvalidated',
    rtt: p.rtt,
    cwnd: p.congestionWindow,
    validationRtt: p.validationRtt,
    bytesSent: p.bytesSent,
    bytesReceived: p.bytesReceived,
    datagramsSent: p.datagramsSent,
    datagramsReceived: p.datagramsReceived,
  };
}

function isBound(socket: Socket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}

function isConnected(socket: Socket): boolean {
  try {
    socket.remoteAddress();
    return true;
  } catch {
    return false;
  }
}

/**
 * A socket for a new path to `remote`: bound as asked and connect()ed to `remote` (a connected socket skips the
 * route lookup per datagram and hears only from that server address). Failures become QuicMigrationError('socket').
 */
export async function openPathSocket(remote: SocketAddress, options: MigrateOptions): Promise<Socket> {
  const family = remote.address.includes(':') ? 6 : 4;
  const socket = options.socket ?? createUdpSocket(family);
  try {
    if (!isBound(socket)) await bindUdp(socket, options.localPort ?? 0, options.localAddress);
    if (!isConnected(socket)) await connectUdp(socket, remote.port, remote.address);
  } catch (e) {
    try {
      socket.close();
    } catch {
      // already closed
    }
    throw new QuicMigrationError('socket', (e as Error).message);
  }
  if (options.socket === undefined) trackSocket(socket);
  return socket;
}
