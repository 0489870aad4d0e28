/**
 * `pnpm bench` (apps/interop): bulk single-stream HTTP/3 download over loopback with 1200-byte datagrams, measured
 * in the same run for pathquic->pathquic, gtlsserver->gtlsclient (ngtcp2) and the two mixed pairs.
 *
 * Each pair downloads a tiny file and then the big one, each in a fresh client process; the rate is
 * size / (wall time of the big run - wall time of the tiny run), so process start-up and the handshake cancel out
 * the same way for Node and for ngtcp2. Every download is checked byte for byte (sha256).
 *
 * Files are served from and saved to tmpfs (/dev/shm) when it exists.
 *
 * Flags: --size MB (default 200), --runs N (best of N per pair, default 1), --profile DIR (CPU profiles of the
 * pathquic processes of the pathquic->pathquic pair, with a summary of where the time goes), --keep (keep the
 * temporary directory). After the pairs it measures node:dgram alone (dgram-ceiling.ts) and node:dgram with packet
 * protection but no QUIC state (floor.ts). The last output line is one JSON object: {"pathquic_mbps", "ngtcp2_mbps",
 * "ratio", "dgram_ceiling_mbps", "io_crypto_floor_mbps"}.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  hasNgtcp2,
  makeFile,
  makeTestPki,
  runGtlsClient,
  sha256File,
  startGtlsServer,
  type GtlsServer,
  type MadeFile,
  type TestPki,
} from '@pathquic/ngtcp2-harness';
import buildCliIfStale from '../test/global-setup.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** ngtcp2 would otherwise discover a larger path MTU on loopback; the comparison is at 1200-byte datagrams. */
const NGTCP2_DATAGRAMS = ['--max-udp-payload-size=1200', '--no-pmtud'];

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '200' },
    runs: { type: 'string', default: '1' },
    profile: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const SIZE = Math.round(Number(values.size) * 1e6);
const RUNS = Math.max(1, Number(values.runs));

type Side = 'pathquic' | 'ngtcp2';
interface Pair {
  readonly name: string;
  readonly server: Side;
  readonly client: Side;
}

interface Measured {
  readonly pair: Pair;
  readonly mbps: number | undefined;
  readonly detail: string;
}

interface Server {
  readonly port: number;
  stop(): Promise<void>;
}

