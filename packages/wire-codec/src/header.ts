/**
 * Packet headers (RFC 9000 §17; RFC 9369 §3.2 for v2; RFC 9287 for the greased fixed bit).
 *
 * Parsing here is the part a receiver can do before removing header protection: the invariant fields,
 * the long-header Length, and the offset of the (still protected) packet number. Header protection and
 * decryption live in protection.ts.
 *
 * Malformed headers raise QuicCodecError; a receiver drops such packets (RFC 9000 §5.2, §12.2): a header
 * problem is never a reason to close a connection by itself.
 */
import { Reader, Writer } from './buffer.js';
import { QuicCodecError, QuicEncodeError, TransportErrorCode } from './errors.js';
import { varintLength } from './varint.js';
import {
  VERSION_NEGOTIATION,
  isSupportedVersion,
  longPacketTypeBits,
  longPacketTypeFromBits,
} from './version.js';

/** Longest connection ID QUIC v1 and v2 allow (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;
/** Smallest UDP payload for a datagram carrying a client Initial (RFC 9000 §14.1). */
export const MIN_INITIAL_DATAGRAM_SIZE = 1200;
/** Retry integrity tag length (RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

const HEADER_FORM_BIT = 0x80; // RFC 9000 §17.2
const FIXED_BIT = 0x40; // RFC 9000 §17.2, §17.3; may be greased per RFC 9287
const SPIN_BIT = 0x20; // RFC 9000 §17.3.1
/** Bits of byte 0 covered by header protection (RFC 9001 §5.4.1). */
export const LONG_HEADER_PROTECTED_BITS = 0x0f;
export const SHORT_HEADER_PROTECTED_BITS = 0x1f;
/** Reserved bits that must be zero once protection is removed (RFC 9000 §17.2, §17.3.1). */
export const LONG_HEADER_RESERVED_BITS = 0x0c;
export const SHORT_HEADER_RESERVED_BITS = 0x18;
export const KEY_PHASE_BIT = 0x04; // RFC 9000 §17.3.1
export const PN_LENGTH_MASK = 0x03;

/** An Initial, 0-RTT or Handshake packet header, parsed up to the protected packet number. */
export interface LongHeader {
  form: 'long';
  type: 'initial' | '0rtt' | 'handshake';
  version: number;
  /** Byte 0 as received (its low four bits are still protected). */
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only: the token (empty for other types and for tokenless Initials). */
  token: Uint8Array;
  /** Offset of the packet number, relative to the start of this packet. */
  pnOffset: number;
  /** The Length field: packet number plus protected payload (RFC 9000 §17.2). */
  length: number;
  /** Bytes this packet occupies in the datagram: pnOffset + length. */
  packetLength: number;
}

export interface RetryHeader {
  form: 'long';
  type: 'retry';
  version: number;
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
  integrityTag: Uint8Array;
  packetLength: number;
}

/** A long header of a version this codec does not speak: only the invariants are known (RFC 8999 §5.1). */
export interface UnsupportedVersionHeader {
  form: 'long';
  type: 'unsupported';
  version: number;
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  packetLength: number;
}

export interface VersionNegotiationHeader {
  form: 'version_negotiation';
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  supportedVersions: number[];
  packetLength: number;
}

export interface ShortHeader {
  form: 'short';
  /** Byte 0 as received (its low five bits are still protected). */
  firstByte: number;
  /** The spin bit is not header-protected (RFC 9000 §17.4). */
  spin: boolean;
  dcid: Uint8Array;
  pnOffset: number;
  /** A short-header packet always runs to the end of the datagram. */
  packetLength: number;
}

export type PacketHeader = LongHeader | RetryHeader | UnsupportedVersionHeader | VersionNegotiationHeader | ShortHeader;

export interface ParseHeaderOptions {
  /** Length of the connection IDs this endpoint issued: short headers carry no DCID length (RFC 9000 §17.3). */
  shortDcidLength: number;
  /** Accept a zero fixed bit: set once grease_quic_bit was advertised (RFC 9287 §3). */
  allowFixedBitZero?: boolean;
}

function dropError(message: string): QuicCodecError {
  return new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, message);
}

