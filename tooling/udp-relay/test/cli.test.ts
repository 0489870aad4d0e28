import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer, closeAllPeers } from './helpers.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

afterEach(closeAllPeers);

describe('pathquic-udp-relay (CLI)', () => {
  it('relays with the given impairments and prints stats on SIGINT', async () => {
    const server = await Peer.echo();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', '--listen', '127.0.0.1:0', '--target', `127.0.0.1:${server.port}`, '--delay', '5', '--seed', '3'],
      { cwd: pkgDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const port = await new Promise<number>((resolve, reject) => {
        const check = (): void => {
          const match = /relaying 127\.0\.0\.1:(\d+) -> /.exec(stdout);
          if (match !== null) resolve(Number(match[1]));
        };
        child.stdout.on('data', check);
        child.once('exit', () => reject(new Error(`the CLI exited early: ${stdout}`)));
      });
      const client = await Peer.open();
      await client.sendNumbered(3, port);
      await client.waitFor(3, 5000);
      expect(client.indices()).toEqual([0, 1, 2]);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      const json = stdout.slice(stdout.indexOf('{'));
      const stats = JSON.parse(json) as { clientToServer: { received: number }; serverToClient: { forwarded: number } };
      expect(stats.clientToServer.received).toBe(3);
      expect(stats.serverToClient.forwarded).toBe(3);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('explains its usage on a bad flag', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--loss', 'x'], { cwd: pkgDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--target HOST:PORT is required[\s\S]*usage: pathquic-udp-relay/);
  });
});
