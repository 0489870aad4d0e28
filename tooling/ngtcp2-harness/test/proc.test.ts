import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OutputBuffer, findExecutable, freeUdpPort, pollUntil, spawnGuarded, udpPortBound } from '../src/proc.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('spawnGuarded', () => {
  it('stop() ends the command and reports 128+SIGTERM', async () => {
    let out = '';
    const g = spawnGuarded('/bin/sh', ['-c', 'echo $$; exec sleep 30'], { onStdout: (c) => (out += c) });
    expect(await pollUntil(() => out.includes('\n'), 5000)).toBe(true);
    const pid = Number(out.trim());
    expect(alive(pid)).toBe(true);
    expect(await g.stop()).toBe(143);
    expect(g.hasExited()).toBe(true);
    expect(await pollUntil(() => !alive(pid), 2000)).toBe(true);
  });

  it('passes the exit status and stderr through, without shell job messages', async () => {
    let err = '';
    const g = spawnGuarded('/bin/sh', ['-c', 'echo oops >&2; exit 7'], { onStderr: (c) => (err += c) });
    expect(await g.exited).toBe(7);
    expect(err).toBe('oops\n');
  });

  it('SIGKILLs the group when the command ignores SIGTERM', async () => {
    const g = spawnGuarded('/bin/sh', ['-c', "trap '' TERM; sleep 30 & wait; sleep 30"]);
    const started = performance.now();
    expect(await g.stop(300)).toBeGreaterThanOrEqual(128);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('kills the command when the Node process that started it is SIGKILLed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures-guarded-child.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(here, '..'),
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    expect(await pollUntil(() => out.includes('\n'), 15_000)).toBe(true);
    const pid = Number(out.trim());
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await pollUntil(() => !alive(pid), 5000)).toBe(true);
  });
});

describe('ports', () => {
  it('freeUdpPort gives a bindable port and udpPortBound sees it bound and released', async () => {
    const port = await freeUdpPort();
    expect(udpPortBound(port)).toBe(false);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    expect(udpPortBound(port)).toBe(true);
    await new Promise<void>((resolve) => socket.close(resolve));
    expect(udpPortBound(port)).toBe(false);
    const socket6 = createSocket('udp6');
    const port6 = await freeUdpPort('::1');
    await new Promise<void>((resolve) => socket6.bind(port6, '::1', resolve));
    expect(udpPortBound(port6)).toBe(true);
    socket6.close();
  });
});

describe('helpers', () => {
  it('OutputBuffer keeps head and tail of huge output', () => {
    const b = new OutputBuffer(100);
    b.push('a'.repeat(40));
    b.push('b'.repeat(40));
    b.push('c'.repeat(100));
    const text = b.text();
    expect(text.startsWith('a'.repeat(40) + 'b'.repeat(10))).toBe(true);
    expect(text.endsWith('c'.repeat(50))).toBe(true);
    expect(text).toContain('[… 80 chars dropped …]');
  });

  it('findExecutable searches PATH and sbin, and honours an override variable', () => {
    expect(findExecutable('sh')).toMatch(/\/sh$/);
    expect(findExecutable('definitely-not-a-tool-xyz')).toBeUndefined();
    process.env['NGTCP2_HARNESS_TEST_OVERRIDE'] = '/bin/sh';
    expect(findExecutable('whatever', 'NGTCP2_HARNESS_TEST_OVERRIDE')).toBe('/bin/sh');
    process.env['NGTCP2_HARNESS_TEST_OVERRIDE'] = '/nonexistent/tool';
    expect(findExecutable('sh', 'NGTCP2_HARNESS_TEST_OVERRIDE')).toBeUndefined();
    delete process.env['NGTCP2_HARNESS_TEST_OVERRIDE'];
  });
});
