/**
 * Spawning `openssl s_server` / `s_client` (OpenSSL 3.x from PATH) for the interop tests, plus TCP helpers. Every
 * process and socket created here is registered with a Resources object so afterEach can always clean up.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CERT_DIR = fileURLToPath(new URL('../fixtures/certs/', import.meta.url));

export function certPath(name: string): string {
  return join(CERT_DIR, name);
}

/** The `openssl version` line when an OpenSSL 3.x binary is on PATH, else undefined. */
export function opensslVersion(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  const line = r.stdout.trim();
  return /^OpenSSL 3\./.test(line) ? line : undefined;
}

/** Everything a test opened; close() tears it all down and never throws. */
export class Resources {
  private readonly items: (() => void | Promise<void>)[] = [];

  add(cleanup: () => void | Promise<void>): void {
    this.items.push(cleanup);
  }

  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'pathquic-interop-'));
    this.add(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async close(): Promise<void> {
    const items = this.items.splice(0).reverse();
    for (const cleanup of items) {
      try {
        await cleanup();
      } catch {
        // Cleanup is best effort: one failure must not leak the rest.
      }
    }
  }
}

/** One running openssl process with its output captured (stdout and stderr separately, and interleaved). */
export class OpenSslProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** stdout and stderr in arrival order. */
  output = '';
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
  private listeners: (() => void)[] = [];

  constructor(
    readonly args: readonly string[],
    resources: Resources,
  ) {
    this.child = spawn('openssl', [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (s: string) => {
      this.stdout += s;
      this.output += s;
      this.changed();
    });
    this.child.stderr.on('data', (s: string) => {
      this.stderr += s;
      this.output += s;
      this.changed();
    });
    // A peer that quits early closes stdin under us; that is not an error for the test.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.output += `\n[spawn error: ${e.message}]`;
        this.exitCode = null;
        this.changed();
        resolve(null);
      });
      this.child.on('close', (code) => {
        this.exitCode = code;
        this.changed();
        resolve(code);
      });
    });
    resources.add(() => this.kill());
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Waits until the combined output matches; rejects on timeout or if the process exits first. */
  waitForOutput(pattern: RegExp | string, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output.match(re);
        if (m !== null) {
          done();
          resolve(m);
        } else if (this.exitCode !== undefined) {
          done();
          reject(new Error(`openssl exited (${this.exitCode}) before printing ${re}; output:\n${this.output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from openssl ${this.args.join(' ')}; output:\n${this.output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      check();
    });
  }

  /** Waits for the process to exit by itself (rejects on timeout). */
  async waitForExit(timeoutMs = 5000): Promise<number | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`openssl did not exit within ${timeoutMs} ms; output:\n${this.output}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  write(text: string): void {
    this.child.stdin.write(text);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** SIGKILLs this process (only this pid) if it is still running and waits for it to go. */
  async kill(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts `openssl s_server` on an ephemeral 127.0.0.1 port and waits for it to listen. */
export async function startServer(args: readonly string[], resources: Resources): Promise<{ server: OpenSslProcess; port: number }> {
  const server = new OpenSslProcess(['s_server', '-accept', '127.0.0.1:0', ...args], resources);
  // OpenSSL 3 prints "ACCEPT <host>:<port>" once the listening socket is bound (port 0 = kernel's choice).
  const m = await server.waitForOutput(/ACCEPT \S*:(\d+)/, 5000);
  return { server, port: Number(m[1]) };
}

export function startClient(args: readonly string[], resources: Resources): OpenSslProcess {
  return new OpenSslProcess(['s_client', ...args], resources);
}

/** Connects a TCP socket; registered for destruction. */
export function connectTcp(port: number, resources: Resources, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    resources.add(() => {
      socket.destroy();
    });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A TCP listener on an ephemeral 127.0.0.1 port; each accepted socket is handed to onSocket. */
export async function listenTcp(onSocket: (socket: Socket) => void, resources: Resources): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    onSocket(socket);
  });
  resources.add(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
  return { server, port: address.port };
}
