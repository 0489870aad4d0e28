/**
 * Packet protection: AEAD payload protection plus header protection, applied in place on a packet buffer
 * (RFC 9001 §5.3, §5.4; the nonce carries the Path ID with draft-ietf-quic-multipath-21).
 *
 * Sending: build header (with the unprotected packet number) and plaintext frames in one buffer, leave 16 bytes
 * after the payload for the tag, call `seal`. Receiving: call `open` on the bytes of one packet; it removes header
 * protection, recovers the full packet number, and decrypts the payload in place.
 *
 * `packet` is always the view of ONE packet: offsets are relative to its first byte, and for `open` the packet
 * runs to the end of the view (pass `datagram.subarray(offset, offset + header.packetLength)` for coalesced
 * long-header packets).
 */
import { nodeCryptoProvider } from './crypto/node.js';
import type { PacketKeys } from './crypto/keys.js';
import { makeNonce } from './crypto/keys.js';
import { aeadOpenBatch, aeadSealBatch, createAeadJob, type AeadJob } from './crypto/fast-gcm.js';
import {
  AEAD_NONCE_LENGTH,
  AEAD_TAG_LENGTH,
  HP_SAMPLE_LENGTH,
  type Aead,
  type AeadAlgorithm,
  type CryptoProvider,
  type HeaderProtector,
} from './crypto/provider.js';
import { QuicCodecError, QuicEncodeError, TransportErrorCode } from './errors.js';
import {
  KEY_PHASE_BIT,
  LONG_HEADER_PROTECTED_BITS,
  LONG_HEADER_RESERVED_BITS,
  PN_LENGTH_MASK,
  SHORT_HEADER_PROTECTED_BITS,
  parsePacketHeader,
  type LongHeader,
} from './header.js';
import { decodePacketNumber } from './packet-number.js';

const HEADER_FORM_BIT = 0x80; // RFC 9000 §17.2
// RFC 9001 §5.4.2: the sample starts 4 bytes after the start of the packet number, as if it were 4 bytes long.
const SAMPLE_OFFSET_FROM_PN = 4;
const MAX_PN_LENGTH = 4;
const MASK_LENGTH = 5; // RFC 9001 §5.4.1: 1 byte for byte 0, up to 4 for the packet number
/** Below this many packets one native AES-ECB call for all masks costs more than a JS block cipher per packet. */
const MIN_HP_BATCH = 4;

/** What `open` recovers from a packet. */
export interface OpenedPacket {
  /** The full packet number (RFC 9000 App. A.3). */
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  /**
   * Byte 0 with header protection removed. Its reserved bits must be checked by the caller now that the
   * packet is authenticated: non-zero is a PROTOCOL_VIOLATION (RFC 9000 §17.2, §17.3.1).
   */
  firstByte: number;
  /** The decrypted frames: a view into the packet buffer, which was decrypted in place. */
  payload: Uint8Array;
  /** The Key Phase bit of a short header (RFC 9001 §6); always false for long headers. */
  keyPhase: boolean;
}

export interface PacketProtectionOptions {
  /** Path ID mixed into the nonce by default (draft-ietf-quic-multipath-21); 0 = single-path QUIC. */
  pathId?: number;
  /** Reuse this header protector instead of keying a new one from `keys.hp` (the hp key survives key updates). */
  headerProtector?: HeaderProtector;
}

/**
 * One direction's packet protection with one set of keys: the keyed AEAD and header-protection cipher, the IV,
 * and scratch buffers for the nonce and the mask, so that sealing and opening allocate nothing but two or three
 * subarray views (and whatever the provider's AEAD allocates).
 */
