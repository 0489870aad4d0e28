/**
 * Stream IDs (RFC 9000 §2.1): the two least significant bits carry the initiator (0x01: server) and the
 * direction (0x02: unidirectional); the rest is the stream's index among streams of its type. IDs go up to
 * 2^62-1 on the wire but are JS numbers here (safe up to 2^53-1), so bit tricks use `& 3` only (ToInt32 keeps
 * the low bits of any safe integer) and never shifts.
 */

export type Role = 'client' | 'server';

/** RFC 9000 §2.1: bit 0x01 set on server-initiated streams. */
const SERVER_BIT = 0x01;
/** RFC 9000 §2.1: bit 0x02 set on unidirectional streams. */
const UNI_BIT = 0x02;

export function isValidStreamId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0;
}

export function isBidirectional(id: number): boolean {
  return (id & UNI_BIT) === 0;
}

export function isServerInitiated(id: number): boolean {
  return (id & SERVER_BIT) !== 0;
}

export function initiatorOf(id: number): Role {
  return isServerInitiated(id) ? 'server' : 'client';
}

/** Whether an endpoint with `role` opened the stream. */
export function isLocallyInitiated(id: number, role: Role): boolean {
  return isServerInitiated(id) === (role === 'server');
}

/** The stream's index among the streams of its type (ID >> 2, without 32-bit truncation). */
export function streamIndex(id: number): number {
  return (id - (id & 3)) / 4;
}

/** The ID of the `index`th stream of a type (RFC 9000 §2.1: streams of a type are opened in ID order). */
export function makeStreamId(index: number, initiator: Role, bidirectional: boolean): number {
  return index * 4 + (initiator === 'server' ? SERVER_BIT : 0) + (bidirectional ? 0 : UNI_BIT);
}
