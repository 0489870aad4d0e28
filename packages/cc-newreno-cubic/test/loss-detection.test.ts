import { describe, expect, it } from 'vitest';
import { EcnValidator } from '../src/ecn.js';
import {
  K_PACKET_THRESHOLD,
  K_PERSISTENT_CONGESTION_THRESHOLD,
  K_TIME_THRESHOLD,
  LossDetection,
  SLOT_ACKED,
  SLOT_EMPTY,
  SLOT_LIVE,
  SLOT_LOST,
  SentPacketRing,
} from '../src/loss-detection.js';
import { RttEstimator } from '../src/rtt.js';
import type { AckInfo, PacketNumberSpace, RecoveryContext, SentPacket } from '../src/types.js';

const SERVER: RecoveryContext = {
  isClient: false,
  handshakeConfirmed: true,
  maxAckDelay: 25,
  peerCompletedAddressValidation: true,
  hasHandshakeKeys: true,
  amplificationBlocked: false,
};
const SERVER_HANDSHAKING: RecoveryContext = { ...SERVER, handshakeConfirmed: false };
const CLIENT_EARLY: RecoveryContext = {
  isClient: true,
  handshakeConfirmed: false,
  maxAckDelay: 25,
  peerCompletedAddressValidation: false,
  hasHandshakeKeys: false,
  amplificationBlocked: false,
};

function pkt(packetNumber: number, timeSent: number, extra: Partial<SentPacket> = {}): SentPacket {
  return { packetNumber, timeSent, bytes: 1200, ackEliciting: true, inFlight: true, ...extra };
}

/** An ACK frame for the given inclusive ranges (any order). */
function ack(ranges: [number, number][], ackDelay = 0, ecn?: AckInfo['ecn']): AckInfo {
  const sorted = ranges.map(([smallest, largest]) => ({ smallest, largest })).sort((a, b) => b.largest - a.largest);
  const first = sorted[0];
  if (first === undefined) throw new Error('no ranges');
  return { largestAcknowledged: first.largest, ackDelay, ranges: sorted, ...(ecn ? { ecn } : {}) };
}

function send(ld: LossDetection, space: PacketNumberSpace, pn: number, t: number, extra: Partial<SentPacket> = {}) {
  const p = pkt(pn, t, extra);
  ld.onPacketSent(space, p, t);
  return p;
}

const pns = (ps: readonly SentPacket[]) => ps.map((p) => p.packetNumber);

describe('SentPacketRing', () => {
  it('stores packets by number, skips gaps, finds live packets past tombstones and prunes the head', () => {
    const ring = new SentPacketRing(8);
    for (let pn = 0; pn < 20; pn++) ring.push(pn, pkt(pn, pn));
    ring.push(23, pkt(23, 23)); // 20..22 skipped
    expect(ring.capacity).toBeGreaterThanOrEqual(24);
    expect(ring.size).toBe(21);
    expect(ring.stateOf(21)).toBe(SLOT_EMPTY);
    for (let pn = 5; pn < 15; pn++) ring.resolve(pn, SLOT_ACKED);
    expect(ring.find(5)).toBe(15);
    expect(ring.find(19)).toBe(19);
    expect(ring.find(20)).toBe(23);
    expect(ring.find(24)).toBe(24); // tail
    ring.resolve(0, SLOT_LOST);
    expect(ring.stateOf(0)).toBe(SLOT_LOST);
    ring.prune();
    expect(ring.head).toBe(1);
    for (let pn = 1; pn < 5; pn++) ring.resolve(pn, SLOT_ACKED);
    ring.prune();
    expect(ring.head).toBe(15);
    expect(ring.stateOf(15)).toBe(SLOT_LIVE);
    expect([...ring.values()].map((p) => p.packetNumber)).toEqual([15, 16, 17, 18, 19, 23]);
    expect(() => ring.push(22, pkt(22, 22))).toThrow(RangeError);
    expect(() => ring.resolve(5, SLOT_ACKED)).toThrow(RangeError);
    expect(ring.clear().map((p) => p.packetNumber)).toEqual([15, 16, 17, 18, 19, 23]);
    expect(ring.size).toBe(0);
    ring.push(1000, pkt(1000, 1000)); // empty ring restarts at the new number
    expect(ring.head).toBe(1000);
    expect(ring.first()?.packetNumber).toBe(1000);
  });

  it('keeps working across wrap-around and growth', () => {
    const ring = new SentPacketRing(8);
    let next = 0;
    let oldest = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5 + (round % 7); i++) ring.push(next, pkt(next, next++));
      const k = 3 + (round % 5);
      for (let i = 0; i < k && oldest < next; i++) ring.resolve(oldest++, SLOT_ACKED);
      ring.prune();
      expect(ring.head).toBe(oldest < next ? oldest : ring.tail);
      expect([...ring.values()].map((p) => p.packetNumber)).toEqual(
        Array.from({ length: next - oldest }, (_, i) => oldest + i),
      );
    }
  });
});

