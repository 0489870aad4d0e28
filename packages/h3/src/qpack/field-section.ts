/**
 * Encoded field sections (RFC 9204 §4.5) without a dynamic table: this endpoint advertises
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0, so every field section it receives must have Required Insert Count 0
 * and no dynamic references (RFC 9204 §2.2.3, §4.5.1.1), and the encoder only ever emits static-table indexes and
 * literals, needing neither an encoder nor a decoder stream (RFC 9204 §4.2).
 */
import { H3Error, H3ErrorCode, h3Fail } from '../errors.js';
import { HuffmanError, huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { readPrefixedInt, writePrefixedInt } from './integer.js';
import { STATIC_TABLE, staticIndexOf, staticNameIndexOf } from './static-table.js';

/** One field line. Names are lowercase for HTTP/3 (RFC 9114 §4.2); strings travel as UTF-8. */
export interface Field {
  readonly name: string;
  readonly value: string;
  /** The 'N' bit: intermediaries must keep this line a literal (RFC 9204 §4.5.4, §7.1.3). */
  readonly neverIndex?: boolean;
}

export interface EncodeFieldSectionOptions {
  /** 'auto' (default) Huffman-codes a string when that is strictly shorter; 'always' / 'never' force it. */
  readonly huffman?: 'auto' | 'always' | 'never';
}

export interface DecodeFieldSectionOptions {
  /**
   * Largest decoded size (sum of name and value bytes plus 32 per line, RFC 9114 §4.2.2) accepted; more is a
   * stream error H3_EXCESSIVE_LOAD. Default 65536.
   */
  readonly maxFieldSectionSize?: number;
}

export const DEFAULT_MAX_FIELD_SECTION_SIZE = 65536;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function writeString(out: number[], prefixBits: number, flags: number, huffmanFlag: number, bytes: Uint8Array, mode: string): void {
  const huffLength = mode === 'never' ? Infinity : huffmanEncodedLength(bytes);
  const useHuffman = mode === 'always' || huffLength < bytes.length;
  const data = useHuffman ? huffmanEncode(bytes) : bytes;
  writePrefixedInt(out, prefixBits, flags | (useHuffman ? huffmanFlag : 0), data.length);
  for (const b of data) out.push(b);
}

/**
 * Encodes a field section: prefix with Required Insert Count 0 and Delta Base 0 (RFC 9204 §4.5.1), then for each
 * line an Indexed Field Line for an exact static match (§4.5.2), a Literal Field Line with Name Reference for a
 * static name (§4.5.4), else a Literal Field Line with Literal Name (§4.5.6).
 */
export function encodeFieldSection(fields: Iterable<Field>, options: EncodeFieldSectionOptions = {}): Uint8Array {
  const mode = options.huffman ?? 'auto';
  const out: number[] = [0x00, 0x00];
  for (const field of fields) {
    const n = field.neverIndex === true;
    const exact = n ? undefined : staticIndexOf(field.name, field.value);
    if (exact !== undefined) {
      writePrefixedInt(out, 6, 0xc0, exact); // '1' T=1
      continue;
    }
    const value = utf8Encoder.encode(field.value);
    const nameIndex = staticNameIndexOf(field.name);
    if (nameIndex !== undefined) {
      writePrefixedInt(out, 4, 0x50 | (n ? 0x20 : 0), nameIndex); // '01' N T=1
    } else {
      writeString(out, 3, 0x20 | (n ? 0x10 : 0), 0x08, utf8Encoder.encode(field.name), mode); // '001' N H
    }
    writeString(out, 7, 0x00, 0x80, value, mode);
  }
  return Uint8Array.from(out);
}

function fail(message: string): never {
  throw new H3Error(H3ErrorCode.QPACK_DECOMPRESSION_FAILED, message, 'connection');
}

function readInt(block: Uint8Array, offset: number, prefixBits: number, what: string): { value: number; next: number } {
  const r = readPrefixedInt(block, offset, prefixBits);
  if (!r.ok) fail(`${r.reason} ${what}`);
  return r;
}

function readString(block: Uint8Array, offset: number, prefixBits: number, huffmanFlag: number, what: string): { bytes: Uint8Array; next: number } {
  const huffman = (block[offset]! & huffmanFlag) !== 0;
  const { value: length, next } = readInt(block, offset, prefixBits, `${what} length`);
  if (length > block.length - next) fail(`truncated ${what}`);
  const raw = block.subarray(next, next + length);
  if (!huffman) return { bytes: raw, next: next + length };
  try {
    return { bytes: huffmanDecode(raw), next: next + length };
  } catch (e) {
    if (e instanceof HuffmanError) fail(`${what}: ${e.message}`);
    throw e;
  }
}

/**
 * Decodes an encoded field section (RFC 9204 §4.5). Anything that needs a dynamic table — a non-zero Required
 * Insert Count, dynamic or post-Base references — and any malformed or truncated representation is
 * QPACK_DECOMPRESSION_FAILED (RFC 9204 §2.2.3, §4.5.1.1, §6); a section above `maxFieldSectionSize` is
 * H3_EXCESSIVE_LOAD on the stream.
 */
export function decodeFieldSection(block: Uint8Array, options: DecodeFieldSectionOptions = {}): Field[] {
  const limit = options.maxFieldSectionSize ?? DEFAULT_MAX_FIELD_SECTION_SIZE;
  // §4.5.1.1: with a maximum table capacity of 0, MaxEntries is 0 and only an encoded value of 0 is valid.
  const ric = readInt(block, 0, 8, 'Required Insert Count');
  if (ric.value !== 0) fail(`Required Insert Count ${ric.value} but the dynamic table capacity is 0`);
  if (ric.next >= block.length) fail('truncated field section prefix');
  const sign = (block[ric.next]! & 0x80) !== 0;
  const delta = readInt(block, ric.next, 7, 'Delta Base');
  // §4.5.1.2: a Sign bit of 1 with Required Insert Count <= Delta Base (always, here) makes Base negative.
  if (sign) fail('negative Base');
  let offset = delta.next;
  const fields: Field[] = [];
  let size = 0;
  while (offset < block.length) {
    const first = block[offset]!;
    let name: string;
    let valueBytes: Uint8Array;
    let nameLength: number;
    let neverIndex = false;
    if (first & 0x80) {
      // §4.5.2 Indexed Field Line: '1' T Index(6+)
      if ((first & 0x40) === 0) fail('reference to the dynamic table');
      const idx = readInt(block, offset, 6, 'static index');
      const entry = STATIC_TABLE[idx.value];
      if (entry === undefined) fail(`static index ${idx.value} out of range`);
      offset = idx.next;
      const [n, v] = entry;
      size += n.length + v.length + 32;
      if (size > limit) h3Fail(H3ErrorCode.H3_EXCESSIVE_LOAD, `field section larger than ${limit} bytes`, 'stream');
      fields.push({ name: n, value: v });
      continue;
    } else if (first & 0x40) {
      // §4.5.4 Literal Field Line with Name Reference: '01' N T NameIndex(4+)
      if ((first & 0x10) === 0) fail('name reference to the dynamic table');
      neverIndex = (first & 0x20) !== 0;
      const idx = readInt(block, offset, 4, 'static name index');
      const entry = STATIC_TABLE[idx.value];
      if (entry === undefined) fail(`static name index ${idx.value} out of range`);
      name = entry[0];
      nameLength = name.length;
      if (idx.next >= block.length) fail('truncated field line');
      const v = readString(block, idx.next, 7, 0x80, 'field value');
      valueBytes = v.bytes;
      offset = v.next;
    } else if (first & 0x20) {
      // §4.5.6 Literal Field Line with Literal Name: '001' N H NameLen(3+)
      neverIndex = (first & 0x10) !== 0;
      const n = readString(block, offset, 3, 0x08, 'field name');
      nameLength = n.bytes.length;
      name = utf8Decoder.decode(n.bytes);
      if (n.next >= block.length) fail('truncated field line');
      const v = readString(block, n.next, 7, 0x80, 'field value');
      valueBytes = v.bytes;
      offset = v.next;
    } else {
      // §4.5.3 '0001' and §4.5.5 '0000': post-Base references exist only with a dynamic table.
      fail('post-Base reference to the dynamic table');
    }
    size += nameLength + valueBytes.length + 32;
    if (size > limit) h3Fail(H3ErrorCode.H3_EXCESSIVE_LOAD, `field section larger than ${limit} bytes`, 'stream');
    const value = utf8Decoder.decode(valueBytes);
    fields.push(neverIndex ? { name, value, neverIndex } : { name, value });
  }
  return fields;
}
