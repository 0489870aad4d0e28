import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  H3ErrorCode,
  HUFFMAN_CODES,
  HUFFMAN_EOS,
  HUFFMAN_LENGTHS,
  HuffmanError,
  QpackDecoderStreamReader,
  QpackEncoderStreamReader,
  STATIC_TABLE,
  decodeFieldSection,
  encodeFieldSection,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  readPrefixedInt,
  staticIndexOf,
  staticNameIndexOf,
  writePrefixedInt,
} from '../src/index.js';
import type { Field } from '../src/index.js';
import { expectH3Error, hex, toHex } from './helpers.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('QPACK static table (RFC 9204 Appendix A)', () => {
  it('has 99 entries with the RFC values at spot-checked indexes', () => {
    expect(STATIC_TABLE.length).toBe(99);
    expect(STATIC_TABLE[0]).toEqual([':authority', '']);
    expect(STATIC_TABLE[1]).toEqual([':path', '/']);
    expect(STATIC_TABLE[17]).toEqual([':method', 'GET']);
    expect(STATIC_TABLE[23]).toEqual([':scheme', 'https']);
    expect(STATIC_TABLE[25]).toEqual([':status', '200']);
    expect(STATIC_TABLE[52]).toEqual(['content-type', 'text/html; charset=utf-8']);
    expect(STATIC_TABLE[54]).toEqual(['content-type', 'text/plain;charset=utf-8']);
    expect(STATIC_TABLE[63]).toEqual([':status', '100']);
    expect(STATIC_TABLE[85]).toEqual(['content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"]);
    expect(STATIC_TABLE[98]).toEqual(['x-frame-options', 'sameorigin']);
  });

  it('names are lowercase tokens or pseudo-headers, and lookups find the first match', () => {
    for (const [name] of STATIC_TABLE) expect(name).toMatch(/^:?[a-z-]+$/);
    expect(staticIndexOf(':status', '404')).toBe(27);
    expect(staticIndexOf(':status', '999')).toBeUndefined();
    expect(staticNameIndexOf(':status')).toBe(24);
    expect(staticNameIndexOf('content-type')).toBe(44);
    expect(staticNameIndexOf('x-custom')).toBeUndefined();
  });
});

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('is a complete canonical prefix code of 257 symbols with EOS all ones', () => {
    expect(HUFFMAN_CODES.length).toBe(257);
    expect(HUFFMAN_LENGTHS.length).toBe(257);
    let kraft = 0n;
    for (const len of HUFFMAN_LENGTHS) kraft += 1n << BigInt(30 - len);
    expect(kraft).toBe(1n << 30n);
    const order = HUFFMAN_LENGTHS.map((len, sym) => [len, sym] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let code = 0;
    let prev = order[0]![0];
    order.forEach(([len, sym], k) => {
      if (k > 0) code = (code + 1) * 2 ** (len - prev);
      prev = len;
      expect(HUFFMAN_CODES[sym]).toBe(code);
      expect(HUFFMAN_CODES[sym]!).toBeLessThan(2 ** len);
    });
    expect(HUFFMAN_CODES[HUFFMAN_EOS]).toBe(0x3fffffff);
    expect(HUFFMAN_LENGTHS[HUFFMAN_EOS]).toBe(30);
  });

  // RFC 7541 C.4.1-C.4.3 and C.6.1
  const examples: Array<[string, string]> = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ];
  it.each(examples)('encodes and decodes the RFC 7541 example %j', (text, coded) => {
    expect(toHex(huffmanEncode(ascii(text)))).toBe(toHex(hex(coded)));
    expect(huffmanEncodedLength(ascii(text))).toBe(hex(coded).length);
    expect(new TextDecoder().decode(huffmanDecode(hex(coded)))).toBe(text);
  });

  it('round-trips every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(huffmanDecode(huffmanEncode(bytes))).toEqual(bytes);
      }),
    );
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
  });

  it('rejects a decoded EOS, padding over 7 bits and padding that is not all ones (RFC 7541 §5.2)', () => {
    expect(() => huffmanDecode(hex('1fffffffff'))).toThrow(HuffmanError); // 'a' then EOS
    expect(() => huffmanDecode(hex('1fff'))).toThrow(/longer than 7 bits/); // 'a' then 11 one bits
    expect(() => huffmanDecode(hex('18'))).toThrow(/not a prefix of EOS/); // 'a' then 000
    expect(() => huffmanDecode(hex('ff'))).toThrow(/longer than 7 bits/);
    expect(huffmanDecode(new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(huffmanDecode(hex('1f'))).toEqual(ascii('a')); // 'a' then 111 padding
  });
});

