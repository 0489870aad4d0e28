/**
 * Address-validation tokens (RFC 9000 §8.1.2 Retry, §8.1.3 NEW_TOKEN, §8.1.4 integrity, §17.2.5 Retry packet).
 *
 * A token is opaque to the client; only the server that issued it (or a server sharing its key) reads it back:
 *
 * ```
 * marker(1) | key id(1) | nonce(24) | XChaCha20-Poly1305( plaintext, aad = marker | key id ) incl. 16-byte tag
 * plaintext = issued_at(float64 ms) | family(1) | address(4 / 16 / len(1)+text) [| port(2) | odcid_len(1) | odcid |
 *             rscid_len(1) | rscid   (Retry only)]
 * ```
 *
 * The marker says Retry or NEW_TOKEN, so garbage is rejected without decrypting and a server can tell the two
 * kinds apart (§8.1.3: a NEW_TOKEN token must not be usable as a Retry token, and the server treats an invalid
 * Retry token differently from an invalid NEW_TOKEN token). The marker and key id are authenticated as associated
 * data, so flipping one turns the token invalid rather than into the other kind. A random 192-bit nonce per token
 * keeps tokens unlinkable (§8.1.3: a NEW_TOKEN token must not let an observer link it to its connection).
 *
 * Nothing here throws for network input: {@link AddressTokenKey.validate} returns a typed result. Programmer errors
 * (a bad key length, a CID over 20 bytes, a non-finite `now`) throw {@link AddressTokenError}.
 *
 * `now` is milliseconds on a clock shared by every server that shares the key; NEW_TOKEN tokens outlive a process,
 * so give those a wall clock. Replay protection for NEW_TOKEN tokens (§8.1.4 "servers SHOULD ... only once") needs
 * state and is left to the endpoint.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

/** The two token kinds: from a Retry packet (§8.1.2) or from a NEW_TOKEN frame (§8.1.3). */
export type AddressTokenKind = 'retry' | 'new_token';

/** First byte of a token: which kind, and that it is one of ours (format version 1). */
export const AddressTokenMarker = {
  RETRY: 0xa1,
  NEW_TOKEN: 0xa2,
} as const;

/** Returns `n` fresh unpredictable bytes. */
export type AddressTokenRandom = (n: number) => Uint8Array;

/** The client address a token is bound to, as node:dgram reports it. */
export interface TokenAddress {
  /** IPv4 or IPv6 literal; `::ffff:a.b.c.d` and `a.b.c.d` are the same host; an IPv6 zone (`%eth0`) is ignored. */
  address: string;
  port: number;
}

export interface RetryTokenContents {
  kind: 'retry';
  /** `now` at issue. */
  issuedAt: number;
  /** The client's first Destination CID: the server's original_destination_connection_id (RFC 9000 §7.3). */
  originalDestinationCid: Uint8Array;
  /**
   * The Source CID of the Retry packet: the server's retry_source_connection_id (RFC 9000 §7.3). The client uses it
   * as the Destination CID of the Initial carrying the token (§17.2.5.2), which the caller may compare.
   */
  retrySourceCid: Uint8Array;
}

export interface NewTokenContents {
  kind: 'new_token';
  issuedAt: number;
}

export type AddressTokenContents = RetryTokenContents | NewTokenContents;

/** Why a token is `invalid`. */
export type AddressTokenInvalidReason =
  /** Too short, too long, or an unknown first byte: not a token of ours. */
  | 'not_ours'
  /** The key id is neither the current nor the previous key's. */
  | 'unknown_key'
  /** AEAD authentication failed: forged, corrupted, or sealed with another key. */
  | 'authentication_failed'
  /** Authentic but undecodable (cannot happen unless the key is shared with an incompatible encoder). */
  | 'malformed'
  /** Issued later than `now` by more than the allowed clock skew. */
  | 'from_future';

