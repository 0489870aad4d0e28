import { CipherSuite } from '@pathquic/tls';
import { PacketProtection, derivePacketKeys, nodeCryptoProvider } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent, SocketAddress, TransportConfig } from '../../src/index.js';
import { CLIENT_ADDR, SERVER_ADDR, SimNetwork } from './sim.js';
import { established, EventLog, connectPair, pseudoRandomBytes, sha256, transfer } from './helpers.js';


/** Client uploads `data` while `onClientDatagram(n)` may change the client's address; returns what arrived. */
function upload(net: SimNetwork, pair: ReturnType<typeof connectPair>, data: Uint8Array, serverLog: EventLog): Uint8Array {
  const client = pair.client;
  const server = pair.server()!;
  const id = client.streams.open(true)!;
  let sent = 0;
  const chunks: Uint8Array[] = [];
  let fin = false;
  let known = false;
  net.runUntil(
    () => fin,
    120_000,
    () => {
      while (sent < data.length) {
        const n = client.streams.write(id, data.subarray(sent, Math.min(data.length, sent + 65536)));
        if (n === 0) break;
        sent += n;
        if (sent === data.length) client.streams.finish(id);
      }
      while (client.pollEvent() !== undefined);
      for (const e of serverLog.drain()) if (e.type === 'stream' && e.event.type === 'opened') known = true;
      if (!known) return;
      for (;;) {
        const r = server.streams.read(id);
        if (r.data !== undefined && r.data.length > 0) chunks.push(r.data.slice());
        if (r.fin) fin = true;
        if (r.data === undefined || r.data.length === 0 || r.fin) break;
      }
    },
  );
  return Buffer.concat(chunks);
}

function pathEvents(log: EventLog): Extract<ConnectionEvent, { type: 'path' }>['event'][] {
  return log.events.filter((e): e is Extract<ConnectionEvent, { type: 'path' }> => e.type === 'path').map((e) => e.event);
}

/** A confirmed pair whose client also validated a spare path (probePath) from another local address. */
function withSparePath(clientTransport: TransportConfig = {}): { net: SimNetwork; pair: ReturnType<typeof connectPair>; spare: SocketAddress } {
  const net = new SimNetwork({ link: { delay: 10 }, clientTransport });
  const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
  established(net, pair, 10_000, 200);
  const spare = { address: '10.0.0.88', port: 40001 };
  net.extraClientAddrs.push(spare);
  expect(pair.client.probePath(net.now, spare)).toEqual({ ok: true });
  net.runUntil(() => pair.client.paths().some((p) => !p.active && p.validated), 2_000);
  return { net, pair, spare };
}

/** After `after` datagrams towards `counting`, the client's original address goes dark both ways; `since` says when. */
function darkenClientAddress(net: SimNetwork, counting: 'client' | 'server', after: number): { since: number } {
  const dark = { since: Infinity };
  let count = 0;
  net.link.filter = (_d, to, from, dest) => {
    if (to === counting) count++;
    if (count < after) return true;
    if (dark.since === Infinity) dark.since = net.now;
    const client = to === 'server' ? from : dest;
    return client.address !== CLIENT_ADDR.address || client.port !== CLIENT_ADDR.port;
  };
  return dark;
}

