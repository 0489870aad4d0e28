// `pnpm bench` for @pathquic/wire-codec: the hot paths the issue names, measured in one run.
//
// - seal+encode: write a 1-RTT short header and one STREAM frame filling a 1200-byte datagram, then AEAD-seal and
//   header-protect it in place;
// - decode+open: parse the header, remove protection, decrypt in place and decode the frame (each op first copies the
//   sealed packet into the work buffer, ~0.05 µs, since opening is in place);
// - encode/decode of an ACK frame with 32 ranges.
// Each with the node:crypto provider, the @noble provider, and — as the peer measured in the same run — the plain
// node:crypto AEAD that makes a new cipher object per packet. Last line: one JSON object of the figures.
import {
  PacketProtection,
  Reader,
  Writer,
  createNodeCipherivAead,
  createNodeCryptoProvider,
  decodeFrame,
  encodeFrame,
  nobleCryptoProvider,
  nodeCryptoProvider,
  parseFrames,
  parsePacketHeader,
  streamFrameOverhead,
  writeShortHeader,
  type AeadAlgorithm,
  type CryptoProvider,
  type Frame,
  type PacketKeys,
  type PacketOpenJob,
  type PacketSealJob,
} from '../src/index.js';
import { measureInterleaved, printTable, type BenchCase, type Measurement } from '@pathquic/bench-harness';

const DATAGRAM = 1200;
const TAG = 16;
const DCID = Uint8Array.from([0xc0, 0xff, 0xee, 0x00, 0xd1, 0x5e, 0xa5, 0xe1]);
const PN_LENGTH = 2;
const HEADER = 1 + DCID.length + PN_LENGTH;
const OFFSET_WRAP = 1 << 29;

function randomKeys(algorithm: AeadAlgorithm): PacketKeys {
  const keyLen = algorithm === 'aes-128-gcm' ? 16 : 32;
  return {
    key: nodeCryptoProvider.randomFill(new Uint8Array(keyLen)),
    iv: nodeCryptoProvider.randomFill(new Uint8Array(12)),
    hp: nodeCryptoProvider.randomFill(new Uint8Array(keyLen)),
  };
}

/** The plain node:crypto provider: one createCipheriv per packet, the baseline every QUIC-on-Node attempt used. */
const nodeCipherivProvider: CryptoProvider = {
  ...nodeCryptoProvider,
  name: 'node:crypto createCipheriv per packet',
  createAead: (algorithm, key) => createNodeCipherivAead(algorithm, key),
};

/**
 * A bulk sender's packets: each call writes the next 1-RTT packet (short header, one STREAM frame filling the
 * datagram) into `job.packet` and sets the job's layout for sealing.
 */
function streamPacketWriter(provider: CryptoProvider): { writeNext(job: PacketSealJob): void; dataLength: number } {
  const streamId = 4;
  const dataLength = DATAGRAM - HEADER - TAG - streamFrameOverhead(streamId, 1 << 20, 1000, false);
  const appData = provider.randomFill(new Uint8Array(1 << 16));
  let pn = 1000;
  let offset = 1 << 20;
  return {
    dataLength,
    writeNext(job) {
      const w = new Writer(job.packet);
      job.pnOffset = writeShortHeader(w, { dcid: DCID, packetNumber: pn & 0xffff, pnLength: PN_LENGTH, keyPhase: false });
      const start = offset & 0x7fff;
      const frame: Frame = { type: 'stream', streamId, offset, fin: false, data: appData.subarray(start, start + dataLength), explicitLength: false };
      encodeFrame(frame, w);
      job.packetNumber = pn++;
      job.payloadEnd = w.offset;
      offset += dataLength;
      if (offset >= OFFSET_WRAP) offset = 1 << 20; // keep the offset varint 4 bytes long, as sized above
    },
  };
}

function newSealJob(): PacketSealJob {
  return { packet: new Uint8Array(DATAGRAM), pnOffset: 0, pnLength: PN_LENGTH, packetNumber: 0, payloadEnd: 0, length: 0 };
}

/** The seal and open workloads of one provider/engine configuration, ready to be measured. */
interface PacketBench {
  seal: BenchCase;
  open: BenchCase;
}

