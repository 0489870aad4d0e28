/**
 * LocalCidIssuer: the connection IDs this endpoint gives its peer for one connection (one path ID with multipath),
 * RFC 9000 §5.1.1, §5.1.2, §19.15, §19.16.
 *
 * Driven by the connection core, quinn-style:
 * - `setPeerActiveConnectionIdLimit(tp)` once the peer's transport parameters are known starts issuing;
 * - `pollFrames()` returns NEW_CONNECTION_ID frames to send, `onFrameAcked(seq)` / `onFrameLost(seq)` report their fate;
 * - `onRetire(seq, arrivalDcid)` handles the peer's RETIRE_CONNECTION_ID and issues a replacement;
 * - `rotate()` retires everything issued so far through Retire Prior To and issues fresh CIDs;
 * - `pollEvents()` tells the endpoint's router which CIDs to add and remove.
 */
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { bytesEqual } from './bytes.js';
import { CidConfigError } from './errors.js';
import { type AnyNewConnectionIdFrame, newConnectionIdFrame, retireConnectionIdType } from './frames.js';
import { type CidGenerator, RandomCidGenerator, checkIssuedCidLength } from './generator.js';
import { defaultRandom, type RandomSource } from './random.js';
import { StatelessResetKey } from './reset-token.js';

/** Default cap on the CIDs we keep active for the peer, whatever its active_connection_id_limit allows. */
export const DEFAULT_LOCAL_CID_LIMIT = 8;
/** active_connection_id_limit below 2 is invalid (RFC 9000 §18.2). */
export const MIN_ACTIVE_CONNECTION_ID_LIMIT = 2;
/** Absent active_connection_id_limit means 2 (RFC 9000 §18.2). */
export const DEFAULT_ACTIVE_CONNECTION_ID_LIMIT = 2;
/** Largest path ID of draft-ietf-quic-multipath-21 (initial_max_path_id / MAX_PATH_ID are at most 2^32-1). */
export const MAX_PATH_ID = 2 ** 32 - 1;
/** Attempts at drawing a CID not already in use before giving up: with 4+ random bytes more is never needed. */
const MAX_GENERATE_ATTEMPTS = 16;
/** Sequence number of the handshake CID (RFC 9000 §5.1.1). */
const HANDSHAKE_SEQUENCE_NUMBER = 0;
/** Sequence number of the preferred_address CID (RFC 9000 §5.1.1). */
const PREFERRED_ADDRESS_SEQUENCE_NUMBER = 1;

export interface IssuedConnectionId {
  readonly sequenceNumber: number;
  readonly connectionId: Uint8Array;
  readonly statelessResetToken: Uint8Array;
}

/** A CID the router must start routing to this connection. */
export interface CidIssuedEvent {
  type: 'issued';
  cid: Uint8Array;
  sequenceNumber: number;
  /** 0 for the single-path form. */
  pathId: number;
  statelessResetToken: Uint8Array;
}

/** A CID the router must stop routing (retired by the peer, dropped unsent, or discarded with the connection). */
export interface CidRetiredEvent {
  type: 'retired';
  cid: Uint8Array;
  sequenceNumber: number;
  pathId: number;
}

export type CidEvent = CidIssuedEvent | CidRetiredEvent;

export interface LocalCidIssuerOptions {
  /** Makes the CIDs; default: 8 random bytes. Its length must be the endpoint's router length. */
  generator?: CidGenerator;
  /** The endpoint's static stateless reset key (RFC 9000 §10.3.2); default: a random one (see StatelessResetKey). */
  resetKey?: StatelessResetKey;
  /** Sequence number 0, the SCID of our handshake packets (path 0 only); generated when absent. */
  handshakeCid?: Uint8Array;
  /** Server only: issue sequence number 1 for the preferred_address transport parameter (RFC 9000 §5.1.1, §9.6). */
  preferredAddress?: boolean;
  /**
   * Multipath path ID (draft-ietf-quic-multipath-21): frames become PATH_NEW_CONNECTION_ID and errors name
   * PATH_RETIRE_CONNECTION_ID. Absent = the RFC 9000 form (path 0). Path IDs other than 0 have no handshake CID.
   */
  pathId?: number;
  /** Most CIDs we keep active for the peer (>= 1). Default 8. */
  localLimit?: number;
  random?: RandomSource;
  /** Endpoint-wide uniqueness check, typically `(cid) => router.has(cid)`; a CID in use is drawn again. */
  isCidInUse?: (cid: Uint8Array) => boolean;
}

type FrameState = 'none' | 'queued' | 'in_flight' | 'acked';

