/**
 * PeerCidPool: the connection IDs the peer gave us for one connection (one path ID with multipath), RFC 9000 §5.1,
 * §9.5, §10.3.1, §19.15.
 *
 * - seq 0 is the peer's handshake SCID (`setHandshakeCid`), the server's stateless_reset_token transport parameter
 *   attaches to it (`setHandshakeResetToken`), a server's preferred_address CID is seq 1 (`addPreferredAddressCid`);
 * - `onNewConnectionId(frame)` stores the rest and applies Retire Prior To;
 * - `acquire(pathKey)` hands a path an unused CID, `release(pathKey)` retires it (migration, RFC 9000 §9.5);
 * - `pollFrames()` returns the RETIRE_CONNECTION_ID frames owed, `onFrameAcked` / `onFrameLost` report their fate;
 * - `pollEvents()` says which paths lost their CID to the peer's Retire Prior To and need `acquire` again;
 * - `isStatelessReset(datagram)` recognises a Stateless Reset for a CID in use.
 */
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import type { NewConnectionIdFields } from '@pathquic/wire-codec';
import { bytesEqual, constantTimeEqual, constantTimeEqualAt } from './bytes.js';
import { CidConfigError } from './errors.js';
import {
  type AnyRetireConnectionIdFrame,
  newConnectionIdType,
  retireConnectionIdFrame,
} from './frames.js';
import { MAX_CID_LENGTH } from './generator.js';
import { DEFAULT_LOCAL_CID_LIMIT, MAX_PATH_ID, MIN_ACTIVE_CONNECTION_ID_LIMIT } from './local-issuer.js';
import { MIN_STATELESS_RESET_LENGTH, STATELESS_RESET_TOKEN_LENGTH } from './reset-token.js';

/** An opaque key naming a path (a 4-tuple string, a path ID, …). */
export type PathKey = string | number;

/** Pending RETIRE_CONNECTION_ID frames we track: at least twice active_connection_id_limit (RFC 9000 §5.1.2). */
export const PENDING_RETIREMENTS_FACTOR = 2;

export interface PeerConnectionId {
  readonly sequenceNumber: number;
  readonly connectionId: Uint8Array;
  /** Undefined only for seq 0 until (unless) the server's stateless_reset_token transport parameter arrives. */
  readonly statelessResetToken: Uint8Array | undefined;
}

/** The peer's Retire Prior To retired the CID `pathKey` was using: stop using it and `acquire` a new one. */
export interface PathCidRetiredEvent {
  type: 'path_cid_retired';
  pathKey: PathKey;
  sequenceNumber: number;
}

export type PeerCidEvent = PathCidRetiredEvent;

export interface PeerCidPoolOptions {
  /**
   * The active_connection_id_limit WE advertised (RFC 9000 §18.2), >= 2; default 8. More active CIDs than this from
   * the peer is CONNECTION_ID_LIMIT_ERROR.
   */
  activeConnectionIdLimit?: number;
  /** Multipath path ID (draft-ietf-quic-multipath-21): RETIRE frames become PATH_RETIRE_CONNECTION_ID. */
  pathId?: number;
}

interface PeerCid {
  sequenceNumber: number;
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array | undefined;
  /** The path using it; undefined = unused. For zero-length CIDs see `zeroLengthUsers`. */
  pathKey: PathKey | undefined;
}

