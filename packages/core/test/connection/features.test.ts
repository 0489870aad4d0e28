import { describe, expect, it } from 'vitest';
import { encodeVersionNegotiation } from '@pathquic/wire-codec';
import { Endpoint, type Connection, type SessionTicket } from '../../src/index.js';
import { EPOCH, SERVER_ADDR, SERVER_IDENTITY, SimNetwork } from './sim.js';
import { established, EventLog, connectPair, pseudoRandomBytes, sha256, transfer } from './helpers.js';


function isRetry(d: Uint8Array): boolean {
  return (d[0]! & 0xb0) === 0xb0 && d[1] === 0 && d[2] === 0 && d[3] === 0 && d[4] === 1;
}

describe('connection lifecycle', () => {
  it('closes with an application code that reaches the peer, then both sides drain', () => {
    const net = new SimNetwork();
    const pair = connectPair(net);
    established(net, pair);
    const server = pair.server()!;
    const serverLog = new EventLog(server);
    pair.client.close(net.now, { errorCode: 42, reason: 'bye' });
    net.runUntil(() => pair.client.isClosed && server.isClosed, 10_000, () => serverLog.drain());
    expect(pair.client.closeReason).toMatchObject({ source: 'local', errorCode: 42, application: true, reason: 'bye' });
    expect(server.closeReason).toMatchObject({ source: 'remote', errorCode: 42, application: true, reason: 'bye' });
    expect(serverLog.events.some((e) => e.type === 'closed')).toBe(true);
    expect(net.client.connections.size).toBe(0);
    expect(net.server.connections.size).toBe(0);
  });

  it('a closing endpoint that receives the peer\'s CONNECTION_CLOSE starts draining (RFC 9000 §10.2.2)', () => {
    const net = new SimNetwork();
    const pair = connectPair(net);
    established(net, pair);
    const server = pair.server()!;
    pair.client.close(net.now, { errorCode: 1, reason: 'client' });
    server.close(net.now, { errorCode: 2, reason: 'server' });
    net.runUntil(() => pair.client.state === 'draining' && server.state === 'draining', 1_000);
    expect(pair.client.state).toBe('draining');
    expect(server.state).toBe('draining');
    // The first close wins: each side reports its own.
    expect(pair.client.closeReason).toMatchObject({ source: 'local', errorCode: 1 });
    expect(server.closeReason).toMatchObject({ source: 'local', errorCode: 2 });
  });

  it('times out when idle for the negotiated idle timeout', () => {
    const net = new SimNetwork({ clientTransport: { maxIdleTimeout: 2_000 }, serverTransport: { maxIdleTimeout: 5_000 } });
    const pair = connectPair(net);
    established(net, pair);
    const start = net.now;
    net.runUntil(() => pair.client.isClosed && pair.server()!.isClosed, 20_000);
    expect(pair.client.closeReason?.source).toBe('idle-timeout');
    expect(pair.server()!.closeReason?.source).toBe('idle-timeout');
    // min(2000, 5000) = 2000 ms (RFC 9000 §10.1), give or take the last packets.
    expect(net.now - start).toBeGreaterThanOrEqual(1_900);
    expect(net.now - start).toBeLessThan(2_600);
  });

  it('keep-alive holds an idle connection open', () => {
    const net = new SimNetwork({ clientTransport: { maxIdleTimeout: 2_000, keepAliveInterval: 500 } });
    const pair = connectPair(net);
    established(net, pair);
    net.runUntil(() => false, 10_000);
    expect(pair.client.state).toBe('established');
    expect(pair.server()!.state).toBe('established');
  });

  it('gives up a handshake that gets no answer', () => {
    const net = new SimNetwork({ link: { filter: () => false }, clientTransport: { handshakeTimeout: 3_000 } });
    const pair = connectPair(net);
    net.runUntil(() => pair.client.isClosed, 20_000);
    expect(pair.client.closeReason?.source).toBe('handshake-timeout');
  });

  it('reports an ALPN mismatch as TLS no_application_protocol (0x178)', () => {
    const net = new SimNetwork({ server: { tls: { alpnProtocols: ['other'] } } });
    const pair = connectPair(net);
    net.runUntil(() => pair.client.isClosed, 10_000);
    expect(pair.client.closeReason).toMatchObject({ source: 'remote', errorCode: 0x178, application: false });
  });

  it('refuses an untrusted certificate with a TLS certificate alert', () => {
    const net = new SimNetwork();
    const pair = connectPair(net, { ca: [] });
    net.runUntil(() => pair.client.isClosed, 10_000);
    const info = pair.client.closeReason!;
    expect(info.source).toBe('local');
    expect(Number(info.errorCode)).toBeGreaterThan(0x100);
    expect(info.reason).toMatch(/certificate|unknown_ca|CA/i);
  });

  it('stops on a Version Negotiation packet without QUIC v1', () => {
    const net = new SimNetwork({ link: { filter: (_d, to) => to !== 'server' } });
    const pair = connectPair(net);
    net.flush();
    const vn = encodeVersionNegotiation({ dcid: pair.client.localConnectionIds()[0]!, scid: new Uint8Array(8), supportedVersions: [0xff00001d] });
    net.inject('client', vn, SERVER_ADDR);
    net.runUntil(() => pair.client.isClosed, 1_000);
    expect(pair.client.closeReason?.source).toBe('version-negotiation');
  });

  it('answers an unknown version with Version Negotiation listing v1', () => {
    const net = new SimNetwork();
    const initial = new Uint8Array(1200);
    initial.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9]);
    let vn: Uint8Array | undefined;
    net.server.handleDatagram(0, initial, { address: '10.0.0.9', port: 1 });
    vn = net.server.pollTransmit(0)?.data;
    expect(vn).toBeDefined();
    vn = vn!;
    expect([vn[1], vn[2], vn[3], vn[4]]).toEqual([0, 0, 0, 0]);
    expect(Array.from(vn.subarray(6, 10))).toEqual([9, 9, 9, 9]); // our SCID echoed as DCID
    const versions = new DataView(vn.buffer, vn.byteOffset + 19).getUint32(0);
    expect(versions).toBe(1);
  });

  it('detects a stateless reset from a server that lost the connection', () => {
    const resetKey = new Uint8Array(32).fill(5);
    const net = new SimNetwork({ server: { tls: {} } });
    // Rebuild the server endpoint with a known reset key.
    net.server = new Endpoint({ wallClockOffset: EPOCH, statelessResetKey: resetKey, server: { tls: { alpnProtocols: ['test'], certificate: SERVER_IDENTITY } } });
    const pair = connectPair(net);
    established(net, pair);
    net.server = new Endpoint({ wallClockOffset: EPOCH, statelessResetKey: resetKey, server: { tls: { alpnProtocols: ['test'], certificate: SERVER_IDENTITY } } });
    const id = pair.client.streams.open(true)!;
    pair.client.streams.write(id, pseudoRandomBytes(100), true);
    net.runUntil(() => pair.client.isClosed, 10_000);
    expect(pair.client.closeReason?.source).toBe('stateless-reset');
  });
});

