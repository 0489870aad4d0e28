/**
 * QUIC versions this codec speaks and the long-header type mapping of each (RFC 9000 §17.2, RFC 9369 §3.2).
 */
import { QuicEncodeError } from './errors.js';

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_V1 = 0x0000_0001;
/** QUIC version 2 (RFC 9369 §3.1). */
export const QUIC_V2 = 0x6b33_43cf;
/** The Version field value that marks a Version Negotiation packet (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION = 0x0000_0000;

/** Versions implemented here, most preferred first. */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_V1, QUIC_V2];

export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/** Versions of the form 0x?a?a?a?a are reserved to exercise version negotiation (RFC 9000 §15). */
export function isReservedVersion(version: number): boolean {
  return (version & 0x0f0f_0f0f) === 0x0a0a_0a0a;
}

/** A reserved (greasing) version derived from `seed`, for exercising peers' version negotiation. */
export function reservedVersion(seed: number): number {
  return ((seed & 0xf0f0_f0f0) | 0x0a0a_0a0a) >>> 0;
}

export type LongPacketType = 'initial' | '0rtt' | 'handshake' | 'retry';

// RFC 9000 §17.2 Table 5 (v1) and RFC 9369 §3.2 (v2 remaps every type).
const V1_TYPES: readonly LongPacketType[] = ['initial', '0rtt', 'handshake', 'retry'];
const V2_TYPES: readonly LongPacketType[] = ['retry', 'initial', '0rtt', 'handshake'];

/** The packet type carried by the two type bits of a long header, or undefined for an unknown version. */
export function longPacketTypeFromBits(version: number, bits: number): LongPacketType | undefined {
  if (version === QUIC_V1) return V1_TYPES[bits & 3];
  if (version === QUIC_V2) return V2_TYPES[bits & 3];
  return undefined;
}

/** The two type bits for `type` in `version`. */
export function longPacketTypeBits(version: number, type: LongPacketType): number {
  const table = version === QUIC_V2 ? V2_TYPES : version === QUIC_V1 ? V1_TYPES : undefined;
  if (table === undefined) throw new QuicEncodeError(`unsupported QUIC version 0x${version.toString(16)}`);
  return table.indexOf(type);
}
