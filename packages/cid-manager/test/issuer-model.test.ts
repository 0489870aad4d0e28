// Model-based test of LocalCidIssuer: random sequences of limit changes, polls, acks, losses, peer retirements (valid
// and invalid) and rotations. The model predicts which retirements are errors and checks the limits after each step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { CidRouter, LocalCidIssuer, StatelessResetKey, type CidEvent } from '../src/index.js';
import { bytes, seededRandom, toHexString } from './helpers.js';

interface Model {
  localLimit: number;
  peerLimit: number | undefined;
  /** Largest sequence number seen in a frame (or the handshake one). */
  highestSent: number;
  retirePriorTo: number;
  /** Sequence number -> CID (hex) of CIDs not retired, from the events. */
  live: Map<number, string>;
  inFlight: number[];
  everIssued: Set<string>;
  /** Largest sequence number ever issued; -1 = none. */
  maxIssued: number;
  /** Sequence numbers the peer was ever told about (frames polled, handshake and preferred_address CIDs). */
  everSent: Set<number>;
  closed: boolean;
}
interface Real {
  issuer: LocalCidIssuer;
  router: CidRouter<string>;
}

function absorb(m: Model, r: Real, events: CidEvent[]): void {
  for (const e of events) {
    const h = toHexString(e.cid);
    if (e.type === 'issued') {
      expect(m.everIssued.has(h)).toBe(false); // RFC 9000 §5.1: never issued twice
      m.everIssued.add(h);
      expect(e.sequenceNumber).toBe(m.maxIssued + 1); // RFC 9000 §5.1.1: sequence numbers increase by 1
      m.maxIssued = e.sequenceNumber;
      expect(m.live.has(e.sequenceNumber)).toBe(false);
      m.live.set(e.sequenceNumber, h);
    } else {
      expect(m.live.get(e.sequenceNumber)).toBe(h);
      m.live.delete(e.sequenceNumber);
    }
  }
  r.router.applyEvents(events, 'c');
}

function checkInvariants(m: Model, r: Real): void {
  const active = [...m.live.keys()].filter((s) => s >= m.retirePriorTo).length;
  expect(r.issuer.activeCount).toBe(active);
  if (m.peerLimit !== undefined) expect(active).toBeLessThanOrEqual(Math.min(m.peerLimit, m.localLimit)); // §5.1.1
  expect(r.router.size).toBe(m.live.size);
  for (const [seq, h] of m.live) {
    expect(r.issuer.sequenceNumberOf(Buffer.from(h, 'hex'))).toBe(seq);
    expect(r.router.get(Buffer.from(h, 'hex'))).toBe('c');
  }
}

class SetLimit implements fc.Command<Model, Real> {
  constructor(readonly limit: number) {}
  check = (m: Readonly<Model>) => !m.closed && (m.peerLimit === undefined || this.limit >= m.peerLimit);
  run(m: Model, r: Real): void {
    r.issuer.setPeerActiveConnectionIdLimit(this.limit);
    m.peerLimit = this.limit;
    absorb(m, r, r.issuer.pollEvents());
    checkInvariants(m, r);
  }
  toString = () => `setLimit(${this.limit})`;
}

class Poll implements fc.Command<Model, Real> {
  constructor(readonly max: number) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, r: Real): void {
    const frames = r.issuer.pollFrames(this.max);
    absorb(m, r, r.issuer.pollEvents());
    expect(frames.length).toBeLessThanOrEqual(this.max);
    for (const f of frames) {
      expect(f.type).toBe('new_connection_id');
      expect(f.retirePriorTo).toBe(m.retirePriorTo);
      expect(f.sequenceNumber).toBeGreaterThanOrEqual(m.retirePriorTo);
      expect(m.live.get(f.sequenceNumber)).toBe(toHexString(f.connectionId));
      expect(m.inFlight).not.toContain(f.sequenceNumber);
      m.inFlight.push(f.sequenceNumber);
      m.everSent.add(f.sequenceNumber);
      m.highestSent = Math.max(m.highestSent, f.sequenceNumber);
    }
    if (m.peerLimit !== undefined && frames.length < this.max) {
      // Topped up: exactly min(peer, local) active after a poll that was not cut short.
      expect(r.issuer.activeCount).toBe(Math.min(m.peerLimit, m.localLimit));
    }
    checkInvariants(m, r);
  }
  toString = () => `poll(${this.max})`;
}