describe('LossDetection: sending and acknowledging', () => {
  it('tracks bytes in flight and ack-eliciting packets; ACK-only packets are not in flight', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    send(ld, 'application', 1, 1, { ackEliciting: false, inFlight: false, bytes: 50 });
    send(ld, 'application', 2, 2, { ackEliciting: false, inFlight: true, bytes: 300 }); // PADDING only
    expect(ld.bytesInFlight).toBe(1500);
    expect(ld.ackElicitingInFlight).toBe(1);
    expect(ld.outstandingCount('application')).toBe(3);
    const r = ld.onAckReceived('application', ack([[0, 2]]), 50, SERVER);
    expect(pns(r.newlyAcked)).toEqual([0, 1, 2]);
    expect(ld.bytesInFlight).toBe(0);
    expect(ld.ackElicitingInFlight).toBe(0);
    expect(ld.outstandingCount('application')).toBe(0);
  });

  it('rejects non-increasing packet numbers, backwards time, and ack-eliciting packets not in flight', () => {
    const ld = new LossDetection();
    send(ld, 'initial', 5, 10);
    expect(() => send(ld, 'initial', 5, 11)).toThrow(RangeError);
    expect(() => send(ld, 'initial', 6, 9)).toThrow(RangeError);
    expect(() => ld.onPacketSent('initial', pkt(7, 12, { inFlight: false }), 12)).toThrow(RangeError);
    send(ld, 'handshake', 0, 1); // spaces are independent
  });

  it('reports newly acked packets in ascending order and ignores already-acked ranges', () => {
    const ld = new LossDetection({ packetThreshold: 1000, timeThreshold: 1000 });
    for (let pn = 0; pn < 10; pn++) send(ld, 'application', pn, pn);
    const r1 = ld.onAckReceived('application', ack([[7, 9], [2, 4]]), 20, SERVER);
    expect(pns(r1.newlyAcked)).toEqual([2, 3, 4, 7, 8, 9]);
    expect(r1.largestAckedIncreased).toBe(true);
    const r2 = ld.onAckReceived('application', ack([[7, 9], [0, 5]]), 21, SERVER);
    expect(pns(r2.newlyAcked)).toEqual([0, 1, 5]);
    expect(r2.largestAckedIncreased).toBe(false);
    expect(r2.rttUpdated).toBe(false); // largest acknowledged (9) was not newly acked
    const r3 = ld.onAckReceived('application', ack([[7, 9], [0, 5]]), 22, SERVER);
    expect(r3.newlyAcked).toEqual([]);
    expect(pns([...ld.outstanding('application')])).toEqual([6]);
    const r4 = ld.onAckReceived('application', ack([[0, 9]]), 23, SERVER);
    expect(pns(r4.newlyAcked)).toEqual([6]);
    expect(ld.outstandingCount('application')).toBe(0);
  });

  it('samples RTT only if the largest acked is newly acked and something ack-eliciting was (§5.1)', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0, { ackEliciting: false, inFlight: false });
    let r = ld.onAckReceived('application', ack([[0, 0]]), 100, SERVER);
    expect(r.rttUpdated).toBe(false);
    expect(ld.rtt.hasSample).toBe(false);
    send(ld, 'application', 1, 100);
    send(ld, 'application', 2, 110, { ackEliciting: false, inFlight: false });
    // Largest (2) is not ack-eliciting but 1 is: sample = now − time_sent(2) = 90.
    r = ld.onAckReceived('application', ack([[1, 2]], 5), 200, SERVER);
    expect(r.rttUpdated).toBe(true);
    expect(ld.rtt.latestRtt).toBe(90);
    expect(ld.rtt.smoothedRtt).toBe(90);
    expect(ld.firstRttSampleTime).toBe(200);
  });

  it('ignores ack_delay in the Initial space, uses it in Handshake (§5.3)', () => {
    for (const [space, smoothed] of [
      ['initial', 102.5],
      ['handshake', 100],
    ] as const) {
      const ld = new LossDetection();
      send(ld, space, 0, 0);
      ld.onAckReceived(space, ack([[0, 0]]), 100, SERVER_HANDSHAKING); // first sample 100
      send(ld, space, 1, 100);
      // latest 120, ack delay 20: Initial → adjusted 120; Handshake → 100.
      ld.onAckReceived(space, ack([[1, 1]], 20), 220, SERVER_HANDSHAKING);
      // smoothed = 7/8·100 + 1/8·adjusted
      expect(ld.rtt.smoothedRtt).toBe(smoothed);
    }
  });

  it('flags an ACK of a packet never sent (RFC 9000 §13.1) and changes nothing', () => {
    const ld = new LossDetection();
    expect(ld.onAckReceived('application', ack([[0, 0]]), 1, SERVER).ackOfUnsentPacket).toBe(true);
    send(ld, 'application', 3, 0);
    send(ld, 'application', 4, 1);
    send(ld, 'application', 7, 2); // 5 and 6 skipped
    send(ld, 'application', 8, 3);
    expect(ld.onAckReceived('application', ack([[9, 9]]), 10, SERVER).ackOfUnsentPacket).toBe(true);
    expect(ld.onAckReceived('application', ack([[2, 4]]), 10, SERVER).ackOfUnsentPacket).toBe(true);
    expect(ld.onAckReceived('application', ack([[6, 8]]), 10, SERVER).ackOfUnsentPacket).toBe(true);
    expect(ld.onAckReceived('application', ack([[8, 8], [3, 5]]), 10, SERVER).ackOfUnsentPacket).toBe(true);
    expect(ld.bytesInFlight).toBe(4 * 1200);
    expect(ld.largestAcked('application')).toBeUndefined();
    const ok = ld.onAckReceived('application', ack([[7, 8], [3, 4]]), 10, SERVER);
    expect(ok.ackOfUnsentPacket).toBeUndefined();
    expect(pns(ok.newlyAcked)).toEqual([3, 4, 7, 8]);
    // The skipped numbers stay forbidden after the packets around them are gone.
    expect(ld.onAckReceived('application', ack([[3, 8]]), 11, SERVER).ackOfUnsentPacket).toBe(true);
  });

  it('rejects malformed ranges', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    send(ld, 'application', 1, 0);
    const bad = (a: AckInfo) => () => ld.onAckReceived('application', a, 1, SERVER);
    expect(bad({ largestAcknowledged: 1, ackDelay: 0, ranges: [] })).toThrow(RangeError);
    expect(bad({ largestAcknowledged: 1, ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] })).toThrow(RangeError);
    expect(
      bad({
        largestAcknowledged: 1,
        ackDelay: 0,
        ranges: [
          { smallest: 1, largest: 1 },
          { smallest: 0, largest: 1 },
        ],
      }),
    ).toThrow(RangeError);
    expect(bad({ largestAcknowledged: 1, ackDelay: -1, ranges: [{ smallest: 0, largest: 1 }] })).toThrow(RangeError);
  });
});

