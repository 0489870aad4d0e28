// gtlsserver (ngtcp2's HTTP/3 example server on GnuTLS) as a managed child process.
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  HarnessError,
  findExecutable,
  freeUdpPort,
  pollUntil,
  readBounded,
  requireExecutable,
  spawnGuarded,
  udpPortBound,
} from './proc.js';

/** Environment variables that override where the binaries are looked up. */
export const GTLSSERVER_ENV = 'PATHQUIC_GTLSSERVER';
export const GTLSCLIENT_ENV = 'PATHQUIC_GTLSCLIENT';

export function gtlsServerPath(): string | undefined {
  return findExecutable('gtlsserver', GTLSSERVER_ENV);
}

export function gtlsClientPath(): string | undefined {
  return findExecutable('gtlsclient', GTLSCLIENT_ENV);
}

/** True when both ngtcp2 example peers (Debian ngtcp2-server / ngtcp2-client) are installed. */
export function hasNgtcp2(): boolean {
  return gtlsServerPath() !== undefined && gtlsClientPath() !== undefined;
}

export interface GtlsServerOptions {
  /** Listen address (default 127.0.0.1); "*" binds every address. */
  host?: string;
  /** UDP port; 0 or absent picks a free one. */
  port?: number;
  /** Document root: GET /a/b serves htdocs/a/b. */
  htdocs: string;
  cert: string;
  key: string;
  /** Stateless address validation: every new connection first gets a Retry (-V). */
  retry?: boolean;
  /** GnuTLS priority string (--ciphers); see `GNUTLS_CIPHERS`. */
  ciphers?: string;
  /** GnuTLS group priority (--groups), e.g. "-GROUP-ALL:+GROUP-SECP256R1". */
  groups?: string;
  /** Appends TLS secrets in NSS key-log format (GnuTLS honours SSLKEYLOGFILE). */
  keylogFile?: string;
  /** One qlog file per connection, named by the server's SCID (--qlog-dir). */
  qlogDir?: string;
  /** --preferred-ipv4-addr / --preferred-ipv6-addr ("127.0.0.1:4434", "[::1]:4434"). */
  preferredAddress?: { ipv4?: string; ipv6?: string };
  /** Simulated loss of outgoing / incoming packets, 0..1 (-t / -r). */
  txLoss?: number;
  rxLoss?: number;
  /** Idle timeout (--timeout), e.g. "30s". */
  idleTimeout?: string;
  /**
   * Datagrams per UDP GSO send (--max-gso-dgrams, ngtcp2 default 64). Set 1 when capturing: a GSO super-datagram
   * shows up on `lo` as one oversized UDP packet that tshark cannot decrypt.
   */
  maxGsoDgrams?: number;
  /** Debug output off (-q, default true). When false, --no-quic-dump --no-http-dump keep the log to events. */
  quiet?: boolean;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Keep stdout+stderr in this file (default: a temporary file removed by stop()). */
  logFile?: string;
  /** How long to wait for the socket to be bound (default 5000 ms). */
  startTimeoutMs?: number;
}

export interface GtlsServer {
  readonly host: string;
  readonly port: number;
  /** The watchdog shell; gtlsserver is its child, in the same process group. */
  readonly process: ChildProcess;
  /** The command line gtlsserver was started with. */
  readonly args: readonly string[];
  /** stdout and stderr so far (head and tail kept if huge); still readable after stop(). */
  output(): string;
  /** Where stdout and stderr go. */
  readonly logFile: string;
  /** Resolves with the exit status if the server exits on its own. */
  readonly exited: Promise<number>;
  /** SIGTERM, then SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
}

/** Starts gtlsserver and resolves once its UDP socket is bound. */
export async function startGtlsServer(options: GtlsServerOptions): Promise<GtlsServer> {
  const bin = requireExecutable('gtlsserver', GTLSSERVER_ENV);
  const host = options.host ?? '127.0.0.1';
  const fixedPort = options.port !== undefined && options.port !== 0;
  if (options.qlogDir !== undefined) await mkdir(options.qlogDir, { recursive: true });
  // A port picked by us can be taken between our probe and gtlsserver's bind; try a few.
  for (let attempt = 0; ; attempt++) {
    const port = fixedPort ? (options.port as number) : await freeUdpPort(probeHost(host));
    try {
      return await startOnce(bin, host, port, options);
    } catch (error) {
      if (fixedPort || attempt >= 2 || !(error instanceof BindError)) throw error;
    }
  }
}

class BindError extends HarnessError {}

function probeHost(host: string): string {
  if (host === '*') return '0.0.0.0';
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

export function gtlsServerArgs(options: GtlsServerOptions, host: string, port: number): string[] {
  const args: string[] = [];
  if (options.quiet ?? true) args.push('--quiet');
  else args.push('--no-quic-dump', '--no-http-dump');
  args.push(`--htdocs=${resolve(options.htdocs)}`);
  if (options.retry === true) args.push('--validate-addr');
  if (options.ciphers !== undefined) args.push(`--ciphers=${options.ciphers}`);
  if (options.groups !== undefined) args.push(`--groups=${options.groups}`);
  if (options.qlogDir !== undefined) args.push(`--qlog-dir=${resolve(options.qlogDir)}`);
  if (options.preferredAddress?.ipv4 !== undefined) args.push(`--preferred-ipv4-addr=${options.preferredAddress.ipv4}`);
  if (options.preferredAddress?.ipv6 !== undefined) args.push(`--preferred-ipv6-addr=${options.preferredAddress.ipv6}`);
  if (options.txLoss !== undefined) args.push(`--tx-loss=${options.txLoss}`);
  if (options.rxLoss !== undefined) args.push(`--rx-loss=${options.rxLoss}`);
  if (options.idleTimeout !== undefined) args.push(`--timeout=${options.idleTimeout}`);
  if (options.maxGsoDgrams !== undefined) args.push(`--max-gso-dgrams=${options.maxGsoDgrams}`);
  args.push(...(options.extraArgs ?? []));
  args.push(host, String(port), resolve(options.key), resolve(options.cert));
  return args;
}

async function startOnce(bin: string, host: string, port: number, options: GtlsServerOptions): Promise<GtlsServer> {
  const args = gtlsServerArgs(options, host, port);
  const env = { ...process.env, ...options.env };
  if (options.keylogFile !== undefined) env['SSLKEYLOGFILE'] = resolve(options.keylogFile);
  // A file, not a pipe: see spawnGuarded.
  const scratch = options.logFile === undefined ? await mkdtemp(join(tmpdir(), 'gtlsserver-')) : undefined;
  const logFile = scratch === undefined ? resolve(options.logFile ?? '') : join(scratch, 'output');
  const guarded = spawnGuarded(bin, args, { env, stdoutFile: logFile, stderrFile: logFile });
  let finalOutput: string | undefined;
  const output = (): string => finalOutput ?? readBounded(logFile);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await guarded.stop();
      finalOutput = readBounded(logFile);
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    })());
  // /proc/net/udp shows the bound socket; elsewhere fall back to the first line gtlsserver prints once running.
  const bound = await pollUntil(
    () => udpPortBound(port) ?? output().includes('Using document root'),
    options.startTimeoutMs ?? 5000,
    guarded.hasExited,
  );
  if (!bound) {
    await stop();
    const text = output();
    const message = `gtlsserver did not start on ${host}:${port}: ${text.trim() || '(no output)'}\n${bin} ${args.join(' ')}`;
    throw /bind|Address already in use/i.test(text) ? new BindError(message) : new HarnessError(message);
  }
  return { host, port, process: guarded.child, args, logFile, output, exited: guarded.exited, stop };
}
