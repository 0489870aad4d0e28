import { describe, expect, it } from 'vitest';
import { Simulator, bdpBytes, duplex } from '../src/index.js';
import type { Packet } from '../src/index.js';

describe('duplex Path', () => {
  it('has a bottleneck forward link and a separate return link', () => {
    const sim = new Simulator();
    const path = duplex<Packet<number>, Packet<number>>(sim, {
      bandwidth: 10e6,
      delay: 20,
      queueLimit: bdpBytes(10e6, 40),
      loss: 0.5,
    });
    expect(path.baseRtt).toBe(40);
    expect(path.bdp).toBe(50_000);
    expect(path.forward.config).toMatchObject({ bandwidth: 10e6, delay: 20, queueLimit: 50_000, loss: 0.5 });
    expect(path.backward.config).toMatchObject({ bandwidth: 10e6, delay: 20, queueLimit: Infinity, loss: 0 });
    expect(path.forward.name).toBe('forward');
    expect(path.backward.name).toBe('backward');
  });

  it('carries a request and its echo: one RTT plus both serialisation times', () => {
    const sim = new Simulator();
    const path = duplex<Packet<string>, Packet<string>>(
      sim,
      { bandwidth: 8e6, delay: 15 }, // 1000 bytes = 1 ms
      { bandwidth: 0.8e6, delay: 25 }, // 100 bytes = 1 ms
    );
    let echoedAt = -1;
    path.forward.connect((p) => path.backward.send({ size: 100, payload: `ack ${p.payload}` }));
    path.backward.connect((p, now) => {
      expect(p.payload).toBe('ack hi');
      echoedAt = now;
    });
    path.forward.send({ size: 1000, payload: 'hi' });
    sim.runUntilIdle();
    expect(echoedAt).toBe(1 + 15 + 1 + 25);
  });
});

describe('bdpBytes', () => {
  it('is bandwidth × RTT in bytes', () => {
    expect(bdpBytes(100e6, 40)).toBe(500_000);
    expect(bdpBytes(1e6, 8)).toBe(1000);
  });
});