describe('LossDetection: loss detection (RFC 9002 §6.1)', () => {
  it('uses the constants of RFC 9002', () => {
    expect(K_PACKET_THRESHOLD).toBe(3);
    expect(K_TIME_THRESHOLD).toBe(9 / 8);
    expect(K_PERSISTENT_CONGESTION_THRESHOLD).toBe(3);
  });

  /** RTT 100 from pn 0, then pn 1..5 at t = 100..104, ACK of pn 4 at t = 200. */
  function scenario() {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    ld.onAckReceived('application', ack([[0, 0]]), 100, SERVER);
    for (let pn = 1; pn <= 5; pn++) send(ld, 'application', pn, 99 + pn);
    const r = ld.onAckReceived('application', ack([[4, 4]]), 200, SERVER);
    return { ld, r };
  }

  it('packet threshold: a packet 3 below the largest acked is lost; others wait for the time threshold', () => {
    const { ld, r } = scenario();
    // latest 97 → rttvar = 3/4·50 + 1/4·3 = 38.25, smoothed = 87.5 + 97/8 = 99.625
    expect(ld.rtt.smoothedRtt).toBe(99.625);
    expect(pns(r.newlyAcked)).toEqual([4]);
    expect(pns(r.lost)).toEqual([1]);
    // loss_delay = 9/8 · max(97, 99.625) = 112.078125; loss_time = time_sent(2) + loss_delay = 101 + 112.078125.
    expect(ld.lossTime('application')).toBe(213.078125);
    expect(ld.lossDetectionTimer(SERVER)).toEqual({
      time: 213.078125,
      kind: 'loss',
      space: 'application',
      antiDeadlock: false,
    });
    expect(ld.bytesInFlight).toBe(3 * 1200);
  });

  it('time threshold: the loss timer declares the packet lost and re-arms for the next one', () => {
    const { ld } = scenario();
    expect(ld.onTimeout(213, SERVER)).toEqual({ kind: 'none' });
    const t = ld.onTimeout(213.078125, SERVER);
    expect(t.kind).toBe('loss');
    if (t.kind !== 'loss') return;
    expect(pns(t.lost)).toEqual([2]);
    expect(t.persistentCongestion).toBe(false);
    expect(ld.ptoCount).toBe(0); // not a PTO
    expect(ld.lossTime('application')).toBe(214.078125);
    const t2 = ld.onTimeout(214.078125, SERVER);
    expect(t2.kind === 'loss' && pns(t2.lost)).toEqual([3]);
    // pn 5 is above the largest acked: no loss timer, the PTO takes over.
    expect(ld.lossTime('application')).toBeUndefined();
    expect(ld.lossDetectionTimer(SERVER)?.kind).toBe('pto');
  });

  it('time threshold never goes below kGranularity', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    send(ld, 'application', 1, 0.05);
    send(ld, 'application', 2, 0.1);
    ld.onAckReceived('application', ack([[2, 2]]), 0.2, SERVER); // RTT 0.1 → 9/8·0.1 < 1 ms
    expect(ld.lossTime('application')).toBe(1);
    expect(ld.onTimeout(0.99, SERVER).kind).toBe('none');
    const t = ld.onTimeout(1, SERVER);
    expect(t.kind === 'loss' && pns(t.lost)).toEqual([0]);
    expect(ld.lossTime('application')).toBe(1.05);
  });

  it('uses latest_rtt when it exceeds smoothed_rtt', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    ld.onAckReceived('application', ack([[0, 0]]), 100, SERVER);
    send(ld, 'application', 1, 100);
    send(ld, 'application', 2, 101);
    ld.onAckReceived('application', ack([[2, 2]]), 401, SERVER); // latest 300, smoothed 125
    expect(ld.rtt.latestRtt).toBe(300);
    expect(ld.rtt.smoothedRtt).toBe(125);
    expect(ld.lossTime('application')).toBe(100 + (9 / 8) * 300);
  });

  it('an ACK that acknowledges nothing new does not run loss detection', () => {
    const ld = new LossDetection();
    for (let pn = 0; pn < 6; pn++) send(ld, 'application', pn, pn);
    ld.onAckReceived('application', ack([[1, 1]]), 10, SERVER);
    const r = ld.onAckReceived('application', ack([[1, 1]]), 500, SERVER);
    expect(r.newlyAcked).toEqual([]);
    expect(r.lost).toEqual([]);
    expect(ld.outstandingCount('application')).toBe(5);
  });
});

