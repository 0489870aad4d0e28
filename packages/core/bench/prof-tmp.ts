/**
 * Per-packet CPU cost of the connection's send and receive paths, without sockets: the server fills 1200-byte
 * datagrams from a stream (pollTransmitBatch) and the client handles them (handleDatagram), timed separately.
 */
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const session = new Session(); session.connect();
const post = (m: string, p?: object) => new Promise<any>((res, rej) => session.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));

import { createNodeCryptoProvider } from '@pathquic/wire-codec';
import { SimNetwork } from '../test/connection/sim.js';
import { connectPair, pseudoRandomBytes } from '../test/connection/helpers.js';

const big = { initialMaxStreamData: 64 << 20, initialMaxData: 64 << 20, streamSendBufferSize: 64 << 20 };
const net = new SimNetwork({ link: { delay: 1 }, clientTransport: big, serverTransport: { ...big, pacing: false } });
const engine = process.env['AES_GCM'];
if (engine !== undefined) {
  const provider = createNodeCryptoProvider({ aesGcm: engine as 'wasm-ct' | 'wasm-table' | 'openssl' });
  (net.server as unknown as { provider: unknown }).provider = provider;
  (net.client as unknown as { provider: unknown }).provider = provider;
}
const pair = connectPair(net);
net.runUntil(() => pair.client.isHandshakeComplete && pair.server()?.isHandshakeComplete === true, 5_000);
net.runUntil(() => false, 200);
const server = pair.server()!;
const client = pair.client;
const data = pseudoRandomBytes(32 << 20);
const id = server.streams.open(true)!;
let off = 0;
const N = Number(process.env.N ?? 20000);
// Lift the congestion window out of the way: this measures CPU, not congestion control.
const cc = (server as unknown as { cc: { canSend: () => boolean } }).cc;
cc.canSend = () => true;

const datagrams: Uint8Array[] = [];
if (process.env.SENDONLY) { await post('Profiler.enable'); await post('Profiler.setSamplingInterval', { interval: 100 }); await post('Profiler.start'); }
let sendMs = 0;
let now = net.now;
while (datagrams.length < N) {
  while (off < data.length && server.streams.writableBytes(id) > 0) off += server.streams.write(id, data.subarray(off, Math.min(data.length, off + 65536)));
  const t0 = performance.now();
  const batch = server.pollTransmitBatch(now, 16);
  sendMs += performance.now() - t0;
  if (batch.length === 0) {
    now += 0.01;
    continue;
  }
  for (const t of batch) datagrams.push(t.data);
}
if (process.env.SENDONLY) { const { profile } = await post('Profiler.stop'); writeFileSync('/tmp/prof/send.cpuprofile', JSON.stringify(profile)); console.log((sendMs*1000/N).toFixed(2)); process.exit(0); }
const copies = datagrams.map((d) => d.slice());
if (process.env.RECVONLY) { await post('Profiler.enable'); await post('Profiler.setSamplingInterval', { interval: 100 }); await post('Profiler.start'); }
const t1 = performance.now();
const from = { address: '10.0.0.2', port: 443 };
let drained = 0;
for (const d of copies) {
  client.handleDatagram(now, d, from);
  // Read as an application would, so reassembly does not hold the whole transfer.
  if ((++drained & 15) === 0) {
    let r = client.streams.read(id);
    while (r.data !== undefined && r.data.length > 0) r = client.streams.read(id);
  }
}
const recvMs = performance.now() - t1;
if (process.env.RECVONLY) { const { profile } = await post('Profiler.stop'); writeFileSync('/tmp/prof/recv.cpuprofile', JSON.stringify(profile)); }
let read = 0;
const t2 = performance.now();
for (;;) {
  const r = client.streams.read(id);
  if (r.data === undefined || r.data.length === 0) break;
  read += r.data.length;
}
const readMs = performance.now() - t2;
const result = { packets: N, send_us: (sendMs * 1000) / N, receive_us: (recvMs * 1000) / N };
if (client.state !== 'established' || read !== 0) throw new Error(`unexpected end state ${client.state}`);
void readMs;
console.log(`per packet (1200-byte datagrams, one stream, in-process): send ${result.send_us.toFixed(1)} µs, receive ${result.receive_us.toFixed(1)} µs`);
console.log(JSON.stringify(result));

