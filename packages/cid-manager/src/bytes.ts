/** Small byte helpers shared by the modules of this package. */

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compares `a` with `b[offset, offset + a.length)` touching every byte whatever the contents, so the time taken does
 * not tell how many leading bytes matched (RFC 9000 §10.3.1 asks for token comparisons that leak nothing about the
 * token). A length mismatch is not secret and returns at once.
 */
export function constantTimeEqualAt(a: Uint8Array, b: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + a.length > b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[offset + i]!;
  return diff === 0;
}

/** Constant-time equality of two byte strings of the same (public) length. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && constantTimeEqualAt(a, b, 0);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex, for messages and logs. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b]!;
  return s;
}
