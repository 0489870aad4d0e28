import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmplificationLimiter,
  ChallengeResponder,
  MIN_PROBE_DATAGRAM,
  MigrationController,
  PathValidator,
  Pmtud,
} from '../src/index.js';
import type { PathValidationEvent } from '../src/index.js';
import { counterRandom, path } from './helpers.js';

describe('properties', () => {
  it('AmplificationLimiter: an unvalidated path never gets more than 3× what it sent us', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('receive' as const), bytes: fc.integer({ min: 0, max: 1500 }) }),
      fc.record({ kind: fc.constant('send' as const), bytes: fc.integer({ min: 0, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const limiter = new AmplificationLimiter();
        let received = 0;
        let sent = 0;
        for (const { kind, bytes } of ops) {
          if (kind === 'receive') {
            limiter.onReceived(bytes);
            received += bytes;
          } else if (limiter.canSend(bytes)) {
            limiter.onSent(bytes);
            sent += bytes;
          } else {
            expect(() => limiter.onSent(bytes)).toThrow();
          }
          expect(sent).toBeLessThanOrEqual(3 * received);
          expect(limiter.allowance()).toBe(3 * received - sent);
        }
      }),
    );
  });

  it('PathValidator: succeeds only on an echo before the deadline, fails only at it, paces retransmissions', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 800 }) }),
      fc.record({ kind: fc.constant('poll' as const), allowance: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant('echo' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('garbage' as const), byte: fc.integer({ min: 0xf0, max: 0xff }) }),
      fc.constant({ kind: 'timeout' as const }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.array(action, { maxLength: 80 }), (pto, actions) => {
        const v = new PathValidator({ random: counterRandom() });
        const start = 0;
        const deadline = start + 3 * Math.max(pto, 999);
        v.start(start, { pto, initialPto: 999 });
        const sent: { data: Uint8Array; padTo: number; at: number }[] = [];
        const events: PathValidationEvent[] = [];
        let now = start;
        for (const a of actions) {
          if (a.kind === 'wait') now += a.ms;
          else if (a.kind === 'poll') {
            const tx = v.pollTransmit(now, a.allowance);
            if (tx !== undefined) {
              expect(tx.padTo).toBeLessThanOrEqual(Math.min(1200, a.allowance));
              expect(tx.padTo).toBeGreaterThanOrEqual(MIN_PROBE_DATAGRAM);
              sent.push({ data: tx.frame.data, padTo: tx.padTo, at: now });
            }
          } else if (a.kind === 'echo' && sent.length > 0) {
            v.onPathResponse(sent[a.pick % sent.length]!.data, now);
          } else if (a.kind === 'garbage') {
            expect(v.onPathResponse(new Uint8Array(8).fill(a.byte), now)).toBe('unknown');
          } else if (a.kind === 'timeout') v.onTimeout(now);
          for (let e = v.pollEvent(); e !== undefined; e = v.pollEvent()) events.push(e);
        }
        // Retransmissions of one validation are at least one PTO apart, and the gaps never shrink.
        for (let i = 2; i < sent.length; i++) {
          if (sent[i - 1]!.padTo < 1200) continue;
          expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(pto);
        }
        const terminal = events.filter((e) => e.type !== 'address-validated');
        expect(terminal.length).toBeLessThanOrEqual(1);
        if (v.state === 'validated') {
          expect(v.mtuValidated).toBe(true);
          expect(sent.some((s) => s.padTo >= 1200)).toBe(true);
        }
        if (v.state === 'failed') expect(now).toBeGreaterThanOrEqual(deadline);
        if (events.some((e) => e.type === 'validated')) expect(events.at(-1)!.type).toBe('validated');
        if (v.state === 'validating') expect(v.deadline).toBeGreaterThan(start);
      }),
    );
  });

  it('ChallengeResponder: at most one response per challenge, bounded memory, nothing invented', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('challenge' as const), path: fc.constantFrom('A', 'B', 'C') }),
      fc.record({ kind: fc.constant('poll' as const), allowance: fc.integer({ min: 0, max: 2000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 100 }), (maxQueued, ops) => {
        const responder = new ChallengeResponder({ maxQueued });
        const challenged = new Map<number, string>();
        const answered = new Set<number>();
        let id = 0;
        for (const o of ops) {
          if (o.kind === 'challenge') {
            const data = new Uint8Array(8);
            new DataView(data.buffer).setUint32(4, ++id);
            challenged.set(id, o.path);
            responder.onPathChallenge(o.path, data);
          } else {
            const tx = responder.pollTransmit(() => o.allowance);
            if (tx === undefined) continue;
            const answeredId = new DataView(tx.frame.data.buffer, tx.frame.data.byteOffset).getUint32(4);
            expect(challenged.get(answeredId)).toBe(tx.path);
            expect(answered.has(answeredId)).toBe(false);
            answered.add(answeredId);
            expect(tx.padTo).toBe(Math.min(1200, o.allowance));
          }
          expect(responder.pending()).toBeLessThanOrEqual(maxQueued);
        }
        expect(answered.size + responder.dropped + responder.pending()).toBe(id);
      }),
    );
  });

  it('Pmtud: never claims more than the path carries, and converges when probes are only lost for size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1200, max: 9000 }),
        fc.integer({ min: 1200, max: 9000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (pathMtu, maxUdpPayload, spuriousLoss, seed) => {
          let state = seed;
          const rand = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
          for (const loss of [0, spuriousLoss]) {
            const pmtud = new Pmtud({ maxUdpPayload });
            pmtud.start(0);
            let now = 0;
            for (let i = 0; i < 300; i++) {
              const probe = pmtud.pollProbe(now);
              if (probe === undefined) break;
              now += 30;
              if (probe.size <= pathMtu && rand() >= loss) pmtud.onProbeAcked(probe.size, now);
              else pmtud.onProbeLost(probe.size, now);
              expect(pmtud.maxDatagramSize).toBeLessThanOrEqual(Math.max(1200, Math.min(pathMtu, maxUdpPayload)));
            }
            expect(pmtud.state).toBe('search-complete');
            expect(pmtud.maxDatagramSize).toBeGreaterThanOrEqual(1200);
            if (loss === 0) {
              const best = Math.min(pathMtu, maxUdpPayload);
              expect(best - pmtud.maxDatagramSize).toBeLessThan(20);
            }
          }
        },
      ),
    );
  });

  it('MigrationController (server): moves only on the highest-numbered non-probing packet, respects amplification', () => {
    const addresses = [
      path('192.0.2.1', 1000, '198.51.100.1', 443),
      path('192.0.2.1', 1001, '198.51.100.1', 443),
      path('203.0.113.5', 2000, '198.51.100.1', 443),
      path('203.0.113.6', 3000, '198.51.100.1', 443),
      path('203.0.113.7', 4000, '198.51.100.1', 443),
    ];
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('datagram' as const),
        from: fc.integer({ min: 0, max: addresses.length - 1 }),
        pn: fc.integer({ min: 0, max: 200 }),
        nonProbing: fc.boolean(),
        bytes: fc.integer({ min: 20, max: 1500 }),
      }),
      fc.record({ kind: fc.constant('transmit' as const), answer: fc.boolean() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2000 }) }),
      fc.record({ kind: fc.constant('challenge' as const), from: fc.integer({ min: 0, max: addresses.length - 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const controller = new MigrationController({
          role: 'server',
          initialPath: addresses[0]!,
          random: counterRandom(),
          pto: 100,
          maxPaths: 3,
        });
        controller.onAddressValidated();
        controller.onHandshakeConfirmed();
        let now = 0;
        let largest = -1;
        const sentOnUnvalidated = new Map<string, number>();
        const receivedOn = new Map<string, number>();
        for (const s of steps) {
          const before = controller.activePath;
          if (s.kind === 'datagram') {
            const p = addresses[s.from]!;
            controller.onDatagram({ path: p, bytes: s.bytes, now, packetNumber: s.pn, nonProbing: s.nonProbing });
            receivedOn.set(p.key, (receivedOn.get(p.key) ?? 0) + s.bytes);
            const moved = controller.activePath !== before;
            const highest = s.nonProbing && s.pn > largest;
            if (moved) expect(highest && p.key !== before.key).toBe(true);
            if (highest) {
              largest = s.pn;
              expect(controller.activePath.key).toBe(p.key);
            }
          } else if (s.kind === 'transmit') {
            for (let tx = controller.pollTransmit(now); tx !== undefined; tx = controller.pollTransmit(now)) {
              // Count what goes to addresses still under the limit (a validated address stays lifted even if
              // its path later fails the MTU check).
              if (controller.allowance(tx.path.key) !== Number.POSITIVE_INFINITY) {
                const total = (sentOnUnvalidated.get(tx.path.key) ?? 0) + tx.padTo;
                sentOnUnvalidated.set(tx.path.key, total);
                expect(total).toBeLessThanOrEqual(3 * (receivedOn.get(tx.path.key) ?? 0));
              }
              controller.onDatagramSent(tx.path.key, tx.padTo);
              if (s.answer) {
                for (const f of tx.frames) if (f.type === 'path_challenge') controller.onPathResponse(f.data, now + 1);
              }
            }
          } else if (s.kind === 'wait') {
            now += s.ms;
            controller.onTimeout(now);
            const after = controller.activePath;
            // A timer only ever moves the connection back to a validated path.
            if (after !== before) expect(controller.pathStatus(after.key)?.validated).toBe(true);
          } else {
            const p = addresses[s.from]!;
            if (controller.pathStatus(p.key) !== undefined) controller.onPathChallenge(p.key, new Uint8Array(8));
          }
          expect(controller.pathStatus(controller.activePath.key)?.active).toBe(true);
          expect(controller.paths().length).toBeLessThanOrEqual(3);
          for (let e = controller.pollEvent(); e !== undefined; e = controller.pollEvent()) {
            if (e.type !== 'path-discarded') continue;
            sentOnUnvalidated.delete(e.path.key);
            receivedOn.delete(e.path.key);
          }
        }
      }),
    );
  });
});
