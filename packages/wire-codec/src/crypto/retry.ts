/**
 * Retry packet integrity (RFC 9001 §5.8; RFC 9369 §3.3.3 for v2): the tag is AES-128-GCM with a fixed key and
 * nonce over an empty plaintext, with the Retry pseudo-packet as associated data:
 * `ODCID Length (8) || Original Destination Connection ID || Retry packet without its tag`.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { QuicEncodeError } from '../errors.js';
import { MAX_CID_LENGTH, RETRY_INTEGRITY_TAG_LENGTH, encodeRetryWithoutTag, type RetryFields } from '../header.js';
import { QUIC_V1, QUIC_V2 } from '../version.js';
import { nodeCryptoProvider } from './node.js';
import type { Aead, CryptoProvider } from './provider.js';

interface RetryIntegrityKey {
  key: Uint8Array;
  nonce: Uint8Array;
}

// RFC 9001 §5.8: HKDF-Expand-Label("quic key"/"quic iv") of secret 0xd9c9943e…6fca8e.
const RETRY_V1: RetryIntegrityKey = {
  key: hexToBytes('be0c690b9f66575a1d766b54e368c84e'),
  nonce: hexToBytes('461599d35d632bf2239825bb'),
};
// RFC 9369 §3.3.3: the same with "quicv2 key"/"quicv2 iv" of secret 0xc4dd2484…155e9f.
const RETRY_V2: RetryIntegrityKey = {
  key: hexToBytes('8fb4b01b56ac48e260fbcbcead7ccc92'),
  nonce: hexToBytes('d86969bc2d7c6d9990efb04a'),
};

function retryKeyFor(version: number): RetryIntegrityKey {
  if (version === QUIC_V1) return RETRY_V1;
  if (version === QUIC_V2) return RETRY_V2;
  throw new QuicEncodeError(`no Retry integrity key for QUIC version 0x${version.toString(16)}`);
}

/** A copy of the fixed Retry integrity key and nonce of `version`. */
export function retryIntegrityKey(version: number): { key: Uint8Array; nonce: Uint8Array } {
  const k = retryKeyFor(version);
  return { key: k.key.slice(), nonce: k.nonce.slice() };
}

// Servers under attack send many Retries: keep one AEAD per provider and version instead of re-keying each time.
const aeadCache = new WeakMap<CryptoProvider, Map<number, Aead>>();

function retryAead(version: number, provider: CryptoProvider): Aead {
  let byVersion = aeadCache.get(provider);
  if (byVersion === undefined) {
    byVersion = new Map();
    aeadCache.set(provider, byVersion);
  }
  let aead = byVersion.get(version);
  if (aead === undefined) {
    aead = provider.createAead('aes-128-gcm', retryKeyFor(version).key);
    byVersion.set(version, aead);
  }
  return aead;
}

function pseudoPacket(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  const pseudo = new Uint8Array(1 + odcid.length + retryWithoutTag.length);
  pseudo[0] = odcid.length;
  pseudo.set(odcid, 1);
  pseudo.set(retryWithoutTag, 1 + odcid.length);
  return pseudo;
}

const EMPTY = new Uint8Array(0);

/** The 16-byte Retry Integrity Tag for a Retry packet (given without its tag) answering `odcid`. */
export function computeRetryIntegrityTag(
  version: number,
  odcid: Uint8Array,
  retryPacketWithoutTag: Uint8Array,
  provider: CryptoProvider = nodeCryptoProvider,
): Uint8Array {
  if (odcid.length > MAX_CID_LENGTH) {
    throw new QuicEncodeError(`original destination connection ID is ${odcid.length} bytes; QUIC allows at most 20`);
  }
  const aead = retryAead(version, provider);
  const tag = new Uint8Array(RETRY_INTEGRITY_TAG_LENGTH);
  aead.seal(retryKeyFor(version).nonce, pseudoPacket(odcid, retryPacketWithoutTag), EMPTY, tag, 0);
  return tag;
}

/**
 * Whether the trailing 16 bytes of `retryPacket` are the integrity tag for a Retry answering `odcid` (the
 * Destination Connection ID of the client's first Initial). The comparison is constant-time. Never throws on a
 * malformed packet: anything too short simply fails (RFC 9000 §17.2.5.2: discard).
 */
export function verifyRetryIntegrity(
  version: number,
  odcid: Uint8Array,
  retryPacket: Uint8Array,
  provider: CryptoProvider = nodeCryptoProvider,
): boolean {
  const bodyLength = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH;
  if (bodyLength < 0) return false;
  const expected = computeRetryIntegrityTag(version, odcid, retryPacket.subarray(0, bodyLength), provider);
  let diff = 0;
  for (let i = 0; i < RETRY_INTEGRITY_TAG_LENGTH; i++) diff |= expected[i]! ^ retryPacket[bodyLength + i]!;
  return diff === 0;
}

/** Builds a complete Retry packet, integrity tag included, in answer to a client Initial whose DCID was `odcid`. */
export function buildRetryPacket(
  fields: RetryFields,
  odcid: Uint8Array,
  provider: CryptoProvider = nodeCryptoProvider,
): Uint8Array {
  const withoutTag = encodeRetryWithoutTag(fields);
  const tag = computeRetryIntegrityTag(fields.version, odcid, withoutTag, provider);
  const packet = new Uint8Array(withoutTag.length + RETRY_INTEGRITY_TAG_LENGTH);
  packet.set(withoutTag, 0);
  packet.set(tag, withoutTag.length);
  return packet;
}
