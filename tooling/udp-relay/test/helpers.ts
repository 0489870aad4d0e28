import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';

export interface Received {
  readonly data: Buffer;
  readonly from: RemoteInfo;
  readonly at: number;
}

/** A bound loopback socket that records what it receives. Close it with `close()` (or `closeAll`). */
export class Peer {
  readonly received: Received[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      this.received.push({ data, from, at: performance.now() });
      this.waiters = this.waiters.filter((w) => {
        if (this.received.length < w.n) return true;
        w.resolve();
        return false;
      });
      this.onMessage?.(data, from);
    });
  }

  onMessage: ((data: Buffer, from: RemoteInfo) => void) | undefined;

  static async open(host = '127.0.0.1', port = 0): Promise<Peer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const peer = new Peer(socket);
    open.add(peer);
    return peer;
  }

  /** An echo server: sends every datagram back to where it came from. */
  static async echo(host = '127.0.0.1'): Promise<Peer> {
    const peer = await Peer.open(host);
    peer.onMessage = (data, from) => peer.socket.send(data, from.port, from.address);
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Resolves once `n` datagrams in total have arrived, or after `timeoutMs` (whichever first). */
  waitFor(n: number, timeoutMs = 3000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      }, timeoutMs);
      const waiter = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends `count` datagrams carrying their index (4 bytes) padded to `size`, in paced bursts of `burst`. */
  async sendNumbered(count: number, port: number, host = '127.0.0.1', size = 100, burst = 16, start = 0): Promise<void> {
    for (let i = 0; i < count; i++) {
      const data = Buffer.alloc(size);
      data.writeUInt32BE(start + i, 0);
      this.socket.send(data, port, host);
      if ((i + 1) % burst === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The indices carried by the received datagrams, in arrival order. */
  indices(): number[] {
    return this.received.map((r) => r.data.readUInt32BE(0));
  }

  close(): Promise<void> {
    open.delete(this);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const open = new Set<Peer>();

export async function closeAllPeers(): Promise<void> {
  await Promise.all([...open].map((p) => p.close()));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Is IPv6 loopback usable on this machine? */
export async function ipv6Available(): Promise<boolean> {
  const socket = createSocket('udp6');
  const ok = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(0, '::1', () => resolve(true));
  });
  await new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
  return ok;
}

/** Number of open UDP handles in this thread, from Node's active-resources list. */
export function openUdpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPWRAP').length;
}

/** Number of pending timers in this thread. */
export function openTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
