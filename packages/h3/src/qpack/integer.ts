/**
 * Prefixed integers (RFC 7541 §5.1, used by QPACK per RFC 9204 §4.1.1): an N-bit prefix, then 7-bit groups,
 * least significant first, with a continuation bit.
 */

/**
 * Writes `value` with an N-bit prefix into `out`; `flags` are the bits above the prefix in the first byte.
 */
export function writePrefixedInt(out: number[], prefixBits: number, flags: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** The result of reading a prefixed integer, or why it could not be read. */
export type PrefixedIntResult =
  | { readonly ok: true; readonly value: number; readonly next: number }
  | { readonly ok: false; readonly reason: 'truncated' | 'overflow' };

/**
 * Reads a prefixed integer whose first byte is `buf[offset]`. Values above 2^53-1 are reported as overflow: QPACK
 * asks decoders to handle 62-bit integers (RFC 9204 §4.1.1), and every such value already exceeds any index,
 * length or capacity this package accepts, so the caller fails with its own error code either way.
 */
export function readPrefixedInt(buf: Uint8Array, offset: number, prefixBits: number): PrefixedIntResult {
  if (offset >= buf.length) return { ok: false, reason: 'truncated' };
  const max = (1 << prefixBits) - 1;
  let value = buf[offset]! & max;
  let i = offset + 1;
  if (value < max) return { ok: true, value, next: i };
  let scale = 1;
  for (;;) {
    if (i >= buf.length) return { ok: false, reason: 'truncated' };
    const b = buf[i++]!;
    value += (b & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) return { ok: false, reason: 'overflow' };
    if ((b & 0x80) === 0) return { ok: true, value, next: i };
    scale *= 128;
    // More continuation bytes than any 62-bit value needs (RFC 9204 §4.1.1): refuse rather than loop.
    if (scale > 2 ** 63) return { ok: false, reason: 'overflow' };
  }
}
