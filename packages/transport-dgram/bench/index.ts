/**
 * Bulk single-stream download over loopback: a pathquic server (in a child process, as a real peer would be)
 * sends MB megabytes (default 200) on one stream to a pathquic client in this process, 1200-byte datagrams.
 * Prints MB/s and transfer figures; the last line is one JSON object `{"pathquic_mbps": …}`.
 *   node --import tsx bench/index.ts [MB] [--same-process]
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { connect, listen, type QuicServer } from '../src/index.js';

const args = process.argv.slice(2);
const role = args.includes('--serve') ? 'server' : 'client';
const sameProcess = args.includes('--same-process');
const mb = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? process.env['BENCH_MB'] ?? 200);
const total = Math.round(mb * 1_000_000);
const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

const CHUNK = 256 * 1024;

/** What the server process reports once it has sent everything. */
interface ServerFigures {
  lost: number;
  sent: number;
  cwnd: number;
  cpuMs: number;
  srtt: number;
  elu: number;
  faults: number;
}

/** Serves every request stream with `total` bytes; the request is one byte. */
async function serve(): Promise<QuicServer> {
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    cert: readFileSync(fixtures + 'leaf-ecdsa.chain.pem', 'utf8'),
    key: readFileSync(fixtures + 'leaf-ecdsa.key', 'utf8'),
    alpn: ['bench'],
    ...(process.env['BIGBUF'] ? { transport: { streamSendBufferSize: Number(process.env['BIGBUF']) << 20 } } : {}),
  });
  const payload = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) payload[i] = (i * 31 + 7) & 0xff;
  void (async () => {
    for await (const conn of server) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          const reader = s.readable.getReader();
          await reader.read();
          const cpuStart = process.cpuUsage();
          const faultsStart = process.resourceUsage().minorPageFault;
          const eluStart = performance.eventLoopUtilization();
          reader.releaseLock();
          const w = s.writable.getWriter();
          for (let sent = 0; sent < total; sent += CHUNK) await w.write(sent + CHUNK <= total ? payload : payload.subarray(0, total - sent));
          await w.close().catch(() => {});
          const st = conn.stats();
          const cpu = process.cpuUsage(cpuStart);
          const elu = performance.eventLoopUtilization(eluStart).utilization;
          const faults = process.resourceUsage().minorPageFault - faultsStart;
          const figures: ServerFigures = { lost: st.packetsLost, sent: st.packetsSent, cwnd: st.cwnd, cpuMs: (cpu.user + cpu.system) / 1000, srtt: st.rtt, elu, faults };
          process.send?.(figures);
        }
      })().catch(() => {});
    }
  })();
  return server;
}

if (role === 'server') {
  const server = await serve();
  process.send?.({ port: server.address().port });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
} else {
  let port: number;
  let stop: () => Promise<void>;
  let serverInfo: Promise<ServerFigures | undefined>;
  if (sameProcess) {
    const server = await serve();
    port = server.address().port;
    stop = () => server.close();
    serverInfo = Promise.resolve(undefined);
  } else {
    const child = fork(fileURLToPath(import.meta.url), [String(mb), '--serve'], { execArgv: ['--import', 'tsx', ...(process.env['BENCH_CHILD_ARGS'] ?? '').split(' ').filter(Boolean)] });
    const messages: unknown[] = [];
    const waiters: ((m: unknown) => void)[] = [];
    child.on('message', (m) => {
      const w = waiters.shift();
      if (w !== undefined) w(m);
      else messages.push(m);
    });
    const next = (): Promise<unknown> => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((r) => waiters.push(r)));
    port = ((await next()) as { port: number }).port;
    serverInfo = next() as Promise<ServerFigures>;
    stop = async () => {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    };
  }
  const conn = await connect({ host: '127.0.0.1', port, alpn: ['bench'], servername: 'localhost', ca: readFileSync(fixtures + 'root-ca.crt', 'utf8'), ...(process.env['BIGWIN'] ? { transport: { initialMaxStreamData: 16 << 20, initialMaxData: 32 << 20 } } : {}) });
  const stream = await conn.createBidirectionalStream();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const faultsStart = process.resourceUsage().minorPageFault;
  const eluStart = performance.eventLoopUtilization();
  const w = stream.writable.getWriter();
  await w.write(new Uint8Array([1]));
  await w.close();
  let received = 0;
  for await (const chunk of stream.readable) received += chunk.length;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const clientCpuMs = (cpu.user + cpu.system) / 1000;
  const clientElu = performance.eventLoopUtilization(eluStart).utilization;
  const clientFaults = process.resourceUsage().minorPageFault - faultsStart;
  const stats = conn.stats();
  const srv = await serverInfo;
  conn.close({ closeCode: 0 });
  await conn.closed;
  await stop();
  if (received !== total) throw new Error(`received ${received} of ${total} bytes`);
  const mbps = total / 1e6 / seconds;
  console.log(`pathquic -> pathquic, one stream, ${mb} MB over loopback (${sameProcess ? 'one process' : 'two processes'}): ${seconds.toFixed(2)} s, ${mbps.toFixed(1)} MB/s`);
  console.log(
    `client: smoothed rtt ${stats.rtt.toFixed(2)} ms, ${stats.datagramsReceived} datagrams received, ${stats.datagramsSent} sent` +
      (srv === undefined ? '' : `; server: ${srv.sent} packets sent, ${srv.lost} lost, cwnd ${srv.cwnd} B, srtt ${srv.srtt.toFixed(2)} ms`),
  );
  console.log(
    `CPU busy during the transfer: client ${((100 * clientCpuMs) / (seconds * 1000)).toFixed(0)} % (event loop ${(100 * clientElu).toFixed(0)} %)` +
      (srv === undefined ? '' : `, server ${((100 * srv.cpuMs) / (seconds * 1000)).toFixed(0)} % (event loop ${(100 * srv.elu).toFixed(0)} %)`),
  );
  // Per datagram: CPU time, and page faults (fresh memory is expensive on a VM; they show allocation churn).
  const perDatagram = (x: number): string => ((1000 * x) / stats.datagramsReceived).toFixed(2);
  console.log(
    `per datagram: client ${perDatagram(clientCpuMs)} µs CPU, ${(clientFaults / stats.datagramsReceived).toFixed(3)} page faults` +
      (srv === undefined ? '' : `; server ${perDatagram(srv.cpuMs)} µs CPU, ${(srv.faults / stats.datagramsReceived).toFixed(3)} page faults`),
  );
  console.log(JSON.stringify({ pathquic_mbps: Number(mbps.toFixed(1)) }));
}
