/**
 * AES-GCM (NIST SP 800-38D) for packet protection, built to amortise node:crypto's per-call cost.
 *
 * A plain `createCipheriv('aes-128-gcm')` per packet spends most of its ≈7 µs on creating the cipher object
 * and on five native calls, not on AES. Here each key has one long-lived, stateless AES-ECB object (no
 * padding, only ever `update()`d, never `final()`ed): one `update()` turns the counter blocks of one packet,
 * or of a whole batch of packets, into E(K, J0) and the CTR keystream. The CTR XOR and GHASH run in a
 * WebAssembly SIMD kernel (ghash.ts); the AES itself stays in OpenSSL (AES-NI). Two kernels: the default
 * multiplies by H in constant time (no secret-dependent memory access or branch) with precomputed powers
 * of H; the other uses 8 KiB of per-key tables indexed by secret data, faster but open to cache-timing
 * attacks from code sharing the CPU.
 *
 * Fallbacks, both plain `createCipheriv` GCM per packet: for a runtime without WebAssembly SIMD, and for a
 * single input too large for the kernel's staging area (> ~69 KB, larger than any UDP payload).
 *
 * Nonces are 12 bytes, so J0 = nonce || 0^31 || 1 (SP 800-38D §7.1 step 2); tags are 16 bytes
 * (RFC 9001 §5.3).
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Cipher } from 'node:crypto';
import { QuicEncodeError } from '../errors.js';
import { AEAD_TAG_LENGTH, checkAeadNonce, checkAeadOutput } from './provider.js';
import type { Aead } from './provider.js';
import { NONCE, sharedGcmKernel } from './ghash.js';
import type { GcmKernel, GhashMultiply } from './ghash.js';

const BLOCK = 16;

/**
 * One packet of a batch. Allocate jobs once and refill them: the batch calls write only `result`.
 * For sealing `input` is the plaintext and `out` receives ciphertext || tag; for opening `input` is
 * ciphertext || tag and `out` receives the plaintext. `out` may overlap its own job's `input` exactly, but
 * not another job's.
 */
export interface AeadJob {
  nonce: Uint8Array;
  aad: Uint8Array;
  input: Uint8Array;
  out: Uint8Array;
  outOffset: number;
  /** Bytes written (seal: input.length + 16; open: input.length - 16), or -1 when open fails. */
  result: number;
}

/** An empty job, to fill in. */
export function createAeadJob(): AeadJob {
  const empty = new Uint8Array(0);
  return { nonce: empty, aad: empty, input: empty, out: empty, outOffset: 0, result: 0 };
}

/** An `Aead` that can also process several packets per native call. */
export interface BatchAead extends Aead {
  /** Seals `jobs[0..count)`; each job's `result` = bytes written. Same output as `seal` per job. */
  sealBatch(jobs: readonly AeadJob[], count?: number): void;
  /**
   * Opens `jobs[0..count)`; each job's `result` = plaintext length, or -1 if it failed authentication
   * (that job's `out` is then untouched). Returns how many jobs failed.
   */
  openBatch(jobs: readonly AeadJob[], count?: number): number;
}

export function isBatchAead(aead: Aead): aead is BatchAead {
  return typeof (aead as Partial<BatchAead>).sealBatch === 'function';
}

/** Seals a batch with any `Aead`: in one go when it supports batches, else packet by packet. */
export function aeadSealBatch(aead: Aead, jobs: readonly AeadJob[], count = jobs.length): void {
  if (isBatchAead(aead)) aead.sealBatch(jobs, count);
  else sealEach(aead, jobs, count);
}

/** Opens a batch with any `Aead`; returns the number of jobs that failed authentication. */
export function aeadOpenBatch(aead: Aead, jobs: readonly AeadJob[], count = jobs.length): number {
  return isBatchAead(aead) ? aead.openBatch(jobs, count) : openEach(aead, jobs, count);
}

function sealEach(aead: Aead, jobs: readonly AeadJob[], count: number): void {
  validateJobs(jobs, count, true);
  for (let i = 0; i < count; i++) {
    const job = jobs[i]!;
    job.result = aead.seal(job.nonce, job.aad, job.input, job.out, job.outOffset);
  }
}