/** A network to a server that sends Retry, counting the Retry packets it delivers to the client. */
function retryingServer(): { net: SimNetwork; retries: { count: number } } {
  const retries = { count: 0 };
  const net = new SimNetwork({
    server: { retry: true, tls: {} },
    link: {
      filter: (d, to) => {
        if (to === 'client' && isRetry(d)) retries.count++;
        return true;
      },
    },
  });
  return { net, retries };
}

describe('address validation', () => {
  it('completes a handshake through a Retry', () => {
    const { net, retries } = retryingServer();
    const pair = connectPair(net);
    established(net, pair);
    expect(retries.count).toBe(1);
    const data = pseudoRandomBytes(50_000);
    expect(sha256(transfer(net, pair.client, pair.server()!, data).received)).toBe(sha256(data));
  });

  it('a NEW_TOKEN token lets the next connection skip the Retry', () => {
    const { net, retries } = retryingServer();
    const pair = connectPair(net);
    const log = new EventLog(pair.client);
    net.runUntil(() => log.drain().length >= 0 && log.has('new-token'), 5_000);
    const tokenEvent = log.events.find((e) => e.type === 'new-token');
    expect(tokenEvent).toBeDefined();
    const token = tokenEvent?.type === 'new-token' ? tokenEvent.token : undefined;
    retries.count = 0;
    const second = connectPair(net, {}, token);
    net.runUntil(() => second.client.isHandshakeComplete, 5_000);
    expect(second.client.isHandshakeComplete).toBe(true);
    expect(retries.count).toBe(0);
  });
});