export class PacketProtection {
  readonly algorithm: AeadAlgorithm;
  readonly aead: Aead;
  readonly headerProtector: HeaderProtector;
  readonly pathId: number;
  private readonly iv: Uint8Array;
  private readonly hpKey: Uint8Array;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LENGTH);
  private readonly mask = new Uint8Array(MASK_LENGTH);
  private aeadJobPool: AeadJob[] | undefined;
  private maskPool: Uint8Array | undefined;
  private sampleStage: Uint8Array | undefined;
  private sampleMaskOut: Uint8Array | undefined;
  private ownerPool: Uint32Array | undefined;

  constructor(provider: CryptoProvider, algorithm: AeadAlgorithm, keys: PacketKeys, opts: PacketProtectionOptions = {}) {
    if (keys.iv.length !== AEAD_NONCE_LENGTH) throw new QuicEncodeError(`packet-protection IV must be 12 bytes, got ${keys.iv.length}`);
    this.algorithm = algorithm;
    this.aead = provider.createAead(algorithm, keys.key);
    this.headerProtector = opts.headerProtector ?? provider.createHeaderProtector(algorithm, keys.hp);
    this.iv = Uint8Array.from(keys.iv);
    this.hpKey = keys.hp;
    this.pathId = opts.pathId ?? 0;
    // Validates the path ID once here rather than failing on the first packet.
    makeNonce(this.iv, 0, this.nonce, this.pathId);
  }

  /**
   * The protection of the next key phase (RFC 9001 §6): new AEAD key and IV, same header protection
   * (the hp key never changes on key update, §6.1). `next.hp` is ignored.
   */
  nextPhase(provider: CryptoProvider, next: Pick<PacketKeys, 'key' | 'iv'>): PacketProtection {
    return new PacketProtection(
      provider,
      this.algorithm,
      { key: next.key, iv: next.iv, hp: this.hpKey },
      { pathId: this.pathId, headerProtector: this.headerProtector },
    );
  }

  /**
   * Seals a packet in place and returns its total length (payloadEnd + 16).
   *
   * `packet[0 .. pnOffset + pnLength)` is the header with the truncated packet number written in clear (and, for
   * long headers, the final Length field); the plaintext payload follows up to `payloadEnd`; 16 free bytes must
   * follow for the tag. The payload must be long enough for the header-protection sample: at least
   * `4 - pnLength` bytes plus the 16-byte tag after the packet number (RFC 9001 §5.4.2) — pad with PADDING.
   */
  seal(packet: Uint8Array, pnOffset: number, pnLength: number, packetNumber: number, payloadEnd: number, pathId = this.pathId): number {
    const end = checkSealLayout(packet, pnOffset, pnLength, payloadEnd);
    const headerLength = pnOffset + pnLength;
    makeNonce(this.iv, packetNumber, this.nonce, pathId);
    // RFC 9001 §5.3: the AAD is the header through the unprotected packet number.
    this.aead.seal(this.nonce, packet.subarray(0, headerLength), packet.subarray(headerLength, payloadEnd), packet, headerLength);
    this.applyHeaderProtection(packet, pnOffset, pnLength);
    return end;
  }

  /**
   * Seals `jobs[0..count)` as `seal` would, each in place, with one AEAD batch call when the provider's AEAD supports
   * it (the fast AES-GCM engines compute the keystream of the whole batch in one native call, see fast-gcm.ts).
   * Each job's `length` receives the sealed length. Packets must not overlap one another.
   */
  sealBatch(jobs: readonly PacketSealJob[], count = jobs.length): void {
    const aeadJobs = this.aeadJobs(count);
    for (let i = 0; i < count; i++) {
      const job = jobs[i]!;
      checkSealLayout(job.packet, job.pnOffset, job.pnLength, job.payloadEnd);
      const headerLength = job.pnOffset + job.pnLength;
      const a = aeadJobs[i]!;
      makeNonce(this.iv, job.packetNumber, a.nonce, job.pathId ?? this.pathId);
      a.aad = job.packet.subarray(0, headerLength);
      a.input = job.packet.subarray(headerLength, job.payloadEnd);
      a.out = job.packet;
      a.outOffset = headerLength;
    }
    aeadSealBatch(this.aead, aeadJobs, count);
    const batchMasks = this.sampleMasks(jobs, count);
    for (let i = 0; i < count; i++) {
      const job = jobs[i]!;
      if (batchMasks === undefined) this.applyHeaderProtection(job.packet, job.pnOffset, job.pnLength);
      else {
        this.mask.set(batchMasks.subarray(i * HP_SAMPLE_LENGTH, i * HP_SAMPLE_LENGTH + MASK_LENGTH));
        this.xorMask(job.packet, job.pnOffset, job.pnLength, (job.packet[0]! & HEADER_FORM_BIT) !== 0);
      }
      job.length = job.payloadEnd + AEAD_TAG_LENGTH;
      aeadJobs[i]!.input = aeadJobs[i]!.out = aeadJobs[i]!.aad = EMPTY; // drop references to the caller's buffers
    }
  }

  /**
   * Opens `jobs[0..count)` as `open` would, each in place, with one AEAD batch call when the provider's AEAD supports
   * it. Each job's `result` receives the opened packet or null (too short, or failed authentication — that packet is
   * then left exactly as it was). Returns the number of packets that were opened.
   */
  openBatch(jobs: readonly PacketOpenJob[], count = jobs.length): number {
    const aeadJobs = this.aeadJobs(count);
    const masks = this.batchMasks(count);
    const owners = this.batchOwners(count);
    let pending = 0;
    const batchMasks = this.sampleMasks(jobs, count);
    for (let i = 0; i < count; i++) {
      const job = jobs[i]!;
      job.result = null;
      let firstByte: number;
      if (batchMasks === undefined) firstByte = this.removeHeaderProtection(job.packet, job.pnOffset, job.isLong);
      else {
        this.mask.set(batchMasks.subarray(i * HP_SAMPLE_LENGTH, i * HP_SAMPLE_LENGTH + MASK_LENGTH));
        firstByte = this.unmask(job.packet, job.pnOffset, job.isLong);
      }
      if (firstByte < 0) continue; // too short to sample: dropped untouched
      const pnLength = ((firstByte & PN_LENGTH_MASK) + 1) as 1 | 2 | 3 | 4;
      const packetNumber = decodePacketNumber(job.largestPn, readTruncatedPn(job.packet, job.pnOffset, pnLength), pnLength);
      const headerLength = job.pnOffset + pnLength;
      const a = aeadJobs[pending]!;
      makeNonce(this.iv, packetNumber, a.nonce, job.pathId ?? this.pathId);
      a.aad = job.packet.subarray(0, headerLength);
      a.input = job.packet.subarray(headerLength);
      a.out = job.packet;
      a.outOffset = headerLength;
      masks.set(this.mask, pending * MASK_LENGTH);
      owners[pending] = i;
      job.result = { packetNumber, pnLength, firstByte, payload: EMPTY, keyPhase: !job.isLong && (firstByte & KEY_PHASE_BIT) !== 0 };
      pending++;
    }
    if (pending === 0) return 0;
    aeadOpenBatch(this.aead, aeadJobs, pending);
    let opened = 0;
    for (let k = 0; k < pending; k++) {
      const job = jobs[owners[k]!]!;
      const a = aeadJobs[k]!;
      const result = job.result!;
      if (a.result < 0) {
        // Failed authentication: the same mask again restores the protected header bytes.
        this.mask.set(masks.subarray(k * MASK_LENGTH, (k + 1) * MASK_LENGTH));
        this.xorMask(job.packet, job.pnOffset, result.pnLength, job.isLong);
        job.result = null;
      } else {
        const start = job.pnOffset + result.pnLength;
        result.payload = job.packet.subarray(start, start + a.result);
        opened++;
      }
      a.input = a.out = a.aad = EMPTY;
    }
    return opened;
  }

  /**
   * Opens a packet in place: removes header protection, recovers the packet number against `largestPn` (the
   * largest packet number successfully processed in this space, -1 if none), and decrypts the payload.
   *
   * Returns null when the packet is too short to sample (RFC 9001 §5.4.2) or fails authentication; `packet` is
   * then left exactly as it was, so it can be tried with other keys or checked for a stateless reset. Never
   * throws on network input.
   */
  open(packet: Uint8Array, pnOffset: number, largestPn: number, isLong: boolean, pathId = this.pathId): OpenedPacket | null {
    const firstByte = this.removeHeaderProtection(packet, pnOffset, isLong);
    if (firstByte < 0) return null;
    const pnLength = ((firstByte & PN_LENGTH_MASK) + 1) as 1 | 2 | 3 | 4;
    const packetNumber = decodePacketNumber(largestPn, readTruncatedPn(packet, pnOffset, pnLength), pnLength);
    const plaintextLength = this.decryptPayload(packet, pnOffset + pnLength, packetNumber, pathId);
    if (plaintextLength < 0) {
      // Same mask again: XOR restores the protected header bytes.
      this.xorMask(packet, pnOffset, pnLength, isLong);
      return null;
    }
    const payloadStart = pnOffset + pnLength;
    return {
      packetNumber,
      pnLength,
      firstByte,
      payload: packet.subarray(payloadStart, payloadStart + plaintextLength),
      keyPhase: !isLong && (firstByte & KEY_PHASE_BIT) !== 0,
    };
  }

  /**
   * First half of `open`, for callers that must read the Key Phase bit before choosing keys (RFC 9001 §6.3):
   * removes header protection in place and returns the unprotected byte 0 (the packet-number length is its low
   * two bits; the truncated packet number is then in clear at `pnOffset`), or -1 if the packet is too short to
   * sample, in which case nothing was changed.
   */
  removeHeaderProtection(packet: Uint8Array, pnOffset: number, isLong: boolean): number {
    if (!(pnOffset >= 1) || pnOffset + SAMPLE_OFFSET_FROM_PN + HP_SAMPLE_LENGTH > packet.length) return -1;
    this.computeMask(packet, pnOffset);
    return this.unmask(packet, pnOffset, isLong);
  }

  /**
   * Second half of `open`: decrypts `packet[headerLength ..]` in place, with the (already unprotected) header as
   * AAD. Returns the plaintext length or -1 when authentication fails (the packet is then unchanged).
   */
  decryptPayload(packet: Uint8Array, headerLength: number, packetNumber: number, pathId = this.pathId): number {
    if (!Number.isSafeInteger(packetNumber) || packetNumber < 0) return -1;
    makeNonce(this.iv, packetNumber, this.nonce, pathId);
    return this.aead.open(this.nonce, packet.subarray(0, headerLength), packet.subarray(headerLength), packet, headerLength);
  }

  /**
   * The header-protection masks of a whole batch in one call when the protector can (16 bytes apart, mask i at
   * 16 i), or undefined: too few packets to be worth it, a protector without maskBatch, or a packet too short to
   * sample (the per-packet path then reports it).
   */
  private sampleMasks(jobs: readonly { packet: Uint8Array; pnOffset: number }[], count: number): Uint8Array | undefined {
    const hp = this.headerProtector;
    if (hp.maskBatch === undefined || count < MIN_HP_BATCH) return undefined;
    const size = count * HP_SAMPLE_LENGTH;
    if (this.sampleStage === undefined || this.sampleStage.length < size) {
      this.sampleStage = new Uint8Array(size * 2);
      this.sampleMaskOut = new Uint8Array(size * 2);
    }
    const stage = this.sampleStage;
    for (let i = 0; i < count; i++) {
      const { packet, pnOffset } = jobs[i]!;
      const start = pnOffset + SAMPLE_OFFSET_FROM_PN;
      if (!(pnOffset >= 1) || start + HP_SAMPLE_LENGTH > packet.length) return undefined;
      stage.set(packet.subarray(start, start + HP_SAMPLE_LENGTH), i * HP_SAMPLE_LENGTH);
    }
    const out = this.sampleMaskOut!;
    hp.maskBatch(stage, count, out);
    return out;
  }

  /** removeHeaderProtection with the mask already in `this.mask`. */
  private unmask(packet: Uint8Array, pnOffset: number, isLong: boolean): number {
    const mask = this.mask;
    const first = packet[0]! ^ (mask[0]! & (isLong ? LONG_HEADER_PROTECTED_BITS : SHORT_HEADER_PROTECTED_BITS));
    packet[0] = first;
    const pnLength = (first & PN_LENGTH_MASK) + 1;
    for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
    return first;
  }

  private applyHeaderProtection(packet: Uint8Array, pnOffset: number, pnLength: number): void {
    this.computeMask(packet, pnOffset);
    this.xorMask(packet, pnOffset, pnLength, (packet[0]! & HEADER_FORM_BIT) !== 0);
  }

  /** Reused AEAD jobs, each with its own nonce buffer, grown on demand. */
  private aeadJobs(count: number): AeadJob[] {
    const pool = (this.aeadJobPool ??= []);
    while (pool.length < count) {
      const job = createAeadJob();
      job.nonce = new Uint8Array(AEAD_NONCE_LENGTH);
      pool.push(job);
    }
    return pool;
  }

  private batchOwners(count: number): Uint32Array {
    if (this.ownerPool === undefined || this.ownerPool.length < count) this.ownerPool = new Uint32Array(count);
    return this.ownerPool;
  }

  private batchMasks(count: number): Uint8Array {
    if (this.maskPool === undefined || this.maskPool.length < count * MASK_LENGTH) this.maskPool = new Uint8Array(count * MASK_LENGTH);
    return this.maskPool;
  }

  private computeMask(packet: Uint8Array, pnOffset: number): void {
    const sampleStart = pnOffset + SAMPLE_OFFSET_FROM_PN;
    this.headerProtector.mask(packet.subarray(sampleStart, sampleStart + HP_SAMPLE_LENGTH), this.mask);
  }

  // RFC 9001 §5.4.1: 4 bits of byte 0 for long headers, 5 for short ones, then one mask byte per PN byte.
  private xorMask(packet: Uint8Array, pnOffset: number, pnLength: number, isLong: boolean): void {
    const mask = this.mask;
    packet[0]! ^= mask[0]! & (isLong ? LONG_HEADER_PROTECTED_BITS : SHORT_HEADER_PROTECTED_BITS);
    for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  }
}

