/**
 * Portable packet-protection crypto on @noble/ciphers and @noble/hashes: runs wherever there is a JS engine and
 * `globalThis.crypto.getRandomValues`. It is the reference the node:crypto provider is tested against, not the
 * fast path (noble's AES-GCM expands the key and rebuilds its GHASH tables for every packet).
 *
 * The two header-protection ciphers here are also used by the node:crypto provider, because one AES block in JS
 * on a pre-expanded key beats a call into OpenSSL, and a ChaCha20 block in JS beats creating a cipher object
 * per packet.
 */
import { gcm, unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { QuicEncodeError } from '../errors.js';
import {
  AEAD_TAG_LENGTH,
  HP_SAMPLE_LENGTH,
  hashLength,
  checkAeadNonce,
  checkAeadOutput,
  keyLength,
  type Aead,
  type AeadAlgorithm,
  type CryptoProvider,
  type HashAlgorithm,
  type HeaderProtector,
} from './provider.js';

/** @internal Throws a programmer error unless `key` has the length `algorithm` needs. */
export function checkKeyLength(algorithm: AeadAlgorithm, key: Uint8Array, what: string): void {
  const expected = keyLength(algorithm);
  if (key.length !== expected) {
    throw new QuicEncodeError(`${what} for ${algorithm} must be ${expected} bytes, got ${key.length}`);
  }
}

/** @internal Throws a programmer error unless `algorithm` is one of the three QUIC AEADs (guards untyped callers). */
export function checkAlgorithm(algorithm: AeadAlgorithm): void {
  if (algorithm !== 'aes-128-gcm' && algorithm !== 'aes-256-gcm' && algorithm !== 'chacha20-poly1305') {
    throw new QuicEncodeError(`unsupported AEAD ${String(algorithm)}`);
  }
}

/** @internal RFC 5869 §2.3: at most 255 blocks of output. */
export function checkHkdfExpandLength(hash: HashAlgorithm, length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 255 * hashLength(hash)) {
    throw new QuicEncodeError(`HKDF-Expand length ${length} out of range for ${hash}`);
  }
}

/**
 * AES header protection (RFC 9001 §5.4.3): mask = AES-ECB(hp_key, sample)[0..5), one block on a key schedule
 * expanded once. noble's word convention is little-endian, so the sample is packed LE whatever the host order.
 */
export class AesHeaderProtector implements HeaderProtector {
  private readonly schedule: Uint32Array;

  constructor(hpKey: Uint8Array) {
    if (hpKey.length !== 16 && hpKey.length !== 32) {
      throw new QuicEncodeError(`AES header-protection key must be 16 or 32 bytes, got ${hpKey.length}`);
    }
    this.schedule = aesUnsafe.expandKeyLE(Uint8Array.from(hpKey));
  }

  mask(sample: Uint8Array, mask: Uint8Array): void {
    if (sample.length < HP_SAMPLE_LENGTH) throw new QuicEncodeError('header-protection sample must be 16 bytes');
    const s = sample;
    const out = aesUnsafe.encrypt(
      this.schedule,
      s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24),
      s[4]! | (s[5]! << 8) | (s[6]! << 16) | (s[7]! << 24),
      s[8]! | (s[9]! << 8) | (s[10]! << 16) | (s[11]! << 24),
      s[12]! | (s[13]! << 8) | (s[14]! << 16) | (s[15]! << 24),
    );
    const w0 = out.s0;
    mask[0] = w0;
    mask[1] = w0 >>> 8;
    mask[2] = w0 >>> 16;
    mask[3] = w0 >>> 24;
    mask[4] = out.s1;
  }
}

// "expand 32-byte k" as four little-endian words (RFC 8439 §2.3).
const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * ChaCha20 header protection (RFC 9001 §5.4.4): counter = sample[0..4) little-endian, nonce = sample[4..16),
 * mask = ChaCha20(hp_key, counter, nonce, 5 zero bytes), i.e. the first 5 bytes of one keystream block
 * (RFC 8439 §2.3). Computed here on locals rather than through noble's `chacha20`: that one copies the key on
 * every call and rejects a starting counter of 0xffffffff, which a peer can put in a sample.
 */
export class ChaCha20HeaderProtector implements HeaderProtector {
  private readonly k0: number;
  private readonly k1: number;
  private readonly k2: number;
  private readonly k3: number;
  private readonly k4: number;
  private readonly k5: number;
  private readonly k6: number;
  private readonly k7: number;

  constructor(hpKey: Uint8Array) {
    if (hpKey.length !== 32) {
      throw new QuicEncodeError(`ChaCha20 header-protection key must be 32 bytes, got ${hpKey.length}`);
    }
    this.k0 = le32(hpKey, 0);
    this.k1 = le32(hpKey, 4);
    this.k2 = le32(hpKey, 8);
    this.k3 = le32(hpKey, 12);
    this.k4 = le32(hpKey, 16);
    this.k5 = le32(hpKey, 20);
    this.k6 = le32(hpKey, 24);
    this.k7 = le32(hpKey, 28);
  }

