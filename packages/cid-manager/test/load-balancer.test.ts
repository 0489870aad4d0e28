import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CidConfigError,
  FailoverCidGenerator,
  LoadBalancerCidGenerator,
  LoadBalancerDecoder,
  UNROUTABLE_CONFIG_ID,
  decodeFirstOctet,
  encodeFirstOctet,
  extractServerId,
} from '../src/index.js';
import { hex, scriptedRandom, seededRandom, toHexString } from './helpers.js';

// Test vectors: draft-ietf-quic-load-balancers-21, Appendix "Load Balancer Test Vectors", "Unencrypted CIDs"
// (the server encodes the CID length in every vector).
describe('QUIC-LB plaintext CIDs: draft-ietf-quic-load-balancers-21 vectors', () => {
  it('vector 1: cr_bits 0, sid c4605e, nonce 4504cc4f -> 07c4605e4504cc4f', () => {
    // generate() draws 1 byte (first-octet noise, unused when the length is self-described) plus the nonce.
    const gen = new LoadBalancerCidGenerator(
      { configId: 0, serverId: hex('c4605e'), nonceLength: 4 },
      scriptedRandom(hex('00 4504cc4f')),
    );
    const cid = gen.generate();
    expect(toHexString(cid)).toBe('07c4605e4504cc4f');
    const decoder = new LoadBalancerDecoder([{ configId: 0, serverIdLength: 3, nonceLength: 4 }]);
    expect(decoder.decodeCid(cid)).toEqual({ configId: 0, serverId: hex('c4605e') });
  });

  it('vector 2: cr_bits 1, sid 350d28b420, nonce (0)3487d970b', () => {
    // The draft prints this CID as 20a350d28b4203487d970b, which cannot be right as bytes: a first octet of 0x20
    // would self-describe a 1-byte CID. Concatenating its fields as the text describes (first octet 0b001 || 10,
    // server ID, 5-byte nonce 03487d970b) gives the CID below, and extraction returns the listed server ID.
    const gen = new LoadBalancerCidGenerator(
      { configId: 1, serverId: hex('350d28b420'), nonceLength: 5 },
      scriptedRandom(hex('00 03487d970b')),
    );
    const cid = gen.generate();
    expect(toHexString(cid)).toBe('2a350d28b42003487d970b');
    expect(extractServerId(cid, [{ configId: 1, serverIdLength: 5, nonceLength: 5 }])).toEqual({
      configId: 1,
      serverId: hex('350d28b420'),
    });
  });
});

describe('first octet (draft-21 §3.4)', () => {
  it('is Config Rotation (3 bits) then CID Len or Random Bits (5 bits)', () => {
    expect(encodeFirstOctet(0b101, 0b10011)).toBe(0b101_10011);
    expect(decodeFirstOctet(0b011_00111)).toEqual({ configId: 3, lengthBits: 7 });
    for (let b = 0; b < 256; b++) {
      const { configId, lengthBits } = decodeFirstOctet(b);
      expect(encodeFirstOctet(configId, lengthBits)).toBe(b);
    }
  });
});

describe('LoadBalancerCidGenerator (draft-21 §5.4)', () => {
  it('writes config id, self-described length, server ID, then a random nonce', () => {
    const gen = new LoadBalancerCidGenerator({ configId: 5, serverId: hex('a1b2'), nonceLength: 6 }, seededRandom(9));
    expect(gen.length).toBe(9);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const cid = gen.generate();
      expect(cid.length).toBe(9);
      expect(cid[0]).toBe((5 << 5) | 8);
      expect(cid.subarray(1, 3)).toEqual(hex('a1b2'));
      seen.add(toHexString(cid.subarray(3)));
    }
    expect(seen.size).toBe(50);
  });

  it('without length self-description, the five low bits are random (§3.3)', () => {
    const gen = new LoadBalancerCidGenerator(
      { configId: 2, serverId: hex('01'), nonceLength: 4, selfDescribingLength: false },
      seededRandom(5),
    );
    const low = new Set<number>();
    for (let i = 0; i < 64; i++) {
      const cid = gen.generate();
      expect(cid[0]! >>> 5).toBe(2);
      low.add(cid[0]! & 0x1f);
    }
    expect(low.size).toBeGreaterThan(10);
  });

  it('does not keep a reference to the caller’s server ID', () => {
    const sid = hex('0102');
    const gen = new LoadBalancerCidGenerator({ configId: 0, serverId: sid, nonceLength: 4 }, seededRandom());
    sid[0] = 0xff;
    expect(gen.generate()[1]).toBe(0x01);
  });

  it('rejects configurations the draft forbids', () => {
    const ok = { configId: 0, serverId: hex('01'), nonceLength: 4 };
    const bad = [
      { ...ok, configId: UNROUTABLE_CONFIG_ID }, // §3.1: 0b111 is reserved
      { ...ok, configId: -1 },
      { ...ok, configId: 1.5 },
      { ...ok, serverId: new Uint8Array(0) }, // §5.3: server ID >= 1 octet
      { ...ok, nonceLength: 3 }, // §5.3: nonce >= 4 octets
      { ...ok, serverId: new Uint8Array(15), nonceLength: 5 }, // §5.3: sum <= 19
    ];
    for (const c of bad) expect(() => new LoadBalancerCidGenerator(c)).toThrow(CidConfigError);
    expect(new LoadBalancerCidGenerator({ ...ok, serverId: new Uint8Array(15), nonceLength: 4 }).length).toBe(20);
  });

  it('round-trips through the decoder for every valid configuration', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 15 }).chain((sidLen) =>
          fc.tuple(fc.uint8Array({ minLength: sidLen, maxLength: sidLen }), fc.integer({ min: 4, max: 19 - sidLen })),
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 1000 }),
        (configId, [serverId, nonceLength], selfDescribingLength, seed) => {
          const gen = new LoadBalancerCidGenerator({ configId, serverId, nonceLength, selfDescribingLength }, seededRandom(seed));
          const decoder = new LoadBalancerDecoder([
            { configId, serverIdLength: serverId.length, nonceLength, selfDescribingLength },
          ]);
          const cid = gen.generate();
          expect(cid.length).toBe(1 + serverId.length + nonceLength);
          expect(decoder.decodeCid(cid)).toEqual({ configId, serverId });
        },
      ),
    );
  });
});

