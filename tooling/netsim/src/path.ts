import { Link } from './link.js';
import type { LinkOptions, Packet, Sized } from './link.js';
import type { Simulator } from './simulator.js';

/** Bytes in flight that fill a pipe of `bandwidth` bit/s over `rttMs`: the bandwidth-delay product. */
export function bdpBytes(bandwidth: number, rttMs: number): number {
  return (bandwidth * rttMs) / 8000;
}

/** Two independent directions between endpoints A and B: `forward` (A→B, the bottleneck) and `backward` (B→A). */
export class Path<F extends Sized = Packet, B extends Sized = Packet> {
  constructor(
    readonly forward: Link<F>,
    readonly backward: Link<B>,
  ) {}

  /** Round-trip propagation delay in ms (no serialisation, no queueing). */
  get baseRtt(): number {
    return this.forward.config.delay + this.backward.config.delay;
  }

  /** Bandwidth-delay product of the forward direction over `baseRtt`, bytes. */
  get bdp(): number {
    return bdpBytes(this.forward.config.bandwidth, this.baseRtt);
  }
}

/**
 * Builds a path: `forward` as given (typically the bottleneck, with its queue limit and loss) and a return link
 * that by default has the forward bandwidth and delay and neither a queue limit nor loss (an ACK path).
 */
export function duplex<F extends Sized = Packet, B extends Sized = Packet>(
  sim: Simulator,
  forward: LinkOptions<F>,
  backward: Partial<LinkOptions<B>> = {},
): Path<F, B> {
  const fwd = new Link<F>(sim, { name: 'forward', ...forward });
  const back = new Link<B>(sim, {
    name: 'backward',
    delay: forward.delay ?? 0,
    ...backward,
    bandwidth: backward.bandwidth ?? forward.bandwidth,
  });
  return new Path(fwd, back);
}
