import { describe, expect, it } from 'vitest';
import { FrameType, TransportErrorCode } from '@pathquic/wire-codec';
import type { NewConnectionIdFrame, PathNewConnectionIdFrame } from '@pathquic/wire-codec';
import {
  CidConfigError,
  type CidGenerator,
  LocalCidIssuer,
  type LocalCidIssuerOptions,
  RandomCidGenerator,
  StatelessResetKey,
} from '../src/index.js';
import { bytes, codecError, hex, seededRandom } from './helpers.js';

const resetKey = new StatelessResetKey(bytes(32, 0x5a));
const make = (opts: LocalCidIssuerOptions = {}) => new LocalCidIssuer({ random: seededRandom(7), resetKey, ...opts });
const seqs = (frames: { sequenceNumber: number }[]) => frames.map((f) => f.sequenceNumber);

/** Generator returning the given CIDs in order (to force collisions). */
function listGenerator(length: number, cids: Uint8Array[]): CidGenerator {
  let i = 0;
  return {
    length,
    generate: () => {
      const c = cids[i++];
      if (c === undefined) throw new Error('list exhausted');
      return c;
    },
  };
}

describe('LocalCidIssuer: handshake CID and preferred address (RFC 9000 §5.1.1)', () => {
  it('generates sequence number 0 and reports it to the router', () => {
    const issuer = make();
    const seq0 = issuer.handshakeCid!;
    expect(seq0.sequenceNumber).toBe(0);
    expect(seq0.connectionId.length).toBe(8);
    expect(seq0.statelessResetToken).toEqual(resetKey.token(seq0.connectionId));
    expect(issuer.pollEvents()).toEqual([
      { type: 'issued', cid: seq0.connectionId, sequenceNumber: 0, pathId: 0, statelessResetToken: seq0.statelessResetToken },
    ]);
    expect(issuer.pollEvents()).toEqual([]);
  });

  it('uses (a copy of) a given handshake CID, which must have the generator’s length', () => {
    const cid = hex('0102030405060708');
    const issuer = make({ handshakeCid: cid });
    cid[0] = 0xff;
    expect(issuer.handshakeCid!.connectionId).toEqual(hex('0102030405060708'));
    expect(() => make({ handshakeCid: hex('01020304') })).toThrow(CidConfigError);
  });

  it('issues sequence number 1 for preferred_address, which counts toward the limit and is never framed', () => {
    const issuer = make({ preferredAddress: true });
    expect(issuer.preferredAddressCid!.sequenceNumber).toBe(1);
    issuer.setPeerActiveConnectionIdLimit(3);
    expect(seqs(issuer.pollFrames())).toEqual([2]);
    expect(issuer.activeCount).toBe(3);
  });

  it('rejects preferred_address with zero-length CIDs, on another path, or with a local limit of 1', () => {
    expect(() => make({ generator: new RandomCidGenerator(0), preferredAddress: true })).toThrow(CidConfigError);
    expect(() => make({ pathId: 2, preferredAddress: true })).toThrow(CidConfigError);
    expect(() => make({ localLimit: 1, preferredAddress: true })).toThrow(CidConfigError);
  });
});