describe('FailoverCidGenerator (draft-21 §3.2)', () => {
  it('uses codepoint 0b111 and self-describes the length', () => {
    const gen = new FailoverCidGenerator(12, seededRandom(4));
    const cid = gen.generate();
    expect(cid.length).toBe(12);
    expect(cid[0]).toBe((0b111 << 5) | 11);
    expect(new FailoverCidGenerator().length).toBe(8);
  });

  it('is never routable, whatever configurations the load balancer has', () => {
    const decoder = new LoadBalancerDecoder([0, 1, 2, 3, 4, 5, 6].map((configId) => ({ configId, serverIdLength: 1, nonceLength: 4 })));
    const gen = new FailoverCidGenerator(8, seededRandom(8));
    for (let i = 0; i < 20; i++) expect(decoder.decodeCid(gen.generate())).toBeUndefined();
  });

  it('accepts 8..20 bytes', () => {
    for (const n of [7, 21, 0]) expect(() => new FailoverCidGenerator(n)).toThrow(CidConfigError);
    expect(new FailoverCidGenerator(20).generate().length).toBe(20);
  });
});

describe('LoadBalancerDecoder (draft-21 §4.1, §5.5)', () => {
  const decoder = new LoadBalancerDecoder([
    { configId: 0, serverIdLength: 3, nonceLength: 4 },
    { configId: 2, serverIdLength: 2, nonceLength: 5, selfDescribingLength: false },
  ]);

  it('extracts the octets after the first as the server ID', () => {
    expect(decoder.decodeCid(hex('07 c4605e 4504cc4f'))).toEqual({ configId: 0, serverId: hex('c4605e') });
    expect(decoder.decodeCid(hex('5f abcd 0102030405'))).toEqual({ configId: 2, serverId: hex('abcd') });
  });

  it('returns a view, not a copy', () => {
    const cid = hex('07 c4605e 4504cc4f');
    const out = decoder.decodeCid(cid)!;
    expect(out.serverId.buffer).toBe(cid.buffer);
  });

  it('treats unknown codepoints, 0b111, short CIDs and contradicting self-described lengths as unroutable', () => {
    expect(decoder.decodeCid(hex('27 c4605e 4504cc4f'))).toBeUndefined(); // codepoint 1 has no config
    expect(decoder.decodeCid(hex('e7 c4605e 4504cc4f'))).toBeUndefined(); // 0b111
    expect(decoder.decodeCid(hex('06 c4605e 4504cc'))).toBeUndefined(); // 7 bytes < 1 + 3 + 4
    expect(decoder.decodeCid(hex('05 c4605e 4504cc4f'))).toBeUndefined(); // says 6 bytes follow, 7 do
    expect(decoder.decodeCid(new Uint8Array(0))).toBeUndefined();
    // a longer CID is fine when it describes itself correctly (the draft lets servers append bytes)
    expect(decoder.decodeCid(hex('08 c4605e 4504cc4f 99'))).toEqual({ configId: 0, serverId: hex('c4605e') });
  });

  it('reads the DCID of long and short header datagrams', () => {
    const long = hex('c0 00000001 08 07c4605e4504cc4f 00 00 0000');
    expect(decoder.decodeDatagram(long)).toEqual({ configId: 0, serverId: hex('c4605e') });
    expect(decoder.decodeDatagram(hex('c0 00000001 09 07c4605e4504cc4f01 00'))).toBeUndefined(); // length mismatch
    expect(decoder.decodeDatagram(hex('c0 00000001 08 07c4605e'))).toBeUndefined(); // truncated
    expect(decoder.decodeDatagram(hex('c0 00000001 00 00'))).toBeUndefined(); // zero-length DCID
    const short = hex('41 07c4605e4504cc4f 0102030405060708090a0b0c0d0e0f10111213');
    expect(decoder.decodeDatagram(short)).toEqual({ configId: 0, serverId: hex('c4605e') });
    expect(decoder.decodeDatagram(hex('41 07c4605e45'))).toBeUndefined(); // too short for the configuration
    // a short header has no length to compare with: a described length of 32 is large enough, so routable
    expect(decoder.decodeDatagram(hex('41 1fc4605e4504cc4f'))).toEqual({ configId: 0, serverId: hex('c4605e') });
    expect(decoder.decodeDatagram(hex('41 03c4605e4504cc4f'))).toBeUndefined(); // describes 4 bytes, config needs 8
    expect(decoder.decodeDatagram(new Uint8Array(0))).toBeUndefined();
  });

  it('rejects two configurations for one codepoint and invalid ones', () => {
    expect(
      () =>
        new LoadBalancerDecoder([
          { configId: 1, serverIdLength: 1, nonceLength: 4 },
          { configId: 1, serverIdLength: 2, nonceLength: 4 },
        ]),
    ).toThrow(CidConfigError);
    expect(() => new LoadBalancerDecoder([{ configId: 7, serverIdLength: 1, nonceLength: 4 }])).toThrow(CidConfigError);
    expect(() => new LoadBalancerDecoder([{ configId: 0, serverIdLength: 10, nonceLength: 10 }])).toThrow(CidConfigError);
  });
});