interface LocalCid extends IssuedConnectionId {
  /** 'none': communicated outside NEW_CONNECTION_ID (handshake SCID, preferred_address). */
  frame: FrameState;
  /** Whether a frame carrying it was ever handed to the core. */
  everSent: boolean;
}

export class LocalCidIssuer {
  readonly pathId: number | undefined;
  readonly cidLength: number;
  private readonly generator: CidGenerator;
  private readonly resetKey: StatelessResetKey;
  private readonly localLimit: number;
  private readonly isCidInUse: ((cid: Uint8Array) => boolean) | undefined;
  /** CIDs the peer has not retired, by sequence number. */
  private readonly records = new Map<number, LocalCid>();
  private nextSequenceNumber = 0;
  private retirePriorToValue = 0;
  /** Largest sequence number the peer may have seen; -1 = none. */
  private highestSent = -1;
  private peerLimit: number | undefined;
  private sendQueue: number[] = [];
  private events: CidEvent[] = [];
  private handshake: IssuedConnectionId | undefined;
  private preferred: IssuedConnectionId | undefined;

  constructor(opts: LocalCidIssuerOptions = {}) {
    const random = opts.random ?? defaultRandom;
    this.generator = opts.generator ?? new RandomCidGenerator(undefined, random);
    checkIssuedCidLength(this.generator.length, 'generator length');
    this.cidLength = this.generator.length;
    this.resetKey = opts.resetKey ?? StatelessResetKey.generate(random);
    this.isCidInUse = opts.isCidInUse;
    this.localLimit = opts.localLimit ?? DEFAULT_LOCAL_CID_LIMIT;
    if (!Number.isInteger(this.localLimit) || this.localLimit < 1) {
      throw new CidConfigError(`localLimit must be an integer >= 1, got ${this.localLimit}`);
    }
    if (opts.pathId !== undefined) {
      if (!Number.isInteger(opts.pathId) || opts.pathId < 0 || opts.pathId > MAX_PATH_ID) {
        throw new CidConfigError(`pathId must be 0..2^32-1, got ${opts.pathId}`);
      }
      // draft-ietf-quic-multipath-21: multipath needs non-zero-length CIDs on both sides.
      if (this.cidLength === 0) throw new CidConfigError('multipath (pathId) needs non-zero-length connection IDs');
    }
    this.pathId = opts.pathId;
    const onInitialPath = (opts.pathId ?? 0) === 0;

    if (opts.handshakeCid !== undefined) {
      if (!onInitialPath) throw new CidConfigError('only path 0 has a handshake connection ID');
      if (opts.handshakeCid.length !== this.cidLength) {
        throw new CidConfigError(
          `handshakeCid is ${opts.handshakeCid.length} bytes but this issuer's CIDs are ${this.cidLength} bytes`,
        );
      }
    }
    if (opts.preferredAddress) {
      // RFC 9000 §18.2: a server using zero-length CIDs must not send preferred_address.
      if (this.cidLength === 0) throw new CidConfigError('preferred_address needs non-zero-length connection IDs');
      if (!onInitialPath) throw new CidConfigError('the preferred_address CID belongs to path 0');
      if (this.localLimit < 2) throw new CidConfigError('preferred_address needs localLimit >= 2 (it is CID number 2)');
    }
    if (onInitialPath) {
      this.handshake = this.issue(opts.handshakeCid?.slice(), 'none');
      this.highestSent = HANDSHAKE_SEQUENCE_NUMBER;
      if (opts.preferredAddress) {
        this.preferred = this.issue(undefined, 'none');
        this.highestSent = PREFERRED_ADDRESS_SEQUENCE_NUMBER;
      }
    }
  }

  /** Sequence number 0: our handshake SCID (path 0 only). */
  get handshakeCid(): IssuedConnectionId | undefined {
    return this.handshake;
  }

  /** Sequence number 1 for the preferred_address transport parameter, when enabled. */
  get preferredAddressCid(): IssuedConnectionId | undefined {
    return this.preferred;
  }

  get retirePriorTo(): number {
    return this.retirePriorToValue;
  }

  /** The peer's active_connection_id_limit, once known. */
  get peerActiveConnectionIdLimit(): number | undefined {
    return this.peerLimit;
  }

  /** CIDs the peer may hold as active: issued, at or above Retire Prior To, not retired. */
  get activeCount(): number {
    let n = 0;
    for (const seq of this.records.keys()) if (seq >= this.retirePriorToValue) n++;
    return n;
  }

  /** CIDs below Retire Prior To that the peer has not retired yet. */
  get awaitingRetirementCount(): number {
    return this.records.size - this.activeCount;
  }

