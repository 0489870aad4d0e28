/**
 * Interop with ngtcp2 (Debian's gtlsclient / gtlsserver examples, HTTP/3 over GnuTLS) in both directions, and a
 * pathquic capture decoded by tshark with the key log. Skipped when the tools are not installed.
 */
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GNUTLS_CIPHERS,
  canCapture,
  captureUdp,
  decodeQuic,
  hasNgtcp2,
  hasTshark,
  makeFile,
  runGtlsClient,
  sha256File,
  startGtlsServer,
  type GtlsClientOptions,
  type GtlsClientResult,
  type GtlsServer,
  type GtlsServerOptions,
  type MadeFile,
} from '@pathquic/ngtcp2-harness';
import { describeRun, fileLine, runCli, startCliServer, workspace, type CliServer, type Run, type Workspace } from './helpers.js';

const MiB = 1 << 20;
const SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

let ws: Workspace;
let www: string;
const files: Record<string, MadeFile> = {};
const cleanups: (() => Promise<unknown>)[] = [];
let runs = 0;

async function prepare(): Promise<void> {
  ws = await workspace('ngtcp2');
  www = join(ws.dir, 'www');
  for (const f of await Promise.all([makeFile(www, 'f1m', MiB, 'f1m'), makeFile(www, 'f50m', 50 * MiB, 'f50m')])) {
    files[f.path.slice(www.length + 1)] = f;
  }
}

async function pathquicServer(extra: string[] = []): Promise<CliServer> {
  const s = await startCliServer(['--cert', ws.pki.chain, '--key', ws.pki.key, '--root', www, ...extra]);
  cleanups.push(() => s.stop());
  return s;
}

async function gtlsServer(options: Partial<GtlsServerOptions> = {}): Promise<GtlsServer> {
  const s = await startGtlsServer({ htdocs: www, cert: ws.pki.cert, key: ws.pki.key, port: 0, ...options });
  cleanups.push(() => s.stop());
  return s;
}

/** gtlsclient downloads `names` from a pathquic server; every file must arrive byte-identical. */
async function gtlsDownload(server: CliServer, names: string[], options: Partial<GtlsClientOptions> = {}): Promise<GtlsClientResult> {
  const downloadDir = join(ws.dir, `gtls-${++runs}`);
  const r = await runGtlsClient({ port: server.port, paths: names.map((n) => `/${n}`), downloadDir, timeoutMs: 50_000, ...options });
  const context = `gtlsclient ${r.args.join(' ')}\nexit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\n--- gtlsclient events\n${r.stderr}\n--- errors\n${r.log.errors.join('\n')}\n--- closes received\n${r.log.connectionClosesReceived.join('\n')}\n--- pathquic server\n${server.output()}`;
  expect(r.ok, context).toBe(true);
  for (const [i, name] of names.entries()) {
    expect(await sha256File(r.files[i] ?? ''), `${name}\n${context}`).toBe(files[name]?.sha256);
  }
  return r;
}

/** pathquic-interop client downloads `names` from gtlsserver. */
/** A UDP port nobody uses on `host` right now. */
async function freeUdpPort(host: string): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function pathquicDownload(server: GtlsServer, names: string[], extra: string[] = []): Promise<Run> {
  const out = join(ws.dir, `pq-${++runs}`);
  const urls = names.map((n) => `https://127.0.0.1:${server.port}/${n}`);
  const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--timeout', '50', ...extra, ...urls], 55_000);
  const context = `${describeRun(r)}\n--- gtlsserver\n${server.output().slice(-4000)}`;
  expect(r.code, context).toBe(0);
  for (const name of names) expect(await sha256File(join(out, name)), `${name}\n${context}`).toBe(files[name]?.sha256);
  return r;
}