describe('LossDetection: PTO (RFC 9002 §6.2)', () => {
  it('initial PTO is about one second, doubles per expiry and resets on an ACK', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    // (333 + 4·166.5) + max_ack_delay 25 = 1024 for Application Data.
    expect(ld.lossDetectionTimer(SERVER)).toEqual({
      time: 1024,
      kind: 'pto',
      space: 'application',
      antiDeadlock: false,
    });
    expect(ld.onTimeout(1023, SERVER)).toEqual({ kind: 'none' });
    expect(ld.onTimeout(1024, SERVER)).toEqual({ kind: 'pto', space: 'application', probes: 2, antiDeadlock: false });
    expect(ld.ptoCount).toBe(1);
    // Backoff applies to max_ack_delay too: (999 + 25) · 2.
    expect(ld.lossDetectionTimer(SERVER)?.time).toBe(2048);
    expect(ld.ptoPeriod('application', SERVER)).toBe(2048);
    ld.onTimeout(2048, SERVER);
    expect(ld.lossDetectionTimer(SERVER)?.time).toBe(4096);
    // The probe is sent: the timer restarts from it (§6.2.1).
    send(ld, 'application', 1, 4096);
    expect(ld.lossDetectionTimer(SERVER)?.time).toBe(4096 + 4096);
    const r = ld.onAckReceived('application', ack([[1, 1]]), 4196, SERVER);
    expect(r.rttUpdated).toBe(true);
    expect(ld.ptoCount).toBe(0);
    // pn 0 is still outstanding (1 below the largest, sent long ago): the time threshold declares it lost.
    expect(pns(r.lost)).toEqual([0]);
    expect(ld.lossDetectionTimer(SERVER)).toBeUndefined();
  });

  it('computes the PTO from smoothed_rtt and rttvar after a sample', () => {
    const ld = new LossDetection({ ptoProbes: 1 });
    send(ld, 'application', 0, 0);
    ld.onAckReceived('application', ack([[0, 0]]), 100, SERVER);
    send(ld, 'application', 1, 150);
    // 150 + 100 + 4·50 + 25
    expect(ld.lossDetectionTimer(SERVER)?.time).toBe(475);
    expect(ld.onTimeout(475, SERVER)).toMatchObject({ kind: 'pto', probes: 1 });
  });

  it('Initial and Handshake exclude max_ack_delay and the earlier one wins', () => {
    const ld = new LossDetection();
    send(ld, 'initial', 0, 0);
    send(ld, 'handshake', 0, 10);
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toEqual({
      time: 999,
      kind: 'pto',
      space: 'initial',
      antiDeadlock: false,
    });
    ld.onAckReceived('initial', ack([[0, 0]]), 100, SERVER_HANDSHAKING); // RTT 100
    // Handshake: 10 + 100 + 200 = 310
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toMatchObject({ time: 310, space: 'handshake' });
  });

  it('does not arm the Application Data PTO before the handshake is confirmed (§6.2.1)', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toBeUndefined();
    expect(ld.onTimeout(5000, SERVER_HANDSHAKING)).toEqual({ kind: 'none' });
    send(ld, 'handshake', 0, 5);
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toMatchObject({ space: 'handshake', time: 1004 });
    expect(ld.lossDetectionTimer(SERVER)).toMatchObject({ space: 'handshake', time: 1004 });
    ld.discardSpace('handshake', 6);
    expect(ld.lossDetectionTimer(SERVER)).toMatchObject({ space: 'application', time: 1024 });
  });

  it('a server blocked by the amplification limit arms no PTO; once unblocked an overdue PTO fires (§6.2.2.1)', () => {
    const ld = new LossDetection();
    const blocked = { ...SERVER_HANDSHAKING, amplificationBlocked: true };
    send(ld, 'initial', 0, 0);
    expect(ld.lossDetectionTimer(blocked)).toBeUndefined();
    expect(ld.onTimeout(5000, blocked)).toEqual({ kind: 'none' });
    // App. A.6: a datagram unblocks the server at t = 5000; the PTO (999) is overdue.
    const timer = ld.lossDetectionTimer(SERVER_HANDSHAKING);
    expect(timer?.time).toBe(999);
    expect(ld.onTimeout(5000, SERVER_HANDSHAKING)).toMatchObject({ kind: 'pto', space: 'initial' });
  });

  it('the loss timer still applies to a blocked server (App. A.8 order)', () => {
    const ld = new LossDetection();
    for (let pn = 0; pn < 3; pn++) send(ld, 'initial', pn, pn);
    ld.onAckReceived('initial', ack([[2, 2]]), 100, SERVER_HANDSHAKING);
    expect(ld.lossDetectionTimer({ ...SERVER_HANDSHAKING, amplificationBlocked: true })?.kind).toBe('loss');
  });

  it('client anti-deadlock: PTO armed with nothing in flight until the server validated the address', () => {
    const ld = new LossDetection();
    expect(ld.lossDetectionTimer(CLIENT_EARLY)).toBeUndefined(); // nothing sent yet
    send(ld, 'initial', 0, 0);
    ld.onAckReceived('initial', ack([[0, 0]]), 100, CLIENT_EARLY); // RTT 100, PTO 300 without max_ack_delay
    expect(ld.ackElicitingInFlight).toBe(0);
    // Armed from "now" = the ACK at 100.
    expect(ld.lossDetectionTimer(CLIENT_EARLY)).toEqual({
      time: 400,
      kind: 'pto',
      space: 'initial',
      antiDeadlock: true,
    });
    const withKeys = { ...CLIENT_EARLY, hasHandshakeKeys: true };
    expect(ld.lossDetectionTimer(withKeys)).toMatchObject({ space: 'handshake', antiDeadlock: true });
    expect(ld.onTimeout(400, CLIENT_EARLY)).toEqual({ kind: 'pto', space: 'initial', probes: 1, antiDeadlock: true });
    expect(ld.ptoCount).toBe(1);
    expect(ld.lossDetectionTimer(CLIENT_EARLY)?.time).toBe(400 + 600);
    // Not for a server, nor once the client knows its address was validated.
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toBeUndefined();
    expect(ld.lossDetectionTimer({ ...CLIENT_EARLY, peerCompletedAddressValidation: true })).toBeUndefined();
    expect(ld.lossDetectionTimer({ ...CLIENT_EARLY, handshakeConfirmed: true })).toBeUndefined();
  });

  it('a client keeps pto_count on ACKs until the address is validated; a Handshake ACK validates it', () => {
    const ld = new LossDetection();
    send(ld, 'initial', 0, 0);
    ld.onTimeout(999, CLIENT_EARLY);
    expect(ld.ptoCount).toBe(1);
    send(ld, 'initial', 1, 999);
    ld.onAckReceived('initial', ack([[0, 1]]), 1100, CLIENT_EARLY);
    expect(ld.ptoCount).toBe(1); // App. A.7: not reset
    expect(ld.peerCompletedAddressValidation(CLIENT_EARLY)).toBe(false);
    send(ld, 'handshake', 0, 1100);
    ld.onAckReceived('handshake', ack([[0, 0]]), 1200, CLIENT_EARLY);
    expect(ld.peerCompletedAddressValidation(CLIENT_EARLY)).toBe(true);
    expect(ld.ptoCount).toBe(0);
    expect(ld.lossDetectionTimer(CLIENT_EARLY)).toBeUndefined();
  });
});

