import type { PathAddress, RandomSource } from '../src/index.js';

/** Deterministic "random" bytes: a counter, so every challenge differs and tests replay identically. */
export function counterRandom(seed = 1): RandomSource {
  let counter = seed;
  return (length) => {
    const bytes = new Uint8Array(length);
    let value = counter++;
    for (let i = length - 1; i >= 0 && value > 0; i--) {
      bytes[i] = value & 0xff;
      value = Math.floor(value / 256);
    }
    return bytes;
  };
}

export function path(remoteAddress: string, remotePort: number, localAddress = '10.0.0.1', localPort = 4433): PathAddress {
  return { key: `${localAddress}:${localPort}>${remoteAddress}:${remotePort}`, remoteAddress, remotePort, localAddress, localPort };
}

export function drain<T>(poll: () => T | undefined): T[] {
  const out: T[] = [];
  for (let item = poll(); item !== undefined; item = poll()) out.push(item);
  return out;
}