const EMPTY = new Uint8Array(0);

/** One packet for {@link PacketProtection.sealBatch}: the same layout as `seal`'s arguments. */
export interface PacketSealJob {
  packet: Uint8Array;
  pnOffset: number;
  pnLength: number;
  packetNumber: number;
  payloadEnd: number;
  pathId?: number;
  /** Written by sealBatch: the sealed length (payloadEnd + 16). */
  length: number;
}

/** One packet for {@link PacketProtection.openBatch}: the same arguments as `open`. */
export interface PacketOpenJob {
  packet: Uint8Array;
  pnOffset: number;
  largestPn: number;
  isLong: boolean;
  pathId?: number;
  /** Written by openBatch: the opened packet, or null when it was dropped. */
  result: OpenedPacket | null;
}

/** Validates a packet laid out for sealing and returns its sealed length; throws QuicEncodeError on misuse. */
function checkSealLayout(packet: Uint8Array, pnOffset: number, pnLength: number, payloadEnd: number): number {
  const headerLength = pnOffset + pnLength;
  const end = payloadEnd + AEAD_TAG_LENGTH;
  if (!(pnLength >= 1 && pnLength <= MAX_PN_LENGTH && pnOffset >= 1 && headerLength <= payloadEnd && end <= packet.length)) {
    throw new QuicEncodeError(`bad packet layout: pnOffset ${pnOffset}, pnLength ${pnLength}, payloadEnd ${payloadEnd}, buffer ${packet.length}`);
  }
  if (pnOffset + SAMPLE_OFFSET_FROM_PN + HP_SAMPLE_LENGTH > end) {
    throw new QuicEncodeError('payload too short for the header-protection sample (RFC 9001 §5.4.2): add PADDING');
  }
  if ((packet[0]! & PN_LENGTH_MASK) !== pnLength - 1) {
    throw new QuicEncodeError(`byte 0 encodes a ${(packet[0]! & PN_LENGTH_MASK) + 1}-byte packet number, not ${pnLength}`);
  }
  return end;
}