describe.skipIf(!hasNgtcp2())('ngtcp2 interop', () => {
  beforeAll(prepare, 60_000);
  afterAll(async () => {
    await Promise.allSettled(cleanups.map((c) => c()));
    await ws?.cleanup();
  });

  describe('gtlsclient -> pathquic server', () => {
    let server: CliServer;
    beforeAll(async () => {
      server = await pathquicServer(['--quiet']);
    });

    it('downloads 1 MB', async () => {
      const r = await gtlsDownload(server, ['f1m']);
      expect(r.log.handshakeCompleted).toBe(true);
      expect(r.log.handshakeConfirmed).toBe(true);
      expect(r.log.alpn).toBe('h3');
      expect(r.log.responses).toEqual([expect.objectContaining({ path: '/f1m', status: 200, contentLength: MiB })]);
    });

    it('downloads 50 MB', async () => {
      const r = await gtlsDownload(server, ['f50m'], { quiet: true });
      console.log(`pathquic server -> gtlsclient, 50 MB: ${(50 * MiB / 1e6 / (r.durationMs / 1000)).toFixed(1)} MB/s (whole run)`);
    }, 60_000);

    it('survives 5 % loss each way (--tx-loss/--rx-loss 0.05)', async () => {
      const r = await gtlsDownload(server, ['f1m'], { txLoss: 0.05, rxLoss: 0.05 });
      expect(r.args).toContain('--tx-loss=0.05');
    });

    it('answers a key update (--key-update)', async () => {
      const r = await gtlsDownload(server, ['f50m'], { keyUpdate: 5, idleTimeout: '10s' });
      expect(r.log.keyUpdatesInitiated).toBe(1);
      expect(r.log.keyUpdatesConfirmed).toBeGreaterThanOrEqual(1);
      // Our packets arrive in the new key phase: we switched too (RFC 9001 §6.2).
      expect(r.log.keyPhase1Received).toBeGreaterThan(0);
    }, 60_000);

    it('follows gtlsclient moving to a new local address mid-download (--change-local-addr)', async () => {
      // The server validates the new path and moves there (RFC 9000 §9.3); the file must stay intact.
      const r = await gtlsDownload(server, ['f50m'], { changeLocalAddr: '1s' });
      // gtlsclient validated its new path with us before using it (RFC 9000 §9.2).
      expect(r.log.pathValidations.some((v) => v.succeeded), JSON.stringify(r.log.pathValidations)).toBe(true);
    }, 60_000);

    it('follows gtlsclient rebinding silently mid-download (--change-local-addr --nat-rebinding)', async () => {
      // gtlsclient moves to a new local port without validating the path, as a NAT would; we must notice from its
      // packets and validate the new address ourselves (RFC 9000 §9.3). It ignores what still reaches its old port,
      // so it only speaks again if it has something to send: it uploads (--data, a GET body we read and drop) while
      // it downloads, or a download-only client would sit silent forever, whoever the server is.
      const rebinding = await pathquicServer();
      const r = await gtlsDownload(rebinding, ['f50m'], { changeLocalAddr: '1s', natRebinding: true, quiet: true, extraArgs: ['--data', files.f50m!.path] });
      expect(r.args).toContain('--nat-rebinding');
      // The server moved to the client's new port on its own, after validating it.
      expect(rebinding.output()).toMatch(/moved to 127\.0\.0\.1:\d+ \(nat-rebinding\)/);
    }, 60_000);

    it('resumes with 0-RTT on a second run (--session-file/--tp-file)', async () => {
      const sessionFile = join(ws.dir, 'gtls-session.pem');
      const tpFile = join(ws.dir, 'gtls-tp.txt');
      const first = await gtlsDownload(server, ['f1m'], { sessionFile, tpFile });
      expect(first.log.earlyData).toBe('not-attempted');
      expect(existsSync(sessionFile), 'gtlsclient stored no session: did the server send a NewSessionTicket?').toBe(true);
      const second = await gtlsDownload(server, ['f1m'], { sessionFile, tpFile });
      expect(second.log.packetsSent['0RTT']).toBeGreaterThan(0);
      expect(second.log.earlyData).toBe('accepted');
    });

    it.each(SUITES)('handshakes with only %s', async (suite) => {
      const r = await gtlsDownload(server, ['f1m'], { ciphers: GNUTLS_CIPHERS[suite] });
      expect(r.log.cipherSuite).toBe(suite);
    });

    it('goes through our Retry (--retry)', async () => {
      const retrying = await pathquicServer(['--retry', '--quiet']);
      const r = await gtlsDownload(retrying, ['f1m']);
      expect(r.log.retryReceived).toBe(true);
    });
  });

  describe('pathquic client -> gtlsserver', () => {
    let server: GtlsServer;
    beforeAll(async () => {
      server = await gtlsServer();
    });

    it('downloads 1 MB and 50 MB', async () => {
      const r = await pathquicDownload(server, ['f1m', 'f50m']);
      console.log(`gtlsserver -> pathquic client, 50 MB: ${fileLine(r.stdout, 'f50m')?.mbps} MB/s`);
    }, 60_000);

    it('moves to a new local port in the middle of a 50 MB download (--migrate-after)', async () => {
      const r = await pathquicDownload(server, ['f50m'], ['--migrate-after', '0.5']);
      expect(r.stdout).toMatch(/path changed \(local-migration\): now 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+, rtt [\d.]+ ms/);
    }, 60_000);

    it("moves to gtlsserver's preferred address (--preferred-ipv4-addr) after the handshake", async () => {
      const port = await freeUdpPort('127.0.0.2');
      const preferring = await gtlsServer({ preferredAddress: { ipv4: `127.0.0.2:${port}` } });
      const r = await pathquicDownload(preferring, ['f1m', 'f50m']);
      expect(r.stdout).toMatch(new RegExp(`path changed \\(local-migration\\): now 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.2:${port}`));
    }, 60_000);

    it('survives 5 % loss each way on the server side (--tx-loss/--rx-loss 0.05)', async () => {
      const lossy = await gtlsServer({ txLoss: 0.05, rxLoss: 0.05 });
      // gtlsserver drops 5 % of what it sends and receives: our client must recover (the file is checked).
      const r = await pathquicDownload(lossy, ['f1m']);
      expect(r.stdout).toMatch(/^done: 1 file/m);
    });

    it('resumes with 0-RTT using --session-file', async () => {
      const session = join(ws.dir, 'pq-session.bin');
      const first = await pathquicDownload(server, ['f1m'], ['--session-file', session]);
      expect(first.stdout).toMatch(/resumed no/);
      expect(existsSync(session)).toBe(true);
      const second = await pathquicDownload(server, ['f1m'], ['--session-file', session]);
      expect(second.stdout).toMatch(/resumed yes, 0-RTT accepted/);
    });

    it('goes through a Retry from gtlsserver (-V)', async () => {
      const retrying = await gtlsServer({ retry: true, quiet: false });
      const qlogDir = join(ws.dir, 'qlog-gtls-retry');
      await pathquicDownload(retrying, ['f1m'], ['--qlog-dir', qlogDir]);
      expect(retrying.output()).toContain('Sending Retry packet');
      expect(retrying.output()).toContain('Token was successfully validated');
    });

    it.each(SUITES)('handshakes with only %s (--ciphers)', async (suite) => {
      const keylog = join(ws.dir, `pq-${suite}.keys`);
      // gtlsserver restricted to the suite as well, so only it can be negotiated.
      const only = await gtlsServer({ ciphers: GNUTLS_CIPHERS[suite] });
      await pathquicDownload(only, ['f1m'], ['--ciphers', suite, '--keylog', keylog]);
    });
  });

  describe.skipIf(!hasTshark())('tshark', () => {
    it('decodes a captured pathquic <-> pathquic transfer with the key log: decrypted, nothing malformed', async (ctx) => {
      if (!(await canCapture('lo'))) ctx.skip();
      const server = await pathquicServer(['--quiet']);
      const pcap = join(ws.dir, 'pathquic.pcapng');
      const keylog = join(ws.dir, 'pathquic-capture.keys');
      const capture = await captureUdp({ port: server.port, file: pcap });
      let stats;
      try {
        const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', join(ws.dir, 'pq-capture'), '--keylog', keylog, `https://localhost:${server.port}/f1m`]);
        expect(r.code, describeRun(r)).toBe(0);
      } finally {
        stats = await capture.stop();
      }
      expect(stats.dropped).toBe(0);
      const decoded = await decodeQuic({ pcap, keylogFile: keylog, ports: [server.port] });
      const summary = JSON.stringify(decoded, null, 1);
      console.log(`tshark: ${JSON.stringify({ packets: decoded.quicPackets, expert: decoded.expert, messages: decoded.expertMessages, frames: decoded.frames })}`);
      expect(decoded.quicDatagrams, summary).toBe(stats.packets);
      expect(decoded.decrypted, summary).toBe(true);
      expect(decoded.malformed, summary).toBe(0);
      expect(decoded.decryptionFailures, summary).toBe(0);
      expect(decoded.expert['error'] ?? 0, summary).toBe(0);
      expect(decoded.expert['warn'] ?? 0, summary).toBe(0);
      expect(decoded.longHeaderPackets['Initial'], summary).toBeGreaterThanOrEqual(2);
      expect(decoded.longHeaderPackets['Handshake'], summary).toBeGreaterThanOrEqual(2);
      expect(decoded.frames['STREAM'], summary).toBeGreaterThan(700);
      expect(decoded.frames['HANDSHAKE_DONE'], summary).toBe(1);
    }, 60_000);
  });
});