describe('keys', () => {
  it('updates keys on request and the transfer goes on (RFC 9001 §6)', () => {
    const net = new SimNetwork({ link: { delay: 5 } });
    const pair = connectPair(net);
    established(net, pair);
    const clientLog = new EventLog(pair.client);
    net.runUntil(() => clientLog.drain().length >= 0 && clientLog.has('handshake-confirmed'), 1_000);
    expect(clientLog.events.map((e) => e.type)).toContain('handshake-confirmed');
    expect(pair.client.updateKeys()).toBe(true);
    const data = pseudoRandomBytes(400_000);
    const r = transfer(net, pair.client, pair.server()!, data);
    expect(sha256(r.received)).toBe(sha256(data));
    expect(pair.client.stats().keyUpdates).toBe(1);
    expect(pair.server()!.stats().keyUpdates).toBe(1);
  });

  it('forces key updates after keyUpdateInterval packets, through loss', () => {
    const net = new SimNetwork({ seed: 4, link: { delay: 5, loss: 0.03, reorder: 0.03 }, clientTransport: { keyUpdateInterval: 100 } });
    const pair = connectPair(net);
    established(net, pair);
    const data = pseudoRandomBytes(1_000_000);
    const r = transfer(net, pair.client, pair.server()!, data);
    expect(sha256(r.received)).toBe(sha256(data));
    expect(pair.client.stats().keyUpdates).toBeGreaterThan(3);
    expect(pair.server()!.stats().keyUpdates).toBe(pair.client.stats().keyUpdates);
  });
});

describe('resumption and 0-RTT', () => {
  function ticketFrom(net: SimNetwork, client: Connection): SessionTicket {
    const log = new EventLog(client);
    net.runUntil(() => log.drain().length >= 0 && log.has('session-ticket'), 5_000);
    const ev = log.events.find((e) => e.type === 'session-ticket');
    if (ev?.type !== 'session-ticket') throw new Error('no ticket');
    return ev.ticket;
  }

  const ticketKey = new Uint8Array(32).fill(3);

  it('resumes and carries 0-RTT stream data the server accepts', () => {
    const net = new SimNetwork({ server: { tls: { ticketKey, earlyData: true, allowEarlyDataReplay: true } } });
    const first = connectPair(net);
    established(net, first);
    const ticket = ticketFrom(net, first.client);
    first.client.close(net.now);
    net.runUntil(() => first.client.isClosed, 5_000);

    const second = connectPair(net, { session: ticket, earlyData: true });
    const id = second.client.streams.open(true);
    expect(id).toBeDefined();
    const early = pseudoRandomBytes(3000, 11);
    expect(second.client.streams.write(id!, early, true)).toBe(early.length);
    const clientLog = new EventLog(second.client);
    // The first flight carries the data: count 0-RTT packets on the wire.
    let zeroRtt = 0;
    net.link.filter = (d, to) => {
      if (to === 'server' && (d[0]! & 0xf0) === 0xd0) zeroRtt++;
      for (let i = 0; i + 5 < d.length; i++) if ((d[i]! & 0xf0) === 0xd0 && d[i + 1] === 0 && d[i + 4] === 1) zeroRtt++;
      return true;
    };
    const chunks: Uint8Array[] = [];
    let fin = false;
    net.runUntil(() => fin, 10_000, () => {
      clientLog.drain();
      const s = second.server();
      if (s === undefined) return;
      for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) {
        if (e.type === 'connected') expect(e.earlyDataAccepted).toBe(true);
      }
      try {
        for (;;) {
          const r = s.streams.read(id!);
          if (r.data) chunks.push(r.data.slice());
          if (r.fin) fin = true;
          if (!r.data || r.fin) break;
        }
      } catch {
        // not opened yet
      }
    });
    expect(fin).toBe(true);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(early));
    expect(zeroRtt).toBeGreaterThan(0);
    net.runUntil(() => second.client.isHandshakeComplete, 5_000);
    clientLog.drain();
    expect(clientLog.events.find((e) => e.type === 'connected')).toMatchObject({ resumed: true, earlyDataAccepted: true });
  });

  it('resends 0-RTT data as 1-RTT when the server rejects early data', () => {
    const net = new SimNetwork({ server: { tls: { ticketKey, earlyData: true, allowEarlyDataReplay: true } } });
    const first = connectPair(net);
    established(net, first);
    const ticket = ticketFrom(net, first.client);
    // A server that no longer accepts 0-RTT (same ticket key, so resumption still works).
    net.server = new Endpoint({ wallClockOffset: EPOCH, server: { tls: { alpnProtocols: ['test'], certificate: SERVER_IDENTITY, ticketKey } } });
    const second = connectPair(net, { session: ticket, earlyData: true });
    const id = second.client.streams.open(true)!;
    const early = pseudoRandomBytes(5000, 12);
    second.client.streams.write(id, early, true);
    const clientLog = new EventLog(second.client);
    const chunks: Uint8Array[] = [];
    let fin = false;
    net.runUntil(() => fin, 10_000, () => {
      clientLog.drain();
      const s = second.server();
      if (s === undefined) return;
      while (s.pollEvent() !== undefined);
      try {
        for (;;) {
          const r = s.streams.read(id);
          if (r.data) chunks.push(r.data.slice());
          if (r.fin) fin = true;
          if (!r.data || r.fin) break;
        }
      } catch {
        // not opened yet
      }
    });
    expect(clientLog.has('early-data-rejected')).toBe(true);
    expect(fin).toBe(true);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(early));
  });
});

