import { FrameType, protocolViolation } from '@pathquic/wire-codec';
import type { PathChallengeFrame, PathResponseFrame } from '@pathquic/wire-codec';
import { AmplificationLimiter } from './amplification.js';
import { ChallengeResponder } from './challenge-responder.js';
import type { ResponseTransmit } from './challenge-responder.js';
import { DEFAULT_MAX_ACK_DELAY, PATH_CHALLENGE_DATA_LENGTH } from './constants.js';
import { PathConfigError, requireInteger, requirePositiveDuration, requireTime } from './errors.js';
import { checkPathAddress, isPortOnlyChange, samePeerAddress } from './path-address.js';
import type { PathAddress } from './path-address.js';
import { PathValidator } from './path-validator.js';
import type { ChallengeTransmit, PathResponseMatch } from './path-validator.js';
import { cryptoRandom } from './random.js';
import type { RandomSource } from './random.js';
import { initialPto } from './recovery-times.js';
import type {
  CongestionAction,
  DatagramInfo,
  DatagramVerdict,
  MigrationControllerOptions,
  MigrationEvent,
  MigrationResult,
  MigrationRole,
  PathChangeReason,
  PathStatus,
  ProbeTransmit,
  ValidationPurpose,
} from './migration-types.js';

interface PathRecord {
  address: PathAddress;
  limiter: AmplificationLimiter;
  validator: PathValidator;
  /** The peer's address on this path is validated (handshake, token, or path validation). */
  validated: boolean;
  hasPeerCid: boolean;
  lastUsed: number;
  validationRtt: number | undefined;
}

const DEFAULT_MAX_PATHS = 4;
/** Active path, fallback path and at least one new path must fit. */
const MIN_MAX_PATHS = 3;
/** Challenge data remembered for `rejectUnknownPathResponse`, across paths the controller forgot. */
const RECENT_CHALLENGES = 64;

/**
 * Connection-level migration policy (RFC 9000 §9), sans-I/O. The core feeds it every datagram (`onDatagram`, whose
 * verdict says whether to process or drop it), every PATH_CHALLENGE and PATH_RESPONSE, and the handshake state;
 * it owns one PathValidator and AmplificationLimiter per path plus a ChallengeResponder, and tells the core what
 * to do through `pollEvent()` and `pollTransmit()`. See the package README for the contract with the core.
 */
export class MigrationController {
  readonly role: MigrationRole;
  readonly pathId: number;
  readonly #random: RandomSource;
  readonly #disableActiveMigration: boolean;
  readonly #onDisabledMigration: 'drop' | 'validate';
  readonly #allowNatRebinding: boolean;
  readonly #maxPaths: number;
  readonly #rejectUnknownPathResponse: boolean;
  readonly #acquirePeerCid: (path: PathAddress) => boolean;
  readonly #minDatagramSize: number | undefined;
  readonly #handshakePath: PathAddress;
  readonly #paths = new Map<string, PathRecord>();
  readonly #responder: ChallengeResponder;
  readonly #events: MigrationEvent[] = [];
  readonly #recentChallenges: Uint8Array[] = [];
  #active: PathRecord;
  #fallbackKey: string | undefined;
  #pto: number;
  #maxAckDelay: number;
  #handshakeConfirmed = false;
  #peerDisableActiveMigration = false;
  #actedOnPreferredAddress = false;
  #largestNonProbingPn = -1;

