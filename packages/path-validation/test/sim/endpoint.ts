import { MigrationController } from '../../src/index.js';
import type { MigrationEvent, PathAddress } from '../../src/index.js';
import { counterRandom } from '../helpers.js';
import { splitAddress } from './network.js';
import type { SimDatagram, SimFrame, SimNetwork } from './network.js';

export function pathOf(local: string, remote: string): PathAddress {
  const l = splitAddress(local);
  const r = splitAddress(remote);
  return { key: `${local}>${remote}`, remoteAddress: r.ip, remotePort: r.port, localAddress: l.ip, localPort: l.port };
}

/** One endpoint of the simulated connection: the MigrationController plus the bits of a core it needs. */
export class SimEndpoint {
  readonly controller: MigrationController;
  readonly events: MigrationEvent[] = [];
  readonly dropped: string[] = [];
  nextPacketNumber = 0;
  closed = false;
  #nextDataAt = 0;

  constructor(
    readonly name: string,
    readonly network: SimNetwork,
    role: 'client' | 'server',
    initialPath: PathAddress,
    seed: number,
  ) {
    this.controller = new MigrationController({ role, initialPath, random: counterRandom(seed), pto: 100, maxAckDelay: 0 });
    this.controller.onAddressValidated();
    this.controller.onHandshakeConfirmed();
  }

  /** One scheduling round at `now`: receive, run timers, send probes and a data packet every `dataInterval` ms. */
  tick(now: number, dataInterval = 50): void {
    if (this.closed) return;
    for (const datagram of this.network.receive(now, (a) => this.owns(a))) this.#receive(datagram, now);
    const timeout = this.controller.nextTimeout();
    if (timeout !== undefined && timeout <= now) this.controller.onTimeout(now);
    this.#collectEvents();
    for (let tx = this.controller.pollTransmit(now); tx !== undefined; tx = this.controller.pollTransmit(now)) {
      const frames: SimFrame[] = tx.frames.map((f) => ({ type: f.type, data: f.data }));
      if (tx.elicitNonProbing) frames.push({ type: 'ping' });
      this.#send(tx.path, frames, tx.padTo, now);
    }
    if (now >= this.#nextDataAt) {
      this.#nextDataAt = now + dataInterval;
      const active = this.controller.activePath;
      const size = Math.min(1200, this.controller.allowance(active.key));
      if (size >= 50) this.#send(active, [{ type: 'data' }], size, now);
    }
  }

  owns(address: string): boolean {
    return this.localAddresses.has(address);
  }

  readonly localAddresses = new Set<string>();

  #send(path: PathAddress, frames: SimFrame[], size: number, now: number): void {
    const [local, remote] = path.key.split('>') as [string, string];
    this.controller.onDatagramSent(path.key, size);
    this.network.send({ src: local, dst: remote, packetNumber: this.nextPacketNumber++, frames, size }, now);
  }

  #receive(datagram: SimDatagram, now: number): void {
    const path = pathOf(datagram.dst, datagram.src);
    const nonProbing = datagram.frames.some((f) => f.type === 'data' || f.type === 'ping');
    const verdict = this.controller.onDatagram({
      path,
      bytes: datagram.size,
      now,
      packetNumber: datagram.packetNumber,
      nonProbing,
    });
    if (verdict !== 'process') {
      this.dropped.push(verdict);
      return;
    }
    for (const frame of datagram.frames) {
      if (frame.type === 'path_challenge') this.controller.onPathChallenge(path.key, frame.data!);
      if (frame.type === 'path_response') this.controller.onPathResponse(frame.data!, now);
    }
    this.#collectEvents();
  }

  #collectEvents(): void {
    for (let e = this.controller.pollEvent(); e !== undefined; e = this.controller.pollEvent()) {
      this.events.push(e);
      if (e.type === 'no-viable-path') this.closed = true;
    }
  }
}