export type AddressTokenValidation =
  | { status: 'valid'; token: AddressTokenContents }
  /**
   * `claimedKind` is what the first byte says. It is not authenticated, but it is what a server needs to choose
   * between closing with INVALID_TOKEN for a bad Retry token (§8.1.2) and ignoring a bad NEW_TOKEN token (§8.1.3).
   */
  | { status: 'invalid'; reason: AddressTokenInvalidReason; claimedKind: AddressTokenKind | undefined }
  | { status: 'expired'; kind: AddressTokenKind; issuedAt: number }
  | { status: 'wrong_address'; kind: AddressTokenKind }
  /** Authentic, but not the kind the caller asked for (`kind` is the token's real kind). */
  | { status: 'wrong_kind'; kind: AddressTokenKind };

export interface AddressTokenKeyOptions {
  /** 32-byte key. Default: 32 bytes from `random`. */
  key?: Uint8Array;
  /** Id carried in the token's second byte (0..255). Servers sharing a key must agree on it. Default 0. */
  keyId?: number;
  /** A key still accepted for validation, e.g. the one before a rotation done by another server. */
  previousKey?: Uint8Array;
  /** Default: `keyId - 1` modulo 256. */
  previousKeyId?: number;
  /** Source of keys and nonces. Default: `globalThis.crypto.getRandomValues`. */
  random?: AddressTokenRandom;
  /** Retry tokens are good for one round trip: default 10 s (§8.1.2 "short expiration"). */
  retryLifetimeMs?: number;
  /** NEW_TOKEN tokens are for a later connection: default 24 h (§8.1.3). */
  newTokenLifetimeMs?: number;
  /** A token issued at most this far in the future (clock differences between servers) is accepted. Default 2 s. */
  maxClockSkewMs?: number;
}

export interface ValidateTokenOptions {
  /** Answer `wrong_kind` for an authentic token of the other kind. */
  expect?: AddressTokenKind;
}

/** Programmer errors: bad keys, lifetimes, CIDs, ports or times passed by the caller. */
export class AddressTokenError extends TypeError {
  override readonly name = 'AddressTokenError';
}

export const ADDRESS_TOKEN_KEY_LENGTH = 32;
export const DEFAULT_RETRY_TOKEN_LIFETIME_MS = 10_000;
export const DEFAULT_NEW_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MAX_CLOCK_SKEW_MS = 2_000;
/** RFC 9000 §17.2: v1 connection IDs are at most 20 bytes. */
const MAX_CID_LENGTH = 20;
const NONCE_LENGTH = 24;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 2 + NONCE_LENGTH;
/** issued_at + the shortest address (family 0, length, one byte of text): the smallest plaintext. */
const MIN_PLAINTEXT = 8 + 2 + 1;
/** Retry: issued_at, family + text address of up to 255 bytes, port, two CIDs with lengths. */
const MAX_PLAINTEXT = 8 + 2 + 255 + 2 + 2 * (1 + MAX_CID_LENGTH);
const MIN_TOKEN_LENGTH = HEADER_LENGTH + MIN_PLAINTEXT + TAG_LENGTH;
const MAX_TOKEN_LENGTH = HEADER_LENGTH + MAX_PLAINTEXT + TAG_LENGTH;

const FAMILY_TEXT = 0;
const FAMILY_IPV4 = 4;
const FAMILY_IPV6 = 6;

const MAX_FILL = 65536;
const defaultRandom: AddressTokenRandom = (n) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += MAX_FILL) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + MAX_FILL)));
  return out;
};

interface KeySlot {
  id: number;
  key: Uint8Array;
}

/**
 * Seals and opens Retry and NEW_TOKEN tokens with one current key and, after {@link rotate}, the previous one.
 */
export class AddressTokenKey {
  readonly retryLifetimeMs: number;
  readonly newTokenLifetimeMs: number;
  readonly maxClockSkewMs: number;
  readonly #random: AddressTokenRandom;
  #current: KeySlot;
  #previous: KeySlot | undefined;

