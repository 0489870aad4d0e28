import { describe, expect, it } from 'vitest';
import { SimEndpoint, pathOf } from './sim/endpoint.js';
import { SimNetwork } from './sim/network.js';
import type { SimDatagram } from './sim/network.js';

const SERVER = '198.51.100.1:443';
const WIFI = '10.0.0.2:5000';
const CELL = '172.16.0.9:6000';
const STEP = 5;

interface World {
  network: SimNetwork;
  client: SimEndpoint;
  server: SimEndpoint;
  now: number;
  run(until: number): void;
}

/** A client and a server that completed their handshake over WIFI (possibly behind a NAT). */
function world(seed: number, clientPublic = WIFI): World {
  const network = new SimNetwork(seed);
  if (clientPublic !== WIFI) network.nat.set(WIFI, clientPublic);
  const client = new SimEndpoint('client', network, 'client', pathOf(WIFI, SERVER), seed * 2 + 1);
  client.localAddresses.add(WIFI).add(CELL);
  const server = new SimEndpoint('server', network, 'server', pathOf(SERVER, clientPublic), seed * 2 + 2);
  server.localAddresses.add(SERVER);
  const w: World = {
    network,
    client,
    server,
    now: 0,
    run(until) {
      for (; w.now <= until; w.now += STEP) {
        client.tick(w.now);
        server.tick(w.now);
      }
    },
  };
  return w;
}

const types = (endpoint: SimEndpoint): string[] => endpoint.events.map((e) => e.type);

describe('two endpoints over a simulated network', () => {
  it('migrate to a new interface under 10% loss while the old one goes down', () => {
    const w = world(7);
    w.network.lossRate = 0.1;
    w.run(1000);
    expect(w.server.events).toEqual([]);
    w.network.down.add(WIFI);
    expect(w.client.controller.migrate(pathOf(CELL, SERVER), w.now)).toEqual({ ok: true });
    w.run(8000);

    expect(w.client.controller.activePath.key).toBe(pathOf(CELL, SERVER).key);
    expect(w.client.events).toContainEqual({
      type: 'path-validated',
      pathId: 0,
      path: pathOf(CELL, SERVER),
      mtuValidated: true,
      rtt: expect.any(Number),
    });
    expect(w.server.controller.activePath.key).toBe(pathOf(SERVER, CELL).key);
    expect(w.server.events[0]).toMatchObject({
      type: 'active-path-changed',
      reason: 'peer-migration',
      congestion: 'reset',
      to: { key: pathOf(SERVER, CELL).key },
    });
    // The server validated the new address, and its check of the old one (RFC 9000 §9.3.3) failed: forgotten.
    expect(w.server.events).toContainEqual(expect.objectContaining({ type: 'path-validated', mtuValidated: true }));
    expect(w.server.events).toContainEqual(
      expect.objectContaining({ type: 'path-validation-failed', path: expect.objectContaining({ key: pathOf(SERVER, WIFI).key }) }),
    );
    expect(w.server.controller.paths().map((s) => s.path.key)).toEqual([pathOf(SERVER, CELL).key]);
    expect(w.client.closed || w.server.closed).toBe(false);
  });

  it('follow a NAT rebinding: same IP, new port, congestion state kept', () => {
    const w = world(3, '192.0.2.10:5000');
    w.run(1000);
    // The NAT forgets the old mapping and picks a new public port.
    w.network.nat.set(WIFI, '192.0.2.10:5001');
    w.network.down.add('192.0.2.10:5000');
    w.run(6000);

    const rebound = pathOf(SERVER, '192.0.2.10:5001');
    expect(w.server.events[0]).toEqual({
      type: 'active-path-changed',
      pathId: 0,
      from: pathOf(SERVER, '192.0.2.10:5000'),
      to: rebound,
      reason: 'nat-rebinding',
      congestion: 'keep',
    });
    expect(w.server.controller.activePath.key).toBe(rebound.key);
    expect(w.server.controller.pathStatus(rebound.key)?.validated).toBe(true);
    // The client noticed nothing: its own path never changed.
    expect(w.client.events).toEqual([]);
    expect(w.client.controller.activePath.key).toBe(pathOf(WIFI, SERVER).key);
  });

  it('survive an on-path attacker racing a copy of one packet from a spoofed address (RFC 9000 §9.3.2)', () => {
    const w = world(5);
    w.run(1000);
    const attacker = '203.0.113.66:9999';
    const send = w.network.send.bind(w.network);
    let raced = false;
    w.network.send = (datagram: SimDatagram, now: number) => {
      if (!raced && datagram.src === WIFI && datagram.frames.some((f) => f.type === 'data')) {
        raced = true;
        // The copy from the attacker's address arrives first; the original is then a duplicate packet number.
        const delay = w.network.delay;
        w.network.delay = 1;
        send({ ...datagram, src: attacker }, now);
        w.network.delay = delay;
      }
      send(datagram, now);
    };
    w.run(5000);

    const legitimate = pathOf(SERVER, WIFI);
    const changes = w.server.events.filter((e) => e.type === 'active-path-changed');
    expect(changes).toEqual([
      expect.objectContaining({ to: pathOf(SERVER, attacker), reason: 'peer-migration', congestion: 'reset' }),
      expect.objectContaining({ to: legitimate, reason: 'peer-migration', congestion: 'restore' }),
    ]);
    expect(types(w.server)).toContain('path-discarded');
    expect(w.server.controller.activePath.key).toBe(legitimate.key);
    expect(w.server.controller.paths().map((s) => s.path.key)).toEqual([legitimate.key]);
    expect(w.server.closed).toBe(false);
  });

  it('fall back to the old path when the new one is a black hole', () => {
    const w = world(11);
    w.run(500);
    w.network.down.add(CELL);
    const migratedAt = w.now;
    w.client.controller.migrate(pathOf(CELL, SERVER), migratedAt);
    w.run(migratedAt + 4000);

    const failed = w.client.events.find((e) => e.type === 'path-validation-failed');
    expect(failed).toMatchObject({ path: { key: pathOf(CELL, SERVER).key }, reason: 'timeout' });
    expect(w.client.events).toContainEqual({
      type: 'active-path-changed',
      pathId: 0,
      from: pathOf(CELL, SERVER),
      to: pathOf(WIFI, SERVER),
      reason: 'fallback',
      congestion: 'restore',
    });
    expect(w.client.controller.activePath.key).toBe(pathOf(WIFI, SERVER).key);
    expect(w.server.events).toEqual([]);
  });

  it('always resolve a client migration by the validation deadline, whatever the loss (20 seeds, 40% loss)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = world(seed);
      w.network.lossRate = 0.4;
      w.run(300);
      const migratedAt = w.now;
      w.client.controller.migrate(pathOf(CELL, SERVER), migratedAt);
      // 3 × max(PTO 100, initial PTO 999) = 2997 ms.
      w.run(migratedAt + 2997 + STEP);
      const cell = w.client.controller.pathStatus(pathOf(CELL, SERVER).key);
      const outcome = w.client.controller.activePath.key === pathOf(CELL, SERVER).key ? 'migrated' : 'fell back';
      if (outcome === 'migrated') expect(cell?.validated).toBe(true);
      else expect(cell).toBeUndefined();
      expect(cell?.validating ?? false).toBe(false);
      expect(w.client.closed).toBe(false);
    }
  });
});