describe('LocalCidIssuer: issuing up to the limits (RFC 9000 §5.1.1)', () => {
  it('issues nothing before the peer’s active_connection_id_limit is known', () => {
    const issuer = make();
    expect(issuer.pollFrames()).toEqual([]);
    expect(issuer.hasPendingFrames).toBe(false);
  });

  it('hasPendingFrames answers without issuing anything', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(3);
    issuer.pollFrames();
    issuer.pollEvents();
    issuer.onRetire(1, issuer.handshakeCid!.connectionId);
    issuer.pollEvents();
    issuer.pollFrames(); // the replacement (seq 3) goes out
    expect(issuer.hasPendingFrames).toBe(false);
    issuer.onFrameLost(3);
    expect(issuer.hasPendingFrames).toBe(true);
    expect(issuer.pollEvents()).toEqual([]);
  });

  it('tops up to the peer limit, counting the handshake CID', () => {
    const issuer = make();
    issuer.pollEvents();
    issuer.setPeerActiveConnectionIdLimit(2);
    const frames = issuer.pollFrames() as NewConnectionIdFrame[];
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.type).toBe('new_connection_id');
    expect(f.sequenceNumber).toBe(1);
    expect(f.retirePriorTo).toBe(0);
    expect(f.statelessResetToken).toEqual(resetKey.token(f.connectionId));
    expect(issuer.pollEvents()).toEqual([
      { type: 'issued', cid: f.connectionId, sequenceNumber: 1, pathId: 0, statelessResetToken: f.statelessResetToken },
    ]);
    expect(issuer.pollFrames()).toEqual([]);
  });

  it('never exceeds its local cap, whatever the peer allows', () => {
    const issuer = make({ localLimit: 3 });
    issuer.setPeerActiveConnectionIdLimit(100);
    expect(seqs(issuer.pollFrames())).toEqual([1, 2]);
    expect(issuer.activeCount).toBe(3);
  });

  it('issues more when the peer limit grows, never fewer frames than queued', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    issuer.pollFrames();
    issuer.setPeerActiveConnectionIdLimit(4);
    expect(seqs(issuer.pollFrames())).toEqual([2, 3]);
  });

  it('local limit 1 keeps only the handshake CID (as QUIC-LB advises for plaintext and failover CIDs)', () => {
    const issuer = make({ localLimit: 1 });
    issuer.setPeerActiveConnectionIdLimit(8);
    expect(issuer.pollFrames()).toEqual([]);
  });

  it('refuses a peer limit that shrinks (transport parameters never do, RFC 9000 §7.4.1)', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(4);
    expect(() => issuer.setPeerActiveConnectionIdLimit(3)).toThrow(CidConfigError);
    issuer.setPeerActiveConnectionIdLimit(4);
  });

  it('treats a peer limit below 2 as TRANSPORT_PARAMETER_ERROR (RFC 9000 §18.2)', () => {
    const err = codecError(() => make().setPeerActiveConnectionIdLimit(1));
    expect(err.code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  it('pollFrames(max) leaves the rest queued', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(5);
    expect(seqs(issuer.pollFrames(2))).toEqual([1, 2]);
    expect(issuer.hasPendingFrames).toBe(true);
    expect(seqs(issuer.pollFrames())).toEqual([3, 4]);
    expect(issuer.hasPendingFrames).toBe(false);
  });

  it('rejects bad options', () => {
    expect(() => make({ localLimit: 0 })).toThrow(CidConfigError);
    expect(() => make({ pathId: -1 })).toThrow(CidConfigError);
    expect(() => make({ pathId: 2 ** 32 })).toThrow(CidConfigError);
    expect(() => make({ generator: { length: 3, generate: () => new Uint8Array(3) } })).toThrow(CidConfigError);
  });
});

describe('LocalCidIssuer: loss and acknowledgement (RFC 9000 §13.3)', () => {
  it('sends a lost frame again, once, with the current Retire Prior To', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(3);
    const [f1] = issuer.pollFrames();
    issuer.onFrameLost(1);
    issuer.onFrameLost(1);
    const again = issuer.pollFrames();
    expect(again).toEqual([f1]);
  });

  it('does not resend an acknowledged frame, nor react to unknown sequence numbers', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(3);
    issuer.pollFrames();
    issuer.onFrameAcked(1);
    issuer.onFrameLost(1);
    issuer.onFrameLost(99);
    issuer.onFrameAcked(99);
    expect(issuer.pollFrames()).toEqual([]);
  });

  it('does not resend a frame for a CID the peer retired meanwhile', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    const [f1] = issuer.pollFrames();
    issuer.onRetire(1, issuer.handshakeCid!.connectionId);
    issuer.onFrameLost(1);
    const frames = issuer.pollFrames();
    expect(seqs(frames)).toEqual([2]); // the replacement only
    expect(frames[0]!.connectionId).not.toEqual(f1!.connectionId);
  });
});

