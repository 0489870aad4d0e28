/**
 * IP address text <-> the raw network-order bytes of the preferred_address transport parameter (RFC 9000 §18.2).
 * Text comes from and goes to sockets, so the output follows what Node reports: dotted IPv4 and RFC 5952 IPv6.
 */
import type { PreferredAddress } from '@pathquic/wire-codec';
import { ConnectionUsageError, type SocketAddress } from './types.js';

/** The addresses a server offers (or a client was offered) in preferred_address: at least one family. */
export interface PreferredAddresses {
  readonly ipv4?: SocketAddress;
  readonly ipv6?: SocketAddress;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let groups: string[];
  const tail = text.lastIndexOf(':');
  let v4: Uint8Array | undefined;
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  if (text.includes('.')) {
    v4 = parseIpv4(text.slice(tail + 1));
    if (v4 === undefined) return undefined;
    text = text.slice(0, tail + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  if (halves.length === 2) {
    const head = split(halves[0]!);
    const rest = split(halves[1]!);
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<string>(missing).fill('0'), ...rest];
  } else groups = split(text);
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

/** 4 or 16 bytes for an IP literal; throws ConnectionUsageError for anything else (a host name included). */
export function ipToBytes(text: string, family: 4 | 6): Uint8Array {
  const bytes = family === 4 ? parseIpv4(text) : parseIpv6(text);
  if (bytes === undefined) throw new ConnectionUsageError(`preferredAddress: ${JSON.stringify(text)} is not an IPv${family} literal`);
  return bytes;
}

/** Dotted IPv4, or IPv6 in RFC 5952 form (lower case, longest run of two or more zero groups as "::"). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function isUnspecified(bytes: Uint8Array, port: number): boolean {
  return port === 0 && bytes.every((b) => b === 0);
}

/** The transport parameter for the addresses a server offers, with the CID (sequence 1) and its reset token. */
export function encodePreferredAddress(offer: PreferredAddresses, connectionId: Uint8Array, statelessResetToken: Uint8Array): PreferredAddress {
  if (offer.ipv4 === undefined && offer.ipv6 === undefined) throw new ConnectionUsageError('preferredAddress needs an ipv4 or an ipv6 address');
  const port = (a: SocketAddress | undefined, family: string): number => {
    if (a === undefined) return 0;
    if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new ConnectionUsageError(`preferredAddress.${family}: invalid port ${a.port}`);
    return a.port;
  };
  return {
    // RFC 9000 §18.2: a family the server does not offer is all zeros with port 0.
    ipv4Address: offer.ipv4 === undefined ? new Uint8Array(4) : ipToBytes(offer.ipv4.address, 4),
    ipv4Port: port(offer.ipv4, 'ipv4'),
    ipv6Address: offer.ipv6 === undefined ? new Uint8Array(16) : ipToBytes(offer.ipv6.address, 6),
    ipv6Port: port(offer.ipv6, 'ipv6'),
    connectionId,
    statelessResetToken,
  };
}

/** What a client was offered: the families that are not all-zero (RFC 9000 §9.6.1). */
export function decodePreferredAddress(p: PreferredAddress): PreferredAddresses {
  const v4 = isUnspecified(p.ipv4Address, p.ipv4Port) ? undefined : { address: bytesToIp(p.ipv4Address), port: p.ipv4Port };
  const v6 = isUnspecified(p.ipv6Address, p.ipv6Port) ? undefined : { address: bytesToIp(p.ipv6Address), port: p.ipv6Port };
  return { ...(v4 !== undefined && { ipv4: v4 }), ...(v6 !== undefined && { ipv6: v6 }) };
}
