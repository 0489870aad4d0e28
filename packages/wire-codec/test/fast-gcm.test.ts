import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuicEncodeError } from '../src/errors.js';
import type { Aead } from '../src/crypto/provider.js';
import {
  aeadOpenBatch,
  aeadSealBatch,
  createAeadJob,
  createFastGcmAead,
  isBatchAead,
} from '../src/crypto/fast-gcm.js';
import type { AeadJob, FastGcmAead } from '../src/crypto/fast-gcm.js';
import {
  DEFAULT_CT_KERNEL_OPTIONS,
  DEFAULT_TABLE_KERNEL_OPTIONS,
  GHASH_Y,
  NONCE,
  createGcmKernel,
  gfMultiply,
  gfMultiplyCt,
  sharedGcmKernel,
} from '../src/crypto/ghash.js';
import type { CtKernelOptions, GcmKernel, GhashMultiply, KernelOptions } from '../src/crypto/ghash.js';
import { createNodeCryptoProvider, nodeCryptoProvider } from '../src/crypto/node.js';
import { vectors } from './vectors.js';

/** Every constant-time kernel variant the generator can build (the default one first). */
const CT_OPTIONS: readonly CtKernelOptions[] = [
  DEFAULT_CT_KERNEL_OPTIONS,
  ...(['splat', 'shuffle'] as const).flatMap((words) => ([1, 2, 4, 8, 16] as const).map((ways) => ({ multiply: 'ct' as const, ways, words }))),
];

/** Every kernel variant the generator can build (the defaults first). */
const KERNEL_OPTIONS: readonly KernelOptions[] = [
  DEFAULT_TABLE_KERNEL_OPTIONS,
  ...CT_OPTIONS,
  ...([4, 8] as const).flatMap((windowBits) =>
    ([1, 2, 4] as const).flatMap((ways) =>
      (['lanes', 'scalar'] as const).map((extract) => ({ multiply: 'table' as const, windowBits, ways, extract })),
    ),
  ),
];

/** The AEAD-level suites run once per kernel. */
const ENGINES: ReadonlyArray<readonly [GhashMultiply, (key: Uint8Array) => FastGcmAead]> = [
  ['ct', (key) => createFastGcmAead(key, sharedGcmKernel('ct'))],
  ['table', (key) => createFastGcmAead(key, sharedGcmKernel('table'))],
];

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Plain Uint8Arrays: Buffer#slice would return views and let a "copy" alias the original. */
const rand = (n: number): Uint8Array => Uint8Array.from(randomBytes(n));

function gcmName(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
}

/** Oracle: node's own AES-GCM, one cipher per call. */
function refSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv(gcmName(key), key, nonce);
  c.setAAD(aad);
  return Uint8Array.from(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
}

function sealWith(aead: Aead, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + 16);
  expect(aead.seal(nonce, aad, plaintext, out)).toBe(plaintext.length + 16);
  return out;
}

