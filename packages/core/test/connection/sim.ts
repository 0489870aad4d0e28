/**
 * A deterministic in-process network for connection tests: two endpoints, one-way delay, seeded loss, duplication
 * and reordering, and a virtual clock. Time jumps to the next delivery or deadline, so minutes of protocol time run
 * in milliseconds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCertificateIdentity } from '@pathquic/tls';
import { rng } from '../streams/helpers.js';
import { Endpoint, type EndpointOptions, type EndpointServerOptions, type ServerTlsOptions, type SocketAddress, type TransportConfig } from '../../src/index.js';

const dir = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const ROOT_CA = readFileSync(dir + 'root-ca.crt', 'utf8');
export const SERVER_IDENTITY = loadCertificateIdentity({
  cert: readFileSync(dir + 'leaf-ecdsa.chain.pem', 'utf8'),
  key: readFileSync(dir + 'leaf-ecdsa.key', 'utf8'),
});
/** Wall-clock time of virtual t=0: inside the fixture certificates' validity. */
export const EPOCH = Date.UTC(2027, 0, 1);

export const CLIENT_ADDR: SocketAddress = { address: '10.0.0.1', port: 40000 };
export const SERVER_ADDR: SocketAddress = { address: '10.0.0.2', port: 443 };

export interface LinkOptions {
  /** One-way delay, ms. */
  delay?: number;
  loss?: number;
  duplicate?: number;
  /** Probability a datagram is held back by an extra `reorderDelay`. */
  reorder?: number;
  reorderDelay?: number;
  /** Bottleneck in bytes per ms (0 = unlimited). */
  rate?: number;
  /** Drop when this many bytes are queued at the bottleneck. */
  queueBytes?: number;
  /** Called on each datagram; return false to drop it. */
  filter?: (data: Uint8Array, to: 'client' | 'server', from: SocketAddress, dest: SocketAddress) => boolean;
}

/** Seeded PRNG for loss, reordering and the endpoints' randomness (the stream tests' mulberry32). */
export const prng = rng;

interface InFlight {
  at: number;
  seq: number;
  to: 'client' | 'server';
  from: SocketAddress;
  /** Where it was sent to (the receiving local address). */
  dest: SocketAddress;
  data: Uint8Array;
}

export interface PairOptions {
  seed?: number;
  link?: LinkOptions;
  server?: Omit<Partial<EndpointServerOptions>, 'tls'> & { tls?: Partial<ServerTlsOptions> };
  serverTransport?: TransportConfig;
  clientTransport?: TransportConfig;
  clientEndpoint?: Partial<EndpointOptions>;
  /** Default: batched for even seeds, one by one for odd ones, so both paths run. */
  batch?: boolean;
}

export class SimNetwork {
  now = 0;
  readonly client: Endpoint;
  server: Endpoint;
  readonly rand: () => number;
  private queue: InFlight[] = [];
  private seq = 0;
  private busyUntil = { client: 0, server: 0 };
  private queued = { client: 0, server: 0 };
  link: LinkOptions;
  clientAddr: SocketAddress = CLIENT_ADDR;
  delivered = 0;
  dropped = 0;
  /** Pull datagrams with pollTransmitBatch (batched sealing) instead of one by one. */
  batch: boolean;

