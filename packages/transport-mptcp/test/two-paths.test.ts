// Acceptance "two paths": two namespaces joined by two tbf-shaped veth pairs, a pathquic server and client process in
// them, 30 MB each way of measuring: one path alone, both paths, and both paths with path 1 taken down mid-transfer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Peer, TwoPathTopology, cleanupLeftovers, skipNetns } from './support/netns.js';
import type { PeerEvent } from './support/netns.js';

const BYTES = 30_000_000;
const RATE_MBIT = 50;

interface Result extends PeerEvent {
  sha256: string;
  server: { bytes: number; sha256: string; mptcp: boolean };
  mbps: number;
  mptcp: boolean;
  info: { subflowsTotal: number; paths: Array<{ local: string; remote: string; bytesAcked: number }> } | null;
}

describe.skipIf(skipNetns())('two paths between two network namespaces', () => {
  let topo: TwoPathTopology | undefined;
  let server: Peer | undefined;
  let port = 0;
  const peers: Peer[] = [];
  const mbps: { one?: number; two?: number } = {};

  beforeAll(async () => {
    cleanupLeftovers();
    topo = new TwoPathTopology(RATE_MBIT);
    server = new Peer(topo.server, { mode: 'serve', host: '0.0.0.0', port: 0, progressEvery: 5_000_000 });
    const listening = await server.waitFor((e) => e.event === 'listening');
    expect(listening['mptcp']).toBe(true);
    port = listening['port'] as number;
  }, 30_000);

  afterAll(() => {
    for (const p of [...peers, server]) p?.kill();
    topo?.destroy();
    if (mbps.one !== undefined && mbps.two !== undefined) console.log(`two paths of ${RATE_MBIT} Mbit/s: one path ${mbps.one.toFixed(1)} Mbit/s, both ${mbps.two.toFixed(1)} Mbit/s, ratio ${(mbps.two / mbps.one).toFixed(2)}`);
  });

  async function transfer(): Promise<Result> {
    const client = new Peer((topo as TwoPathTopology).client, { mode: 'send', host: (topo as TwoPathTopology).serverAddress, port, bytes: BYTES });
    peers.push(client);
    const result = (await client.waitFor((e) => e.event === 'result', 45_000)) as Result;
    expect(result.mptcp).toBe(true);
    expect(result.server.bytes).toBe(BYTES);
    expect(result.server.sha256).toBe(result.sha256);
    return result;
  }

  it('one path alone: a single subflow over path 1', async () => {
    topo?.secondPath(false);
    const r = await transfer();
    expect(r.info?.subflowsTotal).toBe(1);
    expect(r.info?.paths.map((p) => p.local)).toEqual(['10.201.1.1']);
    mbps.one = r.mbps;
    console.log(`one path: ${r.mbps.toFixed(1)} Mbit/s`);
  }, 60_000);

  it('both paths: a second subflow over path 2 carries a fair share, at least 1.6x the single path', { retry: 1, timeout: 60_000 }, async () => {
    topo?.secondPath(true);
    const r = await transfer();
    expect(r.info?.subflowsTotal).toBe(2);
    const acked = new Map(r.info?.paths.map((p) => [p.local, p.bytesAcked]));
    expect([...acked.keys()].sort()).toEqual(['10.201.1.1', '10.201.2.1']);
    for (const bytes of acked.values()) expect(bytes).toBeGreaterThan(BYTES * 0.25);
    mbps.two = r.mbps;
    console.log(`both paths: ${r.mbps.toFixed(1)} Mbit/s, ${(r.mbps / (mbps.one ?? NaN)).toFixed(2)}x one path`);
    expect(r.mbps / (mbps.one ?? Infinity)).toBeGreaterThanOrEqual(1.6);
  });

  it('path 1 (the initial subflow) goes down mid-transfer: the transfer completes intact over path 2', async () => {
    topo?.secondPath(true);
    const srv = server as Peer;
    const from = srv.events.length;
    const client = new Peer((topo as TwoPathTopology).client, { mode: 'send', host: (topo as TwoPathTopology).serverAddress, port, bytes: BYTES });
    peers.push(client);
    // The server's progress lines come from the transfer itself: take the link down once 10 MB have arrived.
    const progress = await srv.waitFor((e) => e.event === 'progress' && (e['bytes'] as number) >= 10_000_000, 30_000, from);
    expect(progress['bytes']).toBeLessThan(BYTES);
    topo?.linkDown(1);
    const r = (await client.waitFor((e) => e.event === 'result', 45_000)) as Result;
    expect(r.server.sha256).toBe(r.sha256);
    expect(r.server.bytes).toBe(BYTES);
    expect(r.mptcp).toBe(true);
    const end = r.info?.paths.find((p) => p.local === '10.201.2.1');
    console.log(`path 1 down at ${progress['bytes']} bytes; path 2 carried ${end?.bytesAcked} bytes in all; ${r.mbps.toFixed(1)} Mbit/s overall`);
    expect(end?.bytesAcked ?? 0).toBeGreaterThan(BYTES - (progress['bytes'] as number));
  }, 60_000);
});
