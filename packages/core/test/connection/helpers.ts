import { createHash } from 'node:crypto';
import type { Connection, ConnectionEvent, SocketAddress } from '../../src/index.js';
import { bytes, concat } from '../streams/helpers.js';
import { ROOT_CA, SERVER_ADDR, type SimNetwork } from './sim.js';

export { concat };

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic test bytes (xorshift32), shared with the stream-layer tests. */
export const pseudoRandomBytes = bytes;

export function clientTls(extra: Record<string, unknown> = {}) {
  return { alpnProtocols: ['test'], serverName: 'localhost', ca: [ROOT_CA], ...extra };
}

/** Collects every event of a connection as it runs. */
export class EventLog {
  readonly events: ConnectionEvent[] = [];
  constructor(readonly conn: Connection) {}
  drain(): ConnectionEvent[] {
    const fresh: ConnectionEvent[] = [];
    for (let e = this.conn.pollEvent(); e !== undefined; e = this.conn.pollEvent()) {
      this.events.push(e);
      fresh.push(e);
    }
    return fresh;
  }
  has(type: ConnectionEvent['type']): boolean {
    return this.events.some((e) => e.type === type);
  }
}

/** Connects a client and returns both sides once the server side exists. */
export function connectPair(
  net: SimNetwork,
  tls: Record<string, unknown> = {},
  token?: Uint8Array,
  local?: SocketAddress,
): { client: Connection; server: () => Connection | undefined } {
  const client = net.client.connect(net.now, SERVER_ADDR, { tls: clientTls(tls), ...(token !== undefined && { token }), ...(local !== undefined && { local }) });
  let server: Connection | undefined;
  return {
    client,
    server: () => {
      if (server === undefined) {
        const ev = net.server.pollEvent();
        if (ev !== undefined) server = ev.connection;
      }
      return server;
    },
  };
}

/** Reads everything available on a stream into `sink`; returns whether FIN was reached. */
export function readAll(conn: Connection, id: number, sink: Uint8Array[]): boolean {
  for (;;) {
    const r = conn.streams.read(id);
    if (r.data !== undefined && r.data.length > 0) sink.push(r.data.slice());
    if (r.fin) return true;
    if (r.data === undefined || r.data.length === 0) return false;
  }
}

export interface TransferResult {
  ok: boolean;
  received: Uint8Array;
  /** Virtual ms from the first write to the last byte read. */
  duration: number;
}

/** Sends `data` on a new bidirectional stream of `from` and reads it at `to`, pumping the simulated network. */
export function transfer(net: SimNetwork, from: Connection, to: Connection, data: Uint8Array, maxTime = 120_000): TransferResult {
  const id = from.streams.open(true);
  if (id === undefined) throw new Error('stream limit');
  const start = net.now;
  let sent = 0;
  let finished = false;
  let known = false;
  let gotFin = false;
  const chunks: Uint8Array[] = [];
  const fromLog = new EventLog(from);
  const toLog = new EventLog(to);
  const pump = (): void => {
    while (!finished) {
      if (sent < data.length) {
        const n = from.streams.write(id, data.subarray(sent, Math.min(data.length, sent + 256 * 1024)));
        if (n === 0) break;
        sent += n;
      }
      if (sent === data.length) {
        from.streams.finish(id);
        finished = true;
      }
    }
    fromLog.drain();
    for (const e of toLog.drain()) {
      if (e.type === 'stream' && e.event.type === 'opened' && e.event.id === id) known = true;
    }
    if (known && !gotFin) gotFin = readAll(to, id, chunks);
  };
  const ok = net.runUntil(() => gotFin, maxTime, pump);
  return { ok, received: concat(chunks), duration: net.now - start };
}

/** Runs until both sides completed the handshake (throws with both close reasons if they did not), then `settleMs` more. */
export function established(net: SimNetwork, pair: ReturnType<typeof connectPair>, maxTime = 30_000, settleMs = 0): void {
  const ok = net.runUntil(() => pair.client.isHandshakeComplete && pair.server()?.isHandshakeComplete === true, maxTime);
  if (!ok) throw new Error(`handshake failed: ${JSON.stringify(pair.client.closeReason)} / ${JSON.stringify(pair.server()?.closeReason)}`);
  if (settleMs > 0) net.runUntil(() => false, settleMs);
}
