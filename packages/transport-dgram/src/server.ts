import type { QlogFlavour } from '@pathquic/core';
/** listen(): a QUIC server on one UDP socket, handing out connections as their handshakes complete. */
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isIP } from 'node:net';
import { Endpoint, type PreferredAddresses, type ServerTlsOptions, type TransportConfig } from '@pathquic/core';
import { SingleUseAntiReplay, loadCertificateIdentity, type CertificateIdentity, nodeKeyExchange } from '@pathquic/tls';
import { QuicConnection } from './connection.js';
import { EndpointDriver } from './driver.js';
import { QlogFiles, keyLogCallback, resolveHost, type KeyLogOption } from './options.js';
import { bindUdp, createUdpSocket } from './udp.js';
import { trackSocket } from './diagnostics.js';

export interface ListenOptions {
  /** UDP port; 0 picks an ephemeral one (see `server.address()`). */
  port: number;
  /** Address to bind. Default '::' (IPv6 and, dual-stack, IPv4). */
  host?: string;
  /** Certificate chain (leaf first) as PEM, or DER/PEM bytes; with `key`. */
  cert?: string | Uint8Array;
  /** Private key of the leaf certificate: PEM or DER/PEM bytes. */
  key?: string | Uint8Array;
  passphrase?: string;
  /** A ready certificate identity (from @pathquic/tls loadCertificateIdentity) instead of cert/key. */
  certificate?: CertificateIdentity;
  /** ALPN protocols accepted, in preference order. */
  alpn: readonly string[];
  /** Validate every client's address with a Retry first (RFC 9000 §8.1.2). */
  retry?: boolean;
  transport?: TransportConfig;
  /** Writes a qlog `.sqlog` file per connection into this directory. */
  qlogDir?: string;
  /**
   * 'draft' (default): the current quic-events names (JSON-SEQ .sqlog); 'qvis': the qlog 0.3 form that the qvis
   * visualiser loads (see @pathquic/core's QlogWriter).
   */
  qlogFormat?: QlogFlavour;
  /** SSLKEYLOGFILE lines: a path to append to, or a callback. Default: the SSLKEYLOGFILE environment variable. */
  keylog?: KeyLogOption;
  /** Aborting closes the server (as close()). */
  signal?: AbortSignal;
  /** 32-byte key for session tickets (enables resumption); share it between servers and restarts. */
  ticketKey?: Uint8Array;
  /** Accept 0-RTT from resuming clients (needs ticketKey); replays are refused by a single-use register. */
  earlyData?: boolean;
  /** Bytes each stream's readable buffers ahead of the reader (default 256 KiB). */
  streamReadHighWaterMark?: number;
  /** Extra TLS server settings (client certificates, cipher suites...). */
  tls?: Partial<ServerTlsOptions>;
  /**
   * A second address clients move to after the handshake (RFC 9000 §9.6, preferred_address): the server opens a
   * socket there too. `host` must be an IP literal of this host (what clients will send to).
   */
  preferredAddress?: { host: string; port: number };
}

/**
 * Events: 'connection' (QuicConnection, handshake complete), 'close'. Also an async iterator of connections:
 * `for await (const conn of server)` ends when the server closes.
 */
export class QuicServer extends EventEmitter implements AsyncIterable<QuicConnection> {
  readonly #driver: EndpointDriver;
  readonly #connections = new Set<QuicConnection>();
  readonly #queue: QuicConnection[] = [];
  #waiters: ((r: IteratorResult<QuicConnection>) => void)[] = [];
  #iterating = false;
  #closing: Promise<void> | undefined;
  #closed = false;

  /** @internal */
  constructor(driver: EndpointDriver) {
    super();
    this.#driver = driver;
  }

  /** The bound address, e.g. { address: '::', family: 'IPv6', port: 4433 }. */
  address(): { address: string; family: string; port: number } {
    return this.#driver.socket.address();
  }

  /** The preferred address's socket (RFC 9000 §9.6), when `preferredAddress` was given. */
  preferredAddress(): { address: string; family: string; port: number } | undefined {
    return this.#driver.sockets[1]?.socket.address();
  }

  /** Connections whose handshake completed and that are still open. */
  get connections(): ReadonlySet<QuicConnection> {
    return this.#connections;
  }

