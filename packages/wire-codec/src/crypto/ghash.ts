/**
 * GHASH (NIST SP 800-38D §6.4) and the rest of the GCM data path except the block cipher, as a small
 * WebAssembly SIMD kernel assembled at load time, in two variants that differ in how they multiply by H.
 *
 * Why: node:crypto has no API that runs AES-GCM over a caller's buffer without building a fresh cipher
 * object per packet (≈7 µs per 1200-byte packet, most of it fixed per-call cost). fast-gcm.ts instead keeps
 * one long-lived AES-ECB object per key that encrypts the counter blocks of one or many packets in a single
 * call, and this kernel does what remains: the CTR XOR, GHASH and the tag (§7.1 steps 3-6, §7.2 steps 3-8).
 * Plain JavaScript table GHASH was measured too (bench/gcm.bench.ts) and is ~3x slower than this kernel:
 * V8 cannot issue 16-byte table loads or drop per-access bounds checks.
 *
 * 'ct' (constant time, the default): no memory access and no branch depends on H or on the data. It is
 * BearSSL's "integer multiplication with holes" (ghash_ctmul*.c) moved to SIMD: a 16-bit limb split into its
 * four bit classes (bits 4i + c, shifted down to 0x1111) holds at most 4 ones, so the integer product of two
 * such values has at most 4 terms per 4-bit column, and `i32x4.dot_i16x8_s` (x86 pmaddwd) sums two of those
 * products per lane: at most 8 < 16 terms, so no carry reaches the next column and bit 4n of the sum is the
 * carry-less product's coefficient. Karatsuba over the four classes needs 9 products instead of 16 per limb
 * pair; one dot instruction does 8 limb products, so a block costs 81 of them. Blocks are hashed in groups
 * of up to `ways` with precomputed H, H^2, ..., H^ways (Y = (Y ^ X1)·H^k ^ X2·H^(k-1) ^ ... ^ Xk·H); since the
 * masking, the Karatsuba recombination and the reduction are all linear, they run once per group on the XOR
 * of the group's raw products. Per key: 324 bytes per power of H (5 KiB for the default 16 powers).
 * Precomputed powers are addressed by block position and length only, never by secret data.
 *
 * 'table': per-key tables with one 16-entry table per 4-bit position: the element with nibble n at bit
 * position 4p, times H, sits at table[p][n]. A block is then the XOR of 32 independent 16-byte loads (no
 * serial shift-and-reduce chain as in Shoup's single-table method), their indices taken from the state with
 * four 32-bit lane extracts and scalar shifts. 32 x 16 x 16 B = 8 KiB per key. Also built and measured
 * (TableKernelOptions, bench/gcm.bench.ts): byte-lane extracts (slower), byte-wide windows (64 KiB per key,
 * faster but 8x the memory), and tables for H..H^k hashing k blocks per step (no consistent gain with 4-bit
 * windows; good with byte windows, at 64 KiB x k per key). Table lookups are indexed by secret-dependent
 * values, so like any table GHASH (OpenSSL's fallback when PCLMULQDQ is absent) this variant is NOT
 * constant-time against a cache-timing observer on the same machine.
 *
 * Byte order: WebAssembly memory is little-endian on every host, and the kernels only work on bytes in
 * GCM's own order (byte 0 = coefficients x^0..x^7, most significant bit first) or on explicit byte
 * reversals of it, so the host's endianness never matters.
 */

// ---------------------------------------------------------------------------------------------------------
// Per-key tables (built in JS, copied into kernel memory on use).

/** One table entry is a 128-bit field element. */
const ELEMENT_BYTES = 16;

/** Table bytes for a window width: (128 / w) positions x 2^w entries x 16 bytes. */
export function ghashTableBytes(windowBits: 4 | 8): number {
  return (128 / windowBits) * (1 << windowBits) * ELEMENT_BYTES;
}

/** v = v·x in GF(2^128), GCM bit order: a right shift, folding x^128 back as R = 0xe1 || 0^120 (SP 800-38D §6.3). */
function mulByX(v: Uint8Array): void {
  const carry = v[15]! & 1;
  for (let i = 15; i > 0; i--) v[i] = (v[i]! >>> 1) | ((v[i - 1]! & 1) << 7);
  v[0] = (v[0]! >>> 1) ^ (carry === 1 ? 0xe1 : 0);
}

/** a·b in GF(2^128) (SP 800-38D §6.3, Algorithm 1): bit by bit, for the few products made per key. */
export function gfMultiply(a: Uint8Array, b: Uint8Array): Uint8Array {
  const z = new Uint8Array(ELEMENT_BYTES);
  const v = Uint8Array.from(b.subarray(0, ELEMENT_BYTES));
  for (let i = 0; i < 128; i++) {
    if ((a[i >>> 3]! >>> (7 - (i & 7))) & 1) for (let j = 0; j < ELEMENT_BYTES; j++) z[j]! ^= v[j]!;
    mulByX(v);
  }
  return z;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** A big-endian word as the native Uint32Array element holding the same four bytes. */
function nativeWord(be: number): number {
  return LITTLE_ENDIAN_HOST ? ((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >>> 8) & 0xff00) | (be >>> 24) : be;
}

/**
 * Multiply-by-constant tables for `c` (SP 800-38D §6.4 uses c = H) at `words[at..]`: entry [p][n] =
 * (n placed in window p) · c, window p covering x^(w·p) .. x^(w·p + w - 1).
 */
function writeTable(c: Uint8Array, windowBits: 4 | 8, words: Uint32Array, at: number): void {
  const entries = 1 << windowBits;
  const positions = 128 / windowBits;
  // c·x^k for k = 0, 1, ..., 127 as big-endian words; ·x is a right shift folding in R = 0xe1 || 0^120
  // (SP 800-38D §6.3).
  let v0 = (c[0]! << 24) | (c[1]! << 16) | (c[2]! << 8) | c[3]!;
  let v1 = (c[4]! << 24) | (c[5]! << 16) | (c[6]! << 8) | c[7]!;
  let v2 = (c[8]! << 24) | (c[9]! << 16) | (c[10]! << 8) | c[11]!;
  let v3 = (c[12]! << 24) | (c[13]! << 16) | (c[14]! << 8) | c[15]!;
  for (let p = 0; p < positions; p++) {
    const base = at + p * entries * 4;
    // The window's most significant bit is the lowest power of x.
    for (let j = 0; j < windowBits; j++) {
      const e = base + (entries >>> (j + 1)) * 4;
      words[e] = nativeWord(v0);
      words[e + 1] = nativeWord(v1);
      words[e + 2] = nativeWord(v2);
      words[e + 3] = nativeWord(v3);
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry === 1 ? 0xe1000000 : 0);
    }
    // Every other entry by linearity, word by word (byte-order neutral): T[n] = T[n - lowest bit] ^ T[lowest bit].
    for (let n = 3; n < entries; n++) {
      const low = n & -n;
      if (low === n) continue;
      const dst = base + n * 4;
      const a = base + (n ^ low) * 4;
      const b = base + low * 4;
      for (let i = 0; i < 4; i++) words[dst + i] = words[a + i]! ^ words[b + i]!;
    }
  }
}

