import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PacketProtection,
  Writer,
  writeShortHeader,
  type AeadAlgorithm,
  type PacketOpenJob,
  type PacketSealJob,
} from '../src/index.js';
import { TEST_PROVIDERS } from './providers.js';

const providers = TEST_PROVIDERS;
const algorithms: AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const DCID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

function keysFor(algorithm: AeadAlgorithm) {
  const n = algorithm === 'aes-128-gcm' ? 16 : 32;
  return { key: new Uint8Array(n).fill(7), iv: new Uint8Array(12).fill(9), hp: new Uint8Array(n).fill(5) };
}

/** A 1-RTT packet with `payload` after the header, laid out for sealing; returns the buffer and its layout. */
function layout(pn: number, payload: Uint8Array) {
  const packet = new Uint8Array(1 + DCID.length + 2 + payload.length + 16);
  const w = new Writer(packet);
  const pnOffset = writeShortHeader(w, { dcid: DCID, packetNumber: pn & 0xffff, pnLength: 2, keyPhase: false });
  w.writeBytes(payload);
  return { packet, pnOffset, payloadEnd: w.offset };
}

describe.each(providers)('PacketProtection batches (%s)', (_name, provider) => {
  it.each(algorithms)('%s: sealBatch equals seal packet by packet, openBatch opens them', (algorithm) => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 4, maxLength: 1300 }), { minLength: 1, maxLength: 40 }), (payloads) => {
        const keys = keysFor(algorithm);
        const one = new PacketProtection(provider, algorithm, keys);
        const many = new PacketProtection(provider, algorithm, keys);
        const expected = payloads.map((p, i) => {
          const l = layout(100 + i, p);
          const n = one.seal(l.packet, l.pnOffset, 2, 100 + i, l.payloadEnd);
          return l.packet.slice(0, n);
        });
        const jobs: PacketSealJob[] = payloads.map((p, i) => ({ ...layout(100 + i, p), pnLength: 2, packetNumber: 100 + i, length: 0 }));
        many.sealBatch(jobs);
        jobs.forEach((job, i) => {
          expect(job.length).toBe(expected[i]!.length);
          expect(job.packet.subarray(0, job.length)).toEqual(expected[i]);
        });
        const openJobs: PacketOpenJob[] = jobs.map((j) => ({ packet: j.packet, pnOffset: j.pnOffset, largestPn: 99, isLong: false, result: null }));
        expect(new PacketProtection(provider, algorithm, keys).openBatch(openJobs)).toBe(payloads.length);
        openJobs.forEach((job, i) => {
          expect(job.result?.packetNumber).toBe(100 + i);
          expect(job.result?.payload).toEqual(payloads[i]);
        });
      }),
      { numRuns: 15 },
    );
  });

  it('drops tampered and too-short packets in a batch and leaves them byte-for-byte as received', () => {
    const algorithm: AeadAlgorithm = 'aes-128-gcm';
    const keys = keysFor(algorithm);
    const tx = new PacketProtection(provider, algorithm, keys);
    const sealed = [0, 1, 2, 3, 4].map((i) => {
      const l = layout(i, new Uint8Array(64).fill(i));
      return l.packet.subarray(0, tx.seal(l.packet, l.pnOffset, 2, i, l.payloadEnd));
    });
    sealed[1]![30]! ^= 0x40; // corrupt the ciphertext of packet 1
    sealed[3] = sealed[3]!.subarray(0, 20); // packet 3 too short for the header-protection sample
    const before = sealed.map((p) => p.slice());
    const jobs: PacketOpenJob[] = sealed.map((packet) => ({ packet, pnOffset: 1 + DCID.length, largestPn: -1, isLong: false, result: null }));
    expect(new PacketProtection(provider, algorithm, keys).openBatch(jobs)).toBe(3);
    expect(jobs.map((j) => j.result?.packetNumber ?? null)).toEqual([0, null, 2, null, 4]);
    expect(sealed[1]).toEqual(before[1]);
    expect(sealed[3]).toEqual(before[3]);
  });
});
