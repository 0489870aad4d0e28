/**
 * Certificates for TLS 1.3: loading our own identity, CertificateVerify signatures (RFC 8446 §4.4.3) and
 * verification of the peer's chain (RFC 8446 §4.4.2.4, RFC 5280 path building, simplified).
 *
 * Everything here is synchronous and pure: node:crypto does the X.509 parsing and the signature maths, time is
 * a parameter (`now`, milliseconds since the epoch).
 */
import {
  X509Certificate,
  constants as cryptoConstants,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { equalBytes } from './bytes.js';
import { SignatureScheme } from './codes.js';
import { AlertDescription, TlsConfigError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** What a server (or an mTLS client) presents. */
export interface CertificateIdentity {
  /** DER, leaf first (RFC 8446 §4.4.2: each certificate certifies the one before it). */
  readonly chain: readonly Uint8Array[];
  readonly leaf: X509Certificate;
  readonly privateKey: KeyObject;
  /** Schemes this key can sign CertificateVerify with, preference order. */
  readonly schemes: readonly SignatureScheme[];
}

export interface PeerCertificateInfo {
  chain: readonly X509Certificate[];
  leaf: X509Certificate;
  serverName?: string;
}

export interface CertificateVerifierOptions {
  /** PEM/DER roots; default: node:tls rootCertificates (parsed lazily, cached). An empty list trusts nothing. */
  ca?: readonly (string | Uint8Array | X509Certificate)[];
  /** DNS name or IP literal matched against subjectAltName; omitted => no name check. */
  serverName?: string;
  /** 'sha256/<base64 of SHA-256 of the SPKI DER>'; one certificate of the verified chain must match. */
  pins?: readonly string[];
  /** Custom check after every other check passed: return a string/Error (or throw) to reject -> bad_certificate. */
  verify?: (info: PeerCertificateInfo) => void | string | Error;
  /** Whose certificate this is: 'server' requires serverAuth, 'client' clientAuth when the leaf has an EKU. */
  purpose: 'server' | 'client';
  /** Skip chain-to-root (tests, pin-only deployments). Dates, name, key, pins and callback are still checked. */
  allowUntrusted?: boolean;
}

export type CertificateChainResult =
  | { ok: true; chain: X509Certificate[]; leaf: X509Certificate }
  | { ok: false; alert: AlertDescription; reason: string };

// ---------------------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------------------

/** Longest path we build, leaf and trust anchor included (a DoS bound; real chains have 2-4 certificates). */
const MAX_CHAIN_DEPTH = 10;
/** Signature checks allowed while building one path: bounds the backtracking over same-subject candidates. */
const PATH_BUILDING_BUDGET = 64;
/** RSA moduli below this are refused (NIST SP 800-57: 2048 bits for 112-bit security). */
const MIN_RSA_BITS = 2048;

/** RFC 5280 §4.2.1.12 extended key usage purposes. */
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/**
 * Certificate signature algorithms refused on every link that is not the trust anchor itself: MD2/MD5/SHA-1 are
 * broken for collision resistance (RFC 6151, RFC 9155 deprecates SHA-1 signatures in TLS 1.2/DTLS 1.2). Keys are
 * the DER contents of the AlgorithmIdentifier OID, in hex.
 */
const WEAK_CERT_SIGNATURE_OIDS = new Map<string, string>([
  ['2a864886f70d010102', 'md2WithRSAEncryption'], // 1.2.840.113549.1.1.2
  ['2a864886f70d010104', 'md5WithRSAEncryption'], // 1.2.840.113549.1.1.4
  ['2a864886f70d010105', 'sha1WithRSAEncryption'], // 1.2.840.113549.1.1.5
  ['2a8648ce3d0401', 'ecdsa-with-SHA1'], // 1.2.840.10045.4.1
  ['2a8648ce380403', 'dsa-with-sha1'], // 1.2.840.10040.4.3
]);

type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

interface SchemeParams {
  readonly kind: 'ecdsa' | 'rsae' | 'pss' | 'eddsa';
  /** Hash for node:crypto sign/verify; null for EdDSA (pure, RFC 8032). */
  readonly hash: HashAlgorithm | null;
  /** RFC 8446 §4.2.3: RSASSA-PSS salt length equals the digest length. */
  readonly saltLength: number;
}

/**
 * RFC 8446 §4.2.3 schemes allowed in CertificateVerify. rsa_pkcs1_* and the SHA-1 schemes are absent on purpose:
 * §4.4.3 forbids them in CertificateVerify (they remain allowed inside certificates).
 */
const CERTIFICATE_VERIFY_SCHEMES = new Map<number, SchemeParams>([
  [SignatureScheme.ecdsa_secp256r1_sha256, { kind: 'ecdsa', hash: 'sha256', saltLength: 0 }],
  [SignatureScheme.ecdsa_secp384r1_sha384, { kind: 'ecdsa', hash: 'sha384', saltLength: 0 }],
  [SignatureScheme.rsa_pss_rsae_sha256, { kind: 'rsae', hash: 'sha256', saltLength: 32 }],
  [SignatureScheme.rsa_pss_rsae_sha384, { kind: 'rsae', hash: 'sha384', saltLength: 48 }],
  [SignatureScheme.rsa_pss_rsae_sha512, { kind: 'rsae', hash: 'sha512', saltLength: 64 }],
  [SignatureScheme.rsa_pss_pss_sha256, { kind: 'pss', hash: 'sha256', saltLength: 32 }],
  [SignatureScheme.rsa_pss_pss_sha384, { kind: 'pss', hash: 'sha384', saltLength: 48 }],
  [SignatureScheme.rsa_pss_pss_sha512, { kind: 'pss', hash: 'sha512', saltLength: 64 }],
  [SignatureScheme.ed25519, { kind: 'eddsa', hash: null, saltLength: 0 }],
]);

/** RFC 8446 §4.4.3 context strings. */
const SERVER_CONTEXT = 'TLS 1.3, server CertificateVerify';
const CLIENT_CONTEXT = 'TLS 1.3, client CertificateVerify';

// ---------------------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------------------

type KeyCheck =
  | { ok: true; schemes: readonly SignatureScheme[] }
  | { ok: false; alert: AlertDescription; reason: string };

/**
 * The CertificateVerify schemes a key can produce, preference order. The curve is part of the ECDSA scheme in
 * TLS 1.3 (RFC 8446 §4.2.3), so P-256 keys sign only with SHA-256 and P-384 keys only with SHA-384. RSA keys with
 * an rsaEncryption SPKI use rsa_pss_rsae_*, id-RSASSA-PSS keys rsa_pss_pss_* (restricted by their parameters).
 */
function checkKey(key: KeyObject): KeyCheck {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return { ok: true, schemes: [SignatureScheme.ecdsa_secp256r1_sha256] };
      if (details.namedCurve === 'secp384r1') return { ok: true, schemes: [SignatureScheme.ecdsa_secp384r1_sha384] };
      return {
        ok: false,
        alert: AlertDescription.unsupported_certificate,
        reason: `unsupported EC curve ${details.namedCurve ?? '(unknown)'}`,
      };
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        return { ok: false, alert: AlertDescription.bad_certificate, reason: `RSA key too small (${bits} bits)` };
      }
      if (type === 'rsa') {
        return {
          ok: true,
          schemes: [
            SignatureScheme.rsa_pss_rsae_sha256,
            SignatureScheme.rsa_pss_rsae_sha384,
            SignatureScheme.rsa_pss_rsae_sha512,
          ],
        };
      }
      // RFC 4055 §3.1 parameters may pin the hash; RFC 8446 §4.2.3 needs MGF1 with the same hash and
      // salt length = hash length.
      const all: [SignatureScheme, HashAlgorithm, number][] = [
        [SignatureScheme.rsa_pss_pss_sha256, 'sha256', 32],
        [SignatureScheme.rsa_pss_pss_sha384, 'sha384', 48],
        [SignatureScheme.rsa_pss_pss_sha512, 'sha512', 64],
      ];
      const schemes = all
        .filter(([, hash, salt]) => {
          if (details.hashAlgorithm !== undefined && details.hashAlgorithm !== hash) return false;
          if (details.mgf1HashAlgorithm !== undefined && details.mgf1HashAlgorithm !== hash) return false;
          return details.saltLength === undefined || details.saltLength <= salt;
        })
        .map(([scheme]) => scheme);
      if (schemes.length === 0) {
        return {
          ok: false,
          alert: AlertDescription.unsupported_certificate,
          reason: 'RSA-PSS key parameters do not fit any TLS 1.3 scheme',
        };
      }
      return { ok: true, schemes };
    }
    case 'ed25519':
      return { ok: true, schemes: [SignatureScheme.ed25519] };
    default:
      return {
        ok: false,
        alert: AlertDescription.unsupported_certificate,
        reason: `unsupported key type ${type ?? '(unknown)'}`,
      };
  }
}