describe('LossDetection: discarding a space (App. A.11)', () => {
  it('removes the packets from flight, resets pto_count and the timers, and ignores later ACKs', () => {
    const ld = new LossDetection();
    send(ld, 'initial', 0, 0);
    send(ld, 'initial', 1, 1, { ackEliciting: false, inFlight: false, bytes: 40 });
    send(ld, 'initial', 2, 2, { bytes: 300 });
    send(ld, 'handshake', 0, 3);
    // Initial PTO from its last ack-eliciting packet (t = 2): 2 + 999.
    expect(ld.onTimeout(1001, SERVER_HANDSHAKING)).toMatchObject({ kind: 'pto', space: 'initial' });
    expect(ld.ptoCount).toBe(1);
    const removed = ld.discardSpace('initial', 1000);
    expect(pns(removed)).toEqual([0, 2]); // in-flight ones only
    expect(ld.bytesInFlight).toBe(1200);
    expect(ld.bytesInFlightIn('initial')).toBe(0);
    expect(ld.ptoCount).toBe(0);
    expect(ld.isDiscarded('initial')).toBe(true);
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toMatchObject({ space: 'handshake', time: 1002 });
    expect(ld.onAckReceived('initial', ack([[0, 2]]), 1001, SERVER_HANDSHAKING).ignored).toBe(true);
    expect(() => send(ld, 'initial', 3, 1002)).toThrow();
    expect(ld.discardSpace('initial')).toEqual([]);
  });

  it('clears a pending loss timer of the discarded space', () => {
    const ld = new LossDetection();
    for (let pn = 0; pn < 3; pn++) send(ld, 'initial', pn, pn);
    ld.onAckReceived('initial', ack([[2, 2]]), 100, SERVER_HANDSHAKING);
    expect(ld.lossTime('initial')).toBeDefined();
    ld.discardSpace('initial', 101);
    expect(ld.lossDetectionTimer(SERVER_HANDSHAKING)).toBeUndefined();
  });
});