export class PeerCidPool {
  readonly pathId: number | undefined;
  readonly activeConnectionIdLimit: number;
  /** Active (not retired) CIDs by sequence number. */
  private readonly active = new Map<number, PeerCid>();
  private readonly byPath = new Map<PathKey, PeerCid>();
  /** Paths sharing a zero-length CID: there is nothing to rotate, so every path uses it (RFC 9000 §5.1, §9.5). */
  private readonly zeroLengthUsers = new Set<PathKey>();
  private zeroLength = false;
  private handshakeSet = false;
  /** Largest Retire Prior To seen: every sequence number below it is retired (RFC 9000 §19.15). */
  private retirePriorToValue = 0;
  /** Sequence numbers at or above Retire Prior To that we retired ourselves (release). */
  private readonly retiredAbove = new Set<number>();
  /** RETIRE frames queued or in flight, not yet acknowledged. */
  private readonly pendingRetire = new Set<number>();
  /**
   * The subset of `pendingRetire` the peer demanded through Retire Prior To: what the 2 × limit bound of RFC 9000
   * §5.1.2 protects against. Our own `release()` calls are bounded by our own migrations and do not count, so a peer
   * rotating at the allowed pace is never punished for our path changes.
   */
  private readonly pendingDemanded = new Set<number>();
  private retireQueue: number[] = [];
  private events: PeerCidEvent[] = [];

  constructor(opts: PeerCidPoolOptions = {}) {
    const limit = opts.activeConnectionIdLimit ?? DEFAULT_LOCAL_CID_LIMIT;
    if (!Number.isInteger(limit) || limit < MIN_ACTIVE_CONNECTION_ID_LIMIT) {
      throw new CidConfigError(`activeConnectionIdLimit must be an integer >= ${MIN_ACTIVE_CONNECTION_ID_LIMIT}, got ${limit}`);
    }
    if (opts.pathId !== undefined && (!Number.isInteger(opts.pathId) || opts.pathId < 0 || opts.pathId > MAX_PATH_ID)) {
      throw new CidConfigError(`pathId must be 0..2^32-1, got ${opts.pathId}`);
    }
    this.activeConnectionIdLimit = limit;
    this.pathId = opts.pathId;
  }

  get retirePriorTo(): number {
    return this.retirePriorToValue;
  }

  /** Whether the peer uses zero-length CIDs (then it can send no NEW_CONNECTION_ID). */
  get usesZeroLength(): boolean {
    return this.zeroLength;
  }

  /** Active CIDs (counted against our limit). */
  get activeCount(): number {
    return this.active.size;
  }

  /** Active CIDs no path uses yet: what `acquire` can still hand out. */
  get unusedCount(): number {
    if (this.zeroLength) return this.active.size;
    let n = 0;
    for (const c of this.active.values()) if (c.pathKey === undefined) n++;
    return n;
  }

  /** RETIRE frames not yet acknowledged. */
  get pendingRetirementCount(): number {
    return this.pendingRetire.size;
  }

  /** Unacknowledged retirements the peer demanded with Retire Prior To (bounded by 2 × limit). */
  get pendingDemandedRetirementCount(): number {
    return this.pendingDemanded.size;
  }

  /** Active CIDs by sequence number. */
  connectionIds(): PeerConnectionId[] {
    return [...this.active.values()].sort((a, b) => a.sequenceNumber - b.sequenceNumber).map(view);
  }

  /**
   * Sequence number 0: the SCID of the peer's first handshake packet (RFC 9000 §5.1.1, §7.2). Zero-length means the
   * peer uses zero-length CIDs for the whole connection. Set once; the client's own first random DCID and a Retry's
   * SCID carry no sequence number and do not belong here. Path IDs other than 0 have none: their seq 0 comes in a
   * PATH_NEW_CONNECTION_ID frame (draft-ietf-quic-multipath-21).
   */
  setHandshakeCid(cid: Uint8Array): void {
    if ((this.pathId ?? 0) !== 0) throw new CidConfigError('only path 0 has a handshake connection ID');
    if (cid.length > MAX_CID_LENGTH) throw new CidConfigError(`connection IDs are at most ${MAX_CID_LENGTH} bytes`);
    if (this.handshakeSet) {
      const current = this.active.get(0);
      if (current !== undefined && bytesEqual(current.connectionId, cid)) return;
      throw new CidConfigError('the handshake connection ID (sequence number 0) is already set');
    }
    this.handshakeSet = true;
    this.zeroLength = cid.length === 0;
    this.active.set(0, { sequenceNumber: 0, connectionId: cid.slice(), statelessResetToken: undefined, pathKey: undefined });
  }