  mask(sample: Uint8Array, mask: Uint8Array): void {
    if (sample.length < HP_SAMPLE_LENGTH) throw new QuicEncodeError('header-protection sample must be 16 bytes');
    const k0 = this.k0;
    const k1 = this.k1;
    let x0 = SIGMA0, x1 = SIGMA1, x2 = SIGMA2, x3 = SIGMA3;
    let x4 = k0, x5 = k1, x6 = this.k2, x7 = this.k3;
    let x8 = this.k4, x9 = this.k5, x10 = this.k6, x11 = this.k7;
    let x12 = le32(sample, 0), x13 = le32(sample, 4), x14 = le32(sample, 8), x15 = le32(sample, 12);
    // 10 double rounds: column rounds then diagonal rounds (RFC 8439 §2.3).
    for (let i = 0; i < 10; i++) {
      x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
      x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
      x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
      x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);

      x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
      x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
      x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
      x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);

      x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
      x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
      x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
      x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);

      x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
      x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
      x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
      x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);

      x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
      x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
      x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
      x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);

      x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
      x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
      x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
      x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);

      x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
      x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
      x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
      x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);

      x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
      x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
      x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
      x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
    }
    // Only keystream words 0 and 1 are needed for 5 bytes; the final addition of the input state (RFC 8439
    // §2.3) only touches those words. The XOR with 5 zero bytes is the identity.
    const w0 = (x0 + SIGMA0) | 0;
    const w1 = (x1 + SIGMA1) | 0;
    mask[0] = w0;
    mask[1] = w0 >>> 8;
    mask[2] = w0 >>> 16;
    mask[3] = w0 >>> 24;
    mask[4] = w1;
  }
}

/** The suite's header-protection cipher (RFC 9001 §5.4.3, §5.4.4). */
export function createJsHeaderProtector(algorithm: AeadAlgorithm, hpKey: Uint8Array): HeaderProtector {
  checkAlgorithm(algorithm);
  checkKeyLength(algorithm, hpKey, 'header-protection key');
  return algorithm === 'chacha20-poly1305' ? new ChaCha20HeaderProtector(hpKey) : new AesHeaderProtector(hpKey);
}

class NobleAead implements Aead {
  readonly algorithm: AeadAlgorithm;
  private readonly key: Uint8Array;
  private readonly isChaCha: boolean;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    checkAlgorithm(algorithm);
    checkKeyLength(algorithm, key, 'AEAD key');
    this.algorithm = algorithm;
    this.key = Uint8Array.from(key);
    this.isChaCha = algorithm === 'chacha20-poly1305';
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const sealedLength = plaintext.length + AEAD_TAG_LENGTH;
    checkAeadOutput(out, outOffset, sealedLength);
    if (this.isChaCha) {
      // noble's ChaCha20-Poly1305 writes into a caller buffer and copies the plaintext in first, so an
      // exactly-aliased plaintext is fine.
      chacha20poly1305(this.key, nonce, aad).encrypt(plaintext, out.subarray(outOffset, outOffset + sealedLength));
    } else {
      // noble's GCM has no output parameter; its result is a fresh array, copied after the input was consumed.
      out.set(gcm(this.key, nonce, aad).encrypt(plaintext), outOffset);
    }
    return sealedLength;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const plaintextLength = ciphertext.length - AEAD_TAG_LENGTH;
    if (plaintextLength < 0) return -1;
    checkAeadOutput(out, outOffset, plaintextLength);
    try {
      // Both noble AEADs verify the tag before producing any plaintext, so a failure leaves `out` untouched.
      if (this.isChaCha) {
        chacha20poly1305(this.key, nonce, aad).decrypt(ciphertext, out.subarray(outOffset, outOffset + plaintextLength));
      } else {
        out.set(gcm(this.key, nonce, aad).decrypt(ciphertext), outOffset);
      }
    } catch {
      return -1;
    }
    return plaintextLength;
  }
}

function nobleHash(hash: HashAlgorithm): typeof sha256 | typeof sha384 {
  if (hash === 'sha256') return sha256;
  if (hash === 'sha384') return sha384;
  throw new QuicEncodeError(`unsupported hash ${String(hash)}`);
}

// WebCrypto refuses more than 65536 bytes per getRandomValues call.
const MAX_RANDOM_CHUNK = 65536;

/** CryptoProvider on @noble/ciphers + @noble/hashes (portable; the node:crypto provider is faster). */
export const nobleCryptoProvider: CryptoProvider = {
  name: 'noble',
  hkdfExtract(hash, salt, ikm) {
    return extract(nobleHash(hash), ikm, salt);
  },
  hkdfExpand(hash, prk, info, length) {
    checkHkdfExpandLength(hash, length);
    return expand(nobleHash(hash), prk, info, length);
  },
  createAead(algorithm, key) {
    return new NobleAead(algorithm, key);
  },
  createHeaderProtector(algorithm, hpKey) {
    return createJsHeaderProtector(algorithm, hpKey);
  },
  randomFill(buf) {
    for (let offset = 0; offset < buf.length; offset += MAX_RANDOM_CHUNK) {
      globalThis.crypto.getRandomValues(buf.subarray(offset, Math.min(buf.length, offset + MAX_RANDOM_CHUNK)));
    }
    return buf;
  },
};