  constructor(options: MigrationControllerOptions) {
    if (options.role !== 'client' && options.role !== 'server') {
      throw new PathConfigError(`role must be 'client' or 'server', got ${String(options.role)}`);
    }
    this.role = options.role;
    this.pathId = requireInteger('pathId', options.pathId ?? 0, 0);
    this.#random = options.random ?? cryptoRandom;
    this.#maxAckDelay = requireInteger('maxAckDelay', options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY, 0);
    this.#pto = requirePositiveDuration('pto', options.pto ?? initialPto(this.#maxAckDelay));
    this.#disableActiveMigration = options.disableActiveMigration ?? false;
    this.#onDisabledMigration = options.onDisabledMigration ?? 'drop';
    if (this.#onDisabledMigration !== 'drop' && this.#onDisabledMigration !== 'validate') {
      throw new PathConfigError(`onDisabledMigration must be 'drop' or 'validate'`);
    }
    this.#allowNatRebinding = options.allowNatRebinding ?? true;
    this.#maxPaths = requireInteger('maxPaths', options.maxPaths ?? DEFAULT_MAX_PATHS, MIN_MAX_PATHS, 1024);
    this.#rejectUnknownPathResponse = options.rejectUnknownPathResponse ?? false;
    this.#acquirePeerCid = options.acquirePeerCid ?? (() => true);
    this.#minDatagramSize = options.minDatagramSize;
    this.#responder = new ChallengeResponder({
      ...(options.maxQueuedResponses === undefined ? {} : { maxQueued: options.maxQueuedResponses }),
      ...(options.minDatagramSize === undefined ? {} : { minDatagramSize: options.minDatagramSize }),
    });
    this.#handshakePath = checkPathAddress(options.initialPath);
    const validated = options.initialPathValidated ?? this.role === 'client';
    this.#active = this.#track(options.initialPath, validated, 0);
    this.#active.validated = validated;
    this.#active.hasPeerCid = true;
  }

  /** Where non-probing packets go. */
  get activePath(): PathAddress {
    return this.#active.address;
  }

  get handshakeConfirmed(): boolean {
    return this.#handshakeConfirmed;
  }

  /** Largest packet number of a non-probing packet seen (RFC 9000 §9.3), −1 before any. */
  get largestNonProbingPacketNumber(): number {
    return this.#largestNonProbingPn;
  }

  /** RFC 9001 §4.1.2: migration is possible from here on (RFC 9000 §9). */
  onHandshakeConfirmed(): void {
    this.#handshakeConfirmed = true;
  }

  /** The peer's transport parameters: its disable_active_migration binds this endpoint (RFC 9000 §9). */
  onPeerTransportParameters(params: { disableActiveMigration?: boolean; maxAckDelay?: number }): void {
    this.#peerDisableActiveMigration = params.disableActiveMigration ?? false;
    if (params.maxAckDelay !== undefined) this.#maxAckDelay = requireInteger('maxAckDelay', params.maxAckDelay, 0);
  }

  /** The connection's PTO changed (RFC 9002 §6.2.1); used for validations started from now on. */
  setPto(pto: number): void {
    this.#pto = requirePositiveDuration('pto', pto);
  }

  /**
   * The peer's address on `pathKey` (default: the active path) was validated outside path validation: a server
   * processed a Handshake packet or a valid token (RFC 9000 §8.1). Lifts the anti-amplification limit.
   */
  onAddressValidated(pathKey: string = this.#active.address.key): void {
    const record = this.#require(pathKey);
    record.validated = true;
    record.limiter.markValidated();
  }

  /** A peer CID may have become available: paths waiting for one try again (see `acquirePeerCid`). */
  onPeerCidAvailable(): void {
    for (const record of this.#paths.values()) {
      if (!record.hasPeerCid) record.hasPeerCid = this.#acquirePeerCid(record.address);
    }
  }

  /**
   * Every datagram attributed to the connection, after its packet was authenticated and its frames decoded (before
   * they are processed). The verdict says whether to process the frames or drop the packet silently.
   */
  onDatagram(info: DatagramInfo): DatagramVerdict {
    const now = requireTime(info.now);
    requireInteger('bytes', info.bytes, 0);
    const pn = info.packetNumber;
    if (pn !== undefined) requireInteger('packetNumber', pn, 0);
    const known = this.#paths.get(info.path.key);
    if (known !== undefined) {
      known.limiter.onReceived(info.bytes);
      known.lastUsed = now;
      if (pn === undefined) return 'process';
      const highestNonProbing = info.nonProbing === true && pn > this.#largestNonProbingPn;
      if (highestNonProbing) this.#largestNonProbingPn = pn;
      // RFC 9000 §9: only clients migrate; a client never follows a server's address.
      if (highestNonProbing && known !== this.#active && this.role === 'server') this.#followPeer(known, now);
      return 'process';
    }
    if (this.role === 'client') return 'unknown-server-address';
    if (pn === undefined) return 'untracked-path';
    if (!this.#handshakeConfirmed) return 'handshake-not-confirmed';
    if (this.#disableActiveMigration && !this.#toleratedDespiteDisable(info.path)) return 'migration-disabled';
    const record = this.#track(checkPathAddress(info.path), false, now);
    record.hasPeerCid = this.#acquirePeerCid(record.address);
    record.limiter.onReceived(info.bytes);
    if (info.nonProbing === true && pn > this.#largestNonProbingPn) {
      this.#largestNonProbingPn = pn;
      this.#followPeer(record, now);
    }
    return 'process';
  }

  /** A PATH_CHALLENGE arrived on `pathKey` (in a datagram whose verdict was 'process'). */
  onPathChallenge(pathKey: string, data: Uint8Array): void {
    const record = this.#require(pathKey);
    this.#responder.onPathChallenge(pathKey, data, { pathId: this.pathId, onActivePath: record === this.#active });
  }

  /**
   * A PATH_RESPONSE arrived, on any path (RFC 9000 §8.2.2: the challenger must not require the challenge's path).
   * Throws QuicCodecError(PROTOCOL_VIOLATION) for data never sent when `rejectUnknownPathResponse` is set.
   */
  onPathResponse(data: Uint8Array, now: number): PathResponseMatch {
    requireTime(now);
    let result: PathResponseMatch = 'unknown';
    for (const record of [...this.#paths.values()]) {
      const match = record.validator.onPathResponse(data, now);
      this.#drain(record, now);
      if (match === 'unknown') continue;
      result = match;
      if (match !== 'stale') break;
    }
    if (result === 'unknown' && this.#wasRecentlySent(data)) result = 'stale';
    if (result === 'unknown' && this.#rejectUnknownPathResponse) {
      throw protocolViolation('PATH_RESPONSE echoes no PATH_CHALLENGE that was sent', FrameType.PATH_RESPONSE);
    }
    return result;
  }

  /**
   * The next datagram of probing frames to send, or undefined. PATH_RESPONSEs go first (RFC 9000 §8.2.2: never
   * delayed except by congestion control). Every datagram the core sends on any path must then be reported with
   * `onDatagramSent`.
   */
  pollTransmit(now: number): ProbeTransmit | undefined {
    requireTime(now);
    for (const record of this.#paths.values()) {
      if (!record.hasPeerCid) continue;
      const allowance = record.limiter.allowance();
      const response = this.#responder.pollTransmitOn(record.address.key, allowance, this.pathId);
      if (response === undefined) continue;
      return this.#transmit(record, response, record.validator.pollTransmit(now, allowance));
    }
    for (const record of this.#paths.values()) {
      if (!record.hasPeerCid) continue;
      const challenge = record.validator.pollTransmit(now, record.limiter.allowance());
      if (challenge !== undefined) return this.#transmit(record, undefined, challenge);
    }
    return undefined;
  }

  /** Bytes that may be sent on `pathKey` now (RFC 9000 §8.1, §9.3.1); Infinity once the path is validated. */
  allowance(pathKey: string = this.#active.address.key): number {
    return this.#require(pathKey).limiter.allowance();
  }

  canSend(pathKey: string, bytes: number): boolean {
    return this.#require(pathKey).limiter.canSend(bytes);
  }

  /** Every datagram sent, on any path (throws PathConfigError past the anti-amplification limit). */
  onDatagramSent(pathKey: string, bytes: number): void {
    this.#require(pathKey).limiter.onSent(bytes);
  }

  /**
   * Client: move to a new local address now (RFC 9000 §9.2). Non-probing packets go to the new path at once while
   * it is validated; if validation fails the controller falls back to the last validated path.
   * `preferredAddress`: the path goes to the server's preferred_address (RFC 9000 §9.6), which lifts the peer's
   * disable_active_migration for later migrations.
   */
  migrate(path: PathAddress, now: number, options: { preferredAddress?: boolean } = {}): MigrationResult {
    const checked = this.#checkClientPath(path, now);
    if (checked !== undefined) return checked;
    const existing = this.#paths.get(path.key);
    const record = existing ?? this.#trackLocal(path, now);
    if (record === undefined) return { ok: false, reason: 'no-peer-cid' };
    const previous = this.#active;
    if (previous.validated) this.#fallbackKey = previous.address.key;
    const congestion: CongestionAction = record.validated
      ? 'restore'
      : isPortOnlyChange(previous.address, record.address)
        ? 'keep'
        : 'reset';
    this.#switchTo(record, 'local-migration', congestion, now);
    if (options.preferredAddress === true) this.#actedOnPreferredAddress = true;
    this.#abandonOthers(record, undefined);
    if (!record.validated && record.validator.state !== 'validating') {
      this.#startValidation(record, 'local-migration', now);
    }
    return { ok: true };
  }

  /**
   * Client: validate a path without moving to it (RFC 9000 §9.1 probing), e.g. a new interface or the server's
   * preferred address (§9.6.1). A `path-validated` event follows; `migrate` to it then needs no new validation.
   */
  probe(path: PathAddress, now: number): MigrationResult {
    const checked = this.#checkClientPath(path, now);
    if (checked !== undefined) return checked;
    const record = this.#paths.get(path.key) ?? this.#trackLocal(path, now);
    if (record === undefined) return { ok: false, reason: 'no-peer-cid' };
    if (!record.validated && record.validator.state !== 'validating') this.#startValidation(record, 'probe', now);
    return { ok: true };
  }

  /** Next time to call `onTimeout` or `pollTransmit`; undefined when no validation runs. */
  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const record of this.#paths.values()) {
      const t = record.hasPeerCid ? record.validator.nextTimeout() : record.validator.deadline;
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  onTimeout(now: number): void {
    requireTime(now);
    for (const record of [...this.#paths.values()]) {
      if (!this.#paths.has(record.address.key)) continue;
      record.validator.onTimeout(now);
      this.#drain(record, now);
    }
  }

  pollEvent(): MigrationEvent | undefined {
    return this.#events.shift();
  }

  /** The paths tracked now, active first. */
  paths(): PathStatus[] {
    const list: PathStatus[] = [this.#status(this.#active)];
    for (const record of this.#paths.values()) if (record !== this.#active) list.push(this.#status(record));
    return list;
  }

  pathStatus(pathKey: string): PathStatus | undefined {
    const record = this.#paths.get(pathKey);
    return record === undefined ? undefined : this.#status(record);
  }

  #status(record: PathRecord): PathStatus {
    return {
      path: record.address,
      active: record === this.#active,
      validated: record.validated,
      validating: record.validator.state === 'validating',
      hasPeerCid: record.hasPeerCid,
      allowance: record.limiter.allowance(),
      validationRtt: record.validationRtt,
    };
  }

  // RFC 9000 §9.3: the peer's highest-numbered non-probing packet came from `record`'s address.
  #followPeer(record: PathRecord, now: number): void {
    const previous = this.#active;
    const portOnly = isPortOnlyChange(previous.address, record.address);
    if (previous.validated) this.#fallbackKey = previous.address.key;
    // RFC 9000 §9.3: a validated address may skip validation and get its state back; §9.4: a new address resets
    // congestion control and RTT unless only the port changed.
    const congestion: CongestionAction = record.validated ? 'restore' : portOnly ? 'keep' : 'reset';
    this.#switchTo(record, portOnly ? 'nat-rebinding' : 'peer-migration', congestion, now);
    if (record.validated) {
      // Back on a validated path (e.g. after a spurious migration, §9.3.2): validations can stop (§9.3), including
      // an off-path check of this very path, but not a running full-size MTU re-validation.
      if (!record.validator.addressValidated) record.validator.abandon();
      this.#abandonOthers(record, undefined);
      return;
    }
    // §9.3: validations of other addresses may stop; §9.3.3: the previously active path MUST be validated.
    this.#abandonOthers(record, previous);
    if (record.validator.state !== 'validating') this.#startValidation(record, 'new-peer-address', now);
    if (previous.validator.state !== 'validating') this.#startValidation(previous, 'previous-path', now);
  }

  #switchTo(record: PathRecord, reason: PathChangeReason, congestion: CongestionAction, now: number): void {
    const from = this.#active.address;
    this.#active = record;
    record.lastUsed = now;
    this.#events.push({ type: 'active-path-changed', pathId: this.pathId, from, to: record.address, reason, congestion });
  }

  #startValidation(record: PathRecord, purpose: ValidationPurpose, now: number): void {
    record.validator.start(now, { pto: this.#pto, initialPto: initialPto(this.#maxAckDelay) });
    this.#events.push({ type: 'path-validation-started', pathId: this.pathId, path: record.address, purpose });
  }

  /** Abandons validations other than the active path's and `keep`'s; paths never validated are forgotten. */
  #abandonOthers(active: PathRecord, keep: PathRecord | undefined): void {
    for (const record of [...this.#paths.values()]) {
      if (record === active || record === keep || record.validator.state !== 'validating') continue;
      record.validator.abandon();
      if (!record.validated) this.#discard(record);
    }
  }

  #drain(record: PathRecord, now: number): void {
    for (let event = record.validator.pollEvent(); event !== undefined; event = record.validator.pollEvent()) {
      if (event.type === 'failed') {
        this.#onValidationFailed(record, event.reason, now);
        continue;
      }
      record.validated = true;
      record.validationRtt = event.rtt;
      record.limiter.markValidated();
      this.#events.push({
        type: 'path-validated',
        pathId: this.pathId,
        path: record.address,
        mtuValidated: event.type === 'validated',
        rtt: event.rtt,
      });
    }
  }

  #onValidationFailed(record: PathRecord, reason: 'timeout' | 'mtu', now: number): void {
    // A path that cannot carry 1200-byte datagrams is unusable too (RFC 9000 §14.1, §8.2.3).
    record.validated = false;
    if (this.#fallbackKey === record.address.key) this.#fallbackKey = undefined;
    this.#events.push({ type: 'path-validation-failed', pathId: this.pathId, path: record.address, reason });
    if (record !== this.#active) {
      this.#discard(record);
      return;
    }
    const fallback = this.#fallbackKey === undefined ? undefined : this.#paths.get(this.#fallbackKey);
    if (fallback === undefined || !fallback.validated) {
      this.#events.push({ type: 'no-viable-path', pathId: this.pathId, path: record.address });
      return;
    }
    // RFC 9000 §9.3.2: revert to the last validated peer address.
    this.#fallbackKey = undefined;
    this.#switchTo(fallback, 'fallback', 'restore', now);
    this.#discard(record);
  }

  #transmit(
    record: PathRecord,
    response: ResponseTransmit | undefined,
    challenge: ChallengeTransmit | undefined,
  ): ProbeTransmit {
    const frames: (PathChallengeFrame | PathResponseFrame)[] = [];
    let padTo = Number.POSITIVE_INFINITY;
    if (response !== undefined) {
      frames.push(response.frame);
      padTo = response.padTo;
    }
    if (challenge !== undefined) {
      frames.push(challenge.frame);
      padTo = Math.min(padTo, challenge.padTo);
      this.#rememberChallenge(challenge.frame.data);
    }
    return {
      path: record.address,
      pathId: this.pathId,
      frames,
      padTo,
      elicitNonProbing: response?.elicitNonProbing ?? false,
    };
  }

  #checkClientPath(path: PathAddress, now: number): MigrationResult | undefined {
    if (this.role !== 'client') {
      throw new PathConfigError('only a client initiates migration or probes new paths (RFC 9000 §9)');
    }
    requireTime(now);
    checkPathAddress(path);
    if (path.key === this.#active.address.key) return { ok: false, reason: 'already-active' };
    // RFC 9000 §9: no migration before the handshake is confirmed.
    if (!this.#handshakeConfirmed) return { ok: false, reason: 'handshake-not-confirmed' };
    // RFC 9000 §9: with the peer's disable_active_migration, no packets (probes included) from a new local address
    // to the peer's handshake address, unless the client acted on the server's preferred_address.
    if (this.#peerDisableActiveMigration && !this.#actedOnPreferredAddress && samePeerAddress(path, this.#handshakePath)) {
      return { ok: false, reason: 'peer-disabled-active-migration' };
    }
    return undefined;
  }

  #trackLocal(path: PathAddress, now: number): PathRecord | undefined {
    // Checked before tracking: a client does not create a path it cannot send on (RFC 9000 §9.5).
    if (!this.#acquirePeerCid(path)) return undefined;
    const record = this.#track(path, true, now);
    record.hasPeerCid = true;
    return record;
  }

  #toleratedDespiteDisable(path: PathAddress): boolean {
    if (this.#onDisabledMigration === 'validate') return true;
    return this.#allowNatRebinding && isPortOnlyChange(this.#active.address, path);
  }

  #track(address: PathAddress, limiterValidated: boolean, now: number): PathRecord {
    if (this.#paths.size >= this.#maxPaths) this.#evictOne();
    const record: PathRecord = {
      address,
      limiter: new AmplificationLimiter({ validated: limiterValidated, pathId: this.pathId }),
      validator: new PathValidator({
        pathId: this.pathId,
        random: this.#random,
        ...(this.#minDatagramSize === undefined ? {} : { minDatagramSize: this.#minDatagramSize }),
      }),
      validated: false,
      validationRtt: undefined,
      hasPeerCid: false,
      lastUsed: now,
    };
    this.#paths.set(address.key, record);
    return record;
  }

  /** Forgets the least recently used path that is neither active nor the fallback, preferring idle ones. */
  #evictOne(): void {
    let victim: PathRecord | undefined;
    for (const record of this.#paths.values()) {
      if (record === this.#active || record.address.key === this.#fallbackKey) continue;
      if (
        victim === undefined ||
        rank(record) < rank(victim) ||
        (rank(record) === rank(victim) && record.lastUsed < victim.lastUsed)
      ) {
        victim = record;
      }
    }
    if (victim !== undefined) this.#discard(victim);
  }

  #discard(record: PathRecord): void {
    if (record === this.#active || !this.#paths.delete(record.address.key)) return;
    record.validator.abandon();
    this.#responder.discardPath(record.address.key);
    this.#events.push({ type: 'path-discarded', pathId: this.pathId, path: record.address });
  }

  #require(pathKey: string): PathRecord {
    const record = this.#paths.get(pathKey);
    if (record === undefined) throw new PathConfigError(`path ${pathKey} is not tracked (was its datagram dropped?)`);
    return record;
  }

  #rememberChallenge(data: Uint8Array): void {
    if (!this.#rejectUnknownPathResponse) return;
    if (this.#recentChallenges.length === RECENT_CHALLENGES) this.#recentChallenges.shift();
    this.#recentChallenges.push(data.slice());
  }

  #wasRecentlySent(data: Uint8Array): boolean {
    if (data.length !== PATH_CHALLENGE_DATA_LENGTH) return false;
    return this.#recentChallenges.some((sent) => sent.every((byte, i) => byte === data[i]));
  }
}

/** Eviction order: paths not being validated go before paths being validated. */
function rank(record: PathRecord): number {
  return record.validator.state === 'validating' ? 1 : 0;
}
