// Child-process plumbing shared by the server, client and capture wrappers: binary lookup, a watchdog that ends the
// child when this process dies, bounded output capture, free UDP ports, and "is this port bound yet?".
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown for harness failures the caller can act on: tool missing, server did not start, bad options. */
export class HarnessError extends Error {
  override name = 'HarnessError';
}

// Debian installs gtlsserver in /usr/sbin, which is not on a normal user's PATH.
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin'];

/** Absolute path of an executable, searching PATH and then the sbin directories; undefined if absent. */
export function findExecutable(name: string, envOverride?: string): string | undefined {
  const override = envOverride === undefined ? undefined : process.env[envOverride];
  if (override !== undefined && override !== '') return isExecutable(override) ? override : undefined;
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function requireExecutable(name: string, envOverride?: string): string {
  const path = findExecutable(name, envOverride);
  if (path === undefined) {
    throw new HarnessError(
      `${name} not found (PATH, /usr/sbin${envOverride === undefined ? '' : `, $${envOverride}`}); ` +
        'install the Debian packages ngtcp2-client/ngtcp2-server and tshark',
    );
  }
  return path;
}

// The watchdog: the command runs in the background of a small sh; a second background job blocks reading fd 3 (a
// copy of our stdin pipe) and kills the command when the pipe closes, which happens when this Node process dies
// however it dies (even SIGKILL). TERM/INT sent to the shell are forwarded to the command. The shell exits with
// the command's status (128+n when a signal n ended it). The shell's own stderr goes to /dev/null (dash would
// print "Terminated" there) while the command keeps the real one on fd 4.
const WATCHDOG = [
  'exec 3<&0 4>&2 2>/dev/null',
  '"$@" </dev/null 2>&4 3<&- 4>&- &',
  'c=$!',
  'trap \'kill -TERM "$c" 2>/dev/null\' TERM HUP',
  'trap \'kill -INT "$c" 2>/dev/null\' INT',
  '{ read -r _ <&3; kill -TERM "$c" 2>/dev/null; } &',
  'r=$!',
  's=0',
  'while kill -0 "$c" 2>/dev/null; do wait "$c"; s=$?; done',
  'kill "$r" 2>/dev/null',
  'exit "$s"',
].join('\n');

/** Bounded text capture of a stream: keeps the head and the tail, counts what it dropped. */
export class OutputBuffer {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly limit = 4 << 20) {}

  push(chunk: string): void {
    if (this.head.length < this.limit / 2) {
      const room = this.limit / 2 - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    if (chunk === '') return;
    this.tail += chunk;
    if (this.tail.length > this.limit / 2) {
      const cut = this.tail.length - this.limit / 2;
      this.dropped += cut;
      this.tail = this.tail.slice(cut);
    }
  }

  text(): string {
    return this.dropped === 0 ? this.head + this.tail : `${this.head}\n[… ${this.dropped} chars dropped …]\n${this.tail}`;
  }
}

export interface Guarded {
  readonly child: ChildProcess;
  /** Resolves with the command's exit status (128+signal if a signal ended it). */
  readonly exited: Promise<number>;
  /** True once the command has exited. */
  readonly hasExited: () => boolean;
  /** Sends `signal` to the whole process group (the watchdog shell and the command). */
  readonly signal: (signal: NodeJS.Signals) => void;
  /**
   * SIGTERM (or `first`) to the shell, which forwards it to the command, then SIGKILL to the group after
   * `graceMs`; resolves when the shell has exited.
   */
  readonly stop: (graceMs?: number, first?: NodeJS.Signals) => Promise<number>;
}

const live = new Set<Guarded>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A synchronous last resort for orderly exits; the stdin watchdog covers the rest.
  process.on('exit', () => {
    for (const g of live) g.signal('SIGKILL');
  });
}

