// Two endpoints' CID machinery talking over a lossy, reordering channel: our LocalCidIssuer's NEW_CONNECTION_ID frames
// go to a PeerCidPool, whose RETIRE_CONNECTION_ID frames come back. Random schedules of delivery, loss, lost
// acknowledgements (spurious retransmissions), rotations and path changes must never produce a protocol error between
// two correct implementations, must keep every limit, and must converge once the channel is quiet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidRouter, LocalCidIssuer, PeerCidPool, StatelessResetKey } from '../src/index.js';
import type { AnyNewConnectionIdFrame, AnyRetireConnectionIdFrame } from '../src/index.js';
import { bytes, seededRandom, toHexString } from './helpers.js';

type Transmission =
  | { to: 'pool'; frame: AnyNewConnectionIdFrame }
  | { to: 'issuer'; frame: AnyRetireConnectionIdFrame };

type Action =
  | { kind: 'send' }
  | { kind: 'deliver'; pick: number; ackLost: boolean }
  | { kind: 'drop'; pick: number }
  | { kind: 'rotate' }
  | { kind: 'migrate'; path: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'send' as const }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), ackLost: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'rotate' as const }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('migrate' as const), path: fc.nat({ max: 3 }) }), weight: 2 },
);

const PATHS = ['p0', 'p1', 'p2', 'p3'];

function simulate(peerLimit: number, localLimit: number, pathId: number | undefined, actions: Action[]): void {
  const router = new CidRouter<string>({ localCidLength: 8, random: seededRandom(11) });
  const issuer = new LocalCidIssuer({
    localLimit,
    pathId,
    random: seededRandom(peerLimit * 31 + localLimit),
    resetKey: new StatelessResetKey(bytes(32, 3)),
    isCidInUse: (c) => router.has(c),
  });
  const pool = new PeerCidPool({ activeConnectionIdLimit: peerLimit, pathId });
  // Path IDs other than 0 have no handshake CID: every CID, seq 0 included, arrives in a frame.
  if (issuer.handshakeCid !== undefined) pool.setHandshakeCid(issuer.handshakeCid.connectionId);
  issuer.setPeerActiveConnectionIdLimit(peerLimit);
  router.applyEvents(issuer.pollEvents(), 'conn');

  const channel: Transmission[] = [];
  const everOnPath = new Set<string>();

  const usePaths = () => {
    for (const e of pool.pollEvents()) expect(PATHS).toContain(e.pathKey); // then re-acquired below
    for (const path of PATHS.slice(0, 2)) {
      const c = pool.acquire(path);
      if (c === undefined) continue;
      const h = toHexString(c.connectionId) + '@' + path;
      everOnPath.add(h);
    }
  };
  /** The DCID of a packet the pool's side sends: the CID its first path uses (never one it retired). */
  const packetDcid = () => pool.current('p0')?.connectionId ?? pool.current('p1')?.connectionId ?? new Uint8Array(0);

  const check = () => {
    expect(pool.activeCount).toBeLessThanOrEqual(peerLimit);
    expect(issuer.activeCount).toBeLessThanOrEqual(Math.min(peerLimit, localLimit));
    // Everything the pool may use is still routable at the issuer's endpoint.
    for (const c of pool.connectionIds()) {
      expect(issuer.sequenceNumberOf(c.connectionId)).toBe(c.sequenceNumber);
      expect(router.get(c.connectionId)).toBe('conn');
    }
    // A CID is never on two paths (RFC 9000 §9.5).
    const inUse = PATHS.map((p) => pool.current(p)).filter((c) => c !== undefined).map((c) => c.sequenceNumber);
    expect(new Set(inUse).size).toBe(inUse.length);
    // ...and never handed to two different paths over time.
    const byCid = new Map<string, string>();
    for (const h of everOnPath) {
      const [cid, path] = h.split('@') as [string, string];
      expect(byCid.get(cid) ?? path).toBe(path);
      byCid.set(cid, path);
    }
  };

  const send = () => {
    for (const frame of issuer.pollFrames()) channel.push({ to: 'pool', frame });
    for (const frame of pool.pollFrames()) channel.push({ to: 'issuer', frame });
    router.applyEvents(issuer.pollEvents(), 'conn');
  };
  const deliver = (t: Transmission, ackLost: boolean) => {
    if (t.to === 'pool') {
      pool.onNewConnectionId(t.frame);
      if (ackLost) issuer.onFrameLost(t.frame.sequenceNumber);
      else issuer.onFrameAcked(t.frame.sequenceNumber);
    } else {
      issuer.onRetire(t.frame.sequenceNumber, packetDcid());
      router.applyEvents(issuer.pollEvents(), 'conn');
      if (ackLost) pool.onFrameLost(t.frame.sequenceNumber);
      else pool.onFrameAcked(t.frame.sequenceNumber);
    }
    usePaths();
  };
  const lose = (t: Transmission) => {
    if (t.to === 'pool') issuer.onFrameLost(t.frame.sequenceNumber);
    else pool.onFrameLost(t.frame.sequenceNumber);
  };

  usePaths();
  for (const a of actions) {
    if (a.kind === 'send') send();
    else if (a.kind === 'deliver' && channel.length > 0) deliver(channel.splice(a.pick % channel.length, 1)[0]!, a.ackLost);
    else if (a.kind === 'drop' && channel.length > 0) lose(channel.splice(a.pick % channel.length, 1)[0]!);
    else if (a.kind === 'rotate') {
      // An issuer rotates on a human timescale, long after the previous rotation's RETIRE frames were acknowledged;
      // rotating faster is what RFC 9000 §5.1.2 lets the receiver refuse (see the PeerCidPool unit tests).
      if (pool.pendingDemandedRetirementCount === 0) issuer.rotate();
      router.applyEvents(issuer.pollEvents(), 'conn');
    } else if (a.kind === 'migrate') {
      pool.release(PATHS[a.path]!);
      usePaths();
    }
    check();
  }

  // Quiet network: everything is delivered and acknowledged. Both sides must converge.
  for (let round = 0; round < 50 && (channel.length > 0 || issuer.hasPendingFrames || pool.hasPendingFrames); round++) {
    send();
    while (channel.length > 0) deliver(channel.shift()!, false);
    check();
  }
  expect(channel).toEqual([]);
  expect(issuer.awaitingRetirementCount).toBe(0);
  expect(pool.pendingRetirementCount).toBe(0);
  expect(issuer.activeCount).toBe(Math.min(peerLimit, localLimit));
  expect(pool.connectionIds().map((c) => c.sequenceNumber)).toEqual(issuer.connectionIds().map((c) => c.sequenceNumber));
  expect(router.size).toBe(issuer.connectionIds().length);
}

describe('issuer <-> pool simulation', () => {
  it('never errs, keeps the limits and converges (single path)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.array(action, { maxLength: 150 }), (peer, local, actions) => {
        simulate(peer, local, undefined, actions);
      }),
      { numRuns: 250 },
    );
  });

  it('the same with multipath frames on path 0 and on a later path ID', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.constantFrom(0, 4), fc.array(action, { maxLength: 120 }), (peer, pathId, actions) => {
        simulate(peer, 8, pathId, actions);
      }),
      { numRuns: 120 },
    );
  });
});