describe('fast AES-GCM: setup', () => {
  it('runs on the WebAssembly SIMD kernels here (not the node fallback), constant-time by default', () => {
    expect(sharedGcmKernel('ct')).not.toBeNull();
    expect(sharedGcmKernel('table')).not.toBeNull();
    expect(sharedGcmKernel()).toBe(sharedGcmKernel('ct'));
    const aead = createFastGcmAead(new Uint8Array(16));
    expect(aead.implementation).toBe('wasm-simd');
    expect(aead.ghash).toBe('ct');
    expect(aead.algorithm).toBe('aes-128-gcm');
    expect(createFastGcmAead(new Uint8Array(32)).algorithm).toBe('aes-256-gcm');
    expect(createFastGcmAead(new Uint8Array(16), sharedGcmKernel('table')).ghash).toBe('table');
    expect(createFastGcmAead(new Uint8Array(16), null).ghash).toBe('openssl');
  });

  it('keeps the constant-time per-key state small: 16 powers of H in 5 KiB, below the 8 KiB tables', () => {
    expect(sharedGcmKernel('ct')!.layout.tableBytes).toBe(16 * 9 * 36);
    expect(sharedGcmKernel('ct')!.buildTable(rand(16)).length).toBe(16 * 9 * 36);
    expect(sharedGcmKernel('table')!.layout.tableBytes).toBe(8192);
  });

  it('rejects keys that are not 16 or 32 bytes', () => {
    for (const n of [0, 15, 17, 24, 31, 33]) {
      expect(() => createFastGcmAead(new Uint8Array(n))).toThrow(QuicEncodeError);
    }
  });

  it('the node provider offers the engines by name, wasm-ct on the constant-time kernel', () => {
    const key = rand(16);
    const cases: ReadonlyArray<readonly ['openssl' | 'wasm-ct' | 'wasm-table', string, string | undefined]> = [
      ['openssl', 'node+openssl', undefined],
      ['wasm-ct', 'node+wasm-ct', 'ct'],
      ['wasm-table', 'node+wasm-table', 'table'],
    ];
    for (const [engine, name, ghash] of cases) {
      const provider = createNodeCryptoProvider({ aesGcm: engine });
      expect(provider.name).toBe(name);
      const aead = provider.createAead('aes-128-gcm', key);
      expect((aead as Partial<FastGcmAead>).ghash).toBe(ghash);
      const nonce = rand(12);
      const aad = rand(7);
      const plaintext = rand(100);
      expect(toHex(sealWith(aead, nonce, aad, plaintext))).toBe(toHex(refSeal(key, nonce, aad, plaintext)));
      expect((provider.createAead('chacha20-poly1305', new Uint8Array(32)) as Partial<FastGcmAead>).ghash).toBeUndefined();
    }
    expect(() => createNodeCryptoProvider({ aesGcm: 'wasm' as 'wasm-ct' })).toThrow(QuicEncodeError);
    // The default provider is the constant-time engine.
    expect(nodeCryptoProvider.name).toBe('node+wasm-ct');
    expect((nodeCryptoProvider.createAead('aes-256-gcm', rand(32)) as Partial<FastGcmAead>).ghash).toBe('ct');
  });
});

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised 2005, Appendix B (the test vectors
// of NIST's GCM specification, the basis of SP 800-38D): the cases with a 96-bit IV.
const P64 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const P60 = P64.slice(0, 120);
const A20 = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const K128 = 'feffe9928665731c6d6a8f9467308308';
const IV = 'cafebabefacedbaddecaf888';
const C3 =
  '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e' +
  '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985';
const C15 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';
const MCGREW_VIEGA: ReadonlyArray<{ n: number; k: string; iv: string; p: string; a: string; c: string; t: string }> = [
  { n: 1, k: '00'.repeat(16), iv: '00'.repeat(12), p: '', a: '', c: '', t: '58e2fccefa7e3061367f1d57a4e7455a' },
  {
    n: 2,
    k: '00'.repeat(16),
    iv: '00'.repeat(12),
    p: '00'.repeat(16),
    a: '',
    c: '0388dace60b6a392f328c2b971b2fe78',
    t: 'ab6e47d42cec13bdf53a67b21257bddf',
  },
  { n: 3, k: K128, iv: IV, p: P64, a: '', c: C3, t: '4d5c2af327cd64a62cf35abd2ba6fab4' },
  { n: 4, k: K128, iv: IV, p: P60, a: A20, c: C3.slice(0, 120), t: '5bc94fbc3221a5db94fae95ae7121a47' },
  { n: 13, k: '00'.repeat(32), iv: '00'.repeat(12), p: '', a: '', c: '', t: '530f8afbc74536b9a963b4f1c4cb738b' },
  {
    n: 14,
    k: '00'.repeat(32),
    iv: '00'.repeat(12),
    p: '00'.repeat(16),
    a: '',
    c: 'cea7403d4d606b6e074ec5d3baf39d18',
    t: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  { n: 15, k: K128 + K128, iv: IV, p: P64, a: '', c: C15, t: 'b094dac5d93471bdec1a502270e3cc6c' },
  { n: 16, k: K128 + K128, iv: IV, p: P60, a: A20, c: C15.slice(0, 120), t: '76fc6ece0f4e1768cddf8853bb2d551b' },
];

describe('fast AES-GCM: kernel variants', () => {
  it('GHASH itself matches the spec intermediates of test cases 2 and 4, for every kernel variant', () => {
    // GHASH(H, A, C) values printed with McGrew-Viega test cases 2 and 4 (input already padded, with the
    // len(A) || len(C) block appended).
    const cases = [
      {
        h: '66e94bd4ef8a2c3b884cfa59ca342b2e',
        input: '0388dace60b6a392f328c2b971b2fe78' + '00000000000000000000000000000080',
        ghash: 'f38cbb1ad69223dcc3457ae5b6b0f885',
      },
      {
        h: 'b83b533708bf535d0aa6e52980d53b78',
        input: A20 + '00'.repeat(12) + C3.slice(0, 120) + '00'.repeat(4) + '00000000000000a000000000000001e0',
        ghash: '698e57f70e6ecc7fd9463b7260a9ae5f',
      },
    ];
    for (const options of KERNEL_OPTIONS) {
      const k = createGcmKernel(options, 1);
      expect(k).not.toBeNull();
      for (const c of cases) {
        const tab = k!.bindTable(k!.buildTable(hex(c.h)), 0);
        k!.mem.fill(0, GHASH_Y, GHASH_Y + 16);
        const input = hex(c.input);
        k!.mem.set(input, k!.layout.data);
        k!.ghash(tab, 0, k!.layout.data, input.length, 0, 0);
        expect(toHex(k!.mem.subarray(GHASH_Y, GHASH_Y + 16))).toBe(c.ghash);
      }
    }
  });

  it('gfMultiply agrees with the spec: H·H used for the aggregated tables is the GHASH of one block H', () => {
    // GHASH(H, {}, X) for a single block X is X·H (SP 800-38D §6.4), so H·H = GHASH of the block H.
    const h = hex('66e94bd4ef8a2c3b884cfa59ca342b2e');
    const k = createGcmKernel({ multiply: 'table', windowBits: 4, ways: 1, extract: 'lanes' }, 1)!;
    const tab = k.bindTable(k.buildTable(h), 0);
    k.mem.fill(0, GHASH_Y, GHASH_Y + 16);
    k.mem.set(h, k.layout.data);
    k.ghash(tab, 0, k.layout.data, 16, 0, 0);
    expect(toHex(gfMultiply(h, h))).toBe(toHex(k.mem.subarray(GHASH_Y, GHASH_Y + 16)));
    // x^0 (the GCM "1", 0x80 || 0^120) is the multiplicative identity.
    expect(toHex(gfMultiply(hex('80' + '00'.repeat(15)), h))).toBe(toHex(h));
  });

  it('every kernel variant seals and opens like node for random lengths', () => {
    for (const [index, options] of KERNEL_OPTIONS.entries()) {
      const k = createGcmKernel(options, 2)!;
      const key = rand(index % 2 === 0 ? 16 : 32);
      const ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null).setAutoPadding(false);
      const tab = k.bindTable(k.buildTable(ecb.update(new Uint8Array(16))), 1);
      for (let i = 0; i < 40; i++) {
        const nonce = rand(12);
        const aad = rand((i * 11) % 97);
        const plaintext = rand((i * 67) % 700);
        const aadAt = k.layout.data;
        const dataAt = aadAt + ((aad.length + 15) & ~15);
        k.mem.set(aad, aadAt);
        k.mem.set(plaintext, dataAt);
        k.mem.set(nonce, NONCE);
        const blocks = ((plaintext.length + 15) >>> 4) + 1;
        k.ctr(NONCE, k.layout.ctr, blocks);
        k.mem.set(ecb.update(k.counterBlocks(blocks)), k.layout.keystream);
        k.seal(tab, k.layout.keystream, dataAt, plaintext.length, aadAt, aad.length);
        const sealed = refSeal(key, nonce, aad, plaintext);
        expect(toHex(k.mem.subarray(dataAt, dataAt + plaintext.length + 16))).toBe(toHex(sealed));
        expect(k.open(tab, k.layout.keystream, dataAt, plaintext.length, aadAt, aad.length)).toBe(1);
        expect(toHex(k.mem.subarray(dataAt, dataAt + plaintext.length))).toBe(toHex(plaintext));
        sealed[(i * 13) % sealed.length]! ^= 4;
        k.mem.set(sealed, dataAt);
        expect(k.open(tab, k.layout.keystream, dataAt, plaintext.length, aadAt, aad.length)).toBe(0);
      }
    }
  });

  /** GHASH continued from `y` over `data` zero-padded, with stale bytes after it in the staging area. */
  function kernelGhash(k: GcmKernel, h: Uint8Array, y: Uint8Array, data: Uint8Array): string {
    const tab = k.bindTable(k.buildTable(h), 0);
    k.mem.set(y, GHASH_Y);
    k.mem.set(rand(32), k.layout.data + data.length);
    k.mem.set(data, k.layout.data);
    k.ghash(tab, 0, k.layout.data, data.length, 0, 0);
    return toHex(k.mem.subarray(GHASH_Y, GHASH_Y + 16));
  }

  const table = createGcmKernel(DEFAULT_TABLE_KERNEL_OPTIONS, 1)!;
  const ctKernels = CT_OPTIONS.map((options) => createGcmKernel(options, 1)!);

  it('the constant-time kernels compute the same GHASH as the table kernel (property, random H, Y, data)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 900 })),
        (h, y, data) => {
          const expected = kernelGhash(table, h, y, data);
          for (const k of ctKernels) expect(kernelGhash(k, h, y, data)).toBe(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the constant-time kernels agree with the table kernel at every group boundary (0..40 blocks, partial tails)', () => {
    const h = rand(16);
    const y = rand(16);
    for (let blocks = 0; blocks <= 40; blocks++) {
      for (const length of [blocks * 16, blocks * 16 + 1, blocks * 16 + 15]) {
        const data = rand(length);
        const expected = kernelGhash(table, h, y, data);
        for (const k of ctKernels) expect(kernelGhash(k, h, y, data)).toBe(expected);
      }
    }
    // Degenerate subkeys: H = 0 maps everything to 0, H = 1 (x^0) leaves Y ^ X.
    const block = rand(16);
    for (const k of ctKernels) {
      expect(kernelGhash(k, new Uint8Array(16), y, block)).toBe('00'.repeat(16));
      expect(kernelGhash(k, hex('80' + '00'.repeat(15)), y, block)).toBe(toHex(block.map((b, i) => b ^ y[i]!)));
    }
  });

  it('gfMultiplyCt (key setup of the constant-time kernel) equals gfMultiply', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (a, b) => {
        expect(toHex(gfMultiplyCt(a, b))).toBe(toHex(gfMultiply(a, b)));
      }),
      { numRuns: 200 },
    );
    const h = rand(16);
    expect(toHex(gfMultiplyCt(hex('80' + '00'.repeat(15)), h))).toBe(toHex(h));
    expect(toHex(gfMultiplyCt(new Uint8Array(16), h))).toBe('00'.repeat(16));
  });
});

