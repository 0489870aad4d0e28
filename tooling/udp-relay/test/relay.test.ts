import { afterEach, describe, expect, it } from 'vitest';
import type { UdpRelay, UdpRelayOptions } from '../src/index.js';
import { createUdpRelay } from '../src/index.js';
import { Peer, closeAllPeers, ipv6Available, openTimers, openUdpHandles, sleep } from './helpers.js';

const relays: UdpRelay[] = [];

async function relayTo(server: Peer, options: Partial<UdpRelayOptions> = {}): Promise<UdpRelay> {
  const relay = await createUdpRelay({ target: { host: '127.0.0.1', port: server.port }, ...options });
  relays.push(relay);
  return relay;
}

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await closeAllPeers();
});

describe('passthrough', () => {
  it('forwards both directions over IPv4 and counts what it forwards', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    expect(relay.address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(relay.address.port).toBeGreaterThan(0);
    const client = await Peer.open();
    await client.sendNumbered(200, relay.address.port);
    await client.waitFor(200);
    expect(client.indices()).toEqual([...Array(200).keys()]);
    // Replies come from the relay's listen address; the server saw the relay's outgoing address.
    expect(client.received.every((r) => r.from.port === relay.address.port)).toBe(true);
    expect(server.received.every((r) => r.from.port === relay.outgoingAddress?.port)).toBe(true);
    expect(relay.outgoingAddress?.port).not.toBe(relay.address.port);
    const { clientToServer, serverToClient } = relay.stats;
    expect(clientToServer).toMatchObject({ received: 200, forwarded: 200, bytesReceived: 20_000, bytesForwarded: 20_000 });
    expect(serverToClient).toMatchObject({ received: 200, forwarded: 200, dropped: { loss: 0, queue: 0, blackhole: 0 } });
    expect(relay.clients).toEqual([
      { client: { address: '127.0.0.1', family: 'IPv4', port: client.port }, outgoing: relay.outgoingAddress },
    ]);
  });

  it('forwards both directions over IPv6', async (context) => {
    if (!(await ipv6Available())) context.skip();
    const server = await Peer.echo('::1');
    const relay = await createUdpRelay({ listen: { host: '::1' }, target: { host: '::1', port: server.port } });
    relays.push(relay);
    expect(relay.address.family).toBe('IPv6');
    expect(relay.target).toEqual({ address: '::1', family: 'IPv6', port: server.port });
    const client = await Peer.open('::1');
    await client.sendNumbered(50, relay.address.port, '::1');
    await client.waitFor(50);
    expect(client.indices()).toEqual([...Array(50).keys()]);
    expect(server.received[0]?.from.address).toBe('::1');
    expect(relay.outgoingAddress?.family).toBe('IPv6');
  });

  it('relays an IPv4 client to an IPv6 server', async (context) => {
    if (!(await ipv6Available())) context.skip();
    const server = await Peer.echo('::1');
    const relay = await createUdpRelay({ target: { host: '::1', port: server.port } });
    relays.push(relay);
    const client = await Peer.open();
    await client.sendNumbered(10, relay.address.port);
    await client.waitFor(10);
    expect(client.received).toHaveLength(10);
  });

  it('rejects bad options', async () => {
    await expect(createUdpRelay({ target: { host: '127.0.0.1', port: 70_000 } })).rejects.toThrow(RangeError);
    await expect(createUdpRelay({ target: { host: '127.0.0.1', port: 1 }, clientToServer: { loss: 2 } })).rejects.toThrow(/loss/);
    const server = await Peer.echo();
    const relay = await relayTo(server);
    expect(() => relay.configure('serverToClient', { delayMs: -1 })).toThrow(/delayMs/);
    expect(() => relay.configure('both', { bandwidthBps: 0 })).toThrow(/bandwidthBps/);
    await expect(relay.rebind()).rejects.toThrow(/no client/);
  });
});