  constructor(options: AddressTokenKeyOptions = {}) {
    this.#random = options.random ?? defaultRandom;
    this.retryLifetimeMs = requireDuration('retryLifetimeMs', options.retryLifetimeMs ?? DEFAULT_RETRY_TOKEN_LIFETIME_MS);
    this.newTokenLifetimeMs = requireDuration(
      'newTokenLifetimeMs',
      options.newTokenLifetimeMs ?? DEFAULT_NEW_TOKEN_LIFETIME_MS,
    );
    const skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) {
      throw new AddressTokenError(`maxClockSkewMs must be a finite number >= 0, got ${String(skew)}`);
    }
    this.maxClockSkewMs = skew;
    const keyId = requireByte('keyId', options.keyId ?? 0);
    this.#current = { id: keyId, key: checkKey('key', options.key ?? this.#freshKey()) };
    if (options.previousKey !== undefined) {
      const previousId = requireByte('previousKeyId', options.previousKeyId ?? (keyId + 255) % 256);
      if (previousId === keyId) throw new AddressTokenError('previousKeyId must differ from keyId');
      this.#previous = { id: previousId, key: checkKey('previousKey', options.previousKey) };
    }
  }

  /** Id of the key new tokens are sealed with. */
  get keyId(): number {
    return this.#current.id;
  }

  /**
   * Starts sealing with a new key (given, or fresh from `random`) under the next key id; the current key becomes
   * the previous one and is still accepted, the one before it is dropped. Rotate less often than the longest token
   * lifetime, or valid tokens become `unknown_key`.
   */
  rotate(newKey?: Uint8Array): void {
    const key = checkKey('newKey', newKey ?? this.#freshKey());
    this.#previous = this.#current;
    this.#current = { id: (this.#current.id + 1) % 256, key };
  }

  /** A token for a Retry packet (RFC 9000 §8.1.2, §17.2.5), bound to the client's address and port. */
  sealRetryToken(
    now: number,
    client: TokenAddress,
    originalDestinationCid: Uint8Array,
    retrySourceCid: Uint8Array,
  ): Uint8Array {
    requireTime(now);
    requirePort(client.port);
    requireCid('originalDestinationCid', originalDestinationCid);
    requireCid('retrySourceCid', retrySourceCid);
    const address = encodeAddress(client.address);
    const plain = new Uint8Array(8 + address.length + 2 + 2 + originalDestinationCid.length + retrySourceCid.length);
    const view = new DataView(plain.buffer);
    view.setFloat64(0, now);
    let at = 8;
    plain.set(address, at);
    at += address.length;
    view.setUint16(at, client.port);
    at += 2;
    plain[at++] = originalDestinationCid.length;
    plain.set(originalDestinationCid, at);
    at += originalDestinationCid.length;
    plain[at++] = retrySourceCid.length;
    plain.set(retrySourceCid, at);
    return this.#seal(AddressTokenMarker.RETRY, plain);
  }

  /**
   * A token for a NEW_TOKEN frame (RFC 9000 §8.1.3), bound to the client's IP address only: a later connection
   * from the same host normally comes from another port.
   */
  sealNewToken(now: number, client: Pick<TokenAddress, 'address'>): Uint8Array {
    requireTime(now);
    const address = encodeAddress(client.address);
    const plain = new Uint8Array(8 + address.length);
    new DataView(plain.buffer).setFloat64(0, now);
    plain.set(address, 8);
    return this.#seal(AddressTokenMarker.NEW_TOKEN, plain);
  }

  /**
   * Checks a token from an Initial packet (RFC 9000 §8.1.2–§8.1.4) against the address it came from. Never throws
   * for the token's content. Checks, in order: format, key, authenticity, kind, address (IP; plus port for Retry
   * tokens), issue time not in the future, lifetime.
   */
  validate(token: Uint8Array, client: TokenAddress, now: number, options: ValidateTokenOptions = {}): AddressTokenValidation {
    requireTime(now);
    if (!(token instanceof Uint8Array)) return { status: 'invalid', reason: 'not_ours', claimedKind: undefined };
    const claimedKind = peekAddressTokenKind(token);
    if (claimedKind === undefined || token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
      return { status: 'invalid', reason: 'not_ours', claimedKind };
    }
    const keyId = token[1];
    const slot =
      keyId === this.#current.id ? this.#current : keyId === this.#previous?.id ? this.#previous : undefined;
    if (slot === undefined) return { status: 'invalid', reason: 'unknown_key', claimedKind };

    let plain: Uint8Array;
    try {
      const nonce = token.subarray(2, HEADER_LENGTH);
      plain = xchacha20poly1305(slot.key, nonce, token.subarray(0, 2)).decrypt(token.subarray(HEADER_LENGTH));
    } catch {
      return { status: 'invalid', reason: 'authentication_failed', claimedKind };
    }
    const kind = claimedKind; // authenticated now: the marker is associated data
    const parsed = parsePlaintext(kind, plain);
    if (parsed === undefined) return { status: 'invalid', reason: 'malformed', claimedKind };

    if (options.expect !== undefined && options.expect !== kind) return { status: 'wrong_kind', kind };
    if (!bytesEqual(parsed.address, encodeAddressOrUndefined(client.address))) return { status: 'wrong_address', kind };
    // Retry tokens are bound to the port too (§8.1.2 the Retry answers this very 4-tuple); NEW_TOKEN ones are not.
    if (kind === 'retry' && parsed.port !== client.port) return { status: 'wrong_address', kind };
    if (parsed.issuedAt > now + this.maxClockSkewMs) return { status: 'invalid', reason: 'from_future', claimedKind };
    const lifetime = kind === 'retry' ? this.retryLifetimeMs : this.newTokenLifetimeMs;
    if (now - parsed.issuedAt > lifetime) return { status: 'expired', kind, issuedAt: parsed.issuedAt };

    const contents: AddressTokenContents =
      kind === 'retry'
        ? {
            kind,
            issuedAt: parsed.issuedAt,
            originalDestinationCid: parsed.odcid,
            retrySourceCid: parsed.rscid,
          }
        : { kind, issuedAt: parsed.issuedAt };
    return { status: 'valid', token: contents };
  }

  #seal(marker: number, plain: Uint8Array): Uint8Array {
    const nonce = this.#random(NONCE_LENGTH);
    if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
      throw new AddressTokenError(`random(${NONCE_LENGTH}) must return ${NONCE_LENGTH} bytes`);
    }
    const out = new Uint8Array(HEADER_LENGTH + plain.length + TAG_LENGTH);
    out[0] = marker;
    out[1] = this.#current.id;
    out.set(nonce, 2);
    const sealed = xchacha20poly1305(this.#current.key, nonce, out.subarray(0, 2)).encrypt(plain);
    out.set(sealed, HEADER_LENGTH);
    return out;
  }

  #freshKey(): Uint8Array {
    return this.#random(ADDRESS_TOKEN_KEY_LENGTH);
  }
}

