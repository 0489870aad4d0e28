/**
 * Packet-protection crypto on node:crypto (OpenSSL): the fast provider, and the default one.
 *
 * AEADs create one OpenSSL cipher context per packet (node:crypto has no way to re-key a context with a new
 * nonce); HKDF is spelled out on HMAC so Extract and Expand stay separate steps, as TLS 1.3 and QUIC use them.
 * Header protection runs in JS (see noble.ts): one AES block on a pre-expanded key measured ~0.11 µs against
 * ~1.1 µs for `update()` on a long-lived AES-ECB context, and a JS ChaCha20 block avoids a cipher object per packet.
 */
import { createFastGcmAead } from './fast-gcm.js';
import { sharedGcmKernel } from './ghash.js';
import { createCipheriv, createDecipheriv, createHmac, randomFillSync, type Cipher, type CipherGCMTypes } from 'node:crypto';
import { QuicEncodeError } from '../errors.js';
import { checkAlgorithm, checkHkdfExpandLength, checkKeyLength, createJsHeaderProtector } from './noble.js';
import { AEAD_TAG_LENGTH, checkAeadNonce, checkAeadOutput, hashLength, type Aead, type AeadAlgorithm, type CryptoProvider, type HashAlgorithm, type HeaderProtector } from './provider.js';

const AUTH_TAG_OPTIONS = { authTagLength: AEAD_TAG_LENGTH } as const;

function checkHash(hash: HashAlgorithm): void {
  if (hash !== 'sha256' && hash !== 'sha384') throw new QuicEncodeError(`unsupported hash ${String(hash)}`);
}

class NodeAead implements Aead {
  readonly algorithm: AeadAlgorithm;
  private readonly key: Buffer;
  private readonly isChaCha: boolean;
  // The GCM overloads of createCipheriv take a CipherGCMTypes name; ChaCha20-Poly1305 uses the CCM-style overload
  // (authTagLength is mandatory there) and needs the plaintext length announced with the AAD.
  private readonly gcmName: CipherGCMTypes;

  constructor(algorithm: AeadAlgorithm, key: Uint8Array) {
    checkAlgorithm(algorithm);
    checkKeyLength(algorithm, key, 'AEAD key');
    this.algorithm = algorithm;
    this.key = Buffer.from(key);
    this.isChaCha = algorithm === 'chacha20-poly1305';
    this.gcmName = algorithm === 'aes-256-gcm' ? 'aes-256-gcm' : 'aes-128-gcm';
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const length = plaintext.length;
    const sealedLength = length + AEAD_TAG_LENGTH;
    checkAeadOutput(out, outOffset, sealedLength);
    let ciphertext: Buffer;
    let tag: Buffer;
    if (this.isChaCha) {
      const cipher = createCipheriv('chacha20-poly1305', this.key, nonce, AUTH_TAG_OPTIONS);
      cipher.setAAD(aad, { plaintextLength: length });
      ciphertext = cipher.update(plaintext);
      cipher.final();
      tag = cipher.getAuthTag();
    } else {
      const cipher = createCipheriv(this.gcmName, this.key, nonce, AUTH_TAG_OPTIONS);
      cipher.setAAD(aad);
      ciphertext = cipher.update(plaintext);
      cipher.final();
      tag = cipher.getAuthTag();
    }
    // update() returned a new buffer, so the plaintext has been read in full before `out` (which may alias it)
    // is written.
    out.set(ciphertext, outOffset);
    out.set(tag, outOffset + length);
    return sealedLength;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const length = ciphertext.length - AEAD_TAG_LENGTH;
    if (length < 0) return -1;
    checkAeadOutput(out, outOffset, length);
    const body = ciphertext.subarray(0, length);
    const tag = ciphertext.subarray(length);
    let plaintext: Buffer;
    try {
      if (this.isChaCha) {
        const decipher = createDecipheriv('chacha20-poly1305', this.key, nonce, AUTH_TAG_OPTIONS);
        decipher.setAAD(aad, { plaintextLength: length });
        decipher.setAuthTag(tag);
        plaintext = decipher.update(body);
        decipher.final();
      } else {
        const decipher = createDecipheriv(this.gcmName, this.key, nonce, AUTH_TAG_OPTIONS);
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        plaintext = decipher.update(body);
        decipher.final();
      }
    } catch {
      // final() throws when the tag does not verify: an expected outcome on the network (RFC 9001 §5.5).
      return -1;
    }
    // Written only once authenticated, so a forged packet never overwrites the caller's ciphertext.
    out.set(plaintext, outOffset);
    return length;
  }
}

/**
 * The straightforward node:crypto AEAD: a new cipher object per packet (~2.4 µs each on the reference machine).
 * Kept as a building block and as the baseline the benchmarks compare the default AEAD against.
 */
export function createNodeCipherivAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead {
  return new NodeAead(algorithm, key);
}

