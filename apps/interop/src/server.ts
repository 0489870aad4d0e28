/** `pathquic-interop server`: the files of a directory over HTTP/3 until SIGINT/SIGTERM. */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { H3ErrorCode, fileHandler, serveH3, type H3Handler, type H3Server } from '@pathquic/h3';
import { listen, type QuicConnection, type QuicPathChange } from '@pathquic/transport-dgram';
import type { ServerArgs } from './args.js';
import { hostPort, transferFigures } from './format.js';

export interface RunningServer {
  readonly port: number;
  /** Graceful stop: GOAWAY on every connection, finish the requests, close, close the socket. */
  stop(): Promise<void>;
}

/** How long a graceful shutdown waits for requests in progress before closing anyway. */
const SHUTDOWN_GRACE_MS = 2000;

export async function startServer(args: ServerArgs, log: (line: string) => void): Promise<RunningServer> {
  const info = await stat(args.root).catch(() => undefined);
  if (info?.isDirectory() !== true) throw new Error(`--root ${args.root} is not a directory`);
  const [cert, key] = await Promise.all([readFile(args.cert), readFile(args.key)]);
  const server = await listen({
    host: args.host,
    port: args.port,
    cert,
    key,
    alpn: ['h3'],
    retry: args.retry,
    // A fresh key per run: tickets resume connections to this process (what the interop runs need).
    ticketKey: randomBytes(32),
    earlyData: true,
    ...(args.qlogDir !== undefined && { qlogDir: args.qlogDir }),
    ...(args.keylog !== undefined && { keylog: args.keylog }),
    ...(args.cipherSuites !== undefined && { tls: { cipherSuites: args.cipherSuites } }),
  });
  const address = server.address();
  log(`listening on ${hostPort(address.address, address.port)} (h3${args.retry ? ', Retry' : ''}), serving ${args.root}`);

  const files = fileHandler(args.root);
  const handler: H3Handler = async (request) => {
    const response = await files(request);
    if (!args.quiet) log(`${request.method} ${request.path ?? ''} -> ${response.status}`);
    return response;
  };
  const sessions = new Set<H3Server>();
  const onConnection = (conn: QuicConnection): void => {
    const started = performance.now();
    const peer = conn.remoteAddress;
    const who = hostPort(peer.address, peer.port);
    if (!args.quiet) log(`connection from ${who}${conn.resumed ? ' (resumed' + (conn.earlyDataAccepted ? ', 0-RTT)' : ')') : ''}`);
    const h3 = serveH3(conn, handler, {
      onError: (err) => {
        if (!args.quiet) log(`${who}: ${err instanceof Error ? err.message : String(err)}`);
      },
    });
    sessions.add(h3);
    conn.on('migrated', (change: QuicPathChange) => {
      if (args.quiet) return;
      const to = change.to.remote;
      log(`${who} moved to ${hostPort(to.address, to.port)} (${change.reason})`);
    });
    void conn.closed.then((close) => {
      sessions.delete(h3);
      if (args.quiet) return;
      const s = conn.stats();
      log(
        `connection from ${who} closed (${close.remote ? 'by the peer' : close.source}, code 0x${close.closeCode.toString(16)}): ` +
          `sent ${transferFigures(s.bytesSent, performance.now() - started)}, rtt ${s.rtt.toFixed(2)} ms, lost ${s.lost} packets`,
      );
    });
  };
  void (async () => {
    for await (const conn of server) onConnection(conn);
  })();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
      await Promise.race([Promise.allSettled([...sessions].map((h3) => h3.shutdown())), grace]);
      await server.close({ closeCode: H3ErrorCode.H3_NO_ERROR, reason: 'server shutting down', timeoutMs: 1000 });
    })());
  return { port: address.port, stop };
}