  /**
   * The server's stateless_reset_token transport parameter: the token of sequence number 0 (RFC 9000 §18.2). Client
   * side only; the parameter comes after the server's SCID is known.
   */
  setHandshakeResetToken(token: Uint8Array): void {
    if (token.length !== STATELESS_RESET_TOKEN_LENGTH) {
      throw new CidConfigError(`a stateless reset token is ${STATELESS_RESET_TOKEN_LENGTH} bytes`);
    }
    if (!this.handshakeSet) throw new CidConfigError('setHandshakeCid must come before setHandshakeResetToken');
    const seq0 = this.active.get(0);
    if (seq0 !== undefined) seq0.statelessResetToken = token.slice();
  }

  /**
   * The CID of the server's preferred_address transport parameter: sequence number 1 (RFC 9000 §5.1.1, §9.6).
   * @throws QuicCodecError TRANSPORT_PARAMETER_ERROR when it is zero-length or the server uses zero-length CIDs
   *   (RFC 9000 §18.2).
   */
  addPreferredAddressCid(cid: Uint8Array, token: Uint8Array): void {
    if (cid.length === 0 || this.zeroLength) {
      throw new QuicCodecError(
        TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
        'preferred_address with a zero-length connection ID, or from a server using zero-length connection IDs',
      );
    }
    this.onNewConnectionId({ sequenceNumber: 1, retirePriorTo: 0, connectionId: cid, statelessResetToken: token });
  }

  /**
   * A NEW_CONNECTION_ID (or PATH_NEW_CONNECTION_ID) frame. Byte fields are copied, so the datagram may be reused.
   * Order (RFC 9000 §19.15, §5.1.2): validate, then retire everything below a larger Retire Prior To (queueing
   * RETIRE frames), then add the new CID unless it is itself retired, then check the limit.
   * @throws QuicCodecError
   *   - PROTOCOL_VIOLATION: the peer uses zero-length CIDs (RFC 9000 §19.15); a known sequence number with a different
   *     CID or token, or a known CID under another sequence number (RFC 9000 §19.15);
   *   - FRAME_ENCODING_ERROR: Retire Prior To above the sequence number, a CID not 1..20 bytes, a token not 16 bytes
   *     (RFC 9000 §19.15; normally caught by the decoder);
   *   - CONNECTION_ID_LIMIT_ERROR: more active CIDs than we advertised (RFC 9000 §5.1.1), or a Retire Prior To that
   *     would leave more than 2 × limit unacknowledged retirements demanded by the peer (RFC 9000 §5.1.2 allows
   *     this error; our own `release` retirements are not counted).
   */
  onNewConnectionId(frame: NewConnectionIdFields): void {
    const frameType = newConnectionIdType(this.pathId);
    const { sequenceNumber: seq, retirePriorTo: rpt, connectionId: cid, statelessResetToken: token } = frame;
    if (this.zeroLength) {
      throw new QuicCodecError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'NEW_CONNECTION_ID from a peer that uses zero-length connection IDs',
        frameType,
      );
    }
    if (rpt > seq) {
      throw new QuicCodecError(TransportErrorCode.FRAME_ENCODING_ERROR, `Retire Prior To ${rpt} > sequence number ${seq}`, frameType);
    }
    if (cid.length < 1 || cid.length > MAX_CID_LENGTH) {
      throw new QuicCodecError(TransportErrorCode.FRAME_ENCODING_ERROR, `connection ID of ${cid.length} bytes`, frameType);
    }
    if (token.length !== STATELESS_RESET_TOKEN_LENGTH) {
      throw new QuicCodecError(TransportErrorCode.FRAME_ENCODING_ERROR, `reset token of ${token.length} bytes`, frameType);
    }