describe('LocalCidIssuer: RETIRE_CONNECTION_ID (RFC 9000 §19.16)', () => {
  it('retires, reports it and issues a replacement', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    const [f1] = issuer.pollFrames();
    issuer.pollEvents();
    const seq0 = issuer.handshakeCid!.connectionId;
    issuer.onRetire(0, f1!.connectionId);
    const events = issuer.pollEvents();
    expect(events[0]).toEqual({ type: 'retired', cid: seq0, sequenceNumber: 0, pathId: 0 });
    expect(events[1]).toMatchObject({ type: 'issued', sequenceNumber: 2 });
    expect(seqs(issuer.pollFrames())).toEqual([2]);
    expect(issuer.sequenceNumberOf(seq0)).toBeUndefined();
    expect(issuer.connectionIds().map((c) => c.sequenceNumber)).toEqual([1, 2]);
  });

  it('tolerates retiring twice', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    const [f1] = issuer.pollFrames();
    issuer.onRetire(0, f1!.connectionId);
    issuer.pollEvents();
    issuer.onRetire(0, f1!.connectionId);
    expect(issuer.pollEvents()).toEqual([]);
  });

  it('PROTOCOL_VIOLATION for a sequence number never sent, including one issued but still queued', () => {
    const issuer = make();
    const seq0 = issuer.handshakeCid!.connectionId;
    let err = codecError(() => issuer.onRetire(1, seq0));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect(err.frameType).toBe(FrameType.RETIRE_CONNECTION_ID);
    issuer.setPeerActiveConnectionIdLimit(3); // seqs 1 and 2 issued, not yet sent
    err = codecError(() => issuer.onRetire(2, seq0));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    issuer.pollFrames();
    issuer.onRetire(2, seq0);
    err = codecError(() => issuer.onRetire(Number.MAX_SAFE_INTEGER, seq0));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('PROTOCOL_VIOLATION for retiring the CID the packet was sent to', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    const [f1] = issuer.pollFrames();
    const err = codecError(() => issuer.onRetire(1, f1!.connectionId));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect(issuer.sequenceNumberOf(f1!.connectionId)).toBe(1); // nothing changed
  });

  it('zero-length CIDs: no frames, no events, and RETIRE_CONNECTION_ID is PROTOCOL_VIOLATION', () => {
    const issuer = make({ generator: new RandomCidGenerator(0) });
    issuer.setPeerActiveConnectionIdLimit(8);
    expect(issuer.handshakeCid!.connectionId.length).toBe(0);
    expect(issuer.pollFrames()).toEqual([]);
    expect(issuer.pollEvents()).toEqual([]);
    expect(issuer.rotate()).toBe(false);
    const err = codecError(() => issuer.onRetire(0, new Uint8Array(0)));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });
});

describe('LocalCidIssuer: forced rotation with Retire Prior To (RFC 9000 §5.1.2)', () => {
  it('needs the peer limit first', () => {
    expect(make().rotate()).toBe(false);
  });

  it('raises Retire Prior To past every CID and issues a fresh set', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(3);
    const first = issuer.pollFrames();
    expect(issuer.rotate()).toBe(true);
    expect(issuer.retirePriorTo).toBe(3);
    const frames = issuer.pollFrames();
    expect(seqs(frames)).toEqual([3, 4, 5]);
    for (const f of frames) expect(f.retirePriorTo).toBe(3);
    expect(issuer.activeCount).toBe(3);
    expect(issuer.awaitingRetirementCount).toBe(3);
    // old frames are not resent: the peer retires them anyway
    issuer.onFrameLost(first[0]!.sequenceNumber);
    expect(issuer.pollFrames()).toEqual([]);
  });

  it('refuses to rotate again until the peer retired the previous set', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(2);
    issuer.pollFrames();
    issuer.rotate();
    const [f2, f3] = issuer.pollFrames();
    expect(issuer.rotate()).toBe(false);
    issuer.onRetire(0, f2!.connectionId);
    expect(issuer.rotate()).toBe(false);
    issuer.onRetire(1, f3!.connectionId);
    expect(issuer.awaitingRetirementCount).toBe(0);
    expect(issuer.rotate()).toBe(true);
    expect(issuer.retirePriorTo).toBe(4);
  });

  it('keeps CIDs that were never sent: Retire Prior To stops at the first of them, no number is skipped', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(4);
    expect(seqs(issuer.pollFrames(1))).toEqual([1]); // seqs 2 and 3 stay unsent
    issuer.pollEvents();
    expect(issuer.rotate()).toBe(true);
    expect(issuer.retirePriorTo).toBe(2);
    expect(issuer.pollEvents().map((e) => [e.type, e.sequenceNumber])).toEqual([
      ['issued', 4],
      ['issued', 5],
    ]);
    const frames = issuer.pollFrames();
    expect(seqs(frames)).toEqual([2, 3, 4, 5]);
    for (const f of frames) expect(f.retirePriorTo).toBe(2);
    expect(issuer.awaitingRetirementCount).toBe(2);
  });

  it('has nothing to rotate while the peer holds none of our CIDs (a later path ID before any frame was sent)', () => {
    const issuer = make({ pathId: 4 });
    issuer.setPeerActiveConnectionIdLimit(2);
    expect(issuer.rotate()).toBe(false);
    issuer.pollFrames();
    expect(issuer.rotate()).toBe(true);
    expect(issuer.retirePriorTo).toBe(2);
  });
});

