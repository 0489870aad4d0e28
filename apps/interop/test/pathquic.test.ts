/**
 * pathquic client <-> pathquic server, both as the built `pathquic-interop` command in child processes: bulk
 * transfers byte-identical, through a lossy/reordering/duplicating relay, with Retry, and resumption with 0-RTT.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFile, sha256File, type MadeFile } from '@pathquic/ngtcp2-harness';
import { createUdpRelay } from '@pathquic/udp-relay';
import { describeRun, fileLine, runCli, startCliServer, workspace, type CliServer, type Workspace } from './helpers.js';

let ws: Workspace;
let www: string;
const files: Record<string, MadeFile> = {};

beforeAll(async () => {
  ws = await workspace('pq');
  www = join(ws.dir, 'www');
  const made = await Promise.all([
    makeFile(www, '1m.bin', 1 << 20, 'one'),
    makeFile(www, '16m.bin', 16 << 20, 'sixteen'),
    makeFile(www, '100m.bin', 100 << 20, 'hundred'),
    makeFile(www, 'small.txt', 1000, 'small'),
  ]);
  for (const f of made) files[f.path.slice(www.length + 1)] = f;
}, 60_000);

afterAll(async () => {
  await ws?.cleanup();
});

function serverArgs(extra: string[] = []): string[] {
  return ['--cert', ws.pki.chain, '--key', ws.pki.key, '--root', www, ...extra];
}

async function withServer<T>(extra: string[], body: (server: CliServer) => Promise<T>): Promise<T> {
  const server = await startCliServer(serverArgs(extra));
  try {
    return await body(server);
  } finally {
    const code = await server.stop();
    // SIGTERM is a graceful shutdown: exit status 0.
    expect(code, server.output()).toBe(0);
  }
}

async function expectSame(out: string, name: string): Promise<void> {
  const f = files[name]!;
  expect((await stat(join(out, name))).size).toBe(f.size);
  expect(await sha256File(join(out, name))).toBe(f.sha256);
}

describe('pathquic-interop client <-> pathquic-interop server', () => {
  it('fetches several files over one connection, byte-identical, and reports each one', async () => {
    // The leaf certificate alone (the other tests send leaf + CA): a short first server flight.
    await withServer(['--cert', ws.pki.cert], async (server) => {
      const out = join(ws.dir, 'out-basic');
      const base = `https://localhost:${server.port}`;
      const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, `${base}/1m.bin`, `${base}/small.txt`]);
      expect(r.code, describeRun(r)).toBe(0);
      await expectSame(out, '1m.bin');
      await expectSame(out, 'small.txt');
      expect(fileLine(r.stdout, '1m.bin')?.bytes).toBe(1 << 20);
      expect(r.stdout).toMatch(/^done: 2 file\(s\), \d+ bytes in \d+ ms \([\d.]+ MB\/s\); resumed no, 0-RTT not attempted, rtt [\d.]+ ms, cwnd \d+ bytes, lost \d+ packets$/m);
      // One connection for both requests.
      expect(server.output().match(/^connection from \S+$/gm)).toHaveLength(1);
    });
  });

  it('exits 1 when a file is missing (404), still saving the others', async () => {
    await withServer(['--quiet'], async (server) => {
      const out = join(ws.dir, 'out-404');
      const base = `https://localhost:${server.port}`;
      const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, `${base}/small.txt`, `${base}/missing.bin`]);
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stdout).toMatch(/^\/missing\.bin 404: /m);
      await expectSame(out, 'small.txt');
    });
  });

  it('refuses a server whose certificate does not chain to --ca, and --insecure skips the chain check', async () => {
    const other = await workspace('otherca');
    try {
      await withServer(['--quiet'], async (server) => {
        const out = join(ws.dir, 'out-ca');
        const url = `https://localhost:${server.port}/small.txt`;
        const bad = await runCli(['client', '--ca', other.pki.caCert, '--output', out, url]);
        expect(bad.code, describeRun(bad)).toBe(1);
        expect(bad.stderr).toMatch(/QuicHandshakeError \(certificate\)/);
        const ok = await runCli(['client', '--insecure', '--output', out, url]);
        expect(ok.code, describeRun(ok)).toBe(0);
        await expectSame(out, 'small.txt');
      });
    } finally {
      await other.cleanup();
    }
  });

  it('transfers 100 MB byte-identical', async () => {
    await withServer(['--quiet'], async (server) => {
      const out = join(ws.dir, 'out-100m');
      const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, `https://localhost:${server.port}/100m.bin`], 55_000);
      expect(r.code, describeRun(r)).toBe(0);
      await expectSame(out, '100m.bin');
      const line = fileLine(r.stdout, '100m.bin');
      expect(line?.bytes).toBe(100 << 20);
      console.log(`pathquic -> pathquic, 100 MB over loopback: ${line?.mbps} MB/s`);
    });
  }, 60_000);

  it('transfers 100 MB through a relay with 5 % loss, reordering and duplication', async () => {
    await withServer(['--quiet'], async (server) => {
      const impairments = { loss: 0.05, reorderProbability: 0.05, reorderDelayMs: 3, duplicateProbability: 0.02 };
      const relay = await createUdpRelay({
        target: { host: '127.0.0.1', port: server.port },
        seed: 7,
        clientToServer: impairments,
        serverToClient: impairments,
        socketBufferBytes: 4 << 20,
      });
      try {
        const out = join(ws.dir, 'out-lossy');
        const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, `https://localhost:${relay.address.port}/100m.bin`], 280_000);
        expect(r.code, describeRun(r)).toBe(0);
        await expectSame(out, '100m.bin');
        const s = relay.stats;
        // The impairments really happened, in both directions.
        expect(s.serverToClient.dropped.loss).toBeGreaterThan(100);
        expect(s.serverToClient.duplicated).toBeGreaterThan(10);
        expect(s.serverToClient.reordered).toBeGreaterThan(10);
        expect(s.clientToServer.dropped.loss).toBeGreaterThan(10);
        expect(r.stdout).toMatch(/lost [1-9]\d* packets/);
        console.log(`100 MB through the lossy relay: ${fileLine(r.stdout, '100m.bin')?.mbps} MB/s; relay ${JSON.stringify(s.serverToClient)}`);
      } finally {
        await relay.close();
      }
    });
  }, 300_000);

  it('completes a handshake after a Retry (--retry)', async () => {
    await withServer(['--retry', '--quiet'], async (server) => {
      const out = join(ws.dir, 'out-retry');
      const qlogDir = join(ws.dir, 'qlog-retry');
      const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--qlog-dir', qlogDir, `https://localhost:${server.port}/1m.bin`]);
      expect(r.code, describeRun(r)).toBe(0);
      await expectSame(out, '1m.bin');
      // The client's qlog shows the Retry it received (RFC 9000 §17.2.5).
      const logs = await readdir(qlogDir);
      expect(logs.length).toBe(1);
      const text = await readFile(join(qlogDir, logs[0]!), 'utf8');
      expect(text).toMatch(/"packet_type":"retry"/);
    });
  });

  it('resumes with --session-file and sends the requests as 0-RTT', async () => {
    await withServer([], async (server) => {
      const out = join(ws.dir, 'out-resume');
      const session = join(ws.dir, 'session.bin');
      const url = `https://localhost:${server.port}/1m.bin`;
      const first = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--session-file', session, url]);
      expect(first.code, describeRun(first)).toBe(0);
      expect(first.stdout).toMatch(/resumed no, 0-RTT not attempted/);
      expect(existsSync(session)).toBe(true);
      const second = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--session-file', session, url]);
      expect(second.code, describeRun(second)).toBe(0);
      expect(second.stdout).toMatch(/resumed yes, 0-RTT accepted/);
      await expectSame(out, '1m.bin');
      expect(server.output()).toMatch(/connection from [^\n]* \(resumed, 0-RTT\)/);
    });
  });

  it('--migrate-after moves the client to a new local port mid-download; the server follows; the file is intact', async () => {
    await withServer([], async (server) => {
      const out = join(ws.dir, 'out-migrate');
      const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--migrate-after', '0.4', `https://localhost:${server.port}/100m.bin`]);
      expect(r.code, describeRun(r)).toBe(0);
      await expectSame(out, '100m.bin');
      // The client says where it went and the new path's RTT; the server saw the same move.
      const moved = /path changed \(local-migration\): now 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:\d+, rtt [\d.]+ ms/.exec(r.stdout);
      expect(moved, r.stdout).not.toBeNull();
      expect(server.output()).toMatch(new RegExp(`moved to 127\\.0\\.0\\.1:${moved![1]} \\((nat-rebinding|peer-migration)\\)`));
    });
  });

  it('handshakes with each TLS 1.3 cipher suite (--ciphers)', async () => {
    for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
      await withServer(['--quiet', '--ciphers', suite], async (server) => {
        const out = join(ws.dir, `out-${suite}`);
        const keylog = join(ws.dir, `keylog-${suite}.txt`);
        const r = await runCli(['client', '--ca', ws.pki.caCert, '--output', out, '--keylog', keylog, '--ciphers', suite, `https://localhost:${server.port}/1m.bin`]);
        expect(r.code, describeRun(r)).toBe(0);
        await expectSame(out, '1m.bin');
        // The key log has the secrets of every level (NSS key log format).
        const lines = (await readFile(keylog, 'utf8')).trim().split('\n');
        const labels = new Set(lines.map((l) => l.split(' ')[0]));
        expect([...labels]).toEqual(
          expect.arrayContaining(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']),
        );
        // SHA-384 suites have 48-byte secrets (RFC 8446 §7.1).
        const secretHex = lines[0]!.split(' ')[2]!;
        expect(secretHex.length).toBe(suite === 'TLS_AES_256_GCM_SHA384' ? 96 : 64);
      });
    }
  });
});