/**
 * The kernel's per-key tables for the hash subkey `h` = E(K, 0^128): one table per power H, H^2, ..., H^ways,
 * in that order.
 */
export function buildGhashTable(h: Uint8Array, windowBits: 4 | 8 = 4, ways: 1 | 2 | 4 = 1): Uint8Array {
  const one = ghashTableBytes(windowBits);
  const words = new Uint32Array((one * ways) / 4);
  const hash = h.subarray(0, ELEMENT_BYTES);
  let power: Uint8Array = Uint8Array.from(hash);
  for (let k = 0; k < ways; k++) {
    writeTable(power, windowBits, words, (k * one) / 4);
    if (k + 1 < ways) power = gfMultiply(power, hash);
  }
  return new Uint8Array(words.buffer);
}

// ---------------------------------------------------------------------------------------------------------
// Per-key powers of H for the constant-time kernel (built in JS, copied into kernel memory on use).

/**
 * a·b in GF(2^128) like {@link gfMultiply}, but without branches or memory indices that depend on a or b
 * (masks instead of conditionals): key setup of the constant-time kernel handles H.
 */
export function gfMultiplyCt(a: Uint8Array, b: Uint8Array): Uint8Array {
  let v0 = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  let v1 = (b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!;
  let v2 = (b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!;
  let v3 = (b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!;
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let i = 0; i < 128; i++) {
    // SP 800-38D §6.3 Algorithm 1: Z ^= V if bit i of a is set; V = V·x (right shift, fold in R = 0xe1 || 0^120).
    const take = -((a[i >>> 3]! >>> (7 - (i & 7))) & 1);
    z0 ^= v0 & take;
    z1 ^= v1 & take;
    z2 ^= v2 & take;
    z3 ^= v3 & take;
    const fold = -(v3 & 1) & 0xe1000000;
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ fold;
  }
  const z = new Uint8Array(ELEMENT_BYTES);
  const view = new DataView(z.buffer);
  view.setUint32(0, z0);
  view.setUint32(4, z1);
  view.setUint32(8, z2);
  view.setUint32(12, z3);
  return z;
}

/**
 * Karatsuba terms of a 16-bit limb split into bit classes (each shifted down to 0x1111): c0, c1, c0^c1,
 * c2, c3, c2^c3, c0^c2, c1^c3, c0^c1^c2^c3, i.e. BearSSL's 9-product split of x = c0 + t·c1 + t²·c2 + t³·c3.
 */
export const CT_TERMS = 9;
/** How the constant-time kernel reads H's words; see CtKernelOptions.words. */
export type CtWordLayout = 'splat' | 'shuffle';

/**
 * Bytes per term: 'splat' packs the 16-bit limbs 0, b[7], b[6], ..., b[0], 0, so that the word for m
 * (limb m low, limb m - 1 high) starts at byte 2(8 - m); 'shuffle' stores the nine words at 4m.
 */
const ctTermBytes = (words: CtWordLayout): number => (words === 'splat' ? 20 : 36);
const CLASS_MASK_16 = 0x1111;

/** The nine Karatsuba terms of a 16-bit limb, in kernel order. */
function limbTerms(v: number): readonly number[] {
  const c0 = v & CLASS_MASK_16;
  const c1 = (v >>> 1) & CLASS_MASK_16;
  const c2 = (v >>> 2) & CLASS_MASK_16;
  const c3 = (v >>> 3) & CLASS_MASK_16;
  return [c0, c1, c0 ^ c1, c2, c3, c2 ^ c3, c0 ^ c2, c1 ^ c3, c0 ^ c1 ^ c2 ^ c3];
}

/**
 * Byte offset, inside one 'splat' term, of the 32-bit word whose low half is limb m and high half limb
 * m - 1 of H (zero outside 0..7): `i32x4.dot_i16x8_s` of the data's limbs (x[2k], x[2k+1]) with that word
 * in every lane gives x[2k]·h[m] + x[2k+1]·h[m-1], both at limb position 2k + m.
 */
const ctTermWordOffset = (m: number): number => 2 * (8 - m);

/** Key bytes of the constant-time kernel: `ways` powers of H. */
export function ctKeyBytes(ways: number, words: CtWordLayout): number {
  return ways * CT_TERMS * ctTermBytes(words);
}

/**
 * The constant-time kernel's per-key data for hash subkey `h` = E(K, 0^128): for H, H^2, ..., H^ways in that
 * order, the nine Karatsuba terms of each 16-bit limb of the byte-reversed power (the kernel computes on
 * byte-reversed blocks, where bit 127 - i is the coefficient of x^i), laid out as `words` says.
 */
export function buildCtGhashKey(h: Uint8Array, ways: number, words: CtWordLayout): Uint8Array {
  const termBytes = ctTermBytes(words);
  const out = new Uint8Array(ctKeyBytes(ways, words));
  const view = new DataView(out.buffer);
  const hash = h.subarray(0, ELEMENT_BYTES);
  let power: Uint8Array = Uint8Array.from(hash);
  for (let p = 0; p < ways; p++) {
    const limbs: (readonly number[])[] = [];
    for (let limb = 0; limb < 8; limb++) {
      // Limb l of the byte-reversed element is bytes 15 - 2l (low) and 14 - 2l (high) of GCM's order.
      limbs.push(limbTerms(power[15 - 2 * limb]! | (power[14 - 2 * limb]! << 8)));
    }
    for (let t = 0; t < CT_TERMS; t++) {
      const at = (p * CT_TERMS + t) * termBytes;
      for (let m = 0; m <= 8; m++) {
        const low = m < 8 ? limbs[m]![t]! : 0;
        const high = m > 0 ? limbs[m - 1]![t]! : 0;
        if (words === 'splat') {
          // Limb m sits at 2(8 - m); writing each word's low half covers limbs 0..7, the edges stay 0.
          if (m < 8) view.setUint16(at + ctTermWordOffset(m), low, true);
        } else {
          view.setUint32(at + 4 * m, (low | (high << 16)) >>> 0, true);
        }
      }
    }
    if (p + 1 < ways) power = gfMultiplyCt(power, hash);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// A minimal WebAssembly assembler: just the instructions the kernel uses. Encodings from the WebAssembly
// core specification 2.0, §5 (binary format); vector instructions are 0xFD + LEB128 opcode (§5.4.8).

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY_BLOCK = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

class Code {
  readonly bytes: number[] = [];
  private emit(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  get(local: number): this {
    return this.emit(0x20, ...uleb(local));
  }
  set(local: number): this {
    return this.emit(0x21, ...uleb(local));
  }
  tee(local: number): this {
    return this.emit(0x22, ...uleb(local));
  }
  i32(value: number): this {
    return this.emit(0x41, ...sleb(value));
  }
  i64(value: number): this {
    return this.emit(0x42, ...sleb(value));
  }
  i32Add(): this {
    return this.emit(0x6a);
  }
  i32Sub(): this {
    return this.emit(0x6b);
  }
  i32And(): this {
    return this.emit(0x71);
  }
  i32Shl(): this {
    return this.emit(0x74);
  }
  i32ShrU(): this {
    return this.emit(0x76);
  }
  i32GeU(): this {
    return this.emit(0x4f);
  }
  i32Eq(): this {
    return this.emit(0x46);
  }
  i32LtU(): this {
    return this.emit(0x49);
  }
  i32Mul(): this {
    return this.emit(0x6c);
  }
  /** select(a, b, cond): a if cond != 0, else b (§5.4.4). */
  select(): this {
    return this.emit(0x1b);
  }
  i32Eqz(): this {
    return this.emit(0x45);
  }
  i64ExtendI32U(): this {
    return this.emit(0xad);
  }
  i64Shl(): this {
    return this.emit(0x86);
  }
  block(): this {
    return this.emit(0x02, EMPTY_BLOCK);
  }
  loop(): this {
    return this.emit(0x03, EMPTY_BLOCK);
  }
  if(): this {
    return this.emit(0x04, EMPTY_BLOCK);
  }
  else(): this {
    return this.emit(0x05);
  }
  end(): this {
    return this.emit(0x0b);
  }
  br(depth: number): this {
    return this.emit(0x0c, depth);
  }
  brIf(depth: number): this {
    return this.emit(0x0d, depth);
  }
  /** memarg = alignment hint (log2; 0 = unaligned is always valid) and constant offset. */
  v128Load(offset = 0): this {
    return this.emit(0xfd, 0x00, 0, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.emit(0xfd, 0x0b, 0, ...uleb(offset));
  }
  v128Load32Splat(offset = 0): this {
    return this.emit(0xfd, 0x09, 0, ...uleb(offset));
  }
  v128Const(bytes: readonly number[]): this {
    return this.emit(0xfd, 0x0c, ...bytes);
  }
  i8x16Shuffle(lanes: readonly number[]): this {
    return this.emit(0xfd, 0x0d, ...lanes);
  }
  i8x16ExtractLaneU(lane: number): this {
    return this.emit(0xfd, 0x16, lane);
  }
  i32x4ExtractLane(lane: number): this {
    return this.emit(0xfd, 0x1b, lane);
  }
  i32x4ReplaceLane(lane: number): this {
    return this.emit(0xfd, 0x1c, lane);
  }
  i64x2Splat(): this {
    return this.emit(0xfd, 0x12);
  }
  i64x2ReplaceLane(lane: number): this {
    return this.emit(0xfd, 0x1e, lane);
  }
  v128And(): this {
    return this.emit(0xfd, 0x4e);
  }
  v128Xor(): this {
    return this.emit(0xfd, 0x51);
  }
  /** a & ~b */
  v128AndNot(): this {
    return this.emit(0xfd, 0x4f);
  }
  v128AnyTrue(): this {
    return this.emit(0xfd, 0x53);
  }
  i8x16Shl(): this {
    return this.emit(0xfd, 0x6b);
  }
  i16x8ShrU(): this {
    return this.emit(0xfd, ...uleb(0x8d));
  }
  i32x4Shl(): this {
    return this.emit(0xfd, ...uleb(0xab));
  }
  i64x2Shl(): this {
    return this.emit(0xfd, ...uleb(0xcb));
  }
  i64x2ShrU(): this {
    return this.emit(0xfd, ...uleb(0xcd));
  }
  /** Lane k = a[2k]·b[2k] + a[2k+1]·b[2k+1], signed 16-bit inputs (x86 pmaddwd). */
  i32x4DotI16x8S(): this {
    return this.emit(0xfd, ...uleb(0xba));
  }
}

interface FuncDef {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  readonly locals: readonly number[];
  readonly code: Code;
}

/** Appends every byte of `parts` to `out` (loops, not spreads: the code section is ~10k bytes). */
function append(out: number[], ...parts: readonly (readonly number[])[]): number[] {
  for (const part of parts) for (const b of part) out.push(b);
  return out;
}

/** A vector: LEB128 count, then the items (§5.1.3). */
function vec(items: readonly (readonly number[])[]): number[] {
  return append(uleb(items.length), ...items);
}

/** A section: id, LEB128 byte size, contents (§5.5.2). */
function section(id: number, body: readonly number[]): number[] {
  return append([id], uleb(body.length), body);
}

function utf8Name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
}

/** A module with one exported memory of `pages` fixed pages and the given exported functions (§5.5). */
function assembleModule(funcs: readonly FuncDef[], pages: number): Uint8Array {
  const types = section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))])));
  const functions = section(3, vec(funcs.map((_, i) => uleb(i))));
  // limits 0x01 min max: the memory never grows, so views over it stay valid forever.
  const memory = section(5, vec([[0x01, ...uleb(pages), ...uleb(pages)]]));
  const exports = section(
    7,
    vec([...funcs.map((f, i) => [...utf8Name(f.name), 0x00, ...uleb(i)]), [...utf8Name('memory'), 0x02, 0]]),
  );
  const code = section(
    10,
    vec(
      funcs.map((f) => {
        const body = append(vec(f.locals.map((t) => [1, t])), f.code.bytes, [0x0b]);
        return append(uleb(body.length), body);
      }),
    ),
  );
  const magicAndVersion = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return Uint8Array.from(append([], magicAndVersion, types, functions, memory, exports, code));
}

