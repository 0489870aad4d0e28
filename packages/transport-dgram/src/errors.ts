/** Errors the transport hands to applications: each names what happened in terms a caller can act on. */
import type { CloseInfo } from '@pathquic/core';

/** Why a handshake failed. */
export type HandshakeFailureReason = 'certificate' | 'alpn' | 'timeout' | 'version' | 'closed' | 'aborted';

/** connect() (or a connection's `ready`) failed before the handshake completed. */
export class QuicHandshakeError extends Error {
  override readonly name = 'QuicHandshakeError';
  readonly reason: HandshakeFailureReason;
  /** How the connection ended, as core reported it (absent when it never started, e.g. an aborted lookup). */
  readonly closeInfo: CloseInfo | undefined;

  constructor(reason: HandshakeFailureReason, message: string, closeInfo?: CloseInfo) {
    super(message);
    this.reason = reason;
    this.closeInfo = closeInfo;
  }
}

/** A stream was reset by the peer (RESET_STREAM), stopped by it (STOP_SENDING), or reset/stopped locally. */
export class QuicStreamError extends Error {
  override readonly name = 'QuicStreamError';
  /** The application error code carried by RESET_STREAM / STOP_SENDING. */
  readonly code: number;
  /** 'reset': the peer reset its sending part; 'stop-sending': the peer asked us to stop; 'local': we did it. */
  readonly kind: 'reset' | 'stop-sending' | 'local';

  constructor(code: number, kind: 'reset' | 'stop-sending' | 'local', message?: string) {
    super(message ?? defaultStreamMessage(code, kind));
    this.code = code;
    this.kind = kind;
  }
}

function defaultStreamMessage(code: number, kind: 'reset' | 'stop-sending' | 'local'): string {
  if (kind === 'reset') return `the peer reset the stream with code ${code}`;
  if (kind === 'stop-sending') return `the peer stopped reading the stream with code ${code}`;
  return `the stream was reset locally with code ${code}`;
}

/** The connection ended while a stream or an operation was still in use. */
export class QuicConnectionClosedError extends Error {
  override readonly name = 'QuicConnectionClosedError';
  readonly closeInfo: CloseInfo;

  constructor(info: CloseInfo) {
    super(describeClose(info));
    this.closeInfo = info;
  }
}

export function toNumberCode(code: number | bigint): number {
  return typeof code === 'bigint' ? Number(code) : code;
}

/** A one-line description of a close, e.g. "closed by the peer: application error 7 (bye)". */
export function describeClose(info: CloseInfo): string {
  const code = `${info.application ? 'application' : 'transport'} error 0x${info.errorCode.toString(16)}`;
  const reason = info.reason === '' ? '' : ` (${info.reason})`;
  switch (info.source) {
    case 'local':
      return `connection closed locally: ${code}${reason}`;
    case 'remote':
      return `connection closed by the peer: ${code}${reason}`;
    case 'idle-timeout':
      return 'connection closed: idle timeout';
    case 'handshake-timeout':
      return `connection closed: handshake timeout${reason}`;
    case 'stateless-reset':
      return 'connection closed: the peer sent a stateless reset';
    case 'version-negotiation':
      return `connection closed: version negotiation failed${reason}`;
  }
}

/** RFC 9001 §4.8: a TLS alert travels as the transport error 0x100 + AlertDescription. */
const CRYPTO_ERROR_BASE = 0x100;
/** RFC 8446 §6.2 alerts about certificates: bad_certificate(42) ... certificate_unknown(46), unknown_ca(48), certificate_required(116). */
const CERTIFICATE_ALERTS = new Set([42, 43, 44, 45, 46, 48, 116]);
/** RFC 7301 §3.2: no_application_protocol(120). */
const ALERT_NO_APPLICATION_PROTOCOL = 120;

/** Maps how a connection that never completed its handshake ended to a reason and a message. */
export function handshakeErrorFromClose(info: CloseInfo, aborted: boolean): QuicHandshakeError {
  if (aborted) return new QuicHandshakeError('aborted', 'connect() was aborted before the handshake completed', info);
  if (info.source === 'handshake-timeout' || info.source === 'idle-timeout') {
    return new QuicHandshakeError('timeout', `handshake timed out: ${info.reason === '' ? 'no answer from the peer' : info.reason}`, info);
  }
  if (info.source === 'version-negotiation') {
    return new QuicHandshakeError('version', `no QUIC version in common with the peer${info.reason === '' ? '' : `: ${info.reason}`}`, info);
  }
  if (!info.application) {
    const code = toNumberCode(info.errorCode);
    const alert = code - CRYPTO_ERROR_BASE;
    const by = info.source === 'remote' ? 'the peer' : 'we';
    const detail = info.reason === '' ? '' : `: ${info.reason}`;
    if (alert === ALERT_NO_APPLICATION_PROTOCOL) {
      return new QuicHandshakeError('alpn', `no application protocol (ALPN) in common; ${by} refused the handshake${detail}`, info);
    }
    if (CERTIFICATE_ALERTS.has(alert)) {
      return new QuicHandshakeError('certificate', `certificate rejected (TLS alert ${alert}); ${by} refused the handshake${detail}`, info);
    }
  }
  return new QuicHandshakeError('closed', `the handshake did not complete: ${describeClose(info)}`, info);
}

/** Why migrate() failed. */
export type MigrationFailureReason =
  /** Only a client moves a connection (RFC 9000 §9); a server follows. */
  | 'not-client'
  /** RFC 9000 §9: no migration before the handshake is confirmed. */
  | 'handshake-not-confirmed'
  /** The server sent disable_active_migration (RFC 9000 §18.2). */
  | 'peer-disabled-active-migration'
  /** The server left no unused connection ID to use on a new path (RFC 9000 §9.5). */
  | 'no-peer-cid'
  /** The connection already runs on that local address and server address. */
  | 'already-active'
  /** PATH_CHALLENGE went unanswered for 3 PTOs on the new path (RFC 9000 §8.2.4). */
  | 'validation-failed'
  /** The new socket could not be opened or bound (address in use, not on this host...). */
  | 'socket'
  /** The connection closed first. */
  | 'closed';

const MIGRATION_MESSAGES: Record<MigrationFailureReason, string> = {
  'not-client': 'only a client can migrate a connection (RFC 9000 §9)',
  'handshake-not-confirmed': 'the handshake is not confirmed yet (RFC 9000 §9); wait for the "handshakeconfirmed" event',
  'peer-disabled-active-migration': 'the server sent disable_active_migration: it does not accept a client moving to another address',
  'no-peer-cid': 'the server has issued no spare connection ID to use on a new path (RFC 9000 §9.5)',
  'already-active': 'the connection already uses this local address',
  'validation-failed': 'the new path did not answer path validation (PATH_CHALLENGE) in time',
  socket: 'the socket for the new path could not be opened',
  closed: 'the connection closed',
};

/** migrate() (or following a preferred address) failed; the connection keeps running on its old path. */
export class QuicMigrationError extends Error {
  override readonly name = 'QuicMigrationError';
  readonly reason: MigrationFailureReason;

  constructor(reason: MigrationFailureReason, detail?: string) {
    super(detail === undefined ? `migrate(): ${MIGRATION_MESSAGES[reason]}` : `migrate(): ${MIGRATION_MESSAGES[reason]}: ${detail}`);
    this.reason = reason;
  }
}