describe('LossDetection: persistent congestion (RFC 9002 §7.6)', () => {
  /** RTT sample 80 at t = 80 (first_rtt_sample = 80). pcDuration afterwards depends on the next sample. */
  function withSample() {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    ld.onAckReceived('application', ack([[0, 0]]), 80, SERVER);
    return ld;
  }

  it('is declared when two ack-eliciting losses span more than 3 × PTO with nothing acked between', () => {
    const ld = withSample();
    send(ld, 'application', 1, 200);
    send(ld, 'application', 2, 700);
    send(ld, 'application', 3, 1200);
    send(ld, 'application', 4, 1300);
    const r = ld.onAckReceived('application', ack([[4, 4]]), 1400, SERVER);
    // latest 100 → rttvar = 30 + 5 = 35, smoothed = 70 + 12.5 = 82.5;
    // duration = (82.5 + 140 + 25) · 3 = 742.5 < 1200 − 200.
    expect(ld.rtt.smoothedRtt).toBe(82.5);
    expect(ld.rtt.rttvar).toBe(35);
    expect(pns(r.lost)).toEqual([1, 2, 3]);
    expect(r.persistentCongestion).toBe(true);
    // §5.2: min_rtt reset to the newest sample.
    expect(ld.rtt.minRtt).toBe(100);
  });

  it('is not declared when the span is within the duration', () => {
    const ld = withSample();
    send(ld, 'application', 1, 200);
    send(ld, 'application', 2, 600);
    send(ld, 'application', 3, 942);
    send(ld, 'application', 4, 1300);
    const r = ld.onAckReceived('application', ack([[4, 4]]), 1400, SERVER);
    expect(pns(r.lost)).toEqual([1, 2, 3]);
    expect(r.persistentCongestion).toBe(false); // 942 − 200 = 742 <= 742.5
    expect(ld.rtt.minRtt).toBe(80);
  });

  it('is not declared when a packet sent between the two was acknowledged', () => {
    const ld = withSample();
    send(ld, 'application', 1, 200);
    send(ld, 'application', 2, 700);
    send(ld, 'application', 3, 1200);
    send(ld, 'application', 4, 1300);
    const r = ld.onAckReceived('application', ack([[4, 4], [2, 2]]), 1400, SERVER);
    expect(pns(r.lost)).toEqual([1, 3]);
    expect(r.persistentCongestion).toBe(false);
  });

  it('ignores packets sent before the first RTT sample', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    send(ld, 'application', 1, 500);
    send(ld, 'application', 2, 1100);
    send(ld, 'application', 3, 1200);
    const r = ld.onAckReceived('application', ack([[3, 3]]), 1300, SERVER); // first sample at 1300
    expect(pns(r.lost)).toEqual([0, 1, 2]);
    expect(r.persistentCongestion).toBe(false);
  });

  it('needs ack-eliciting endpoints and skips PMTU probes', () => {
    const ld = withSample();
    send(ld, 'application', 1, 200, { ackEliciting: false }); // PADDING-only, in flight
    send(ld, 'application', 2, 700);
    send(ld, 'application', 3, 1200, { isMtuProbe: true });
    send(ld, 'application', 4, 1300);
    const r = ld.onAckReceived('application', ack([[4, 4]]), 1400, SERVER);
    expect(pns(r.lost)).toEqual([1, 2, 3]);
    expect(r.persistentCongestion).toBe(false);
  });

  it('counts acknowledgments in other packet-number spaces', () => {
    const run = (ackHandshakeBetween: boolean) => {
      const ld = new LossDetection();
      send(ld, 'handshake', 0, 0);
      ld.onAckReceived('handshake', ack([[0, 0]]), 80, SERVER);
      send(ld, 'application', 0, 200);
      send(ld, 'handshake', 1, 700);
      if (ackHandshakeBetween) ld.onAckReceived('handshake', ack([[1, 1]]), 780, SERVER);
      send(ld, 'application', 1, 1200);
      send(ld, 'application', 2, 1250);
      send(ld, 'application', 3, 1300);
      const r = ld.onAckReceived('application', ack([[3, 3]]), 1400, SERVER);
      expect(pns(r.lost)).toEqual([0, 1, 2]);
      return r.persistentCongestion;
    };
    expect(run(false)).toBe(true);
    expect(run(true)).toBe(false);
  });

  it('looks at one batch of losses at a time (App. B.8), including batches from the loss timer', () => {
    const ld = withSample();
    send(ld, 'application', 1, 200);
    send(ld, 'application', 2, 1150);
    send(ld, 'application', 3, 1160);
    const r = ld.onAckReceived('application', ack([[3, 3]]), 1230, SERVER); // latest 70
    // smoothed = 70 + 8.75 = 78.75; loss_delay = 9/8 · 78.75 = 88.59375; 1150 + 88.59375 > 1230.
    expect(pns(r.lost)).toEqual([1]);
    expect(r.persistentCongestion).toBe(false);
    expect(ld.lossTime('application')).toBe(1238.59375);
    // pn 2 goes in a second batch: 1150 − 200 exceeds the duration, but the pair is split across batches.
    const t = ld.onTimeout(1238.59375, SERVER);
    expect(t.kind === 'loss' && pns(t.lost)).toEqual([2]);
    expect(t.kind === 'loss' && t.persistentCongestion).toBe(false);
  });
});

