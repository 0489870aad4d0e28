import { expect } from 'vitest';
import { QuicCodecError } from '@pathquic/wire-codec';
import type { RandomSource } from '../src/index.js';

/** Deterministic bytes (xorshift32), so every run draws the same CIDs, keys and padding. */
export function seededRandom(seed = 1): RandomSource {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/** A source that returns the given byte strings in order, then fails. */
export function scriptedRandom(...chunks: Uint8Array[]): RandomSource {
  let i = 0;
  return (n) => {
    const c = chunks[i++];
    if (c === undefined || c.length !== n) throw new Error(`scripted random: call ${i} wanted ${n} bytes`);
    return c.slice();
  };
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHexString(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Runs `fn` and returns the QuicCodecError it throws, failing the test otherwise. */
export function codecError(fn: () => unknown): QuicCodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QuicCodecError);
    return e as QuicCodecError;
  }
  throw new Error('expected a QuicCodecError, nothing was thrown');
}

export function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}
