/**
 * Why a socket or server is plain TCP instead of MPTCP:
 * - `'disabled'`: the caller passed `mptcp: false` (or `PATHQUIC_MPTCP=0` is set in the environment);
 * - `'platform'`: not Linux;
 * - `'addon'`: the native addon was not built or did not load;
 * - an errno name: `socket(…, IPPROTO_MPTCP)` was refused: `'EPROTONOSUPPORT'` (kernel without CONFIG_MPTCP),
 *   `'ENOPROTOOPT'` (sysctl `net.mptcp.enabled=0`), `'EINVAL'`, `'EACCES'`/`'EPERM'` (a seccomp or LSM policy);
 * - `'peer'`: the socket is MPTCP but the kernel fell back to TCP during the handshake, because the peer (or a
 *   middlebox stripping TCP options) does not speak MPTCP;
 * - `'not-tcp'`: a Unix socket path, or a handle/fd that is not MPTCP, was given.
 */
export type MptcpFallbackReason =
  | 'disabled'
  | 'platform'
  | 'addon'
  | 'EPROTONOSUPPORT'
  | 'ENOPROTOOPT'
  | 'EINVAL'
  | 'EACCES'
  | 'EPERM'
  | 'peer'
  | 'not-tcp';

/** The errno names of socket() after which we quietly use TCP, as Go does (plus policy denials). */
export const FALLBACK_ERRNOS: ReadonlySet<string> = new Set(['EPROTONOSUPPORT', 'ENOPROTOOPT', 'EINVAL', 'EACCES', 'EPERM']);

/** How a caller wants MPTCP: `true` prefers it and falls back to TCP, `'required'` fails instead, `false` is TCP. */
export type MptcpMode = boolean | 'required';

const EXPLANATIONS: Record<MptcpFallbackReason, string> = {
  disabled: 'MPTCP was turned off by the caller',
  platform: 'Multipath TCP sockets exist only on Linux',
  addon: 'the native addon of @pathquic/transport-mptcp is not built',
  EPROTONOSUPPORT: 'the kernel has no MPTCP support (EPROTONOSUPPORT; needs CONFIG_MPTCP, Linux 5.6+)',
  ENOPROTOOPT: 'MPTCP is disabled on this host (ENOPROTOOPT; sysctl net.mptcp.enabled=0)',
  EINVAL: 'the kernel rejected IPPROTO_MPTCP (EINVAL)',
  EACCES: 'creating an MPTCP socket was denied (EACCES; seccomp or LSM policy)',
  EPERM: 'creating an MPTCP socket was denied (EPERM; seccomp or LSM policy)',
  peer: 'the connection fell back to plain TCP: the peer, or a middlebox on the path, does not speak MPTCP',
  'not-tcp': 'the socket is not an MPTCP socket (Unix socket path, or a handle/fd created elsewhere)',
};

/** A readable sentence for a fallback reason. */
export function explainFallback(reason: MptcpFallbackReason): string {
  return EXPLANATIONS[reason];
}

/** Thrown (or emitted as 'error') in `mptcp: 'required'` mode when MPTCP cannot be used. */
export class MptcpUnavailableError extends Error {
  readonly code = 'ERR_MPTCP_UNAVAILABLE';
  readonly reason: MptcpFallbackReason;

  constructor(reason: MptcpFallbackReason, detail?: string) {
    super(`Multipath TCP is required but unavailable: ${explainFallback(reason)}${detail === undefined ? '' : ` (${detail})`}`);
    this.name = 'MptcpUnavailableError';
    this.reason = reason;
  }
}

/** What every socket and server of this package tells about itself. */
export interface MptcpState {
  /** Whether the socket really runs Multipath TCP (for a connection: after 'connect' / 'connection'). */
  mptcp: boolean;
  /** Why it does not, or null when it does. */
  mptcpFallbackReason: MptcpFallbackReason | null;
}