describe('LossDetection: ECN (RFC 9002 §7.1, RFC 9000 §13.4.2)', () => {
  it('reports a CE count increase per space with the send time of the largest acknowledged packet', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0, { ecn: 'ect0' });
    send(ld, 'application', 1, 10, { ecn: 'ect0' });
    let r = ld.onAckReceived('application', ack([[0, 0]], 0, { ect0: 1, ect1: 0, ce: 0 }), 50, SERVER);
    expect(r.ecnCeIncreased).toBe(false);
    r = ld.onAckReceived('application', ack([[1, 1]], 0, { ect0: 1, ect1: 0, ce: 1 }), 60, SERVER);
    expect(r.ecnCeIncreased).toBe(true);
    expect(r.largestAckedTimeSent).toBe(10);
  });

  it('feeds an attached validator and only reports validated CE increases', () => {
    const ecn = new EcnValidator();
    const ld = new LossDetection({ ecn });
    for (let pn = 0; pn < 3; pn++) send(ld, 'application', pn, pn, { ecn: 'ect0' });
    expect(ecn.sentCounts('application')).toEqual({ ect0: 3, ect1: 0 });
    let r = ld.onAckReceived('application', ack([[0, 0]], 0, { ect0: 0, ect1: 0, ce: 1 }), 50, SERVER);
    expect(r.ecnCeIncreased).toBe(true);
    // Counts that do not cover the newly acked ECT(0) packet: remarking → validation fails, CE ignored.
    r = ld.onAckReceived('application', ack([[0, 1]], 0, { ect0: 0, ect1: 0, ce: 1 }), 60, SERVER);
    expect(r.ecnValidationFailed).toBe(true);
    expect(r.ecnCeIncreased).toBe(false);
    expect(ecn.state).toBe('failed');
    r = ld.onAckReceived('application', ack([[0, 2]], 0, { ect0: 0, ect1: 0, ce: 3 }), 70, SERVER);
    expect(r.ecnCeIncreased).toBe(false);
  });
});