describe('LocalCidIssuer: multipath (draft-ietf-quic-multipath-21)', () => {
  it('issues PATH_NEW_CONNECTION_ID for its path, starting at sequence number 0', () => {
    const issuer = make({ pathId: 3 });
    expect(issuer.handshakeCid).toBeUndefined();
    issuer.setPeerActiveConnectionIdLimit(2);
    const frames = issuer.pollFrames() as PathNewConnectionIdFrame[];
    expect(frames.map((f) => [f.type, f.pathId, f.sequenceNumber])).toEqual([
      ['path_new_connection_id', 3, 0],
      ['path_new_connection_id', 3, 1],
    ]);
    expect(issuer.pollEvents().every((e) => e.pathId === 3)).toBe(true);
    const err = codecError(() => issuer.onRetire(5, frames[0]!.connectionId));
    expect(err.frameType).toBe(FrameType.PATH_RETIRE_CONNECTION_ID);
  });

  it('path 0 keeps the handshake CID as sequence number 0', () => {
    const issuer = make({ pathId: 0 });
    expect(issuer.handshakeCid!.sequenceNumber).toBe(0);
    issuer.setPeerActiveConnectionIdLimit(2);
    expect(issuer.pollFrames()[0]).toMatchObject({ type: 'path_new_connection_id', pathId: 0, sequenceNumber: 1 });
  });

  it('rejects zero-length CIDs and a handshake CID on another path', () => {
    expect(() => make({ pathId: 1, generator: new RandomCidGenerator(0) })).toThrow(CidConfigError);
    expect(() => make({ pathId: 1, handshakeCid: hex('0102030405060708') })).toThrow(CidConfigError);
  });
});

describe('LocalCidIssuer: uniqueness', () => {
  it('draws again when a CID is already in use on the endpoint or on this connection (RFC 9000 §5.1)', () => {
    const a = hex('aaaaaaaa');
    const b = hex('bbbbbbbb');
    const c = hex('cccccccc');
    const issuer = make({ generator: listGenerator(4, [a, a, b, c]), isCidInUse: (cid) => cid[0] === 0xbb });
    issuer.setPeerActiveConnectionIdLimit(2);
    expect(issuer.handshakeCid!.connectionId).toEqual(a);
    expect(issuer.pollFrames()[0]!.connectionId).toEqual(c);
  });

  it('gives up with CidConfigError when the space is exhausted', () => {
    const same = hex('01020304');
    const issuer = make({ generator: listGenerator(4, Array.from({ length: 40 }, () => same)) });
    expect(() => issuer.setPeerActiveConnectionIdLimit(2)).toThrow(CidConfigError);
  });

  it('rejects a generator that lies about its length', () => {
    expect(() => make({ generator: { length: 8, generate: () => new Uint8Array(4) } })).toThrow(CidConfigError);
  });

  it('tokens are stateless: another issuer with the same key derives the same token for a CID', () => {
    const one = make();
    const two = new LocalCidIssuer({ resetKey, handshakeCid: one.handshakeCid!.connectionId });
    expect(two.handshakeCid!.statelessResetToken).toEqual(one.handshakeCid!.statelessResetToken);
  });
});

describe('LocalCidIssuer: discard', () => {
  it('reports every remaining CID as retired and stops issuing', () => {
    const issuer = make();
    issuer.setPeerActiveConnectionIdLimit(3);
    issuer.pollFrames();
    issuer.pollEvents();
    issuer.discard();
    expect(issuer.pollEvents().map((e) => [e.type, e.sequenceNumber])).toEqual([
      ['retired', 0],
      ['retired', 1],
      ['retired', 2],
    ]);
    expect(issuer.pollFrames()).toEqual([]);
    expect(issuer.connectionIds()).toEqual([]);
  });
});