const keyArb = fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 32, maxLength: 32 }));
const nonceArb = fc.uint8Array({ minLength: 12, maxLength: 12 });
const aadArb = fc.uint8Array({ maxLength: 64 });
const plaintextArb = fc.oneof(fc.uint8Array({ maxLength: 48 }), fc.uint8Array({ maxLength: 1500 }));
interface Packet {
  nonce: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
}

const packetArb: fc.Arbitrary<Packet> = fc.record({ nonce: nonceArb, aad: aadArb, plaintext: plaintextArb });

function jobsFor(inputs: readonly Uint8Array[], packets: readonly Packet[], outLength: (input: Uint8Array) => number): AeadJob[] {
  return inputs.map((input, i) => {
    const job = createAeadJob();
    job.nonce = packets[i]!.nonce;
    job.aad = packets[i]!.aad;
    job.input = input;
    job.out = new Uint8Array(Math.max(0, outLength(input)) + 4);
    job.outOffset = 2;
    job.result = 12345;
    return job;
  });
}

describe('fast AES-GCM: the createCipheriv fallback (runtimes without WebAssembly SIMD)', () => {
  it('seals, opens, rejects forgeries and batches like the kernel path', () => {
    fc.assert(
      fc.property(keyArb, fc.array(packetArb, { maxLength: 6 }), (key, packets) => {
        const fallback = createFastGcmAead(key, null);
        expect(fallback.implementation).toBe('node-gcm');
        const jobs = jobsFor(
          packets.map((p) => p.plaintext),
          packets,
          (input) => input.length + 16,
        );
        fallback.sealBatch(jobs);
        for (const [i, p] of packets.entries()) {
          const sealed = sealWith(fallback, p.nonce, p.aad, p.plaintext);
          expect(toHex(sealed)).toBe(toHex(refSeal(key, p.nonce, p.aad, p.plaintext)));
          expect(toHex(jobs[i]!.out.subarray(2, 2 + jobs[i]!.result))).toBe(toHex(sealed));
          const back = new Uint8Array(p.plaintext.length);
          expect(fallback.open(p.nonce, p.aad, sealed, back)).toBe(p.plaintext.length);
          expect(toHex(back)).toBe(toHex(p.plaintext));
          sealed[0]! ^= 1;
          expect(fallback.open(p.nonce, p.aad, sealed, back)).toBe(-1);
        }
        expect(fallback.open(new Uint8Array(12), new Uint8Array(0), new Uint8Array(15), new Uint8Array(0))).toBe(-1);
        expect(() => fallback.seal(new Uint8Array(11), new Uint8Array(0), new Uint8Array(0), new Uint8Array(16))).toThrow(QuicEncodeError);
      }),
      { numRuns: 40 },
    );
  });
});

