import { describe, expect, it } from 'vitest';
import { SimNetwork } from './sim.js';
import { established, connectPair, pseudoRandomBytes, sha256, transfer } from './helpers.js';


describe('loss recovery and congestion control in a connection', () => {
  for (const seed of [1, 2, 3]) {
    it(`delivers 2 MB intact under 5% loss, reordering and duplication (seed ${seed})`, () => {
      const net = new SimNetwork({ seed, link: { delay: 15, loss: 0.05, reorder: 0.05, reorderDelay: 7, duplicate: 0.03 } });
      const pair = connectPair(net);
      established(net, pair);
      const data = pseudoRandomBytes(2 << 20, seed);
      const r = transfer(net, pair.client, pair.server()!, data, 300_000);
      expect(r.ok).toBe(true);
      expect(sha256(r.received)).toBe(sha256(data));
      expect(pair.client.stats().packetsLost).toBeGreaterThan(0);
    });
  }

  it('completes the handshake when every first flight is lost', () => {
    let dropped = 0;
    const net = new SimNetwork({
      link: {
        delay: 10,
        filter: () => {
          dropped++;
          return dropped > 3;
        },
      },
    });
    const pair = connectPair(net);
    established(net, pair);
    expect(pair.client.stats().ptoCount + pair.client.stats().packetsSent).toBeGreaterThan(1);
  });

  it('fills a bottleneck: throughput near the link rate with a drop-tail queue', () => {
    // 10 Mbit/s = 1250 bytes/ms, 40 ms RTT, queue of one BDP.
    const net = new SimNetwork({ link: { delay: 20, rate: 1250, queueBytes: 50_000 } });
    const pair = connectPair(net);
    established(net, pair);
    const data = pseudoRandomBytes(4 << 20);
    const r = transfer(net, pair.server()!, pair.client, data, 300_000);
    expect(r.ok).toBe(true);
    expect(sha256(r.received)).toBe(sha256(data));
    const goodput = data.length / r.duration; // bytes per ms
    expect(goodput).toBeGreaterThan(1250 * 0.7);
  });

  it('lets both directions and many streams share the connection', () => {
    const net = new SimNetwork({ seed: 9, link: { delay: 5, loss: 0.02 } });
    const pair = connectPair(net);
    established(net, pair);
    const a = pseudoRandomBytes(300_000, 1);
    const b = pseudoRandomBytes(300_000, 2);
    const r1 = transfer(net, pair.client, pair.server()!, a);
    const r2 = transfer(net, pair.server()!, pair.client, b);
    expect(sha256(r1.received)).toBe(sha256(a));
    expect(sha256(r2.received)).toBe(sha256(b));
  });

  it('opens bursts of 1-RTT packets in AEAD batches, through loss and the peer\'s key updates', () => {
    const net = new SimNetwork({ seed: 8, batch: true, link: { delay: 5, loss: 0.02, reorder: 0.02 }, serverTransport: { keyUpdateInterval: 200 } });
    const pair = connectPair(net);
    established(net, pair);
    const data = pseudoRandomBytes(3 << 20, 8);
    const r = transfer(net, pair.server()!, pair.client, data, 300_000);
    expect(sha256(r.received)).toBe(sha256(data));
    const stats = pair.client.stats();
    expect(pair.server()!.stats().keyUpdates).toBeGreaterThan(5);
    // The last update may still be in flight when the transfer ends.
    expect(stats.keyUpdates).toBeGreaterThanOrEqual(pair.server()!.stats().keyUpdates - 1);
    // Most data packets took the batched path.
    expect(stats.packetsReceivedInBatches).toBeGreaterThan(stats.packetsReceived / 2);
  });
});
