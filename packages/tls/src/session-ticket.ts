import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { TlsReader, TlsWriter, fromUtf8, utf8 } from './bytes.js';
import { TlsAlertError, TlsConfigError } from './errors.js';
import type { AntiReplay, SessionTicket } from './config.js';
import type { CipherSuite } from './codes.js';

/** What a server seals into a ticket: everything it needs to resume without server-side state. */
export interface TicketState {
  readonly cipherSuite: CipherSuite;
  /** ms since the epoch, server clock */
  readonly createdAt: number;
  readonly ageAdd: number;
  /** seconds */
  readonly lifetime: number;
  readonly psk: Uint8Array;
  readonly alpn: string;
  readonly serverName: string | undefined;
  readonly earlyData: boolean;
}

const TICKET_FORMAT = 1;
const NONCE_LENGTH = 24;
/** RFC 8446 §4.6.1: servers MUST NOT use any value greater than 604800 seconds (7 days). */
export const MAX_TICKET_LIFETIME = 604800;

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new TlsConfigError(`ticketKey must be 32 bytes, got ${key.length}`);
}

/**
 * Seals the state with XChaCha20-Poly1305 under the server's ticket key; a random 192-bit nonce per ticket makes
 * nonce reuse across processes sharing the key negligible.
 */
export function sealTicket(key: Uint8Array, state: TicketState, random: (n: number) => Uint8Array): Uint8Array {
  checkKey(key);
  const w = new TlsWriter(128);
  w.u8(TICKET_FORMAT).u16(state.cipherSuite);
  w.u32(Math.floor(state.createdAt / 0x100000000)).u32(state.createdAt >>> 0);
  w.u32(state.ageAdd).u32(state.lifetime).u8(state.earlyData ? 1 : 0);
  w.vectorBytes(1, state.psk).vectorBytes(1, utf8(state.alpn)).vectorBytes(2, utf8(state.serverName ?? ''));
  const nonce = random(NONCE_LENGTH);
  const sealed = xchacha20poly1305(key, nonce).encrypt(w.finish());
  const out = new Uint8Array(NONCE_LENGTH + sealed.length);
  out.set(nonce);
  out.set(sealed, NONCE_LENGTH);
  return out;
}

/** Undefined when the ticket was not made with this key or is malformed: the server then falls back to a full handshake. */
export function openTicket(key: Uint8Array, ticket: Uint8Array): TicketState | undefined {
  checkKey(key);
  if (ticket.length < NONCE_LENGTH + 16) return undefined;
  let plain: Uint8Array;
  try {
    plain = xchacha20poly1305(key, ticket.subarray(0, NONCE_LENGTH)).decrypt(ticket.subarray(NONCE_LENGTH));
  } catch {
    return undefined;
  }
  try {
    const r = new TlsReader(plain, 0, plain.length, 'ticket');
    if (r.u8() !== TICKET_FORMAT) return undefined;
    const cipherSuite = r.u16() as CipherSuite;
    const createdAt = r.u32() * 0x100000000 + r.u32();
    const ageAdd = r.u32();
    const lifetime = r.u32();
    const earlyData = r.u8() === 1;
    const psk = r.vector(1, 32, 48, 'psk').slice();
    const alpn = fromUtf8(r.vector(1, 0, 255, 'alpn'));
    const serverName = fromUtf8(r.vector(2, 0, 0xffff, 'server name'));
    r.expectEnd();
    if (alpn === undefined || serverName === undefined) return undefined;
    return { cipherSuite, createdAt, ageAdd, lifetime, psk, alpn, serverName: serverName || undefined, earlyData };
  } catch (e) {
    if (e instanceof TlsAlertError) return undefined;
    throw e;
  }
}

const SESSION_FORMAT = 1;

/** Serialises a client's SessionTicket for storage. It holds a secret (the PSK): store it like a key. */
export function encodeSessionTicket(t: SessionTicket): Uint8Array {
  const w = new TlsWriter(256);
  w.u8(SESSION_FORMAT).u16(t.cipherSuite);
  w.u32(Math.floor(t.receivedAt / 0x100000000)).u32(t.receivedAt >>> 0);
  w.u32(t.ageAdd).u32(t.lifetime).u32(t.maxEarlyDataSize);
  w.vectorBytes(1, t.psk).vectorBytes(2, t.ticket).vectorBytes(1, utf8(t.alpn)).vectorBytes(2, utf8(t.serverName ?? ''));
  w.u8(t.peerTransportParameters === undefined ? 0 : 1);
  if (t.peerTransportParameters !== undefined) w.vectorBytes(2, t.peerTransportParameters);
  return w.finish();
}

/** Throws TlsConfigError when the bytes are not a stored session. */
export function decodeSessionTicket(bytes: Uint8Array): SessionTicket {
  try {
    const r = new TlsReader(bytes, 0, bytes.length, 'session');
    if (r.u8() !== SESSION_FORMAT) throw new TlsConfigError('unknown session format');
    const cipherSuite = r.u16() as CipherSuite;
    const receivedAt = r.u32() * 0x100000000 + r.u32();
    const ageAdd = r.u32();
    const lifetime = r.u32();
    const maxEarlyDataSize = r.u32();
    const psk = r.vector(1, 32, 48, 'psk').slice();
    const ticket = r.vector(2, 1, 0xffff, 'ticket').slice();
    const alpn = fromUtf8(r.vector(1, 0, 255, 'alpn'));
    const serverName = fromUtf8(r.vector(2, 0, 0xffff, 'server name'));
    const peerTransportParameters = r.u8() === 1 ? r.vector(2, 0, 0xffff, 'transport parameters').slice() : undefined;
    r.expectEnd();
    if (alpn === undefined || serverName === undefined) throw new TlsConfigError('session holds invalid UTF-8');
    return {
      cipherSuite,
      receivedAt,
      ageAdd,
      lifetime,
      maxEarlyDataSize,
      psk,
      ticket,
      alpn,
      serverName: serverName || undefined,
      peerTransportParameters,
    };
  } catch (e) {
    if (e instanceof TlsAlertError) throw new TlsConfigError(`not a stored session: ${e.message}`);
    throw e;
  }
}

/**
 * A bounded single-use register of 0-RTT ClientHellos (RFC 8446 §8.1/§8.2 in spirit): a binder is accepted once
 * within `windowMs`; older entries are forgotten, which is safe because the server also rejects 0-RTT whose ticket
 * age is off by more than its tolerance (RFC 8446 §8.3). When full it refuses, so an attacker cannot flush it.
 * One register covers one process; a cluster needs a shared store behind the same interface.
 */
export class SingleUseAntiReplay implements AntiReplay {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly capacity = 100_000,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  accept(identity: Uint8Array, now: number): boolean {
    for (const [k, expires] of this.seen) {
      if (expires > now) break; // insertion order = expiry order (constant window)
      this.seen.delete(k);
    }
    const key = Buffer.from(identity.buffer, identity.byteOffset, identity.byteLength).toString('base64');
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.capacity) return false;
    this.seen.set(key, now + this.windowMs);
    return true;
  }
}