describe('prefixed integers (RFC 7541 §5.1)', () => {
  it('matches RFC 7541 C.1', () => {
    const out: number[] = [];
    writePrefixedInt(out, 5, 0, 10);
    expect(out).toEqual([10]);
    out.length = 0;
    writePrefixedInt(out, 5, 0xe0, 1337);
    expect(out).toEqual([0xff, 0x9a, 0x0a]);
    expect(readPrefixedInt(Uint8Array.from([0xff, 0x9a, 0x0a]), 0, 5)).toEqual({ ok: true, value: 1337, next: 3 });
    out.length = 0;
    writePrefixedInt(out, 8, 0, 42);
    expect(out).toEqual([42]);
  });

  it('round-trips and reports truncation and overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.maxSafeNat(), (bits, value) => {
        const out: number[] = [];
        writePrefixedInt(out, bits, 0, value);
        const buf = Uint8Array.from(out);
        expect(readPrefixedInt(buf, 0, bits)).toEqual({ ok: true, value, next: buf.length });
        if (buf.length > 1) expect(readPrefixedInt(buf.subarray(0, buf.length - 1), 0, bits)).toEqual({ ok: false, reason: 'truncated' });
      }),
    );
    expect(readPrefixedInt(new Uint8Array(0), 0, 5)).toEqual({ ok: false, reason: 'truncated' });
    expect(readPrefixedInt(hex('ff ffffffffffffffffff7f'), 0, 8)).toEqual({ ok: false, reason: 'overflow' });
    expect(readPrefixedInt(hex('ff 8080808080808080808080'), 0, 8)).toEqual({ ok: false, reason: 'overflow' });
  });
});

describe('field sections (RFC 9204 §4.5)', () => {
  it('decodes and re-encodes the RFC 9204 B.1 example', () => {
    const block = hex('0000 510b 2f69 6e64 6578 2e68 746d 6c');
    expect(decodeFieldSection(block)).toEqual([{ name: ':path', value: '/index.html' }]);
    expect(toHex(encodeFieldSection([{ name: ':path', value: '/index.html' }], { huffman: 'never' }))).toBe(toHex(block));
  });

  it('rejects the dynamic-table examples of RFC 9204 B.2 and B.4 with QPACK_DECOMPRESSION_FAILED', () => {
    expectH3Error(() => decodeFieldSection(hex('0381 10 11')), H3ErrorCode.QPACK_DECOMPRESSION_FAILED, 'connection');
    expectH3Error(() => decodeFieldSection(hex('0500 80 c1 81')), H3ErrorCode.QPACK_DECOMPRESSION_FAILED);
  });

  it('uses indexed lines for exact static matches, name references and literal names', () => {
    const fields: Field[] = [
      { name: ':method', value: 'GET' },
      { name: ':path', value: '/a' },
      { name: 'x-custom', value: 'v' },
    ];
    const block = encodeFieldSection(fields, { huffman: 'never' });
    expect(toHex(block)).toBe(toHex(hex('0000 d1 5102 2f61 2701 782d 6375 7374 6f6d 0176')));
    expect(decodeFieldSection(block)).toEqual(fields);
  });

  it('sets the N bit for never-indexed lines and keeps them literal', () => {
    const block = encodeFieldSection([{ name: ':path', value: '/', neverIndex: true }, { name: 'x-secret', value: 's', neverIndex: true }], {
      huffman: 'never',
    });
    expect(block[2]).toBe(0x71); // 01 N=1 T=1 index 1
    expect(block[5]! & 0xf0).toBe(0x30); // 001 N=1
    expect(decodeFieldSection(block)).toEqual([
      { name: ':path', value: '/', neverIndex: true },
      { name: 'x-secret', value: 's', neverIndex: true },
    ]);
  });

  it('Huffman-codes strings only when shorter in auto mode', () => {
    const auto = encodeFieldSection([{ name: ':authority', value: 'www.example.com' }]);
    expect(toHex(auto)).toBe(toHex(hex('0000 50 8c f1e3 c2e5 f23a 6ba0 ab90 f4ff')));
    const never = encodeFieldSection([{ name: ':authority', value: 'www.example.com' }], { huffman: 'never' });
    expect(never.length).toBe(auto.length + 3);
    const always = encodeFieldSection([{ name: 'x', value: '\u0001' }], { huffman: 'always' });
    expect(decodeFieldSection(always)).toEqual([{ name: 'x', value: '\u0001' }]);
  });

  const fieldArb = fc.record(
    {
      name: fc.oneof(
        fc.constantFrom(...STATIC_TABLE.map(([n]) => n)),
        fc.stringMatching(/^[a-z0-9!#$%&'*+\-.^_`|~]{1,20}$/),
      ),
      value: fc.oneof(fc.constantFrom(...STATIC_TABLE.map(([, v]) => v)), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 10 })),
      neverIndex: fc.boolean(),
    },
    { requiredKeys: ['name', 'value'] },
  );

  it('round-trips any field list in every Huffman mode', () => {
    fc.assert(
      fc.property(fc.array(fieldArb, { maxLength: 12 }), fc.constantFrom('auto', 'always', 'never'), (fields, huffman) => {
        const block = encodeFieldSection(fields, { huffman: huffman as 'auto' | 'always' | 'never' });
        const expected = fields.map((f) => (f.neverIndex === true ? { name: f.name, value: f.value, neverIndex: true } : { name: f.name, value: f.value }));
        expect(decodeFieldSection(block, { maxFieldSectionSize: Infinity })).toEqual(expected);
      }),
    );
  });

  it('never throws anything but H3Error on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeFieldSection(bytes);
        } catch (e) {
          expect((e as Error).name).toBe('H3Error');
        }
      }),
    );
  });

  const failures: Array<[string, string]> = [
    ['empty block', ''],
    ['prefix without Delta Base', '00'],
    ['non-zero Required Insert Count', '0100'],
    ['Sign bit with Required Insert Count 0', '0080'],
    ['indexed dynamic reference', '0000 80'],
    ['name reference into the dynamic table', '0000 4000'],
    ['indexed post-Base reference', '0000 10'],
    ['post-Base name reference', '0000 0000'],
    ['static index out of range (99)', '0000 ff24'],
    ['static name index out of range', '0000 5f55 00'],
    ['truncated index', '0000 ff'],
    ['name reference without value', '0000 51'],
    ['truncated value', '0000 5105 2f'],
    ['truncated literal name', '0000 2361'],
    ['literal name without value', '0000 2178'],
    ['invalid Huffman value', '0000 5181 00'],
    ['invalid Huffman name', '0000 2900 00'],
    ['huge string length', '0000 517f ffffffffffffffffff01'],
  ];
  it.each(failures)('%s is QPACK_DECOMPRESSION_FAILED', (_, block) => {
    expectH3Error(() => decodeFieldSection(hex(block)), H3ErrorCode.QPACK_DECOMPRESSION_FAILED, 'connection');
  });

  it('bounds the decoded field section size (RFC 9114 §4.2.2) with H3_EXCESSIVE_LOAD', () => {
    const block = encodeFieldSection([{ name: 'x-a', value: 'a'.repeat(100) }]);
    expect(decodeFieldSection(block, { maxFieldSectionSize: 135 })).toHaveLength(1);
    expectH3Error(() => decodeFieldSection(block, { maxFieldSectionSize: 134 }), H3ErrorCode.H3_EXCESSIVE_LOAD, 'stream');
    const indexed = encodeFieldSection([{ name: ':method', value: 'GET' }]);
    expectH3Error(() => decodeFieldSection(indexed, { maxFieldSectionSize: 41 }), H3ErrorCode.H3_EXCESSIVE_LOAD);
  });
});

