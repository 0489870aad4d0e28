/**
 * pathquic-interop: an HTTP/3 file server and client on pathquic, for interop runs against other QUIC stacks.
 * Run `pathquic-interop help` (or `node apps/interop/dist/cli.js help`) for the flags.
 */
import { USAGE, UsageError, parseCli } from './args.js';
import { runClient } from './client.js';
import { startServer } from './server.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const err = (line: string): void => void process.stderr.write(`${line}\n`);

function describe(e: unknown): string {
  if (e instanceof Error) {
    const reason = (e as { reason?: unknown }).reason;
    return `${e.name}${typeof reason === 'string' ? ` (${reason})` : ''}: ${e.message}`;
  }
  return String(e);
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseCli(argv);
  } catch (e) {
    // parseArgs reports unknown or malformed flags as TypeErrors with an ERR_PARSE_ARGS_* code.
    if (e instanceof UsageError || (e as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) {
      err(`pathquic-interop: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.command === 'help') {
    out(USAGE);
    return 0;
  }
  if (args.command === 'server') {
    const server = await startServer(args, out);
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string): void => {
        out(`${signal}: shutting down`);
        resolve();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    await server.stop();
    return 0;
  }
  const timer = setTimeout(() => {
    err(`pathquic-interop client: timed out after ${args.timeoutMs / 1000} s`);
    process.exit(1);
  }, args.timeoutMs);
  timer.unref();
  const result = await runClient(args, { out, err });
  clearTimeout(timer);
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Sockets and timers are closed by now; exit promptly even if a stray handle lingers.
    setImmediate(() => process.exit(code));
  },
  (e: unknown) => {
    err(`pathquic-interop: ${describe(e)}`);
    process.exit(1);
  },
);
