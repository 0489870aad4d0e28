// `pathquic-demo --codec`: one packet of each kind, built, protected, unprotected and decoded with
// @pathquic/wire-codec, printed step by step.
import {
  PacketProtection,
  QUIC_V1,
  Writer,
  deriveInitialKeys,
  encodeFrame,
  encodedFrameLength,
  PacketFrameSummary,
  isAckEliciting,
  nobleCryptoProvider,
  nodeCryptoProvider,
  openLongHeaderPacket,
  packetNumberLength,
  parseFrames,
  parsePacketHeader,
  truncatePacketNumber,
  validatePacketFrames,
  writeLongHeader,
  writeShortHeader,
  type Frame,
} from '@pathquic/wire-codec';
import { describeFrame, hexDump, toHex } from './format.js';

// RFC 9001 App. A: the client's first Destination Connection ID and its ClientHello (a public test vector), so the
// first packet below can be checked byte for byte against the RFC's protected packet.
const RFC_DCID = Uint8Array.from(Buffer.from('8394c8f03e515708', 'hex'));
const RFC_CLIENT_HELLO = Uint8Array.from(
  Buffer.from(
    '010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff',
    'hex',
  ),
);
// The first and last 16 bytes of the RFC's 1200-byte protected client Initial (App. A.2).
const RFC_PROTECTED_HEAD = 'c000000001088394c8f03e5157080000';
const RFC_PROTECTED_TAIL = 'e221af44860018ab0856972e194cd934';

const AEAD_TAG = 16;

function section(title: string): void {
  console.log(`\n\x1b[1m${title}\x1b[0m`);
}

function clientInitial(): boolean {
  section('1. A client Initial packet (QUIC v1, the inputs of RFC 9001 App. A.2)');
  const keys = deriveInitialKeys(RFC_DCID, QUIC_V1);
  console.log(`   DCID ${toHex(RFC_DCID)} -> client Initial key ${toHex(keys.client.key)}, iv ${toHex(keys.client.iv)}, hp ${toHex(keys.client.hp)}`);

  // Client datagrams carrying Initial packets are padded to 1200 bytes (RFC 9000 §14.1).
  const datagram = new Uint8Array(1200);
  const w = new Writer(datagram);
  const pn = 2;
  const pnLength = 4;
  const headerLength = 18 + pnLength; // 1 + version 4 + DCID 1+8 + SCID 1 + token length 1 + Length 2
  const payloadLength = datagram.length - headerLength - AEAD_TAG;
  const { pnOffset } = writeLongHeader(w, {
    type: 'initial',
    version: QUIC_V1,
    dcid: RFC_DCID,
    scid: new Uint8Array(0),
    packetNumber: pn,
    pnLength,
    length: pnLength + payloadLength + AEAD_TAG,
  });
  const crypto: Frame = { type: 'crypto', offset: 0, data: RFC_CLIENT_HELLO };
  encodeFrame(crypto, w);
  const padding = payloadLength - encodedFrameLength(crypto);
  w.fill(padding); // PADDING frames are zero bytes (RFC 9000 §19.1)
  console.log(`   frames: ${describeFrame(crypto)}, padding x${padding}`);

  const sealed = new PacketProtection(nodeCryptoProvider, 'aes-128-gcm', keys.client).seal(datagram, pnOffset, pnLength, pn, w.offset);
  console.log(`   protected datagram: ${sealed} bytes`);
  console.log(hexDump(datagram.subarray(0, 64), '   '));
  const matches = toHex(datagram.subarray(0, 16)) === RFC_PROTECTED_HEAD && toHex(datagram.subarray(1184)) === RFC_PROTECTED_TAIL;
  console.log(`   identical to the RFC 9001 App. A.2 protected packet: ${matches ? 'yes' : 'NO'}`);

  // The server derives the same keys from the DCID it received and opens the packet.
  const opened = openLongHeaderPacket(datagram, deriveInitialKeys(parsePacketHeader(datagram, 0, { shortDcidLength: 0 }).dcid, QUIC_V1).client);
  const frames = parseFrames(opened.payload);
  validatePacketFrames(frames, 'initial');
  console.log(`   server opened it: ${opened.header.type} v${opened.header.version} pn ${opened.packetNumber}, ${opened.length} bytes`);
  for (const f of frames) console.log(`     ${describeFrame(f)}`);
  return matches;
}