// ---------------------------------------------------------------------------------------------------------
// Kernel memory layout (byte offsets). Everything is 16-byte aligned.

/** masks[r] keeps the first r bytes of a block (zero padding of partial blocks, SP 800-38D §6.4 / §7.1 step 5). */
const MASKS = 0;
/** GHASH state for the standalone `ghash` export (GCM byte order). */
export const GHASH_Y = 256;
/** The 12-byte nonce the counter blocks are built from. */
export const NONCE = 272;
/** The constant-time kernel's scratch (split blocks and per-group products); then the key slots. */
const SCRATCH = 1024;

/** How the kernel multiplies by H. */
export type GhashMultiply = 'ct' | 'table';

export interface TableKernelOptions {
  readonly multiply: 'table';
  /** Table window: 4 bits (32 x 16 entries, 8 KiB per power of H) or 8 bits (16 x 256, 64 KiB). */
  readonly windowBits: 4 | 8;
  /**
   * Blocks hashed per step with tables for H, H^2, ..., H^ways: Y = (Y ^ X1)·H^k ^ X2·H^(k-1) ^ ... ^ Xk·H.
   * The k products are independent, which hides the load latency of the otherwise serial chain.
   */
  readonly ways: 1 | 2 | 4;
  /** How table indices leave the vector: byte-lane extracts, or 32-bit extracts then scalar shifts. */
  readonly extract: 'lanes' | 'scalar';
}

export interface CtKernelOptions {
  readonly multiply: 'ct';
  /**
   * Most blocks per reduction, with H, H^2, ..., H^ways precomputed (180 bytes each): the masking,
   * recombination and reduction (about a block's worth of work) run once per group of up to `ways` blocks.
   */
  readonly ways: 1 | 2 | 4 | 8 | 16;
  /**
   * How each 32-bit word of H's terms reaches all four lanes: `v128.load32_splat` per word (20 bytes per
   * term), or two vector loads and in-register lane shuffles (36 bytes per term, word m at 4m). 'shuffle'
   * is faster on V8: it issues a loop body's loads first, so nine splat loads next to nine accumulators
   * spill registers, while shuffles are scheduled next to their use.
   */
  readonly words: CtWordLayout;
}