/**
 * Spawns `bin args` under the watchdog, in its own process group. `onStdout`/`onStderr` receive decoded chunks;
 * or `stdoutFile`/`stderrFile` take the streams (the same path for both is fine). A file is much cheaper for chatty programs: ngtcp2's examples write their
 * debug log unbuffered, one write(2) per line, and a pipe wakes Node for each (a 50 MB download with the debug log
 * took 6–8 s through a pipe, 2.2 s into a file).
 */
export function spawnGuarded(
  bin: string,
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onStdout?: (chunk: string) => void;
    onStderr?: (chunk: string) => void;
    stdoutFile?: string;
    stderrFile?: string;
  } = {},
): Guarded {
  installExitHook();
  const outFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'w');
  const errFd =
    options.stderrFile === undefined
      ? undefined
      : options.stderrFile === options.stdoutFile
        ? outFd
        : openSync(options.stderrFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG, 'pathquic-ngtcp2-harness', bin, ...args], {
      stdio: ['pipe', outFd ?? 'pipe', errFd ?? 'pipe'],
      detached: true,
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
  } finally {
    // The child has its own copies of the descriptors.
    if (outFd !== undefined) closeSync(outFd);
    if (errFd !== undefined && errFd !== outFd) closeSync(errFd);
  }
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => options.onStdout?.(c));
  child.stderr?.on('data', (c: string) => options.onStderr?.(c));
  // The stdin pipe is only the watchdog's lifeline; never write to it, and do not let it hold the event loop.
  child.stdin?.on('error', () => {});
  let done = false;
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => {
      done = true;
      live.delete(guarded);
      resolve(code ?? 128 + (sig === null ? 0 : signalNumber(sig)));
    });
  });
  // Let a caller that never awaits `exited` avoid an unhandled rejection.
  exited.catch(() => {});
  const signal = (sig: NodeJS.Signals): void => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  const stop = async (graceMs = 2000, first: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
    if (!done && child.pid !== undefined) {
      try {
        process.kill(child.pid, first);
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  const guarded: Guarded = { child, exited, hasExited: () => done, signal, stop };
  live.add(guarded);
  return guarded;
}

function signalNumber(sig: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[sig] ?? 0;
}

/** A file's text, or its first and last `limit / 2` characters (as bytes) when larger; '' if it cannot be read. */
export function readBounded(path: string, limit = 4 << 20): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= limit) {
      const buf = Buffer.alloc(size);
      const n = readSync(fd, buf, 0, size, 0);
      return buf.subarray(0, n).toString('utf8');
    }
    const half = Math.floor(limit / 2);
    const head = Buffer.alloc(half);
    const tail = Buffer.alloc(half);
    readSync(fd, head, 0, half, 0);
    readSync(fd, tail, 0, half, size - half);
    return `${head.toString('utf8')}\n[… ${size - 2 * half} bytes dropped …]\n${tail.toString('utf8')}`;
  } finally {
    closeSync(fd);
  }
}

/** Runs a command to completion (no watchdog needed: short-lived), returning its output; rejects on failure. */
export function runCommand(
  bin: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code, sig) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new HarnessError(`${bin} ${args.join(' ')} failed (${code ?? sig}):\n${stderr}`));
    });
  });
}

/** An ephemeral UDP port free on `host` right now (bind to port 0, read it, close). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return socket.address().port;
  } finally {
    socket.close();
  }
}

/** Whether some socket is bound to UDP `port` (any address), from /proc/net/udp{,6}; undefined without /proc. */
export function udpPortBound(port: number): boolean | undefined {
  let seen = false;
  let readable = false;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    readable = true;
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local?.endsWith(hex) === true) seen = true;
    }
  }
  return readable ? seen : undefined;
}

/** Polls `condition` every `intervalMs` until it is true; false if `timeoutMs` passes or `abort()` says stop. */
export async function pollUntil(
  condition: () => boolean,
  timeoutMs: number,
  abort: () => boolean = () => false,
  intervalMs = 10,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (abort() || performance.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
