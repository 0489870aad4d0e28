/**
 * One packet-number space (RFC 9000 §12.3): its receive tracker, its CRYPTO streams (RFC 9001 §4.1.3) and the
 * packet protection of its encryption level. The application space also carries 0-RTT and key phases (kept by the
 * connection, which owns the key-update logic).
 */
import type { PacketProtection } from '@pathquic/wire-codec';
import { ReceivedPacketTracker } from '../ack-tracker.js';
import { CryptoReassemblyBuffer } from '../reassembly.js';
import { CryptoSendBuffer } from './crypto-stream.js';

export type Level = 'initial' | 'handshake' | 'application';
export const LEVELS: readonly Level[] = ['initial', 'handshake', 'application'];

export class PacketSpace {
  readonly tracker: ReceivedPacketTracker;
  readonly cryptoSend: CryptoSendBuffer;
  readonly cryptoRecv = new CryptoReassemblyBuffer();
  read: PacketProtection | undefined;
  write: PacketProtection | undefined;
  nextPn = 0;
  discarded = false;
  /** Ack-eliciting probe datagrams owed after a PTO (RFC 9002 §6.2.4). */
  probes = 0;

  constructor(
    readonly level: Level,
    maxAckDelay: number,
    ackDelayExponent: number,
  ) {
    this.tracker = new ReceivedPacketTracker({ space: level, maxAckDelay, ackDelayExponent });
    this.cryptoSend = new CryptoSendBuffer(level);
  }

  discard(): void {
    this.discarded = true;
    this.read = undefined;
    this.write = undefined;
    this.probes = 0;
  }
}