function openEach(aead: Aead, jobs: readonly AeadJob[], count: number): number {
  validateJobs(jobs, count, false);
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const job = jobs[i]!;
    job.result = aead.open(job.nonce, job.aad, job.input, job.out, job.outOffset);
    if (job.result < 0) failed++;
  }
  return failed;
}

export interface FastGcmAead extends BatchAead {
  readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm';
  /** 'wasm-simd' normally; 'node-gcm' (createCipheriv per packet) when the runtime lacks WebAssembly SIMD. */
  readonly implementation: 'wasm-simd' | 'node-gcm';
  /** The kernel's multiplication by H ('ct': constant-time, 'table': not), or 'openssl' for 'node-gcm'. */
  readonly ghash: GhashMultiply | 'openssl';
}

/**
 * AES-128-GCM for a 16-byte key, AES-256-GCM for a 32-byte key, on the constant-time kernel unless
 * `kernel` says otherwise (`sharedGcmKernel('table')`; null forces the createCipheriv fallback). Keeps the
 * kernel's per-key data (powers of H, 5 KiB; or 8 KiB of tables) plus one OpenSSL AES-ECB context for
 * the key's lifetime.
 */
export function createFastGcmAead(key: Uint8Array, kernel: GcmKernel | null = sharedGcmKernel()): FastGcmAead {
  if (key.length !== 16 && key.length !== 32) {
    throw new QuicEncodeError(`AES-GCM key must be 16 or 32 bytes, got ${key.length}`);
  }
  return kernel === null ? new NodeGcmAead(key) : new WasmGcmAead(key, kernel);
}

// ---------------------------------------------------------------------------------------------------------

/** Every misuse is reported before any job is processed. */
function validateJobs(jobs: readonly AeadJob[], count: number, sealing: boolean): void {
  if (!Number.isInteger(count) || count < 0 || count > jobs.length) {
    throw new QuicEncodeError(`batch count ${count} outside 0..${jobs.length}`);
  }
  for (let i = 0; i < count; i++) {
    const job = jobs[i]!;
    checkAeadNonce(job.nonce);
    const length = sealing ? job.input.length + AEAD_TAG_LENGTH : job.input.length - AEAD_TAG_LENGTH;
    if (length >= 0) checkAeadOutput(job.out, job.outOffset, length);
  }
}

const pad16 = (n: number): number => (n + 15) & ~15;

/** Counter blocks for `length` bytes of payload: J0 (for the tag) plus one per payload block. */
const counterBlockCount = (length: number): number => ((length + 15) >>> 4) + 1;

/** Staging bytes for one job: AAD and payload each zero-padded to 16, plus the tag. */
const stagedBytes = (aadLength: number, length: number): number => pad16(aadLength) + pad16(length) + BLOCK;

type GcmName = 'aes-128-gcm' | 'aes-256-gcm';

function nativeSeal(
  name: GcmName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): number {
  const cipher = createCipheriv(name, key, nonce, { authTagLength: AEAD_TAG_LENGTH });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  const tag = cipher.getAuthTag();
  // Written only after everything was read, so `out` may alias `plaintext`.
  out.set(body, outOffset);
  out.set(rest, outOffset + body.length);
  out.set(tag, outOffset + body.length + rest.length);
  return plaintext.length + AEAD_TAG_LENGTH;
}