describe('the server follows a client whose address changes (RFC 9000 §9.3)', () => {
  it('NAT rebinding (new port) in the middle of a transfer: validated, congestion state kept, data intact', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    let count = 0;
    const dcidsBefore = new Set<string>();
    const dcidsAfter = new Set<string>();
    net.link.filter = (d, to) => {
      if (to === 'server' && ++count === 150) net.clientAddr = { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 };
      // The CIDs the server sends to: the client's, 8 bytes after the short header's first byte.
      if (to === 'client' && (d[0]! & 0x80) === 0) (count < 150 ? dcidsBefore : dcidsAfter).add(Buffer.from(d.subarray(1, 9)).toString('hex'));
      return true;
    };
    const data = pseudoRandomBytes(2_000_000, 3);
    const received = upload(net, pair, data, serverLog);
    expect(sha256(received)).toBe(sha256(data));
    // RFC 9000 §9.5: the server uses a CID on the new path that it never used on the old one.
    expect([...dcidsAfter].some((c) => !dcidsBefore.has(c))).toBe(true);
    expect(pair.server()!.path().remote).toEqual({ address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 });
    expect(pair.server()!.remote).toEqual({ address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 });
    const events = pathEvents(serverLog);
    const change = events.find((e) => e.type === 'active-path-changed');
    expect(change).toMatchObject({ reason: 'nat-rebinding', congestion: 'keep' });
    expect(events.some((e) => e.type === 'path-validated')).toBe(true);
  });

  it('a new address (not just a port): the congestion controller and RTT estimator start over (RFC 9000 §9.4)', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    let count = 0;
    net.link.filter = (_d, to) => {
      if (to === 'server' && ++count === 100) {
        // The new network is slower: 40 ms each way instead of 10.
        net.clientAddr = { address: '10.9.9.9', port: 5555 };
        net.link.delay = 40;
      }
      return true;
    };
    const data = pseudoRandomBytes(1_000_000, 4);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    const change = pathEvents(serverLog).find((e) => e.type === 'active-path-changed');
    expect(change).toMatchObject({ reason: 'peer-migration', congestion: 'reset' });
    expect(pair.server()!.remote).toEqual({ address: '10.9.9.9', port: 5555 });
    // min_rtt never goes up on its own (RFC 9002 §5.2): only a reset estimator reports the new path's 80 ms.
    expect(pair.server()!.stats().minRtt).toBeGreaterThanOrEqual(79);
  });

  it('a replayed packet from a spoofed address does not move the connection (RFC 9000 §9.3.3)', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    const copies: Uint8Array[] = [];
    net.link.filter = (d, to) => {
      if (to === 'server' && (d[0]! & 0x80) === 0 && copies.length < 20) copies.push(d.slice());
      return true;
    };
    const data = pseudoRandomBytes(300_000, 5);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    // An off-path attacker replays what it saw, from its own address, after the originals arrived.
    for (const c of copies) net.inject('server', c, { address: '192.0.2.66', port: 666 });
    net.runUntil(() => false, 2_000, () => serverLog.drain());
    expect(pair.server()!.remote).toEqual(CLIENT_ADDR);
    expect(pathEvents(serverLog).some((e) => e.type === 'active-path-changed')).toBe(false);
    expect(pair.server()!.state).toBe('established');
  });

  it('an on-path attacker that forwards a packet from its own address cannot keep the connection (RFC 9000 §9.3.2)', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    const attacker = { address: '192.0.2.66', port: 666 };
    let count = 0;
    net.link.filter = (d, to) => {
      if (to === 'server' && ++count === 80) {
        // Deliver this one from the attacker's address instead (it arrives first, with the highest packet number).
        net.inject('server', d.slice(), attacker);
        return false;
      }
      return true;
    };
    const data = pseudoRandomBytes(1_000_000, 6);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    net.runUntil(() => false, 3_000, () => serverLog.drain());
    const events = pathEvents(serverLog);
    // The server moved to the attacker's address, challenged it, and came back to the client's real address.
    expect(events.some((e) => e.type === 'active-path-changed' && e.to.remoteAddress === attacker.address)).toBe(true);
    expect(pair.server()!.remote).toEqual(CLIENT_ADDR);
    expect(pair.server()!.state).toBe('established');
  });
});

