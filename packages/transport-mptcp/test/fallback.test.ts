// Acceptance "fallback": where the kernel refuses MPTCP (net.mptcp.enabled=0 in a namespace), where the addon is
// missing, or where the operator turned it off, the same code runs over plain TCP and says so; 'required' fails.
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, Peer, cleanupLeftovers, skipNetns } from './support/netns.js';

interface Selftest {
  availability: { available: boolean; reason?: string; message?: string };
  server: { mptcp: boolean; reason: string | null };
  accepted: { mptcp: boolean; reason: string | null };
  client: { mptcp: boolean; reason: string | null; info: unknown };
  echo: string;
  requiredClient: { code?: string; reason?: string; message?: string; connected?: boolean };
  requiredServer: { code?: string; reason?: string; listening?: boolean };
}

function expectPlainTcp(r: Selftest, reason: string): void {
  expect(r.availability).toMatchObject({ available: false, reason });
  expect(r.server).toEqual({ mptcp: false, reason });
  expect(r.accepted).toEqual({ mptcp: false, reason });
  expect(r.client).toEqual({ mptcp: false, reason, info: null });
  expect(r.echo).toBe('ping over whatever works');
  expect(r.requiredClient).toMatchObject({ code: 'ERR_MPTCP_UNAVAILABLE', reason });
  expect(r.requiredServer).toEqual({ code: 'ERR_MPTCP_UNAVAILABLE', reason, listening: false });
}

const peers: Peer[] = [];
afterAll(() => {
  for (const p of peers) p.kill();
});

async function selftest(ns: Netns | null, env: NodeJS.ProcessEnv = {}): Promise<Selftest> {
  const peer = new Peer(ns, { mode: 'selftest' }, env);
  peers.push(peer);
  return (await peer.waitFor((e) => 'availability' in e || e.event === 'error')) as unknown as Selftest;
}

describe.skipIf(skipNetns())('net.mptcp.enabled=0 in a network namespace', () => {
  let ns: Netns | undefined;
  afterAll(() => ns?.destroy());

  it('connects over plain TCP, reports ENOPROTOOPT, and required mode fails clearly', async () => {
    cleanupLeftovers();
    ns = new Netns('off');
    ns.sysctl('net.mptcp.enabled', 0);
    expect(ns.exec('sysctl', '-n', 'net.mptcp.enabled').trim()).toBe('0');
    const r = await selftest(ns);
    expectPlainTcp(r, 'ENOPROTOOPT');
    expect(r.requiredClient.message).toMatch(/net\.mptcp\.enabled=0/);
  });
});

describe('other fallbacks, in a child process', () => {
  it('a missing native addon means plain TCP with reason "addon"', async () => {
    const r = await selftest(null, { PATHQUIC_MPTCP_ADDON: '/nonexistent/mptcp.node' });
    expectPlainTcp(r, 'addon');
    expect(r.availability.message).toMatch(/nonexistent\/mptcp\.node: missing/);
  });

  it('PATHQUIC_MPTCP=0 turns MPTCP off process-wide (reason "disabled"), and required mode refuses', async () => {
    const r = await selftest(null, { PATHQUIC_MPTCP: '0' });
    expectPlainTcp(r, 'disabled');
  });

  it('with nothing in the way, the same selftest is MPTCP end to end', async () => {
    const r = await selftest(null);
    expect(r.availability).toEqual({ available: true });
    expect([r.server.mptcp, r.accepted.mptcp, r.client.mptcp]).toEqual([true, true, true]);
    expect(r.client.info).toMatchObject({ remoteKeyReceived: true, fallback: false });
    expect(r.requiredClient).toEqual({ connected: true });
    expect(r.requiredServer).toEqual({ listening: true });
  });
});