describe('impairments', () => {
  it('drops about the configured fraction and counts the drops', async () => {
    const server = await Peer.open();
    const relay = await relayTo(server, { seed: 7, clientToServer: { loss: 0.1 } });
    const client = await Peer.open();
    await client.sendNumbered(2000, relay.address.port);
    const { forwarded } = relay.stats.clientToServer;
    await server.waitFor(forwarded);
    const stats = relay.stats.clientToServer;
    expect(stats.received).toBe(2000);
    expect(stats.dropped.loss + stats.forwarded).toBe(2000);
    expect(stats.dropped.loss / 2000).toBeGreaterThan(0.07);
    expect(stats.dropped.loss / 2000).toBeLessThan(0.13);
    expect(server.received).toHaveLength(stats.forwarded);
  });

  it('makes the same decisions for the same seed and datagram sequence', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const server = await Peer.open();
      const relay = await relayTo(server, { seed, clientToServer: { loss: 0.3, duplicateProbability: 0.2 } });
      const client = await Peer.open();
      await client.sendNumbered(300, relay.address.port);
      await server.waitFor(relay.stats.clientToServer.forwarded);
      return server.indices();
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.length).toBeGreaterThan(150);
  });

  it('adds the configured delay (and jitter) in each direction', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const client = await Peer.open();
    const rtt = async (): Promise<number> => {
      const n = client.received.length;
      const start = performance.now();
      await client.sendNumbered(1, relay.address.port);
      await client.waitFor(n + 1);
      return (client.received[n]?.at ?? Infinity) - start;
    };
    const base = await rtt();
    relay.configure('clientToServer', { delayMs: 40 });
    relay.configure('serverToClient', { delayMs: 30, jitterMs: 20 });
    const delayed = await rtt();
    expect(delayed).toBeGreaterThanOrEqual(69);
    expect(delayed).toBeLessThan(2000);
    relay.configure('both', { delayMs: 0, jitterMs: 0 });
    expect(relay.impairments('serverToClient')).toMatchObject({ delayMs: 0, jitterMs: 0 });
    expect(await rtt()).toBeLessThan(base + 60);
  });

  it('duplicates datagrams', async () => {
    const server = await Peer.open();
    const relay = await relayTo(server, { clientToServer: { duplicateProbability: 1 } });
    const client = await Peer.open();
    await client.sendNumbered(50, relay.address.port);
    await server.waitFor(100);
    expect(server.indices()).toEqual([...Array(50).keys()].flatMap((i) => [i, i]));
    relay.configure('clientToServer', { duplicateProbability: 0.25 });
    relay.resetStats();
    await client.sendNumbered(400, relay.address.port, '127.0.0.1', 100, 16, 50);
    await server.waitFor(100 + 400 + relay.stats.clientToServer.duplicated);
    const { duplicated, forwarded } = relay.stats.clientToServer;
    expect(duplicated).toBeGreaterThan(60);
    expect(duplicated).toBeLessThan(140);
    expect(forwarded).toBe(400 + duplicated);
    expect(server.received).toHaveLength(100 + forwarded);
  });

  it('reorders datagrams and delivers them all', async () => {
    const server = await Peer.open();
    const relay = await relayTo(server, { clientToServer: { reorderProbability: 0.1, reorderDelayMs: 30 } });
    const client = await Peer.open();
    await client.sendNumbered(300, relay.address.port);
    await server.waitFor(300);
    const order = server.indices();
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(300).keys()]);
    // Datagrams that arrived after a later-sent one.
    let highest = -1;
    const overtaken = order.filter((v) => {
      const late = v < highest;
      highest = Math.max(highest, v);
      return late;
    }).length;
    expect(relay.stats.clientToServer.reordered).toBeGreaterThan(10);
    expect(overtaken).toBeGreaterThan(10);
  });

  it('caps the bandwidth', async () => {
    const server = await Peer.open();
    // 4 Mbit/s = 500 kB/s with a queue large enough to hold everything: 200 kB take about 0.4 s.
    const relay = await relayTo(server, { clientToServer: { bandwidthBps: 4e6, queueBytes: 1_000_000 } });
    const client = await Peer.open();
    const start = performance.now();
    await client.sendNumbered(200, relay.address.port, '127.0.0.1', 1000);
    await server.waitFor(200, 5000);
    const elapsed = performance.now() - start;
    expect(server.received).toHaveLength(200);
    expect(elapsed).toBeGreaterThan(300);
    expect(elapsed).toBeLessThan(3000);
    expect(relay.stats.clientToServer.maxQueuedBytes).toBeGreaterThan(100_000);
    expect(relay.stats.clientToServer.dropped.queue).toBe(0);
  });

  it('drops at the tail of a full queue', async () => {
    const server = await Peer.open();
    const relay = await relayTo(server, { clientToServer: { bandwidthBps: 1e6, queueBytes: 10_000, burstBytes: 3000 } });
    const client = await Peer.open();
    await client.sendNumbered(100, relay.address.port, '127.0.0.1', 1000);
    await sleep(200);
    const stats = relay.stats.clientToServer;
    expect(stats.dropped.queue).toBeGreaterThan(60);
    expect(stats.maxQueuedBytes).toBeLessThanOrEqual(10_000);
    await server.waitFor(100 - stats.dropped.queue);
    expect(server.received).toHaveLength(100 - stats.dropped.queue);
    // Tail drop: the first datagrams got through.
    expect(server.indices().slice(0, 10)).toEqual([...Array(10).keys()]);
  });

  it('blackholes a direction until told to stop', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server, { serverToClient: { dropAll: true } });
    const client = await Peer.open();
    await client.sendNumbered(20, relay.address.port);
    await server.waitFor(20);
    await sleep(50);
    expect(server.received).toHaveLength(20);
    expect(client.received).toHaveLength(0);
    expect(relay.stats.serverToClient.dropped.blackhole).toBe(20);
    relay.configure('serverToClient', { dropAll: false });
    await client.sendNumbered(5, relay.address.port);
    await client.waitFor(5);
    expect(client.received).toHaveLength(5);
  });

  it('changes loss at runtime', async () => {
    const server = await Peer.open();
    const relay = await relayTo(server, { clientToServer: { loss: 1 } });
    const client = await Peer.open();
    await client.sendNumbered(30, relay.address.port);
    await sleep(30);
    expect(server.received).toHaveLength(0);
    expect(relay.stats.clientToServer.dropped.loss).toBe(30);
    relay.configure('clientToServer', { loss: 0 });
    await client.sendNumbered(30, relay.address.port);
    await server.waitFor(30);
    expect(server.received).toHaveLength(30);
  });

  it('keeps the two directions independent', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server, { serverToClient: { loss: 1 } });
    const client = await Peer.open();
    await client.sendNumbered(10, relay.address.port);
    await server.waitFor(10);
    await sleep(20);
    expect(relay.impairments('clientToServer').loss).toBe(0);
    expect(relay.stats.clientToServer.forwarded).toBe(10);
    expect(relay.stats.serverToClient.dropped.loss).toBe(10);
    expect(client.received).toHaveLength(0);
  });
});