for (const [kind, fastGcm] of ENGINES) {
  describe(`fast AES-GCM, ${kind} kernel: known-answer vectors`, () => {
    for (const v of MCGREW_VIEGA) {
      it(`McGrew-Viega test case ${v.n} (AES-${v.k.length * 4}, ${v.p.length / 2}-byte P, ${v.a.length / 2}-byte A)`, () => {
        const aead = fastGcm(hex(v.k));
        const sealed = sealWith(aead, hex(v.iv), hex(v.a), hex(v.p));
        expect(toHex(sealed)).toBe(v.c + v.t);
        const opened = new Uint8Array(v.p.length / 2);
        expect(aead.open(hex(v.iv), hex(v.a), sealed, opened)).toBe(v.p.length / 2);
        expect(toHex(opened)).toBe(v.p);
      });
    }

    const v = vectors as {
      client_initial: { key: string; iv: string };
      server_initial: { key: string; iv: string };
      client_initial_packet: {
        crypto_frame_plaintext: string;
        payload_plaintext_length: number;
        unprotected_header: string;
        packet_number: number;
        protected_packet: string;
      };
      server_initial_packet: {
        payload_plaintext: string;
        unprotected_header: string;
        packet_number: number;
        protected_packet: string;
      };
      client_dcid: string;
      retry_packet: { packet: string; retry_integrity_key_v1: string; retry_integrity_nonce_v1: string };
    };

    /** RFC 9001 §5.3: the nonce is the IV XORed with the packet number, left-padded to 12 bytes. */
    function packetNonce(iv: string, pn: number): Uint8Array {
      const nonce = hex(iv);
      for (let i = 11, v = pn; i >= 8; i--, v >>>= 8) nonce[i]! ^= v & 0xff;
      return nonce;
    }

    it('RFC 9001 App. A.2: client Initial payload (1162-byte plaintext, PN 2)', () => {
      const p = v.client_initial_packet;
      const header = hex(p.unprotected_header);
      expect(header.length).toBe(22);
      const plaintext = new Uint8Array(p.payload_plaintext_length); // CRYPTO frame, then PADDING (zeros)
      plaintext.set(hex(p.crypto_frame_plaintext));
      const nonce = packetNonce(v.client_initial.iv, p.packet_number);
      const aead = fastGcm(hex(v.client_initial.key));
      // Header protection changes only header bytes, so the payload is the protected packet after the header.
      const expected = hex(p.protected_packet).subarray(header.length);
      expect(toHex(sealWith(aead, nonce, header, plaintext))).toBe(toHex(expected));
      const opened = new Uint8Array(plaintext.length);
      expect(aead.open(nonce, header, expected, opened)).toBe(plaintext.length);
      expect(toHex(opened)).toBe(toHex(plaintext));
    });

    it('RFC 9001 App. A.3: server Initial payload (PN 1)', () => {
      const p = v.server_initial_packet;
      const header = hex(p.unprotected_header);
      const nonce = packetNonce(v.server_initial.iv, p.packet_number);
      const aead = fastGcm(hex(v.server_initial.key));
      const expected = hex(p.protected_packet).subarray(header.length);
      expect(toHex(sealWith(aead, nonce, header, hex(p.payload_plaintext)))).toBe(toHex(expected));
    });

    it('RFC 9001 App. A.4 / §5.8: Retry integrity tag (empty plaintext, AAD = Retry pseudo-packet)', () => {
      const r = v.retry_packet;
      const packet = hex(r.packet);
      const odcid = hex(v.client_dcid);
      const pseudo = new Uint8Array([odcid.length, ...odcid, ...packet.subarray(0, packet.length - 16)]);
      const aead = fastGcm(hex(r.retry_integrity_key_v1));
      const tag = sealWith(aead, hex(r.retry_integrity_nonce_v1), pseudo, new Uint8Array(0));
      expect(toHex(tag)).toBe(toHex(packet.subarray(packet.length - 16)));
      expect(aead.open(hex(r.retry_integrity_nonce_v1), pseudo, tag, new Uint8Array(0))).toBe(0);
    });
  });

  describe(`fast AES-GCM, ${kind} kernel: differential against node:crypto`, () => {
    it('seal equals createCipheriv for random keys, nonces, AAD 0..64 and plaintext 0..1500 bytes', () => {
      fc.assert(
        fc.property(keyArb, nonceArb, aadArb, plaintextArb, (key, nonce, aad, plaintext) => {
          const sealed = sealWith(fastGcm(key), nonce, aad, plaintext);
          expect(toHex(sealed)).toBe(toHex(refSeal(key, nonce, aad, plaintext)));
        }),
        { numRuns: 400 },
      );
    });

    it('open recovers what createCipheriv sealed, at an output offset', () => {
      fc.assert(
        fc.property(keyArb, nonceArb, aadArb, plaintextArb, fc.nat(20), (key, nonce, aad, plaintext, offset) => {
          const sealed = refSeal(key, nonce, aad, plaintext);
          const out = new Uint8Array(offset + plaintext.length + 3).fill(0xa5);
          expect(fastGcm(key).open(nonce, aad, sealed, out, offset)).toBe(plaintext.length);
          expect(toHex(out.subarray(offset, offset + plaintext.length))).toBe(toHex(plaintext));
          expect(out.subarray(0, offset).every((b) => b === 0xa5)).toBe(true);
          expect(out.subarray(offset + plaintext.length).every((b) => b === 0xa5)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('one key object serves many packets in any order (the ECB object carries no state)', () => {
      const key = rand(16);
      const aead = fastGcm(key);
      for (let i = 0; i < 200; i++) {
        const nonce = rand(12);
        const aad = rand(i % 40);
        const plaintext = rand((i * 37) % 1400);
        const sealed = sealWith(aead, nonce, aad, plaintext);
        expect(toHex(sealed)).toBe(toHex(refSeal(key, nonce, aad, plaintext)));
        const back = new Uint8Array(plaintext.length);
        expect(aead.open(nonce, aad, sealed, back)).toBe(plaintext.length);
        expect(toHex(back)).toBe(toHex(plaintext));
      }
    });

    it('stays correct with more live keys than kernel table slots, used interleaved', () => {
      const keys = Array.from({ length: 40 }, (_, i) => rand(i % 2 === 0 ? 16 : 32));
      const aeads = keys.map((k) => fastGcm(k));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < keys.length; i++) {
          const j = (i * 7 + round) % keys.length;
          const nonce = rand(12);
          const plaintext = rand(100 + i);
          expect(toHex(sealWith(aeads[j]!, nonce, new Uint8Array(3), plaintext))).toBe(
            toHex(refSeal(keys[j]!, nonce, new Uint8Array(3), plaintext)),
          );
        }
      }
    });

    it('handles inputs larger than the kernel staging area (node GCM path) identically', () => {
      const key = rand(32);
      const aead = fastGcm(key);
      const nonce = rand(12);
      const aad = rand(30);
      for (const size of [65527, 69600, 70000, 100000]) {
        const plaintext = rand(size);
        const sealed = sealWith(aead, nonce, aad, plaintext);
        expect(toHex(sealed)).toBe(toHex(refSeal(key, nonce, aad, plaintext)));
        const back = new Uint8Array(size);
        expect(aead.open(nonce, aad, sealed, back)).toBe(size);
        expect(toHex(back)).toBe(toHex(plaintext));
        sealed[size >> 1]! ^= 1;
        expect(aead.open(nonce, aad, sealed, back)).toBe(-1);
      }
      const bigAad = rand(80000);
      const small = rand(10);
      const sealed = sealWith(aead, nonce, bigAad, small);
      expect(toHex(sealed)).toBe(toHex(refSeal(key, nonce, bigAad, small)));
      expect(aead.open(nonce, bigAad, sealed, new Uint8Array(10))).toBe(10);
    });
  });

  describe(`fast AES-GCM, ${kind} kernel: authentication failures`, () => {
    it('any single flipped bit in ciphertext, tag or AAD makes open return -1 and leaves out untouched', () => {
      for (const key of [rand(16), rand(32)]) {
        const aead = fastGcm(key);
        const nonce = rand(12);
        const aad = rand(21);
        const plaintext = rand(37);
        const sealed = sealWith(aead, nonce, aad, plaintext);
        const out = new Uint8Array(plaintext.length).fill(0x5a);
        for (let i = 0; i < sealed.length; i++) {
          for (const bit of [0x01, 0x80]) {
            const forged = sealed.slice();
            forged[i]! ^= bit;
            expect(aead.open(nonce, aad, forged, out)).toBe(-1);
          }
        }
        for (let i = 0; i < aad.length; i++) {
          const forgedAad = aad.slice();
          forgedAad[i]! ^= 0x10;
          expect(aead.open(nonce, forgedAad, sealed, out)).toBe(-1);
        }
        const otherNonce = nonce.slice();
        otherNonce[11]! ^= 1;
        expect(aead.open(otherNonce, aad, sealed, out)).toBe(-1);
        expect(aead.open(nonce, aad.subarray(1), sealed, out)).toBe(-1);
        expect(fastGcm(rand(key.length)).open(nonce, aad, sealed, out)).toBe(-1);
        expect(out.every((b) => b === 0x5a)).toBe(true);
        expect(aead.open(nonce, aad, sealed, out)).toBe(plaintext.length);
      }
    });

    it('random tampering of a random packet fails (property)', () => {
      fc.assert(
        fc.property(keyArb, nonceArb, aadArb, plaintextArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (key, nonce, aad, pt, at, delta) => {
          const aead = fastGcm(key);
          const sealed = sealWith(aead, nonce, aad, pt);
          const region = at % (sealed.length + aad.length);
          const forged = sealed.slice();
          const forgedAad = aad.slice();
          if (region < sealed.length) forged[region]! ^= delta;
          else forgedAad[region - sealed.length]! ^= delta;
          expect(aead.open(nonce, forgedAad, forged, new Uint8Array(pt.length))).toBe(-1);
        }),
        { numRuns: 200 },
      );
    });

    it('returns -1, not an exception, for ciphertexts shorter than a tag', () => {
      const aead = fastGcm(rand(16));
      for (let n = 0; n < 16; n++) {
        expect(aead.open(new Uint8Array(12), new Uint8Array(0), new Uint8Array(n), new Uint8Array(0))).toBe(-1);
      }
    });

    it('throws QuicEncodeError for programmer misuse (nonce length, output too small, bad offset)', () => {
      const aead = fastGcm(rand(16));
      const pt = new Uint8Array(10);
      expect(() => aead.seal(new Uint8Array(8), new Uint8Array(0), pt, new Uint8Array(26))).toThrow(QuicEncodeError);
      expect(() => aead.seal(new Uint8Array(12), new Uint8Array(0), pt, new Uint8Array(25))).toThrow(QuicEncodeError);
      expect(() => aead.seal(new Uint8Array(12), new Uint8Array(0), pt, new Uint8Array(30), 5)).toThrow(QuicEncodeError);
      expect(() => aead.seal(new Uint8Array(12), new Uint8Array(0), pt, new Uint8Array(30), -1)).toThrow(QuicEncodeError);
      expect(() => aead.seal(new Uint8Array(12), new Uint8Array(0), pt, new Uint8Array(30), 1.5)).toThrow(QuicEncodeError);
      const sealed = sealWith(aead, new Uint8Array(12), new Uint8Array(0), pt);
      expect(() => aead.open(new Uint8Array(16), new Uint8Array(0), sealed, new Uint8Array(10))).toThrow(QuicEncodeError);
      expect(() => aead.open(new Uint8Array(12), new Uint8Array(0), sealed, new Uint8Array(9))).toThrow(QuicEncodeError);
    });
  });

  describe(`fast AES-GCM, ${kind} kernel: in-place operation`, () => {
    it('seals and opens in place inside a larger packet buffer', () => {
      fc.assert(
        fc.property(keyArb, nonceArb, aadArb, plaintextArb, fc.nat(40), (key, nonce, aad, plaintext, offset) => {
          const aead = fastGcm(key);
          const packet = new Uint8Array(offset + plaintext.length + 16 + 5);
          packet.set(plaintext, offset);
          const inPlace = packet.subarray(offset, offset + plaintext.length);
          expect(aead.seal(nonce, aad, inPlace, packet, offset)).toBe(plaintext.length + 16);
          const sealed = packet.subarray(offset, offset + plaintext.length + 16);
          expect(toHex(sealed)).toBe(toHex(refSeal(key, nonce, aad, plaintext)));
          expect(aead.open(nonce, aad, sealed, packet, offset)).toBe(plaintext.length);
          expect(toHex(packet.subarray(offset, offset + plaintext.length))).toBe(toHex(plaintext));
        }),
        { numRuns: 150 },
      );
    });
  });

  describe(`fast AES-GCM, ${kind} kernel: batches`, () => {
    it('sealBatch/openBatch give exactly the per-packet results', () => {
      fc.assert(
        fc.property(keyArb, fc.array(packetArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 4 }), (key, packets, forge) => {
          const aead = fastGcm(key);
          const single = fastGcm(key);
          const sealJobs = jobsFor(
            packets.map((p) => p.plaintext),
            packets,
            (input) => input.length + 16,
          );
          aead.sealBatch(sealJobs);
          const sealed: Uint8Array[] = [];
          for (const [i, job] of sealJobs.entries()) {
            const p = packets[i]!;
            expect(job.result).toBe(p.plaintext.length + 16);
            const one = sealWith(single, p.nonce, p.aad, p.plaintext);
            expect(toHex(job.out.subarray(2, 2 + job.result))).toBe(toHex(one));
            sealed.push(one);
          }
          // Forge some packets; one of them may also be cut below tag length.
          const forged = new Set<number>();
          for (const f of forge) {
            if (sealed.length === 0) break;
            const i = f % sealed.length;
            if (forged.has(i)) continue;
            const s = sealed[i]!;
            sealed[i] = f % 5 === 0 ? s.subarray(0, f % 16) : s.map((b, j) => (j === f % s.length ? b ^ 1 : b));
            forged.add(i);
          }
          const openJobs = jobsFor(sealed, packets, (input) => input.length - 16);
          const failed = aead.openBatch(openJobs);
          expect(failed).toBe(forged.size);
          for (const [i, job] of openJobs.entries()) {
            const p = packets[i]!;
            const expected = single.open(p.nonce, p.aad, sealed[i]!, new Uint8Array(Math.max(0, sealed[i]!.length - 16)));
            expect(job.result).toBe(forged.has(i) ? -1 : p.plaintext.length);
            expect(job.result).toBe(expected);
            if (job.result >= 0) expect(toHex(job.out.subarray(2, 2 + job.result))).toBe(toHex(p.plaintext));
            else expect(job.out.every((b) => b === 0)).toBe(true);
          }
        }),
        { numRuns: 120 },
      );
    });

    it('splits batches larger than the staging area and routes oversize jobs to node GCM', () => {
      const key = rand(16);
      const aead = fastGcm(key);
      const sizes = [...Array.from({ length: 70 }, (_, i) => 1200 + (i % 7) * 45), 80000, 5, ...Array.from({ length: 30 }, () => 1452)];
      const packets = sizes.map((n) => ({ nonce: rand(12), aad: rand(n % 60), plaintext: rand(n) }));
      const jobs = jobsFor(
        packets.map((p) => p.plaintext),
        packets,
        (input) => input.length + 16,
      );
      aead.sealBatch(jobs, jobs.length - 3); // the last three stay untouched
      for (const [i, job] of jobs.entries()) {
        const p = packets[i]!;
        if (i >= jobs.length - 3) {
          expect(job.result).toBe(12345);
          continue;
        }
        expect(toHex(job.out.subarray(2, 2 + job.result))).toBe(toHex(refSeal(key, p.nonce, p.aad, p.plaintext)));
      }
      const openJobs = jobsFor(
        jobs.slice(0, -3).map((j) => j.out.subarray(2, 2 + j.result)),
        packets,
        (input) => input.length - 16,
      );
      expect(aead.openBatch(openJobs)).toBe(0);
      for (const [i, job] of openJobs.entries()) {
        expect(toHex(job.out.subarray(2, 2 + job.result))).toBe(toHex(packets[i]!.plaintext));
      }
    });

    it('seals a batch in place', () => {
      const key = rand(32);
      const aead = fastGcm(key);
      const packets = Array.from({ length: 9 }, (_, i) => ({ nonce: rand(12), aad: rand(i * 3), plaintext: rand(i * 150) }));
      const buffers = packets.map((p) => {
        const b = new Uint8Array(p.plaintext.length + 16 + 8);
        b.set(p.plaintext, 8);
        return b;
      });
      const jobs = packets.map((p, i) => ({
        nonce: p.nonce,
        aad: p.aad,
        input: buffers[i]!.subarray(8, 8 + p.plaintext.length),
        out: buffers[i]!,
        outOffset: 8,
        result: 0,
      }));
      aead.sealBatch(jobs);
      for (const [i, p] of packets.entries()) {
        expect(toHex(buffers[i]!.subarray(8))).toBe(toHex(refSeal(key, p.nonce, p.aad, p.plaintext)));
      }
    });

    it('validates every job before processing any, with QuicEncodeError', () => {
      const aead = fastGcm(rand(16));
      const good = { nonce: new Uint8Array(12), aad: new Uint8Array(0), input: new Uint8Array(4), out: new Uint8Array(20), outOffset: 0, result: 7 };
      const badNonce = { ...good, nonce: new Uint8Array(11) };
      expect(() => aead.sealBatch([good, badNonce])).toThrow(QuicEncodeError);
      expect(good.result).toBe(7);
      expect(() => aead.sealBatch([good, { ...good, out: new Uint8Array(19) }])).toThrow(QuicEncodeError);
      expect(() => aead.sealBatch([good], 2)).toThrow(QuicEncodeError);
      expect(() => aead.openBatch([good], -1)).toThrow(QuicEncodeError);
      expect(good.result).toBe(7);
    });

    it('the generic helpers batch a plain Aead packet by packet with the same results', () => {
      const key = rand(16);
      const fast = fastGcm(key);
      const plain: Aead = { algorithm: fast.algorithm, seal: fast.seal.bind(fast), open: fast.open.bind(fast) };
      expect(isBatchAead(fast)).toBe(true);
      expect(isBatchAead(plain)).toBe(false);
      const packets = Array.from({ length: 5 }, (_, i) => ({ nonce: rand(12), aad: rand(i), plaintext: rand(i * 100) }));
      const a = jobsFor(packets.map((p) => p.plaintext), packets, (input) => input.length + 16);
      const b = jobsFor(packets.map((p) => p.plaintext), packets, (input) => input.length + 16);
      aeadSealBatch(plain, a);
      aeadSealBatch(fast, b);
      for (let i = 0; i < packets.length; i++) expect(toHex(a[i]!.out)).toBe(toHex(b[i]!.out));
      const opens = jobsFor(a.map((j) => j.out.subarray(2, 2 + j.result)), packets, (input) => input.length - 16);
      opens[1]!.input = opens[1]!.input.map((x, i) => (i === 0 ? x ^ 1 : x));
      expect(aeadOpenBatch(plain, opens)).toBe(1);
      expect(opens.map((j) => j.result)).toEqual(packets.map((p, i) => (i === 1 ? -1 : p.plaintext.length)));
    });
  });
}
