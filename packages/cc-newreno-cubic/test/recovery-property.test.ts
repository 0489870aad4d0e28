import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EcnValidator } from '../src/ecn.js';
import { LossDetection } from '../src/loss-detection.js';
import { Pacer } from '../src/pacer.js';
import { RttEstimator } from '../src/rtt.js';
import type { AckInfo, PacketNumberSpace, RecoveryContext, SentPacket } from '../src/types.js';

const SPACES: readonly PacketNumberSpace[] = ['initial', 'handshake', 'application'];

type Op =
  | { t: 'send'; space: number; skip: number; kind: 'ae' | 'pad' | 'ackonly'; dt: number; ect: boolean }
  | { t: 'ack'; space: number; mask: number[]; delay: number; dt: number; ce: number }
  | { t: 'bogus'; space: number; above: number }
  | { t: 'timeout' }
  | { t: 'wait'; dt: number }
  | { t: 'discard'; space: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('send' as const),
      space: fc.integer({ min: 0, max: 2 }),
      skip: fc.oneof(
        { weight: 8, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      kind: fc.constantFrom('ae' as const, 'ae' as const, 'pad' as const, 'ackonly' as const),
      dt: fc.integer({ min: 0, max: 40 }),
      ect: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('ack' as const),
      space: fc.integer({ min: 0, max: 2 }),
      mask: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40, size: 'medium' }),
      delay: fc.integer({ min: 0, max: 40 }),
      dt: fc.integer({ min: 1, max: 120 }),
      ce: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('bogus' as const),
      space: fc.integer({ min: 0, max: 2 }),
      above: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('timeout' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('wait' as const), dt: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('discard' as const), space: fc.integer({ min: 0, max: 1 }) }) },
);

const ctxArb: fc.Arbitrary<RecoveryContext> = fc.record({
  isClient: fc.boolean(),
  handshakeConfirmed: fc.boolean(),
  maxAckDelay: fc.constantFrom(0, 25),
  peerCompletedAddressValidation: fc.boolean(),
  hasHandshakeKeys: fc.boolean(),
  amplificationBlocked: fc.boolean(),
});

type Status = 'out' | 'acked' | 'lost' | 'discarded';

interface ModelSpace {
  readonly sent: Map<number, SentPacket>;
  readonly status: Map<number, Status>;
  next: number;
  largestAcked: number;
  discarded: boolean;
  ce: number;
}

const ae = (packetNumber: number, timeSent: number, bytes = 1000): SentPacket => ({
  packetNumber,
  timeSent,
  bytes,
  ackEliciting: true,
  inFlight: true,
});
const ackOne = (pn: number): AckInfo => ({
  largestAcknowledged: pn,
  ackDelay: 0,
  ranges: [{ smallest: pn, largest: pn }],
});
const CONFIRMED_SERVER: RecoveryContext = {
  isClient: false,
  handshakeConfirmed: true,
  maxAckDelay: 25,
  peerCompletedAddressValidation: true,
  hasHandshakeKeys: true,
  amplificationBlocked: false,
};

function ranges(pnsAscending: number[]): { smallest: number; largest: number }[] {
  const out: { smallest: number; largest: number }[] = [];
  for (const pn of pnsAscending) {
    const last = out[out.length - 1];
    if (last !== undefined && last.largest === pn - 1) last.largest = pn;
    else out.push({ smallest: pn, largest: pn });
  }
  return out.reverse();
}