describe('rebinding', () => {
  it('moves the outgoing socket to a new port; replies still reach the client', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const client = await Peer.open();
    await client.sendNumbered(5, relay.address.port);
    await client.waitFor(5);
    const before = relay.outgoingAddress;
    expect(server.received.every((r) => r.from.port === before?.port)).toBe(true);
    const after = await relay.rebind();
    expect(after.port).not.toBe(before?.port);
    expect(relay.outgoingAddress).toEqual(after);
    await client.sendNumbered(5, relay.address.port, '127.0.0.1', 100, 16, 5);
    await client.waitFor(10);
    expect(server.received.slice(5).every((r) => r.from.port === after.port)).toBe(true);
    expect(client.indices()).toEqual([...Array(10).keys()]);
    expect(relay.stats.rebinds).toBe(1);
  });

  it('rebinds to another local address (a complete change, not just the port), and later rebinds keep it', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const client = await Peer.open();
    await client.sendNumbered(3, relay.address.port);
    await client.waitFor(3);
    expect(relay.outgoingAddress?.address).toBe('127.0.0.1');
    const moved = await relay.rebind({ host: '127.0.0.2' });
    expect(moved.address).toBe('127.0.0.2');
    await client.sendNumbered(3, relay.address.port, '127.0.0.1', 100, 16, 3);
    await client.waitFor(6);
    expect(server.received.slice(3).every((r) => r.from.address === '127.0.0.2')).toBe(true);
    expect((await relay.rebind()).address).toBe('127.0.0.2');
    expect(client.indices()).toEqual([...Array(6).keys()]);
  });

  it('rebinds to a chosen port, including the current one', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const client = await Peer.open();
    await client.sendNumbered(1, relay.address.port);
    await client.waitFor(1);
    const spare = await Peer.open();
    const port = spare.port;
    await spare.close();
    expect((await relay.rebind({ port })).port).toBe(port);
    expect((await relay.rebind({ port })).port).toBe(port);
    await client.sendNumbered(1, relay.address.port);
    await client.waitFor(2);
    expect(server.received[1]?.from.port).toBe(port);
    expect(client.received).toHaveLength(2);
  });

  it('gives each client its own outgoing socket with multipleClients', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server, { multipleClients: true });
    const a = await Peer.open();
    const b = await Peer.open();
    await a.sendNumbered(3, relay.address.port);
    await b.sendNumbered(4, relay.address.port, '127.0.0.1', 100, 16, 100);
    await a.waitFor(3);
    await b.waitFor(4);
    expect(a.indices()).toEqual([0, 1, 2]);
    expect(b.indices()).toEqual([100, 101, 102, 103]);
    const clients = relay.clients;
    expect(clients).toHaveLength(2);
    expect(new Set(server.received.map((r) => r.from.port)).size).toBe(2);
    await expect(relay.rebind()).rejects.toThrow(/several clients/);
    const moved = await relay.rebind({ client: { address: '127.0.0.1', port: b.port } });
    await b.sendNumbered(1, relay.address.port, '127.0.0.1', 100, 16, 200);
    await b.waitFor(5);
    expect(server.received.at(-1)?.from.port).toBe(moved.port);
    expect(b.indices().at(-1)).toBe(200);
  });

  it('follows a single client that changes its own address', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const first = await Peer.open();
    const second = await Peer.open();
    await first.sendNumbered(1, relay.address.port);
    await first.waitFor(1);
    const outgoing = relay.outgoingAddress;
    await second.sendNumbered(1, relay.address.port);
    await second.waitFor(1);
    expect(relay.clients).toHaveLength(1);
    expect(relay.clients[0]?.client.port).toBe(second.port);
    expect(server.received[1]?.from.port).toBe(outgoing?.port);
  });

  it('ignores datagrams reaching an outgoing socket from elsewhere', async () => {
    const server = await Peer.echo();
    const relay = await relayTo(server);
    const client = await Peer.open();
    await client.sendNumbered(1, relay.address.port);
    await client.waitFor(1);
    const stranger = await Peer.open();
    await stranger.sendNumbered(3, relay.outgoingAddress?.port ?? 0);
    await sleep(30);
    expect(relay.stats.strayDatagrams).toBe(3);
    expect(client.received).toHaveLength(1);
  });
});

