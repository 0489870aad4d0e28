/**
 * TLS 1.3 key schedule (RFC 8446 §7.1), transcript hash (§4.4.1), Finished computation (§4.4.4), resumption PSK
 * (§4.6.1), key update (§7.2), record keys (§7.3) and exporters (§7.5).
 *
 * Every function returns freshly allocated bytes: callers may keep or wipe them without affecting anything else.
 */
import { expand as nobleExpand, extract as nobleExtract } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { CipherSuite, HandshakeType } from './codes.js';
import { TlsConfigError } from './errors.js';

export type HashName = 'sha256' | 'sha384';

/** The part of a noble hasher this module relies on. */
interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): Hasher;
}

const HASHES = { sha256, sha384 } as const;

function hashFunction(hash: HashName): (typeof HASHES)[HashName] {
  // Reachable only from untyped JavaScript callers.
  if (hash !== 'sha256' && hash !== 'sha384') throw new TlsConfigError(`unsupported hash ${String(hash)}`);
  return HASHES[hash];
}

function createHasher(hash: HashName): Hasher {
  return hashFunction(hash).create() as Hasher;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** RFC 8446 §7.1 HkdfLabel.label is `opaque label<7..255>` and always starts with "tls13 ". */
const LABEL_PREFIX = encoder.encode('tls13 ');
const MAX_LABEL_LENGTH = 255;
/** RFC 8446 §7.1 HkdfLabel.context is `opaque context<0..255>`. */
const MAX_CONTEXT_LENGTH = 255;
/** RFC 8446 §5.3: every TLS 1.3 AEAD uses a 12-byte nonce, so the write IV is 12 bytes. */
const IV_LENGTH = 12;

export function hashLengthOf(hash: HashName): number {
  return hashFunction(hash).outputLen;
}

export function digest(hash: HashName, data: Uint8Array): Uint8Array {
  return hashFunction(hash)(data);
}

export function hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(hashFunction(hash), key, data);
}

/** RFC 5869 §2.2 HKDF-Extract(salt, IKM). */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return nobleExtract(hashFunction(hash), ikm, salt);
}

/** RFC 5869 §2.3 HKDF-Expand(PRK, info, L). */
function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const hashLength = hashLengthOf(hash);
  // RFC 5869 §2.3: L <= 255 * HashLen.
  if (!Number.isInteger(length) || length < 0 || length > 255 * hashLength) {
    throw new TlsConfigError(`HKDF-Expand length ${length} out of range for ${hash}`);
  }
  return nobleExpand(hashFunction(hash), prk, info, length);
}

/** RFC 8446 §7.1 HkdfLabel: uint16 length || opaque label<7..255> || opaque context<0..255>. */
function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const labelBytes = encoder.encode(label);
  const fullLabelLength = LABEL_PREFIX.length + labelBytes.length;
  if (fullLabelLength > MAX_LABEL_LENGTH) {
    throw new TlsConfigError(`HKDF label "${label}" is too long (${fullLabelLength} > ${MAX_LABEL_LENGTH} bytes)`);
  }
  if (context.length > MAX_CONTEXT_LENGTH) {
    throw new TlsConfigError(`HKDF context is too long (${context.length} > ${MAX_CONTEXT_LENGTH} bytes)`);
  }
  // uint16 length field.
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new TlsConfigError(`HKDF-Expand-Label length ${length} out of range`);
  }
  const out = new Uint8Array(2 + 1 + fullLabelLength + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = fullLabelLength;
  out.set(LABEL_PREFIX, 3);
  out.set(labelBytes, 3 + LABEL_PREFIX.length);
  out[3 + fullLabelLength] = context.length;
  out.set(context, 4 + fullLabelLength);
  return out;
}

/** RFC 8446 §7.1 HKDF-Expand-Label with "tls13 " prefix. */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/** RFC 8446 §7.1 Derive-Secret(secret, label, messages) where the caller passes Transcript-Hash(messages). */
export function deriveSecret(hash: HashName, secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLengthOf(hash));
}

const emptyHashCache = new Map<HashName, Uint8Array>();

/** Transcript-Hash("") — the context of every Derive-Secret(., "derived", "") (RFC 8446 §7.1). */
function emptyHash(hash: HashName): Uint8Array {
  let h = emptyHashCache.get(hash);
  if (h === undefined) {
    h = digest(hash, EMPTY);
    emptyHashCache.set(hash, h);
  }
  return h;
}

/** Running transcript hash (RFC 8446 §4.4.1). Cheap non-destructive snapshots (clone the noble hasher). */
export class Transcript {
  readonly hash: HashName;
  #hasher: Hasher;

  constructor(hash: HashName) {
    this.hash = hash;
    this.#hasher = createHasher(hash);
  }

  /** A whole handshake message including its 4-byte header. */
  update(message: Uint8Array): void {
    this.#hasher.update(message);
  }