describe('LossDetection: cost of ACK processing', () => {
  it('is proportional to newly acked packets and ranges, not to tombstones behind a hole', () => {
    // A hole at pn 0 that never counts as lost (thresholds huge) and cumulative ACKs [1, k] every 8 packets:
    // re-walking the acked tombstones would be O(n²) = ~6·10⁸ slot visits.
    const ld = new LossDetection({ packetThreshold: 1e9, timeThreshold: 1e9 });
    const n = 100_000;
    const start = performance.now();
    let acked = 0;
    for (let pn = 0; pn < n; pn++) {
      send(ld, 'application', pn, pn);
      if (pn % 8 === 7) {
        acked += ld.onAckReceived('application', ack([[1, pn]]), pn + 1, SERVER).newlyAcked.length;
      }
    }
    const elapsed = performance.now() - start;
    expect(acked).toBe(n - 1);
    expect(ld.outstandingCount('application')).toBe(1);
    expect(elapsed).toBeLessThan(3000);
  });

  it('handles an ACK frame with many ranges', () => {
    const ld = new LossDetection({ packetThreshold: 1e9, timeThreshold: 1e9 });
    const n = 20_000;
    for (let pn = 0; pn < n; pn++) send(ld, 'application', pn, 0);
    const ranges: [number, number][] = [];
    for (let pn = n - 1; pn >= 1; pn -= 2) ranges.push([pn, pn]); // every odd packet
    const r = ld.onAckReceived('application', ack(ranges), 10, SERVER);
    expect(r.newlyAcked.length).toBe(n / 2);
    expect(r.newlyAcked[0]?.packetNumber).toBe(1);
    expect(ld.outstandingCount('application')).toBe(n / 2);
  });

  it('accepts a caller-supplied estimator', () => {
    const rtt = new RttEstimator(100);
    rtt.update(50, 0, true, 25);
    const ld = new LossDetection({ rtt });
    expect(ld.rtt).toBe(rtt);
    expect(ld.firstRttSampleTime).toBe(-Infinity);
  });
});

describe('LossDetection.resetRtt (RFC 9000 §9.4)', () => {
  it('starts RTT estimation over, optionally from the path-validation round trip', () => {
    const ld = new LossDetection();
    send(ld, 'application', 0, 0);
    ld.onAckReceived('application', ack([[0, 0]]), 20, SERVER);
    expect(ld.rtt.smoothedRtt).toBe(20);
    ld.resetRtt(100);
    expect(ld.rtt.hasSample).toBe(false);
    expect(ld.rtt.smoothedRtt).toBe(333);
    ld.resetRtt(100, 45);
    expect([ld.rtt.hasSample, ld.rtt.smoothedRtt, ld.rtt.minRtt]).toEqual([true, 45, 45]);
  });
});