function packetBench(label: string, provider: CryptoProvider, algorithm: AeadAlgorithm): PacketBench {
  const keys = randomKeys(algorithm);
  const tx = new PacketProtection(provider, algorithm, keys);
  const rx = new PacketProtection(provider, algorithm, keys);
  const source = streamPacketWriter(provider);
  const dataLength = source.dataLength;
  const job = newSealJob();
  const sealOne = (): number => {
    source.writeNext(job);
    return tx.seal(job.packet, job.pnOffset, PN_LENGTH, job.packetNumber, job.payloadEnd);
  };
  const seal: BenchCase = {
    name: `${label} seal+encode`,
    fn: () => {
      if (sealOne() !== DATAGRAM) throw new Error('packet is not 1200 bytes');
    },
  };

  // A window of sealed packets to open, with consecutive packet numbers.
  const count = 256;
  const sealed: Uint8Array[] = [];
  let firstPn = 0;
  for (let i = 0; i < count; i++) {
    sealOne();
    if (i === 0) firstPn = job.packetNumber;
    sealed.push(job.packet.slice());
  }
  const work = new Uint8Array(DATAGRAM);
  let i = 0;
  const open: BenchCase = {
    name: `${label} decode+open`,
    fn: () => {
      const k = i++ % count;
      work.set(sealed[k]!);
      const header = parsePacketHeader(work, 0, { shortDcidLength: DCID.length });
      if (header.form !== 'short') throw new Error('not a short header');
      const opened = rx.open(work, header.pnOffset, firstPn + k - 1, false);
      if (opened === null) throw new Error('authentication failed');
      const frame = decodeFrame(new Reader(opened.payload));
      if (frame.type !== 'stream' || frame.data.length !== dataLength) throw new Error('bad frame');
    },
  };
  return { seal, open };
}

/** The same packets, sealed and opened `batch` at a time through sealBatch/openBatch; figures are per packet. */
function batchBench(label: string, provider: CryptoProvider, algorithm: AeadAlgorithm, batch: number): PacketBench {
  const keys = randomKeys(algorithm);
  const tx = new PacketProtection(provider, algorithm, keys);
  const rx = new PacketProtection(provider, algorithm, keys);
  const source = streamPacketWriter(provider);
  const dataLength = source.dataLength;
  const jobs = Array.from({ length: batch }, newSealJob);
  const sealBatchOnce = (): void => {
    for (const job of jobs) source.writeNext(job);
    tx.sealBatch(jobs);
  };
  const seal: BenchCase = { name: `${label} seal+encode, batches of ${batch}`, fn: sealBatchOnce, opsPerCall: batch, batch: 20 };

  const rounds = 8;
  const sealed: Uint8Array[][] = [];
  let firstPn = 0;
  for (let r = 0; r < rounds; r++) {
    sealBatchOnce();
    if (r === 0) firstPn = jobs[0]!.packetNumber;
    sealed.push(jobs.map((j) => j.packet.slice()));
  }
  const work = jobs.map(() => new Uint8Array(DATAGRAM));
  const openJobs: PacketOpenJob[] = work.map((packet) => ({ packet, pnOffset: 0, largestPn: 0, isLong: false, result: null }));
  let r = 0;
  const open: BenchCase = {
    name: `${label} decode+open, batches of ${batch}`,
    fn: () => {
      const round = r++ % rounds;
      for (let i = 0; i < batch; i++) {
        const job = openJobs[i]!;
        job.packet.set(sealed[round]![i]!);
        const header = parsePacketHeader(job.packet, 0, { shortDcidLength: DCID.length });
        if (header.form !== 'short') throw new Error('not a short header');
        job.pnOffset = header.pnOffset;
        job.largestPn = firstPn + round * batch + i - 1;
      }
      if (rx.openBatch(openJobs) !== batch) throw new Error('authentication failed');
      for (const job of openJobs) {
        const frame = decodeFrame(new Reader(job.result!.payload));
        if (frame.type !== 'stream' || frame.data.length !== dataLength) throw new Error('bad frame');
      }
    },
    opsPerCall: batch,
    batch: 20,
  };
  return { seal, open };
}