describe('a client moves to another local address (RFC 9000 §9.2)', () => {
  for (const immediate of [false, true]) {
    it(`migrate(${immediate ? '{ immediate: true }' : 'validate first'}) mid-upload: new path validated, new CID, data intact`, () => {
      const net = new SimNetwork({ link: { delay: 10 } });
      const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
      established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
      const serverLog = new EventLog(pair.server()!);
      const newLocal = { address: '10.0.0.77', port: 50000 };
      let count = 0;
      let result: unknown;
      const dcids = new Set<string>();
      net.link.filter = (d, to) => {
        if (to === 'server' && (d[0]! & 0x80) === 0) dcids.add(Buffer.from(d.subarray(1, 9)).toString('hex'));
        if (to === 'server' && ++count === 120) {
          net.extraClientAddrs.push(newLocal);
          result = pair.client.migrate(net.now, newLocal, { immediate });
        }
        return true;
      };
      const data = pseudoRandomBytes(1_500_000, 7);
      expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
      net.runUntil(() => false, 1_000, () => serverLog.drain());
      expect(result).toEqual({ ok: true });
      expect(pair.server()!.remote).toEqual(newLocal);
      // RFC 9000 §9.5: the new path uses a connection ID never used on the old one.
      expect(dcids.size).toBeGreaterThanOrEqual(2);
      // (upload() consumed the client's events: its path table tells the outcome.)
      const active = pair.client.paths().find((p) => p.active);
      expect(active).toMatchObject({ validated: true, path: { localAddress: '10.0.0.77', localPort: 50000 } });
      // The server saw the client arrive on the new address and validated it too.
      expect(pathEvents(serverLog).some((e) => e.type === 'active-path-changed' && e.to.remoteAddress === '10.0.0.77')).toBe(true);
    });
  }

  it('is refused before the handshake is confirmed, and needs a connection that tracks local addresses', () => {
    const net = new SimNetwork();
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    expect(pair.client.migrate(net.now, { address: '10.0.0.77', port: 1 })).toEqual({ ok: false, reason: 'handshake-not-confirmed' });
    const plain = new SimNetwork();
    const other = connectPair(plain);
    expect(() => other.client.migrate(plain.now, { address: '10.0.0.77', port: 1 })).toThrow(/local address/);
  });
});


describe('preferred address (RFC 9000 §9.6)', () => {
  const PREFERRED = { address: '10.0.0.3', port: 8443 };

  it('the server offers it, the client validates it and moves there; the server then answers from it', () => {
    const net = new SimNetwork({ link: { delay: 10 }, server: { preferredAddress: { ipv4: PREFERRED } } });
    net.extraServerAddrs.push(PREFERRED);
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    const clientLog = new EventLog(pair.client);
    established(net, pair, 10_000, 200);
    clientLog.drain();
    const offer = clientLog.events.find((e) => e.type === 'preferred-address');
    expect(offer).toEqual({ type: 'preferred-address', offer: { ipv4: PREFERRED } });
    expect(pair.server()!.preferredAddress).toEqual({ ipv4: PREFERRED });
    // Nothing moves until the client acts on the offer.
    expect(pair.client.remote).toEqual(SERVER_ADDR);

    const serverLog = new EventLog(pair.server()!);
    const newLocal = { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 7 };
    net.extraClientAddrs.push(newLocal);
    expect(pair.client.migrate(net.now, newLocal, { remote: PREFERRED })).toEqual({ ok: true });
    const data = pseudoRandomBytes(600_000, 11);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    expect(pair.client.remote).toEqual(PREFERRED);
    expect(pair.client.path()).toMatchObject({ active: true, validated: true, remote: PREFERRED, local: newLocal });
    expect(pair.server()!.remote).toEqual(newLocal);
    // The server's path now runs from its preferred address (its transmits say so).
    expect(pair.server()!.path().local).toEqual(PREFERRED);
  });

  it('refuses to send to an address the server never offered', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    established(net, pair, 10_000, 200);
    expect(() => pair.client.migrate(net.now, { address: '10.0.0.1', port: 1 }, { remote: PREFERRED })).toThrow(/neither the server's address nor its preferred address/);
  });

  it('clients see no offer from a server without one', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    const clientLog = new EventLog(pair.client);
    established(net, pair, 10_000, 200);
    clientLog.drain();
    expect(clientLog.has('preferred-address')).toBe(false);
    expect(pair.client.preferredAddress).toBeUndefined();
  });
});

