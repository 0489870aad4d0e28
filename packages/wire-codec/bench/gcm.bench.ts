// AES-GCM for 1200-byte packets: where the time goes and what amortising the per-call cost buys.
//
//   node --import tsx bench/gcm.bench.ts          (from packages/wire-codec; the machine is noisy: run it a few times)
//
// 1. AEADs, seal and open of a 1200-byte plaintext with a 20-byte AAD (a short header), one row per AES-GCM
//    engine of the node provider: 'openssl' (createCipheriv per packet), 'wasm-ct' (constant-time GHASH
//    kernel) and 'wasm-table' (table GHASH kernel), the wasm engines per packet and in batches of 8 and 32
//    (figures per packet); then @noble/ciphers (noble provider) and a pure-JS-GHASH variant of the fast design.
// 2. The pieces: AES-ECB update() for 1/8/32 packets' counter blocks, each WebAssembly kernel alone, a
//    per-packet AES-CTR cipher object.
// 3. GHASH over 1248 bytes (78 blocks: AAD + 1200-byte payload + lengths) with every layout tried, each
//    checked against the default table kernel before it is timed.
import { createCipheriv, randomBytes } from 'node:crypto';
import { createAeadJob } from '../src/crypto/fast-gcm.js';
import type { AeadJob, FastGcmAead } from '../src/crypto/fast-gcm.js';
import { DEFAULT_CT_KERNEL_OPTIONS, DEFAULT_TABLE_KERNEL_OPTIONS, GHASH_Y, NONCE, buildGhashTable, createGcmKernel } from '../src/crypto/ghash.js';
import type { KernelOptions } from '../src/crypto/ghash.js';
import { nobleCryptoProvider } from '../src/crypto/noble.js';
import { createNodeCipherivAead, createNodeCryptoProvider } from '../src/crypto/node.js';
import type { Aead } from '../src/crypto/provider.js';
import { measure, printTable } from '@pathquic/bench-harness';
import type { Measurement } from '@pathquic/bench-harness';

const PAYLOAD = 1200;
const AAD_LENGTH = 20;
const OPTS = { batch: 200, minMs: 200, rounds: 5 };

const key = Uint8Array.from(randomBytes(16));
const nonce = Uint8Array.from(randomBytes(12));
const aad = Uint8Array.from(randomBytes(AAD_LENGTH));
const plaintext = Uint8Array.from(randomBytes(PAYLOAD));

function perPacket(m: Measurement, packets: number, name = m.name): Measurement {
  return { name, nsPerOp: m.nsPerOp / packets, opsPerSec: m.opsPerSec * packets };
}

// ---------------------------------------------------------------------------------------------------------
// Pure-JS GHASH variants. State and table entries are 4 x int32, word 0 = bytes 0..3 big-endian.

/** A byte table of 16-byte entries as big-endian int32 words. */
function toWords(bytes: Uint8Array): Int32Array {
  const words = new Int32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) {
    words[i] = (bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!;
  }
  return words;
}

/** Shoup's reduction constants: x^128 folded back for the 4 or 8 bits shifted out. */
function reductionTable(bits: 4 | 8): Int32Array {
  const r = new Int32Array(1 << bits);
  for (let i = 0; i < r.length; i++) {
    let v = 0;
    for (let j = 0; j < bits; j++) if (i & (1 << j)) v ^= 0xe1000000 >>> (bits - 1 - j);
    r[i] = v;
  }
  return r;
}
const R4 = reductionTable(4);
const R8 = reductionTable(8);

const y = new Int32Array(4);
type JsGhash = (table: Int32Array, data: Uint8Array, off: number, end: number) => void;