  /** Transcript-Hash of everything so far; the running state is left untouched. */
  digest(): Uint8Array {
    return this.#hasher.clone().digest();
  }

  /**
   * Transcript-Hash of everything so far followed by `extra`, without adding `extra`: the PSK binder covers a
   * partial ClientHello (RFC 8446 §4.2.11.2), after message_hash and the HelloRetryRequest on a retry.
   */
  digestWith(extra: Uint8Array): Uint8Array {
    const hasher = this.#hasher.clone();
    hasher.update(extra);
    return hasher.digest();
  }

  /** An independent copy: updating one does not affect the other. */
  clone(): Transcript {
    const copy = new Transcript(this.hash);
    copy.#hasher = this.#hasher.clone();
    return copy;
  }

  /**
   * RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by the synthetic message
   * `message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)`. Call it when the transcript holds exactly
   * ClientHello1, before adding the HelloRetryRequest.
   */
  restartForHelloRetry(): void {
    const clientHello1Hash = this.digest();
    const synthetic = new Uint8Array(4 + clientHello1Hash.length);
    synthetic[0] = HandshakeType.message_hash;
    synthetic[3] = clientHello1Hash.length;
    synthetic.set(clientHello1Hash, 4);
    this.#hasher = createHasher(this.hash);
    this.#hasher.update(synthetic);
  }
}

/**
 * Allows buffering bytes before the hash is known (ClientHello is sent before the suite is chosen).
 * `resolve` may be called more than once; each call returns a new Transcript over everything buffered so far.
 */
export class PendingTranscript {
  readonly #messages: Uint8Array[] = [];

  update(message: Uint8Array): void {
    // Copy: the caller may reuse its buffer before the hash is resolved.
    this.#messages.push(message.slice());
  }

  /** The buffered messages, in order (copies). */
  messages(): Uint8Array[] {
    return this.#messages.map((m) => m.slice());
  }

  resolve(hash: HashName): Transcript {
    const transcript = new Transcript(hash);
    for (const m of this.#messages) transcript.update(m);
    return transcript;
  }
}

/** RFC 8446 §7.1 key schedule. Every secret is a fresh Uint8Array. */
export class KeySchedule {
  readonly hash: HashName;
  readonly #hashLength: number;
  readonly #earlySecret: Uint8Array;
  #handshakeSecret: Uint8Array | undefined;
  #masterSecret: Uint8Array | undefined;

