// The whole receive path, as a connection will drive it: split a datagram into packets, open each, decode and
// validate its frames. Whatever the network sends, the only outcomes are a decoded packet, a `null` open (drop),
// or a QuicCodecError carrying a transport error code.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PacketProtection,
  QUIC_V1,
  QuicCodecError,
  Writer,
  deriveInitialKeys,
  encodeFrame,
  nodeCryptoProvider,
  parseFrames,
  splitCoalescedPackets,
  validatePacketFrames,
  writeLongHeader,
  writeShortHeader,
  type Frame,
  type PacketKeys,
} from '../src/index.js';

const DCID = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
const initialKeys = deriveInitialKeys(DCID, QUIC_V1).client;
const oneRttKeys: PacketKeys = { key: new Uint8Array(16).fill(1), iv: new Uint8Array(12).fill(2), hp: new Uint8Array(16).fill(3) };

/** A valid datagram: an Initial with CRYPTO + PING coalesced with a 1-RTT packet carrying `frames`. */
function buildDatagram(frames: Frame[]): Uint8Array {
  const buf = new Uint8Array(1500);
  const w = new Writer(buf);
  const payload = new Writer(600);
  encodeFrame({ type: 'crypto', offset: 0, data: new Uint8Array(40).fill(0x16) }, payload);
  encodeFrame({ type: 'ping' }, payload);
  const { pnOffset } = writeLongHeader(w, { type: 'initial', version: QUIC_V1, dcid: DCID, scid: DCID, packetNumber: 0, pnLength: 1, length: 1 + payload.offset + 16 });
  w.writeBytes(payload.bytes());
  const initialLength = new PacketProtection(nodeCryptoProvider, 'aes-128-gcm', initialKeys).seal(buf, pnOffset, 1, 0, w.offset);
  const short = buf.subarray(initialLength);
  const sw = new Writer(short);
  const spn = writeShortHeader(sw, { dcid: DCID, packetNumber: 5, pnLength: 1, keyPhase: false });
  for (const f of frames) encodeFrame(f, sw);
  sw.fill(Math.max(0, 4 - (sw.offset - spn - 1))); // room for the header-protection sample
  const shortLength = new PacketProtection(nodeCryptoProvider, 'aes-128-gcm', oneRttKeys).seal(short, spn, 1, 5, sw.offset);
  return buf.slice(0, initialLength + shortLength);
}

function receive(datagram: Uint8Array): number {
  let framesSeen = 0;
  const { packets } = splitCoalescedPackets(datagram, { shortDcidLength: DCID.length });
  for (const { offset, header } of packets) {
    if (header.form === 'version_negotiation' || (header.form === 'long' && (header.type === 'retry' || header.type === 'unsupported'))) continue;
    const packet = datagram.subarray(offset, offset + header.packetLength);
    const isLong = header.form === 'long';
    const keys = isLong ? initialKeys : oneRttKeys;
    const opened = new PacketProtection(nodeCryptoProvider, 'aes-128-gcm', keys).open(packet, header.pnOffset, -1, isLong);
    if (opened === null) continue; // dropped, as a receiver would
    const frames = parseFrames(opened.payload);
    validatePacketFrames(frames, isLong ? 'initial' : '1rtt');
    framesSeen += frames.length;
  }
  return framesSeen;
}

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('stream' as const), streamId: fc.nat(1000), offset: fc.nat(1 << 20), fin: fc.boolean(), data: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ type: fc.constant('max_data' as const), maximumData: fc.nat() }),
  fc.record({ type: fc.constant('datagram' as const), data: fc.uint8Array({ maxLength: 100 }) }),
  fc.constant({ type: 'ping' } as Frame),
);

describe('receive pipeline (property)', () => {
  it('decodes intact datagrams', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), (frames) => {
        expect(receive(buildDatagram(frames))).toBeGreaterThanOrEqual(2 + frames.length);
      }),
      { numRuns: 200 },
    );
  });

  it('turns any corruption into a drop or a QuicCodecError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (frames, flips, cut) => {
          const datagram = buildDatagram(frames);
          for (const [pos, xor] of flips) datagram[pos % datagram.length]! ^= xor;
          const input = cut === undefined ? datagram : datagram.subarray(0, cut % (datagram.length + 1));
          try {
            receive(input);
          } catch (e) {
            expect(e).toBeInstanceOf(QuicCodecError);
            expect((e as QuicCodecError).code).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