  /** @internal */
  accept(conn: QuicConnection): void {
    if (this.#closing !== undefined) return;
    this.#connections.add(conn);
    void conn.closed.then(() => this.#connections.delete(conn));
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter({ value: conn, done: false });
    else if (this.#iterating || this.listenerCount('connection') === 0) this.#queue.push(conn);
    this.emit('connection', conn);
  }

  [Symbol.asyncIterator](): AsyncIterator<QuicConnection> {
    this.#iterating = true;
    return {
      next: () => {
        const c = this.#queue.shift();
        if (c !== undefined) return Promise.resolve({ value: c, done: false });
        if (this.#closing !== undefined) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.#iterating = false;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * Stops accepting, closes every connection (application close code 0, or the given one), waits for their
   * closing periods (at most `timeoutMs`, default 2 s) and closes the socket.
   */
  close(info: { closeCode?: number; reason?: string; timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const driver = this.#driver;
    driver.endpoint.close();
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
    for (const conn of driver.owners.keys()) {
      conn.close(performance.now(), { errorCode: info.closeCode ?? 0, reason: info.reason ?? 'server closing', application: true });
    }
    driver.flush();
    this.#closing = (async () => {
      await new Promise<void>((resolve) => {
        if (driver.owners.size === 0) {
          resolve();
          return;
        }
        const t = setTimeout(resolve, info.timeoutMs ?? 2000);
        driver.closeWhenIdle = true;
        driver.onIdle = () => {
          clearTimeout(t);
          resolve();
        };
      });
      await driver.closeSocket();
      this.#closed = true;
      this.emit('close');
    })();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** Starts a QUIC server. */
export async function listen(options: ListenOptions): Promise<QuicServer> {
  if (!Array.isArray(options.alpn) || options.alpn.length === 0) throw new TypeError('listen: alpn must list at least one protocol');
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new RangeError(`listen: invalid port ${options.port}`);
  if (options.signal?.aborted === true) throw new Error('listen() was aborted');
  let certificate = options.certificate;
  if (certificate === undefined) {
    if (options.cert === undefined || options.key === undefined) throw new TypeError('listen: give cert and key, or certificate');
    certificate = loadCertificateIdentity({
      cert: options.cert,
      key: options.key,
      ...(options.passphrase !== undefined && { passphrase: options.passphrase }),
    });
  }
  const host = options.host ?? '::';
  const bindTo = await resolveHost(host);
  // '::' serves IPv4 clients too (as ::ffff:a.b.c.d) unless the system forces v6only.
  const socket = createUdpSocket(bindTo.family, { ipv6Only: false });
  try {
    await bindUdp(socket, options.port, bindTo.address);
  } catch (e) {
    socket.close();
    throw e;
  }
  trackSocket(socket);
  let preferredSocket: Socket | undefined;
  let preferredAddress: PreferredAddresses | undefined;
  if (options.preferredAddress !== undefined) {
    const pa = options.preferredAddress;
    const family = isIP(pa.host);
    if (family === 0 || pa.host === '0.0.0.0' || pa.host === '::') {
      socket.close();
      throw new TypeError(`listen: preferredAddress.host must be this host's IP address, got ${JSON.stringify(pa.host)}`);
    }
    preferredSocket = createUdpSocket(family === 6 ? 6 : 4);
    try {
      await bindUdp(preferredSocket, pa.port, pa.host);
    } catch (e) {
      preferredSocket.close();
      socket.close();
      throw e;
    }
    trackSocket(preferredSocket);
    const bound = { address: pa.host, port: preferredSocket.address().port };
    preferredAddress = family === 6 ? { ipv6: bound } : { ipv4: bound };
  }

  const wallClockOffset = Date.now() - performance.now();
  const qlog = options.qlogDir !== undefined ? new QlogFiles(options.qlogDir, wallClockOffset, options.qlogFormat) : undefined;
  const keyLog = keyLogCallback(options.keylog);
  const tls: ServerTlsOptions = {
    // On Node, OpenSSL's X25519/P-256 are several times faster than the portable default (RFC 8446 key exchange
    // dominates handshake CPU); an explicit `tls.keyExchange` still wins.
    keyExchange: nodeKeyExchange,
    ...options.tls,
    certificate,
    alpnProtocols: [...options.alpn],
    ...(options.ticketKey !== undefined && { ticketKey: options.ticketKey }),
    ...(options.earlyData === true && { earlyData: true, antiReplay: new SingleUseAntiReplay() }),
    ...(keyLog !== undefined && { keyLog }),
  };
  const endpoint = new Endpoint({
    // node:dgram gives every datagram its own buffer and the driver never touches it again: core may keep views.
    ownsDatagrams: true,
    server: {
      tls,
      ...(options.retry !== undefined && { retry: options.retry }),
      ...(options.transport !== undefined && { transport: options.transport }),
      ...(preferredAddress !== undefined && { preferredAddress }),
    },
    wallClockOffset,
    ...(options.transport !== undefined && { transport: options.transport }),
    ...(qlog !== undefined && { qlog: qlog.factory }),
  });
  const driver = new EndpointDriver(socket, endpoint, { passLocal: preferredSocket !== undefined });
  if (preferredSocket !== undefined) driver.addSocket(preferredSocket);
  const server = new QuicServer(driver);
  driver.onIncoming = (core) => {
    const conn = new QuicConnection(driver, core, {
      ...(options.streamReadHighWaterMark !== undefined && { readHighWaterMark: options.streamReadHighWaterMark }),
    });
    const closeQlog = qlog?.take();
    conn.onConnected = (c) => server.accept(c);
    conn.onTerminated = () => void closeQlog?.();
    return conn.owner;
  };
  const signal = options.signal;
  if (signal !== undefined) {
    const onAbort = (): void => void server.close();
    signal.addEventListener('abort', onAbort, { once: true });
    server.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return server;
}
