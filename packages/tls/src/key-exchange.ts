/**
 * (EC)DHE key exchange for the TLS 1.3 key_share extension (RFC 8446 §4.2.8): X25519 (RFC 7748), secp256r1 and
 * secp384r1 (uncompressed points, RFC 8446 §4.2.8.2). Two interchangeable providers: @noble/curves (pure JS, the
 * default) and node:crypto (OpenSSL, faster).
 *
 * Peer shares are network input: every way they can be wrong surfaces as TlsAlertError(illegal_parameter).
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { NamedGroup } from './codes.js';
import { AlertDescription, TlsAlertError, TlsConfigError } from './errors.js';

export interface KeyShare {
  readonly group: NamedGroup;
  /** x25519: 32 bytes; secp256r1: 65-byte uncompressed point (RFC 8446 §4.2.8.2); secp384r1: 97 bytes. */
  readonly publicKey: Uint8Array;
  /** Throws TlsAlertError(illegal_parameter) for a malformed/invalid peer share or an all-zero x25519 result (§7.4.2). */
  computeSecret(peerPublicKey: Uint8Array): Uint8Array; // NIST curves: x-coordinate only (RFC 8446 §7.4.1)
}

export interface KeyExchangeProvider {
  readonly name: string;
  /** x25519, secp256r1 and secp384r1. */
  supports(group: number): boolean;
  /** Throws TlsConfigError if unsupported. */
  generate(group: NamedGroup): KeyShare;
  /** Server side in one step: returns our public key and the shared secret. */
  accept(group: NamedGroup, peerPublicKey: Uint8Array): { publicKey: Uint8Array; sharedSecret: Uint8Array };
  /**
   * A share with a known private key (test vectors such as RFC 8448, debugging). X25519: the 32-byte RFC 7748 scalar;
   * NIST curves: the big-endian scalar of field length. Optional so custom providers need not implement it.
   */
  fromPrivateKey?(group: NamedGroup, privateKey: Uint8Array): KeyShare;
}

/** The built-in providers can also import private keys. */
export interface ImportingKeyExchangeProvider extends KeyExchangeProvider {
  fromPrivateKey(group: NamedGroup, privateKey: Uint8Array): KeyShare;
}

interface GroupInfo {
  readonly name: string;
  /** KeyShareEntry.key_exchange length. */
  readonly shareLength: number;
  /** Private scalar length. */
  readonly privateKeyLength: number;
  /** true for the SEC 1 point encodings of RFC 8446 §4.2.8.2. */
  readonly nist: boolean;
}

const GROUPS: ReadonlyMap<number, GroupInfo> = new Map<number, GroupInfo>([
  // RFC 7748 §5: X25519 public keys and scalars are 32 bytes.
  [NamedGroup.x25519, { name: 'x25519', shareLength: 32, privateKeyLength: 32, nist: false }],
  // RFC 8446 §4.2.8.2: 0x04 || X || Y with 32-byte coordinates.
  [NamedGroup.secp256r1, { name: 'secp256r1', shareLength: 65, privateKeyLength: 32, nist: true }],
  // RFC 8446 §4.2.8.2: 0x04 || X || Y with 48-byte coordinates.
  [NamedGroup.secp384r1, { name: 'secp384r1', shareLength: 97, privateKeyLength: 48, nist: true }],
]);

/** RFC 8446 §4.2.8.2 uncompressed point form; the only one TLS 1.3 allows. */
const UNCOMPRESSED_POINT = 0x04;

/** key_exchange length for the groups this module implements; undefined for every other group. */
export function expectedKeyShareLength(group: number): number | undefined {
  return GROUPS.get(group)?.shareLength;
}

function groupInfo(group: number): GroupInfo {
  const info = GROUPS.get(group);
  if (info === undefined) {
    throw new TlsConfigError(`key exchange group 0x${group.toString(16).padStart(4, '0')} is not supported`);
  }
  return info;
}