describe('recovery properties', () => {
  it('bytes in flight match the outstanding packets and never go negative; no packet is both acked and lost', () => {
    const opsArb = fc.array(opArb, { minLength: 10, maxLength: 150, size: 'large' });
    fc.assert(
      fc.property(ctxArb, opsArb, fc.boolean(), (ctx, ops, withEcn) => {
        const ecn = withEcn ? new EcnValidator() : undefined;
        const ld = new LossDetection(ecn ? { ecn } : {});
        const model: ModelSpace[] = SPACES.map(() => ({
          sent: new Map(),
          status: new Map(),
          next: 0,
          largestAcked: -1,
          discarded: false,
          ce: 0,
        }));
        let now = 0;

        const check = () => {
          let bytes = 0;
          let ae = 0;
          for (const m of model) {
            for (const [pn, st] of m.status) {
              if (st !== 'out') continue;
              const p = m.sent.get(pn);
              if (p?.inFlight) bytes += p.bytes;
              if (p?.ackEliciting) ae += 1;
            }
          }
          expect(ld.bytesInFlight).toBeGreaterThanOrEqual(0);
          expect(ld.bytesInFlight).toBe(bytes);
          expect(ld.ackElicitingInFlight).toBe(ae);
          for (const [i, space] of SPACES.entries()) {
            const m = model[i];
            if (m === undefined) continue;
            const out = [...m.status].filter(([, s]) => s === 'out').map(([pn]) => pn);
            expect([...ld.outstanding(space)].map((p) => p.packetNumber)).toEqual(out);
          }
        };

        const resolve = (m: ModelSpace, ps: readonly SentPacket[], to: Status) => {
          for (const p of ps) {
            // Each packet resolves once: acked, lost or discarded, never two of them.
            expect(m.status.get(p.packetNumber)).toBe('out');
            m.status.set(p.packetNumber, to);
          }
        };

        for (const op of ops) {
          switch (op.t) {
            case 'send': {
              const space = SPACES[op.space] ?? 'application';
              const m = model[op.space];
              if (m === undefined || m.discarded) break;
              now += op.dt;
              const pn = m.next + op.skip;
              m.next = pn + 1;
              const p: SentPacket = {
                packetNumber: pn,
                timeSent: now,
                bytes: op.kind === 'ackonly' ? 40 : 1200,
                ackEliciting: op.kind === 'ae',
                inFlight: op.kind !== 'ackonly',
                ...(op.ect ? { ecn: 'ect0' as const } : {}),
              };
              ld.onPacketSent(space, p, now);
              m.sent.set(pn, p);
              m.status.set(pn, 'out');
              break;
            }
            case 'ack': {
              const space = SPACES[op.space] ?? 'application';
              const m = model[op.space];
              if (m === undefined || m.sent.size === 0) break;
              const all = [...m.sent.keys()];
              const chosen = all.filter((_, i) => (op.mask[i % op.mask.length] ?? 0) > 0);
              if (chosen.length === 0) break;
              now += op.dt;
              m.ce += op.ce;
              const info: AckInfo = {
                largestAcknowledged: chosen[chosen.length - 1] ?? 0,
                ackDelay: op.delay,
                ranges: ranges(chosen),
                ecn: { ect0: 0, ect1: 0, ce: m.ce },
              };
              const before = new Map(m.status);
              const r = ld.onAckReceived(space, info, now, ctx);
              if (m.discarded) {
                expect(r.ignored).toBe(true);
                break;
              }
              expect(r.ackOfUnsentPacket).toBeUndefined();
              m.largestAcked = Math.max(m.largestAcked, info.largestAcknowledged);
              const acked = new Set(r.newlyAcked.map((p) => p.packetNumber));
              for (const p of r.newlyAcked) expect(chosen).toContain(p.packetNumber);
              // Everything acknowledged that was outstanding is reported.
              for (const pn of chosen) expect(acked.has(pn)).toBe(before.get(pn) === 'out');
              for (const p of r.lost) {
                expect(acked.has(p.packetNumber)).toBe(false);
                expect(p.packetNumber).toBeLessThanOrEqual(m.largestAcked);
              }
              resolve(m, r.newlyAcked, 'acked');
              resolve(m, r.lost, 'lost');
              // Ascending order.
              const nums = r.newlyAcked.map((p) => p.packetNumber);
              expect(nums).toEqual([...nums].sort((a, b) => a - b));
              break;
            }
            case 'bogus': {
              const space = SPACES[op.space] ?? 'application';
              const m = model[op.space];
              if (m === undefined || m.discarded) break;
              const pn = m.next - 1 + op.above; // never sent
              const bytes = ld.bytesInFlight;
              const r = ld.onAckReceived(space, ackOne(pn), now, ctx);
              expect(r.ackOfUnsentPacket).toBe(true);
              expect(ld.bytesInFlight).toBe(bytes);
              break;
            }
            case 'timeout': {
              const timer = ld.lossDetectionTimer(ctx);
              if (timer === undefined) {
                expect(ld.onTimeout(now, ctx)).toEqual({ kind: 'none' });
                break;
              }
              now = Math.max(now, timer.time);
              const pto = ld.ptoCount;
              const r = ld.onTimeout(now, ctx);
              expect(r.kind).toBe(timer.kind);
              if (r.kind === 'loss') {
                const m = model[SPACES.indexOf(r.space)];
                if (m !== undefined) {
                  for (const p of r.lost) expect(p.packetNumber).toBeLessThanOrEqual(m.largestAcked);
                  resolve(m, r.lost, 'lost');
                }
                expect(ld.ptoCount).toBe(pto);
              } else if (r.kind === 'pto') {
                expect(ld.ptoCount).toBe(pto + 1);
              }
              // Firing the timer moves it forward, so a simulator cannot spin on it: a timer of the same kind and
              // space comes later, and one already overdue (the PTO counts from the last ack-eliciting send, so a
              // late firing can leave the next one due) stops being due after a bounded number of firings.
              const after = ld.lossDetectionTimer(ctx);
              if (after !== undefined && after.kind === timer.kind && after.space === timer.space) {
                expect(after.time).toBeGreaterThan(timer.time);
              }
              let firings = 0;
              for (let due = after; due !== undefined && due.time <= now; due = ld.lossDetectionTimer(ctx)) {
                const again = ld.onTimeout(now, ctx);
                expect(again.kind).not.toBe('none');
                if (again.kind === 'loss') {
                  const m = model[SPACES.indexOf(again.space)];
                  if (m !== undefined) resolve(m, again.lost, 'lost');
                }
                firings += 1;
                expect(firings).toBeLessThan(64);
              }
              break;
            }
            case 'wait':
              now += op.dt;
              break;
            case 'discard': {
              const space = SPACES[op.space] ?? 'initial';
              const m = model[op.space];
              if (m === undefined || m.discarded) break;
              const removed = ld.discardSpace(space, now);
              for (const p of removed) expect(p.inFlight).toBe(true);
              for (const [pn, st] of m.status) if (st === 'out') m.status.set(pn, 'discarded');
              m.discarded = true;
              expect(ld.ptoCount).toBe(0);
              break;
            }
          }
          check();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the PTO period doubles with every expiry and includes max_ack_delay only for Application Data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 100 }),
        fc.constantFrom<PacketNumberSpace>('initial', 'handshake', 'application'),
        fc.integer({ min: 1, max: 8 }),
        (samples, maxAckDelay, space, expiries) => {
          const ctx: RecoveryContext = { ...CONFIRMED_SERVER, maxAckDelay };
          const ld = new LossDetection();
          let now = 0;
          let pn = 0;
          for (const s of samples) {
            ld.onPacketSent(space, ae(pn, now), now);
            now += s;
            ld.onAckReceived(space, ackOne(pn), now, ctx);
            pn += 1;
          }
          const sentAt = now;
          ld.onPacketSent(space, ae(pn, sentAt), now);
          const base = ld.rtt.pto(space === 'application' ? maxAckDelay : 0);
          expect(base).toBeGreaterThanOrEqual(ld.rtt.smoothedRtt + 1);
          for (let k = 0; k < expiries; k++) {
            const timer = ld.lossDetectionTimer(ctx);
            expect(timer?.kind).toBe('pto');
            expect(timer?.space).toBe(space);
            expect((timer?.time ?? 0) - sentAt).toBeCloseTo(base * 2 ** k, 6);
            ld.onTimeout(timer?.time ?? 0, ctx);
            expect(ld.ptoCount).toBe(k + 1);
          }
        },
      ),
    );
  });

  it('smoothed RTT stays between min_rtt and the largest sample; rttvar is never negative', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            rtt: fc.double({ min: 0, max: 1000, noNaN: true }),
            delay: fc.double({ min: 0, max: 200, noNaN: true }),
          }),
          { minLength: 1, maxLength: 50 },
        ),
        fc.boolean(),
        (samples, confirmed) => {
          const rtt = new RttEstimator();
          let max = 0;
          for (const s of samples) {
            rtt.update(s.rtt, s.delay, confirmed, 25);
            max = Math.max(max, s.rtt);
            expect(rtt.rttvar).toBeGreaterThanOrEqual(0);
            expect(rtt.smoothedRtt).toBeGreaterThanOrEqual(rtt.minRtt - 1e-9);
            expect(rtt.smoothedRtt).toBeLessThanOrEqual(max + 1e-9);
            expect(rtt.minRtt).toBeLessThanOrEqual(s.rtt);
          }
        },
      ),
    );
  });

  it('an ACK naming any packet number that was never sent is flagged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 10 }),
        (gaps, acked) => {
          const ld = new LossDetection({ packetThreshold: 1e9, timeThreshold: 1e9 });
          const sent = new Set<number>();
          let pn = -1;
          for (const g of gaps) {
            pn += 1 + g;
            ld.onPacketSent('application', ae(pn, 0, 100), 0);
            sent.add(pn);
          }
          const sorted = [...new Set(acked)].sort((a, b) => a - b);
          const largestAcknowledged = sorted[sorted.length - 1] ?? 0;
          const info: AckInfo = { largestAcknowledged, ackDelay: 0, ranges: ranges(sorted) };
          const r = ld.onAckReceived('application', info, 1, CONFIRMED_SERVER);
          const bogus = sorted.some((x) => !sent.has(x));
          expect(r.ackOfUnsentPacket === true).toBe(bogus);
          if (!bogus) expect(r.newlyAcked.map((p) => p.packetNumber)).toEqual(sorted);
        },
      ),
    );
  });

  it('a pacer obeyed to the letter never exceeds burst + rate × elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2400, max: 500_000 }),
        fc.double({ min: 1, max: 500, noNaN: true }),
        fc.array(
          fc.record({ size: fc.integer({ min: 40, max: 1500 }), idle: fc.double({ min: 0, max: 5, noNaN: true }) }),
          { minLength: 1, maxLength: 200, size: 'medium' },
        ),
        (cwnd, srtt, packets) => {
          const pacer = new Pacer({ maxDatagramSize: 1500 });
          const rate = pacer.rate(cwnd, srtt);
          let now = 0;
          let sent = 0;
          for (const p of packets) {
            now += p.idle;
            const t = pacer.nextSendTime(now, p.size, cwnd, srtt);
            expect(t).toBeGreaterThanOrEqual(now);
            now = t;
            pacer.onSent(now, p.size);
            sent += p.size;
            // Idle time only ever adds credit up to the bucket, so this bound holds for every prefix.
            expect(sent).toBeLessThanOrEqual(pacer.capacity + rate * now + 1e-6 * sent);
          }
        },
      ),
    );
  });
});
