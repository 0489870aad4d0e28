/**
 * A tiny deterministic network for tests: datagrams between "ip:port" addresses, with a fixed one-way delay,
 * seeded random loss, per-link blackouts, an MTU, and an optional NAT that rewrites a client's source address.
 */

export interface SimFrame {
  type: 'data' | 'ping' | 'path_challenge' | 'path_response' | 'ack';
  data?: Uint8Array;
  /** For 'ack': the packet number acknowledged. */
  acked?: number;
}

export interface SimDatagram {
  src: string;
  dst: string;
  packetNumber: number;
  frames: SimFrame[];
  size: number;
}

/** Mulberry32: small, seedable, good enough for choosing which datagrams to drop. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimNetwork {
  delay = 20;
  lossRate = 0;
  mtu = 65527;
  /** Addresses that currently neither send nor receive (an interface gone down, a NAT mapping expired). */
  readonly down = new Set<string>();
  /** Client-side NAT: private source address → public address seen by the server. */
  readonly nat = new Map<string, string>();
  readonly #inFlight: { at: number; datagram: SimDatagram }[] = [];
  readonly #random: () => number;
  delivered = 0;
  dropped = 0;

  constructor(seed = 1) {
    this.#random = seededRandom(seed);
  }

  send(datagram: SimDatagram, now: number): void {
    const src = this.nat.get(datagram.src) ?? datagram.src;
    if (this.down.has(datagram.src) || this.down.has(src) || this.down.has(datagram.dst)) {
      this.dropped++;
      return;
    }
    if (datagram.size > this.mtu || this.#random() < this.lossRate) {
      this.dropped++;
      return;
    }
    this.#inFlight.push({ at: now + this.delay, datagram: { ...datagram, src } });
  }

  /** Datagrams for `owns` arriving by `now`, with the NAT's reverse mapping applied to their destination. */
  receive(now: number, owns: (address: string) => boolean): SimDatagram[] {
    const out: SimDatagram[] = [];
    for (let i = 0; i < this.#inFlight.length; ) {
      const entry = this.#inFlight[i]!;
      let dst = entry.datagram.dst;
      for (const [privateAddress, publicAddress] of this.nat) if (publicAddress === dst) dst = privateAddress;
      if (entry.at > now || !owns(dst)) {
        i++;
        continue;
      }
      this.#inFlight.splice(i, 1);
      if (this.down.has(dst)) {
        this.dropped++;
        continue;
      }
      this.delivered++;
      out.push({ ...entry.datagram, dst });
    }
    return out;
  }
}

export function splitAddress(address: string): { ip: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { ip: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
