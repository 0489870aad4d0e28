import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBuilt, type BuiltRun } from '@pathquic/vitest-config/build';
import { ProgressPrinter, progressLine } from '../src/progress.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(args: string[], timeoutMs = 50_000): Promise<BuiltRun> {
  return runBuilt(MAIN, args, { timeoutMs });
}

describe('npm run demo', () => {
  it('transfers a file between a local pathquic server and client and prints the figures', async () => {
    const r = await run(['--size', '4']);
    const context = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    expect(r.code, context).toBe(0);
    expect(r.stdout).toMatch(/^pathquic demo: 4\.0 MB over HTTP\/3 on QUIC/m);
    expect(r.stdout).toMatch(/client: connected in [\d.]+ ms \(TLS 1\.3, ALPN h3\)/);
    // stdout is a pipe here: plain progress lines (no carriage returns), ending at 100 %.
    expect(r.stdout).not.toContain('\r');
    const bars = r.stdout.split('\n').filter((l) => l.startsWith('['));
    expect(bars.length).toBeGreaterThanOrEqual(2);
    expect(bars.at(-1)).toMatch(/^\[#{28}\] 100% {2}4\.0\/4\.0 MB {2}[\d.]+ MB\/s {2}rtt [\d.]+ ms {2}cwnd [\d.]+ [kM]?B {2}lost \d+$/);
    expect(r.stdout).toMatch(/^ {2}transferred {3}4\.0 MB in [\d.]+ s = [\d.]+ MB\/s$/m);
    expect(r.stdout).toMatch(/^ {2}RTT {11}[\d.]+ ms smoothed, [\d.]+ ms min/m);
    expect(r.stdout).toMatch(/^ {2}cwnd {10}[\d.]+ [kM]?B at the end \((cubic|newreno)\)$/m);
    expect(r.stdout).toMatch(/^ {2}packets {7}\d+ sent by the server, \d+ lost \([\d.]+ %\), \d+ PTOs$/m);
    expect(r.stdout).toMatch(/^ {2}sha256 {8}match: sent ([0-9a-f]{16})…, received \1…$/m);
  });

  it('--migrate-after moves the client to a new local port mid-transfer; the bar goes on and the file is intact', async () => {
    const r = await run(['--size', '30', '--migrate-after', '0.1']);
    const context = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    expect(r.code, context).toBe(0);
    const change = /^ {2}path change {3}client 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+) \(local-migration\), validated with a [\d.]+ ms round trip; new path rtt [\d.]+ ms$/m.exec(r.stdout);
    expect(change, context).not.toBeNull();
    expect(change![1]).not.toBe(change![2]);
    // Progress lines continue after the change, up to 100 %.
    const after = r.stdout.slice(r.stdout.indexOf('path change'));
    expect(after).toMatch(/^\[#{28}\] 100%/m);
    expect(r.stdout).toMatch(/^ {2}sha256 {8}match/m);
  });

  it('rejects a bad --migrate-after', async () => {
    const r = await run(['--migrate-after', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--migrate-after must be a number of seconds/);
  });

  it('keeps the wire-codec walk-through as --codec', async () => {
    const r = await run(['--codec']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('identical to the RFC 9001 App. A.2 protected packet: yes');
    expect(r.stdout).toContain('server opened it: initial v1 pn 2, 1200 bytes');
    expect(r.stdout).toMatch(/STREAM id 4, offset 0, FIN: "hello from pathquic/);
    expect(r.stdout).toContain('the same packet with one bit flipped: rejected (authentication failed)');
  });

  it('rejects a bad --size', async () => {
    const r = await run(['--size', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--size must be a number of MB/);
  });
});

describe('progress display', () => {
  it('redraws one line on a terminal, at most every interval', () => {
    const writes: string[] = [];
    const p = new ProgressPrinter({ write: (s: string) => writes.push(s), isTTY: true }, 100);
    p.update({ received: 0, total: 1e6, elapsedMs: 0 });
    p.update({ received: 1e5, total: 1e6, elapsedMs: 50 }); // too soon: skipped
    p.update({ received: 5e5, total: 1e6, elapsedMs: 150, rttMs: 1.5, cwnd: 64_000, lost: 2 });
    p.finish();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toMatch(/^\r\[░{28}\] {3}0%/);
    expect(writes[1]).toBe(`\r[${'█'.repeat(14)}${'░'.repeat(14)}]  50%  0.5/1.0 MB  3.3 MB/s  rtt 1.50 ms  cwnd 64.0 kB  lost 2\x1b[K`);
    expect(writes[2]).toBe('\n');
  });

  it('prints a plain line per 10 % step otherwise', () => {
    const writes: string[] = [];
    const p = new ProgressPrinter({ write: (s: string) => writes.push(s) });
    for (let i = 0; i <= 100; i++) p.update({ received: i * 1e4, total: 1e6, elapsedMs: i });
    p.finish();
    expect(writes).toHaveLength(11);
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes[10]).toBe(`${progressLine({ received: 1e6, total: 1e6, elapsedMs: 100 }, true)}\n`);
  });
});