export type KernelOptions = TableKernelOptions | CtKernelOptions;

export interface KernelLayout {
  readonly options: KernelOptions;
  /** Bytes of one key's tables or powers of H. */
  readonly tableBytes: number;
  readonly slots: number;
  /** Where slot 0 starts. */
  readonly tables: number;
  /** Counter blocks (input of the AES-ECB call). */
  readonly ctr: number;
  /** Their encryptions: E(K, J0) then the keystream, per packet. */
  readonly keystream: number;
  /** Capacity of the two areas above, in 16-byte blocks. */
  readonly capBlocks: number;
  /**
   * Staging area for AAD and plaintext/ciphertext (each padded to 16 bytes, plus one block for the tag;
   * the constant-time kernel first uses that block for the lengths block).
   */
  readonly data: number;
  readonly capData: number;
  readonly pages: number;
}

/** Constant-time kernel scratch: the nine split terms of each block of a group. */
const CT_SPLIT_BYTES = CT_TERMS * 16;
/** ... and the group's masked products, one vector per (term, limb offset m). */
const CT_PRODUCTS_BYTES = CT_TERMS * 9 * 16;

function layout(options: KernelOptions, slots: number, capBlocks: number, capData: number): KernelLayout {
  const ct = options.multiply === 'ct';
  const tableBytes = ct ? pad16(ctKeyBytes(options.ways, options.words)) : ghashTableBytes(options.windowBits) * options.ways;
  const tables = SCRATCH + (ct ? options.ways * CT_SPLIT_BYTES + CT_PRODUCTS_BYTES : 0);
  const ctr = tables + slots * tableBytes;
  const keystream = ctr + capBlocks * 16;
  const data = keystream + capBlocks * 16;
  // +16: the kernel may load one block past the staged bytes (masked off) at the very end.
  const pages = Math.ceil((data + capData + 16) / 65536);
  return { options, tableBytes, slots, tables, ctr, keystream, capBlocks, data, capData, pages };
}

const pad16 = (n: number): number => (n + 15) & ~15;

// ---------------------------------------------------------------------------------------------------------
// The kernel.

/** Byte lanes that turn two little-endian 64-bit lanes into big-endian ones. */
const BSWAP64X2 = [7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8];
/** Byte lanes that make the last 32-bit lane big-endian (the counter of a counter block). */
const BSWAP_LANE3 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12];
const HIGH_NIBBLES = new Array<number>(16).fill(0xf0);
const ZERO = new Array<number>(16).fill(0);

// Parameters of seal/open/ghash in both kernels: (tab, ks, data, len, aad, aadLen).
const TAB = 0;
const KS = 1;
const DATA = 2;
const LEN = 3;
const AAD = 4;
const AAD_LEN = 5;
const AEAD_PARAMS = [I32, I32, I32, I32, I32, I32];

function buildKernel(l: KernelLayout): Uint8Array {
  const o = l.options;
  const aead = o.multiply === 'ct' ? ctKernelFunctions(o) : tableKernelFunctions(o);
  return assembleModule([...aead, ctrFunction()], l.pages);
}