describe('paths and their figures', () => {
  it('a probed path is validated with its own RTT and kept beside the active one; bytes are counted per path', () => {
    const { pair, spare } = withSparePath();
    const paths = pair.client.paths();
    expect(paths).toHaveLength(2);
    const active = paths.find((p) => p.active)!;
    const probed = paths.find((p) => !p.active)!;
    expect(active.local).toEqual(CLIENT_ADDR);
    expect(active.rtt).toBeCloseTo(20, 0);
    expect(active.congestionWindow).toBeGreaterThan(0);
    expect(active.bytesSent).toBeGreaterThan(1000);
    expect(active.bytesReceived).toBeGreaterThan(1000);
    expect(probed).toMatchObject({ validated: true, local: spare, remote: SERVER_ADDR, congestionWindow: undefined });
    expect(probed.rtt).toBeCloseTo(20, 0);
    // One challenge out (padded to 1200 bytes, RFC 9000 §8.2.1) and its response back.
    expect(probed.datagramsSent).toBe(1);
    expect(probed.bytesSent).toBe(1200);
    expect(probed.datagramsReceived).toBe(1);
    // Probing does not move the connection.
    expect(pair.client.path().local).toEqual(CLIENT_ADDR);
    expect(pair.server()!.remote).toEqual(CLIENT_ADDR);
  });
});

describe('a path that goes dark (black hole)', () => {
  it('after two PTOs the client moves to its probed spare path and the transfer completes', () => {
    const { net, pair, spare } = withSparePath();
    const serverLog = new EventLog(pair.server()!);
    // From the 100th client datagram on, nothing sent from or to the original address gets through.
    const dark = darkenClientAddress(net, 'server', 100);
    const data = pseudoRandomBytes(1_000_000, 12);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    expect(pair.client.path().local).toEqual(spare);
    expect(pair.server()!.remote).toEqual(spare);
    expect(dark.since).toBeLessThan(Infinity);
  });

  it('without a spare path, or with pathFailover off, the client stays put', () => {
    const { net, pair } = withSparePath({ pathFailover: false, maxIdleTimeout: 3_000 });
    net.link.filter = () => false;
    pair.client.ping();
    net.runUntil(() => pair.client.isClosed, 10_000);
    expect(pair.client.path().local).toEqual(CLIENT_ADDR);
  });
});

describe('migrate() refusals the application can act on', () => {
  it('the server sent disable_active_migration (RFC 9000 §18.2): no migration, no probe', () => {
    const net = new SimNetwork({ link: { delay: 10 }, serverTransport: { disableActiveMigration: true } });
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    established(net, pair, 10_000, 200);
    const other = { address: '10.0.0.99', port: 1234 };
    expect(pair.client.migrate(net.now, other)).toEqual({ ok: false, reason: 'peer-disabled-active-migration' });
    expect(pair.client.probePath(net.now, other)).toEqual({ ok: false, reason: 'peer-disabled-active-migration' });
    expect(pair.client.paths()).toHaveLength(1);
  });
});

describe('CIDs across a client migration (RFC 9000 §9.5)', () => {
  it('the old path’s CID is retired once the client moved; the server retires the CID it sent there in turn', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    established(net, pair, 10_000, 200);
    const server = pair.server()!;
    const issuedBefore = server.localConnectionIds().map((c) => Buffer.from(c).toString('hex'));
    const newLocal = { address: '10.0.0.77', port: 50000 };
    net.extraClientAddrs.push(newLocal);
    const dcids: string[] = [];
    net.link.filter = (d, to) => {
      if (to === 'server' && (d[0]! & 0x80) === 0) dcids.push(Buffer.from(d.subarray(1, 9)).toString('hex'));
      return true;
    };
    pair.client.ping();
    net.runUntil(() => false, 100);
    const oldDcid = dcids[dcids.length - 1]!;
    expect(pair.client.migrate(net.now, newLocal)).toEqual({ ok: true });
    net.runUntil(() => pair.client.path().local?.port === 50000, 2_000);
    pair.client.ping();
    net.runUntil(() => false, 1_000);
    // The server got RETIRE_CONNECTION_ID for the old path's CID: it no longer routes it and issued a replacement.
    const issuedAfter = server.localConnectionIds().map((c) => Buffer.from(c).toString('hex'));
    expect(issuedBefore).toContain(oldDcid);
    expect(issuedAfter).not.toContain(oldDcid);
    expect(issuedAfter.length).toBe(issuedBefore.length);
    expect(dcids[dcids.length - 1]).not.toBe(oldDcid);
  });
});