class Fate implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly lost: boolean,
  ) {}
  check = (m: Readonly<Model>) => !m.closed && m.inFlight.length > 0;
  run(m: Model, r: Real): void {
    const [seq] = m.inFlight.splice(this.pick % m.inFlight.length, 1);
    if (this.lost) r.issuer.onFrameLost(seq!);
    else r.issuer.onFrameAcked(seq!);
    checkInvariants(m, r);
  }
  toString = () => `${this.lost ? 'lose' : 'ack'}(${this.pick})`;
}

class PeerRetire implements fc.Command<Model, Real> {
  constructor(
    readonly seqPick: number,
    readonly arrivalPick: number,
  ) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, r: Real): void {
    const seq = this.seqPick % (m.highestSent + 3);
    const liveCids = [...m.live.values()];
    const arrival = this.arrivalPick < liveCids.length ? liveCids[this.arrivalPick]! : 'ffffffffffffffff';
    const expectError = seq > m.highestSent || m.live.get(seq) === arrival; // RFC 9000 §19.16
    try {
      r.issuer.onRetire(seq, Buffer.from(arrival, 'hex'));
      expect(expectError).toBe(false);
    } catch (e) {
      expect(expectError).toBe(true);
      expect(e).toBeInstanceOf(QuicCodecError);
      expect((e as QuicCodecError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
      m.closed = true;
      return;
    }
    m.inFlight = m.inFlight.filter((s) => s !== seq);
    absorb(m, r, r.issuer.pollEvents());
    expect(m.live.has(seq)).toBe(false);
    checkInvariants(m, r);
  }
  toString = () => `retire(${this.seqPick}, ${this.arrivalPick})`;
}

class Rotate implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, r: Real): void {
    const waiting = [...m.live.keys()].some((s) => s < m.retirePriorTo);
    // RFC 9000 §5.1.2: Retire Prior To moves past every CID the peer was sent, stopping at the first unsent one.
    const unsent = [...m.live.keys()].filter((s) => !m.everSent.has(s));
    const target = Math.min(m.maxIssued + 1, ...unsent);
    const expected = m.peerLimit !== undefined && !waiting && target > m.retirePriorTo;
    expect(r.issuer.rotate()).toBe(expected);
    if (expected) m.retirePriorTo = target;
    expect(r.issuer.retirePriorTo).toBe(m.retirePriorTo);
    absorb(m, r, r.issuer.pollEvents());
    checkInvariants(m, r);
  }
  toString = () => 'rotate';
}

const commands = [
  fc.integer({ min: 2, max: 10 }).map((n) => new SetLimit(n)),
  fc.integer({ min: 1, max: 6 }).map((n) => new Poll(n)),
  fc.tuple(fc.nat(), fc.boolean()).map(([p, l]) => new Fate(p, l)),
  fc.tuple(fc.nat(), fc.nat({ max: 12 })).map(([s, a]) => new PeerRetire(s, a)),
  fc.constant(new Rotate()),
];

describe('LocalCidIssuer model', () => {
  it('never exceeds the limits, never reissues a CID, keeps the router in step, and flags bad retirements', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.boolean(), fc.commands(commands, { maxCommands: 100, size: 'large' }), (localLimit, preferred, cmds) => {
        const setup = () => {
          const issuer = new LocalCidIssuer({
            localLimit: preferred ? Math.max(2, localLimit) : localLimit,
            preferredAddress: preferred,
            random: seededRandom(localLimit),
            resetKey: new StatelessResetKey(bytes(32, 1)),
          });
          const router = new CidRouter<string>({ localCidLength: 8, random: seededRandom(2) });
          const model: Model = {
            localLimit: preferred ? Math.max(2, localLimit) : localLimit,
            peerLimit: undefined,
            highestSent: preferred ? 1 : 0,
            retirePriorTo: 0,
            live: new Map(),
            inFlight: [],
            everIssued: new Set(),
            maxIssued: -1,
            everSent: new Set(preferred ? [0, 1] : [0]),
            closed: false,
          };
          absorb(model, { issuer, router }, issuer.pollEvents());
          return { model, real: { issuer, router } };
        };
        fc.modelRun(setup, cmds);
      }),
      { numRuns: 300 },
    );
  });
});