function readTruncatedPn(packet: Uint8Array, pnOffset: number, pnLength: number): number {
  let pn = 0;
  for (let i = 0; i < pnLength; i++) pn = pn * 256 + packet[pnOffset + i]!;
  return pn;
}

/** AEAD authentication failed for a packet given to `openLongHeaderPacket` (wrong keys or a corrupt packet). */
export class PacketDecryptError extends Error {
  override readonly name = 'PacketDecryptError';
}

export interface OpenLongHeaderOptions {
  /** Largest packet number already processed in this packet-number space (default -1: none). */
  largestPn?: number;
  provider?: CryptoProvider;
}

export interface OpenedLongHeaderPacket {
  /** The header as parsed before protection removal; its views point into the caller's datagram. */
  header: LongHeader;
  packetNumber: number;
  pnLength: 1 | 2 | 3 | 4;
  /** Byte 0 with header protection removed. */
  firstByte: number;
  /** Decrypted frames, in a private copy of the packet. */
  payload: Uint8Array;
  /** Bytes the packet occupies in the datagram: the next coalesced packet starts here. */
  length: number;
}

/**
 * Removes protection from the first packet of `datagram`, an Initial/0-RTT/Handshake packet protected with
 * AES-128-GCM (as Initial packets are, RFC 9001 §5.2). The datagram is not modified: the packet is copied first.
 * A convenience for tools, tests and servers' first look at a client Initial, not the per-packet path (use
 * `PacketProtection`).
 *
 * Throws QuicCodecError for a malformed header, a packet too short to sample, or non-zero reserved bits
 * (PROTOCOL_VIOLATION, RFC 9000 §17.2), and PacketDecryptError when authentication fails.
 */
