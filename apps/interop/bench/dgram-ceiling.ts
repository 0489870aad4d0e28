/**
 * The ceiling node:dgram itself sets: a sender process pushes 1200-byte datagrams as fast as its send callbacks
 * allow, a receiver process counts what arrives. No QUIC at all; the same loopback and machine as the QUIC pairs.
 *   node --import tsx bench/dgram-ceiling.ts           -> prints one JSON object {"received_mbps", "received_dgrams_per_s", "sent_dgrams_per_s"}
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';

const COUNT = 200_000;
const SIZE = 1200;

if (process.argv[2] === 'receive') {
  const socket = dgram.createSocket('udp4');
  let n = 0;
  let first = 0;
  let last = 0;
  socket.on('message', () => {
    const now = performance.now();
    if (n === 0) first = now;
    last = now;
    n++;
  });
  socket.bind(0, '127.0.0.1', () => process.send?.({ port: socket.address().port }));
  process.on('message', () => {
    process.send?.({ n, ms: last - first });
    socket.close();
    process.disconnect();
  });
} else {
  const child = fork(fileURLToPath(import.meta.url), ['receive']);
  const next = (): Promise<Record<string, number>> => new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, number>)));
  const { port } = await next();
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port!, '127.0.0.1', resolve));
  const buf = Buffer.alloc(SIZE, 7);
  let sent = 0;
  let inflight = 0;
  const start = performance.now();
  await new Promise<void>((done) => {
    const pump = (): void => {
      while (sent < COUNT && inflight < 64) {
        inflight++;
        sent++;
        socket.send(buf, () => {
          inflight--;
          if (sent === COUNT && inflight === 0) done();
          else if (inflight < 32) pump();
        });
      }
    };
    pump();
  });
  const sendMs = performance.now() - start;
  await new Promise((r) => setTimeout(r, 300));
  child.send('report');
  const { n, ms } = await next();
  socket.close();
  const received = n! / (ms! / 1000);
  console.log(JSON.stringify({ received_mbps: Number(((received * SIZE) / 1e6).toFixed(1)), received_dgrams_per_s: Math.round(received), sent_dgrams_per_s: Math.round(COUNT / (sendMs / 1000)), delivered: n }));
}
