import type { PathChallengeFrame, PathResponseFrame } from '@pathquic/wire-codec';
import type { PathAddress } from './path-address.js';
import type { RandomSource } from './random.js';

/** Inputs and outputs of MigrationController (RFC 9000 §9). */

export type MigrationRole = 'client' | 'server';

export interface MigrationControllerOptions {
  role: MigrationRole;
  /** The path the handshake runs on. */
  initialPath: PathAddress;
  /**
   * Default: true for a client (it chose the server's address), false for a server, which calls
   * `onAddressValidated()` once the handshake validates the client's address (RFC 9000 §8.1); until then the
   * initial path is under the anti-amplification limit too.
   */
  initialPathValidated?: boolean;
  /** Multipath path ID (draft-ietf-quic-multipath-21): one controller per path ID; 0 is the single-path form. */
  pathId?: number;
  random?: RandomSource;
  /** Current PTO in ms (RFC 9002 §6.2.1); update with `setPto`. Default: the initial PTO. */
  pto?: number;
  /** Peer's max_ack_delay transport parameter in ms (RFC 9000 §18.2, default 25), for the initial PTO. */
  maxAckDelay?: number;
  /** This endpoint sent disable_active_migration (RFC 9000 §18.2). */
  disableActiveMigration?: boolean;
  /**
   * What to do with packets from a new peer address although we sent disable_active_migration. RFC 9000 §9 allows
   * both dropping them (never with a stateless reset) and validating the path to let the peer migrate. Default 'drop'.
   */
  onDisabledMigration?: 'drop' | 'validate';
  /**
   * With disable_active_migration sent and 'drop' chosen, still follow a change of port only: that is NAT rebinding,
   * not active migration, which is all the transport parameter forbids (RFC 9000 §9, §18.2). Default true.
   */
  allowNatRebinding?: boolean;
  /** Paths tracked at once (active, fallback, probes, validations); least recently used ones go first. Default 4. */
  maxPaths?: number;
  /** Bound of the PATH_RESPONSE queue; see ChallengeResponder. Default 16. */
  maxQueuedResponses?: number;
  /**
   * RFC 9000 §19.18: a PATH_RESPONSE matching no PATH_CHALLENGE ever sent MAY be a PROTOCOL_VIOLATION. Default
   * false: it is ignored (responses to challenges of forgotten paths are indistinguishable from garbage).
   */
  rejectUnknownPathResponse?: boolean;
  /**
   * Called once for every path the controller starts tracking besides the initial one: reserve an unused peer
   * connection ID for it (RFC 9000 §9.5: never the same CID on two paths), e.g. `PeerCidPool.acquire(path.key)`.
   * Release it on `path-discarded`. Return false when none is available: a client then refuses to migrate or
   * probe; a server still follows the peer (RFC 9000 §9.3) but sends nothing on the path until
   * `onPeerCidAvailable()` finds one. Default: always true.
   */
  acquirePeerCid?: (path: PathAddress) => boolean;
  /** Smallest amplification allowance worth a probe datagram; see MIN_PROBE_DATAGRAM. */
  minDatagramSize?: number;
}

/** What to do with a datagram: process it, or drop it silently (never answer with a stateless reset, §9). */
export type DatagramVerdict =
  | 'process'
  /** RFC 9000 §9: a client discards packets from a server address it does not know. */
  | 'unknown-server-address'
  /** RFC 9000 §9: addresses must stay stable until the handshake is confirmed. */
  | 'handshake-not-confirmed'
  /** RFC 9000 §9: we sent disable_active_migration and the peer moved anyway. */
  | 'migration-disabled'
  /** A datagram that was not authenticated (no packet number given) from a path not tracked: no state is created. */
  | 'untracked-path';

export interface DatagramInfo {
  /** The 4-tuple the datagram arrived on. */
  path: PathAddress;
  /** UDP payload bytes (amplification accounting, RFC 9000 §8.1: counted even when the packets are discarded). */
  bytes: number;
  now: number;
  /**
   * Packet number of the authenticated 1-RTT packet the datagram carried (application data space). Omit it for
   * datagrams that were only counted (long-header packets, or packets that failed to decrypt).
   */
  packetNumber?: number;
  /** The packet had a non-probing frame (RFC 9000 §9.1; wire-codec's PacketFrameSummary.NON_PROBING). */
  nonProbing?: boolean;
}