  /** psk absent => 0s of Hash.length (RFC 8446 §7.1: "If a given secret is not available, then the 0-value ... is used"). */
  constructor(hash: HashName, psk?: Uint8Array) {
    this.hash = hash;
    this.#hashLength = hashLengthOf(hash);
    const zeros = new Uint8Array(this.#hashLength);
    // RFC 8446 §7.1: Early Secret = HKDF-Extract(salt = 0, IKM = PSK).
    this.#earlySecret = hkdfExtract(hash, zeros, psk ?? zeros);
  }

  get earlySecret(): Uint8Array {
    return this.#earlySecret.slice();
  }

  /** Present once handshakeSecrets() ran. */
  get handshakeSecret(): Uint8Array | undefined {
    return this.#handshakeSecret?.slice();
  }

  /** Present once applicationSecrets() ran. */
  get masterSecret(): Uint8Array | undefined {
    return this.#masterSecret?.slice();
  }

  /** RFC 8446 §7.1: Derive-Secret(Early Secret, "res binder" | "ext binder", ""). */
  binderKey(kind: 'resumption' | 'external'): Uint8Array {
    const label = kind === 'resumption' ? 'res binder' : 'ext binder';
    return deriveSecret(this.hash, this.#earlySecret, label, emptyHash(this.hash));
  }

  /** RFC 8446 §7.1: Derive-Secret(Early Secret, "c e traffic", ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.#earlySecret, 'c e traffic', clientHelloHash);
  }

  /** RFC 8446 §7.1: Derive-Secret(Early Secret, "e exp master", ClientHello). */
  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.#earlySecret, 'e exp master', clientHelloHash);
  }

  /**
   * ikm = (EC)DHE shared secret (undefined for psk_ke, which uses the 0-value). Returns both handshake traffic
   * secrets; stores the handshake secret.
   */
  handshakeSecrets(sharedSecret: Uint8Array | undefined, helloHash: Uint8Array): { client: Uint8Array; server: Uint8Array } {
    const salt = deriveSecret(this.hash, this.#earlySecret, 'derived', emptyHash(this.hash));
    const hs = hkdfExtract(this.hash, salt, sharedSecret ?? new Uint8Array(this.#hashLength));
    this.#handshakeSecret = hs;
    return {
      client: deriveSecret(this.hash, hs, 'c hs traffic', helloHash),
      server: deriveSecret(this.hash, hs, 's hs traffic', helloHash),
    };
  }

  /** serverFinishedHash = Transcript-Hash(ClientHello..server Finished). Derives master secret internally. */
  applicationSecrets(serverFinishedHash: Uint8Array): { client: Uint8Array; server: Uint8Array; exporter: Uint8Array } {
    const hs = this.#handshakeSecret;
    if (hs === undefined) throw new TlsConfigError('applicationSecrets() called before handshakeSecrets()');
    const salt = deriveSecret(this.hash, hs, 'derived', emptyHash(this.hash));
    // RFC 8446 §7.1: Master Secret = HKDF-Extract(Derive-Secret(., "derived", ""), 0).
    const master = hkdfExtract(this.hash, salt, new Uint8Array(this.#hashLength));
    this.#masterSecret = master;
    return {
      client: deriveSecret(this.hash, master, 'c ap traffic', serverFinishedHash),
      server: deriveSecret(this.hash, master, 's ap traffic', serverFinishedHash),
      exporter: deriveSecret(this.hash, master, 'exp master', serverFinishedHash),
    };
  }

  /** RFC 8446 §7.1: Derive-Secret(Master Secret, "res master", ClientHello..client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    const master = this.#masterSecret;
    if (master === undefined) throw new TlsConfigError('resumptionMasterSecret() called before applicationSecrets()');
    return deriveSecret(this.hash, master, 'res master', clientFinishedHash);
  }
}

/** RFC 8446 §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length). */
export function finishedKey(hash: HashName, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, baseKey, 'finished', EMPTY, hashLengthOf(hash));
}

/** RFC 8446 §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(...)). Also the PSK binder (§4.2.11.2). */
export function finishedVerifyData(hash: HashName, baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  return hmac(hash, finishedKey(hash, baseKey), transcriptHash);
}

/** Constant-time check of a received Finished / binder (RFC 8446 §4.4.4: mismatch => decrypt_error, caller's job). */
export function verifyFinished(
  hash: HashName,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
  received: Uint8Array,
): boolean {
  return constantTimeEqual(finishedVerifyData(hash, baseKey, transcriptHash), received);
}

/** RFC 8446 §4.6.1: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
export function resumptionPsk(hash: HashName, resumptionMasterSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, resumptionMasterSecret, 'resumption', ticketNonce, hashLengthOf(hash));
}

/** RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length). */
export function nextTrafficSecret(hash: HashName, secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, 'traffic upd', EMPTY, hashLengthOf(hash));
}

/** TLS record (not QUIC) keys: "key"/"iv" labels (RFC 8446 §7.3) — used by the test record layer and tests. */
export function recordKeys(hash: HashName, keyLength: number, secret: Uint8Array): { key: Uint8Array; iv: Uint8Array } {
  return {
    key: hkdfExpandLabel(hash, secret, 'key', EMPTY, keyLength),
    iv: hkdfExpandLabel(hash, secret, 'iv', EMPTY, IV_LENGTH),
  };
}

/**
 * RFC 8446 §7.5: TLS-Exporter(label, context_value, key_length) =
 *   HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length).
 * A missing context is the same as an empty one in TLS 1.3.
 */
export function exportKeyingMaterial(
  hash: HashName,
  exporterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const secret = deriveSecret(hash, exporterSecret, label, emptyHash(hash));
  return hkdfExpandLabel(hash, secret, 'exporter', digest(hash, context), length);
}

/** Compares without an early exit, so timing does not reveal where the first difference is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** suite table */
export interface SuiteInfo {
  suite: CipherSuite;
  hash: HashName;
  aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  keyLength: number;
}

/** RFC 8446 §B.4; key lengths from RFC 5116 §5.1/§5.2 and RFC 8439 §2.8. */
const SUITES: ReadonlyMap<number, Readonly<SuiteInfo>> = new Map<number, Readonly<SuiteInfo>>([
  [
    CipherSuite.TLS_AES_128_GCM_SHA256,
    Object.freeze({ suite: CipherSuite.TLS_AES_128_GCM_SHA256, hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16 }),
  ],
  [
    CipherSuite.TLS_AES_256_GCM_SHA384,
    Object.freeze({ suite: CipherSuite.TLS_AES_256_GCM_SHA384, hash: 'sha384', aead: 'aes-256-gcm', keyLength: 32 }),
  ],
  [
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    Object.freeze({
      suite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
      hash: 'sha256',
      aead: 'chacha20-poly1305',
      keyLength: 32,
    }),
  ],
]);

/**
 * undefined for anything else: TLS_AES_128_CCM_SHA256 is not implemented and TLS_AES_128_CCM_8_SHA256 is forbidden in
 * QUIC (RFC 9001 §5.3).
 */
export function suiteInfo(suite: number): SuiteInfo | undefined {
  const info = SUITES.get(suite);
  return info === undefined ? undefined : { ...info };
}