/** seal, open and ghash of the table kernel. */
function tableKernelFunctions(o: TableKernelOptions): FuncDef[] {
  const powerBytes = ghashTableBytes(o.windowBits);
  const ways = o.ways;

  const params = AEAD_PARAMS;
  const locals: number[] = [];
  const local = (type: number): number => params.length + locals.push(type) - 1;
  const P = local(I32);
  const Q = local(I32);
  const END = local(I32);
  const WORD = local(I32);
  const Y = local(V128);
  const C = local(V128);
  const TAG = local(V128);
  const HI = local(V128);
  const LO = local(V128);
  const X = Array.from({ length: ways }, () => local(V128));
  const ACC = Array.from({ length: 4 * ways }, () => local(V128));

  /** acc[0..4) = x · H^power, split over four accumulators: 32 (or 16) independent table loads. */
  const mulInto = (c: Code, x: number, power: number, acc: readonly number[]): void => {
    const base = (power - 1) * powerBytes;
    let n = 0;
    const lookup = (emitIndex: () => void, offset: number): void => {
      const a = acc[n & 3]!;
      if (n >= 4) c.get(a);
      c.get(TAB);
      emitIndex();
      c.i32Add().v128Load(base + offset);
      if (n >= 4) c.v128Xor();
      c.set(a);
      n++;
    };
    if (o.windowBits === 8) {
      for (let i = 0; i < 16; i++) lookup(() => c.get(x).i8x16ExtractLaneU(i).i32(4).i32Shl(), i * 4096);
    } else if (o.extract === 'lanes') {
      // Byte lanes holding (high nibble << 4) and (low nibble << 4): directly the entry offsets.
      c.get(x).v128Const(HIGH_NIBBLES).v128And().set(HI);
      c.get(x).i32(4).i8x16Shl().set(LO);
      for (let i = 0; i < 16; i++) {
        lookup(() => c.get(HI).i8x16ExtractLaneU(i), 2 * i * 256);
        lookup(() => c.get(LO).i8x16ExtractLaneU(i), (2 * i + 1) * 256);
      }
    } else {
      // Little-endian 32-bit lanes: byte b of the lane is bits 8b..8b+7, its high nibble bits 8b+4..8b+7.
      for (let w = 0; w < 4; w++) {
        c.get(x).i32x4ExtractLane(w).set(WORD);
        for (let b = 0; b < 4; b++) {
          const i = 4 * w + b;
          lookup(() => {
            c.get(WORD);
            if (b > 0) c.i32(8 * b).i32ShrU();
            c.i32(0xf0).i32And();
          }, 2 * i * 256);
          lookup(() => {
            c.get(WORD);
            if (b === 0) c.i32(4).i32Shl();
            else c.i32(8 * b - 4).i32ShrU();
            c.i32(0xf0).i32And();
          }, (2 * i + 1) * 256);
        }
      }
    }
  };

  /** Y = XOR of the first `count` accumulators. */
  const sumInto = (c: Code, count: number): void => {
    c.get(ACC[0]!);
    for (let i = 1; i < count; i++) c.get(ACC[i]!).v128Xor();
    c.set(Y);
  };

  /** Y = X[0]·H^k ^ X[1]·H^(k-1) ^ ... ^ X[k-1]·H, with X[0] already holding Y ^ block. */
  const mulWide = (c: Code, k: number): void => {
    for (let j = 0; j < k; j++) mulInto(c, X[j]!, k - j, ACC.slice(4 * j, 4 * j + 4));
    sumInto(c, 4 * k);
  };

  /** Pushes the mask keeping the first (local & 15) bytes. */
  const tailMask = (c: Code, lenLocal: number): void => {
    c.get(lenLocal).i32(15).i32And().i32(4).i32Shl().v128Load(MASKS);
  };

  /** while (P < END) { body; P += step; Q += step } */
  const loop = (c: Code, step: number, body: () => void, advanceQ: boolean): void => {
    c.block().loop();
    c.get(P).get(END).i32GeU().brIf(1);
    body();
    c.get(P).i32(step).i32Add().set(P);
    if (advanceQ) c.get(Q).i32(step).i32Add().set(Q);
    c.br(0).end().end();
  };

  /**
   * GHASH over [start, start + len) zero-padded, continuing from Y. Mode 'hash' only reads; 'seal' first
   * XORs each block with the keystream at Q in place (hashing the result); 'open' hashes each block, then
   * XORs it in place. The tail block's store spills up to 15 bytes past the end.
   */
  const blocks = (c: Code, start: number, lenLocal: number, mode: 'hash' | 'seal' | 'open'): void => {
    // Block j at P + 16j into X[j] (the first one XORed with Y), en/decrypting on the way.
    const load = (j: number, masked: boolean): void => {
      const x = X[j]!;
      if (mode === 'seal') {
        c.get(P).v128Load(16 * j).get(Q).v128Load(16 * j).v128Xor().set(C);
        c.get(P).get(C).v128Store(16 * j);
        c.get(C);
      } else {
        c.get(P).v128Load(16 * j);
        if (mode === 'open') {
          c.set(C).get(P).get(C).get(Q).v128Load(16 * j).v128Xor().v128Store(16 * j);
          c.get(C);
        }
      }
      if (masked) {
        tailMask(c, lenLocal);
        c.v128And();
      }
      if (j === 0) c.get(Y).v128Xor();
      c.set(x);
    };
    const advanceQ = mode !== 'hash';
    c.get(start).set(P);
    if (advanceQ) c.get(KS).i32(16).i32Add().set(Q); // the keystream after E(K, J0)
    if (ways > 1) {
      c.get(start).get(lenLocal).i32(-16 * ways).i32And().i32Add().set(END);
      loop(c, 16 * ways, () => {
        for (let j = 0; j < ways; j++) load(j, false);
        mulWide(c, ways);
      }, advanceQ);
    }
    c.get(start).get(lenLocal).i32(-16).i32And().i32Add().set(END);
    loop(c, 16, () => {
      load(0, false);
      mulWide(c, 1);
    }, advanceQ);
    c.get(lenLocal).i32(15).i32And().if();
    load(0, true);
    mulWide(c, 1);
    c.end();
  };

  /** Y ^= [len(A)]64 || [len(C)]64, in bits, then · H (§7.1 step 5). */
  const hashLengths = (c: Code): void => {
    c.get(AAD_LEN).i64ExtendI32U().i64(3).i64Shl().i64x2Splat();
    c.get(LEN).i64ExtendI32U().i64(3).i64Shl().i64x2ReplaceLane(1);
    c.tee(C).get(C).i8x16Shuffle(BSWAP64X2);
    c.get(Y).v128Xor().set(X[0]!);
    mulWide(c, 1);
  };

  // seal: the ciphertext replaces the plaintext at DATA and the tag follows it (§7.1 steps 3-6).
  const seal = new Code();
  seal.v128Const(ZERO).set(Y);
  blocks(seal, AAD, AAD_LEN, 'hash');
  blocks(seal, DATA, LEN, 'seal');
  hashLengths(seal);
  // T = S ^ E(K, J0), written over the tail block's spill.
  seal.get(DATA).get(LEN).i32Add().get(Y).get(KS).v128Load().v128Xor().v128Store();

  // open: 1 with the plaintext at DATA if the tag at DATA + LEN verifies, else 0 (§7.2).
  const open = new Code();
  open.get(DATA).get(LEN).i32Add().v128Load().set(TAG); // before the tail block's spill overwrites it
  open.v128Const(ZERO).set(Y);
  blocks(open, AAD, AAD_LEN, 'hash');
  blocks(open, DATA, LEN, 'open');
  hashLengths(open);
  // Constant-time compare: one 128-bit XOR and a single any_true.
  open.get(Y).get(KS).v128Load().v128Xor().get(TAG).v128Xor().v128AnyTrue().i32Eqz();

  // ghash(tab, 0, data, len, 0, 0): GHASH_Y continued over DATA[0..len) zero-padded; for tests and benchmarks.
  const ghash = new Code();
  ghash.i32(GHASH_Y).v128Load().set(Y);
  blocks(ghash, DATA, LEN, 'hash');
  ghash.i32(GHASH_Y).get(Y).v128Store();

  return [
    { name: 'seal', params, results: [], locals, code: seal },
    { name: 'open', params, results: [I32], locals, code: open },
    { name: 'ghash', params, results: [], locals, code: ghash },
  ];
}