describe('a dark path under a download (the client has nothing in flight)', () => {
  it('receive silence after the server was sending makes the client check its path; unanswered, it fails over', () => {
    const { net, pair, spare } = withSparePath();
    // From the 200th server datagram on, nothing sent from or to the original address gets through.
    const dark = darkenClientAddress(net, 'client', 200);
    const server = pair.server()!;
    const data = pseudoRandomBytes(1_000_000, 13);
    const result = transfer(net, server, pair.client, data);
    expect(result.ok).toBe(true);
    expect(sha256(result.received)).toBe(sha256(data));
    expect(pair.client.path().local).toEqual(spare);
    expect(server.remote).toEqual(spare);
    expect(dark.since).toBeLessThan(Infinity);
  });

  it('a quiet connection that simply finished does not keep pinging: one check per silence at most', () => {
    const { net, pair } = withSparePath();
    const server = pair.server()!;
    expect(transfer(net, server, pair.client, pseudoRandomBytes(50_000, 14)).ok).toBe(true);
    const before = pair.client.stats().packetsSent;
    net.runUntil(() => false, 5_000);
    // At most the one PING of the silence check (and the ACK its answer may call for); no failover.
    expect(pair.client.stats().packetsSent - before).toBeLessThanOrEqual(2);
    expect(pair.client.path().local).toEqual(CLIENT_ADDR);
  });
});

describe('no spare connection ID (RFC 9000 §9.5)', () => {
  it('once every CID the server issued is spoken for, migrate() and probePath() refuse with no-peer-cid', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net, {}, undefined, CLIENT_ADDR);
    established(net, pair, 10_000, 200);
    // The server issued 7 spare CIDs (our active_connection_id_limit is 8). Each new path takes one, and a path the
    // controller forgets retires its CID instead of giving it back; the server has no chance to issue more here.
    const results = [];
    for (let i = 1; i <= 8; i++) results.push(pair.client.probePath(net.now, { address: '10.0.1.1', port: 1000 + i }).ok);
    expect(results.slice(0, 7)).toEqual([true, true, true, true, true, true, true]);
    expect(pair.client.probePath(net.now, { address: '10.0.1.1', port: 2000 })).toEqual({ ok: false, reason: 'no-peer-cid' });
    expect(pair.client.migrate(net.now, { address: '10.0.1.1', port: 2001 })).toEqual({ ok: false, reason: 'no-peer-cid' });
    // Once the server hears of the retirements it issues new CIDs, and the client can move again.
    net.runUntil(() => false, 500);
    expect(pair.client.migrate(net.now, { address: '10.0.1.1', port: 2002 }, { immediate: true }).ok).toBe(true);
  });
});