function spawnNode(args: string[], nodeFlags: string[] = []): { done: Promise<{ code: number | null; out: string }>; kill(sig: NodeJS.Signals): void; onOutput(f: (s: string) => void): void } {
  const child = spawn(process.execPath, [...nodeFlags, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: ((s: string) => void)[] = [];
  const onData = (c: string): void => {
    out += c;
    for (const l of listeners) l(out);
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { done, kill: (sig) => child.kill(sig), onOutput: (f) => listeners.push(f) };
}

async function pathquicServer(pki: TestPki, www: string, nodeFlags: string[]): Promise<Server> {
  const proc = spawnNode(['server', '--host', '127.0.0.1', '--port', '0', '--cert', pki.chain, '--key', pki.key, '--root', www, '--quiet'], nodeFlags);
  const port = await new Promise<number>((resolve, reject) => {
    proc.onOutput((out) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    void proc.done.then(({ out }) => reject(new Error(`pathquic server exited:\n${out}`)));
  });
  return {
    port,
    stop: async () => {
      proc.kill('SIGTERM');
      await proc.done;
    },
  };
}

async function ngtcp2Server(pki: TestPki, www: string): Promise<Server> {
  const s: GtlsServer = await startGtlsServer({ htdocs: www, cert: pki.cert, key: pki.key, port: 0, extraArgs: NGTCP2_DATAGRAMS, idleTimeout: '30s' });
  return { port: s.port, stop: () => s.stop() };
}

/** One download in a fresh client process; resolves with its wall time (ms), after checking the file. */
async function download(client: Side, port: number, file: MadeFile, pki: TestPki, dir: string, nodeFlags: string[]): Promise<number> {
  const name = basename(file.path);
  const out = join(dir, `dl-${client}-${Math.random().toString(36).slice(2)}`);
  await mkdir(out, { recursive: true });
  const started = performance.now();
  if (client === 'pathquic') {
    const proc = spawnNode(['client', '--ca', pki.caCert, '--output', out, '--timeout', '600', '--quiet', `https://localhost:${port}/${name}`], nodeFlags);
    const { code, out: text } = await proc.done;
    if (code !== 0) throw new Error(`pathquic client failed (exit ${code}):\n${text}`);
  } else {
    const r = await runGtlsClient({ port, paths: [`/${name}`], downloadDir: out, quiet: true, timeoutMs: 600_000, idleTimeout: '30s', extraArgs: NGTCP2_DATAGRAMS });
    if (!r.ok) throw new Error(`gtlsclient failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${r.stderr}\n${r.log.errors.join('\n')}`);
  }
  const ms = performance.now() - started;
  const got = await sha256File(join(out, name));
  await rm(out, { recursive: true, force: true });
  if (got !== file.sha256) throw new Error(`${name}: sha256 mismatch`);
  return ms;
}

/** Self time per function in a V8 .cpuprofile, largest first. */
async function profileSummary(path: string, top = 15): Promise<string[]> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as {
    nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const perSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${basename(url)}:${lineNumber + 1}`}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
    total += hits;
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${(hits * perSample).toFixed(0).padStart(6)} ms  ${k}`);
}

async function measure(pair: Pair, ctx: { pki: TestPki; www: string; dir: string; big: MadeFile; tiny: MadeFile; profileDir: string | undefined }): Promise<Measured> {
  const profiling = ctx.profileDir !== undefined && pair.server === 'pathquic' && pair.client === 'pathquic';
  const flags = (role: string): string[] => (profiling ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.profileDir ?? '', role)] : []);
  let best: number | undefined;
  const rates: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const server = pair.server === 'pathquic' ? await pathquicServer(ctx.pki, ctx.www, flags('server')) : await ngtcp2Server(ctx.pki, ctx.www);
    try {
      const base = await download(pair.client, server.port, ctx.tiny, ctx.pki, ctx.dir, []);
      const total = await download(pair.client, server.port, ctx.big, ctx.pki, ctx.dir, flags('client'));
      const mbps = ctx.big.size / 1e6 / (Math.max(1, total - base) / 1000);
      rates.push(`${mbps.toFixed(1)} MB/s (${(total / 1000).toFixed(2)} s - ${(base / 1000).toFixed(2)} s setup)`);
      if (best === undefined || mbps > best) best = mbps;
    } finally {
      await server.stop();
    }
  }
  return { pair, mbps: best, detail: rates.join('; ') };
}