/** The kind a token's first byte claims, or undefined when the token is not one of ours. Cheap; not authenticated. */
export function peekAddressTokenKind(token: Uint8Array): AddressTokenKind | undefined {
  const marker = token[0];
  if (marker === AddressTokenMarker.RETRY) return 'retry';
  if (marker === AddressTokenMarker.NEW_TOKEN) return 'new_token';
  return undefined;
}

interface ParsedPlaintext {
  issuedAt: number;
  address: Uint8Array;
  port: number;
  odcid: Uint8Array;
  rscid: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function parsePlaintext(kind: AddressTokenKind, plain: Uint8Array): ParsedPlaintext | undefined {
  if (plain.length < MIN_PLAINTEXT) return undefined;
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const issuedAt = view.getFloat64(0);
  if (!Number.isFinite(issuedAt)) return undefined;
  let at = 8;
  const family = plain[at];
  let addressLength: number;
  if (family === FAMILY_IPV4) addressLength = 1 + 4;
  else if (family === FAMILY_IPV6) addressLength = 1 + 16;
  else if (family === FAMILY_TEXT) addressLength = 2 + (plain[at + 1] ?? 0);
  else return undefined;
  if (at + addressLength > plain.length) return undefined;
  const address = plain.subarray(at, at + addressLength);
  at += addressLength;
  if (kind === 'new_token') {
    return at === plain.length ? { issuedAt, address, port: 0, odcid: EMPTY, rscid: EMPTY } : undefined;
  }
  if (at + 3 > plain.length) return undefined;
  const port = view.getUint16(at);
  at += 2;
  const odcidLength = plain[at++] ?? 0;
  if (odcidLength > MAX_CID_LENGTH || at + odcidLength + 1 > plain.length) return undefined;
  const odcid = plain.slice(at, at + odcidLength);
  at += odcidLength;
  const rscidLength = plain[at++] ?? 0;
  if (rscidLength > MAX_CID_LENGTH || at + rscidLength !== plain.length) return undefined;
  const rscid = plain.slice(at, at + rscidLength);
  return { issuedAt, address, port, odcid, rscid };
}

/** family(1) + 4 or 16 address bytes, or family 0 + length + lower-cased text for anything unparseable. */
function encodeAddress(address: string): Uint8Array {
  const encoded = encodeAddressOrUndefined(address);
  if (encoded === undefined) {
    throw new AddressTokenError(`client address must be a non-empty IP literal of at most 255 bytes, got ${String(address)}`);
  }
  return encoded;
}

const textEncoder = new TextEncoder();

function encodeAddressOrUndefined(address: unknown): Uint8Array | undefined {
  if (typeof address !== 'string' || address.length === 0) return undefined;
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return withFamily(FAMILY_IPV4, v4);
  const v6 = parseIpv6(address);
  if (v6 !== undefined) {
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 host a dual-stack socket reports.
    if (isV4Mapped(v6)) return withFamily(FAMILY_IPV4, v6.subarray(12));
    return withFamily(FAMILY_IPV6, v6);
  }
  const text = textEncoder.encode(address.toLowerCase());
  if (text.length > 255) return undefined;
  const out = new Uint8Array(2 + text.length);
  out[0] = FAMILY_TEXT;
  out[1] = text.length;
  out.set(text, 2);
  return out;
}

function withFamily(family: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + bytes.length);
  out[0] = family;
  out.set(bytes, 1);
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/;

function parseIpv6(input: string): Uint8Array | undefined {
  const zone = input.indexOf('%');
  let text = (zone >= 0 ? input.slice(0, zone) : input).toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':')) : [];
  const groups: number[] = [];
  const push = (parts: string[], allowV4Last: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      if (allowV4Last && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return false;
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!HEX_GROUP.test(part)) return false;
        groups.push(parseInt(part, 16));
      }
    }
    return true;
  };
  if (!push(head, halves.length === 1)) return undefined;
  const headCount = groups.length;
  if (!push(tail, true)) return undefined;
  const tailCount = groups.length - headCount;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return undefined;
  const out = new Uint8Array(16);
  const write = (group: number, index: number): void => {
    out[2 * index] = group >> 8;
    out[2 * index + 1] = group & 0xff;
  };
  for (let i = 0; i < headCount; i++) write(groups[i] ?? 0, i);
  for (let i = 0; i < tailCount; i++) write(groups[headCount + i] ?? 0, 8 - tailCount + i);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkKey(name: string, key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== ADDRESS_TOKEN_KEY_LENGTH) {
    throw new AddressTokenError(`${name} must be ${ADDRESS_TOKEN_KEY_LENGTH} bytes`);
  }
  return key.slice();
}

function requireByte(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new AddressTokenError(`${name} must be an integer in [0, 255], got ${String(value)}`);
  }
  return value;
}

function requireDuration(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new AddressTokenError(`${name} must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

function requireTime(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new AddressTokenError(`now must be a finite time in milliseconds, got ${String(now)}`);
  }
}

function requirePort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AddressTokenError(`port must be an integer in [0, 65535], got ${String(port)}`);
  }
}

function requireCid(name: string, cid: Uint8Array): void {
  if (!(cid instanceof Uint8Array) || cid.length > MAX_CID_LENGTH) {
    throw new AddressTokenError(`${name} must be a Uint8Array of at most ${MAX_CID_LENGTH} bytes`);
  }
}
