/**
 * TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1), the only KDF step QUIC packet protection uses on top of HKDF
 * (RFC 9001 §5.1).
 */
import { QuicEncodeError } from '../errors.js';
import type { CryptoProvider, HashAlgorithm } from './provider.js';

// RFC 8446 §7.1: every label is prefixed with "tls13 ".
const LABEL_PREFIX = 'tls13 ';
// RFC 8446 §7.1: opaque label<7..255>, opaque context<0..255>.
const MAX_LABEL_LENGTH = 255;
const MAX_CONTEXT_LENGTH = 255;

/** The empty context every QUIC label uses (RFC 9001 §5.1). */
export const EMPTY_HKDF_CONTEXT: Uint8Array = new Uint8Array(0);

/**
 * The serialized HkdfLabel structure (RFC 8446 §7.1):
 * `uint16 length || uint8 len(label') || label' || uint8 len(context) || context`, label' = "tls13 " + label.
 */
export function buildHkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new QuicEncodeError(`HkdfLabel length ${length} does not fit in 16 bits`);
  }
  const fullLabel = LABEL_PREFIX + label;
  // Labels are ASCII protocol constants; a code unit above 0x7f is a caller bug, not something to encode.
  for (let i = 0; i < fullLabel.length; i++) {
    if (fullLabel.charCodeAt(i) > 0x7f) throw new QuicEncodeError(`HKDF label ${JSON.stringify(label)} is not ASCII`);
  }
  if (fullLabel.length > MAX_LABEL_LENGTH) throw new QuicEncodeError(`HKDF label ${JSON.stringify(label)} is too long`);
  if (context.length > MAX_CONTEXT_LENGTH) throw new QuicEncodeError(`HKDF context of ${context.length} bytes is too long`);
  const out = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length;
  out[2] = fullLabel.length;
  for (let i = 0; i < fullLabel.length; i++) out[3 + i] = fullLabel.charCodeAt(i);
  out[3 + fullLabel.length] = context.length;
  out.set(context, 4 + fullLabel.length);
  return out;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length) (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return provider.hkdfExpand(hash, secret, buildHkdfLabel(label, context, length), length);
}
