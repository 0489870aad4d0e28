// Model-based test of PeerCidPool against a plain reference model: random NEW_CONNECTION_ID frames from a peer that
// sometimes misbehaves (replays, conflicting CIDs or tokens, bad Retire Prior To, floods), interleaved with path
// acquire / release and the fate of RETIRE frames. The reference model is written independently, with plain
// collections and loops, straight from RFC 9000 §5.1.1, §5.1.2, §9.5 and §19.15.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import type { NewConnectionIdFields } from '@pathquic/wire-codec';
import { PeerCidPool } from '../src/index.js';
import { toHexString } from './helpers.js';

const PATHS = ['p0', 'p1', 'p2', 'p3'];

interface RefCid {
  cid: string;
  token: string | undefined;
  path: string | undefined;
}
interface Model {
  limit: number;
  active: Map<number, RefCid>;
  retiredBelow: number;
  retiredByUs: Set<number>;
  pendingAll: Set<number>;
  pendingDemanded: Set<number>;
  /** Sequence numbers ever handed to a path: never again (RFC 9000 §9.5). */
  handedOut: Set<number>;
  /** Frames the peer sent, for replays and conflicts. */
  sent: NewConnectionIdFields[];
  nextSeq: number;
  peerRetirePriorTo: number;
  sentRetire: number[];
  closed: boolean;
}

let cidCounter = 0;
const freshCid = (len: number) => {
  cidCounter++;
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (cidCounter * 31 + i * 7) & 0xff;
  b[0] = cidCounter & 0xff;
  b[len - 1] = (cidCounter >> 8) & 0xff;
  return b;
};
const tokenFor = (n: number) => new Uint8Array(16).fill(n & 0xff);

/** What RFC 9000 says should happen to `f`: an error code, or the new model state. */
function referenceApply(m: Model, f: NewConnectionIdFields): number | undefined {
  const seq = f.sequenceNumber;
  const rpt = f.retirePriorTo;
  const cid = toHexString(f.connectionId);
  const token = toHexString(f.statelessResetToken);
  if (rpt > seq) return TransportErrorCode.FRAME_ENCODING_ERROR;
  const known = m.active.get(seq);
  if (known && (known.cid !== cid || (known.token !== undefined && known.token !== token))) {
    return TransportErrorCode.PROTOCOL_VIOLATION;
  }
  for (const [s, c] of m.active) if (s !== seq && c.cid === cid) return TransportErrorCode.PROTOCOL_VIOLATION;

  const toRetire: number[] = [];
  for (let s = m.retiredBelow; s < rpt; s++) if (!m.retiredByUs.has(s)) toRetire.push(s);
  const stillActive = [...m.active.keys()].filter((s) => s >= rpt);
  const adds = !known && seq >= Math.max(rpt, m.retiredBelow) && !m.retiredByUs.has(seq);
  if (stillActive.length + (adds ? 1 : 0) > m.limit) return TransportErrorCode.CONNECTION_ID_LIMIT_ERROR;
  if (m.pendingDemanded.size + toRetire.length > 2 * m.limit) return TransportErrorCode.CONNECTION_ID_LIMIT_ERROR;

  for (const s of toRetire) {
    m.active.delete(s);
    m.pendingAll.add(s);
    m.pendingDemanded.add(s);
  }
  if (rpt > m.retiredBelow) {
    for (const s of [...m.retiredByUs]) if (s < rpt) m.retiredByUs.delete(s);
    m.retiredBelow = rpt;
  }
  if (adds) m.active.set(seq, { cid, token, path: undefined });
  return undefined;
}

