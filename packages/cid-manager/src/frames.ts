/**
 * Builds the CID frames of one path: the RFC 9000 forms when no path ID is configured, the multipath forms of
 * draft-ietf-quic-multipath-21 (PATH_NEW_CONNECTION_ID / PATH_RETIRE_CONNECTION_ID, same fields plus the path ID)
 * when one is.
 */
import { FrameType } from '@pathquic/wire-codec';
import type {
  NewConnectionIdFrame,
  PathNewConnectionIdFrame,
  PathRetireConnectionIdFrame,
  RetireConnectionIdFrame,
} from '@pathquic/wire-codec';

export type AnyNewConnectionIdFrame = NewConnectionIdFrame | PathNewConnectionIdFrame;
export type AnyRetireConnectionIdFrame = RetireConnectionIdFrame | PathRetireConnectionIdFrame;

export function newConnectionIdFrame(
  pathId: number | undefined,
  sequenceNumber: number,
  retirePriorTo: number,
  connectionId: Uint8Array,
  statelessResetToken: Uint8Array,
): AnyNewConnectionIdFrame {
  return pathId === undefined
    ? { type: 'new_connection_id', sequenceNumber, retirePriorTo, connectionId, statelessResetToken }
    : { type: 'path_new_connection_id', pathId, sequenceNumber, retirePriorTo, connectionId, statelessResetToken };
}

export function retireConnectionIdFrame(pathId: number | undefined, sequenceNumber: number): AnyRetireConnectionIdFrame {
  return pathId === undefined
    ? { type: 'retire_connection_id', sequenceNumber }
    : { type: 'path_retire_connection_id', pathId, sequenceNumber };
}

/** Frame type codepoint for errors about a NEW_CONNECTION_ID-like frame. */
export function newConnectionIdType(pathId: number | undefined): number {
  return pathId === undefined ? FrameType.NEW_CONNECTION_ID : FrameType.PATH_NEW_CONNECTION_ID;
}

/** Frame type codepoint for errors about a RETIRE_CONNECTION_ID-like frame. */
export function retireConnectionIdType(pathId: number | undefined): number {
  return pathId === undefined ? FrameType.RETIRE_CONNECTION_ID : FrameType.PATH_RETIRE_CONNECTION_ID;
}