export function openLongHeaderPacket(
  datagram: Uint8Array,
  keys: PacketKeys,
  opts: OpenLongHeaderOptions = {},
): OpenedLongHeaderPacket {
  const header = parsePacketHeader(datagram, 0, { shortDcidLength: 0 });
  if (header.form !== 'long' || header.type === 'retry' || header.type === 'unsupported') {
    throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'not an Initial, 0-RTT or Handshake packet');
  }
  const packet = datagram.slice(0, header.packetLength);
  const protection = new PacketProtection(opts.provider ?? nodeCryptoProvider, 'aes-128-gcm', keys);
  const firstByte = protection.removeHeaderProtection(packet, header.pnOffset, true);
  if (firstByte < 0) {
    throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet too short for the header-protection sample');
  }
  const pnLength = ((firstByte & PN_LENGTH_MASK) + 1) as 1 | 2 | 3 | 4;
  const packetNumber = decodePacketNumber(opts.largestPn ?? -1, readTruncatedPn(packet, header.pnOffset, pnLength), pnLength);
  const payloadStart = header.pnOffset + pnLength;
  const plaintextLength = protection.decryptPayload(packet, payloadStart, packetNumber);
  if (plaintextLength < 0) throw new PacketDecryptError(`packet ${packetNumber} failed authentication`);
  if ((firstByte & LONG_HEADER_RESERVED_BITS) !== 0) {
    throw new QuicCodecError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits are not zero');
  }
  return {
    header,
    packetNumber,
    pnLength,
    firstByte,
    payload: packet.subarray(payloadStart, payloadStart + plaintextLength),
    length: header.packetLength,
  };
}