describe('a PATH_RESPONSE that matches no PATH_CHALLENGE (RFC 9000 §8.2.3, §19.18)', () => {
  /** Seals a 1-RTT packet from the client with its real keys (taken from the key log), carrying `payload`. */
  function clientPacket(secretHex: string, dcid: Uint8Array, pn: number, payload: Uint8Array): Uint8Array {
    const keys = derivePacketKeys(nodeCryptoProvider, 'aes-128-gcm', Buffer.from(secretHex, 'hex'), 1);
    const protection = new PacketProtection(nodeCryptoProvider, 'aes-128-gcm', keys);
    const pnOffset = 1 + dcid.length;
    const packet = new Uint8Array(pnOffset + 4 + Math.max(payload.length, 20) + 16);
    packet[0] = 0x40 | 0x03; // short header, fixed bit, key phase 0, 4-byte packet number (RFC 9000 §17.3.1)
    packet.set(dcid, 1);
    new DataView(packet.buffer).setUint32(pnOffset, pn);
    packet.set(payload, pnOffset + 4); // the rest stays zero: PADDING
    protection.seal(packet, pnOffset, 4, pn, packet.length - 16);
    return packet;
  }

  for (const from of ['the client’s address', 'a new address'] as const) {
    it(`is ignored when it arrives from ${from}: no error, no path change, the connection goes on`, () => {
      const net = new SimNetwork({ link: { delay: 10 } });
      let secret = '';
      const pair = connectPair(net, {
        cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256],
        keyLog: (line: string) => {
          if (line.startsWith('CLIENT_TRAFFIC_SECRET_0 ')) secret = line.split(' ')[2]!;
        },
      });
      established(net, pair, 10_000, 200);
      expect(secret).not.toBe('');
      // The forged packet reuses the number of a client PING that the network loses, so that the server's ACK of it
      // acknowledges a packet the client really sent (an ACK of an unsent number is a PROTOCOL_VIOLATION, §13.1).
      const pn = (pair.client as unknown as { spaces: { application: { nextPn: number } } }).spaces.application.nextPn;
      let dcid: Uint8Array | undefined;
      net.link.filter = (d, to) => {
        if (to !== 'server' || (d[0]! & 0x80) !== 0 || dcid !== undefined) return true;
        dcid = d.slice(1, 9);
        return false;
      };
      pair.client.ping();
      net.runUntil(() => dcid !== undefined, 1_000);
      const server = pair.server()!;
      const serverLog = new EventLog(server);
      const received = server.stats().packetsReceived;
      // PATH_RESPONSE (type 0x1b) with 8 bytes nobody ever sent in a PATH_CHALLENGE, in a packet the server can open.
      const forged = clientPacket(secret, dcid!, pn, Uint8Array.of(0x1b, 1, 2, 3, 4, 5, 6, 7, 8));
      net.inject('server', forged, from === 'a new address' ? { address: '10.0.0.50', port: 5050 } : CLIENT_ADDR);
      net.step(net.now); // delivers just the injected datagram
      expect(server.stats().packetsReceived).toBe(received + 1); // it was authenticated and processed
      net.runUntil(() => false, 500, () => serverLog.drain());
      expect(server.state).toBe('established');
      expect(server.remote).toEqual(CLIENT_ADDR);
      expect(pathEvents(serverLog).filter((e) => e.type === 'active-path-changed')).toEqual([]);
      const data = pseudoRandomBytes(200_000, 15);
      expect(sha256(transfer(net, pair.client, server, data).received)).toBe(sha256(data));
    });
  }
});

describe('CIDs across repeated NAT rebindings (server side)', () => {
  it('paths the server no longer tracks have their CIDs retired: the client stops routing them and issues new ones', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200);
    const server = pair.server()!;
    const serverLog = new EventLog(server);
    const firstDcids = new Set<string>();
    let rebinds = 0;
    let count = 0;
    net.link.filter = (d, to) => {
      if (to === 'client' && (d[0]! & 0x80) === 0 && rebinds === 0) firstDcids.add(Buffer.from(d.subarray(1, 9)).toString('hex'));
      // Six rebindings, every 60 client datagrams: more paths than the server keeps (4), so old ones are forgotten.
      if (to === 'server' && ++count % 60 === 0 && rebinds < 6) {
        rebinds++;
        net.clientAddr = { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + rebinds };
      }
      return true;
    };
    const data = pseudoRandomBytes(2_000_000, 16);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    net.runUntil(() => false, 1_000, () => serverLog.drain());
    expect(rebinds).toBe(6);
    expect(server.remote).toEqual({ address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 6 });
    expect(pathEvents(serverLog).filter((e) => e.type === 'path-discarded').length).toBeGreaterThanOrEqual(2);
    // The CID the server used before the first rebinding was retired (RETIRE_CONNECTION_ID): the client no longer
    // routes it, and it issued others so that the server still has spares.
    const clientCids = pair.client.localConnectionIds().map((c) => Buffer.from(c).toString('hex'));
    expect(firstDcids.size).toBeGreaterThan(0);
    for (const c of firstDcids) expect(clientCids).not.toContain(c);
    expect(clientCids.length).toBeGreaterThanOrEqual(2);
    expect(server.state).toBe('established');
  });
});

describe('migrate() to a path probed earlier', () => {
  it('moves at once, without a second validation', () => {
    const { net, pair, spare } = withSparePath();
    const log = new EventLog(pair.client);
    log.drain(); // the probe's own events
    expect(pair.client.migrate(net.now, spare)).toEqual({ ok: true });
    const events = log.drain().filter((e): e is Extract<ConnectionEvent, { type: 'path' }> => e.type === 'path').map((e) => e.event.type);
    expect(events).toContain('active-path-changed');
    expect(events).not.toContain('path-validation-started');
    expect(pair.client.path().local).toEqual(spare);
  });
});
