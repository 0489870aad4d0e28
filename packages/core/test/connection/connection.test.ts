import { describe, expect, it } from 'vitest';
import { SimNetwork } from './sim.js';
import { EventLog, connectPair, pseudoRandomBytes, sha256, transfer } from './helpers.js';

describe('Connection over the simulated network', () => {
  it('completes a handshake and confirms it on both sides', () => {
    const net = new SimNetwork();
    const { client, server } = connectPair(net);
    const log = new EventLog(client);
    const done = net.runUntil(() => {
      log.drain();
      return log.has('handshake-confirmed') && server()?.isHandshakeComplete === true;
    }, 5_000);
    expect(done).toBe(true);
    expect(client.state).toBe('established');
    expect(client.alpn).toBe('test');
    expect(server()!.state).toBe('established');
    const connected = log.events.find((e) => e.type === 'connected');
    expect(connected).toMatchObject({ type: 'connected', alpn: 'test', resumed: false });
    // 1 RTT = 20 ms here; the handshake takes about 2 RTTs with HANDSHAKE_DONE.
    expect(net.now).toBeLessThan(100);
  });

  it('moves 1 MB on one stream byte for byte', () => {
    const net = new SimNetwork();
    const { client, server } = connectPair(net);
    net.runUntil(() => server()?.isHandshakeComplete === true && client.isHandshakeComplete, 5_000);
    const data = pseudoRandomBytes(1 << 20);
    const r = transfer(net, client, server()!, data);
    expect(r.ok).toBe(true);
    expect(r.received.length).toBe(data.length);
    expect(sha256(r.received)).toBe(sha256(data));
  });
});
