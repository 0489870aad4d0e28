#!/usr/bin/env -S node --import tsx
/**
 * pathquic-udp-relay: runs a UDP relay from the command line.
 *
 *   node --import tsx src/cli.ts --listen 127.0.0.1:4433 --target 127.0.0.1:4434 \
 *     --loss 0.05 --delay 10 --reorder 0.01 --duplicate 0.01 --rate 100mbit --seed 1
 *
 * Impairment flags apply to both directions unless --direction says otherwise. Stats are printed as JSON on SIGINT
 * (then the relay exits) and on SIGUSR1, and every --stats-interval seconds when given.
 */
import type { CliOptions } from './cli-args.js';
import { USAGE, parseCli } from './cli-args.js';
import type { Direction, Impairments, UdpRelay } from './index.js';
import { createUdpRelay } from './index.js';

async function main(): Promise<void> {
  let cli: CliOptions;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`pathquic-udp-relay: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  const pick = (d: Direction): Partial<Impairments> => (cli.directions.includes(d) ? cli.impairments : {});
  const relay: UdpRelay = await createUdpRelay({
    listen: cli.listen,
    target: cli.target,
    seed: cli.seed,
    multipleClients: cli.multi,
    clientToServer: pick('clientToServer'),
    serverToClient: pick('serverToClient'),
    onError: (error) => console.error(`pathquic-udp-relay: ${error.message}`),
  });
  const { address, port } = relay.address;
  const shown = (host: string): string => (host.includes(':') ? `[${host}]` : host);
  console.log(`relaying ${shown(address)}:${port} -> ${shown(relay.target.address)}:${relay.target.port}`);
  const printStats = (): void => console.log(JSON.stringify({ ...relay.stats, clients: relay.clients }, null, 2));
  const timers: ReturnType<typeof setInterval>[] = [];
  if (cli.statsIntervalSeconds !== undefined && cli.statsIntervalSeconds > 0) {
    timers.push(setInterval(printStats, cli.statsIntervalSeconds * 1000));
  }
  if (cli.rebindEverySeconds !== undefined && cli.rebindEverySeconds > 0) {
    timers.push(
      setInterval(() => {
        relay.rebind().then(
          (a) => console.log(`rebound to ${shown(a.address)}:${a.port}`),
          (error: Error) => console.error(`pathquic-udp-relay: rebind: ${error.message}`),
        );
      }, cli.rebindEverySeconds * 1000),
    );
  }
  process.on('SIGUSR1', printStats);
  const stop = (): void => {
    for (const t of timers) clearInterval(t);
    printStats();
    void relay.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
