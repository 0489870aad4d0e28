// Deterministic test files: the bytes come from xoshiro128** (Blackman and Vigna) seeded from SHA-256 of the seed,
// so the same (seed, size) gives the same file on every machine. A JS PRNG fills ~2 GB/s here, several times
// faster than Node's AES-CTR on this VM, and writes overlap generation and hashing, so 200 MB takes well under 1 s
// plus the disk.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from './proc.js';

export interface MadeFile {
  readonly path: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
}

const CHUNK = 4 << 20;
// Measured on this VM: 4 concurrent positional writes beat 1 (and 16) by a wide margin.
const IN_FLIGHT = 4;

/** A xoshiro128** stream emitting little-endian 32-bit words (https://prng.di.unimi.it/xoshiro128starstar.c). */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const h = createHash('sha256').update(`pathquic-ngtcp2-harness:${String(seed)}`).digest();
    this.a = h.readInt32LE(0);
    this.b = h.readInt32LE(4);
    this.c = h.readInt32LE(8);
    this.d = h.readInt32LE(12);
    // The all-zero state is the generator's only fixed point.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A generator with the given raw state words (for checking against the reference implementation). */
  static fromState(state: readonly [number, number, number, number]): Xoshiro128 {
    const g = new Xoshiro128(0);
    [g.a, g.b, g.c, g.d] = state.map((x) => x | 0) as [number, number, number, number];
    return g;
  }

  /** A new buffer of `size` bytes continuing the stream (a partial last word is truncated). */
  fill(size: number): Buffer {
    // Int32Array keeps every value a small integer for V8 (a Uint32Array store of values >= 2^31 goes via doubles).
    const words = new Int32Array(Math.ceil(size / 4));
    let a = this.a | 0;
    let b = this.b | 0;
    let c = this.c | 0;
    let d = this.d | 0;
    for (let i = 0; i < words.length; i++) {
      const m = Math.imul(b, 5);
      words[i] = Math.imul((m << 7) | (m >>> 25), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    // Int32Array uses the platform byte order; every platform Node supports here is little-endian.
    return Buffer.from(words.buffer, 0, size);
  }
}

/** The first `size` bytes of the stream for `seed` (also what `makeFile` writes); for small in-memory checks. */
export function deterministicBytes(size: number, seed: number | string = 1): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new HarnessError(`deterministicBytes: bad size ${size}`);
  return new Xoshiro128(seed).fill(size);
}

/** Writes `size` deterministic pseudo-random bytes to `dir/name` (creating `dir`), hashing them on the way. */
export async function makeFile(dir: string, name: string, size: number, seed: number | string = 1): Promise<MadeFile> {
  if (!Number.isSafeInteger(size) || size < 0) throw new HarnessError(`makeFile: bad size ${size}`);
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new HarnessError(`makeFile: name must be a plain file name, got ${JSON.stringify(name)}`);
  }
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const prng = new Xoshiro128(seed);
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  const pending = new Set<Promise<unknown>>();
  try {
    for (let done = 0; done < size; ) {
      // CHUNK is a multiple of 4, so only the last chunk can end mid-word and the stream stays seamless.
      const n = Math.min(CHUNK, size - done);
      const chunk = prng.fill(n);
      hash.update(chunk);
      const write = handle.write(chunk, 0, n, done);
      pending.add(write);
      void write.finally(() => pending.delete(write)).catch(() => {});
      if (pending.size >= IN_FLIGHT) await Promise.race(pending);
      done += n;
    }
    await Promise.all(pending);
  } finally {
    await Promise.allSettled(pending);
    await handle.close();
  }
  return { path, size, sha256: hash.digest('hex') };
}

/** Lowercase hex SHA-256 of a file's content. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