/**
 * Parses the header of the packet starting at `offset` in `datagram`. All byte-array fields are views into
 * `datagram` (no copies).
 */
export function parsePacketHeader(datagram: Uint8Array, offset: number, opts: ParseHeaderOptions): PacketHeader {
  if (offset >= datagram.length) throw dropError('empty packet');
  const first = datagram[offset]!;
  if ((first & HEADER_FORM_BIT) === 0) return parseShortHeader(datagram, offset, first, opts);
  return parseLongHeader(datagram, offset, first, opts);
}

function parseShortHeader(datagram: Uint8Array, offset: number, first: number, opts: ParseHeaderOptions): ShortHeader {
  if ((first & FIXED_BIT) === 0 && !opts.allowFixedBitZero) throw dropError('fixed bit is zero');
  const dcidEnd = offset + 1 + opts.shortDcidLength;
  if (dcidEnd > datagram.length) throw dropError('short header truncated in the connection ID');
  return {
    form: 'short',
    firstByte: first,
    spin: (first & SPIN_BIT) !== 0,
    dcid: datagram.subarray(offset + 1, dcidEnd),
    pnOffset: 1 + opts.shortDcidLength,
    packetLength: datagram.length - offset,
  };
}

function parseLongHeader(datagram: Uint8Array, offset: number, first: number, opts: ParseHeaderOptions): PacketHeader {
  const r = new Reader(datagram, offset);
  try {
    r.skip(1);
    const version = r.readUint32();
    const known = isSupportedVersion(version);
    const dcidLength = r.readUint8();
    // RFC 9000 §17.2: v1 CIDs are at most 20 bytes; other versions may use up to 255 (RFC 8999 §5.1).
    if (known && dcidLength > MAX_CID_LENGTH) throw dropError(`destination connection ID of ${dcidLength} bytes`);
    const dcid = r.readBytes(dcidLength);
    const scidLength = r.readUint8();
    if (known && scidLength > MAX_CID_LENGTH) throw dropError(`source connection ID of ${scidLength} bytes`);
    const scid = r.readBytes(scidLength);

    if (version === VERSION_NEGOTIATION) {
      // RFC 9000 §17.2.1: a list of 32-bit versions fills the rest of the datagram.
      const rest = r.remaining;
      if (rest === 0 || rest % 4 !== 0) throw dropError('version negotiation list is not a whole number of versions');
      const supportedVersions: number[] = [];
      while (!r.atEnd) supportedVersions.push(r.readUint32());
      return { form: 'version_negotiation', firstByte: first, dcid, scid, supportedVersions, packetLength: datagram.length - offset };
    }
    if (!known) {
      return { form: 'long', type: 'unsupported', version, firstByte: first, dcid, scid, packetLength: datagram.length - offset };
    }
    if ((first & FIXED_BIT) === 0 && !opts.allowFixedBitZero) throw dropError('fixed bit is zero');

    const type = longPacketTypeFromBits(version, (first >> 4) & 3)!;
    if (type === 'retry') {
      // RFC 9000 §17.2.5: the token fills the packet up to the 16-byte integrity tag.
      const tokenLength = r.remaining - RETRY_INTEGRITY_TAG_LENGTH;
      if (tokenLength < 0) throw dropError('retry packet shorter than its integrity tag');
      const token = r.readBytes(tokenLength);
      const integrityTag = r.readBytes(RETRY_INTEGRITY_TAG_LENGTH);
      return { form: 'long', type, version, firstByte: first, dcid, scid, token, integrityTag, packetLength: datagram.length - offset };
    }
    const token = type === 'initial' ? r.readBytes(r.readVarint()) : EMPTY;
    const length = r.readVarint();
    const pnOffset = r.offset - offset;
    if (length > r.remaining) throw dropError(`Length ${length} exceeds the ${r.remaining} bytes left in the datagram`);
    return { form: 'long', type, version, firstByte: first, dcid, scid, token, pnOffset, length, packetLength: pnOffset + length };
  } catch (e) {
    if (e instanceof QuicCodecError && e.code === TransportErrorCode.FRAME_ENCODING_ERROR) {
      throw dropError(`long header truncated (${e.message})`);
    }
    throw e;
  }
}

const EMPTY = new Uint8Array(0);