  /** Every CID not yet retired by the peer (including those awaiting retirement), by sequence number. */
  connectionIds(): IssuedConnectionId[] {
    return [...this.records.values()]
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
      .map(({ sequenceNumber, connectionId, statelessResetToken }) => ({ sequenceNumber, connectionId, statelessResetToken }));
  }

  /** Sequence number of one of our unretired CIDs, e.g. to notice that the peer switched DCID. */
  sequenceNumberOf(cid: Uint8Array): number | undefined {
    for (const r of this.records.values()) if (bytesEqual(r.connectionId, cid)) return r.sequenceNumber;
    return undefined;
  }

  /**
   * The peer's active_connection_id_limit transport parameter (RFC 9000 §18.2; pass 2 when absent). Issuing starts
   * here: we never give the peer more active CIDs than min(its limit, our localLimit) (RFC 9000 §5.1.1). May be
   * called again with a value at least as large (remembered 0-RTT parameters, then the handshake's).
   */
  setPeerActiveConnectionIdLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < MIN_ACTIVE_CONNECTION_ID_LIMIT) {
      // Normally caught when the transport parameters are decoded; kept here so a bad value can never be used.
      throw new QuicCodecError(
        TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
        `active_connection_id_limit ${limit} is below ${MIN_ACTIVE_CONNECTION_ID_LIMIT}`,
      );
    }
    if (this.peerLimit !== undefined && limit < this.peerLimit) {
      // Transport parameters never shrink (RFC 9000 §7.4.1 forbids it even across 0-RTT); CIDs already issued
      // under the larger limit could not be taken back.
      throw new CidConfigError(`the peer's active_connection_id_limit cannot drop from ${this.peerLimit} to ${limit}`);
    }
    this.peerLimit = limit;
    this.topUp();
  }

  /**
   * NEW_CONNECTION_ID (or PATH_NEW_CONNECTION_ID) frames to send now, at most `max`; the rest stay queued. Each
   * carries the current Retire Prior To. Never returns anything for zero-length CIDs (RFC 9000 §19.15: a peer that
   * sends zero-length DCIDs can receive none).
   */
  pollFrames(max = Infinity): AnyNewConnectionIdFrame[] {
    this.topUp();
    const frames: AnyNewConnectionIdFrame[] = [];
    let i = 0;
    for (; i < this.sendQueue.length && frames.length < max; i++) {
      const r = this.records.get(this.sendQueue[i]!);
      if (r === undefined || r.frame !== 'queued' || r.sequenceNumber < this.retirePriorToValue) continue;
      r.frame = 'in_flight';
      r.everSent = true;
      if (r.sequenceNumber > this.highestSent) this.highestSent = r.sequenceNumber;
      frames.push(
        newConnectionIdFrame(this.pathId, r.sequenceNumber, this.retirePriorToValue, r.connectionId, r.statelessResetToken),
      );
    }
    this.sendQueue = this.sendQueue.slice(i);
    return frames;
  }

  /** Whether `pollFrames()` would return something (no side effects: nothing is issued here). */
  get hasPendingFrames(): boolean {
    if (this.topUpTarget() > this.activeCount) return true;
    return this.sendQueue.some((seq) => {
      const r = this.records.get(seq);
      return r !== undefined && r.frame === 'queued' && seq >= this.retirePriorToValue;
    });
  }

  /** The packet carrying the frame for `sequenceNumber` was acknowledged. */
  onFrameAcked(sequenceNumber: number): void {
    const r = this.records.get(sequenceNumber);
    if (r !== undefined && r.frame === 'in_flight') r.frame = 'acked';
  }

  /**
   * The packet carrying the frame for `sequenceNumber` was declared lost: the frame is sent again while the CID is
   * still wanted (RFC 9000 §13.3). One below Retire Prior To is not: the peer retires it anyway.
   */
  onFrameLost(sequenceNumber: number): void {
    const r = this.records.get(sequenceNumber);
    if (r === undefined || r.frame !== 'in_flight') return;
    if (sequenceNumber < this.retirePriorToValue) return;
    r.frame = 'queued';
    this.sendQueue.push(sequenceNumber);
  }

  /**
   * The peer's RETIRE_CONNECTION_ID (or PATH_RETIRE_CONNECTION_ID) for `sequenceNumber`, carried in a packet whose
   * DCID was `arrivalDcid`. Retiring a CID twice is fine; a replacement is issued.
   * @throws QuicCodecError PROTOCOL_VIOLATION when we issued zero-length CIDs (RFC 9000 §19.16), the sequence number
   *   was never sent (RFC 9000 §19.16), or it names the CID the packet was sent to (RFC 9000 §19.16, a MAY we take).
   */
  onRetire(sequenceNumber: number, arrivalDcid: Uint8Array): void {
    const frameType = retireConnectionIdType(this.pathId);
    if (this.cidLength === 0) {
      throw new QuicCodecError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        'RETIRE_CONNECTION_ID received but we use zero-length connection IDs',
        frameType,
      );
    }
    if (sequenceNumber > this.highestSent) {
      throw new QuicCodecError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `retired sequence number ${sequenceNumber} but the largest sent is ${this.highestSent}`,
        frameType,
      );
    }
    const r = this.records.get(sequenceNumber);
    if (r === undefined) return;
    if (bytesEqual(r.connectionId, arrivalDcid)) {
      throw new QuicCodecError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `sequence number ${sequenceNumber} is the connection ID of the packet that retires it`,
        frameType,
      );
    }
    this.drop(r);
    this.topUp();
  }

  /**
   * Forced rotation (RFC 9000 §5.1.2): raises Retire Prior To past every CID the peer has been sent and issues fresh
   * ones; the next frames carry the new value and the peer must retire all older CIDs. CIDs never sent are not in the
   * peer's hands and are kept: first sends happen in sequence order, so they are the highest numbers, and Retire
   * Prior To stops at the first of them — no sequence number is skipped, so the peer never has to retire numbers it
   * never saw. Returns false (and does nothing) for zero-length CIDs, before the peer's limit is known, when the
   * peer holds nothing to rotate, or while the peer has not retired the CIDs of a previous rotation — rotating again
   * then could push its pending retirements past what RFC 9000 §5.1.2 asks it to track.
   */
  rotate(): boolean {
    if (this.cidLength === 0 || this.peerLimit === undefined) return false;
    if (this.awaitingRetirementCount > 0) return false;
    let retirePriorTo = this.nextSequenceNumber;
    for (const r of this.records.values()) {
      if (!r.everSent && r.frame !== 'none' && r.sequenceNumber < retirePriorTo) retirePriorTo = r.sequenceNumber;
    }
    if (retirePriorTo <= this.retirePriorToValue) return false;
    this.retirePriorToValue = retirePriorTo;
    this.topUp();
    return true;
  }

  /** Router updates since the last call. */
  pollEvents(): CidEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** The connection is gone: every remaining CID is reported retired so the router forgets it. */
  discard(): void {
    for (const r of [...this.records.values()]) this.drop(r);
    this.sendQueue = [];
    this.peerLimit = undefined;
  }

  /** How many active CIDs the peer should hold: 0 while nothing may be issued. */
  private topUpTarget(): number {
    if (this.cidLength === 0 || this.peerLimit === undefined) return 0;
    return Math.min(this.peerLimit, this.localLimit);
  }

  private topUp(): void {
    const target = this.topUpTarget();
    for (let active = this.activeCount; active < target; active++) this.issue(undefined, 'queued');
  }

  private issue(given: Uint8Array | undefined, frame: FrameState): IssuedConnectionId {
    const connectionId = given ?? this.generateUnique();
    const sequenceNumber = this.nextSequenceNumber++;
    const statelessResetToken = this.resetKey.token(connectionId);
    const r: LocalCid = { sequenceNumber, connectionId, statelessResetToken, frame, everSent: false };
    this.records.set(sequenceNumber, r);
    if (frame === 'queued') this.sendQueue.push(sequenceNumber);
    if (this.cidLength > 0) {
      this.events.push({ type: 'issued', cid: connectionId, sequenceNumber, pathId: this.pathId ?? 0, statelessResetToken });
    }
    return { sequenceNumber, connectionId, statelessResetToken };
  }

  private generateUnique(): Uint8Array {
    for (let attempt = 0; attempt < MAX_GENERATE_ATTEMPTS; attempt++) {
      const cid = this.generator.generate();
      if (cid.length !== this.cidLength) {
        throw new CidConfigError(`generator returned ${cid.length} bytes, declared ${this.cidLength}`);
      }
      // RFC 9000 §5.1: the same CID must not be issued twice; endpoint-wide uniqueness keeps routing unambiguous.
      if (this.cidLength === 0) return cid;
      if (this.sequenceNumberOf(cid) === undefined && !(this.isCidInUse?.(cid) ?? false)) return cid;
    }
    throw new CidConfigError(
      `no unused connection ID after ${MAX_GENERATE_ATTEMPTS} draws: the generator's CID space is exhausted`,
    );
  }

  private drop(r: LocalCid): void {
    this.records.delete(r.sequenceNumber);
    if (this.cidLength > 0) {
      this.events.push({ type: 'retired', cid: r.connectionId, sequenceNumber: r.sequenceNumber, pathId: this.pathId ?? 0 });
    }
  }
}