function illegal(info: GroupInfo, message: string, cause?: unknown): TlsAlertError {
  return new TlsAlertError(
    AlertDescription.illegal_parameter,
    `${info.name} key share: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Shape checks that do not need curve arithmetic (RFC 8446 §4.2.8.2: exact length, uncompressed form). */
function checkPeerShare(info: GroupInfo, peer: Uint8Array): void {
  if (!(peer instanceof Uint8Array)) throw new TlsConfigError(`${info.name} peer key share must be a Uint8Array`);
  if (peer.length !== info.shareLength) {
    throw illegal(info, `expected ${info.shareLength} bytes, got ${peer.length}`);
  }
  if (info.nist && peer[0] !== UNCOMPRESSED_POINT) {
    throw illegal(info, `point must be uncompressed (0x04 prefix), got 0x${(peer[0] ?? 0).toString(16).padStart(2, '0')}`);
  }
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/**
 * Runs the curve operation, turning library exceptions (point not on the curve, low-order point, point at infinity)
 * into illegal_parameter, and applies RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero X25519 result MUST abort.
 */
function computeChecked(info: GroupInfo, peer: Uint8Array, compute: () => Uint8Array): Uint8Array {
  checkPeerShare(info, peer);
  let secret: Uint8Array;
  try {
    secret = compute();
  } catch (error) {
    throw illegal(info, 'invalid public key', error);
  }
  if (!info.nist && isAllZero(secret)) throw illegal(info, 'all-zero shared secret (low-order point)');
  return secret;
}

function checkPrivateKey(info: GroupInfo, privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== info.privateKeyLength) {
    throw new TlsConfigError(`${info.name} private key must be ${info.privateKeyLength} bytes`);
  }
}

/** A plain Uint8Array copy (not a Buffer view into Node's shared pool). */
function plain(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

class SimpleKeyShare implements KeyShare {
  readonly group: NamedGroup;
  readonly publicKey: Uint8Array;
  readonly #info: GroupInfo;
  readonly #compute: (peer: Uint8Array) => Uint8Array;

  constructor(group: NamedGroup, info: GroupInfo, publicKey: Uint8Array, compute: (peer: Uint8Array) => Uint8Array) {
    this.group = group;
    this.#info = info;
    this.publicKey = publicKey;
    this.#compute = compute;
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    return computeChecked(this.#info, peerPublicKey, () => this.#compute(peerPublicKey));
  }
}

function makeProvider(
  name: string,
  create: (group: NamedGroup, info: GroupInfo, privateKey: Uint8Array | undefined) => KeyShare,
): ImportingKeyExchangeProvider {
  return Object.freeze({
    name,
    supports(group: number): boolean {
      return GROUPS.has(group);
    },
    generate(group: NamedGroup): KeyShare {
      return create(group, groupInfo(group), undefined);
    },
    accept(group: NamedGroup, peerPublicKey: Uint8Array): { publicKey: Uint8Array; sharedSecret: Uint8Array } {
      const info = groupInfo(group);
      // Reject a malformed share before spending a key generation on it.
      checkPeerShare(info, peerPublicKey);
      const share = create(group, info, undefined);
      return { publicKey: share.publicKey, sharedSecret: share.computeSecret(peerPublicKey) };
    },
    fromPrivateKey(group: NamedGroup, privateKey: Uint8Array): KeyShare {
      const info = groupInfo(group);
      checkPrivateKey(info, privateKey);
      return create(group, info, privateKey);
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// @noble/curves

const NOBLE_NIST = new Map([
  [NamedGroup.secp256r1 as number, p256],
  [NamedGroup.secp384r1 as number, p384],
]);

function nobleShare(group: NamedGroup, info: GroupInfo, privateKey: Uint8Array | undefined): KeyShare {
  if (!info.nist) {
    const sk = privateKey === undefined ? x25519.utils.randomSecretKey() : plain(privateKey);
    return new SimpleKeyShare(group, info, x25519.getPublicKey(sk), (peer) => x25519.getSharedSecret(sk, peer));
  }
  const curve = NOBLE_NIST.get(group);
  if (curve === undefined) throw new TlsConfigError(`${info.name} is not implemented by the noble provider`);
  let sk: Uint8Array;
  if (privateKey === undefined) {
    sk = curve.utils.randomSecretKey();
  } else {
    // SEC 1 §3.2.1: the scalar must lie in [1, n-1].
    if (!curve.utils.isValidSecretKey(privateKey)) throw new TlsConfigError(`${info.name} private key is out of range`);
    sk = plain(privateKey);
  }
  // Compressed shared point is 0x02/0x03 || X; RFC 8446 §7.4.1 uses X alone.
  return new SimpleKeyShare(group, info, curve.getPublicKey(sk, false), (peer) =>
    curve.getSharedSecret(sk, peer, true).slice(1),
  );
}

/** Default provider, pure JavaScript (@noble/curves). */
export const nobleKeyExchange: ImportingKeyExchangeProvider = makeProvider('noble', nobleShare);

// ---------------------------------------------------------------------------------------------------------------
// node:crypto

/** RFC 8410 §4 SubjectPublicKeyInfo for X25519 (OID 1.3.101.110) minus the 32 key bytes. */
const X25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
]);
/** RFC 8410 §7 OneAsymmetricKey (PKCS #8) for X25519 minus the 32 key bytes. */
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
/** OpenSSL curve names for createECDH. */
const NODE_CURVES = new Map<number, string>([
  [NamedGroup.secp256r1, 'prime256v1'],
  [NamedGroup.secp384r1, 'secp384r1'],
]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function x25519RawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return plain(der.subarray(der.length - 32));
}

function nodeShare(group: NamedGroup, info: GroupInfo, privateKey: Uint8Array | undefined): KeyShare {
  if (!info.nist) {
    let sk: KeyObject;
    if (privateKey === undefined) {
      sk = generateKeyPairSync('x25519').privateKey;
    } else {
      sk = createPrivateKey({ key: Buffer.from(concat(X25519_PKCS8_PREFIX, privateKey)), format: 'der', type: 'pkcs8' });
    }
    const publicKey = x25519RawPublicKey(createPublicKey(sk));
    return new SimpleKeyShare(group, info, publicKey, (peer) => {
      const pk = createPublicKey({ key: Buffer.from(concat(X25519_SPKI_PREFIX, peer)), format: 'der', type: 'spki' });
      // OpenSSL also refuses an all-zero result; computeChecked maps either outcome to illegal_parameter.
      return plain(diffieHellman({ privateKey: sk, publicKey: pk }));
    });
  }
  const curveName = NODE_CURVES.get(group);
  if (curveName === undefined) throw new TlsConfigError(`${info.name} is not implemented by the node provider`);
  const ecdh: ECDH = createECDH(curveName);
  if (privateKey === undefined) {
    ecdh.generateKeys();
  } else {
    try {
      ecdh.setPrivateKey(privateKey);
    } catch (error) {
      throw new TlsConfigError(`${info.name} private key is out of range`, { cause: error });
    }
  }
  // getPublicKey() defaults to the uncompressed form; computeSecret returns the X coordinate (RFC 8446 §7.4.1).
  return new SimpleKeyShare(group, info, plain(ecdh.getPublicKey()), (peer) => plain(ecdh.computeSecret(peer)));
}

/** node:crypto (OpenSSL) provider: createECDH for the NIST curves, diffieHellman with KeyObjects for X25519. */
export const nodeKeyExchange: ImportingKeyExchangeProvider = makeProvider('node', nodeShare);