describe('close', () => {
  it('closes every socket and timer it opened', async () => {
    // libuv finishes closing a handle on a later loop turn: let earlier tests' handles go first.
    await sleep(10);
    const udpBefore = openUdpHandles();
    const timersBefore = openTimers();
    const server = await Peer.echo();
    const relay = await relayTo(server, { clientToServer: { delayMs: 500, bandwidthBps: 1e6 }, multipleClients: true });
    const a = await Peer.open();
    const b = await Peer.open();
    await a.sendNumbered(20, relay.address.port, '127.0.0.1', 1000);
    await b.sendNumbered(20, relay.address.port, '127.0.0.1', 1000);
    await sleep(20);
    await relay.rebind({ client: { address: '127.0.0.1', port: a.port } });
    await sleep(10);
    expect(relay.stats.clientToServer.queued + relay.stats.clientToServer.delayed).toBeGreaterThan(0);
    expect(openTimers()).toBeGreaterThan(timersBefore); // the relay's shaper and delay timers
    // 3 peers + listen + 2 outgoing sockets.
    expect(openUdpHandles()).toBe(udpBefore + 6);
    const ports = [relay.address.port, ...relay.clients.map((c) => c.outgoing.port)];
    await relay.close();
    await relay.close(); // idempotent
    expect(relay.closed).toBe(true);
    await sleep(10);
    expect(openUdpHandles()).toBe(udpBefore + 3);
    // (≤: a timer of the test runner that was pending before may have fired since.)
    expect(openTimers()).toBeLessThanOrEqual(timersBefore);
    // The ports are free again.
    for (const port of ports) await (await Peer.open('127.0.0.1', port)).close();
    await expect(relay.rebind()).rejects.toThrow(/closed/);
    await sleep(20);
    expect(server.received).toHaveLength(0);
  });
});
