// `pnpm bench`: loopback throughput of node:net TCP vs this package's MPTCP sockets (same process, one direction),
// and the two-path aggregate between two network namespaces joined by two tbf-shaped veth pairs (needs root).
// The last stdout line is the JSON object the issue names.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from '../src/index.js';
import { Peer, TwoPathTopology, cleanupLeftovers, netnsUnavailableReason } from '../test/support/netns.js';

const LOOPBACK_BYTES = 256 * 1024 * 1024;
const ROUNDS = 5;
const TWO_PATH_BYTES = 30_000_000;
const RATE_MBIT = 50;

type Kind = 'tcp' | 'mptcp';

/** Sends LOOPBACK_BYTES from a client to a sink server in this process; Mbit/s from 'connect' to the last byte. */
async function loopbackOnce(kind: Kind): Promise<number> {
  let resolveDone!: (ms: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let start = 0;
  const onConnection = (socket: net.Socket): void => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= LOOPBACK_BYTES) resolveDone(performance.now() - start);
    });
    socket.on('error', () => {});
  };
  const server = kind === 'tcp' ? net.createServer(onConnection) : createServer({ mptcp: 'required' }, onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const client = kind === 'tcp' ? net.connect(port, '127.0.0.1') : connect({ port, host: '127.0.0.1', mptcp: 'required' });
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
  start = performance.now();
  const block = Buffer.alloc(1 << 20, 0x5a);
  for (let sent = 0; sent < LOOPBACK_BYTES; sent += block.length) {
    if (!client.write(block)) await new Promise((resolve) => client.once('drain', resolve));
  }
  const ms = await done;
  client.destroy();
  server.close();
  return (LOOPBACK_BYTES * 8) / (ms / 1000) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Alternating rounds, so both kinds see the same background load; the median of each. */
async function loopback(): Promise<{ tcp: number; mptcp: number }> {
  const runs: Record<Kind, number[]> = { tcp: [], mptcp: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['tcp', 'mptcp'] as const) {
      const mbps = await loopbackOnce(kind);
      runs[kind].push(mbps);
      console.log(`loopback ${kind.padEnd(5)} round ${round + 1}: ${mbps.toFixed(0)} Mbit/s`);
    }
  }
  return { tcp: median(runs.tcp), mptcp: median(runs.mptcp) };
}

async function twoPaths(): Promise<{ one: number; two: number } | null> {
  const reason = netnsUnavailableReason();
  if (reason !== null) {
    console.log(`two-path bench skipped: ${reason}`);
    return null;
  }
  cleanupLeftovers();
  const topo = new TwoPathTopology(RATE_MBIT);
  const peers: Peer[] = [];
  try {
    const server = new Peer(topo.server, { mode: 'serve', host: '0.0.0.0', port: 0 });
    peers.push(server);
    const port = (await server.waitFor((e) => e.event === 'listening'))['port'] as number;
    const run = async (): Promise<number> => {
      const client = new Peer(topo.client, { mode: 'send', host: topo.serverAddress, port, bytes: TWO_PATH_BYTES });
      peers.push(client);
      const r = await client.waitFor((e) => e.event === 'result', 60_000);
      const server = r['server'] as { sha256: string };
      if (server.sha256 !== r['sha256']) throw new Error('two-path transfer corrupted');
      return r['mbps'] as number;
    };
    topo.secondPath(false);
    const one = await run();
    console.log(`two-path topology, ${RATE_MBIT} Mbit/s tbf per link: one path ${one.toFixed(1)} Mbit/s`);
    topo.secondPath(true);
    const two = await run();
    console.log(`two-path topology, ${RATE_MBIT} Mbit/s tbf per link: both paths ${two.toFixed(1)} Mbit/s (${(two / one).toFixed(2)}x)`);
    return { one, two };
  } finally {
    for (const p of peers) p.kill();
    topo.destroy();
  }
}

const lo = await loopback();
console.log(`loopback median of ${ROUNDS}: node:net TCP ${lo.tcp.toFixed(0)} Mbit/s, MPTCP ${lo.mptcp.toFixed(0)} Mbit/s`);
const paths = await twoPaths();
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
console.log(
  JSON.stringify({
    loopback_mptcp_vs_tcp: round(lo.mptcp / lo.tcp, 3),
    one_link_mbps: paths === null ? null : round(paths.one, 1),
    two_links_mbps: paths === null ? null : round(paths.two, 1),
    two_link_ratio: paths === null ? null : round(paths.two / paths.one, 3),
  }),
);