/** Runs another bench script of this folder and returns the figures of its last output line (one JSON object). */
function benchFigures<T>(script: string, args: string[] = []): T {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

async function main(): Promise<void> {
  buildCliIfStale();
  // Files live in RAM (tmpfs) when possible: writing 200 MB to disk costs the faster stack more than the slower.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pathquic-bench-'));
  try {
    const pki = await makeTestPki(join(dir, 'pki'));
    const www = join(dir, 'www');
    const [big, tiny] = await Promise.all([makeFile(www, 'bulk.bin', SIZE, 'bench'), makeFile(www, 'tiny.bin', 1, 'tiny')]);
    const ngtcp2 = hasNgtcp2();
    const pairs: Pair[] = [
      { name: 'pathquic -> pathquic', server: 'pathquic', client: 'pathquic' },
      { name: 'gtlsserver -> gtlsclient', server: 'ngtcp2', client: 'ngtcp2' },
      { name: 'pathquic -> gtlsclient', server: 'pathquic', client: 'ngtcp2' },
      { name: 'gtlsserver -> pathquic', server: 'ngtcp2', client: 'pathquic' },
    ];
    console.log(`bulk download of ${(SIZE / 1e6).toFixed(0)} MB over loopback, one stream, 1200-byte datagrams (server -> client), best of ${RUNS}`);
    if (!ngtcp2) console.log('gtlsserver/gtlsclient not installed: ngtcp2 pairs skipped');
    const results: Measured[] = [];
    for (const pair of pairs) {
      if (!ngtcp2 && (pair.server === 'ngtcp2' || pair.client === 'ngtcp2')) continue;
      try {
        const m = await measure(pair, { pki, www, dir, big, tiny, profileDir: values.profile });
        results.push(m);
        console.log(`${pair.name.padEnd(26)} ${m.mbps?.toFixed(1).padStart(7)} MB/s   ${m.detail}`);
      } catch (e) {
        results.push({ pair, mbps: undefined, detail: (e as Error).message });
        console.log(`${pair.name.padEnd(26)}  FAILED  ${(e as Error).message.split('\n').slice(0, 6).join(' | ')}`);
      }
    }
    if (values.profile !== undefined) {
      for (const role of ['server', 'client']) {
        const pdir = join(values.profile, role);
        const files = (await readdir(pdir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile')).sort();
        const last = files.at(-1);
        if (last === undefined) continue;
        console.log(`\nCPU profile of the pathquic ${role} (self time, top functions): ${join(pdir, last)}`);
        for (const l of await profileSummary(join(pdir, last))) console.log(`  ${l}`);
      }
    }
    const find = (s: Side, c: Side): number | undefined => results.find((r) => r.pair.server === s && r.pair.client === c)?.mbps;
    const pq = find('pathquic', 'pathquic');
    const ng = find('ngtcp2', 'ngtcp2');
    const round = (x: number | undefined, digits: number): number | null => (x === undefined ? null : Number(x.toFixed(digits)));
    if (pq !== undefined && ng !== undefined) console.log(`ratio pathquic/ngtcp2: ${(pq / ng).toFixed(3)}`);
    // The socket layer's own ceiling in the same run: what node:dgram carries between two processes with no QUIC.
    const ceiling = benchFigures<{ received_mbps: number; received_dgrams_per_s: number }>('dgram-ceiling.ts');
    console.log(`node:dgram alone (1200-byte datagrams, two processes, no QUIC): ${ceiling.received_mbps} MB/s received (${ceiling.received_dgrams_per_s} datagrams/s)` + (pq !== undefined ? `; pathquic reaches ${((100 * pq) / ceiling.received_mbps).toFixed(0)} % of it` : ''));
    // The floor under any QUIC stack here: node:dgram plus the packet protection pathquic uses, no connection state.
    const floor = benchFigures<{ floor_mbps: number; sender_us_per_datagram: number; receiver_us_per_datagram: number }>('floor.ts', [String(Math.min(100, SIZE / 1e6))]);
    console.log(
      `node:dgram + AES-128-GCM packet protection, no QUIC state (bench/floor.ts): ${floor.floor_mbps} MB/s; CPU per datagram: sender ${floor.sender_us_per_datagram} µs, receiver ${floor.receiver_us_per_datagram} µs` +
        (pq !== undefined ? `; pathquic reaches ${((100 * pq) / floor.floor_mbps).toFixed(0)} % of it` : ''),
    );
    console.log(
      JSON.stringify({
        pathquic_mbps: round(pq, 1),
        ngtcp2_mbps: round(ng, 1),
        ratio: pq !== undefined && ng !== undefined ? round(pq / ng, 3) : null,
        dgram_ceiling_mbps: ceiling.received_mbps,
        io_crypto_floor_mbps: floor.floor_mbps,
      }),
    );
    if (results.some((r) => r.mbps === undefined)) process.exitCode = 1;
  } finally {
    if (values.keep) console.error(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

await main();