function checkAgainst(m: Model, p: PeerCidPool): void {
  const real = p.connectionIds();
  expect(real.map((c) => c.sequenceNumber)).toEqual([...m.active.keys()].sort((a, b) => a - b));
  for (const c of real) expect(toHexString(c.connectionId)).toBe(m.active.get(c.sequenceNumber)!.cid);
  expect(p.activeCount).toBeLessThanOrEqual(m.limit);
  expect(p.pendingRetirementCount).toBe(m.pendingAll.size);
  expect(p.pendingDemandedRetirementCount).toBeLessThanOrEqual(2 * m.limit);
  const inUse = new Set<number>();
  for (const path of PATHS) {
    const cur = p.current(path);
    const modelSeq = [...m.active].find(([, c]) => c.path === path)?.[0];
    expect(cur?.sequenceNumber).toBe(modelSeq);
    if (cur) {
      expect(inUse.has(cur.sequenceNumber)).toBe(false); // a CID is never on two paths
      inUse.add(cur.sequenceNumber);
    }
  }
}

type Kind = 'fresh' | 'flood' | 'raise' | 'replay' | 'conflictCid' | 'conflictToken' | 'reuseCid' | 'badRpt' | 'gap';

class NewCid implements fc.Command<Model, PeerCidPool> {
  constructor(
    readonly kind: Kind,
    readonly pick: number,
  ) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, p: PeerCidPool): void {
    const f = this.frame(m);
    // Paths whose CID the frame will retire (for the event check).
    const retiredPaths = [...m.active]
      .filter(([s, c]) => s < f.retirePriorTo && c.path !== undefined)
      .map(([, c]) => c.path);
    const probe: Model = structuredClone({ ...m, sent: [] }) as Model;
    const expectedError = referenceApply(probe, f);
    try {
      p.onNewConnectionId(f);
    } catch (e) {
      expect(e).toBeInstanceOf(QuicCodecError);
      expect((e as QuicCodecError).code).toBe(expectedError);
      m.closed = true;
      return;
    }
    expect(expectedError).toBeUndefined();
    referenceApply(m, f);
    m.sent.push(f);
    const events = p.pollEvents();
    expect(events.map((e) => e.pathKey).sort()).toEqual(retiredPaths.sort());
    checkAgainst(m, p);
  }
  private frame(m: Model): NewConnectionIdFields {
    const earlier = m.sent[this.pick % Math.max(1, m.sent.length)];
    const next = (): NewConnectionIdFields => {
      const seq = m.nextSeq++;
      return { sequenceNumber: seq, retirePriorTo: m.peerRetirePriorTo, connectionId: freshCid(8), statelessResetToken: tokenFor(seq) };
    };
    switch (this.kind) {
      case 'fresh': {
        // A well-behaved issuer: when the new CID would exceed the limit, Retire Prior To retires the oldest ones.
        const f = next();
        const seqs = [...m.active.keys()].filter((s) => s >= m.peerRetirePriorTo).sort((a, b) => a - b);
        const excess = seqs.length + 1 - m.limit;
        if (excess > 0) m.peerRetirePriorTo = Math.max(m.peerRetirePriorTo, seqs[excess - 1]! + 1);
        return { ...f, retirePriorTo: m.peerRetirePriorTo };
      }
      case 'flood': // ignores the limit
        return next();
      case 'gap': // a frame overtaking its predecessors
        m.nextSeq += 1 + (this.pick % 2);
        return next();
      case 'raise': {
        const f = next();
        m.peerRetirePriorTo = Math.min(f.sequenceNumber, m.peerRetirePriorTo + 1 + (this.pick % 3));
        return { ...f, retirePriorTo: m.peerRetirePriorTo };
      }
      case 'replay':
        return earlier ?? next();
      case 'conflictCid':
        return earlier ? { ...earlier, connectionId: freshCid(8) } : next();
      case 'conflictToken':
        return earlier ? { ...earlier, statelessResetToken: tokenFor(earlier.sequenceNumber + 100) } : next();
      case 'reuseCid':
        return earlier ? { ...next(), connectionId: earlier.connectionId } : next();
      case 'badRpt':
        return { ...next(), retirePriorTo: m.nextSeq + 5 };
    }
  }
  toString = () => `ncid(${this.kind}, ${this.pick})`;
}

