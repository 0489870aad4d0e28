import { describe, expect, it } from 'vitest';
import { Pmtud } from '../src/index.js';
import type { PmtudEvent } from '../src/index.js';

/** RFC 9002 §6.1.1: kPacketThreshold. */
const PACKET_THRESHOLD = 3;

interface Sent {
  size: number;
  probe: boolean;
}

/**
 * A sender with DPLPMTUD over a link whose MTU changes, with a receiver that acknowledges every packet and a
 * packet-threshold loss detector. Every third data packet is small, as ACK frames and short writes are in practice.
 */
function runLink(options: { schedule: [at: number, mtu: number][]; until: number; raiseTimer?: number }) {
  const pmtud = new Pmtud({ maxUdpPayload: 1452, ...(options.raiseTimer ? { raiseTimer: options.raiseTimer } : {}) });
  const oneWay = 20;
  const sent = new Map<number, Sent>();
  const acks: { at: number; pn: number }[] = [];
  const events: (PmtudEvent & { at: number })[] = [];
  const dataLost: { at: number; size: number }[] = [];
  let linkMtu = 1472;
  let pn = 0;
  let largestAcked = -1;
  pmtud.start(0);
  const send = (size: number, probe: boolean, now: number): void => {
    const number = pn++;
    sent.set(number, { size, probe });
    if (size <= linkMtu) acks.push({ at: now + 2 * oneWay, pn: number });
  };
  for (let now = 0; now <= options.until; now += 10) {
    for (const [at, mtu] of options.schedule) if (at === now) linkMtu = mtu;
    for (let i = 0; i < acks.length; ) {
      if (acks[i]!.at > now) {
        i++;
        continue;
      }
      const { pn: acked } = acks.splice(i, 1)[0]!;
      const packet = sent.get(acked);
      if (packet === undefined) continue;
      sent.delete(acked);
      if (packet.probe) pmtud.onProbeAcked(packet.size, now);
      else pmtud.onPacketAcked(packet.size, acked);
      largestAcked = Math.max(largestAcked, acked);
    }
    for (const [number, packet] of sent) {
      if (number > largestAcked - PACKET_THRESHOLD) continue;
      sent.delete(number);
      if (packet.probe) pmtud.onProbeLost(packet.size, now);
      else {
        dataLost.push({ at: now, size: packet.size });
        pmtud.onPacketLost(packet.size, number, now);
      }
    }
    const timeout = pmtud.nextTimeout();
    if (timeout !== undefined && timeout <= now) pmtud.onTimeout(now);
    const probe = pmtud.pollProbe(now);
    if (probe !== undefined) send(probe.size, true, now);
    send(pn % 3 === 0 ? 200 : pmtud.maxDatagramSize, false, now);
    for (let e = pmtud.pollEvent(); e !== undefined; e = pmtud.pollEvent()) events.push({ ...e, at: now });
  }
  return { pmtud, events, dataLost };
}

describe('DPLPMTUD over a simulated link', () => {
  it('finds the path MTU, detects the black hole when it shrinks, and settles below the new one', () => {
    const { pmtud, events, dataLost } = runLink({ schedule: [[5000, 1300]], until: 15_000 });
    const found = events.find((e) => e.type === 'search-complete');
    expect(found).toMatchObject({ size: 1452 });
    expect(found!.at).toBeLessThan(200);
    const blackHole = events.find((e) => e.type === 'mtu-changed' && e.reason === 'black-hole');
    expect(blackHole).toMatchObject({ size: 1200, previous: 1452 });
    // Three qualifying losses, detected within a few round trips of the change.
    expect(blackHole!.at).toBeGreaterThan(5000);
    expect(blackHole!.at).toBeLessThan(5200);
    expect(pmtud.state).toBe('search-complete');
    expect(pmtud.maxDatagramSize).toBeLessThanOrEqual(1300);
    expect(pmtud.maxDatagramSize).toBeGreaterThan(1280);
    // Once settled, ordinary packets fit again: no data lost in the last 5 seconds.
    expect(dataLost.filter((l) => l.at > 10_000)).toEqual([]);
  });

  it('raises the PMTU again when the path grows, after the raise timer', () => {
    const { pmtud, events } = runLink({
      schedule: [
        [0, 1350],
        [3000, 1500],
      ],
      until: 12_000,
      raiseTimer: 5000,
    });
    const completes = events.filter((e) => e.type === 'search-complete');
    expect(completes[0]!.size).toBeLessThanOrEqual(1350);
    expect(completes.at(-1)).toMatchObject({ size: 1452 });
    expect(completes.at(-1)!.at).toBeGreaterThan(completes[0]!.at + 5000);
    expect(pmtud.maxDatagramSize).toBe(1452);
    // Probe losses during the search never counted as a black hole.
    expect(events.some((e) => e.type === 'mtu-changed' && e.reason === 'black-hole')).toBe(false);
  });
});