function spkiDer(key: KeyObject): Uint8Array {
  const der = key.export({ type: 'spki', format: 'der' });
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/** HPKP-style pin (RFC 7469 §2.4): base64(SHA-256(SubjectPublicKeyInfo DER)), written 'sha256/<base64>'. */
export function spkiPin(certOrKey: X509Certificate | KeyObject): string {
  const key = certOrKey instanceof X509Certificate ? certOrKey.publicKey : certOrKey;
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return `sha256/${createHash('sha256').update(spkiDer(publicKey)).digest('base64')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// PEM / identity loading
// ---------------------------------------------------------------------------------------------------------------

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

function toText(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  return text.includes('-----BEGIN') ? text : undefined;
}

/** All certificates in a PEM text (in order), or the single DER certificate given as bytes. */
function certificatesFromInput(input: string | Uint8Array, what: string): Uint8Array[] {
  const text = toText(input);
  const ders: Uint8Array[] = [];
  if (text === undefined) {
    ders.push(input as Uint8Array);
  } else {
    for (const match of text.matchAll(PEM_CERTIFICATE)) {
      const body = Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
      ders.push(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    }
    if (ders.length === 0) throw new TlsConfigError(`${what}: no PEM "CERTIFICATE" block found`);
  }
  return ders;
}

function parseConfigCertificate(der: Uint8Array, what: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    throw new TlsConfigError(`${what}: not a valid X.509 certificate (${(cause as Error).message})`);
  }
  if (!equalBytes(cert.raw, der)) throw new TlsConfigError(`${what}: trailing bytes after the DER certificate`);
  return cert;
}

function loadPrivateKey(key: string | Uint8Array | KeyObject, passphrase: string | undefined): KeyObject {
  if (typeof key === 'object' && !(key instanceof Uint8Array)) {
    if (key.type !== 'private') throw new TlsConfigError(`key: expected a private KeyObject, got a ${key.type} key`);
    return key;
  }
  const text = toText(key);
  try {
    if (text !== undefined) return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch (cause) {
    throw new TlsConfigError(`key: cannot load the PEM private key (${(cause as Error).message})`);
  }
  const der = Buffer.from((key as Uint8Array).buffer, (key as Uint8Array).byteOffset, (key as Uint8Array).byteLength);
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type, passphrase });
    } catch {
      // try the next encoding
    }
  }
  throw new TlsConfigError('key: not a PEM private key nor a DER PKCS#8, SEC1 or PKCS#1 private key');
}

/**
 * Builds the identity a server (or mTLS client) presents from a PEM chain (leaf first, intermediates after) and a
 * private key (PKCS#8, SEC1 or PKCS#1; PEM or DER; possibly encrypted; or a KeyObject).
 */
export function loadCertificateIdentity(opts: {
  cert: string | Uint8Array;
  key: string | Uint8Array | KeyObject;
  passphrase?: string;
}): CertificateIdentity {
  const ders = certificatesFromInput(opts.cert, 'cert');
  const certs = ders.map((der, i) => parseConfigCertificate(der, `cert[${i}]`));
  const leaf = certs[0];
  if (leaf === undefined) throw new TlsConfigError('cert: empty certificate chain');
  const privateKey = loadPrivateKey(opts.key, opts.passphrase);
  const check = checkKey(privateKey);
  if (!check.ok)
    throw new TlsConfigError(`key: ${check.reason} (TLS 1.3 signs with ECDSA P-256/P-384, RSA-PSS or Ed25519)`);
  if (!equalBytes(spkiDer(createPublicKey(privateKey)), spkiDer(leaf.publicKey))) {
    throw new TlsConfigError(
      `key: the private key does not match the public key of the leaf certificate (${leaf.subject.replace(
        /\n/g,
        ', ',
      )})`,
    );
  }
  return Object.freeze({
    chain: Object.freeze(certs.map((c) => new Uint8Array(c.raw))),
    leaf,
    privateKey,
    schemes: Object.freeze([...check.schemes]),
  });
}

/** RFC 8446 §4.4.3: our preference among the schemes the peer offered in signature_algorithms. */
export function chooseSignatureScheme(
  identity: CertificateIdentity,
  peerSchemes: readonly number[],
): SignatureScheme | undefined {
  return identity.schemes.find((scheme) => peerSchemes.includes(scheme));
}

// ---------------------------------------------------------------------------------------------------------------
// CertificateVerify
// ---------------------------------------------------------------------------------------------------------------

/** RFC 8446 §4.4.3: 64 x 0x20 || context string || 0x00 || Transcript-Hash. */
export function certificateVerifyInput(role: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  const context = role === 'server' ? SERVER_CONTEXT : CLIENT_CONTEXT;
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  for (let i = 0; i < context.length; i++) out[64 + i] = context.charCodeAt(i);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

function signOptions(params: SchemeParams, key: KeyObject) {
  if (params.kind === 'ecdsa') return { key, dsaEncoding: 'der' as const }; // RFC 8446 §4.2.3: DER ECDSA-Sig-Value
  if (params.kind === 'rsae' || params.kind === 'pss') {
    return { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength };
  }
  return { key };
}

export function signCertificateVerify(
  identity: CertificateIdentity,
  scheme: SignatureScheme,
  transcriptHash: Uint8Array,
  role: 'server' | 'client',
): Uint8Array {
  const params = CERTIFICATE_VERIFY_SCHEMES.get(scheme);
  if (params === undefined || !identity.schemes.includes(scheme)) {
    throw new TlsConfigError(`signature scheme 0x${scheme.toString(16).padStart(4, '0')} is not usable with this key`);
  }
  const data = certificateVerifyInput(role, transcriptHash);
  const sig = cryptoSign(params.hash, data, signOptions(params, identity.privateKey));
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/**
 * Checks the peer's CertificateVerify. Returns false for a bad signature, a scheme that does not fit the leaf's key,
 * and for rsa_pkcs1_* / SHA-1 schemes (RFC 8446 §4.4.3). The caller checks the scheme was one it offered.
 */
export function verifyCertificateVerify(
  leaf: X509Certificate,
  scheme: number,
  transcriptHash: Uint8Array,
  role: 'server' | 'client',
  signature: Uint8Array,
): boolean {
  const params = CERTIFICATE_VERIFY_SCHEMES.get(scheme);
  if (params === undefined) return false;
  try {
    const key = leaf.publicKey;
    const check = checkKey(key);
    if (!check.ok || !check.schemes.includes(scheme as SignatureScheme)) return false;
    return cryptoVerify(params.hash, certificateVerifyInput(role, transcriptHash), signOptions(params, key), signature);
  } catch {
    // Malformed DER signatures or odd keys make OpenSSL raise; for the peer's bytes that is just "invalid".
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trust stores
// ---------------------------------------------------------------------------------------------------------------

/** A parsed certificate with the fields path building reads repeatedly (the X509Certificate getters re-compute). */
interface CertNode {
  readonly cert: X509Certificate;
  readonly der: Uint8Array;
  readonly key: string; // base64 of the DER: identity
  readonly subject: string;
  readonly issuer: string;
}

function node(cert: X509Certificate): CertNode {
  const raw = cert.raw;
  return {
    cert,
    der: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
    key: raw.toString('base64'),
    subject: cert.subject,
    issuer: cert.issuer,
  };
}

interface TrustStore {
  readonly bySubject: Map<string, CertNode[]>;
  readonly der: Set<string>;
}

function buildStore(certs: Iterable<X509Certificate>): TrustStore {
  const bySubject = new Map<string, CertNode[]>();
  const der = new Set<string>();
  for (const cert of certs) {
    const n = node(cert);
    if (der.has(n.key)) continue;
    der.add(n.key);
    const list = bySubject.get(n.subject);
    if (list === undefined) bySubject.set(n.subject, [n]);
    else list.push(n);
  }
  return { bySubject, der };
}

let defaultStore: TrustStore | undefined;

/** Node's bundled Mozilla roots, parsed on first use only (about 140 certificates, some milliseconds). */
function defaultTrustStore(): TrustStore {
  if (defaultStore === undefined) {
    const certs: X509Certificate[] = [];
    for (const pem of rootCertificates) {
      try {
        certs.push(new X509Certificate(pem));
      } catch {
        // A root this OpenSSL cannot parse cannot anchor anything either.
      }
    }
    defaultStore = buildStore(certs);
  }
  return defaultStore;
}

/** Custom stores are cached per `ca` array: a config object is reused for every handshake. */
const storeCache = new WeakMap<object, TrustStore>();

function trustStoreFor(ca: CertificateVerifierOptions['ca']): TrustStore {
  if (ca === undefined) return defaultTrustStore();
  const cached = storeCache.get(ca);
  if (cached !== undefined) return cached;
  const certs: X509Certificate[] = [];
  ca.forEach((entry, i) => {
    if (entry instanceof X509Certificate) {
      certs.push(entry);
      return;
    }
    for (const der of certificatesFromInput(entry, `ca[${i}]`)) certs.push(parseConfigCertificate(der, `ca[${i}]`));
  });
  const store = buildStore(certs);
  storeCache.set(ca, store);
  return store;
}

// ---------------------------------------------------------------------------------------------------------------
// Chain verification helpers
// ---------------------------------------------------------------------------------------------------------------

function describe(cert: CertNode): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return `"${cn ?? cert.subject.replace(/\n/g, ', ')}"`;
}

interface Failure {
  alert: AlertDescription;
  reason: string;
}

/** RFC 5280 §4.1.2.5: notBefore and notAfter are both inclusive. */
function checkValidity(cert: CertNode, now: number): Failure | undefined {
  const notBefore = Date.parse(cert.cert.validFrom);
  const notAfter = Date.parse(cert.cert.validTo);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) {
    return {
      alert: AlertDescription.bad_certificate,
      reason: `certificate ${describe(cert)} has an unreadable validity period`,
    };
  }
  if (now < notBefore) {
    return {
      alert: AlertDescription.certificate_expired,
      reason: `certificate ${describe(cert)} is not valid before ${cert.cert.validFrom}`,
    };
  }
  if (now > notAfter) {
    return {
      alert: AlertDescription.certificate_expired,
      reason: `certificate ${describe(cert)} expired at ${cert.cert.validTo}`,
    };
  }
  return undefined;
}

/**
 * RFC 5280 §4.2.1.12: when the extension is present the purpose must be listed (or anyExtendedKeyUsage). OpenSSL
 * maps the same failure (X509_V_ERR_INVALID_PURPOSE) to unsupported_certificate.
 */
function checkPurpose(cert: CertNode, purpose: 'server' | 'client'): Failure | undefined {
  let eku: readonly string[] | undefined;
  try {
    eku = cert.cert.keyUsage as readonly string[] | undefined;
  } catch {
    return {
      alert: AlertDescription.bad_certificate,
      reason: `certificate ${describe(cert)} has an unreadable extended key usage`,
    };
  }
  if (eku === undefined || eku.length === 0) return undefined;
  const wanted = purpose === 'server' ? EKU_SERVER_AUTH : EKU_CLIENT_AUTH;
  if (eku.includes(wanted) || eku.includes(EKU_ANY)) return undefined;
  return {
    alert: AlertDescription.unsupported_certificate,
    reason: `certificate ${describe(cert)} is not valid for ${purpose === 'server' ? 'serverAuth' : 'clientAuth'}`,
  };
}

function readDerHeader(der: Uint8Array, offset: number): { tag: number; start: number; end: number } | undefined {
  if (offset + 2 > der.length) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let pos = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || pos + n > der.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[pos++]!;
  }
  if (pos + length > der.length) return undefined;
  return { tag, start: pos, end: pos + length };
}

/** RFC 5280 §4.1.1.2: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, ... }. */
function signatureAlgorithmOid(der: Uint8Array): string | undefined {
  const cert = readDerHeader(der, 0);
  if (cert?.tag !== 0x30) return undefined;
  const tbs = readDerHeader(der, cert.start);
  if (tbs?.tag !== 0x30) return undefined;
  const alg = readDerHeader(der, tbs.end);
  if (alg?.tag !== 0x30) return undefined;
  const oid = readDerHeader(der, alg.start);
  if (oid?.tag !== 0x06) return undefined;
  return Buffer.from(der.buffer, der.byteOffset + oid.start, oid.end - oid.start).toString('hex');
}

function checkSignatureAlgorithm(cert: CertNode): Failure | undefined {
  const oid = signatureAlgorithmOid(cert.der);
  const weak = oid === undefined ? undefined : WEAK_CERT_SIGNATURE_OIDS.get(oid);
  if (weak === undefined) return undefined;
  return { alert: AlertDescription.bad_certificate, reason: `certificate ${describe(cert)} is signed with ${weak}` };
}

/** Issuer keys must not be weaker than what we accept in leaves. */
function checkIssuerKey(cert: CertNode): Failure | undefined {
  try {
    const key = cert.cert.publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && (bits ?? 0) < MIN_RSA_BITS) {
      return {
        alert: AlertDescription.bad_certificate,
        reason: `issuer ${describe(cert)} has a ${bits ?? 0}-bit RSA key`,
      };
    }
  } catch {
    return { alert: AlertDescription.bad_certificate, reason: `issuer ${describe(cert)} has an unreadable public key` };
  }
  return undefined;
}

function verifiedBy(cert: CertNode, issuer: CertNode): boolean {
  try {
    return cert.cert.verify(issuer.cert.publicKey);
  } catch {
    return false;
  }
}

interface PathSearch {
  readonly store: TrustStore;
  readonly presented: Map<string, CertNode[]>;
  readonly now: number;
  readonly purpose: 'server' | 'client';
  budget: number;
  /** The first specific reason a candidate issuer was refused; reported when no path is found. */
  failure: Failure | undefined;
  /** Longest prefix whose links all verified: the "verified chain" when allowUntrusted is set. */
  best: CertNode[];
}

/**
 * Depth-first path building (RFC 4158 in miniature): issuers are looked up by subject among the presented
 * certificates first, then in the trust store, with backtracking so extra, out-of-order or cross-signed
 * certificates do not hide a valid path. Stops at the first certificate whose exact DER is trusted.
 */
function extendPath(search: PathSearch, path: CertNode[]): CertNode[] | undefined {
  const current = path[path.length - 1]!;
  if (search.store.der.has(current.key)) return path;
  if (path.length >= MAX_CHAIN_DEPTH) {
    search.failure ??= {
      alert: AlertDescription.bad_certificate,
      reason: `certificate chain longer than ${MAX_CHAIN_DEPTH}`,
    };
    return undefined;
  }
  const candidates = [
    ...(search.presented.get(current.issuer) ?? []),
    ...(search.store.bySubject.get(current.issuer) ?? []),
  ];
  for (const candidate of candidates) {
    if (path.some((p) => p.key === candidate.key)) continue;
    if (search.budget-- <= 0) {
      search.failure ??= {
        alert: AlertDescription.bad_certificate,
        reason: 'certificate path building gave up (too many candidates)',
      };
      return undefined;
    }
    // RFC 5280 §4.2.1.9: only a CA may issue certificates.
    if (!candidate.cert.ca) {
      search.failure ??= {
        alert: AlertDescription.bad_certificate,
        reason: `issuer ${describe(candidate)} is not a CA`,
      };
      continue;
    }
    // Name chaining, key identifiers and keyCertSign (X509_check_issued); a mismatch just means "not this one".
    if (!current.cert.checkIssued(candidate.cert)) continue;
    if (!verifiedBy(current, candidate)) {
      search.failure ??= {
        alert: AlertDescription.bad_certificate,
        reason: `signature on ${describe(current)} does not verify with the key of ${describe(candidate)}`,
      };
      continue;
    }
    const problem =
      checkSignatureAlgorithm(current) ??
      checkValidity(candidate, search.now) ??
      checkIssuerKey(candidate) ??
      (search.store.der.has(candidate.key) ? undefined : checkPurpose(candidate, search.purpose));
    if (problem !== undefined) {
      search.failure ??= problem;
      continue;
    }
    const next = [...path, candidate];
    if (next.length > search.best.length) search.best = next;
    const found = extendPath(search, next);
    if (found !== undefined) return found;
  }
  return undefined;
}

function normaliseServerName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1); // "[::1]" as written in URLs
  if (n.endsWith('.') && isIP(n) === 0) n = n.slice(0, -1); // absolute DNS name
  return n;
}

/** RFC 9525 §6.3: DNS-ID / IP-ID from subjectAltName only; the subject CN is never consulted. */
function matchesName(leaf: X509Certificate, serverName: string): boolean {
  const name = normaliseServerName(serverName);
  if (name.length === 0) return false;
  try {
    if (isIP(name) !== 0) return leaf.checkIP(name) !== undefined;
    // RFC 9525 §6.3: a wildcard is the whole left-most label only ("*.example.com", not "w*.example.com").
    return leaf.checkHost(name, { subject: 'never', wildcards: true, partialWildcards: false }) !== undefined;
  } catch {
    return false; // a name OpenSSL refuses (embedded NUL, ...) matches nothing
  }
}

function parsePins(pins: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const pin of pins) {
    const m = /^sha256\/([A-Za-z0-9+/]{43}=)$/.exec(pin.trim());
    if (m === null) throw new TlsConfigError(`pins: "${pin}" is not of the form sha256/<base64 of 32 bytes>`);
    out.add(`sha256/${m[1]!}`);
  }
  return out;
}

function fail(alert: AlertDescription, reason: string): CertificateChainResult {
  return { ok: false, alert, reason };
}

// ---------------------------------------------------------------------------------------------------------------
// Chain verification
// ---------------------------------------------------------------------------------------------------------------

/**
 * Verifies the peer's Certificate message contents (DER, leaf first; RFC 8446 §4.4.2) at time `now` (ms).
 * Never throws for bad network input: returns the alert to send and a reason. Throws TlsConfigError for bad
 * options (unparsable `ca`, malformed pins).
 */
export function verifyCertificateChain(
  chainDer: readonly Uint8Array[],
  opts: CertificateVerifierOptions,
  now: number,
): CertificateChainResult {
  // Configuration first, so a broken config fails loudly even against a broken peer.
  const pins = opts.pins !== undefined && opts.pins.length > 0 ? parsePins(opts.pins) : undefined;
  const store = trustStoreFor(opts.ca);

  if (chainDer.length === 0) {
    // RFC 8446 §4.4.2.4: an empty server Certificate is a decode_error; a client without one -> certificate_required.
    return opts.purpose === 'client'
      ? fail(AlertDescription.certificate_required, 'the client sent no certificate')
      : fail(AlertDescription.decode_error, 'the server sent an empty certificate chain');
  }

  const presentedNodes: CertNode[] = [];
  for (let i = 0; i < chainDer.length; i++) {
    const der = chainDer[i]!;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return fail(AlertDescription.bad_certificate, `certificate ${i} is not a valid X.509 certificate`);
    }
    // OpenSSL ignores bytes after the DER object and would even accept PEM text: require exact DER.
    if (!equalBytes(cert.raw, der)) {
      return fail(AlertDescription.bad_certificate, `certificate ${i} is not a single DER-encoded certificate`);
    }
    presentedNodes.push(node(cert));
  }
  const leaf = presentedNodes[0]!;

  let leafKey: KeyObject;
  try {
    leafKey = leaf.cert.publicKey;
  } catch {
    return fail(AlertDescription.unsupported_certificate, 'the leaf public key cannot be read');
  }
  const keyCheck = checkKey(leafKey);
  if (!keyCheck.ok) return fail(keyCheck.alert, `leaf certificate: ${keyCheck.reason}`);

  const leafProblem = checkValidity(leaf, now) ?? checkPurpose(leaf, opts.purpose);
  if (leafProblem !== undefined) return fail(leafProblem.alert, leafProblem.reason);

  // The peer may send extra or out-of-order certificates (RFC 8446 §4.4.2): index them all by subject.
  const presented = new Map<string, CertNode[]>();
  for (const n of presentedNodes.slice(1)) {
    const list = presented.get(n.subject);
    if (list === undefined) presented.set(n.subject, [n]);
    else if (!list.some((o) => o.key === n.key)) list.push(n);
  }
  const search: PathSearch = {
    store,
    presented,
    now,
    purpose: opts.purpose,
    budget: PATH_BUILDING_BUDGET,
    failure: undefined,
    best: [leaf],
  };
  let path = extendPath(search, [leaf]);
  if (path === undefined) {
    if (opts.allowUntrusted !== true) {
      const failure = search.failure ?? {
        alert: AlertDescription.unknown_ca,
        reason: `no path from ${describe(leaf)} to a trusted root (${describe(
          search.best[search.best.length - 1]!,
        )} was issued by an unknown CA)`,
      };
      return fail(failure.alert, failure.reason);
    }
    path = search.best;
  }

  if (opts.serverName !== undefined && !matchesName(leaf.cert, opts.serverName)) {
    return fail(AlertDescription.bad_certificate, `certificate is not valid for ${opts.serverName}`);
  }

  if (pins !== undefined && !path.some((n) => pins.has(spkiPin(n.cert)))) {
    return fail(AlertDescription.bad_certificate, 'no certificate in the verified chain matches a pinned key');
  }

  const chain = path.map((n) => n.cert);
  if (opts.verify !== undefined) {
    const info: PeerCertificateInfo = { chain, leaf: leaf.cert };
    if (opts.serverName !== undefined) info.serverName = opts.serverName;
    let verdict: void | string | Error;
    try {
      verdict = opts.verify(info);
    } catch (error) {
      verdict = error instanceof Error ? error : String(error);
    }
    if (typeof verdict === 'string')
      return fail(AlertDescription.bad_certificate, `rejected by the verify callback: ${verdict}`);
    if (verdict instanceof Error) {
      return fail(AlertDescription.bad_certificate, `rejected by the verify callback: ${verdict.message}`);
    }
  }
  return { ok: true, chain, leaf: leaf.cert };
}
