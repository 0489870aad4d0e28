// The pathquic quick-start demo (`npm run demo` at the repository root): a local pathquic HTTP/3 server and client
// transfer a file with a live progress bar, then print the transfer's figures. `--codec` shows the older
// walk-through of packet protection with @pathquic/wire-codec instead.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCodecDemo } from './codec.js';
import { runServerChild } from './server-child.js';
import { runTransferDemo } from './transfer.js';

const USAGE = `usage: pathquic-demo [--size MB] [--migrate-after S] [--codec]
  (default)          start a pathquic server and client on loopback and transfer a generated file (default 50 MB)
  --size MB          how much to transfer, in MB (10^6 bytes; fractions allowed)
  --migrate-after S  S seconds into the transfer, move the client to a new local port (connection migration)
  --codec            instead: build, protect and decode QUIC packets with @pathquic/wire-codec, step by step`;

async function main(argv: string[]): Promise<number> {
  // Internal: the server half of the transfer demo, forked by the parent.
  if (argv[0] === '--serve-child') {
    await runServerChild(Number(argv[1]));
    return -1; // keeps running until the parent says exit
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        size: { type: 'string', default: '50' },
        'migrate-after': { type: 'string' },
        codec: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.codec) return runCodecDemo() ? 0 : 1;
  const mb = Number(values.size);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 4000) {
    console.error(`--size must be a number of MB in (0, 4000], got ${JSON.stringify(values.size)}\n${USAGE}`);
    return 2;
  }
  let migrateAfter: number | undefined;
  if (values['migrate-after'] !== undefined) {
    migrateAfter = Number(values['migrate-after']);
    if (!Number.isFinite(migrateAfter) || migrateAfter < 0) {
      console.error(`--migrate-after must be a number of seconds >= 0, got ${JSON.stringify(values['migrate-after'])}\n${USAGE}`);
      return 2;
    }
  }
  const size = Math.round(mb * 1e6);
  return (await runTransferDemo({ size, script: fileURLToPath(import.meta.url), ...(migrateAfter !== undefined && { migrateAfter }) })) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(`pathquic demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
