/**
 * The floor under any QUIC stack on node:dgram here: what the datagram I/O and the packet protection alone cost,
 * with no connection state at all. A sender process builds 1200-byte short-header packets (a 1-RTT header and a
 * payload of zeros), seals them in batches of 16 with the same PacketProtection and AES-128-GCM engine the
 * connection uses, and sends them the way the driver does (at most 24 per event-loop turn); a receiver process
 * opens every datagram it gets, in the batches libuv hands over, and counts those that authenticate. No ACKs, no
 * frames, no streams, no congestion control: a real connection can only be slower than this.
 *
 *   node --import tsx bench/floor.ts [MB]      (default 200; apps/interop `pnpm bench` runs it after the QUIC pairs)
 * Prints figures per side (CPU µs per datagram) and, last, one JSON object
 * {"floor_mbps", "sender_us_per_datagram", "receiver_us_per_datagram", "dgram_only_mbps"}.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { PacketProtection, createNodeCryptoProvider, type PacketOpenJob, type PacketSealJob } from '@pathquic/wire-codec';

const SIZE = 1200;
const BATCH = 16;
/** At most this many sends per event-loop turn, as the driver paces (libuv reads at most 32 per turn). */
const PER_TURN = 24;
const DCID_LENGTH = 8;
const PN_OFFSET = 1 + DCID_LENGTH;
const PN_LENGTH = 4;

const args = process.argv.slice(2);
const role = args[0] === '--receive' ? 'receive' : 'send';
const mb = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 200);
const count = Math.round((mb * 1e6) / SIZE);
const plainOnly = args.includes('--plain');

function protection(): PacketProtection {
  // Fixed test keys: this measures cost, not secrecy.
  const keys = { key: new Uint8Array(16).fill(1), iv: new Uint8Array(12).fill(2), hp: new Uint8Array(16).fill(3) };
  return new PacketProtection(createNodeCryptoProvider(), 'aes-128-gcm', keys);
}

function cpuUs(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return c.user + c.system;
}

if (role === 'receive') {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const prot = protection();
  const jobs: PacketOpenJob[] = [];
  let pending = 0;
  let opened = 0;
  let received = 0;
  let largest = -1;
  let cpuStart: NodeJS.CpuUsage | undefined;
  let first = 0;
  let last = 0;
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (pending === 0) return;
    if (!plainOnly) {
      opened += prot.openBatch(jobs, pending);
      for (let i = 0; i < pending; i++) {
        const r = jobs[i]!.result;
        if (r !== null && r.packetNumber > largest) largest = r.packetNumber;
      }
    } else opened += pending;
    pending = 0;
  };
  socket.on('message', (msg: Buffer) => {
    if (cpuStart === undefined) {
      cpuStart = process.cpuUsage();
      first = performance.now();
    }
    last = performance.now();
    received++;
    let job = jobs[pending];
    if (job === undefined) {
      job = { packet: msg, pnOffset: PN_OFFSET, largestPn: -1, isLong: false, result: null };
      jobs.push(job);
    }
    job.packet = msg;
    job.largestPn = largest;
    pending++;
    // Opened together once libuv's burst is over, as the driver does.
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  });
  socket.bind(0, '127.0.0.1', () => process.send?.({ port: socket.address().port }));
  process.on('message', () => {
    flush();
    process.send?.({ received, opened, ms: last - first, cpuUs: cpuStart === undefined ? 0 : cpuUs(cpuStart) });
    socket.close();
    process.disconnect();
  });
} else {
  const run = async (plain: boolean): Promise<{ mbps: number; senderUs: number; receiverUs: number; opened: number; received: number }> => {
    const child = fork(fileURLToPath(import.meta.url), ['--receive', ...(plain ? ['--plain'] : [])], { execArgv: ['--import', 'tsx'] });
    const next = (): Promise<Record<string, number>> => new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, number>)));
    const { port } = await next();
    const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
    await new Promise<void>((resolve) => socket.connect(port!, '127.0.0.1', resolve));
    const prot = protection();
    const jobs: PacketSealJob[] = [];
    for (let i = 0; i < BATCH; i++) jobs.push({ packet: new Uint8Array(0), pnOffset: PN_OFFSET, pnLength: PN_LENGTH, packetNumber: 0, payloadEnd: SIZE - 16, length: 0 });
    let pn = 0;
    let queue: Uint8Array[] = [];
    const fill = (): void => {
      // Fresh buffers each batch: a sent datagram's buffer belongs to libuv until its callback, as in the driver.
      const slab = new Uint8Array(SIZE * BATCH);
      queue = [];
      for (let i = 0; i < BATCH; i++) {
        const packet = slab.subarray(i * SIZE, (i + 1) * SIZE);
        packet[0] = 0x40 | (PN_LENGTH - 1); // RFC 9000 §17.3.1: fixed bit, 4-byte packet number
        packet.fill(0xab, 1, PN_OFFSET);
        const v = pn + i;
        packet[PN_OFFSET] = v >>> 24;
        packet[PN_OFFSET + 1] = (v >>> 16) & 0xff;
        packet[PN_OFFSET + 2] = (v >>> 8) & 0xff;
        packet[PN_OFFSET + 3] = v & 0xff;
        const job = jobs[i]!;
        job.packet = packet;
        job.packetNumber = v;
        queue.push(packet);
      }
      pn += BATCH;
      if (!plain) prot.sealBatch(jobs, BATCH);
    };
    const cpuStart = process.cpuUsage();
    let sent = 0;
    await new Promise<void>((done) => {
      const pump = (): void => {
        for (let i = 0; i < PER_TURN && sent < count; i++) {
          if (queue.length === 0) fill();
          socket.send(queue.shift()!);
          sent++;
        }
        if (sent < count) setImmediate(pump);
        else done();
      };
      pump();
    });
    const senderUs = cpuUs(cpuStart) / count;
    await new Promise((r) => setTimeout(r, 300));
    child.send('report');
    const r = await next();
    socket.close();
    await new Promise((resolve) => child.once('exit', resolve));
    const mbps = (r.opened! * SIZE) / 1e6 / (r.ms! / 1000);
    return { mbps, senderUs, receiverUs: r.cpuUs! / Math.max(1, r.received!), opened: r.opened!, received: r.received! };
  };

  const plain = await run(true);
  const sealed = await run(false);
  // Every datagram that arrived must authenticate, or this measured something other than the connection's work.
  if (sealed.opened !== sealed.received) throw new Error(`${sealed.received - sealed.opened} of ${sealed.received} datagrams failed to open`);
  const f = (n: number): string => n.toFixed(2);
  console.log(`node:dgram only, ${count} datagrams of ${SIZE} B: ${plain.mbps.toFixed(1)} MB/s received; CPU per datagram: sender ${f(plain.senderUs)} µs, receiver ${f(plain.receiverUs)} µs`);
  console.log(`+ AES-128-GCM seal/open and header protection (batches of ${BATCH}): ${sealed.mbps.toFixed(1)} MB/s opened (${sealed.opened} of ${sealed.received} received, ${count} sent); CPU per datagram: sender ${f(sealed.senderUs)} µs, receiver ${f(sealed.receiverUs)} µs`);
  console.log(
    JSON.stringify({
      floor_mbps: Number(sealed.mbps.toFixed(1)),
      sender_us_per_datagram: Number(f(sealed.senderUs)),
      receiver_us_per_datagram: Number(f(sealed.receiverUs)),
      dgram_only_mbps: Number(plain.mbps.toFixed(1)),
    }),
  );
}
