/**
 * CidRouter: the endpoint-level demultiplexer. Maps the connection IDs this endpoint issued to whatever the endpoint
 * keeps per connection (or per connection and path), and zero-length CIDs to the same by remote address.
 */
import { CidConfigError } from './errors.js';
import { CidTable } from './cid-table.js';
import { MAX_CID_LENGTH } from './generator.js';
import { defaultRandom, type RandomSource } from './random.js';
import type { CidEvent } from './local-issuer.js';

const HEADER_FORM_BIT = 0x80; // RFC 8999 §5.1: 1 = long header
/** Offset of a long header's DCID Length byte: after byte 0 and the 32-bit version (RFC 8999 §5.1). */
const LONG_DCID_LENGTH_OFFSET = 5;

export interface CidRouterOptions {
  /**
   * Length of the CIDs this endpoint issues. Short headers carry no DCID length, so the receiver must know it without
   * per-connection state (RFC 9000 §5.2, §17.3); every issuer of the endpoint uses this one length. 0 = every
   * connection of this endpoint uses zero-length CIDs and short-header packets are routed by address.
   */
  localCidLength: number;
  /** Randomness for the hash tables' secret keys (see cid-table.ts). */
  random?: RandomSource;
  /** Expected number of CIDs, to size the table up front. */
  initialCapacity?: number;
}

export class CidRouter<T> {
  readonly localCidLength: number;
  private readonly table: CidTable<T>;
  private readonly byAddress = new Map<string, T>();

  constructor(opts: CidRouterOptions) {
    const { localCidLength } = opts;
    if (!Number.isInteger(localCidLength) || localCidLength < 0 || localCidLength > MAX_CID_LENGTH) {
      throw new CidConfigError(`localCidLength must be 0..${MAX_CID_LENGTH}, got ${localCidLength}`);
    }
    this.localCidLength = localCidLength;
    this.table = new CidTable<T>(opts.random ?? defaultRandom, opts.initialCapacity);
  }

  /** Number of CID routes (address routes not included). */
  get size(): number {
    return this.table.size;
  }

  /** Number of address routes for zero-length CIDs. */
  get addressCount(): number {
    return this.byAddress.size;
  }

  /**
   * Routes `cid` to `value`. Adding the same pair again is a no-op. A CID already routed elsewhere is a programmer
   * error: issuers must not hand out a CID in use (pass `isCidInUse: (cid) => router.has(cid)` to LocalCidIssuer).
   */
  add(cid: Uint8Array, value: T): void {
    if (cid.length === 0) throw new CidConfigError('zero-length connection IDs are routed by address: use addAddress');
    if (cid.length > MAX_CID_LENGTH) throw new CidConfigError(`connection IDs are at most ${MAX_CID_LENGTH} bytes`);
    const existing = this.table.get(cid);
    if (existing !== undefined && existing !== value) {
      throw new CidConfigError('connection ID is already routed to another value');
    }
    this.table.set(cid, value);
  }

  /** Removes the route of `cid`; when `value` is given, only if the CID routes to it. Returns whether it was removed. */
  remove(cid: Uint8Array, value?: T): boolean {
    if (value !== undefined && this.table.get(cid) !== value) return false;
    return this.table.delete(cid);
  }

  get(cid: Uint8Array): T | undefined {
    return this.table.get(cid);
  }

  has(cid: Uint8Array): boolean {
    return this.table.has(cid);
  }

  /** Routes packets with a zero-length DCID arriving from `addressKey` (e.g. "203.0.113.7:4433") to `value`. */
  addAddress(addressKey: string, value: T): void {
    const existing = this.byAddress.get(addressKey);
    if (existing !== undefined && existing !== value) {
      throw new CidConfigError(`address ${addressKey} is already routed to another value`);
    }
    this.byAddress.set(addressKey, value);
  }

  removeAddress(addressKey: string, value?: T): boolean {
    if (value !== undefined && this.byAddress.get(addressKey) !== value) return false;
    return this.byAddress.delete(addressKey);
  }

  getAddress(addressKey: string): T | undefined {
    return this.byAddress.get(addressKey);
  }

  /**
   * Applies a LocalCidIssuer's events: 'issued' adds the CID, 'retired' removes it (only if it still routes to
   * `value`). Zero-length CIDs never appear in events.
   */
  applyEvents(events: readonly CidEvent[], value: T): void {
    for (const e of events) {
      if (e.type === 'issued') this.add(e.cid, value);
      else this.remove(e.cid, value);
    }
  }

  /**
   * The value for the first packet of `datagram`, from its DCID: a long header carries the DCID length (RFC 8999
   * §5.1), a short header does not and uses `localCidLength` (RFC 8999 §5.2, RFC 9000 §5.2). Zero-length DCIDs route
   * by `addressKey`. Returns undefined when nothing matches or the datagram is too short; the endpoint then decides
   * between a new connection, a Stateless Reset or a silent drop (RFC 9000 §5.2.1-§5.2.3, §10.3).
   *
   * Allocation-free: the DCID is looked up in place.
   */
  route(datagram: Uint8Array, addressKey: string): T | undefined {
    const first = datagram[0];
    if (first === undefined) return undefined;
    if ((first & HEADER_FORM_BIT) !== 0) {
      const length = datagram[LONG_DCID_LENGTH_OFFSET];
      if (length === undefined) return undefined;
      if (length === 0) return this.byAddress.get(addressKey);
      const offset = LONG_DCID_LENGTH_OFFSET + 1;
      if (length > MAX_CID_LENGTH || datagram.length < offset + length) return undefined;
      return this.table.getAt(datagram, offset, length);
    }
    const length = this.localCidLength;
    if (length === 0) return this.byAddress.get(addressKey);
    if (datagram.length < 1 + length) return undefined;
    return this.table.getAt(datagram, 1, length);
  }

  clear(): void {
    this.table.clear();
    this.byAddress.clear();
  }
}