/**
 * Congestion controller and RTT estimator on a path change (RFC 9000 §9.4): `keep` them (only ports changed),
 * `reset` to initial values, or `restore` the state saved when this path was last left (reset when none was saved,
 * RFC 9000 §9.3: returning to a validated path after a spurious migration).
 */
export type CongestionAction = 'keep' | 'reset' | 'restore';

export type PathChangeReason =
  /** The peer sent its highest-numbered non-probing packet from a new address (RFC 9000 §9.3). */
  | 'peer-migration'
  /** Like peer-migration, but only the port changed: NAT rebinding (RFC 9000 §9, §9.4). */
  | 'nat-rebinding'
  /** This client moved to a new local address (RFC 9000 §9.2). */
  | 'local-migration'
  /** Validation of the active path failed: back to the last validated one (RFC 9000 §9.3.2). */
  | 'fallback';

/** Why a validation started: RFC 9000 §9.3 (new peer address), §9.3.3 (previous path), §9.2, §9.1. */
export type ValidationPurpose = 'new-peer-address' | 'previous-path' | 'local-migration' | 'probe';

export type MigrationEvent =
  /** Send non-probing packets on `to` from now on, using the peer CID reserved for it. */
  | {
      type: 'active-path-changed';
      pathId: number;
      from: PathAddress;
      to: PathAddress;
      reason: PathChangeReason;
      congestion: CongestionAction;
    }
  /** The controller started validating `path` (its challenges come out of `pollTransmit`). */
  | { type: 'path-validation-started'; pathId: number; path: PathAddress; purpose: ValidationPurpose }
  /**
   * Path validation succeeded; `mtuValidated` false means a full-size re-validation is still running. `rtt`: ms
   * from sending the answered PATH_CHALLENGE to its PATH_RESPONSE, the path's first RTT sample.
   */
  | { type: 'path-validated'; pathId: number; path: PathAddress; mtuValidated: boolean; rtt: number }
  | { type: 'path-validation-failed'; pathId: number; path: PathAddress; reason: 'timeout' | 'mtu' }
  /** The controller forgot the path: release its peer CID (PeerCidPool.release / retireForPath). */
  | { type: 'path-discarded'; pathId: number; path: PathAddress }
  /**
   * The active path failed validation and no validated path is left. RFC 9000 §9.3.2: a server then closes silently
   * (discards the connection state); RFC 9000 §8.2.4 allows closing with NO_VIABLE_PATH or waiting for a new path.
   */
  | { type: 'no-viable-path'; pathId: number; path: PathAddress };

/** A datagram of probing frames to send on `path`: PATH_RESPONSE first, possibly a PATH_CHALLENGE with it. */
export interface ProbeTransmit {
  path: PathAddress;
  pathId: number;
  frames: (PathChallengeFrame | PathResponseFrame)[];
  /** Pad the datagram to this many bytes of UDP payload: 1200, or less under the amplification limit. */
  padTo: number;
  /** Add a non-probing frame such as PING (RFC 9000 §9.3.3: a challenge on the active path asks for one). */
  elicitNonProbing: boolean;
}

export type MigrationRefusal =
  | 'handshake-not-confirmed'
  | 'peer-disabled-active-migration'
  | 'no-peer-cid'
  | 'already-active';

export type MigrationResult = { ok: true } | { ok: false; reason: MigrationRefusal };

/** A snapshot of one tracked path. */
export interface PathStatus {
  path: PathAddress;
  active: boolean;
  validated: boolean;
  validating: boolean;
  hasPeerCid: boolean;
  /** Anti-amplification allowance in bytes (Infinity once validated). */
  allowance: number;
  /** The round trip of the PATH_CHALLENGE that validated the path, in ms (undefined before that). */
  validationRtt: number | undefined;
}
