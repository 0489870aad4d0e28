/** Parsers for the command line: host:port endpoints, bit rates and byte sizes. */

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `127.0.0.1:4433`, `[::1]:4433` or `localhost:4433`. */
export function parseEndpoint(text: string): Endpoint {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]+):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  if (match === null) throw new Error(`expected host:port or [ipv6]:port, got ${JSON.stringify(text)}`);
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`port out of range in ${text}`);
  return { host, port };
}

const RATE_UNITS: Record<string, number> = { '': 1, bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, k: 1e3, m: 1e6, g: 1e9 };

/**
 * Parses a bit rate in bits per second: `100mbit`, `1.5Gbit`, `64kbit/s`, `500000`. Units are decimal (k = 1000) and
 * always bits; `…bps` is refused because tc reads it as bytes. `0`, `off` and `unlimited` mean no cap (Infinity).
 */
export function parseRate(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'unlimited' || t === 'inf') return Infinity;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*?)(?:\/s)?$/.exec(t);
  const unit = match === null ? undefined : RATE_UNITS[match[2] ?? ''];
  if (match === null || unit === undefined) {
    throw new Error(`expected a rate such as 100mbit, 64kbit or 1gbit, got ${JSON.stringify(text)}`);
  }
  const value = Number(match[1]) * unit;
  return value === 0 ? Infinity : value;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, kib: 1024, mib: 1024 * 1024 };

/** Parses a size in bytes: `64000`, `64kb`, `64KiB`, `1mb`. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text.trim().toLowerCase());
  const unit = match === null ? undefined : SIZE_UNITS[match[2] ?? ''];
  if (match === null || unit === undefined) throw new Error(`expected a size such as 64kb or 100000, got ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * unit);
}
