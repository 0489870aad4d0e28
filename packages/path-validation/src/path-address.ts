import { PathConfigError, requireInteger } from './errors.js';

/**
 * One network path as the connection sees it: an opaque key for the 4-tuple plus the addresses the migration
 * policy compares. The key must be stable for a 4-tuple (e.g. `${localAddress}:${localPort}>${remoteAddress}:${remotePort}`).
 */
export interface PathAddress {
  key: string;
  remoteAddress: string;
  remotePort: number;
  /** Omitted when the socket is bound to a wildcard address: then only ports tell local addresses apart. */
  localAddress?: string;
  localPort?: number;
}

export function checkPathAddress(path: PathAddress): PathAddress {
  if (typeof path.key !== 'string' || path.key.length === 0) {
    throw new PathConfigError('path.key must be a non-empty string');
  }
  if (typeof path.remoteAddress !== 'string' || path.remoteAddress.length === 0) {
    throw new PathConfigError(`path ${path.key}: remoteAddress must be a non-empty string`);
  }
  requireInteger('remotePort', path.remotePort, 0, 65535);
  if (path.localPort !== undefined) requireInteger('localPort', path.localPort, 0, 65535);
  return path;
}

/** IPv4-mapped IPv6 (`::ffff:192.0.2.1`) and the plain IPv4 form name the same host; case does not matter in IPv6. */
function normalizeIp(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/** Same peer IP address and port. */
export function samePeerAddress(a: PathAddress, b: PathAddress): boolean {
  return a.remotePort === b.remotePort && normalizeIp(a.remoteAddress) === normalizeIp(b.remoteAddress);
}

/** Same peer IP address (the port may differ). */
export function samePeerIp(a: PathAddress, b: PathAddress): boolean {
  return normalizeIp(a.remoteAddress) === normalizeIp(b.remoteAddress);
}

/**
 * True when two different paths differ only in port numbers: both IP addresses are the same. RFC 9000 §9.4 lets
 * such a change (typically NAT rebinding) keep its congestion state and RTT estimate.
 */
export function isPortOnlyChange(from: PathAddress, to: PathAddress): boolean {
  return samePeerIp(from, to) && normalizeIp(from.localAddress) === normalizeIp(to.localAddress);
}