/** Byte lanes reversing a block: GCM's byte order <-> the constant-time kernel's 128-bit integers. */
const REVERSE = [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
/** Swaps the two 64-bit lanes. */
const SWAP64 = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** Every byte 0x11: bit class 0 of each 16-bit limb (0x1111), and the live columns of each 32-bit product. */
const CLASS_MASK = new Array<number>(16).fill(0x11);
/** Keeps the high 64-bit lane. */
const HIGH_LANE = [...new Array<number>(8).fill(0), ...new Array<number>(8).fill(0xff)];
/** Byte lanes of shuffle(a, b) rotating a's 32-bit lanes up by u (lane L <- a[(L - u) mod 4]). */
const rotateLanesUp = (u: number): number[] => Array.from({ length: 16 }, (_, i) => (i + 16 - 4 * u) & 15);
/** Keeps 32-bit lanes u..3. */
const lanesFrom = (u: number): number[] => Array.from({ length: 16 }, (_, i) => (i >= 4 * u ? 0xff : 0));

/**
 * seal, open and ghash of the constant-time kernel. State and blocks are handled byte-reversed (`REVERSE`),
 * as 128-bit little-endian integers whose bit 127 - i is the coefficient of x^i (16-bit limb l = bits
 * 16l..16l+15). The carry-less product of two such reflected elements, as bit vectors, has bit 254 - d =
 * coefficient of x^d; shifted left once, its high half is the low-degree half in the same reflected form and
 * its low half (degrees 128..255) folds into it (BearSSL's reduction).
 */
function ctKernelFunctions(o: CtKernelOptions): FuncDef[] {
  const ways = o.ways;
  const termStride = ctTermBytes(o.words);
  const products = SCRATCH + ways * CT_SPLIT_BYTES;
  const params = AEAD_PARAMS;
  const locals: number[] = [];
  const local = (type: number): number => params.length + locals.push(type) - 1;
  const P = local(I32);
  const Q = local(I32);
  const END = local(I32);
  const AAD_END = local(I32);
  const N = local(I32);
  const R = local(I32);
  const I = local(I32);
  const HP = local(I32);
  const H0 = local(I32);
  const SP = local(I32);
  const OK = local(I32);
  const Y = local(V128);
  const X = local(V128);
  const A = local(V128);
  const TAG = local(V128);
  const V = Array.from({ length: CT_TERMS }, () => local(V128));
  const LO = local(V128);
  const HI = local(V128);
  const MID = local(V128);
  const E_LO = local(V128);
  const E_HI = local(V128);
  const O_LO = local(V128);
  const O_HI = local(V128);

  /** Pushes the mask keeping the first (local & 15) bytes. */
  const tailMask = (c: Code, lenLocal: number): void => {
    c.get(lenLocal).i32(15).i32And().i32(4).i32Shl().v128Load(MASKS);
  };

  /** Zeroes the bytes after base[0..len) up to the next 16-byte boundary (SP 800-38D §6.4 padding). */
  const zeroTail = (c: Code, base: number, lenLocal: number): void => {
    c.get(lenLocal).i32(15).i32And().if();
    c.get(base).get(lenLocal).i32(-16).i32And().i32Add().set(END);
    c.get(END).get(END).v128Load();
    tailMask(c, lenLocal);
    c.v128And().v128Store();
    c.end();
  };

  /** DATA[0..len) ^= keystream at KS + 16 (the block after E(K, J0)); the tail block's store spills. */
  const ctrXor = (c: Code): void => {
    c.get(DATA).set(P);
    c.get(KS).i32(16).i32Add().set(Q);
    c.get(DATA).get(LEN).i32Add().set(END);
    c.block().loop();
    c.get(P).get(END).i32GeU().brIf(1);
    c.get(P).get(P).v128Load().get(Q).v128Load().v128Xor().v128Store();
    c.get(P).i32(16).i32Add().set(P);
    c.get(Q).i32(16).i32Add().set(Q);
    c.br(0).end().end();
  };

  /** [len(A)]64 || [len(C)]64 in bits (§7.1 step 5) as the block after the padded payload. */
  const writeLengths = (c: Code): void => {
    c.get(DATA).get(LEN).i32(15).i32Add().i32(-16).i32And().i32Add();
    c.get(AAD_LEN).i64ExtendI32U().i64(3).i64Shl().i64x2Splat();
    c.get(LEN).i64ExtendI32U().i64(3).i64Shl().i64x2ReplaceLane(1);
    c.tee(X).get(X).i8x16Shuffle(BSWAP64X2).v128Store();
  };

  /** Blocks in pad16(n) bytes. */
  const blockCount = (c: Code, lenLocal: number): void => {
    c.get(lenLocal).i32(15).i32Add().i32(4).i32ShrU();
  };

  /** Y = (Y ^ X1)·H^R ^ X2·H^(R-1) ^ ... ^ XR·H over the next R blocks of the stream at P. */
  const group = (c: Code): void => {
    // 1. Each block, byte-reversed (the first one XORed with Y), as its nine Karatsuba terms at SCRATCH.
    c.i32(SCRATCH).set(SP);
    c.get(R).set(I);
    c.loop();
    // The stream continues at DATA once the AAD blocks are consumed.
    c.get(DATA).get(P).get(P).get(AAD_END).i32Eq().select().set(P);
    c.get(P).v128Load().tee(X).get(X).i8x16Shuffle(REVERSE).get(Y).v128Xor().set(X);
    c.v128Const(ZERO).set(Y);
    for (let cls = 0; cls < 4; cls++) {
      c.get(X);
      if (cls > 0) c.i32(cls).i16x8ShrU();
      c.v128Const(CLASS_MASK).v128And().set(V[cls]!);
    }
    const [c0, c1, c2, c3] = [V[0]!, V[1]!, V[2]!, V[3]!];
    const terms: ReadonlyArray<readonly number[]> = [[c0], [c1], [c0, c1], [c2], [c3], [c2, c3], [c0, c2], [c1, c3], [c0, c1, c2, c3]];
    terms.forEach((parts, t) => {
      c.get(SP);
      parts.forEach((part, i) => {
        c.get(part);
        if (i > 0) c.v128Xor();
      });
      c.v128Store(16 * t);
    });
    c.get(P).i32(16).i32Add().set(P);
    c.get(SP).i32(CT_SPLIT_BYTES).i32Add().set(SP);
    c.get(I).i32(1).i32Sub().tee(I).brIf(0);
    c.end();

    // 2. Per term t: acc[m] = XOR over the group's blocks of dot(term, splat(H-power word m)); lane k of
    //    acc[m] belongs at limb position 2k + m. Masked to the live columns, stored at `products`.
    //    Loops over blocks: V8 issues a basic block's loads first, so straight-line code spills.
    const acc = V;
    const powerStride = termStride * CT_TERMS;
    c.get(TAB).get(R).i32(1).i32Sub().i32(powerStride).i32Mul().i32Add().set(H0); // H^R, for block 0
    /** acc[m] (^)= dot(A, word m of term t of the power at HP). */
    const multiply = (t: number, first: boolean): void => {
      const base = t * termStride;
      if (o.words === 'shuffle') {
        // Words 0..3 and 4..7 as two vectors, each word broadcast by an in-register lane shuffle (pshufd).
        c.get(HP).v128Load(base).set(LO);
        c.get(HP).v128Load(base + 16).set(HI);
      }
      acc.forEach((a, m) => {
        if (!first) c.get(a);
        c.get(A);
        if (o.words === 'splat') {
          c.get(HP).v128Load32Splat(base + ctTermWordOffset(m));
        } else if (m < 8) {
          const src = m < 4 ? LO : HI;
          c.get(src).get(src).i8x16Shuffle(Array.from({ length: 16 }, (_, i) => 4 * (m & 3) + (i & 3)));
        } else {
          c.get(HP).v128Load32Splat(base + 32);
        }
        c.i32x4DotI16x8S();
        if (!first) c.v128Xor();
        c.set(a);
      });
    };
    for (let t = 0; t < CT_TERMS; t++) {
      c.get(H0).set(HP);
      c.i32(0).v128Load(SCRATCH + 16 * t).set(A);
      multiply(t, true);
      c.i32(SCRATCH + CT_SPLIT_BYTES).set(SP);
      c.get(R).i32(1).i32Sub().set(I);
      c.block();
      c.get(I).i32Eqz().brIf(0);
      c.loop();
      c.get(HP).i32(powerStride).i32Sub().set(HP);
      c.get(SP).v128Load(16 * t).set(A);
      multiply(t, false);
      c.get(SP).i32(CT_SPLIT_BYTES).i32Add().set(SP);
      c.get(I).i32(1).i32Sub().tee(I).brIf(0);
      c.end();
      c.end();
      acc.forEach((a, m) => {
        c.i32(0).get(a).v128Const(CLASS_MASK).v128And().v128Store(products + 16 * (CT_TERMS * t + m));
      });
    }

    // 3. Per limb offset m: Karatsuba recombination of the nine terms' products (t = one bit position):
    //    lo = c0 + t(c0+c1+c2) + t²c1, hi and mid alike, product = lo + t²(mid+lo+hi) + t⁴hi, times t once
    //    more for the reflected product's shift. Every lane stays below 2^32.
    //    Then lane k goes to 32-bit lane k + floor(m/2) of a 256-bit sum, even m to E and odd m to O.
    for (const r of [E_LO, E_HI, O_LO, O_HI]) c.v128Const(ZERO).set(r);
    const shl = (c_: Code, bits: number): void => {
      c_.i32(bits).i32x4Shl();
    };
    /** dst = p0 ^ ((p0 ^ p1 ^ p2) << 1) ^ (p1 << 2): one 2-term Karatsuba. */
    const karatsuba = (dst: number, p0: number, p1: number, p2: number): void => {
      c.get(p0).get(p0).get(p1).v128Xor().get(p2).v128Xor();
      shl(c, 1);
      c.v128Xor().get(p1);
      shl(c, 2);
      c.v128Xor().set(dst);
    };
    for (let m = 0; m < 9; m++) {
      for (let t = 0; t < CT_TERMS; t++) c.i32(0).v128Load(products + 16 * (CT_TERMS * t + m)).set(V[t]!);
      karatsuba(LO, V[0]!, V[1]!, V[2]!);
      karatsuba(HI, V[3]!, V[4]!, V[5]!);
      karatsuba(MID, V[6]!, V[7]!, V[8]!);
      c.get(LO);
      shl(c, 1);
      c.get(MID).get(LO).v128Xor().get(HI).v128Xor();
      shl(c, 3);
      c.v128Xor().get(HI);
      shl(c, 5);
      c.v128Xor().set(X);
      const u = m >>> 1;
      const [low, high] = m % 2 === 0 ? [E_LO, E_HI] : [O_LO, O_HI];
      if (u === 0) {
        c.get(low).get(X).v128Xor().set(low);
      } else if (u === 4) {
        c.get(high).get(X).v128Xor().set(high);
      } else {
        c.get(X).get(X).i8x16Shuffle(rotateLanesUp(u)).set(X);
        c.get(low).get(X).v128Const(lanesFrom(u)).v128And().v128Xor().set(low);
        c.get(high).get(X).v128Const(lanesFrom(u)).v128AndNot().v128Xor().set(high);
      }
    }
    // 256-bit product (E_LO, E_HI) ^= O << 16.
    c.get(E_LO).get(O_LO).v128Const(ZERO).i8x16Shuffle([16, 16, ...Array.from({ length: 14 }, (_, i) => i)]).v128Xor().set(E_LO);
    c.get(E_HI).get(O_LO).get(O_HI).i8x16Shuffle([14, 15, ...Array.from({ length: 14 }, (_, i) => 16 + i)]).v128Xor().set(E_HI);

    // 4. Reduction modulo x^128 + x^7 + x^2 + x + 1 (§6.3), 64-bit words v0..v3 from the bottom: v0 folds
    //    into v1, v2; then v1 into v2, v3. With A(v) = v ^ v>>1 ^ v>>2 ^ v>>7 and B(v) = v<<63 ^ v<<62 ^ v<<57:
    //    v2' = v2 ^ A(v0) ^ B(v1), v3' = v3 ^ A(v1) ^ A(B(v0)) (B(B(v0)) = 0).
    const shiftsXor = (src: number, op: 'shl' | 'shr', counts: readonly number[]): void => {
      counts.forEach((n, i) => {
        c.get(src).i32(n);
        if (op === 'shl') c.i64x2Shl();
        else c.i64x2ShrU();
        if (i > 0) c.v128Xor();
      });
    };
    shiftsXor(E_LO, 'shl', [63, 62, 57]);
    c.tee(A).get(A).i8x16Shuffle(SWAP64).set(A); // [B(v1), B(v0)]
    c.get(E_HI).get(E_LO).v128Xor();
    shiftsXor(E_LO, 'shr', [1, 2, 7]);
    c.v128Xor().get(A).v128Xor();
    shiftsXor(A, 'shr', [1, 2, 7]);
    c.v128Const(HIGH_LANE).v128And().v128Xor().set(Y);
  };

  /** GHASH continued from Y over N blocks from P (jumping to DATA at AAD_END), in groups of up to `ways`. */
  const hashStream = (c: Code): void => {
    c.block().loop();
    c.get(N).i32Eqz().brIf(1);
    c.get(N).i32(ways).get(N).i32(ways).i32LtU().select().set(R);
    c.get(N).get(R).i32Sub().set(N);
    group(c);
    c.br(0).end().end();
  };

  /** Zero padding, lengths block, then GHASH over AAD, payload and lengths from Y = 0 (§7.1 step 5). */
  const hashMessage = (c: Code): void => {
    zeroTail(c, DATA, LEN);
    zeroTail(c, AAD, AAD_LEN);
    writeLengths(c);
    c.v128Const(ZERO).set(Y);
    c.get(AAD).set(P);
    c.get(AAD).get(AAD_LEN).i32(15).i32Add().i32(-16).i32And().i32Add().set(AAD_END);
    blockCount(c, AAD_LEN);
    blockCount(c, LEN);
    c.i32Add().i32(1).i32Add().set(N);
    hashStream(c);
  };

  /** Pushes S ^ E(K, J0): the tag (§7.1 step 6). */
  const tag = (c: Code): void => {
    c.get(Y).get(Y).i8x16Shuffle(REVERSE).get(KS).v128Load().v128Xor();
  };

  // seal: the ciphertext replaces the plaintext at DATA and the tag follows it (§7.1 steps 3-6).
  const seal = new Code();
  ctrXor(seal);
  hashMessage(seal);
  seal.get(DATA).get(LEN).i32Add();
  tag(seal);
  seal.v128Store();

  // open: 1 with the plaintext at DATA if the tag at DATA + LEN verifies, else 0 (§7.2). Decrypts either way.
  const open = new Code();
  open.get(DATA).get(LEN).i32Add().v128Load().set(TAG); // before padding and lengths overwrite it
  hashMessage(open);
  // Constant-time compare: one 128-bit XOR and a single any_true.
  tag(open);
  open.get(TAG).v128Xor().v128AnyTrue().i32Eqz().set(OK);
  ctrXor(open);
  open.get(OK);

  // ghash(tab, 0, data, len, 0, 0): GHASH_Y continued over DATA[0..len) zero-padded (the padding bytes
  // in memory are zeroed); for tests and benchmarks.
  const ghash = new Code();
  ghash.i32(GHASH_Y).v128Load().tee(Y).get(Y).i8x16Shuffle(REVERSE).set(Y);
  zeroTail(ghash, DATA, LEN);
  ghash.get(DATA).tee(P).set(AAD_END);
  blockCount(ghash, LEN);
  ghash.set(N);
  hashStream(ghash);
  ghash.i32(GHASH_Y).get(Y).get(Y).i8x16Shuffle(REVERSE).v128Store();

  return [
    { name: 'seal', params, results: [], locals, code: seal },
    { name: 'open', params, results: [I32], locals, code: open },
    { name: 'ghash', params, results: [], locals, code: ghash },
  ];
}

function ctrFunction(): FuncDef {
  // ctr(nonce, dst, count): dst[i] = nonce || BE32(i + 1) for i < count, i.e. J0, inc32(J0), ... (§7.1
  // step 2 for a 96-bit IV; count stays far below 2^32, so inc32 never wraps).
  const CTR_NONCE = 0;
  const CTR_DST = 1;
  const CTR_COUNT = 2;
  const CTR_BLOCK = 3;
  const CTR_I = 4;
  const CTR_TMP = 5;
  const ctr = new Code();
  ctr.get(CTR_NONCE).v128Load().set(CTR_BLOCK);
  ctr.block().loop();
  ctr.get(CTR_I).get(CTR_COUNT).i32GeU().brIf(1);
  ctr.get(CTR_DST);
  ctr.get(CTR_BLOCK).get(CTR_I).i32(1).i32Add().tee(CTR_I).i32x4ReplaceLane(3).set(CTR_TMP);
  ctr.get(CTR_TMP).get(CTR_TMP).i8x16Shuffle(BSWAP_LANE3).v128Store();
  ctr.get(CTR_DST).i32(16).i32Add().set(CTR_DST);
  ctr.br(0).end().end();
  return { name: 'ctr', params: [I32, I32, I32], results: [], locals: [V128, I32, V128], code: ctr };
}

// ---------------------------------------------------------------------------------------------------------
// Instantiation.

/** The part of the WebAssembly JS API used here (not in the ES2022 lib or @types/node 20). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** Counter-block views kept per length up to this many blocks (packets up to ~2 KB). */
const CACHED_VIEW_BLOCKS = 128;

/**
 * 16 key slots (128 KiB with 8 KiB tables, 81 KiB with the constant-time kernel's 5 KiB of powers), and
 * staging room for one 65,527-byte UDP payload (the largest max_udp_payload_size, RFC 9000 §18.2) or a
 * batch of ~55 1200-byte packets. With these, a kernel's memory is 6 pages (384 KiB) or 5 (320 KiB),
 * allocated once per kernel kind per process.
 */
const DEFAULT_SLOTS = 16;
const DEFAULT_CAP_BLOCKS = 4352;
const DEFAULT_CAP_DATA = 73728;
/**
 * 4-bit windows, one block at a time, scalar index extraction: the fastest at 8 KiB per key on the
 * reference machine (bench/gcm.bench.ts compares the others).
 */
export const DEFAULT_TABLE_KERNEL_OPTIONS: TableKernelOptions = { multiply: 'table', windowBits: 4, ways: 1, extract: 'scalar' };
/**
 * Groups of up to 16 blocks per reduction, words by lane shuffle: 5 KiB per key, the fastest measured
 * (bench/gcm.bench.ts compares group sizes and the 'splat' layout, 2.8 KiB per key at 16).
 */
export const DEFAULT_CT_KERNEL_OPTIONS: CtKernelOptions = { multiply: 'ct', ways: 16, words: 'shuffle' };

type AeadKernelFn = (tab: number, ks: number, data: number, len: number, aad: number, aadLen: number) => number;

/**
 * One instance of the kernel with its memory. Single-threaded use only (JavaScript is; every call stages
 * its data, runs and copies out synchronously).
 */
export class GcmKernel {
  readonly layout: KernelLayout;
  /** The whole kernel memory; it never grows, so this view and its subarrays stay valid. */
  readonly mem: Uint8Array;
  /** Encrypts DATA[0..len) in place with the keystream at KS + 16 and writes the tag after it. */
  readonly seal: AeadKernelFn;
  /** Verifies the tag at DATA + len and decrypts DATA[0..len) in place; 1 = authentic, 0 = forged. */
  readonly open: AeadKernelFn;
  /** GHASH_Y = GHASH continued over DATA[0..len) zero-padded (`ghash(tab, 0, data, len, 0, 0)`). */
  readonly ghash: AeadKernelFn;
  /** Writes `count` counter blocks nonce || BE32(1), nonce || BE32(2), ... at `dst`. */
  readonly ctr: (nonce: number, dst: number, count: number) => void;
  private readonly owners: (Uint8Array | undefined)[];
  private readonly ctrViews: (Uint8Array | undefined)[] = [];
  private nextSlot = 0;

  constructor(l: KernelLayout, exports: Record<string, unknown>) {
    this.layout = l;
    const memory = exports.memory as { buffer: ArrayBuffer };
    this.mem = new Uint8Array(memory.buffer);
    this.seal = exports.seal as AeadKernelFn;
    this.open = exports.open as AeadKernelFn;
    this.ghash = exports.ghash as AeadKernelFn;
    this.ctr = exports.ctr as (nonce: number, dst: number, count: number) => void;
    for (const fn of [this.seal, this.open, this.ghash, this.ctr]) {
      if (typeof fn !== 'function') throw new Error('GCM kernel: missing export');
    }
    for (let r = 1; r < 16; r++) this.mem.fill(0xff, MASKS + r * 16, MASKS + r * 16 + r);
    this.owners = new Array<Uint8Array | undefined>(l.slots).fill(undefined);
  }

  /** The per-key tables (or powers of H) this kernel expects, for hash subkey `h`. */
  buildTable(h: Uint8Array): Uint8Array {
    const o = this.layout.options;
    return o.multiply === 'ct' ? buildCtGhashKey(h, o.ways, o.words) : buildGhashTable(h, o.windowBits, o.ways);
  }

  /** A table slot for a new key: round-robin, so the few keys of one connection do not evict each other. */
  assignSlot(): number {
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % this.layout.slots;
    return slot;
  }

  /** Address of `table` in kernel memory, copying it into `slot` if another key's table is there. */
  bindTable(table: Uint8Array, slot: number): number {
    const base = this.layout.tables + slot * this.layout.tableBytes;
    if (this.owners[slot] !== table) {
      this.mem.set(table, base);
      this.owners[slot] = table;
    }
    return base;
  }

  /** The first `count` counter blocks as one view: the AES-ECB call's input (cached for one-packet sizes). */
  counterBlocks(count: number): Uint8Array {
    if (count > CACHED_VIEW_BLOCKS) return this.mem.subarray(this.layout.ctr, this.layout.ctr + count * 16);
    let view = this.ctrViews[count];
    if (view === undefined) {
      view = this.mem.subarray(this.layout.ctr, this.layout.ctr + count * 16);
      this.ctrViews[count] = view;
    }
    return view;
  }
}

/**
 * Assembles and instantiates a kernel; null when this runtime has no WebAssembly SIMD (e.g. `--jitless`).
 * Options other than the defaults exist for the benchmark's comparison.
 */
export function createGcmKernel(options: KernelOptions = DEFAULT_CT_KERNEL_OPTIONS, slots = DEFAULT_SLOTS): GcmKernel | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  const l = layout(options, slots, DEFAULT_CAP_BLOCKS, DEFAULT_CAP_DATA);
  let exports: Record<string, unknown>;
  try {
    exports = new wasm.Instance(new wasm.Module(buildKernel(l)), {}).exports;
  } catch {
    return null;
  }
  return new GcmKernel(l, exports);
}

const shared: Record<GhashMultiply, GcmKernel | null | undefined> = { ct: undefined, table: undefined };

/**
 * The process-wide kernel of a kind (assembled on first use; default: constant-time), or null without
 * WebAssembly SIMD.
 */
export function sharedGcmKernel(multiply: GhashMultiply = 'ct'): GcmKernel | null {
  let kernel = shared[multiply];
  if (kernel === undefined) {
    kernel = createGcmKernel(multiply === 'ct' ? DEFAULT_CT_KERNEL_OPTIONS : DEFAULT_TABLE_KERNEL_OPTIONS);
    shared[multiply] = kernel;
  }
  return kernel;
}
