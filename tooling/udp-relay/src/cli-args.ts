/** Command-line parsing for pathquic-udp-relay (kept apart from cli.ts, which starts the relay when imported). */
import { parseArgs } from 'node:util';
import type { Direction, Impairments } from './index.js';
import { parseEndpoint, parseRate, parseSize } from './index.js';

export const USAGE = `usage: pathquic-udp-relay --target HOST:PORT [options]
  --listen HOST:PORT        where clients connect (default 127.0.0.1:0, an ephemeral port)
  --target HOST:PORT        the server to forward to (required)
  --loss P                  drop probability in [0, 1]
  --delay MS                one-way delay in ms
  --jitter MS               extra delay, uniform in [0, MS)
  --reorder P               probability of holding a datagram back by --reorder-delay
  --reorder-delay MS        (default 10)
  --duplicate P             duplication probability
  --rate RATE               bandwidth cap, e.g. 100mbit, 512kbit, 1gbit
  --queue BYTES             drop-tail queue limit for --rate, e.g. 64kb (default 50 ms worth)
  --burst BYTES             token-bucket depth for --rate (default 5 ms worth)
  --direction D             both (default), c2s or s2c: which direction the flags impair
  --seed N                  PRNG seed (default 1)
  --multi                   one outgoing socket per client address
  --rebind-every S          rebind the outgoing socket every S seconds (NAT rebinding)
  --stats-interval S        print stats every S seconds
  --help`;

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} expects a number, got ${JSON.stringify(value)}`);
  return n;
}

export interface CliOptions {
  listen: { host: string; port: number };
  target: { host: string; port: number };
  directions: readonly Direction[];
  impairments: Partial<Impairments>;
  seed: number;
  multi: boolean;
  rebindEverySeconds: number | undefined;
  statsIntervalSeconds: number | undefined;
  help: boolean;
}

export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      listen: { type: 'string' },
      target: { type: 'string' },
      loss: { type: 'string' },
      delay: { type: 'string' },
      jitter: { type: 'string' },
      reorder: { type: 'string' },
      'reorder-delay': { type: 'string' },
      duplicate: { type: 'string' },
      rate: { type: 'string' },
      queue: { type: 'string' },
      burst: { type: 'string' },
      direction: { type: 'string' },
      seed: { type: 'string' },
      multi: { type: 'boolean' },
      'rebind-every': { type: 'string' },
      'stats-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const help = values.help === true;
  if (values.target === undefined && !help) throw new Error('--target HOST:PORT is required');
  const direction = values.direction ?? 'both';
  const directions: Direction[] =
    direction === 'both'
      ? ['clientToServer', 'serverToClient']
      : direction === 'c2s'
        ? ['clientToServer']
        : direction === 's2c'
          ? ['serverToClient']
          : [];
  if (directions.length === 0) throw new Error(`--direction must be both, c2s or s2c, got ${direction}`);
  const impairments: Partial<Impairments> = {};
  const set = <K extends keyof Impairments>(key: K, value: Impairments[K] | undefined): void => {
    if (value !== undefined) impairments[key] = value;
  };
  set('loss', number(values.loss, 'loss'));
  set('delayMs', number(values.delay, 'delay'));
  set('jitterMs', number(values.jitter, 'jitter'));
  set('reorderProbability', number(values.reorder, 'reorder'));
  set('reorderDelayMs', number(values['reorder-delay'], 'reorder-delay'));
  set('duplicateProbability', number(values.duplicate, 'duplicate'));
  if (values.rate !== undefined) set('bandwidthBps', parseRate(values.rate));
  if (values.queue !== undefined) set('queueBytes', parseSize(values.queue));
  if (values.burst !== undefined) set('burstBytes', parseSize(values.burst));
  return {
    listen: values.listen === undefined ? { host: '127.0.0.1', port: 0 } : parseEndpoint(values.listen),
    target: values.target === undefined ? { host: '127.0.0.1', port: 0 } : parseEndpoint(values.target),
    directions,
    impairments,
    seed: number(values.seed, 'seed') ?? 1,
    multi: values.multi === true,
    rebindEverySeconds: number(values['rebind-every'], 'rebind-every'),
    statsIntervalSeconds: number(values['stats-interval'], 'stats-interval'),
    help,
  };
}

