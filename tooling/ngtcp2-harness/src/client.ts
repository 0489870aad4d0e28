// gtlsclient (ngtcp2's HTTP/3 example client on GnuTLS) run to completion.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClientLogParser } from './client-log.js';
import type { ClientLog } from './client-log.js';
import { HarnessError, readBounded, requireExecutable, spawnGuarded } from './proc.js';
import { GTLSCLIENT_ENV } from './server.js';

/**
 * GnuTLS priority strings that enable exactly one TLS 1.3 cipher suite (RFC 8446 §B.4), for `--ciphers` of
 * gtlsclient/gtlsserver. The ngtcp2 default enables all four.
 */
export const GNUTLS_CIPHERS = {
  TLS_AES_128_GCM_SHA256: 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM',
  TLS_AES_256_GCM_SHA384: 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM',
  TLS_CHACHA20_POLY1305_SHA256: 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305',
  TLS_AES_128_CCM_SHA256: 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-CCM',
} as const;

export type CipherSuiteName = keyof typeof GNUTLS_CIPHERS;

export interface GtlsClientOptions {
  /** Server address (default 127.0.0.1). A DNS name is also sent as SNI. */
  host?: string;
  port: number;
  /** Full URLs; or give `paths` and they become https://<host>:<port><path>. */
  urls?: string[];
  paths?: string[];
  /** --download: each body is saved as <dir>/<last path segment> ("index.html" for a trailing "/"). */
  downloadDir?: string;
  /** --session-file and --tp-file: written after a handshake, read on the next run (resumption, 0-RTT). */
  sessionFile?: string;
  tpFile?: string;
  /** --token-file: NEW_TOKEN tokens saved/reused (skips a Retry on the next run). */
  tokenFile?: string;
  /** --disable-early-data (resume without 0-RTT). */
  disableEarlyData?: boolean;
  /** --key-update: initiate a key update this long after the handshake completes (ms, or an ngtcp2 duration). */
  keyUpdate?: number | string;
  /** -t / -r simulated loss probability of outgoing / incoming packets (0..1). */
  txLoss?: number;
  rxLoss?: number;
  ciphers?: string;
  groups?: string;
  sni?: string;
  /** --change-local-addr: move to a new local port this long after the handshake (ms or a duration). */
  changeLocalAddr?: number | string;
  /** --nat-rebinding (with changeLocalAddr): switch without path validation, like a NAT rebinding. */
  natRebinding?: boolean;
  /** --no-preferred-addr: stay on the original address even if the server offers a preferred one. */
  noPreferredAddress?: boolean;
  /** --exit-on-all-streams-close (default true; without it the client idles until --timeout). */
  exitOnAllStreamsClose?: boolean;
  /** Idle timeout passed as --timeout (default "5s", so a broken transfer ends by itself). */
  idleTimeout?: string;
  /** --handshake-timeout (default "5s"). */
  handshakeTimeout?: string;
  /** Kill after this long (default 30 000 ms); the result then has timedOut = true. */
  timeoutMs?: number;
  /** SSLKEYLOGFILE for GnuTLS: TLS secrets appended in NSS key-log format. */
  keylogFile?: string;
  qlogFile?: string;
  /**
   * --quiet (default false). Quiet is fastest (a 50 MB download is ~4x faster) but then the client prints only
   * errors, so `log` says nothing about the handshake, 0-RTT, key updates or HTTP statuses.
   * When false the harness adds --no-quic-dump --no-http-dump (hex dumps cost far more than the transfer).
   */
  quiet?: boolean;
  /** Keep the client's raw stderr (with the libngtcp2 debug log) in this file (default: a temporary file). */
  logFile?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface GtlsClientResult {
  /**
   * gtlsclient's exit status (128+signal if killed). NB: gtlsclient 0.12 exits 0 even after a handshake timeout
   * or a failed download; use `ok`, `log` and the files.
   */
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly stdout: string;
  /** Event lines only (libngtcp2 debug lines and per-packet chatter are parsed into `log`, not kept). */
  readonly stderr: string;
  /** Where each URL's body was saved (in URL order), when `downloadDir` was given. */
  readonly files: string[];
  readonly durationMs: number;
  readonly args: readonly string[];
  readonly log: ClientLog;
  /**
   * Exit 0, no timeout, no error line, every file present; and unless quiet: handshake completed and every
   * response 2xx.
   */
  readonly ok: boolean;
}

function authority(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The file gtlsclient writes a URL's body to: the last path segment, query included, else "index.html". */
export function downloadName(url: string): string {
  const withoutScheme = url.replace(/^[a-z]+:\/\/[^/]*/i, '');
  const segment = withoutScheme.slice(withoutScheme.lastIndexOf('/') + 1);
  return segment === '' ? 'index.html' : segment;
}

function duration(value: number | string): string {
  return typeof value === 'number' ? `${Math.round(value)}ms` : value;
}

export function gtlsClientArgs(options: GtlsClientOptions): { args: string[]; urls: string[] } {
  const host = options.host ?? '127.0.0.1';
  const urls = [
    ...(options.urls ?? []),
    ...(options.paths ?? []).map((p) => `https://${authority(host, options.port)}${p.startsWith('/') ? p : `/${p}`}`),
  ];
  if (urls.length === 0) throw new HarnessError('runGtlsClient: give urls or paths');
  const args: string[] = [];
  if (options.quiet === true) args.push('--quiet');
  else args.push('--no-quic-dump', '--no-http-dump');
  if (options.exitOnAllStreamsClose ?? true) args.push('--exit-on-all-streams-close');
  args.push(`--timeout=${options.idleTimeout ?? '5s'}`);
  args.push(`--handshake-timeout=${options.handshakeTimeout ?? '5s'}`);
  if (options.downloadDir !== undefined) args.push(`--download=${resolve(options.downloadDir)}`);
  if (options.sessionFile !== undefined) args.push(`--session-file=${resolve(options.sessionFile)}`);
  if (options.tpFile !== undefined) args.push(`--tp-file=${resolve(options.tpFile)}`);
  if (options.tokenFile !== undefined) args.push(`--token-file=${resolve(options.tokenFile)}`);
  if (options.disableEarlyData === true) args.push('--disable-early-data');
  if (options.keyUpdate !== undefined) args.push(`--key-update=${duration(options.keyUpdate)}`);
  if (options.txLoss !== undefined) args.push(`--tx-loss=${options.txLoss}`);
  if (options.rxLoss !== undefined) args.push(`--rx-loss=${options.rxLoss}`);
  if (options.ciphers !== undefined) args.push(`--ciphers=${options.ciphers}`);
  if (options.groups !== undefined) args.push(`--groups=${options.groups}`);
  if (options.sni !== undefined) args.push(`--sni=${options.sni}`);
  if (options.changeLocalAddr !== undefined) args.push(`--change-local-addr=${duration(options.changeLocalAddr)}`);
  if (options.natRebinding === true) args.push('--nat-rebinding');
  if (options.noPreferredAddress === true) args.push('--no-preferred-addr');
  if (options.qlogFile !== undefined) args.push(`--qlog-file=${resolve(options.qlogFile)}`);
  args.push(...(options.extraArgs ?? []));
  args.push(host.startsWith('[') ? host.slice(1, -1) : host, String(options.port), ...urls);
  return { args, urls };
}

/** Runs gtlsclient to completion (or `timeoutMs`) and reports what happened. */
export async function runGtlsClient(options: GtlsClientOptions): Promise<GtlsClientResult> {
  const bin = requireExecutable('gtlsclient', GTLSCLIENT_ENV);
  const { args, urls } = gtlsClientArgs(options);
  if (options.downloadDir !== undefined) await mkdir(options.downloadDir, { recursive: true });
  const env = { ...process.env, ...options.env };
  if (options.keylogFile !== undefined) env['SSLKEYLOGFILE'] = resolve(options.keylogFile);
  // Output goes to files, not pipes (see spawnGuarded), and is parsed after the run.
  const scratch = await mkdtemp(join(tmpdir(), 'gtlsclient-'));
  const stdoutFile = join(scratch, 'stdout');
  const stderrFile = options.logFile === undefined ? join(scratch, 'stderr') : resolve(options.logFile);
  try {
    const started = performance.now();
    const guarded = spawnGuarded(bin, args, { env, stdoutFile, stderrFile });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      guarded.signal('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    let exitCode: number;
    try {
      exitCode = await guarded.exited;
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - started;
    const parser = new ClientLogParser();
    for await (const chunk of createReadStream(stderrFile, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      parser.push(chunk as string);
    }
    const log = parser.end();
    const stdout = readBounded(stdoutFile);
    return await finish(options, urls, args, { exitCode, timedOut, durationMs, log, stdout });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function finish(
  options: GtlsClientOptions,
  urls: string[],
  args: string[],
  run: { exitCode: number; timedOut: boolean; durationMs: number; log: ClientLog; stdout: string },
): Promise<GtlsClientResult> {
  const { exitCode, timedOut, durationMs, log } = run;
  const files =
    options.downloadDir === undefined ? [] : urls.map((u) => join(resolve(options.downloadDir ?? '.'), downloadName(u)));
  const present = await Promise.all(files.map((f) => stat(f).then((s) => s.isFile(), () => false)));
  const quiet = options.quiet === true;
  const ok =
    exitCode === 0 &&
    !timedOut &&
    log.errors.length === 0 &&
    present.every(Boolean) &&
    (quiet ||
      (log.handshakeCompleted &&
        log.responses.length >= urls.length &&
        log.responses.every((r) => r.status !== undefined && r.status >= 200 && r.status < 300)));
  return {
    exitCode,
    timedOut,
    stdout: run.stdout,
    stderr: log.events.join('\n'),
    files,
    durationMs,
    args,
    log,
    ok,
  };
}