function ackBench(): Measurement[] {
  const ranges = [];
  let largest = 1_000_000;
  for (let r = 0; r < 32; r++) {
    ranges.push({ largest, smallest: largest - 20 });
    largest -= 25;
  }
  const frame: Frame = { type: 'ack', largestAcknowledged: ranges[0]!.largest, ackDelay: 1234, ranges, ecn: { ect0: 100_000, ect1: 0, ce: 3 } };
  const buf = new Uint8Array(512);
  const w = new Writer(buf);
  encodeFrame(frame, w);
  const encoded = buf.slice(0, w.offset);
  return measureInterleaved([
    {
      name: 'ACK frame, 32 ranges + ECN: encode',
      fn: () => {
        w.offset = 0;
        encodeFrame(frame, w);
      },
    },
    {
      name: 'ACK frame, 32 ranges + ECN: decode',
      fn: () => {
        const f = parseFrames(encoded)[0]!;
        if (f.type !== 'ack' || f.ranges.length !== 32) throw new Error('bad ack');
      },
    },
  ]);
}

const wasmTable = createNodeCryptoProvider({ aesGcm: 'wasm-table' });
const configs = {
  // The default node provider: constant-time AES-GCM with the 'wasm-ct' engine.
  node: packetBench('node (wasm-ct)     aes-128-gcm', nodeCryptoProvider, 'aes-128-gcm'),
  naive: packetBench('createCipheriv     aes-128-gcm', nodeCipherivProvider, 'aes-128-gcm'),
  noble: packetBench('@noble             aes-128-gcm', nobleCryptoProvider, 'aes-128-gcm'),
  nodeBatch: batchBench('node (wasm-ct)     aes-128-gcm', nodeCryptoProvider, 'aes-128-gcm', 32),
  table: packetBench('node+wasm-table    aes-128-gcm', wasmTable, 'aes-128-gcm'),
  tableBatch: batchBench('node+wasm-table    aes-128-gcm', wasmTable, 'aes-128-gcm', 32),
  nodeChacha: packetBench('node               chacha20   ', nodeCryptoProvider, 'chacha20-poly1305'),
  nobleChacha: packetBench('@noble             chacha20   ', nobleCryptoProvider, 'chacha20-poly1305'),
};
type Config = keyof typeof configs;
const names = Object.keys(configs) as Config[];
// Seal variants interleaved with one another, then open variants, so each ratio below compares like with like.
const sealRows = measureInterleaved(names.map((k) => configs[k].seal));
const openRows = measureInterleaved(names.map((k) => configs[k].open));
const results = Object.fromEntries(names.map((k, i) => [k, { seal: sealRows[i]!, open: openRows[i]! }])) as Record<
  Config,
  { seal: Measurement; open: Measurement }
>;
const { node, naive, noble, nodeBatch, table, tableBatch } = results;
const rows: Measurement[] = [...names.flatMap((k) => [results[k].seal, results[k].open]), ...ackBench()];

console.log(`@pathquic/wire-codec bench — node ${process.version}, 1200-byte 1-RTT packets carrying one STREAM frame`);
printTable(rows);
const ratio = (a: Measurement, b: Measurement) => (a.opsPerSec / b.opsPerSec).toFixed(2);
console.log(`node provider (wasm-ct) vs createCipheriv per packet: seal ${ratio(node.seal, naive.seal)}x, open ${ratio(node.open, naive.open)}x; in batches of 32: seal ${ratio(nodeBatch.seal, naive.seal)}x, open ${ratio(nodeBatch.open, naive.open)}x`);
console.log(`wasm-table (not constant-time) vs createCipheriv: per packet seal ${ratio(table.seal, naive.seal)}x, open ${ratio(table.open, naive.open)}x; batches of 32 seal ${ratio(tableBatch.seal, naive.seal)}x, open ${ratio(tableBatch.open, naive.open)}x`);
console.log(`node provider vs @noble: seal ${ratio(node.seal, noble.seal)}x, open ${ratio(node.open, noble.open)}x`);
const pps = (m: Measurement) => Math.round(m.opsPerSec);
console.log(
  JSON.stringify({
    seal_pps_node: pps(node.seal),
    open_pps_node: pps(node.open),
    seal_pps_noble: pps(noble.seal),
    open_pps_noble: pps(noble.open),
    seal_pps_node_batch32: pps(nodeBatch.seal),
    open_pps_node_batch32: pps(nodeBatch.open),
    seal_pps_createcipheriv: pps(naive.seal),
    open_pps_createcipheriv: pps(naive.open),
    seal_pps_wasm_table: pps(table.seal),
    open_pps_wasm_table: pps(table.open),
    seal_pps_wasm_table_batch32: pps(tableBatch.seal),
    open_pps_wasm_table_batch32: pps(tableBatch.open),
  }),
);
