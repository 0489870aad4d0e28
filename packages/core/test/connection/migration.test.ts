import { describe, expect, it } from 'vitest';
import type { ConnectionEvent } from '../../src/index.js';
import { CLIENT_ADDR, SimNetwork } from './sim.js';
import { established, EventLog, connectPair, pseudoRandomBytes, sha256 } from './helpers.js';


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

describe('the server follows a client whose address changes (RFC 9000 §9.3)', () => {
  it('NAT rebinding (new port) in the middle of a transfer: validated, congestion state kept, data intact', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    let count = 0;
    net.link.filter = (_d, to) => {
      if (to === 'server' && ++count === 150) net.clientAddr = { address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 };
      return true;
    };
    const data = pseudoRandomBytes(2_000_000, 3);
    const received = upload(net, pair, data, serverLog);
    expect(sha256(received)).toBe(sha256(data));
    expect(pair.server()!.remote).toEqual({ address: CLIENT_ADDR.address, port: CLIENT_ADDR.port + 1 });
    const events = pathEvents(serverLog);
    const change = events.find((e) => e.type === 'active-path-changed');
    expect(change).toMatchObject({ reason: 'nat-rebinding', congestion: 'keep' });
    expect(events.some((e) => e.type === 'path-validated')).toBe(true);
  });

  it('a new address (not just a port): the congestion controller starts over (RFC 9000 §9.4)', () => {
    const net = new SimNetwork({ link: { delay: 10 } });
    const pair = connectPair(net);
    established(net, pair, 10_000, 200); // handshake confirmed, CIDs exchanged
    const serverLog = new EventLog(pair.server()!);
    let count = 0;
    net.link.filter = (_d, to) => {
      if (to === 'server' && ++count === 100) net.clientAddr = { address: '10.9.9.9', port: 5555 };
      return true;
    };
    const data = pseudoRandomBytes(1_000_000, 4);
    expect(sha256(upload(net, pair, data, serverLog))).toBe(sha256(data));
    const change = pathEvents(serverLog).find((e) => e.type === 'active-path-changed');
    expect(change).toMatchObject({ reason: 'peer-migration', congestion: 'reset' });
    expect(pair.server()!.remote).toEqual({ address: '10.9.9.9', port: 5555 });
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

