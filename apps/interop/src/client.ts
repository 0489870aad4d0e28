/** `pathquic-interop client`: every URL over one HTTP/3 connection, bodies saved to a directory. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { H3ErrorCode, fetchH3, saveBody } from '@pathquic/h3';
import { encodeSessionTicket, type SessionTicket } from '@pathquic/tls';
import { connect, type QuicConnection, type QuicPath, type QuicPathChange } from '@pathquic/transport-dgram';
import { hostPort } from './format.js';
import { outputName, type ClientArgs } from './args.js';
import { transferFigures } from './format.js';

export interface FileResult {
  readonly url: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly bytes: number;
  readonly ms: number;
  readonly error: string | undefined;
}

export interface ClientResult {
  readonly ok: boolean;
  readonly files: FileResult[];
  readonly resumed: boolean;
  readonly earlyData: 'accepted' | 'rejected' | 'not attempted';
}

interface Log {
  out(line: string): void;
  err(line: string): void;
}

/** How long to wait after the transfers for a session ticket when none has arrived yet. */
const TICKET_WAIT_MS = 1000;

function message(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}: ${err.message}${typeof code === 'number' ? ` (code 0x${code.toString(16)})` : ''}`;
  }
  return String(err);
}

async function loadSession(file: string | undefined, log: Log): Promise<Uint8Array | undefined> {
  if (file === undefined || !existsSync(file)) return undefined;
  try {
    const bytes = new Uint8Array(await readFile(file));
    return bytes.length > 0 ? bytes : undefined;
  } catch (err) {
    log.err(`warning: cannot read --session-file ${file}: ${message(err)}; connecting without resumption`);
    return undefined;
  }
}

async function storeSession(file: string, ticket: SessionTicket): Promise<void> {
  // Through a temporary file so a concurrent reader never sees half a ticket.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, encodeSessionTicket(ticket), { mode: 0o600 });
  await rename(tmp, file);
}

async function fetchOne(conn: QuicConnection, url: URL, dir: string, log: Log, quiet: boolean): Promise<FileResult> {
  const path = join(dir, outputName(url));
  const started = performance.now();
  let status: number | undefined;
  let bytes = 0;
  try {
    const response = await fetchH3(conn, url);
    status = response.status;
    bytes = await saveBody(response.body, path);
    const ms = performance.now() - started;
    if (!quiet || status !== 200) log.out(`${url.pathname} ${status}: ${transferFigures(bytes, ms)} -> ${path}`);
    return { url: url.href, path, status, bytes, ms, error: status === 200 ? undefined : `status ${status}` };
  } catch (err) {
    const ms = performance.now() - started;
    log.err(`${url.pathname}: failed after ${bytes} bytes: ${message(err)}`);
    return { url: url.href, path, status, bytes, ms, error: message(err) };
  }
}

export async function runClient(args: ClientArgs, log: Log): Promise<ClientResult> {
  await mkdir(args.output, { recursive: true });
  const ca = args.ca === undefined ? undefined : await readFile(args.ca, 'utf8');
  const session = await loadSession(args.sessionFile, log);
  const first = args.urls[0]!;
  // URL.hostname keeps the brackets of an IPv6 literal.
  const host = first.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = first.port === '' ? 443 : Number(first.port);

  const started = performance.now();
  let ticket: SessionTicket | undefined;
  let ticketArrived: (() => void) | undefined;
  const conn = await connect({
    host,
    port,
    alpn: ['h3'],
    servername: host,
    ...(ca !== undefined && { ca }),
    ...(args.insecure && { insecure: true }),
    ...(session !== undefined && { session, earlyData: true }),
    ...(args.keylog !== undefined && { keylog: args.keylog }),
    ...(args.qlogDir !== undefined && { qlogDir: args.qlogDir }),
    ...(args.cipherSuites !== undefined && { tls: { cipherSuites: args.cipherSuites } }),
  });
  conn.on('sessionticket', (t: SessionTicket) => {
    ticket = t;
    ticketArrived?.();
  });
  let earlyDataRejected = false;
  conn.on('earlydatarejected', () => {
    earlyDataRejected = true;
  });
  const closedEarly = conn.closed.then((c) => c);
  const describe = (p: QuicPath): string =>
    `${hostPort(p.local.address, p.local.port)} -> ${hostPort(p.remote.address, p.remote.port)}${p.rtt === undefined ? '' : `, rtt ${p.rtt.toFixed(2)} ms`}`;
  conn.on('migrated', (change: QuicPathChange) => {
    if (!args.quiet) log.out(`path changed (${change.reason}): now ${describe(change.to)}`);
  });
  conn.on('pathfailed', (e: { path: QuicPath | undefined; reason: string }) => {
    log.err(`path validation failed (${e.reason})${e.path === undefined ? '' : `: ${describe(e.path)}`}`);
  });
  let migration: Promise<void> | undefined;
  let migrateTimer: NodeJS.Timeout | undefined;
  if (args.migrateAfter !== undefined) {
    // RFC 9000 §9.2: move to a new local port (a new socket) mid-transfer; the server validates and follows.
    migrateTimer = setTimeout(() => {
      migration = conn.migrate().then(
        () => undefined,
        (err: unknown) => log.err(`migration failed: ${message(err)}`),
      );
    }, args.migrateAfter * 1000);
  }

  const files = await Promise.all(args.urls.map((url) => fetchOne(conn, url, args.output, log, args.quiet)));
  const totalMs = performance.now() - started;
  clearTimeout(migrateTimer);
  await migration;
  // With 0-RTT connect() returned before the handshake completed; its outcome is known by now (or it failed).
  const handshake = await Promise.race([conn.ready.then(() => undefined, (err: unknown) => err), closedEarly]);
  const resumed = conn.resumed;
  const earlyData: ClientResult['earlyData'] =
    session === undefined ? 'not attempted' : conn.earlyDataAccepted && !earlyDataRejected ? 'accepted' : 'rejected';

  if (args.sessionFile !== undefined && handshake === undefined) {
    ticket ??= conn.sessionTicket;
    if (ticket === undefined) {
      await new Promise<void>((resolve) => {
        ticketArrived = resolve;
        setTimeout(resolve, TICKET_WAIT_MS).unref();
      });
    }
    if (ticket !== undefined) await storeSession(args.sessionFile, ticket);
    else log.err(`warning: the server sent no session ticket; ${args.sessionFile} not written`);
  }

  const s = conn.stats();
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const ok = files.every((f) => f.error === undefined && f.status === 200);
  if (!args.quiet || !ok) {
    log.out(
      `${ok ? 'done' : 'FAILED'}: ${files.length} file(s), ${transferFigures(total, totalMs)}; ` +
        `resumed ${resumed ? 'yes' : 'no'}, 0-RTT ${earlyData}, rtt ${s.rtt.toFixed(2)} ms, ` +
        `cwnd ${s.cwnd} bytes, lost ${s.lost} packets`,
    );
  }
  conn.close({ closeCode: H3ErrorCode.H3_NO_ERROR, reason: '' });
  // Let the CONNECTION_CLOSE go out and the closing period pass (short on loopback); never hang on it.
  await Promise.race([conn.terminated, new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
  return { ok, files, resumed, earlyData };
}