    const known = this.active.get(seq);
    if (known !== undefined) {
      const sameToken = known.statelessResetToken === undefined || bytesEqual(known.statelessResetToken, token);
      if (!bytesEqual(known.connectionId, cid) || !sameToken) {
        throw new QuicCodecError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `sequence number ${seq} repeated with a different connection ID or reset token`,
          frameType,
        );
      }
    }
    for (const other of this.active.values()) {
      if (other.sequenceNumber !== seq && bytesEqual(other.connectionId, cid)) {
        throw new QuicCodecError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          `connection ID of sequence number ${other.sequenceNumber} repeated as ${seq}`,
          frameType,
        );
      }
    }

    // Retirements a larger Retire Prior To demands: every sequence number in [old, new) not already retired,
    // including ones never received (their frames may still be in flight; §19.15 then has nothing left to do).
    let retiring = 0;
    let activeRetiring = 0;
    if (rpt > this.retirePriorToValue) {
      retiring = rpt - this.retirePriorToValue;
      for (const s of this.retiredAbove) if (s < rpt) retiring--;
      for (const s of this.active.keys()) if (s < rpt) activeRetiring++;
    }
    const isNew = known === undefined && seq >= Math.max(rpt, this.retirePriorToValue) && !this.retiredAbove.has(seq);
    const activeAfter = this.active.size - activeRetiring + (isNew ? 1 : 0);
    if (activeAfter > this.activeConnectionIdLimit) {
      throw new QuicCodecError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${activeAfter} active connection IDs exceed our limit of ${this.activeConnectionIdLimit}`,
        frameType,
      );
    }
    const pendingLimit = PENDING_RETIREMENTS_FACTOR * this.activeConnectionIdLimit;
    if (this.pendingDemanded.size + retiring > pendingLimit) {
      throw new QuicCodecError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `Retire Prior To ${rpt} needs ${retiring} more retirements with ${this.pendingDemanded.size} outstanding (limit ${pendingLimit})`,
        frameType,
      );
    }

    if (rpt > this.retirePriorToValue) {
      for (let s = this.retirePriorToValue; s < rpt; s++) {
        if (this.retiredAbove.delete(s)) continue;
        const c = this.active.get(s);
        if (c !== undefined) {
          this.active.delete(s);
          if (c.pathKey !== undefined) {
            this.byPath.delete(c.pathKey);
            this.events.push({ type: 'path_cid_retired', pathKey: c.pathKey, sequenceNumber: s });
          }
        }
        this.queueRetire(s);
        this.pendingDemanded.add(s);
      }
      this.retirePriorToValue = rpt;
    }
    if (isNew) {
      this.active.set(seq, { sequenceNumber: seq, connectionId: cid.slice(), statelessResetToken: token.slice(), pathKey: undefined });
    }
  }

  /**
   * The CID `pathKey` uses: the one it already has, else the unused active CID with the lowest sequence number (never
   * one another path used, RFC 9000 §9.5). Undefined when none is left; the core then waits for NEW_CONNECTION_ID
   * (and with multipath may send PATH_CIDS_BLOCKED). With zero-length CIDs every path shares the one CID.
   */
  acquire(pathKey: PathKey): PeerConnectionId | undefined {
    if (this.zeroLength) {
      const seq0 = this.active.get(0);
      if (seq0 === undefined) return undefined;
      this.zeroLengthUsers.add(pathKey);
      return view(seq0);
    }
    const current = this.byPath.get(pathKey);
    if (current !== undefined) return view(current);
    let best: PeerCid | undefined;
    for (const c of this.active.values()) {
      if (c.pathKey === undefined && (best === undefined || c.sequenceNumber < best.sequenceNumber)) best = c;
    }
    if (best === undefined) return undefined;
    best.pathKey = pathKey;
    this.byPath.set(pathKey, best);
    return view(best);
  }

  /** The CID `pathKey` currently uses, without acquiring one. */
  current(pathKey: PathKey): PeerConnectionId | undefined {
    if (this.zeroLength) {
      const seq0 = this.active.get(0);
      return seq0 !== undefined && this.zeroLengthUsers.has(pathKey) ? view(seq0) : undefined;
    }
    const c = this.byPath.get(pathKey);
    return c === undefined ? undefined : view(c);
  }

  /**
   * `pathKey` stops using its CID (path abandoned, or a switch to a fresh CID on migration, RFC 9000 §9.5): the CID is
   * retired and a RETIRE_CONNECTION_ID queued. Returns whether the path had a CID. Zero-length CIDs cannot be
   * retired; the path just stops sharing it.
   */
  release(pathKey: PathKey): boolean {
    if (this.zeroLength) return this.zeroLengthUsers.delete(pathKey);
    const c = this.byPath.get(pathKey);
    if (c === undefined) return false;
    this.byPath.delete(pathKey);
    this.active.delete(c.sequenceNumber);
    this.retiredAbove.add(c.sequenceNumber);
    this.queueRetire(c.sequenceNumber);
    return true;
  }

  /** Alias of {@link release}. */
  retireForPath(pathKey: PathKey): boolean {
    return this.release(pathKey);
  }

  /**
   * Whether `datagram` is a Stateless Reset for this connection (RFC 9000 §10.3.1): its last 16 bytes equal the token
   * of a CID in use on some path and not retired. CIDs never used and retired ones are not checked. Datagrams shorter
   * than 21 bytes are never resets. Every candidate token is compared in full, in constant time.
   */
  isStatelessReset(datagram: Uint8Array): boolean {
    if (datagram.length < MIN_STATELESS_RESET_LENGTH) return false;
    const offset = datagram.length - STATELESS_RESET_TOKEN_LENGTH;
    let match = false;
    for (const c of this.active.values()) {
      const inUse = this.zeroLength ? this.zeroLengthUsers.size > 0 : c.pathKey !== undefined;
      if (!inUse || c.statelessResetToken === undefined) continue;
      // No early exit: every in-use token is compared whatever the outcome of the previous ones.
      match = constantTimeEqualAt(c.statelessResetToken, datagram, offset) || match;
    }
    return match;
  }

  /** Whether `token` is the token of a CID in use (constant time per token); for tokens already extracted. */
  isStatelessResetToken(token: Uint8Array): boolean {
    if (token.length !== STATELESS_RESET_TOKEN_LENGTH) return false;
    let match = false;
    for (const c of this.active.values()) {
      const inUse = this.zeroLength ? this.zeroLengthUsers.size > 0 : c.pathKey !== undefined;
      if (!inUse || c.statelessResetToken === undefined) continue;
      match = constantTimeEqual(c.statelessResetToken, token) || match;
    }
    return match;
  }

  /** RETIRE_CONNECTION_ID (or PATH_RETIRE_CONNECTION_ID) frames to send now, at most `max`. */
  pollFrames(max = Infinity): AnyRetireConnectionIdFrame[] {
    const n = Math.min(max, this.retireQueue.length);
    const frames = this.retireQueue.slice(0, n).map((seq) => retireConnectionIdFrame(this.pathId, seq));
    this.retireQueue = this.retireQueue.slice(n);
    return frames;
  }

  get hasPendingFrames(): boolean {
    return this.retireQueue.length > 0;
  }

  /** The RETIRE frame for `sequenceNumber` was acknowledged: the retirement is complete. */
  onFrameAcked(sequenceNumber: number): void {
    this.pendingRetire.delete(sequenceNumber);
    this.pendingDemanded.delete(sequenceNumber);
  }

  /** The RETIRE frame for `sequenceNumber` was lost: it is sent again (RFC 9000 §13.3). */
  onFrameLost(sequenceNumber: number): void {
    if (this.pendingRetire.has(sequenceNumber) && !this.retireQueue.includes(sequenceNumber)) {
      this.retireQueue.push(sequenceNumber);
    }
  }

  pollEvents(): PeerCidEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  private queueRetire(seq: number): void {
    this.pendingRetire.add(seq);
    this.retireQueue.push(seq);
  }
}

function view(c: PeerCid): PeerConnectionId {
  return { sequenceNumber: c.sequenceNumber, connectionId: c.connectionId, statelessResetToken: c.statelessResetToken };
}
