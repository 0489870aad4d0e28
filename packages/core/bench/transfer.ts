/**
 * In-process bulk transfer through the sans-I/O stack (both endpoints in this process, a lossless 1 ms link):
 * measures the CPU cost of the connection itself, without sockets. Prints MB/s of wall time.
 */
import { performance } from 'node:perf_hooks';
import { SimNetwork } from '../test/connection/sim.js';
import { connectPair, pseudoRandomBytes, transfer } from '../test/connection/helpers.js';

export function benchTransfer(bytes: number): { mbps: number; packets: number; usPerPacket: number } {
  const net = new SimNetwork({ batch: process.env.BATCH !== '0', link: { delay: 1 }, clientTransport: { initialMaxStreamData: 8 << 20, initialMaxData: 16 << 20 }, serverTransport: { initialMaxStreamData: 8 << 20, initialMaxData: 16 << 20 } });
  const pair = connectPair(net);
  net.runUntil(() => pair.client.isHandshakeComplete && pair.server()?.isHandshakeComplete === true, 5_000);
  const data = pseudoRandomBytes(bytes);
  const t0 = performance.now();
  const r = transfer(net, pair.server()!, pair.client, data, 600_000);
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error('transfer failed');
  const packets = pair.server()!.stats().packetsSent + pair.client.stats().packetsSent;
  return { mbps: bytes / 1e6 / (ms / 1000), packets, usPerPacket: (ms * 1000) / packets };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mb = Number(process.argv[2] ?? 50);
  const r = benchTransfer(mb * 1e6);
  console.log(JSON.stringify(r));
}
