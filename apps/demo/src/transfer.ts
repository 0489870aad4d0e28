/**
 * The quick-start demo: a pathquic HTTP/3 server (child process) and client (this process) on loopback, one file
 * transferred with a live progress bar, then the transfer's figures and an end-to-end sha256 check.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fetchH3 } from '@pathquic/h3';
import { connect, type QuicPathChange } from '@pathquic/transport-dgram';
import { DEMO_CA_PEM } from './demo-cert.js';
import { ProgressPrinter, formatBytes, rate } from './progress.js';
import { DEMO_PATH, type ChildMessage, type ParentMessage, type SenderStats } from './server-child.js';

export interface TransferOptions {
  /** Bytes to transfer. */
  readonly size: number;
  /** The script to fork with `--serve-child` (this program). */
  readonly script: string;
  /** Seconds into the transfer at which the client moves to a new local port (RFC 9000 §9.2). */
  readonly migrateAfter?: number;
  readonly out?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
}

/** H3_NO_ERROR (RFC 9114 §8.1). */
const H3_NO_ERROR = 0x100;

class ServerChild {
  private nextId = 0;
  private readonly pending = new Map<number, (s: SenderStats | undefined) => void>();
  readonly ready: Promise<Extract<ChildMessage, { type: 'listening' }>>;

  constructor(readonly child: ChildProcess) {
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'listening') resolve(m);
        else if (m.type === 'error') reject(new Error(`server: ${m.message}`));
        else if (m.type === 'stats') {
          this.pending.get(m.id)?.(m.stats);
          this.pending.delete(m.id);
        }
      });
      child.once('exit', (code, signal) => {
        reject(new Error(`the server process exited (${signal ?? code}) before it was ready`));
        for (const r of this.pending.values()) r(undefined);
        this.pending.clear();
      });
    });
  }

  stats(): Promise<SenderStats | undefined> {
    if (!this.child.connected) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ type: 'stats', id } satisfies ParentMessage);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve();
        return;
      }
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (this.child.connected) this.child.send({ type: 'exit' } satisfies ParentMessage);
      else this.child.kill('SIGTERM');
    });
  }
}

/** Runs the demo; resolves true when the file arrived intact. */
export async function runTransferDemo(opts: TransferOptions): Promise<boolean> {
  const out = opts.out ?? process.stdout;
  const line = (s = ''): void => void out.write(`${s}\n`);
  line(`pathquic demo: ${formatBytes(opts.size)} over HTTP/3 on QUIC, server and client on loopback`);

  const server = new ServerChild(
    fork(opts.script, ['--serve-child', String(opts.size)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    const { port, sha256: expected } = await server.ready;
    line(`  server: pid ${server.child.pid}, listening on 127.0.0.1:${port} (ALPN h3, certificate for localhost)`);

    const connectStart = performance.now();
    const conn = await connect({ host: '127.0.0.1', port, alpn: ['h3'], servername: 'localhost', ca: DEMO_CA_PEM });
    const handshakeMs = performance.now() - connectStart;
    line(`  client: connected in ${handshakeMs.toFixed(1)} ms (TLS 1.3, ALPN ${conn.alpn ?? '?'}); GET https://localhost:${port}${DEMO_PATH}`);

    const progress = new ProgressPrinter(out);
    const started = performance.now();
    const response = await fetchH3(conn, `https://localhost:${port}${DEMO_PATH}`);
    if (response.status !== 200) throw new Error(`the server answered ${response.status}`);
    const total = response.contentLength ?? opts.size;
    const hash = createHash('sha256');
    let received = 0;
    let sender: SenderStats | undefined;
    let asking = false;
    const draw = (force = false): void => {
      progress.update(
        {
          received,
          total,
          elapsedMs: performance.now() - started,
          rttMs: sender?.smoothedRtt,
          cwnd: sender?.congestionWindow,
          lost: sender?.packetsLost,
        },
        force,
      );
    };
    // --migrate-after: the client moves to a new socket mid-transfer; the bar keeps going and the move is reported.
    let migrateTimer: NodeJS.Timeout | undefined;
    const note = (text: string): void => {
      progress.finish();
      line(text);
    };
    conn.on('migrated', (c: QuicPathChange) => {
      const v = c.to.validationRtt;
      const probe = v === undefined ? '' : `, validated with a ${v.toFixed(2)} ms round trip`;
      note(
        `  path change   client ${c.from.local.address}:${c.from.local.port} -> ${c.to.local.address}:${c.to.local.port} (${c.reason})${probe}; ` +
          `new path rtt ${c.to.rtt?.toFixed(2) ?? '?'} ms`,
      );
    });
    if (opts.migrateAfter !== undefined) {
      migrateTimer = setTimeout(() => {
        conn.migrate().catch((e: unknown) => note(`  path change   failed: ${e instanceof Error ? e.message : String(e)}`));
      }, opts.migrateAfter * 1000);
    }
    // The sender's congestion state lives in the server process: ask for it a few times a second.
    const poll = setInterval(() => {
      if (asking) return;
      asking = true;
      void server.stats().then((s) => {
        sender = s ?? sender;
        asking = false;
        draw();
      });
    }, 100);
    try {
      for await (const chunk of response.body) {
        hash.update(chunk);
        received += chunk.length;
        draw();
      }
    } finally {
      clearInterval(poll);
      clearTimeout(migrateTimer);
    }
    const ms = performance.now() - started;
    sender = (await server.stats()) ?? sender;
    draw(true);
    progress.finish();
    const client = conn.stats();
    conn.close({ closeCode: H3_NO_ERROR });

    const got = hash.digest('hex');
    const match = got === expected && received === opts.size;
    line('');
    line(`  transferred   ${formatBytes(received)} in ${(ms / 1000).toFixed(2)} s = ${rate(received, ms).toFixed(1)} MB/s`);
    if (sender !== undefined) {
      line(`  RTT           ${sender.smoothedRtt.toFixed(2)} ms smoothed, ${sender.minRtt.toFixed(2)} ms min (server's estimate); client ${client.smoothedRtt.toFixed(2)} ms`);
      line(`  cwnd          ${formatBytes(sender.congestionWindow)} at the end (${sender.congestionControl})`);
      const pct = sender.packetsSent > 0 ? ((100 * sender.packetsLost) / sender.packetsSent).toFixed(2) : '0.00';
      line(`  packets       ${sender.packetsSent} sent by the server, ${sender.packetsLost} lost (${pct} %), ${sender.ptoCount} PTOs`);
    }
    line(`  sha256        ${match ? 'match' : 'MISMATCH'}: sent ${expected.slice(0, 16)}…, received ${got.slice(0, 16)}…`);
    await Promise.race([conn.terminated, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    return match;
  } finally {
    await server.stop();
  }
}