function nativeOpen(
  name: GcmName,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): number {
  const length = ciphertext.length - AEAD_TAG_LENGTH;
  const decipher = createDecipheriv(name, key, nonce, { authTagLength: AEAD_TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(length));
  const body = decipher.update(ciphertext.subarray(0, length));
  let rest: Uint8Array;
  try {
    rest = decipher.final();
  } catch {
    return -1; // OpenSSL reports a tag mismatch by throwing; `out` has not been touched
  }
  out.set(body, outOffset);
  out.set(rest, outOffset + body.length);
  return length;
}

/** Fallback without WebAssembly SIMD: node's GCM per packet; batches are plain loops. */
class NodeGcmAead implements FastGcmAead {
  readonly implementation = 'node-gcm';
  readonly ghash = 'openssl';
  readonly algorithm: GcmName;
  private readonly key: Uint8Array;

  constructor(key: Uint8Array) {
    this.algorithm = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
    this.key = Uint8Array.from(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    checkAeadOutput(out, outOffset, plaintext.length + AEAD_TAG_LENGTH);
    return nativeSeal(this.algorithm, this.key, nonce, aad, plaintext, out, outOffset);
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const length = ciphertext.length - AEAD_TAG_LENGTH;
    if (length < 0) return -1;
    checkAeadOutput(out, outOffset, length);
    return nativeOpen(this.algorithm, this.key, nonce, aad, ciphertext, out, outOffset);
  }

  sealBatch(jobs: readonly AeadJob[], count = jobs.length): void {
    sealEach(this, jobs, count);
  }

  openBatch(jobs: readonly AeadJob[], count = jobs.length): number {
    return openEach(this, jobs, count);
  }
}

class WasmGcmAead implements FastGcmAead {
  readonly implementation = 'wasm-simd';
  readonly ghash: GhashMultiply;
  readonly algorithm: GcmName;
  /** For the rare input too large for the kernel's staging area. */
  private readonly key: Uint8Array;
  private readonly kernel: GcmKernel;
  /** Stateless AES-ECB, no padding: `update()` on whole blocks returns exactly their encryptions. */
  private readonly ecb: Cipher;
  private readonly table: Uint8Array;
  private readonly slot: number;

  constructor(key: Uint8Array, kernel: GcmKernel) {
    this.algorithm = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
    this.key = Uint8Array.from(key);
    this.kernel = kernel;
    this.ghash = kernel.layout.options.multiply;
    this.ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', this.key, null);
    this.ecb.setAutoPadding(false);
    // Hash subkey H = E(K, 0^128) (SP 800-38D §6.4).
    this.table = kernel.buildTable(this.ecb.update(new Uint8Array(BLOCK)));
    this.slot = kernel.assignSlot();
  }

  /**
   * Copies the AAD and the input (plaintext, or ciphertext with its tag) into the kernel's staging area and fills the
   * keystream for `length` bytes of data; returns where the data starts in kernel memory.
   */
  private stage(nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, length: number): number {
    const k = this.kernel;
    const aadAt = k.layout.data;
    const dataAt = aadAt + pad16(aad.length);
    k.mem.set(aad, aadAt);
    k.mem.set(input, dataAt);
    const blocks = counterBlockCount(length);
    this.writeCounters(nonce, k.layout.ctr, blocks);
    this.encryptCounters(blocks);
    return dataAt;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const length = plaintext.length;
    checkAeadOutput(out, outOffset, length + AEAD_TAG_LENGTH);
    const k = this.kernel;
    if (!fits(k, aad.length, length)) {
      return nativeSeal(this.algorithm, this.key, nonce, aad, plaintext, out, outOffset);
    }
    const dataAt = this.stage(nonce, aad, plaintext, length);
    k.seal(k.bindTable(this.table, this.slot), k.layout.keystream, dataAt, length, k.layout.data, aad.length);
    out.set(k.mem.subarray(dataAt, dataAt + length + AEAD_TAG_LENGTH), outOffset);
    return length + AEAD_TAG_LENGTH;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, outOffset = 0): number {
    checkAeadNonce(nonce);
    const length = ciphertext.length - AEAD_TAG_LENGTH;
    if (length < 0) return -1; // too short to hold a tag: cannot be authentic
    checkAeadOutput(out, outOffset, length);
    const k = this.kernel;
    if (!fits(k, aad.length, length)) {
      return nativeOpen(this.algorithm, this.key, nonce, aad, ciphertext, out, outOffset);
    }
    const dataAt = this.stage(nonce, aad, ciphertext, length);
    if (k.open(k.bindTable(this.table, this.slot), k.layout.keystream, dataAt, length, k.layout.data, aad.length) === 0) {
      return -1; // `out` untouched
    }
    out.set(k.mem.subarray(dataAt, dataAt + length), outOffset);
    return length;
  }

  sealBatch(jobs: readonly AeadJob[], count = jobs.length): void {
    validateJobs(jobs, count, true);
    this.runBatch(jobs, count, true);
  }

  openBatch(jobs: readonly AeadJob[], count = jobs.length): number {
    validateJobs(jobs, count, false);
    return this.runBatch(jobs, count, false);
  }

  /** Validated jobs, in chunks that fit the staging area, one AES-ECB call per chunk. Returns failed opens. */
  private runBatch(jobs: readonly AeadJob[], count: number, sealing: boolean): number {
    const k = this.kernel;
    const mem = k.mem;
    let failed = 0;
    let i = 0;
    while (i < count) {
      let blocks = 0;
      let staged = 0;
      let end = i;
      for (; end < count; end++) {
        const job = jobs[end]!;
        const length = sealing ? job.input.length : job.input.length - AEAD_TAG_LENGTH;
        if (length < 0) continue; // an open that fails without any work
        const b = counterBlockCount(length);
        const s = stagedBytes(job.aad.length, length);
        if (blocks + b > k.layout.capBlocks || staged + s > k.layout.capData) break;
        blocks += b;
        staged += s;
      }
      if (end === i) {
        // jobs[i] alone exceeds the staging area: the per-packet path falls back to node's GCM.
        failed += this.runOne(jobs[i]!, sealing);
        i++;
        continue;
      }

      let ctrAt = k.layout.ctr;
      let at = k.layout.data;
      for (let j = i; j < end; j++) {
        const job = jobs[j]!;
        const length = sealing ? job.input.length : job.input.length - AEAD_TAG_LENGTH;
        if (length < 0) continue;
        const b = counterBlockCount(length);
        this.writeCounters(job.nonce, ctrAt, b);
        mem.set(job.aad, at);
        mem.set(job.input, at + pad16(job.aad.length));
        ctrAt += b * BLOCK;
        at += stagedBytes(job.aad.length, length);
      }
      if (blocks > 0) this.encryptCounters(blocks);

      const tab = k.bindTable(this.table, this.slot);
      let ksAt = k.layout.keystream;
      at = k.layout.data;
      for (let j = i; j < end; j++) {
        const job = jobs[j]!;
        const aadLength = job.aad.length;
        const length = sealing ? job.input.length : job.input.length - AEAD_TAG_LENGTH;
        if (length < 0) {
          job.result = -1;
          failed++;
          continue;
        }
        const dataAt = at + pad16(aadLength);
        if (sealing) {
          k.seal(tab, ksAt, dataAt, length, at, aadLength);
          job.out.set(mem.subarray(dataAt, dataAt + length + AEAD_TAG_LENGTH), job.outOffset);
          job.result = length + AEAD_TAG_LENGTH;
        } else if (k.open(tab, ksAt, dataAt, length, at, aadLength) === 1) {
          job.out.set(mem.subarray(dataAt, dataAt + length), job.outOffset);
          job.result = length;
        } else {
          job.result = -1;
          failed++;
        }
        ksAt += counterBlockCount(length) * BLOCK;
        at += stagedBytes(aadLength, length);
      }
      i = end;
    }
    return failed;
  }

  /** One job through the per-packet path; returns 1 if it was an open that failed. */
  private runOne(job: AeadJob, sealing: boolean): number {
    job.result = sealing
      ? this.seal(job.nonce, job.aad, job.input, job.out, job.outOffset)
      : this.open(job.nonce, job.aad, job.input, job.out, job.outOffset);
    return job.result < 0 ? 1 : 0;
  }

  /** Counter blocks J0, inc32(J0), ... for `nonce` at `at` in kernel memory (SP 800-38D §7.1 steps 2-3). */
  private writeCounters(nonce: Uint8Array, at: number, blocks: number): void {
    this.kernel.mem.set(nonce, NONCE);
    this.kernel.ctr(NONCE, at, blocks);
  }

  /** E(K, ·) of the first `blocks` counter blocks into the keystream area: the one native call. */
  private encryptCounters(blocks: number): void {
    const k = this.kernel;
    const keystream = this.ecb.update(k.counterBlocks(blocks));
    if (keystream.length !== blocks * BLOCK) throw new Error('AES-ECB returned a short keystream');
    k.mem.set(keystream, k.layout.keystream);
  }
}

function fits(k: GcmKernel, aadLength: number, length: number): boolean {
  return counterBlockCount(length) <= k.layout.capBlocks && stagedBytes(aadLength, length) <= k.layout.capData;
}