function hmac(hash: HashAlgorithm, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac(hash, key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * How the node provider computes AES-GCM.
 * - `'wasm-ct'` (the default): AES from one long-lived OpenSSL ECB object per key (the CTR keystream, also for whole batches),
 *   GHASH and the CTR XOR in a WebAssembly SIMD kernel that multiplies by H with integer multiplications in
 *   constant time (no memory access or branch depends on the key or the data; 5 KiB of powers of H per key,
 *   fast-gcm.ts, ghash.ts). About 1.5x the packets/s of `'openssl'` per packet and 2.5-3x in batches (see
 *   bench/gcm.bench.ts and bench/index.ts).
 * - `'openssl'`: a node:crypto cipher object per packet. Constant time (OpenSSL uses AES-NI and PCLMULQDQ);
 *   ~2.4 µs of each packet goes to creating the object (~130k sealed 1200-byte packets/s per core here).
 * - `'wasm-table'`: the same with GHASH from 8 KiB of per-key tables: faster, but table-driven GHASH is NOT
 *   constant-time: a process sharing the CPU caches could learn about the GHASH key. Choose it knowingly.
 * All fall back to `'openssl'` for ChaCha20-Poly1305, and the wasm engines to createCipheriv GCM on a runtime
 * without WebAssembly SIMD.
 */
export type NodeAesGcmEngine = 'openssl' | 'wasm-ct' | 'wasm-table';

export interface NodeCryptoProviderOptions {
  aesGcm?: NodeAesGcmEngine;
}

/** A CryptoProvider on node:crypto; see {@link NodeAesGcmEngine} for the AES-GCM engines. */
export function createNodeCryptoProvider(opts: NodeCryptoProviderOptions = {}): CryptoProvider {
  const engine = opts.aesGcm ?? 'wasm-ct';
  if (engine !== 'openssl' && engine !== 'wasm-ct' && engine !== 'wasm-table') {
    throw new QuicEncodeError(`unknown AES-GCM engine ${String(engine)}`);
  }
  return {
    ...nodeBase,
    name: `node+${engine}`,
    createAead(algorithm, key) {
      if (engine !== 'openssl' && algorithm !== 'chacha20-poly1305') {
        checkAlgorithm(algorithm);
        checkKeyLength(algorithm, key, 'AEAD key');
        return createFastGcmAead(key, sharedGcmKernel(engine === 'wasm-ct' ? 'ct' : 'table'));
      }
      return new NodeAead(algorithm, key);
    },
  };
}

const nodeBase: CryptoProvider = {
  name: 'node',
  // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zero bytes.
  hkdfExtract(hash, salt, ikm) {
    checkHash(hash);
    const key = salt.length === 0 ? new Uint8Array(hashLength(hash)) : salt;
    return new Uint8Array(hmac(hash, key, ikm));
  },
  // RFC 5869 §2.3: T(i) = HMAC-Hash(PRK, T(i-1) || info || i), output = first L bytes of T(1) || T(2) || ...
  hkdfExpand(hash, prk, info, length) {
    checkHash(hash);
    checkHkdfExpandLength(hash, length);
    const out = new Uint8Array(length);
    const counter = new Uint8Array(1);
    let previous: Uint8Array = new Uint8Array(0);
    for (let offset = 0, i = 1; offset < length; i++) {
      counter[0] = i;
      previous = hmac(hash, prk, previous, info, counter);
      const take = Math.min(previous.length, length - offset);
      out.set(previous.subarray(0, take), offset);
      offset += take;
    }
    return out;
  },
  createAead(algorithm, key) {
    return new NodeAead(algorithm, key);
  },
  createHeaderProtector(algorithm, hpKey) {
    return algorithm === 'chacha20-poly1305' ? createJsHeaderProtector(algorithm, hpKey) : new NodeAesHeaderProtector(algorithm, hpKey);
  },
  randomFill(buf) {
    randomFillSync(buf);
    return buf;
  },
};

/**
 * AES header protection (RFC 9001 §5.4.3): one block is cheaper in JS (a pre-expanded key, no native call), a batch
 * is cheaper as one AES-ECB call over all samples (AES-NI, one crossing into native code for the whole batch).
 */
class NodeAesHeaderProtector implements HeaderProtector {
  private readonly single: HeaderProtector;
  private readonly ecb: Cipher;

  constructor(algorithm: AeadAlgorithm, hpKey: Uint8Array) {
    this.single = createJsHeaderProtector(algorithm, hpKey);
    this.ecb = createCipheriv(algorithm === 'aes-256-gcm' ? 'aes-256-ecb' : 'aes-128-ecb', hpKey, null);
    this.ecb.setAutoPadding(false);
  }

  mask(sample: Uint8Array, mask: Uint8Array): void {
    this.single.mask(sample, mask);
  }

  maskBatch(samples: Uint8Array, count: number, out: Uint8Array): void {
    // ECB without padding returns exactly its input's length for whole blocks: nothing stays buffered.
    out.set(this.ecb.update(samples.subarray(0, count * 16)));
  }
}

/** The default node:crypto provider: constant-time AES-GCM with the `'wasm-ct'` engine, OpenSSL for the rest. */
export const nodeCryptoProvider: CryptoProvider = createNodeCryptoProvider();