function loadWord(d: Uint8Array, o: number): number {
  return (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
}

/** Shoup 4-bit: one 16-entry table (256 B/key), Horner over 32 nibbles with a shift-and-reduce per step. */
const ghashShoup4: JsGhash = (m, d, off, end) => {
  let y0 = y[0]!, y1 = y[1]!, y2 = y[2]!, y3 = y[3]!;
  for (; off < end; off += 16) {
    const x = [y0 ^ loadWord(d, off), y1 ^ loadWord(d, off + 4), y2 ^ loadWord(d, off + 8), y3 ^ loadWord(d, off + 12)];
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    for (let w = 3; w >= 0; w--) {
      const xw = x[w]!;
      for (let s = 0; s < 32; s += 4) {
        const r = z3 & 15;
        z3 = (z3 >>> 4) | (z2 << 28);
        z2 = (z2 >>> 4) | (z1 << 28);
        z1 = (z1 >>> 4) | (z0 << 28);
        z0 = (z0 >>> 4) ^ R4[r]!;
        const p = ((xw >>> s) & 15) << 2;
        z0 ^= m[p]!;
        z1 ^= m[p + 1]!;
        z2 ^= m[p + 2]!;
        z3 ^= m[p + 3]!;
      }
    }
    y0 = z0; y1 = z1; y2 = z2; y3 = z3;
  }
  y[0] = y0; y[1] = y1; y[2] = y2; y[3] = y3;
};

/** Shoup 8-bit: one 256-entry table (4 KiB/key) plus a shared reduction table, 16 serial steps a block. */
const ghashShoup8: JsGhash = (m, d, off, end) => {
  let y0 = y[0]!, y1 = y[1]!, y2 = y[2]!, y3 = y[3]!;
  for (; off < end; off += 16) {
    const x0 = y0 ^ loadWord(d, off), x1 = y1 ^ loadWord(d, off + 4);
    const x2 = y2 ^ loadWord(d, off + 8), x3 = y3 ^ loadWord(d, off + 12);
    let p = (x3 & 255) << 2;
    let z0 = m[p]!, z1 = m[p + 1]!, z2 = m[p + 2]!, z3 = m[p + 3]!;
    for (let i = 14; i >= 0; i--) {
      const w = i < 4 ? x0 : i < 8 ? x1 : i < 12 ? x2 : x3;
      const r = z3 & 255;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ R8[r]!;
      p = ((w >>> (24 - 8 * (i & 3))) & 255) << 2;
      z0 ^= m[p]!;
      z1 ^= m[p + 1]!;
      z2 ^= m[p + 2]!;
      z3 ^= m[p + 3]!;
    }
    y0 = z0; y1 = z1; y2 = z2; y3 = z3;
  }
  y[0] = y0; y[1] = y1; y[2] = y2; y[3] = y3;
};

/**
 * The same, fully unrolled: V8 runs this ~2.5x faster than the loop above. Generated once at startup
 * rather than written out 15 times.
 */
const ghashShoup8Unrolled: JsGhash = (() => {
  let body = 'let y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];\nfor (; off < end; off += 16) {\n';
  for (let w = 0; w < 4; w++) {
    body += `const x${w} = y${w} ^ (d[off + ${4 * w}] << 24 | d[off + ${4 * w + 1}] << 16 | d[off + ${4 * w + 2}] << 8 | d[off + ${4 * w + 3}]);\n`;
  }
  body += 'let r = 0, p = (x3 << 2) & 1020;\nlet z0 = m[p], z1 = m[p + 1], z2 = m[p + 2], z3 = m[p + 3];\n';
  for (let i = 14; i >= 0; i--) {
    const shift = 24 - 8 * (i & 3);
    const index = shift >= 2 ? `(x${i >> 2} >>> ${shift - 2}) & 1020` : `(x${i >> 2} << 2) & 1020`;
    body +=
      'r = z3 & 255; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ R8[r];\n' +
      `p = ${index}; z0 ^= m[p]; z1 ^= m[p + 1]; z2 ^= m[p + 2]; z3 ^= m[p + 3];\n`;
  }
  body += 'y0 = z0; y1 = z1; y2 = z2; y3 = z3;\n}\ny[0] = y0; y[1] = y1; y[2] = y2; y[3] = y3;';
  const make = new Function('y', 'R8', `return function ghashShoup8Unrolled(m, d, off, end) {\n${body}\n};`) as (
    state: Int32Array,
    r8: Int32Array,
  ) => JsGhash;
  return make(y, R8);
})();

/** 32 nibble-position tables (8 KiB/key): 32 independent lookups a block, no shifting of the state. */
const ghashNibblePositions: JsGhash = (t, d, off, end) => {
  let y0 = y[0]!, y1 = y[1]!, y2 = y[2]!, y3 = y[3]!;
  for (; off < end; off += 16) {
    const x = [y0 ^ loadWord(d, off), y1 ^ loadWord(d, off + 4), y2 ^ loadWord(d, off + 8), y3 ^ loadWord(d, off + 12)];
    y0 = 0; y1 = 0; y2 = 0; y3 = 0;
    for (let w = 0, base = 0; w < 4; w++) {
      const xw = x[w]!;
      for (let s = 28; s >= 0; s -= 4, base += 64) {
        const p = base | (((xw >>> s) & 15) << 2);
        y0 ^= t[p]!;
        y1 ^= t[p + 1]!;
        y2 ^= t[p + 2]!;
        y3 ^= t[p + 3]!;
      }
    }
  }
  y[0] = y0; y[1] = y1; y[2] = y2; y[3] = y3;
};

/** 16 byte-position tables (64 KiB/key): 16 independent lookups a block, written out. */
const ghashBytePositions: JsGhash = (t, d, off, end) => {
  let y0 = y[0]!, y1 = y[1]!, y2 = y[2]!, y3 = y[3]!;
  for (; off < end; off += 16) {
    const x0 = y0 ^ loadWord(d, off), x1 = y1 ^ loadWord(d, off + 4);
    const x2 = y2 ^ loadWord(d, off + 8), x3 = y3 ^ loadWord(d, off + 12);
    let p = (x0 >>> 22) & 0x3fc;
    y0 = t[p]!; y1 = t[p + 1]!; y2 = t[p + 2]!; y3 = t[p + 3]!;
    p = 1024 | ((x0 >>> 14) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 2048 | ((x0 >>> 6) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 3072 | ((x0 << 2) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 4096 | ((x1 >>> 22) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 5120 | ((x1 >>> 14) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 6144 | ((x1 >>> 6) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 7168 | ((x1 << 2) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 8192 | ((x2 >>> 22) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 9216 | ((x2 >>> 14) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 10240 | ((x2 >>> 6) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 11264 | ((x2 << 2) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 12288 | ((x3 >>> 22) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 13312 | ((x3 >>> 14) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 14336 | ((x3 >>> 6) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
    p = 15360 | ((x3 << 2) & 0x3fc); y0 ^= t[p]!; y1 ^= t[p + 1]!; y2 ^= t[p + 2]!; y3 ^= t[p + 3]!;
  }
  y[0] = y0; y[1] = y1; y[2] = y2; y[3] = y3;
};

/**
 * The fast design with GHASH in plain JS instead of WebAssembly (what was tried first): JS writes the
 * counter blocks, one AES-ECB update, byte-wise CTR XOR, JS GHASH. Seal only; open costs the same.
 */
class JsGhashGcm {
  private readonly ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  private readonly counters = new Uint8Array(16 * 128);
  private readonly scratch = new Uint8Array(16);
  constructor(
    private readonly ghash: JsGhash,
    private readonly table: Int32Array,
  ) {}

  seal(n: Uint8Array, a: Uint8Array, p: Uint8Array, out: Uint8Array): number {
    const len = p.length;
    const blocks = ((len + 15) >>> 4) + 1;
    const c = this.counters;
    for (let b = 0, o = 0; b < blocks; b++, o += 16) {
      c.set(n, o);
      c[o + 12] = 0; c[o + 13] = 0; c[o + 14] = (b + 1) >>> 8; c[o + 15] = (b + 1) & 255;
    }
    const ks = this.ecb.update(c.subarray(0, blocks * 16));
    for (let i = 0; i < len; i++) out[i] = p[i]! ^ ks[16 + i]!;
    y.fill(0);
    this.hashPadded(a);
    this.hashPadded(out.subarray(0, len));
    const s = this.scratch;
    s.fill(0);
    s[4] = (a.length >>> 21) & 255; s[5] = (a.length >>> 13) & 255; s[6] = (a.length >>> 5) & 255; s[7] = (a.length << 3) & 255;
    s[12] = (len >>> 21) & 255; s[13] = (len >>> 13) & 255; s[14] = (len >>> 5) & 255; s[15] = (len << 3) & 255;
    this.ghash(this.table, s, 0, 16);
    for (let w = 0; w < 4; w++) {
      for (let b = 0; b < 4; b++) out[len + 4 * w + b] = ((y[w]! >>> (24 - 8 * b)) & 255) ^ ks[4 * w + b]!;
    }
    return len + 16;
  }

  private hashPadded(d: Uint8Array): void {
    const whole = d.length & ~15;
    this.ghash(this.table, d, 0, whole);
    if (whole < d.length) {
      this.scratch.fill(0);
      this.scratch.set(d.subarray(whole));
      this.ghash(this.table, this.scratch, 0, 16);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

function aeadRows(): Measurement[] {
  const rows: Measurement[] = [];
  const out = new Uint8Array(PAYLOAD + 16);
  const back = new Uint8Array(PAYLOAD);
  const engine = (aesGcm: 'wasm-ct' | 'wasm-table'): FastGcmAead =>
    createNodeCryptoProvider({ aesGcm }).createAead('aes-128-gcm', key) as FastGcmAead;
  const fastEngines: Array<[string, FastGcmAead]> = [
    ['wasm-ct', engine('wasm-ct')],
    ['wasm-table', engine('wasm-table')],
  ];
  const aeads: Array<[string, Aead]> = [
    ['openssl: createCipheriv per packet', createNodeCipherivAead('aes-128-gcm', key)],
    ...fastEngines.map(([name, aead]): [string, Aead] => [`${name}, per packet`, aead]),
    ['@noble/ciphers gcm (noble provider)', nobleCryptoProvider.createAead('aes-128-gcm', key)],
  ];
  const sealed = createNodeCipherivAead('aes-128-gcm', key);
  const reference = new Uint8Array(PAYLOAD + 16);
  sealed.seal(nonce, aad, plaintext, reference);
  for (const [name, aead] of aeads) {
    aead.seal(nonce, aad, plaintext, out);
    if (Buffer.compare(out, reference) !== 0) throw new Error(`${name} disagrees with node`);
    rows.push(measure(`seal  ${name}`, () => aead.seal(nonce, aad, plaintext, out), OPTS));
    rows.push(measure(`open  ${name}`, () => aead.open(nonce, aad, reference, back), OPTS));
  }
  for (const [name, fast] of fastEngines) {
    for (const size of [8, 32]) {
      const sealJobs: AeadJob[] = [];
      const openJobs: AeadJob[] = [];
      for (let i = 0; i < size; i++) {
        const s = createAeadJob();
        s.nonce = nonce; s.aad = aad; s.input = plaintext; s.out = new Uint8Array(PAYLOAD + 16);
        sealJobs.push(s);
        const o = createAeadJob();
        o.nonce = nonce; o.aad = aad; o.input = reference; o.out = new Uint8Array(PAYLOAD);
        openJobs.push(o);
      }
      fast.sealBatch(sealJobs);
      if (Buffer.compare(sealJobs[size - 1]!.out, reference) !== 0) throw new Error('batch disagrees with node');
      if (fast.openBatch(openJobs) !== 0) throw new Error('batch open failed');
      const batchOpts = { ...OPTS, batch: Math.max(1, Math.round(OPTS.batch / size)) };
      rows.push(perPacket(measure('', () => fast.sealBatch(sealJobs), batchOpts), size, `seal  ${name}, batches of ${size} (per packet)`));
      rows.push(perPacket(measure('', () => fast.openBatch(openJobs), batchOpts), size, `open  ${name}, batches of ${size} (per packet)`));
    }
  }
  for (const [name, bits] of [['Shoup 8-bit unrolled, 4 KiB', 8], ['16 byte positions, 64 KiB', 16]] as const) {
    const bytes = buildGhashTable(createCipheriv('aes-128-ecb', key, null).update(new Uint8Array(16)), 8);
    const table = bits === 8 ? toWords(bytes.subarray(0, 4096)) : toWords(bytes);
    const js = new JsGhashGcm(bits === 8 ? ghashShoup8Unrolled : ghashBytePositions, table);
    js.seal(nonce, aad, plaintext, out);
    if (Buffer.compare(out, reference) !== 0) throw new Error(`JS GHASH GCM (${name}) disagrees with node`);
    rows.push(measure(`seal  ECB + JS GHASH (${name}), per packet`, () => js.seal(nonce, aad, plaintext, out), OPTS));
  }
  return rows;
}

function pieceRows(): Measurement[] {
  const rows: Measurement[] = [];
  const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const blocksPerPacket = PAYLOAD / 16 + 1;
  for (const packets of [1, 8, 32]) {
    const input = new Uint8Array(blocksPerPacket * 16 * packets);
    const m = measure('', () => ecb.update(input), { ...OPTS, batch: Math.max(1, Math.round(OPTS.batch / packets)) });
    rows.push(perPacket(m, packets, `AES-ECB update(), ${packets} packet(s) of counter blocks (per packet)`));
  }
  const h = ecb.update(new Uint8Array(16));
  for (const [name, options] of [['constant-time', DEFAULT_CT_KERNEL_OPTIONS], ['table', DEFAULT_TABLE_KERNEL_OPTIONS]] as const) {
    const kernel = createGcmKernel(options, 1)!;
    const table = kernel.bindTable(kernel.buildTable(h), 0);
    kernel.mem.set(plaintext, kernel.layout.data + 32);
    const seal = (): number => kernel.seal(table, kernel.layout.keystream, kernel.layout.data + 32, PAYLOAD, kernel.layout.data, AAD_LENGTH);
    rows.push(measure(`WebAssembly ${name} kernel seal alone (CTR XOR + GHASH + tag)`, seal, OPTS));
  }
  const k = createGcmKernel(DEFAULT_CT_KERNEL_OPTIONS, 1)!;
  k.mem.set(nonce, NONCE);
  rows.push(measure('WebAssembly counter-block writer, 76 blocks', () => k.ctr(NONCE, k.layout.ctr, blocksPerPacket), OPTS));
  const iv = new Uint8Array(16);
  rows.push(measure('createCipheriv(aes-128-ctr) + update() per packet', () => createCipheriv('aes-128-ctr', key, iv).update(plaintext), OPTS));
  return rows;
}

function ghashRows(): Measurement[] {
  const rows: Measurement[] = [];
  const h = createCipheriv('aes-128-ecb', key, null).update(new Uint8Array(16));
  const data = Uint8Array.from(randomBytes(78 * 16));
  const expected = (() => {
    const k = createGcmKernel(DEFAULT_TABLE_KERNEL_OPTIONS, 1)!;
    const tab = k.bindTable(k.buildTable(h), 0);
    k.mem.fill(0, GHASH_Y, GHASH_Y + 16);
    k.mem.set(data, k.layout.data);
    k.ghash(tab, 0, k.layout.data, data.length, 0, 0);
    return toWords(k.mem.slice(GHASH_Y, GHASH_Y + 16));
  })();
  const nibbles = buildGhashTable(h, 4);
  const bytes = buildGhashTable(h, 8);
  const variants: Array<[string, JsGhash, Int32Array]> = [
    ['JS Shoup 4-bit (256 B/key)', ghashShoup4, toWords(nibbles.subarray(0, 256))],
    ['JS Shoup 8-bit, loop (4 KiB/key)', ghashShoup8, toWords(bytes.subarray(0, 4096))],
    ['JS Shoup 8-bit, unrolled (4 KiB/key)', ghashShoup8Unrolled, toWords(bytes.subarray(0, 4096))],
    ['JS 32 nibble-position tables (8 KiB/key)', ghashNibblePositions, toWords(nibbles)],
    ['JS 16 byte-position tables (64 KiB/key)', ghashBytePositions, toWords(bytes)],
  ];
  for (const [name, fn, table] of variants) {
    y.fill(0);
    fn(table, data, 0, data.length);
    if (y.some((v, i) => v !== expected[i])) throw new Error(`${name} disagrees with the kernel`);
    rows.push(measure(`GHASH 78 blocks, ${name}`, () => fn(table, data, 0, data.length), OPTS));
  }
  const kernels: KernelOptions[] = [
    { multiply: 'table', windowBits: 4, ways: 1, extract: 'lanes' },
    { multiply: 'table', windowBits: 4, ways: 1, extract: 'scalar' },
    { multiply: 'table', windowBits: 4, ways: 2, extract: 'scalar' },
    { multiply: 'table', windowBits: 4, ways: 4, extract: 'scalar' },
    { multiply: 'table', windowBits: 8, ways: 1, extract: 'lanes' },
    { multiply: 'table', windowBits: 8, ways: 2, extract: 'lanes' },
    ...(['splat', 'shuffle'] as const).flatMap((words) =>
      ([1, 4, 8, 16] as const).map((ways): KernelOptions => ({ multiply: 'ct', ways, words })),
    ),
  ];
  for (const options of kernels) {
    const k = createGcmKernel(options, 1)!;
    const tab = k.bindTable(k.buildTable(h), 0);
    k.mem.fill(0, GHASH_Y, GHASH_Y + 16);
    k.mem.set(data, k.layout.data);
    k.ghash(tab, 0, k.layout.data, data.length, 0, 0);
    if (toWords(k.mem.slice(GHASH_Y, GHASH_Y + 16)).some((v, i) => v !== expected[i])) throw new Error('kernel variants disagree');
    const isDefault = [DEFAULT_TABLE_KERNEL_OPTIONS, DEFAULT_CT_KERNEL_OPTIONS].some((d) => JSON.stringify(d) === JSON.stringify(options));
    const perKey = `${(k.layout.tableBytes / 1024).toFixed(1)} KiB/key`;
    const name =
      options.multiply === 'table'
        ? `GHASH 78 blocks, WebAssembly table, ${options.windowBits}-bit windows, ${options.ways} block(s)/step, ` +
          `${options.extract} extract (${perKey})`
        : `GHASH 78 blocks, WebAssembly constant-time, ${options.ways} block(s)/reduction, ${options.words} words (${perKey})`;
    rows.push(measure(`${name}${isDefault ? ' [default]' : ''}`, () => k.ghash(tab, 0, k.layout.data, data.length, 0, 0), OPTS));
  }
  return rows;
}

console.log(`AES-128-GCM, ${PAYLOAD}-byte payload, ${AAD_LENGTH}-byte AAD; node ${process.version}; AEAD rows: ops/s = packets/s\n`);
printTable(aeadRows());
console.log('');
printTable(pieceRows());
console.log('');
printTable(ghashRows());
