import type { QlogFlavour } from '@pathquic/core';
/** connect(): a client connection on its own UDP socket. */
import { performance } from 'node:perf_hooks';
import { Endpoint, type ClientTlsOptions, type TransportConfig } from '@pathquic/core';
import { decodeSessionTicket, type SessionTicket, nodeKeyExchange } from '@pathquic/tls';
import { QuicConnection } from './connection.js';
import { EndpointDriver } from './driver.js';
import { QuicHandshakeError } from './errors.js';
import { trackSocket } from './diagnostics.js';
import { QlogFiles, keyLogCallback, resolveHost, type KeyLogOption } from './options.js';
import { bindUdp, connectUdp, createUdpSocket } from './udp.js';

export interface ConnectOptions {
  host: string;
  port: number;
  /** ALPN protocols offered, in preference order (RFC 9001 §8.1: required). */
  alpn: readonly string[];
  /** Name checked against the certificate and sent as SNI. Default `host`. */
  servername?: string;
  /** Trusted roots (PEM strings or DER/PEM Buffers). Default Node's bundled Mozilla roots. */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Skip chain verification (the certificate's dates and name are still checked). Tests only. */
  insecure?: boolean;
  /** Resume with a ticket from an earlier connection ('sessionticket' event / `conn.sessionTicket`), or its encoded form. */
  session?: SessionTicket | Uint8Array;
  /**
   * Send 0-RTT data when `session` allows it. connect() then resolves as soon as the connection is created so
   * that streams opened right away go out in 0-RTT; `conn.ready` tells when the handshake completed.
   */
  earlyData?: boolean;
  /** NEW_TOKEN token from an earlier connection to this server (`conn.newToken`), to skip address validation. */
  token?: Uint8Array;
  transport?: TransportConfig;
  /** Writes a qlog `.sqlog` file for the connection into this directory. */
  qlogDir?: string;
  /**
   * 'draft' (default): the current quic-events names (JSON-SEQ .sqlog); 'qvis': the qlog 0.3 form that the qvis
   * visualiser loads (see @pathquic/core's QlogWriter).
   */
  qlogFormat?: QlogFlavour;
  /** SSLKEYLOGFILE lines: a path to append to, or a callback. Default: the SSLKEYLOGFILE environment variable. */
  keylog?: KeyLogOption;
  /** Aborting fails a pending connect() with reason 'aborted' and closes the connection (also after connect). */
  signal?: AbortSignal;
  localPort?: number;
  localAddress?: string;
  /** Bytes each stream's readable buffers ahead of the reader (default 256 KiB). */
  streamReadHighWaterMark?: number;
  /** Extra TLS client settings (cipher suites, groups, pins, a client certificate...). */
  tls?: Partial<ClientTlsOptions>;
  /** Move to the server's preferred_address after the handshake (RFC 9000 §9.6.1). Default true. */
  followPreferredAddress?: boolean;
  /**
   * Watch the local address in use and migrate to a new socket when it disappears from the host's interfaces
   * (network change). `true` polls every second; a number sets the interval in ms. Default off.
   */
  watchLocalAddress?: boolean | number;
}

function normaliseCa(ca: ConnectOptions['ca']): (string | Uint8Array)[] | undefined {
  if (ca === undefined) return undefined;
  if (typeof ca === 'string' || ca instanceof Uint8Array) return [ca];
  return [...ca];
}

/** Opens a QUIC connection; resolves once the handshake completes, rejects with QuicHandshakeError. */
export async function connect(options: ConnectOptions): Promise<QuicConnection> {
  if (!Array.isArray(options.alpn) || options.alpn.length === 0) throw new TypeError('connect: alpn must list at least one protocol');
  if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw new RangeError(`connect: invalid port ${options.port}`);
  const signal = options.signal;
  const abortedError = (): QuicHandshakeError => new QuicHandshakeError('aborted', 'connect() was aborted before the handshake completed');
  const isAborted = (): boolean => signal?.aborted === true;
  if (isAborted()) throw abortedError();
  const remote = await resolveHost(options.host);
  if (isAborted()) throw abortedError();

  const socket = createUdpSocket(remote.family);
  try {
    await bindUdp(socket, options.localPort ?? 0, options.localAddress);
    await connectUdp(socket, options.port, remote.address);
  } catch (e) {
    socket.close();
    throw e;
  }
  trackSocket(socket);
  if (isAborted()) {
    socket.close();
    throw abortedError();
  }

  const wallClockOffset = Date.now() - performance.now();
  const qlog = options.qlogDir !== undefined ? new QlogFiles(options.qlogDir, wallClockOffset, options.qlogFormat) : undefined;
  const endpoint = new Endpoint({
    // node:dgram gives every datagram its own buffer and the driver never touches it again: core may keep views.
    ownsDatagrams: true,
    wallClockOffset,
    ...(options.transport !== undefined && { transport: options.transport }),
    ...(qlog !== undefined && { qlog: qlog.factory }),
  });
  const peer = { address: remote.address, port: options.port };
  // Local addresses are part of every path, so that the connection can move to another socket (RFC 9000 §9.2).
  const driver = new EndpointDriver(socket, endpoint, { connectedPeer: peer, passLocal: true });

  const session = options.session instanceof Uint8Array ? decodeSessionTicket(options.session) : options.session;
  const keyLog = keyLogCallback(options.keylog);
  const ca = normaliseCa(options.ca);
  const tls: ClientTlsOptions = {
    // On Node, OpenSSL's X25519/P-256 are several times faster than the portable default (RFC 8446 key exchange
    // dominates handshake CPU); an explicit `tls.keyExchange` still wins.
    keyExchange: nodeKeyExchange,
    ...options.tls,
    alpnProtocols: [...options.alpn],
    serverName: options.servername ?? options.host,
    ...(ca !== undefined && { ca }),
    ...(options.insecure === true && { insecureSkipChainVerification: true }),
    ...(session !== undefined && { session }),
    ...(options.earlyData === true && { earlyData: true }),
    ...(keyLog !== undefined && { keyLog }),
  };
  let core;
  try {
    core = endpoint.connect(performance.now(), peer, {
      tls,
      local: driver.sockets[0]!.local,
      ...(options.transport !== undefined && { transport: options.transport }),
      ...(options.token !== undefined && { token: options.token }),
    });
  } catch (e) {
    await driver.closeSocket();
    throw e;
  }
  const closeQlog = qlog?.take();
  const conn = new QuicConnection(driver, core, {
    ...(options.streamReadHighWaterMark !== undefined && { readHighWaterMark: options.streamReadHighWaterMark }),
    ...(options.followPreferredAddress !== undefined && { followPreferredAddress: options.followPreferredAddress }),
    ...(options.watchLocalAddress !== undefined &&
      options.watchLocalAddress !== false && { watchLocalAddressMs: options.watchLocalAddress === true ? 1000 : options.watchLocalAddress }),
  });
  driver.adopt(core, conn.owner);
  driver.closeWhenIdle = true;
  driver.onIdle = () => {
    void driver.closeSocket();
  };
  conn.onTerminated = () => {
    void closeQlog?.();
    signal?.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => conn.abort('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  driver.flush();

  const zeroRtt = options.earlyData === true && session !== undefined && session.maxEarlyDataSize > 0;
  if (!zeroRtt) await conn.ready;
  return conn;
}
