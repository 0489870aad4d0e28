/**
 * The small interface all packet-protection crypto goes through, so the portable implementation
 * (@noble/ciphers + @noble/hashes) and the fast one (node:crypto) are interchangeable and are held to the
 * same RFC 9001 test vectors.
 */
import { QuicEncodeError } from '../errors.js';

/** AEADs QUIC uses (RFC 9001 §5.3: every TLS 1.3 suite except TLS_AES_128_CCM_8_SHA256). */
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
/** Hashes of the TLS 1.3 suites above. */
export type HashAlgorithm = 'sha256' | 'sha384';

/** Every QUIC AEAD has a 16-byte tag (RFC 9001 §5.3). */
export const AEAD_TAG_LENGTH = 16;
/** Length of every QUIC AEAD nonce: all suites QUIC allows use 96-bit nonces (RFC 9001 §5.3, RFC 5116). */
export const AEAD_NONCE_LENGTH = 12;
/** Header-protection sample length (RFC 9001 §5.4.2). */
export const HP_SAMPLE_LENGTH = 16;

/** A keyed AEAD. One object per key, reused for every packet. */
export interface Aead {
  readonly algorithm: AeadAlgorithm;
  /**
   * Encrypts `plaintext` and writes ciphertext || 16-byte tag at `out[outOffset]`. `out` may overlap
   * `plaintext` exactly (in-place sealing). Returns the number of bytes written (plaintext.length + 16).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset?: number): number;
  /**
   * Decrypts `ciphertext` (which ends with the tag) and writes the plaintext at `out[outOffset]`; `out` may
   * overlap `ciphertext` exactly. Returns the plaintext length, or -1 when authentication fails: a failed
   * open is an expected outcome on the network, never an exception.
   */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset?: number): number;
}

/** Header protection (RFC 9001 §5.4) keyed with the hp key; one object per key. */
export interface HeaderProtector {
  /** Writes the 5-byte mask for a 16-byte `sample` into `mask[0..5)`. Must not allocate per call. */
  mask(sample: Uint8Array, mask: Uint8Array): void;
  /**
   * Optional: the masks of `count` samples at once. `samples` holds them back to back (16 bytes each); mask i is
   * written to `out[16 i .. 16 i + 5)`. For protectors with a per-call cost worth spreading (an OpenSSL cipher).
   */
  maskBatch?(samples: Uint8Array, count: number, out: Uint8Array): void;
}

export interface CryptoProvider {
  readonly name: string;
  /** HKDF-Extract (RFC 5869 §2.2). */
  hkdfExtract(hash: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** HKDF-Expand (RFC 5869 §2.3). */
  hkdfExpand(hash: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  createAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead;
  /** The header-protection cipher of the suite: AES-ECB for the AES suites, ChaCha20 for ChaCha20-Poly1305. */
  createHeaderProtector(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtector;
  /** Fills `buf` with cryptographically strong random bytes and returns it. */
  randomFill(buf: Uint8Array): Uint8Array;
}

/** Checks an `Aead` nonce argument; a wrong length is a programmer error. */
export function checkAeadNonce(nonce: Uint8Array): void {
  if (nonce.length !== AEAD_NONCE_LENGTH) {
    throw new QuicEncodeError(`AEAD nonce must be ${AEAD_NONCE_LENGTH} bytes, got ${nonce.length}`);
  }
}

/** Checks that `length` output bytes fit at `out[outOffset]`; not fitting is a programmer error. */
export function checkAeadOutput(out: Uint8Array, outOffset: number, length: number): void {
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + length > out.length) {
    throw new QuicEncodeError(`AEAD output needs ${length} bytes at offset ${outOffset} of a ${out.length}-byte buffer`);
  }
}

export function keyLength(algorithm: AeadAlgorithm): number {
  return algorithm === 'aes-128-gcm' ? 16 : 32;
}

export function hashLength(hash: HashAlgorithm): number {
  return hash === 'sha256' ? 32 : 48;
}
