import { describe, expect, it } from 'vitest';
import { FrameType, TransportErrorCode } from '@pathquic/wire-codec';
import type { NewConnectionIdFields } from '@pathquic/wire-codec';
import { CidConfigError, PeerCidPool, type PeerCidPoolOptions } from '../src/index.js';
import { bytes, codecError, hex } from './helpers.js';

const cidOf = (seq: number) => Uint8Array.from([0xc0, seq, 0, 0, 0, 0, 0, seq]);
const tokenOf = (seq: number) => bytes(16, 0x10 + seq);
const ncid = (seq: number, rpt = 0, cid = cidOf(seq), token = tokenOf(seq)): NewConnectionIdFields => ({
  sequenceNumber: seq,
  retirePriorTo: rpt,
  connectionId: cid,
  statelessResetToken: token,
});
function pool(opts: PeerCidPoolOptions = {}, handshake: Uint8Array | undefined = cidOf(0)): PeerCidPool {
  const p = new PeerCidPool({ activeConnectionIdLimit: 4, ...opts });
  if (handshake !== undefined) p.setHandshakeCid(handshake);
  return p;
}
const retired = (p: PeerCidPool) => p.pollFrames().map((f) => f.sequenceNumber);
const resetDatagram = (token: Uint8Array, length = 40) => {
  const d = new Uint8Array(length).fill(0x41);
  d.set(token, length - 16);
  return d;
};

describe('PeerCidPool: handshake CID, reset token, preferred address', () => {
  it('seq 0 is the peer’s handshake SCID and is handed out first', () => {
    const p = pool();
    expect(p.acquire('path-a')).toEqual({ sequenceNumber: 0, connectionId: cidOf(0), statelessResetToken: undefined });
    expect(p.activeCount).toBe(1);
  });

  it('the server’s stateless_reset_token attaches to seq 0 (RFC 9000 §18.2)', () => {
    const p = pool();
    p.setHandshakeResetToken(tokenOf(0));
    p.acquire('a');
    expect(p.current('a')!.statelessResetToken).toEqual(tokenOf(0));
    expect(p.isStatelessReset(resetDatagram(tokenOf(0)))).toBe(true);
  });

  it('setHandshakeCid is set-once, copied; the token needs it first', () => {
    const cid = cidOf(0);
    const p = new PeerCidPool();
    expect(() => p.setHandshakeResetToken(tokenOf(0))).toThrow(CidConfigError);
    p.setHandshakeCid(cid);
    cid[0] = 0;
    p.setHandshakeCid(cidOf(0)); // same value: fine
    expect(() => p.setHandshakeCid(cidOf(9))).toThrow(CidConfigError);
    expect(p.acquire('a')!.connectionId).toEqual(cidOf(0));
    expect(() => p.setHandshakeResetToken(bytes(15, 0))).toThrow(CidConfigError);
    expect(() => p.setHandshakeCid(new Uint8Array(21))).toThrow(CidConfigError);
  });

  it('the preferred_address CID is seq 1 (RFC 9000 §5.1.1)', () => {
    const p = pool();
    p.addPreferredAddressCid(cidOf(1), tokenOf(1));
    expect(p.connectionIds().map((c) => c.sequenceNumber)).toEqual([0, 1]);
  });

  it('a zero-length preferred_address CID, or one from a zero-length server, is TRANSPORT_PARAMETER_ERROR (§18.2)', () => {
    expect(codecError(() => pool().addPreferredAddressCid(new Uint8Array(0), tokenOf(1))).code).toBe(
      TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
    );
    expect(codecError(() => pool({}, new Uint8Array(0)).addPreferredAddressCid(cidOf(1), tokenOf(1))).code).toBe(
      TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
    );
  });

  it('rejects a limit below 2 and bad path IDs', () => {
    expect(() => new PeerCidPool({ activeConnectionIdLimit: 1 })).toThrow(CidConfigError);
    expect(() => new PeerCidPool({ pathId: -1 })).toThrow(CidConfigError);
  });
});