function oneRttPacket(): boolean {
  section('2. A 1-RTT packet (ChaCha20-Poly1305): sealed with @noble, opened with node:crypto');
  const keys = {
    key: nobleCryptoProvider.randomFill(new Uint8Array(32)),
    iv: nobleCryptoProvider.randomFill(new Uint8Array(12)),
    hp: nobleCryptoProvider.randomFill(new Uint8Array(32)),
  };
  const dcid = Uint8Array.from(Buffer.from('c0ffee00d15ea5e1', 'hex'));
  const frames: Frame[] = [
    { type: 'ack', largestAcknowledged: 1041, ackDelay: 250, ranges: [{ largest: 1041, smallest: 1030 }, { largest: 1027, smallest: 1000 }] },
    { type: 'stream', streamId: 4, offset: 0, fin: true, data: new TextEncoder().encode('hello from pathquic, priority 0xFFFF') },
    { type: 'datagram', data: new TextEncoder().encode('an unreliable datagram (RFC 9221)') },
    { type: 'path_challenge', data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) },
  ];
  const fullPn = 70_000;
  const largestAcked = 69_990;
  const pnLength = packetNumberLength(fullPn, largestAcked);
  const packet = new Uint8Array(1200);
  const w = new Writer(packet);
  const pnOffset = writeShortHeader(w, { dcid, packetNumber: truncatePacketNumber(fullPn, pnLength), pnLength, keyPhase: false, spin: true });
  for (const f of frames) encodeFrame(f, w);
  const sealedLength = new PacketProtection(nobleCryptoProvider, 'chacha20-poly1305', keys).seal(packet, pnOffset, pnLength, fullPn, w.offset);
  const wire = packet.subarray(0, sealedLength);
  console.log(`   packet ${fullPn} (${pnLength}-byte packet number), ${frames.length} frames, ${wire.length} bytes on the wire:`);
  console.log(hexDump(wire.subarray(0, 48), '   '));

  const header = parsePacketHeader(wire, 0, { shortDcidLength: dcid.length });
  if (header.form !== 'short') throw new Error('expected a short header');
  const opened = new PacketProtection(nodeCryptoProvider, 'chacha20-poly1305', keys).open(wire, header.pnOffset, fullPn - 1, false);
  if (opened === null) throw new Error('authentication failed');
  const decoded = parseFrames(opened.payload);
  const summary = validatePacketFrames(decoded, '1rtt');
  const yesNo = (bit: number) => ((summary & bit) !== 0 ? 'yes' : 'no');
  console.log(`   opened: DCID ${toHex(header.dcid)}, pn ${opened.packetNumber}, key phase ${opened.keyPhase ? 1 : 0}, spin ${header.spin ? 1 : 0}`);
  console.log(
    `   ack-eliciting: ${yesNo(PacketFrameSummary.ACK_ELICITING)}, counts in flight: ${yesNo(PacketFrameSummary.IN_FLIGHT)}, ` +
      `non-probing (may move the connection to a new path, RFC 9000 §9.1): ${yesNo(PacketFrameSummary.NON_PROBING)}`,
  );
  for (const f of decoded) console.log(`     ${describeFrame(f)}${isAckEliciting(f) ? '' : '  (not ack-eliciting)'}`);

  // Flip one bit: authentication must fail, as an ordinary result rather than an exception.
  const tampered = new Uint8Array(1200);
  const w2 = new Writer(tampered);
  const off2 = writeShortHeader(w2, { dcid, packetNumber: truncatePacketNumber(fullPn, pnLength), pnLength, keyPhase: false });
  for (const f of frames) encodeFrame(f, w2);
  const len2 = new PacketProtection(nobleCryptoProvider, 'chacha20-poly1305', keys).seal(tampered, off2, pnLength, fullPn, w2.offset);
  tampered[len2 - 20]! ^= 0x01;
  const rejected = new PacketProtection(nodeCryptoProvider, 'chacha20-poly1305', keys).open(tampered.subarray(0, len2), off2, fullPn - 1, false);
  console.log(`   the same packet with one bit flipped: ${rejected === null ? 'rejected (authentication failed)' : 'ACCEPTED?!'}`);
  return rejected === null;
}

/** Prints the walk-through; returns false if a check failed. */
export function runCodecDemo(): boolean {
  console.log('pathquic demo: QUIC packets through @pathquic/wire-codec');
  const initialOk = clientInitial();
  const oneRttOk = oneRttPacket();
  console.log('');
  return initialOk && oneRttOk;
}