  constructor(opts: PairOptions = {}) {
    this.rand = prng(opts.seed ?? 1);
    this.batch = opts.batch ?? (opts.seed ?? 1) % 2 === 0;
    this.link = { delay: 10, ...opts.link };
    const random = (n: number): Uint8Array => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(this.rand() * 256);
      return out;
    };
    // Every delivered datagram is a fresh copy nobody touches again: the endpoints may keep views of them (batched mode).
    const ownsDatagrams = this.batch;
    this.client = new Endpoint({ random, wallClockOffset: EPOCH, ownsDatagrams, ...(opts.clientTransport && { transport: opts.clientTransport }), ...opts.clientEndpoint });
    this.server = new Endpoint({
      random,
      wallClockOffset: EPOCH,
      ownsDatagrams,
      server: {
        ...opts.server,
        tls: { alpnProtocols: ['test'], certificate: SERVER_IDENTITY, ...opts.server?.tls },
        ...(opts.serverTransport !== undefined && { transport: opts.serverTransport }),
      },
    });
  }

  private send(to: 'client' | 'server', from: SocketAddress, data: Uint8Array, dest: SocketAddress = to === 'server' ? SERVER_ADDR : this.clientAddr): void {
    const l = this.link;
    if (l.filter !== undefined && !l.filter(data, to, from, dest)) {
      this.dropped++;
      return;
    }
    if ((l.loss ?? 0) > 0 && this.rand() < l.loss!) {
      this.dropped++;
      return;
    }
    let at = this.now;
    if ((l.rate ?? 0) > 0) {
      if (this.queued[to] + data.length > (l.queueBytes ?? Infinity) && this.busyUntil[to] > this.now) {
        this.dropped++;
        return;
      }
      const start = Math.max(this.now, this.busyUntil[to]);
      this.busyUntil[to] = start + data.length / l.rate!;
      at = this.busyUntil[to];
      this.queued[to] += data.length;
      const size = data.length;
      setQueuedRelease(this, to, at, size);
    }
    at += l.delay ?? 0;
    if ((l.reorder ?? 0) > 0 && this.rand() < l.reorder!) at += l.reorderDelay ?? 5;
    this.push({ at, seq: this.seq++, to, from, dest, data: data.slice() });
    if ((l.duplicate ?? 0) > 0 && this.rand() < l.duplicate!) this.push({ at: at + 1, seq: this.seq++, to, from, dest, data: data.slice() });
  }

  /** @internal */
  releases: { at: number; to: 'client' | 'server'; size: number }[] = [];

  private push(f: InFlight): void {
    // Insertion keeps the queue sorted by (at, seq); queues stay small in tests.
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > f.at || (this.queue[i - 1]!.at === f.at && this.queue[i - 1]!.seq > f.seq))) i--;
    this.queue.splice(i, 0, f);
  }

  /** Datagrams the server sends to an address the client no longer has (after a rebinding) are lost. */
  private toClient(t: { data: Uint8Array; remote: SocketAddress; local?: SocketAddress }): void {
    const live = [this.clientAddr, ...this.extraClientAddrs].find((a) => a.port === t.remote.port && a.address === t.remote.address);
    if (live === undefined) {
      this.misaddressed++;
      return;
    }
    this.send('client', t.local ?? SERVER_ADDR, t.data, live);
  }

  /** Client datagrams go where they are addressed: the server's address or one it added (a preferred address). */
  private toServer(t: { data: Uint8Array; remote: SocketAddress; local?: SocketAddress }): void {
    const dest = [SERVER_ADDR, ...this.extraServerAddrs].find((a) => a.port === t.remote.port && a.address === t.remote.address);
    if (dest === undefined) {
      this.misaddressed++;
      return;
    }
    this.send('server', t.local ?? this.clientAddr, t.data, dest);
  }

  /** More addresses the server receives on (its preferred address). */
  extraServerAddrs: SocketAddress[] = [];

  /** More addresses the client can receive on (sockets it opened to migrate). */
  extraClientAddrs: SocketAddress[] = [];

  /** Server datagrams dropped because they went to a stale client address. */
  misaddressed = 0;

  /** Sends everything both endpoints have to send now. */
  flush(): void {
    for (let guard = 0; guard < 100000; guard++) {
      let any = false;
      if (this.batch) {
        for (const c of this.client.pollTransmitBatch(this.now, 16)) {
          this.toServer(c);
          any = true;
        }
        for (const s of this.server.pollTransmitBatch(this.now, 16)) {
          this.toClient(s);
          any = true;
        }
      } else {
        const c = this.client.pollTransmit(this.now);
        if (c !== undefined) this.toServer(c);
        const s = this.server.pollTransmit(this.now);
        if (s !== undefined) this.toClient(s);
        any = c !== undefined || s !== undefined;
      }
      if (!any) return;
    }
    throw new Error('endpoints keep transmitting without end');
  }

  /** Advances to the next delivery or deadline and processes it. Returns false when nothing is left to happen. */
  step(limit = Infinity): boolean {
    this.flush();
    const next = Math.min(
      this.queue[0]?.at ?? Infinity,
      this.client.pollTimeout() ?? Infinity,
      this.server.pollTimeout() ?? Infinity,
      this.releases[0]?.at ?? Infinity,
    );
    if (next === Infinity || next > limit) return false;
    this.now = Math.max(this.now, next);
    while (this.releases.length > 0 && this.releases[0]!.at <= this.now) {
      const r = this.releases.shift()!;
      this.queued[r.to] -= r.size;
    }
    const toServer: { data: Uint8Array; remote: SocketAddress; local: SocketAddress }[] = [];
    const toClient: { data: Uint8Array; remote: SocketAddress; local: SocketAddress }[] = [];
    while (this.queue.length > 0 && this.queue[0]!.at <= this.now) {
      const f = this.queue.shift()!;
      this.delivered++;
      if (!this.batch) {
        if (f.to === 'server') this.server.handleDatagram(this.now, f.data, f.from, f.dest);
        else this.client.handleDatagram(this.now, f.data, f.from, f.dest);
      } else (f.to === 'server' ? toServer : toClient).push({ data: f.data, remote: f.from, local: f.dest });
    }
    // Batched mode hands everything that arrived at the same instant over at once, as a socket read burst would.
    if (toServer.length > 0) this.server.handleDatagramBatch(this.now, toServer);
    if (toClient.length > 0) this.client.handleDatagramBatch(this.now, toClient);
    const ct = this.client.pollTimeout();
    if (ct !== undefined && ct <= this.now) this.client.handleTimeout(this.now);
    const st = this.server.pollTimeout();
    if (st !== undefined && st <= this.now) this.server.handleTimeout(this.now);
    return true;
  }

  /** Steps until `done()` or the virtual clock passes `maxTime` ms. Returns whether done. */
  runUntil(done: () => boolean, maxTime = 60_000, onStep?: () => void): boolean {
    const end = this.now + maxTime;
    while (!done()) {
      onStep?.();
      if (done()) return true;
      if (!this.step(end)) {
        onStep?.();
        return done();
      }
    }
    return true;
  }

  /** Injects a datagram as if it arrived from `from`. */
  inject(to: 'client' | 'server', data: Uint8Array, from: SocketAddress): void {
    this.push({ at: this.now, seq: this.seq++, to, from, dest: to === 'server' ? SERVER_ADDR : this.clientAddr, data });
  }
}

function setQueuedRelease(net: SimNetwork, to: 'client' | 'server', at: number, size: number): void {
  const r = net.releases;
  let i = r.length;
  while (i > 0 && r[i - 1]!.at > at) i--;
  r.splice(i, 0, { at, to, size });
}