describe('PeerCidPool: NEW_CONNECTION_ID (RFC 9000 §19.15)', () => {
  it('stores CIDs and copies the frame’s bytes', () => {
    const p = pool();
    const cid = cidOf(1);
    const token = tokenOf(1);
    p.onNewConnectionId(ncid(1, 0, cid, token));
    cid.fill(0);
    token.fill(0);
    expect(p.connectionIds()[1]).toEqual({ sequenceNumber: 1, connectionId: cidOf(1), statelessResetToken: tokenOf(1) });
  });

  it('tolerates an identical duplicate', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(1));
    expect(p.activeCount).toBe(2);
    expect(p.pollFrames()).toEqual([]);
  });

  it('PROTOCOL_VIOLATION: same sequence number with another CID or token, or a CID repeated under a new number', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    for (const bad of [ncid(1, 0, cidOf(7)), ncid(1, 0, cidOf(1), tokenOf(7)), ncid(2, 0, cidOf(1)), ncid(2, 0, cidOf(0))]) {
      const err = codecError(() => p.onNewConnectionId(bad));
      expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
      expect(err.frameType).toBe(FrameType.NEW_CONNECTION_ID);
    }
    expect(p.activeCount).toBe(2); // the failed frames changed nothing
  });

  it('FRAME_ENCODING_ERROR: Retire Prior To above the sequence number, bad CID or token length', () => {
    const p = pool();
    for (const bad of [ncid(1, 2), ncid(1, 0, new Uint8Array(0)), ncid(1, 0, new Uint8Array(21)), ncid(1, 0, cidOf(1), bytes(15, 1))]) {
      expect(codecError(() => p.onNewConnectionId(bad)).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
    }
  });

  it('PROTOCOL_VIOLATION when the peer uses zero-length CIDs', () => {
    const p = pool({}, new Uint8Array(0));
    expect(p.usesZeroLength).toBe(true);
    expect(codecError(() => p.onNewConnectionId(ncid(1))).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('CONNECTION_ID_LIMIT_ERROR beyond the advertised active_connection_id_limit, seq 0 included (§5.1.1)', () => {
    const p = pool({ activeConnectionIdLimit: 2 });
    p.onNewConnectionId(ncid(1));
    const err = codecError(() => p.onNewConnectionId(ncid(2)));
    expect(err.code).toBe(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
    expect(p.activeCount).toBe(2);
  });

  it('retires before counting: a frame that retires as many as it adds stays within the limit (§19.15)', () => {
    const p = pool({ activeConnectionIdLimit: 2 });
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(2, 1));
    expect(p.connectionIds().map((c) => c.sequenceNumber)).toEqual([1, 2]);
    expect(retired(p)).toEqual([0]);
  });
});

describe('PeerCidPool: Retire Prior To (RFC 9000 §5.1.2, §19.15)', () => {
  it('retires everything below it, queues RETIRE frames and tells paths using a retired CID', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(2));
    p.acquire('a'); // seq 0
    p.acquire('b'); // seq 1
    p.onNewConnectionId(ncid(3, 2));
    expect(retired(p)).toEqual([0, 1]);
    expect(p.pollEvents()).toEqual([
      { type: 'path_cid_retired', pathKey: 'a', sequenceNumber: 0 },
      { type: 'path_cid_retired', pathKey: 'b', sequenceNumber: 1 },
    ]);
    expect(p.current('a')).toBeUndefined();
    expect(p.acquire('a')!.sequenceNumber).toBe(2);
    expect(p.acquire('b')!.sequenceNumber).toBe(3);
  });

  it('ignores a smaller or equal Retire Prior To', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(2, 1));
    p.pollFrames();
    p.onNewConnectionId(ncid(3, 0));
    p.onNewConnectionId(ncid(3, 1));
    expect(p.pollFrames()).toEqual([]);
    expect(p.retirePriorTo).toBe(1);
  });

  it('retires sequence numbers it never received, and then ignores their late frames', () => {
    const p = pool();
    p.onNewConnectionId(ncid(3, 3)); // seqs 1 and 2 still in flight
    expect(retired(p)).toEqual([0, 1, 2]);
    p.onNewConnectionId(ncid(2)); // late: already retired, RETIRE already sent
    expect(p.pollFrames()).toEqual([]);
    expect(p.connectionIds().map((c) => c.sequenceNumber)).toEqual([3]);
  });

  it('CONNECTION_ID_LIMIT_ERROR when the demanded retirements would exceed 2 x limit outstanding', () => {
    const p = pool({ activeConnectionIdLimit: 2 });
    p.onNewConnectionId(ncid(4, 4)); // retires 0..3: 4 outstanding, the maximum
    expect(p.pendingDemandedRetirementCount).toBe(4);
    const err = codecError(() => p.onNewConnectionId(ncid(5, 5)));
    expect(err.code).toBe(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
    p.pollFrames();
    p.onFrameAcked(0);
    p.onNewConnectionId(ncid(5, 5)); // one acknowledged: room for one more
    expect(p.pendingRetirementCount).toBe(4);
  });

  it('a huge Retire Prior To is refused without looping over the range', () => {
    const p = pool();
    const start = performance.now();
    const big = Number.MAX_SAFE_INTEGER;
    expect(codecError(() => p.onNewConnectionId(ncid(big, big))).code).toBe(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('our own releases do not count against the peer’s retirement budget', () => {
    const p = pool({ activeConnectionIdLimit: 2 });
    let seq = 1;
    for (let i = 0; i < 5; i++) {
      p.onNewConnectionId(ncid(seq++));
      p.acquire('a');
      p.release('a');
    }
    expect(p.pendingRetirementCount).toBe(5);
    p.onNewConnectionId(ncid(seq, seq)); // demands a few retirements: still fine
  });
});

describe('PeerCidPool: paths (RFC 9000 §9.5)', () => {
  it('hands each path its own CID, lowest sequence number first, and the same one again', () => {
    const p = pool();
    p.onNewConnectionId(ncid(2));
    p.onNewConnectionId(ncid(1));
    expect(p.acquire('a')!.sequenceNumber).toBe(0);
    expect(p.acquire('b')!.sequenceNumber).toBe(1);
    expect(p.acquire('a')!.sequenceNumber).toBe(0);
    expect(p.acquire(7)!.sequenceNumber).toBe(2);
    expect(p.acquire('c')).toBeUndefined();
    expect(p.unusedCount).toBe(0);
  });

  it('release retires the path’s CID with a RETIRE frame; it is never handed out again', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.acquire('a');
    expect(p.release('a')).toBe(true);
    expect(p.release('a')).toBe(false);
    expect(retired(p)).toEqual([0]);
    expect(p.acquire('a')!.sequenceNumber).toBe(1);
    expect(p.acquire('b')).toBeUndefined();
    p.onNewConnectionId(ncid(0)); // a replay of seq 0 does not resurrect it
    expect(p.acquire('b')).toBeUndefined();
    expect(p.retireForPath('a')).toBe(true);
  });

  it('zero-length CIDs are shared by every path and cannot be retired', () => {
    const p = pool({}, new Uint8Array(0));
    expect(p.acquire('a')!.connectionId.length).toBe(0);
    expect(p.acquire('b')!.connectionId.length).toBe(0);
    expect(p.current('a')).toBeDefined();
    expect(p.release('a')).toBe(true);
    expect(p.current('a')).toBeUndefined();
    expect(p.pollFrames()).toEqual([]);
    expect(p.unusedCount).toBe(1);
  });

  it('acquire before the handshake CID is known returns undefined', () => {
    expect(new PeerCidPool().acquire('a')).toBeUndefined();
    expect(new PeerCidPool().current('a')).toBeUndefined();
  });
});

describe('PeerCidPool: RETIRE frames and their fate', () => {
  it('resends a lost RETIRE frame until acknowledged; pollFrames(max) keeps the rest', () => {
    const p = pool();
    p.onNewConnectionId(ncid(3, 3));
    expect(p.pollFrames(2).map((f) => f.sequenceNumber)).toEqual([0, 1]);
    expect(p.hasPendingFrames).toBe(true);
    expect(retired(p)).toEqual([2]);
    p.onFrameLost(1);
    p.onFrameLost(1);
    expect(retired(p)).toEqual([1]);
    p.onFrameAcked(1);
    p.onFrameLost(1);
    expect(p.pollFrames()).toEqual([]);
    expect(p.pendingRetirementCount).toBe(2);
  });

  it('multipath: a later path ID has no handshake CID; its seq 0 arrives in a frame', () => {
    const p = new PeerCidPool({ pathId: 2 });
    expect(() => p.setHandshakeCid(cidOf(0))).toThrow(CidConfigError);
    p.onNewConnectionId(ncid(0));
    expect(p.acquire('a')).toEqual({ sequenceNumber: 0, connectionId: cidOf(0), statelessResetToken: tokenOf(0) });
  });

  it('multipath: PATH_RETIRE_CONNECTION_ID frames and errors naming PATH_NEW_CONNECTION_ID', () => {
    const p = new PeerCidPool({ pathId: 5 });
    p.onNewConnectionId(ncid(0));
    p.onNewConnectionId(ncid(1, 1));
    expect(p.pollFrames()).toEqual([{ type: 'path_retire_connection_id', pathId: 5, sequenceNumber: 0 }]);
    expect(codecError(() => p.onNewConnectionId(ncid(2, 3))).frameType).toBe(FrameType.PATH_NEW_CONNECTION_ID);
  });
});

describe('PeerCidPool: stateless reset detection (RFC 9000 §10.3.1)', () => {
  it('matches the last 16 bytes against tokens of CIDs in use only', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.onNewConnectionId(ncid(2));
    expect(p.isStatelessReset(resetDatagram(tokenOf(1)))).toBe(false); // not used yet
    p.acquire('a'); // seq 0, no token
    p.acquire('b'); // seq 1
    expect(p.isStatelessReset(resetDatagram(tokenOf(1)))).toBe(true);
    expect(p.isStatelessResetToken(tokenOf(1))).toBe(true);
    expect(p.isStatelessReset(resetDatagram(tokenOf(2)))).toBe(false); // unused
    p.release('b'); // retired
    expect(p.isStatelessReset(resetDatagram(tokenOf(1)))).toBe(false);
    expect(p.isStatelessResetToken(tokenOf(1))).toBe(false);
    expect(p.isStatelessResetToken(tokenOf(1).subarray(1))).toBe(false);
  });

  it('datagrams shorter than 21 bytes are never resets', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.acquire('a');
    p.acquire('b');
    expect(p.isStatelessReset(resetDatagram(tokenOf(1), 21))).toBe(true);
    expect(p.isStatelessReset(resetDatagram(tokenOf(1), 20))).toBe(false);
    expect(p.isStatelessReset(tokenOf(1))).toBe(false);
  });

  it('a token retired through Retire Prior To stops matching', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.acquire('a');
    p.acquire('b');
    p.onNewConnectionId(ncid(2, 2));
    expect(p.isStatelessReset(resetDatagram(tokenOf(1)))).toBe(false);
  });

  it('zero-length CIDs: the seq 0 token matches while some path uses the CID', () => {
    const p = pool({}, new Uint8Array(0));
    p.setHandshakeResetToken(tokenOf(0));
    expect(p.isStatelessReset(resetDatagram(tokenOf(0)))).toBe(false);
    p.acquire('a');
    expect(p.isStatelessReset(resetDatagram(tokenOf(0)))).toBe(true);
  });

  it('compares whole tokens: one differing byte anywhere is no match', () => {
    const p = pool();
    p.onNewConnectionId(ncid(1));
    p.acquire('a');
    p.acquire('b');
    for (let i = 0; i < 16; i++) {
      const t = tokenOf(1);
      t[i]! ^= 0x80;
      expect(p.isStatelessReset(resetDatagram(t))).toBe(false);
    }
    expect(p.isStatelessReset(hex('41'.repeat(24) + '11'.repeat(16)))).toBe(true);
  });
});
