/** Runs the built `pathquic-interop` CLI in child processes for the interop tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestPki, type TestPki } from '@pathquic/ngtcp2-harness';
import { runBuilt, type BuiltRun } from '@pathquic/vitest-config/build';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export type Run = BuiltRun;

/** Runs `pathquic-interop client …` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runBuilt(CLI, args, { timeoutMs, env });
}

export interface CliServer {
  readonly port: number;
  readonly process: ChildProcess;
  output(): string;
  /** SIGTERM (graceful), SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `pathquic-interop server --port 0 …` and resolves once it printed its port. */
export function startCliServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'server', '--host', '127.0.0.1', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let started = false;
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${out}`));
    }, 10_000);
    const onData = (c: string): void => {
      out += c;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null && !started) {
        started = true;
        clearTimeout(timer);
        let stopping: Promise<number | null> | undefined;
        resolve({
          port: Number(m[1]),
          process: child,
          output: () => out,
          stop: () =>
            (stopping ??= (async () => {
              if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
              const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
              const code = await exited;
              clearTimeout(kill);
              return code;
            })()),
        });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('close', (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${out}`));
      }
    });
  });
}

export interface Workspace {
  readonly dir: string;
  readonly pki: TestPki;
  cleanup(): Promise<void>;
}

/** A temporary directory with a test PKI (CA, localhost leaf). */
export async function workspace(name: string): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), `pathquic-interop-${name}-`));
  const pki = await makeTestPki(join(dir, 'pki'));
  return { dir, pki, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The per-file summary line the client prints: "/name 200: N bytes in T ms (R MB/s) -> path". */
export function fileLine(stdout: string, name: string): { bytes: number; ms: number; mbps: number } | undefined {
  const m = new RegExp(`^/${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} 200: (\\d+) bytes in (\\d+) ms \\(([\\d.]+) MB/s\\)`, 'm').exec(stdout);
  if (m === null) return undefined;
  return { bytes: Number(m[1]), ms: Number(m[2]), mbps: Number(m[3]) };
}

export function describeRun(r: Run): string {
  return `exit ${r.code}${r.signal === null ? '' : ` (${r.signal})`} after ${Math.round(r.ms)} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
