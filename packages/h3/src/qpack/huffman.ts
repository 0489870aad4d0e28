/**
 * Huffman coding of string literals (RFC 7541 §5.2 with the Appendix B code; RFC 9204 §4.1.2).
 *
 * Decoding walks the canonical code one bit at a time using, for each code length, the first code and the symbols
 * of that length in order. The padding rules of RFC 7541 §5.2 are enforced: padding longer than 7 bits, padding
 * that is not the most significant bits of EOS (all ones), and a decoded EOS symbol are all errors.
 */
import { HUFFMAN_CODES, HUFFMAN_EOS, HUFFMAN_LENGTHS } from './huffman-table.js';

const MAX_LENGTH = 30;

/** firstCode[len]: the smallest code of that length; offsets[len]: index into SORTED of its symbol. */
const firstCode = new Array<number>(MAX_LENGTH + 1).fill(0);
const countOf = new Array<number>(MAX_LENGTH + 1).fill(0);
const offsets = new Array<number>(MAX_LENGTH + 1).fill(0);
const SORTED: number[] = [];
{
  const symbols = HUFFMAN_LENGTHS.map((len, sym) => [len, sym] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [len, sym] of symbols) {
    if (countOf[len] === 0) {
      firstCode[len] = HUFFMAN_CODES[sym]!;
      offsets[len] = SORTED.length;
    }
    countOf[len]!++;
    SORTED.push(sym);
  }
}

/** Why Huffman decoding failed. */
export class HuffmanError extends Error {
  override readonly name = 'HuffmanError';
}

/** Number of bytes `input` takes Huffman-coded (the last byte padded). */
export function huffmanEncodedLength(input: Uint8Array): number {
  let bits = 0;
  for (const b of input) bits += HUFFMAN_LENGTHS[b]!;
  return Math.ceil(bits / 8);
}

/** Huffman-codes `input`, padding the last byte with the most significant bits of EOS (ones). */
export function huffmanEncode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(input));
  let acc = 0; // pending bits, right-aligned; at most 7 + 30 bits, kept below 2^53 by flushing
  let accBits = 0;
  let o = 0;
  for (const b of input) {
    const len = HUFFMAN_LENGTHS[b]!;
    acc = acc * 2 ** len + HUFFMAN_CODES[b]!;
    accBits += len;
    while (accBits >= 8) {
      accBits -= 8;
      const byte = Math.floor(acc / 2 ** accBits);
      out[o++] = byte;
      acc -= byte * 2 ** accBits;
    }
  }
  if (accBits > 0) out[o++] = (acc << (8 - accBits)) | (0xff >> accBits);
  return out;
}

/** Decodes a Huffman-coded string (RFC 7541 §5.2). Throws HuffmanError on invalid input. */
export function huffmanDecode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((input.length * 8) / 5)); // shortest code is 5 bits
  let o = 0;
  let code = 0;
  let len = 0;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const index = code - firstCode[len]!;
      if (countOf[len]! > 0 && index >= 0 && index < countOf[len]!) {
        const sym = SORTED[offsets[len]! + index]!;
        if (sym === HUFFMAN_EOS) throw new HuffmanError('EOS symbol in a Huffman-coded string');
        out[o++] = sym;
        code = 0;
        len = 0;
      } else if (len >= MAX_LENGTH) {
        throw new HuffmanError('invalid Huffman code');
      }
    }
  }
  // RFC 7541 §5.2: leftover bits are padding: at most 7 bits, all ones (a prefix of EOS).
  if (len > 7) throw new HuffmanError('Huffman padding longer than 7 bits');
  if (code !== (1 << len) - 1) throw new HuffmanError('Huffman padding is not a prefix of EOS');
  return out.slice(0, o);
}