describe('QPACK encoder and decoder streams with a zero-capacity table (RFC 9204 §4.2)', () => {
  it('accepts Set Dynamic Table Capacity 0 and rejects any other instruction', () => {
    const r = new QpackEncoderStreamReader();
    r.push(hex('20 20'));
    expectH3Error(() => new QpackEncoderStreamReader().push(hex('21')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    expectH3Error(() => new QpackEncoderStreamReader().push(hex('3fbd01')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    expectH3Error(() => new QpackEncoderStreamReader().push(hex('c00f')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    expectH3Error(() => new QpackEncoderStreamReader().push(hex('4a63')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    expectH3Error(() => new QpackEncoderStreamReader().push(hex('02')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    const split = new QpackEncoderStreamReader();
    split.push(hex('3f'));
    expectH3Error(() => split.push(hex('01')), H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
    const allowed = new QpackEncoderStreamReader(100);
    allowed.push(hex('3f'));
    allowed.push(hex('45'));
    expectH3Error(() => r.end(), H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });

  it('accepts Stream Cancellation and rejects acknowledgments and increments', () => {
    const r = new QpackDecoderStreamReader();
    r.push(hex('48 7f'));
    r.push(hex('01'));
    expect(r.cancelledStreams).toEqual([8, 64]);
    expectH3Error(() => new QpackDecoderStreamReader().push(hex('84')), H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
    expectH3Error(() => new QpackDecoderStreamReader().push(hex('01')), H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
    expectH3Error(() => new QpackDecoderStreamReader().push(hex('00')), H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
    const partial = new QpackDecoderStreamReader();
    partial.push(hex('ff'));
    expectH3Error(() => partial.push(hex('00')), H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
    expectH3Error(() => new QpackDecoderStreamReader().push(hex('7f ffffffffffffffffffff')), H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
    expectH3Error(() => r.end(), H3ErrorCode.H3_CLOSED_CRITICAL_STREAM);
  });
});
