/**
 * Packet protection keys from a traffic secret (RFC 9001 §5.1, §6.1; RFC 9369 §3.3.2), the per-packet nonce
 * (RFC 9001 §5.3; draft-ietf-quic-multipath-21) and the AEAD usage limits (RFC 9001 §6.6).
 */
import { QuicEncodeError } from '../errors.js';
import { QUIC_V1, QUIC_V2 } from '../version.js';
import { EMPTY_HKDF_CONTEXT, hkdfExpandLabel } from './hkdf-label.js';
import { checkAlgorithm } from './noble.js';
import { hashLength, keyLength, type AeadAlgorithm, type CryptoProvider, type HashAlgorithm } from './provider.js';

/** One direction's packet protection keys: AEAD key, IV and header-protection key. */
export type PacketKeys = { key: Uint8Array; iv: Uint8Array; hp: Uint8Array };

/** IV length: max(8, N_MIN) of the AEAD, 12 bytes for every QUIC suite (RFC 9001 §5.1, RFC 8446 §5.3). */
export const IV_LENGTH = 12;

interface VersionLabels {
  key: string;
  iv: string;
  hp: string;
  ku: string;
}

// RFC 9001 §5.1, §6.1.
const V1_LABELS: VersionLabels = { key: 'quic key', iv: 'quic iv', hp: 'quic hp', ku: 'quic ku' };
// RFC 9369 §3.3.2.
const V2_LABELS: VersionLabels = { key: 'quicv2 key', iv: 'quicv2 iv', hp: 'quicv2 hp', ku: 'quicv2 ku' };

function labelsFor(version: number): VersionLabels {
  if (version === QUIC_V1) return V1_LABELS;
  if (version === QUIC_V2) return V2_LABELS;
  throw new QuicEncodeError(`no packet-protection labels for QUIC version 0x${version.toString(16)}`);
}

/** The hash of the TLS 1.3 suite that uses `algorithm` (RFC 8446 §B.4). */
export function hashForAead(algorithm: AeadAlgorithm): HashAlgorithm {
  checkAlgorithm(algorithm);
  return algorithm === 'aes-256-gcm' ? 'sha384' : 'sha256';
}

/**
 * Derives key, IV and hp key from a traffic secret (RFC 9001 §5.1; RFC 9369 §3.3.2 for the v2 labels).
 * After a key update only `key` and `iv` change: keep the old `hp` (RFC 9001 §6.1).
 */
export function derivePacketKeys(
  provider: CryptoProvider,
  algorithm: AeadAlgorithm,
  secret: Uint8Array,
  version: number,
): PacketKeys {
  const labels = labelsFor(version);
  const hash = hashForAead(algorithm);
  const length = keyLength(algorithm);
  return {
    key: hkdfExpandLabel(provider, hash, secret, labels.key, EMPTY_HKDF_CONTEXT, length),
    iv: hkdfExpandLabel(provider, hash, secret, labels.iv, EMPTY_HKDF_CONTEXT, IV_LENGTH),
    hp: hkdfExpandLabel(provider, hash, secret, labels.hp, EMPTY_HKDF_CONTEXT, length),
  };
}

/** The secret of the next key phase: HKDF-Expand-Label(secret, "quic ku", "", Hash.length) (RFC 9001 §6.1). */
export function nextTrafficSecret(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  secret: Uint8Array,
  version: number,
): Uint8Array {
  return hkdfExpandLabel(provider, hash, secret, labelsFor(version).ku, EMPTY_HKDF_CONTEXT, hashLength(hash));
}

const TWO_POW_32 = 0x1_0000_0000;
const MAX_PATH_ID = 0xffff_ffff; // draft-ietf-quic-multipath-21: Path IDs are 32-bit

/**
 * Writes the AEAD nonce for `packetNumber` into `out` (which must be as long as `iv`), without allocating.
 *
 * RFC 9001 §5.3: nonce = IV XOR the 62-bit packet number, big-endian, left-padded to the IV length.
 * draft-ietf-quic-multipath-21 (Nonce Calculation): with multipath the padded value is
 * Path ID (32 bits) || 0b00 || packet number (62 bits); Path ID 0 gives the RFC 9001 nonce.
 */
export function makeNonce(iv: Uint8Array, packetNumber: number, out: Uint8Array, pathId = 0): void {
  const n = iv.length;
  if (n < IV_LENGTH || out.length !== n) throw new QuicEncodeError(`nonce buffer must match a ${n}-byte IV of at least 12 bytes`);
  if (!(packetNumber >= 0 && Number.isSafeInteger(packetNumber))) {
    throw new QuicEncodeError(`packet number ${packetNumber} is not an integer in 0..2^53-1`);
  }
  if (!(pathId >= 0 && pathId <= MAX_PATH_ID && Number.isInteger(pathId))) {
    throw new QuicEncodeError(`path ID ${pathId} is not a 32-bit unsigned integer`);
  }
  const hi = Math.floor(packetNumber / TWO_POW_32);
  const lo = packetNumber >>> 0;
  for (let i = 0; i < n - 12; i++) out[i] = iv[i]!;
  let o = n - 12;
  out[o] = iv[o]! ^ (pathId >>> 24);
  out[o + 1] = iv[o + 1]! ^ (pathId >>> 16);
  out[o + 2] = iv[o + 2]! ^ (pathId >>> 8);
  out[o + 3] = iv[o + 3]! ^ pathId;
  o += 4;
  out[o] = iv[o]! ^ (hi >>> 24);
  out[o + 1] = iv[o + 1]! ^ (hi >>> 16);
  out[o + 2] = iv[o + 2]! ^ (hi >>> 8);
  out[o + 3] = iv[o + 3]! ^ hi;
  out[o + 4] = iv[o + 4]! ^ (lo >>> 24);
  out[o + 5] = iv[o + 5]! ^ (lo >>> 16);
  out[o + 6] = iv[o + 6]! ^ (lo >>> 8);
  out[o + 7] = iv[o + 7]! ^ lo;
}

/**
 * Confidentiality limit: packets one key may protect before a key update is due (RFC 9001 §6.6).
 * ChaCha20-Poly1305's limit exceeds the 2^62 possible packets, so it has none in practice.
 */
export const AEAD_CONFIDENTIALITY_LIMIT: Readonly<Record<AeadAlgorithm, number>> = {
  'aes-128-gcm': 2 ** 23,
  'aes-256-gcm': 2 ** 23,
  'chacha20-poly1305': Number.POSITIVE_INFINITY,
};

/**
 * Integrity limit: failed decryptions across all keys of a connection before it must close with
 * AEAD_LIMIT_REACHED (RFC 9001 §6.6).
 */
export const AEAD_INTEGRITY_LIMIT: Readonly<Record<AeadAlgorithm, number>> = {
  'aes-128-gcm': 2 ** 52,
  'aes-256-gcm': 2 ** 52,
  'chacha20-poly1305': 2 ** 36,
};