describe('datagrams (RFC 9221)', () => {
  it('delivers DATAGRAM frames both ways and refuses oversized ones', () => {
    const net = new SimNetwork();
    const pair = connectPair(net);
    established(net, pair);
    const server = pair.server()!;
    expect(pair.client.maxDatagramPayload).toBeGreaterThan(1000);
    expect(pair.client.sendDatagram(new Uint8Array(5000))).toBe(false);
    for (let i = 0; i < 5; i++) expect(pair.client.sendDatagram(new Uint8Array([i, 1, 2, 3]))).toBe(true);
    const got: number[] = [];
    net.runUntil(() => got.length === 5, 2_000, () => {
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) if (e.type === 'datagram') got.push(e.data[0]!);
    });
    expect(got.sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('hostile input', () => {
  it('survives garbage, truncated and bit-flipped datagrams and still transfers', () => {
    const recorded: { to: 'client' | 'server'; data: Uint8Array }[] = [];
    const net = new SimNetwork({
      seed: 21,
      link: {
        filter: (d, to) => {
          if (recorded.length < 200) recorded.push({ to, data: d.slice() });
          return true;
        },
      },
    });
    const pair = connectPair(net);
    established(net, pair);
    const rand = net.rand;
    for (let i = 0; i < 2000; i++) {
      const base = recorded[Math.floor(rand() * recorded.length)]!;
      let d: Uint8Array;
      const kind = i % 4;
      if (kind === 0) d = pseudoRandomBytes(1 + Math.floor(rand() * 1400), i + 1);
      else if (kind === 1) d = base.data.slice(0, Math.floor(rand() * base.data.length));
      else {
        d = base.data.slice();
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) d[Math.floor(rand() * d.length)]! ^= 1 << Math.floor(rand() * 8);
      }
      const from = base.to === 'server' ? { address: '10.0.0.1', port: 40000 } : SERVER_ADDR;
      expect(() => (base.to === 'server' ? net.server : net.client).handleDatagram(net.now, d, from)).not.toThrow();
    }
    expect(pair.client.state).toBe('established');
    expect(pair.server()!.state).toBe('established');
    const data = pseudoRandomBytes(200_000);
    expect(sha256(transfer(net, pair.client, pair.server()!, data).received)).toBe(sha256(data));
  });
});

describe('connection IDs', () => {
  it('works with a client that uses zero-length connection IDs', () => {
    const net = new SimNetwork({ seed: 5, link: { delay: 5, loss: 0.02 }, clientEndpoint: { cidLength: 0 } });
    const pair = connectPair(net);
    established(net, pair);
    expect(pair.client.localConnectionIds()[0]!.length).toBe(0);
    const data = pseudoRandomBytes(300_000);
    expect(sha256(transfer(net, pair.server()!, pair.client, data).received)).toBe(sha256(data));
    expect(() => net.client.connect(net.now, SERVER_ADDR, { tls: { alpnProtocols: ['test'] } })).toThrow(/one connection per peer address/);
  });

  it('issues spare connection IDs and follows the peer retiring them', () => {
    const net = new SimNetwork();
    const pair = connectPair(net);
    established(net, pair);
    net.runUntil(() => false, 500);
    // Both sides issue CIDs up to the peer's active_connection_id_limit (8 here).
    expect(pair.client.localConnectionIds().length).toBe(8);
    expect(pair.server()!.localConnectionIds().length).toBe(8);
  });
});