class Acquire implements fc.Command<Model, PeerCidPool> {
  constructor(readonly path: string) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, p: PeerCidPool): void {
    const has = [...m.active].find(([, c]) => c.path === this.path);
    let expected = has?.[0];
    if (expected === undefined) {
      const free = [...m.active].filter(([, c]) => c.path === undefined).map(([s]) => s);
      expected = free.length ? Math.min(...free) : undefined;
      if (expected !== undefined) {
        expect(m.handedOut.has(expected)).toBe(false);
        m.handedOut.add(expected);
        m.active.get(expected)!.path = this.path;
      }
    }
    expect(p.acquire(this.path)?.sequenceNumber).toBe(expected);
    checkAgainst(m, p);
  }
  toString = () => `acquire(${this.path})`;
}

class Release implements fc.Command<Model, PeerCidPool> {
  constructor(readonly path: string) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, p: PeerCidPool): void {
    const has = [...m.active].find(([, c]) => c.path === this.path);
    expect(p.release(this.path)).toBe(has !== undefined);
    if (has) {
      m.active.delete(has[0]);
      m.retiredByUs.add(has[0]);
      m.pendingAll.add(has[0]);
    }
    checkAgainst(m, p);
  }
  toString = () => `release(${this.path})`;
}

class RetireFrames implements fc.Command<Model, PeerCidPool> {
  constructor(
    readonly fate: 'send' | 'ack' | 'lose',
    readonly pick: number,
  ) {}
  check = (m: Readonly<Model>) => !m.closed;
  run(m: Model, p: PeerCidPool): void {
    if (this.fate === 'send') {
      for (const f of p.pollFrames()) {
        expect(m.pendingAll.has(f.sequenceNumber)).toBe(true); // only retirements owed
        m.sentRetire.push(f.sequenceNumber);
      }
    } else if (m.sentRetire.length > 0) {
      const [seq] = m.sentRetire.splice(this.pick % m.sentRetire.length, 1);
      if (this.fate === 'ack') {
        p.onFrameAcked(seq!);
        m.pendingAll.delete(seq!);
        m.pendingDemanded.delete(seq!);
      } else {
        p.onFrameLost(seq!);
      }
    }
    checkAgainst(m, p);
  }
  toString = () => `retireFrames(${this.fate}, ${this.pick})`;
}

// Mostly a well-behaved peer, so runs last long enough to reach the limits; misbehaviour ends a run (the connection
// would close).
const kind: fc.Arbitrary<Kind> = fc.oneof(
  { arbitrary: fc.constant('fresh' as const), weight: 12 },
  { arbitrary: fc.constant('raise' as const), weight: 10 },
  { arbitrary: fc.constantFrom('gap' as const, 'replay' as const), weight: 4 },
  {
    arbitrary: fc.constantFrom('flood' as const, 'conflictCid' as const, 'conflictToken' as const, 'reuseCid' as const, 'badRpt' as const),
    weight: 1,
  },
);
const commands = [
  fc.tuple(kind, fc.nat()).map(([k, p]) => new NewCid(k, p)),
  fc.constantFrom(...PATHS).map((p) => new Acquire(p)),
  fc.constantFrom(...PATHS).map((p) => new Release(p)),
  fc.tuple(fc.constantFrom('send' as const, 'ack' as const, 'ack' as const, 'lose' as const), fc.nat()).map(
    ([f, p]) => new RetireFrames(f, p),
  ),
];

describe('PeerCidPool model', () => {
  it('matches the reference model: limits, retirements, errors, and never the same CID on two paths or twice', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.commands(commands, { maxCommands: 150, size: 'large' }), (limit, cmds) => {
        const setup = () => {
          const pool = new PeerCidPool({ activeConnectionIdLimit: limit });
          const handshake = freshCid(8);
          pool.setHandshakeCid(handshake);
          const model: Model = {
            limit,
            active: new Map([[0, { cid: toHexString(handshake), token: undefined, path: undefined }]]),
            retiredBelow: 0,
            retiredByUs: new Set(),
            pendingAll: new Set(),
            pendingDemanded: new Set(),
            handedOut: new Set(),
            sent: [],
            nextSeq: 1,
            peerRetirePriorTo: 0,
            sentRetire: [],
            closed: false,
          };
          return { model, real: pool };
        };
        fc.modelRun(setup, cmds);
      }),
      { numRuns: 300 },
    );
  });
});
