/**
 * Stateless reset tokens (RFC 9000 §10.3) and the datagram that carries one.
 *
 * Tokens are derived statelessly, as RFC 9000 §10.3.2 suggests: token = HMAC-SHA256(static key, connection ID)
 * truncated to 16 bytes. Any process holding the key computes the token of any CID it issued, so an endpoint that lost
 * a connection's state can still answer a packet for it with a valid Stateless Reset.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual } from './bytes.js';
import { CidConfigError } from './errors.js';
import { defaultRandom, type RandomSource } from './random.js';

/** Stateless Reset Token length (RFC 9000 §10.3, §19.15). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;
/**
 * Smallest datagram that can be a Stateless Reset: 1 first byte + 4 unpredictable bytes (38 bits with the two fixed
 * bits) + the 16-byte token (RFC 9000 §10.3). Shorter datagrams are never resets.
 */
export const MIN_STATELESS_RESET_LENGTH = 21;
/**
 * Triggering packets up to this size are answered with a reset one byte shorter (RFC 9000 §10.3: "43 bytes or
 * shorter").
 */
export const SHORT_TRIGGER_LENGTH = 43;
/** Default size of a reset sent for a larger trigger: as long as the shortest packet answered byte-for-byte minus one. */
export const DEFAULT_STATELESS_RESET_LENGTH = SHORT_TRIGGER_LENGTH - 1;
/**
 * Shortest static key accepted: 16 bytes of entropy, the token size. RFC 9000 §10.3.2 only requires the token to be
 * difficult to guess; a shorter key would be the weakest link.
 */
export const MIN_RESET_KEY_LENGTH = 16;
/** Size of a generated key: one SHA-256 block's worth of HMAC key is more than enough; 32 bytes matches the output. */
export const GENERATED_RESET_KEY_LENGTH = 32;

/**
 * The static key from which every stateless reset token of an endpoint is derived (RFC 9000 §10.3.2).
 *
 * Keep one key per endpoint (or per server cluster that routes a CID to the same server deterministically, RFC 9000
 * §10.3.2 "stateless reset oracle"): the HMAC of a CID must not be computable by anyone else, and a CID must never be
 * issued twice under the same key (the router and the issuer's `isCidInUse` hook take care of that).
 */
export class StatelessResetKey {
  /** HMAC state with the key already absorbed; cloned per token so the key schedule runs once. */
  private readonly keyed: ReturnType<typeof hmac.create>;

  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length < MIN_RESET_KEY_LENGTH) {
      throw new CidConfigError(`a stateless reset key needs at least ${MIN_RESET_KEY_LENGTH} bytes`);
    }
    this.keyed = hmac.create(sha256, key);
  }

  /** A fresh random key. Only for endpoints that never need to reset connections whose state they lost. */
  static generate(random: RandomSource = defaultRandom): StatelessResetKey {
    return new StatelessResetKey(random(GENERATED_RESET_KEY_LENGTH));
  }

  /** The 16-byte token of `cid`: HMAC-SHA256(key, cid) truncated (RFC 9000 §10.3.2). */
  token(cid: Uint8Array): Uint8Array {
    const mac = this.keyed.clone().update(cid).digest();
    return mac.slice(0, STATELESS_RESET_TOKEN_LENGTH);
  }

  /** Whether `token` is the token of `cid`, compared in constant time. */
  verify(cid: Uint8Array, token: Uint8Array): boolean {
    return constantTimeEqual(this.token(cid), token);
  }
}

export interface StatelessResetOptions {
  /** The token of the CID the triggering packet was sent to (`StatelessResetKey.token(dcid)`). */
  token: Uint8Array;
  /** Size of the datagram that triggered the reset. */
  triggerLength: number;
  /** Upper bound on the reset's size for large triggers; default 42. Never exceeds `triggerLength - 1`. */
  maxLength?: number;
  random?: RandomSource;
}

/**
 * Builds a Stateless Reset datagram (RFC 9000 §10.3), or returns undefined when none may be sent.
 *
 * - It is always shorter than its trigger, so two endpoints cannot loop (RFC 9000 §10.3.3), and therefore never three
 *   times larger (the amplification rule of §10.3). A trigger of 21 bytes or less gets no answer.
 * - A trigger of at most 43 bytes is answered one byte shorter (§10.3); larger ones with `maxLength` bytes.
 * - It looks like a short-header packet: first bits 0b01, the rest unpredictable, the token in the last 16 bytes.
 * Whether to send one at all (e.g. only for short-header packets that no connection claims, rate-limited) is the
 * endpoint's decision.
 */
export function createStatelessReset(opts: StatelessResetOptions): Uint8Array | undefined {
  if (opts.token.length !== STATELESS_RESET_TOKEN_LENGTH) {
    throw new CidConfigError(`a stateless reset token is ${STATELESS_RESET_TOKEN_LENGTH} bytes, got ${opts.token.length}`);
  }
  const maxLength = opts.maxLength ?? DEFAULT_STATELESS_RESET_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < MIN_STATELESS_RESET_LENGTH) {
    throw new CidConfigError(`maxLength must be an integer >= ${MIN_STATELESS_RESET_LENGTH}`);
  }
  const limit = opts.triggerLength - 1;
  if (limit < MIN_STATELESS_RESET_LENGTH) return undefined;
  const length = opts.triggerLength <= SHORT_TRIGGER_LENGTH ? limit : Math.min(limit, maxLength);
  const random = opts.random ?? defaultRandom;
  const out = new Uint8Array(length);
  out.set(random(length - STATELESS_RESET_TOKEN_LENGTH), 0);
  // RFC 9000 §10.3: Header Form 0, Fixed Bit 1, the remaining six bits unpredictable.
  out[0] = 0x40 | (out[0]! & 0x3f);
  out.set(opts.token, length - STATELESS_RESET_TOKEN_LENGTH);
  return out;
}
