import { expect } from 'vitest';
import { H3Error } from '../src/index.js';
import type { H3ErrorCode, H3ErrorScope } from '../src/index.js';

/** Runs `fn` and checks it throws an H3Error with this code (and scope, when given). */
export function expectH3Error(fn: () => unknown, code: H3ErrorCode, scope?: H3ErrorScope): H3Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an H3Error').toBeInstanceOf(H3Error);
  const err = caught as H3Error;
  expect(err.code.toString(16)).toBe(code.toString(16));
  if (scope !== undefined) expect(err.scope).toBe(scope);
  return err;
}

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Every way to cut `bytes` in two (including empty first/second parts), plus one byte at a time. */
export function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return out;
}