/** One packet of a datagram: where it starts and its header. */
export interface CoalescedPacket {
  offset: number;
  header: PacketHeader;
}

/**
 * Splits a datagram into its coalesced packets (RFC 9000 §12.2). Long-header packets carry a Length; a short-header,
 * Retry, Version Negotiation or unknown-version packet runs to the end. Parsing stops at the first packet that
 * cannot be parsed: earlier packets stay valid, and the rest of the datagram is reported in `unparsedBytes` for
 * the caller to drop. Whether later packets carry the same DCID is the caller's check (RFC 9000 §12.2).
 */
export function splitCoalescedPackets(
  datagram: Uint8Array,
  opts: ParseHeaderOptions,
): { packets: CoalescedPacket[]; unparsedBytes: number } {
  const packets: CoalescedPacket[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    let header: PacketHeader;
    try {
      header = parsePacketHeader(datagram, offset, opts);
    } catch (e) {
      if (e instanceof QuicCodecError) break;
      throw e;
    }
    packets.push({ offset, header });
    offset += header.packetLength;
  }
  return { packets, unparsedBytes: datagram.length - offset };
}

/**
 * The destination connection ID of the first packet in a datagram, for routing before any other parsing
 * (RFC 8999 §5). Returns undefined when the datagram is too short. The result is a view (no copy).
 */
export function peekDestinationConnectionId(datagram: Uint8Array, shortDcidLength: number): Uint8Array | undefined {
  const first = datagram[0];
  if (first === undefined) return undefined;
  if ((first & HEADER_FORM_BIT) === 0) {
    return datagram.length >= 1 + shortDcidLength ? datagram.subarray(1, 1 + shortDcidLength) : undefined;
  }
  const len = datagram[5];
  if (len === undefined || datagram.length < 6 + len) return undefined;
  return datagram.subarray(6, 6 + len);
}

/** Fields to build a long header for an Initial, 0-RTT or Handshake packet. */
export interface LongHeaderFields {
  type: 'initial' | '0rtt' | 'handshake';
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial only. */
  token?: Uint8Array;
  /** Truncated packet number and its encoded length (see packetNumberLength / truncatePacketNumber). */
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  /**
   * The Length field value (packet number + protected payload incl. the AEAD tag). When the payload size is not
   * known yet, write a placeholder and patch it with `patchLongHeaderLength` using the returned `lengthOffset`.
   */
  length: number;
  /** Encoded size of the Length field; defaults to 2 (enough for any packet up to 16383 bytes). */
  lengthFieldSize?: 1 | 2 | 4 | 8;
  /** Clear the fixed bit (only when the peer advertised grease_quic_bit, RFC 9287 §3). */
  greaseFixedBit?: boolean;
}

/** Where the fields the packet builder fills in later ended up, relative to the start of the header. */
export interface WrittenLongHeader {
  lengthOffset: number;
  pnOffset: number;
}

function checkCid(cid: Uint8Array, what: string): void {
  if (cid.length > MAX_CID_LENGTH) throw new QuicEncodeError(`${what} is ${cid.length} bytes; QUIC allows at most 20`);
}

/** Writes a long header through the (unprotected) packet number. */
export function writeLongHeader(w: Writer, h: LongHeaderFields): WrittenLongHeader {
  checkCid(h.dcid, 'destination connection ID');
  checkCid(h.scid, 'source connection ID');
  if (h.token !== undefined && h.token.length > 0 && h.type !== 'initial') {
    throw new QuicEncodeError('only Initial packets carry a token');
  }
  const start = w.offset;
  const typeBits = longPacketTypeBits(h.version, h.type);
  w.writeUint8(HEADER_FORM_BIT | (h.greaseFixedBit ? 0 : FIXED_BIT) | (typeBits << 4) | (h.pnLength - 1));
  w.writeUint32(h.version);
  w.writeUint8(h.dcid.length);
  w.writeBytes(h.dcid);
  w.writeUint8(h.scid.length);
  w.writeBytes(h.scid);
  if (h.type === 'initial') {
    const token = h.token ?? EMPTY;
    w.writeVarint(token.length);
    w.writeBytes(token);
  }
  const lengthOffset = w.offset - start;
  const size = h.lengthFieldSize ?? 2;
  if (varintLength(h.length) > size) throw new QuicEncodeError(`Length ${h.length} does not fit in ${size} bytes`);
  w.writeVarintWithLength(h.length, size);
  const pnOffset = w.offset - start;
  w.writeUintN(h.packetNumber, h.pnLength);
  return { lengthOffset, pnOffset };
}

/** Rewrites the Length field of a long header in place, keeping its encoded size. */
export function patchLongHeaderLength(packet: Uint8Array, lengthOffset: number, length: number): void {
  const size = (1 << (packet[lengthOffset]! >> 6)) as 1 | 2 | 4 | 8;
  const w = new Writer(packet, lengthOffset);
  w.writeVarintWithLength(length, size);
}

export interface ShortHeaderFields {
  dcid: Uint8Array;
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  keyPhase: boolean;
  spin?: boolean;
  greaseFixedBit?: boolean;
}

/** Writes a 1-RTT short header through the (unprotected) packet number; returns the packet-number offset. */
export function writeShortHeader(w: Writer, h: ShortHeaderFields): number {
  checkCid(h.dcid, 'destination connection ID');
  const start = w.offset;
  w.writeUint8(
    (h.greaseFixedBit ? 0 : FIXED_BIT) | (h.spin ? SPIN_BIT : 0) | (h.keyPhase ? KEY_PHASE_BIT : 0) | (h.pnLength - 1),
  );
  w.writeBytes(h.dcid);
  const pnOffset = w.offset - start;
  w.writeUintN(h.packetNumber, h.pnLength);
  return pnOffset;
}

export interface VersionNegotiationFields {
  /** Copied from the client's SCID (RFC 9000 §17.2.1). */
  dcid: Uint8Array;
  /** Copied from the client's DCID. */
  scid: Uint8Array;
  supportedVersions: readonly number[];
  /** The seven unused bits of byte 0 (RFC 9000 §17.2.1 suggests setting 0x40 so the fixed bit looks set). */
  unusedBits?: number;
}

/** Builds a Version Negotiation packet (RFC 9000 §17.2.1). CIDs may be up to 255 bytes here (RFC 8999). */
export function encodeVersionNegotiation(f: VersionNegotiationFields): Uint8Array {
  if (f.dcid.length > 255 || f.scid.length > 255) throw new QuicEncodeError('connection ID longer than 255 bytes');
  if (f.supportedVersions.length === 0) throw new QuicEncodeError('version negotiation needs at least one version');
  const w = new Writer(new Uint8Array(7 + f.dcid.length + f.scid.length + 4 * f.supportedVersions.length));
  w.writeUint8(HEADER_FORM_BIT | ((f.unusedBits ?? FIXED_BIT) & 0x7f));
  w.writeUint32(VERSION_NEGOTIATION);
  w.writeUint8(f.dcid.length);
  w.writeBytes(f.dcid);
  w.writeUint8(f.scid.length);
  w.writeBytes(f.scid);
  for (const v of f.supportedVersions) w.writeUint32(v);
  return w.bytes();
}

export interface RetryFields {
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
  /** The four unused low bits of byte 0 (RFC 9000 §17.2.5). */
  unusedBits?: number;
}

/** Builds a Retry packet without its integrity tag (the tag is computed over this, see crypto/retry.ts). */
export function encodeRetryWithoutTag(f: RetryFields): Uint8Array {
  checkCid(f.dcid, 'destination connection ID');
  checkCid(f.scid, 'source connection ID');
  if (f.token.length === 0) throw new QuicEncodeError('a Retry must carry a token (RFC 9000 §17.2.5)');
  const w = new Writer(new Uint8Array(7 + f.dcid.length + f.scid.length + f.token.length));
  w.writeUint8(HEADER_FORM_BIT | FIXED_BIT | (longPacketTypeBits(f.version, 'retry') << 4) | ((f.unusedBits ?? 0) & 0x0f));
  w.writeUint32(f.version);
  w.writeUint8(f.dcid.length);
  w.writeBytes(f.dcid);
  w.writeUint8(f.scid.length);
  w.writeBytes(f.scid);
  w.writeBytes(f.token);
  return w.bytes();
}
