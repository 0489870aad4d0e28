import {
  X509Certificate,
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify as nodeVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import {
  certificateVerifyInput,
  chooseSignatureScheme,
  loadCertificateIdentity,
  signCertificateVerify,
  spkiPin,
  verifyCertificateChain,
  verifyCertificateVerify,
} from '../src/certificates.js';
import type { CertificateIdentity, CertificateVerifierOptions, PeerCertificateInfo } from '../src/certificates.js';
import { SignatureScheme } from '../src/codes.js';
import { AlertDescription, TlsConfigError } from '../src/errors.js';

const CERTS = fileURLToPath(new URL('./fixtures/certs/', import.meta.url));
const read = (name: string): string => readFileSync(CERTS + name, 'utf8');
const readBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(CERTS + name));

/** DER certificates of a PEM file, in order. */
function ders(name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of read(name).matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}
const der = (name: string): Uint8Array => ders(name)[0]!;
const cert = (name: string): X509Certificate => new X509Certificate(read(name));
const identity = (name: string, chainFile = `${name}.chain.pem`): CertificateIdentity =>
  loadCertificateIdentity({ cert: read(chainFile), key: read(`${name}.key`) });

const NOW = Date.now();
const YEAR = 365.25 * 24 * 3600 * 1000;
const ROOT = [read('root-ca.crt')];
const server = (extra: Partial<CertificateVerifierOptions> = {}): CertificateVerifierOptions => ({
  ca: ROOT,
  purpose: 'server',
  serverName: 'localhost',
  ...extra,
});
const hash32 = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const hash48 = Uint8Array.from({ length: 48 }, (_, i) => 255 - i);

function expectFailure(
  result: ReturnType<typeof verifyCertificateChain>,
  alert: AlertDescription,
  reason?: RegExp,
): void {
  if (result.ok) throw new Error('expected the chain to be rejected');
  expect(result.alert).toBe(alert);
  if (reason !== undefined) expect(result.reason).toMatch(reason);
}

function expectOk(result: ReturnType<typeof verifyCertificateChain>): {
  chain: X509Certificate[];
  leaf: X509Certificate;
} {
  if (!result.ok) throw new Error(`expected success, got alert ${result.alert}: ${result.reason}`);
  return result;
}

function flipBit(data: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(data);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

// ------------------------------------------------------------------------------------------------------------
describe('loadCertificateIdentity', () => {
  const cases: [string, number, SignatureScheme[]][] = [
    ['leaf-ecdsa', 2, [SignatureScheme.ecdsa_secp256r1_sha256]],
    ['leaf-p384', 2, [SignatureScheme.ecdsa_secp384r1_sha384]],
    [
      'leaf-rsa',
      2,
      [SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512],
    ],
    [
      'leaf-rsa-pss',
      2,
      [SignatureScheme.rsa_pss_pss_sha256, SignatureScheme.rsa_pss_pss_sha384, SignatureScheme.rsa_pss_pss_sha512],
    ],
    ['leaf-ed25519', 2, [SignatureScheme.ed25519]],
    ['client-ecdsa', 2, [SignatureScheme.ecdsa_secp256r1_sha256]],
    ['evil-leaf', 2, [SignatureScheme.ecdsa_secp256r1_sha256]],
    [
      'leaf-rsaroot',
      1,
      [SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512],
    ],
  ];
  for (const [name, length, schemes] of cases) {
    it(`loads ${name} with its chain and schemes`, () => {
      const id = identity(name);
      expect(id.chain).toHaveLength(length);
      expect(id.chain[0]).toEqual(der(`${name}.crt`));
      expect(id.chain).toEqual(ders(`${name}.chain.pem`));
      expect(id.leaf.subject).toBe(cert(`${name}.crt`).subject);
      expect(id.privateKey.type).toBe('private');
      expect(id.schemes).toEqual(schemes);
      expect(Object.isFrozen(id)).toBe(true);
    });
  }

  it('loads a self-signed certificate without a chain file', () => {
    const id = loadCertificateIdentity({ cert: read('self-signed.crt'), key: read('self-signed.key') });
    expect(id.chain).toEqual([der('self-signed.crt')]);
  });

  it('accepts SEC1, PKCS#1, encrypted PKCS#8, DER keys, KeyObjects and PEM/DER bytes for the certificate', () => {
    const ecPkcs8 = identity('leaf-ecdsa').privateKey.export({ type: 'pkcs8', format: 'der' });
    const variants: Parameters<typeof loadCertificateIdentity>[0][] = [
      { cert: read('leaf-ecdsa.crt'), key: read('leaf-ecdsa.sec1.key') },
      { cert: read('leaf-ecdsa.crt'), key: read('leaf-ecdsa.encrypted.key'), passphrase: 'pathquic' },
      { cert: readBytes('leaf-ecdsa.chain.pem'), key: readBytes('leaf-ecdsa.key') },
      { cert: der('leaf-ecdsa.crt'), key: new Uint8Array(ecPkcs8) },
      {
        cert: read('leaf-ecdsa.crt'),
        key: new Uint8Array(createPrivateKey(read('leaf-ecdsa.key')).export({ type: 'sec1', format: 'der' })),
      },
      { cert: read('leaf-ecdsa.crt'), key: createPrivateKey(read('leaf-ecdsa.key')) },
    ];
    const pin = spkiPin(cert('leaf-ecdsa.crt'));
    for (const v of variants) {
      const id = loadCertificateIdentity(v);
      expect(spkiPin(id.privateKey)).toBe(pin);
      expect(id.schemes).toEqual([SignatureScheme.ecdsa_secp256r1_sha256]);
    }
    const rsa = loadCertificateIdentity({ cert: read('leaf-rsa.crt'), key: read('leaf-rsa.pkcs1.key') });
    expect(rsa.schemes[0]).toBe(SignatureScheme.rsa_pss_rsae_sha256);
    const pkcs1Der = createPrivateKey(read('leaf-rsa.key')).export({ type: 'pkcs1', format: 'der' });
    expect(loadCertificateIdentity({ cert: read('leaf-rsa.crt'), key: new Uint8Array(pkcs1Der) }).leaf.subject).toMatch(
      /RSA/,
    );
  });

  it('rejects a private key that does not belong to the leaf', () => {
    expect(() =>
      loadCertificateIdentity({ cert: read('leaf-ecdsa.chain.pem'), key: read('client-ecdsa.key') }),
    ).toThrow(/does not match the public key of the leaf/);
    expect(() => loadCertificateIdentity({ cert: read('leaf-rsa.crt'), key: read('leaf-ecdsa.key') })).toThrow(
      TlsConfigError,
    );
    // The intermediate's key matches the second certificate, not the leaf.
    expect(() =>
      loadCertificateIdentity({ cert: read('leaf-ecdsa.chain.pem'), key: read('intermediate-ca.key') }),
    ).toThrow(TlsConfigError);
  });

  it('rejects keys TLS 1.3 cannot sign with', () => {
    expect(() => identity('leaf-dsa')).toThrow(/unsupported key type dsa/);
    expect(() => identity('leaf-rsa1024')).toThrow(/RSA key too small \(1024 bits\)/);
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
    expect(() => loadCertificateIdentity({ cert: read('leaf-ecdsa.crt'), key: p521 })).toThrow(/unsupported EC curve/);
  });

  it('reports unusable input as TlsConfigError', () => {
    const key = read('leaf-ecdsa.key');
    expect(() => loadCertificateIdentity({ cert: 'not a certificate', key })).toThrow(/no PEM "CERTIFICATE" block/);
    expect(() => loadCertificateIdentity({ cert: read('leaf-ecdsa.key'), key })).toThrow(TlsConfigError);
    expect(() =>
      loadCertificateIdentity({ cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key }),
    ).toThrow(/not a valid X.509 certificate/);
    expect(() => loadCertificateIdentity({ cert: Uint8Array.of(1, 2, 3), key })).toThrow(TlsConfigError);
    const trailing = new Uint8Array([...der('leaf-ecdsa.crt'), 0]);
    expect(() => loadCertificateIdentity({ cert: trailing, key })).toThrow(/trailing bytes/);
    expect(() => loadCertificateIdentity({ cert: read('leaf-ecdsa.crt'), key: 'garbage' })).toThrow(TlsConfigError);
    expect(() => loadCertificateIdentity({ cert: read('leaf-ecdsa.crt'), key: Uint8Array.of(0x30, 0) })).toThrow(
      TlsConfigError,
    );
    expect(() =>
      loadCertificateIdentity({ cert: read('leaf-ecdsa.crt'), key: read('leaf-ecdsa.encrypted.key') }),
    ).toThrow(TlsConfigError);
    expect(() =>
      loadCertificateIdentity({
        cert: read('leaf-ecdsa.crt'),
        key: read('leaf-ecdsa.encrypted.key'),
        passphrase: 'nope',
      }),
    ).toThrow(TlsConfigError);
    const publicKey = createPublicKey(key);
    expect(() => loadCertificateIdentity({ cert: read('leaf-ecdsa.crt'), key: publicKey })).toThrow(
      /expected a private/,
    );
  });
});

// ------------------------------------------------------------------------------------------------------------
describe('chooseSignatureScheme', () => {
  it('follows our preference among what the peer offered', () => {
    const rsa = identity('leaf-rsa');
    expect(chooseSignatureScheme(rsa, [SignatureScheme.rsa_pss_rsae_sha512, SignatureScheme.rsa_pss_rsae_sha384])).toBe(
      SignatureScheme.rsa_pss_rsae_sha384,
    );
    expect(
      chooseSignatureScheme(rsa, [0x0a0a, SignatureScheme.rsa_pss_rsae_sha512, SignatureScheme.rsa_pss_rsae_sha256]),
    ).toBe(SignatureScheme.rsa_pss_rsae_sha256);
    // RFC 8446 §4.4.3: PKCS#1 v1.5 is never used for CertificateVerify, even if it is all the peer offers.
    expect(
      chooseSignatureScheme(rsa, [SignatureScheme.rsa_pkcs1_sha256, SignatureScheme.rsa_pkcs1_sha1]),
    ).toBeUndefined();
    expect(chooseSignatureScheme(rsa, [SignatureScheme.rsa_pss_pss_sha256])).toBeUndefined();
  });

  it('matches the curve for ECDSA and handles Ed25519', () => {
    const ec = identity('leaf-ecdsa');
    expect(chooseSignatureScheme(ec, [SignatureScheme.ecdsa_secp384r1_sha384])).toBeUndefined();
    expect(
      chooseSignatureScheme(ec, [SignatureScheme.ecdsa_secp384r1_sha384, SignatureScheme.ecdsa_secp256r1_sha256]),
    ).toBe(SignatureScheme.ecdsa_secp256r1_sha256);
    expect(chooseSignatureScheme(identity('leaf-p384'), [SignatureScheme.ecdsa_secp384r1_sha384])).toBe(
      SignatureScheme.ecdsa_secp384r1_sha384,
    );
    expect(chooseSignatureScheme(identity('leaf-ed25519'), [SignatureScheme.ed448, SignatureScheme.ed25519])).toBe(
      SignatureScheme.ed25519,
    );
    expect(chooseSignatureScheme(identity('leaf-ed25519'), [])).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------------------
describe('certificateVerifyInput', () => {
  it('is 64 spaces, the context string, a zero byte and the transcript hash (RFC 8446 §4.4.3)', () => {
    const input = certificateVerifyInput('server', hash32);
    const context = 'TLS 1.3, server CertificateVerify';
    expect(input).toHaveLength(64 + context.length + 1 + 32);
    expect(input.subarray(0, 64).every((b) => b === 0x20)).toBe(true);
    expect(Buffer.from(input.subarray(64, 64 + context.length)).toString('latin1')).toBe(context);
    expect(input[64 + context.length]).toBe(0);
    expect(input.subarray(64 + context.length + 1)).toEqual(hash32);
    const client = certificateVerifyInput('client', hash48);
    expect(Buffer.from(client.subarray(64, 97)).toString('latin1')).toBe('TLS 1.3, client CertificateVerify');
    expect(client).toHaveLength(64 + 33 + 1 + 48);
  });
});

// ------------------------------------------------------------------------------------------------------------
describe('CertificateVerify signatures', () => {
  const signers: [string, SignatureScheme][] = [
    ['leaf-ecdsa', SignatureScheme.ecdsa_secp256r1_sha256],
    ['leaf-p384', SignatureScheme.ecdsa_secp384r1_sha384],
    ['leaf-rsa', SignatureScheme.rsa_pss_rsae_sha256],
    ['leaf-rsa', SignatureScheme.rsa_pss_rsae_sha384],
    ['leaf-rsa', SignatureScheme.rsa_pss_rsae_sha512],
    ['leaf-rsa-pss', SignatureScheme.rsa_pss_pss_sha256],
    ['leaf-rsa-pss', SignatureScheme.rsa_pss_pss_sha384],
    ['leaf-rsa-pss', SignatureScheme.rsa_pss_pss_sha512],
    ['leaf-ed25519', SignatureScheme.ed25519],
    ['client-ecdsa', SignatureScheme.ecdsa_secp256r1_sha256],
  ];
  const otherKey: Record<string, string> = {
    'leaf-ecdsa': 'client-ecdsa',
    'client-ecdsa': 'leaf-ecdsa',
    'leaf-p384': 'leaf-ecdsa',
    'leaf-rsa': 'leaf-rsaroot',
    'leaf-rsa-pss': 'leaf-rsa',
    'leaf-ed25519': 'leaf-ecdsa',
  };

  for (const [name, scheme] of signers) {
    it(`${name} 0x${scheme.toString(16)}: round trip, and rejects tampering, wrong role and wrong key`, () => {
      const id = identity(name);
      for (const role of ['server', 'client'] as const) {
        const sig = signCertificateVerify(id, scheme, hash48, role);
        expect(sig).toBeInstanceOf(Uint8Array);
        expect(verifyCertificateVerify(id.leaf, scheme, hash48, role, sig)).toBe(true);
        const otherRole = role === 'server' ? 'client' : 'server';
        expect(verifyCertificateVerify(id.leaf, scheme, hash48, otherRole, sig)).toBe(false);
        expect(verifyCertificateVerify(id.leaf, scheme, flipBit(hash48, 5), role, sig)).toBe(false);
        expect(verifyCertificateVerify(id.leaf, scheme, hash48, role, flipBit(sig, sig.length - 1))).toBe(false);
        expect(verifyCertificateVerify(id.leaf, scheme, hash48, role, flipBit(sig, 10))).toBe(false);
        expect(verifyCertificateVerify(cert(`${otherKey[name]!}.crt`), scheme, hash48, role, sig)).toBe(false);
        expect(verifyCertificateVerify(id.leaf, scheme, hash48, role, sig.subarray(0, sig.length - 1))).toBe(false);
      }
    });
  }

  it('signs DER ECDSA that noble accepts, and accepts DER ECDSA from noble', () => {
    for (const [name, scheme, curve, hash] of [
      ['leaf-ecdsa', SignatureScheme.ecdsa_secp256r1_sha256, p256, hash32],
      ['leaf-p384', SignatureScheme.ecdsa_secp384r1_sha384, p384, hash48],
    ] as const) {
      const id = identity(name);
      const jwk = id.privateKey.export({ format: 'jwk' });
      const pub = new Uint8Array([4, ...Buffer.from(jwk.x!, 'base64url'), ...Buffer.from(jwk.y!, 'base64url')]);
      const priv = new Uint8Array(Buffer.from(jwk.d!, 'base64url'));
      const message = certificateVerifyInput('server', hash);
      const sig = signCertificateVerify(id, scheme, hash, 'server');
      expect(sig[0]).toBe(0x30); // SEQUENCE { r INTEGER, s INTEGER }
      expect(curve.verify(sig, message, pub, { format: 'der', lowS: false })).toBe(true);
      const nobleSig = curve.sign(message, priv, { format: 'der' });
      expect(verifyCertificateVerify(id.leaf, scheme, hash, 'server', nobleSig)).toBe(true);
      // A raw r||s (IEEE P1363) signature is not what TLS sends.
      expect(verifyCertificateVerify(id.leaf, scheme, hash, 'server', curve.sign(message, priv))).toBe(false);
    }
  });

  it('produces pure Ed25519 signatures that noble verifies', () => {
    const id = identity('leaf-ed25519');
    const spki = id.leaf.publicKey.export({ type: 'spki', format: 'der' });
    const pub = new Uint8Array(spki.subarray(spki.length - 32));
    const sig = signCertificateVerify(id, SignatureScheme.ed25519, hash32, 'client');
    expect(sig).toHaveLength(64);
    expect(signCertificateVerify(id, SignatureScheme.ed25519, hash32, 'client')).toEqual(sig); // deterministic
    expect(ed25519.verify(sig, certificateVerifyInput('client', hash32), pub)).toBe(true);
  });

  it('uses RSASSA-PSS with salt length equal to the hash length (RFC 8446 §4.2.3)', () => {
    const id = identity('leaf-rsa');
    const message = certificateVerifyInput('server', hash32);
    for (const [scheme, hash, salt] of [
      [SignatureScheme.rsa_pss_rsae_sha256, 'sha256', 32],
      [SignatureScheme.rsa_pss_rsae_sha384, 'sha384', 48],
      [SignatureScheme.rsa_pss_rsae_sha512, 'sha512', 64],
    ] as const) {
      const a = signCertificateVerify(id, scheme, hash32, 'server');
      const b = signCertificateVerify(id, scheme, hash32, 'server');
      expect(a).toHaveLength(256);
      expect(a).not.toEqual(b); // randomised salt
      const key = { key: id.leaf.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING };
      expect(nodeVerify(hash, message, { ...key, saltLength: salt }, a)).toBe(true);
      expect(nodeVerify(hash, message, { ...key, saltLength: salt - 1 }, a)).toBe(false);
      // Same key, other hash: must not verify.
      const other =
        scheme === SignatureScheme.rsa_pss_rsae_sha256
          ? SignatureScheme.rsa_pss_rsae_sha384
          : SignatureScheme.rsa_pss_rsae_sha256;
      expect(verifyCertificateVerify(id.leaf, other, hash32, 'server', a)).toBe(false);
    }
  });

  it('never accepts rsa_pkcs1_* or SHA-1 schemes in CertificateVerify, even with a valid signature', () => {
    const rsa = identity('leaf-rsa');
    const ec = identity('leaf-ecdsa');
    const message = certificateVerifyInput('server', hash32);
    const pkcs1 = sign('sha256', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING });
    expect(verifyCertificateVerify(rsa.leaf, SignatureScheme.rsa_pkcs1_sha256, hash32, 'server', pkcs1)).toBe(false);
    expect(verifyCertificateVerify(rsa.leaf, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server', pkcs1)).toBe(false);
    const sha1Rsa = sign('sha1', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING });
    expect(verifyCertificateVerify(rsa.leaf, SignatureScheme.rsa_pkcs1_sha1, hash32, 'server', sha1Rsa)).toBe(false);
    const sha1Ec = sign('sha1', message, { key: ec.privateKey, dsaEncoding: 'der' });
    expect(verifyCertificateVerify(ec.leaf, SignatureScheme.ecdsa_sha1, hash32, 'server', sha1Ec)).toBe(false);
    expect(() => signCertificateVerify(rsa, SignatureScheme.rsa_pkcs1_sha256, hash32, 'server')).toThrow(
      TlsConfigError,
    );
  });

  it('requires the scheme to fit the key', () => {
    const ec = identity('leaf-ecdsa');
    const rsa = identity('leaf-rsa');
    const pss = identity('leaf-rsa-pss');
    const ecSig = signCertificateVerify(ec, SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'server');
    // P-256 key, P-384 scheme (the curve is part of the scheme in TLS 1.3).
    expect(verifyCertificateVerify(ec.leaf, SignatureScheme.ecdsa_secp384r1_sha384, hash32, 'server', ecSig)).toBe(
      false,
    );
    // rsaEncryption key signatures are rsa_pss_rsae, not rsa_pss_pss, and vice versa.
    const rsaeSig = signCertificateVerify(rsa, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server');
    expect(verifyCertificateVerify(rsa.leaf, SignatureScheme.rsa_pss_pss_sha256, hash32, 'server', rsaeSig)).toBe(
      false,
    );
    const pssSig = signCertificateVerify(pss, SignatureScheme.rsa_pss_pss_sha256, hash32, 'server');
    expect(verifyCertificateVerify(pss.leaf, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server', pssSig)).toBe(
      false,
    );
    expect(() => signCertificateVerify(ec, SignatureScheme.ecdsa_secp384r1_sha384, hash32, 'server')).toThrow(
      TlsConfigError,
    );
    expect(() => signCertificateVerify(rsa, SignatureScheme.rsa_pss_pss_sha256, hash32, 'server')).toThrow(
      TlsConfigError,
    );
    expect(() => signCertificateVerify(ec, SignatureScheme.ed25519, hash32, 'server')).toThrow(TlsConfigError);
  });

  it('returns false (never throws) for garbage signatures, unknown schemes and unusable leaf keys', () => {
    const ec = identity('leaf-ecdsa');
    for (const sig of [
      new Uint8Array(0),
      Uint8Array.of(0x30),
      Uint8Array.of(0x30, 0x06, 2, 1, 1, 2, 1, 1),
      new Uint8Array(300).fill(0xff),
    ]) {
      expect(verifyCertificateVerify(ec.leaf, SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'server', sig)).toBe(
        false,
      );
      expect(
        verifyCertificateVerify(identity('leaf-rsa').leaf, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server', sig),
      ).toBe(false);
      expect(
        verifyCertificateVerify(identity('leaf-ed25519').leaf, SignatureScheme.ed25519, hash32, 'server', sig),
      ).toBe(false);
    }
    const sig = signCertificateVerify(ec, SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'server');
    expect(verifyCertificateVerify(ec.leaf, 0x1234, hash32, 'server', sig)).toBe(false);
    expect(
      verifyCertificateVerify(cert('leaf-dsa.crt'), SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'server', sig),
    ).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------------------------
describe('verifyCertificateChain', () => {
  const ecChain = ders('leaf-ecdsa.chain.pem');
  const [leafDer, interDer] = ecChain as [Uint8Array, Uint8Array];
  const rootDer = der('root-ca.crt');

  it('accepts a good chain and returns the built path up to the root', () => {
    const result = expectOk(verifyCertificateChain(ecChain, server(), NOW));
    expect(result.chain.map((c) => c.subject.split('\n').pop())).toEqual([
      'CN=localhost',
      'CN=pathquic test intermediate CA',
      'CN=pathquic test root CA',
    ]);
    expect(new Uint8Array(result.leaf.raw)).toEqual(leafDer);
  });

  for (const name of ['leaf-p384', 'leaf-rsa', 'leaf-rsa-pss', 'leaf-ed25519']) {
    it(`accepts the ${name} chain`, () => {
      expectOk(verifyCertificateChain(ders(`${name}.chain.pem`), server({ serverName: 'x.test.pathquic' }), NOW));
    });
  }

  it('matches DNS names, the wildcard and IP addresses from subjectAltName', () => {
    for (const name of [
      'localhost',
      'LocalHost',
      'localhost.',
      'foo.test.pathquic',
      'A-1.TEST.pathquic',
      '127.0.0.1',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
    ]) {
      expectOk(verifyCertificateChain(ecChain, server({ serverName: name }), NOW));
    }
  });

  it('rejects names the certificate does not cover with bad_certificate', () => {
    for (const name of [
      'example.com',
      'test.pathquic',
      'a.b.test.pathquic',
      'localhost.localdomain',
      '127.0.0.2',
      '::2',
      '',
      'local\u0000host',
    ]) {
      expectFailure(
        verifyCertificateChain(ecChain, server({ serverName: name }), NOW),
        AlertDescription.bad_certificate,
        /not valid for/,
      );
    }
    expectFailure(
      verifyCertificateChain(ecChain, server({ serverName: 'example.com' }), NOW),
      AlertDescription.bad_certificate,
      /^certificate is not valid for example.com$/,
    );
  });

  it('never falls back to the subject CN (RFC 9525 §6.3)', () => {
    // client-ecdsa has CN=pathquic-client and no subjectAltName.
    expectFailure(
      verifyCertificateChain(
        ders('client-ecdsa.chain.pem'),
        { ca: ROOT, purpose: 'client', serverName: 'pathquic-client' },
        NOW,
      ),
      AlertDescription.bad_certificate,
    );
  });

  it('rejects a chain from an untrusted root with unknown_ca', () => {
    expectFailure(
      verifyCertificateChain(ders('evil-leaf.chain.pem'), server(), NOW),
      AlertDescription.unknown_ca,
      /unknown CA/,
    );
    expectFailure(verifyCertificateChain([der('evil-leaf.crt')], server(), NOW), AlertDescription.unknown_ca);
    // Trusting the evil root makes the same chain good: the failure above is about trust, nothing else.
    expectOk(verifyCertificateChain(ders('evil-leaf.chain.pem'), server({ ca: [read('evil-root-ca.crt')] }), NOW));
  });

  it('rejects certificates outside their validity period with certificate_expired', () => {
    expectFailure(
      verifyCertificateChain(ecChain, server(), NOW + 200 * YEAR),
      AlertDescription.certificate_expired,
      /expired/,
    );
    expectFailure(
      verifyCertificateChain(ecChain, server(), Date.UTC(2000, 0, 1)),
      AlertDescription.certificate_expired,
      /not valid before/,
    );
    const leaf = new X509Certificate(leafDer);
    const notAfter = Date.parse(leaf.validTo);
    const notBefore = Date.parse(leaf.validFrom);
    expectOk(verifyCertificateChain(ecChain, server(), notAfter)); // inclusive (RFC 5280 §4.1.2.5)
    expectFailure(verifyCertificateChain(ecChain, server(), notAfter + 1000), AlertDescription.certificate_expired);
    // The leaf and its issuers were created within seconds of each other; just before the leaf's notBefore fails.
    expectFailure(verifyCertificateChain(ecChain, server(), notBefore - 1000), AlertDescription.certificate_expired);
  });

  it('accepts chains out of order and with extra certificates', () => {
    expectOk(verifyCertificateChain([leafDer, rootDer, interDer], server(), NOW));
    const extra = [
      leafDer,
      der('evil-root-ca.crt'),
      der('self-signed.crt'),
      interDer,
      der('client-ecdsa.crt'),
      interDer,
    ];
    const result = expectOk(verifyCertificateChain(extra, server(), NOW));
    expect(result.chain).toHaveLength(3);
    // A presented root is fine too: the path ends at the trusted copy.
    expect(expectOk(verifyCertificateChain([leafDer, interDer, rootDer], server(), NOW)).chain).toHaveLength(3);
  });

  it('rejects a chain with the intermediate missing with unknown_ca', () => {
    expectFailure(verifyCertificateChain([leafDer], server(), NOW), AlertDescription.unknown_ca);
    expectFailure(verifyCertificateChain([leafDer, rootDer], server(), NOW), AlertDescription.unknown_ca);
  });

  it('stops at a trusted intermediate or a trusted leaf (exact DER in the trust store)', () => {
    const viaIntermediate = expectOk(
      verifyCertificateChain([leafDer], server({ ca: [read('intermediate-ca.crt')] }), NOW),
    );
    expect(viaIntermediate.chain).toHaveLength(2);
    const selfSigned = expectOk(
      verifyCertificateChain([der('self-signed.crt')], server({ ca: [read('self-signed.crt')] }), NOW),
    );
    expect(selfSigned.chain).toHaveLength(1);
    expectFailure(verifyCertificateChain([der('self-signed.crt')], server(), NOW), AlertDescription.unknown_ca);
  });

  it('accepts trust anchors as PEM bundles, DER bytes and X509Certificate objects', () => {
    const bundle = [read('rsa-root-ca.crt') + read('root-ca.crt')];
    expectOk(verifyCertificateChain(ecChain, server({ ca: bundle }), NOW));
    expectOk(verifyCertificateChain([der('leaf-rsaroot.crt')], server({ ca: bundle }), NOW));
    expectOk(verifyCertificateChain(ecChain, server({ ca: [rootDer] }), NOW));
    expectOk(verifyCertificateChain(ecChain, server({ ca: [cert('root-ca.crt')] }), NOW));
    expectOk(verifyCertificateChain(ecChain, server({ ca: [readBytes('root-ca.crt')] }), NOW));
    expectFailure(verifyCertificateChain(ecChain, server({ ca: [] }), NOW), AlertDescription.unknown_ca);
    expect(() => verifyCertificateChain(ecChain, server({ ca: ['not pem'] }), NOW)).toThrow(TlsConfigError);
    expect(() => verifyCertificateChain(ecChain, server({ ca: [Uint8Array.of(1, 2)] }), NOW)).toThrow(TlsConfigError);
  });

  it('verifies an RSA root -> RSA leaf chain signed with sha256WithRSAEncryption', () => {
    const rsaCa = [read('rsa-root-ca.crt')];
    const result = expectOk(
      verifyCertificateChain(ders('leaf-rsaroot.chain.pem'), server({ ca: rsaCa, serverName: '::1' }), NOW),
    );
    expect(result.chain).toHaveLength(2);
    expectFailure(verifyCertificateChain(ders('leaf-rsaroot.chain.pem'), server(), NOW), AlertDescription.unknown_ca);
    // And the leaf's CertificateVerify works with the key from that chain.
    const id = identity('leaf-rsaroot');
    const sig = signCertificateVerify(id, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server');
    expect(verifyCertificateVerify(result.leaf, SignatureScheme.rsa_pss_rsae_sha256, hash32, 'server', sig)).toBe(true);
  });

  it('checks SPKI pins against the verified chain only', () => {
    const pin = (name: string): string => spkiPin(cert(name));
    expect(pin('root-ca.crt')).toMatch(/^sha256\/[A-Za-z0-9+/]{43}=$/);
    for (const name of ['leaf-ecdsa.crt', 'intermediate-ca.crt', 'root-ca.crt']) {
      expectOk(verifyCertificateChain(ecChain, server({ pins: [pin('evil-root-ca.crt'), pin(name)] }), NOW));
    }
    expectFailure(
      verifyCertificateChain(ecChain, server({ pins: [pin('evil-root-ca.crt')] }), NOW),
      AlertDescription.bad_certificate,
      /pinned/,
    );
    // A pinned certificate appended to the chain but not part of the verified path does not count.
    expectFailure(
      verifyCertificateChain([...ecChain, der('evil-root-ca.crt')], server({ pins: [pin('evil-root-ca.crt')] }), NOW),
      AlertDescription.bad_certificate,
    );
    // The pin is the key hash, so it equals the one computed from the private key.
    expect(pin('leaf-ecdsa.crt')).toBe(spkiPin(identity('leaf-ecdsa').privateKey));
    expect(() => verifyCertificateChain(ecChain, server({ pins: ['sha1/AAAA'] }), NOW)).toThrow(TlsConfigError);
    expect(() => verifyCertificateChain(ecChain, server({ pins: ['sha256/abc'] }), NOW)).toThrow(TlsConfigError);
    expectOk(verifyCertificateChain(ecChain, server({ pins: [] }), NOW));
  });

  it('runs the custom verify callback last and maps rejections to bad_certificate', () => {
    const seen: PeerCertificateInfo[] = [];
    expectOk(verifyCertificateChain(ecChain, server({ verify: (info) => void seen.push(info) }), NOW));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.chain).toHaveLength(3);
    expect(seen[0]!.serverName).toBe('localhost');
    expect(seen[0]!.leaf.subject).toMatch(/CN=localhost/);

    expectFailure(
      verifyCertificateChain(ecChain, server({ verify: () => 'not today' }), NOW),
      AlertDescription.bad_certificate,
      /not today/,
    );
    expectFailure(
      verifyCertificateChain(ecChain, server({ verify: () => new Error('revoked by policy') }), NOW),
      AlertDescription.bad_certificate,
      /revoked by policy/,
    );
    expectFailure(
      verifyCertificateChain(
        ecChain,
        server({
          verify: () => {
            throw new Error('callback threw');
          },
        }),
        NOW,
      ),
      AlertDescription.bad_certificate,
      /callback threw/,
    );
    // Not called when an earlier check already failed.
    let called = false;
    expectFailure(
      verifyCertificateChain(ders('evil-leaf.chain.pem'), server({ verify: () => void (called = true) }), NOW),
      AlertDescription.unknown_ca,
    );
    expect(called).toBe(false);
  });

  it('allowUntrusted skips the root but still checks pins, names and dates', () => {
    const selfSigned = [der('self-signed.crt')];
    const pin = spkiPin(cert('self-signed.crt'));
    const opts = server({ allowUntrusted: true, pins: [pin] });
    expect(expectOk(verifyCertificateChain(selfSigned, opts, NOW)).chain).toHaveLength(1);
    expectOk(verifyCertificateChain(selfSigned, server({ allowUntrusted: true, serverName: '127.0.0.1' }), NOW));
    expectFailure(
      verifyCertificateChain(selfSigned, server({ allowUntrusted: true, pins: [spkiPin(cert('root-ca.crt'))] }), NOW),
      AlertDescription.bad_certificate,
    );
    expectFailure(
      verifyCertificateChain(selfSigned, { ...opts, serverName: 'example.com' }, NOW),
      AlertDescription.bad_certificate,
    );
    expectFailure(verifyCertificateChain(selfSigned, opts, NOW + 200 * YEAR), AlertDescription.certificate_expired);
    // Pinning an untrusted root works when the presented chain verifies up to it.
    const evil = expectOk(
      verifyCertificateChain(
        ders('evil-leaf.chain.pem'),
        server({ allowUntrusted: true, pins: [spkiPin(cert('evil-root-ca.crt'))] }),
        NOW,
      ),
    );
    expect(evil.chain).toHaveLength(2);
  });

  it('rejects our private CA with the default (Node bundled) roots', () => {
    expectFailure(
      verifyCertificateChain(ecChain, { purpose: 'server', serverName: 'localhost' }, NOW),
      AlertDescription.unknown_ca,
    );
    // Second call uses the cached store.
    expectFailure(
      verifyCertificateChain(ecChain, { purpose: 'server', serverName: 'localhost' }, NOW),
      AlertDescription.unknown_ca,
    );
  });

  it('rejects garbage DER with bad_certificate', () => {
    const cases: Uint8Array[][] = [
      [Uint8Array.of(1, 2, 3)],
      [new Uint8Array(0)],
      [leafDer, Uint8Array.of(0x30, 0x82, 0xff, 0xff)],
      [new Uint8Array([...leafDer, 0])], // trailing byte
      [leafDer.subarray(0, leafDer.length - 1)], // truncated
      [readBytes('leaf-ecdsa.crt')], // PEM text is not DER
    ];
    for (const chain of cases)
      expectFailure(verifyCertificateChain(chain, server(), NOW), AlertDescription.bad_certificate);
  });

  it('rejects an empty chain: decode_error from a server, certificate_required from a client', () => {
    expectFailure(verifyCertificateChain([], server(), NOW), AlertDescription.decode_error);
    expectFailure(
      verifyCertificateChain([], { ca: ROOT, purpose: 'client' }, NOW),
      AlertDescription.certificate_required,
    );
  });

  it('verifies an mTLS client certificate for the client purpose only', () => {
    const clientChain = ders('client-ecdsa.chain.pem');
    const result = expectOk(verifyCertificateChain(clientChain, { ca: ROOT, purpose: 'client' }, NOW));
    expect(result.leaf.subject).toMatch(/CN=pathquic-client/);
    // clientAuth-only EKU presented as a server certificate, and a serverAuth leaf as a client certificate.
    expectFailure(
      verifyCertificateChain(clientChain, { ca: ROOT, purpose: 'server' }, NOW),
      AlertDescription.unsupported_certificate,
      /serverAuth/,
    );
    expectFailure(
      verifyCertificateChain(ecChain, { ca: ROOT, purpose: 'client' }, NOW),
      AlertDescription.unsupported_certificate,
    );
    // Identity round trip: the client signs, the server verifies against the verified leaf.
    const id = identity('client-ecdsa');
    const sig = signCertificateVerify(id, SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'client');
    expect(verifyCertificateVerify(result.leaf, SignatureScheme.ecdsa_secp256r1_sha256, hash32, 'client', sig)).toBe(
      true,
    );
  });

  it('rejects unsupported and weak leaf keys', () => {
    expectFailure(
      verifyCertificateChain(ders('leaf-dsa.chain.pem'), server(), NOW),
      AlertDescription.unsupported_certificate,
      /dsa/,
    );
    expectFailure(
      verifyCertificateChain(ders('leaf-rsa1024.chain.pem'), server(), NOW),
      AlertDescription.bad_certificate,
      /1024/,
    );
  });

  it('rejects SHA-1 signed certificates', () => {
    expectFailure(
      verifyCertificateChain(ders('leaf-sha1.chain.pem'), server(), NOW),
      AlertDescription.bad_certificate,
      /ecdsa-with-SHA1/,
    );
  });

  it('rejects an issuer without the CA flag', () => {
    expectFailure(
      verifyCertificateChain(ders('leaf-under-leaf.chain.pem'), server(), NOW),
      AlertDescription.bad_certificate,
      /is not a CA/,
    );
  });

  it('rejects a chain whose signatures do not verify', () => {
    // The last bytes of a certificate are its signature value.
    expectFailure(
      verifyCertificateChain([flipBit(leafDer, leafDer.length - 1), interDer], server(), NOW),
      AlertDescription.bad_certificate,
      /does not verify/,
    );
    expectFailure(
      verifyCertificateChain([leafDer, flipBit(interDer, interDer.length - 1)], server(), NOW),
      AlertDescription.bad_certificate,
      /does not verify/,
    );
    // A tampered leaf body (inside the subjectAltName) breaks the signature as well.
    const tbsIndex = Buffer.from(leafDer).indexOf('localhost');
    expect(tbsIndex).toBeGreaterThan(0);
    const tampered = new Uint8Array(leafDer);
    tampered[tbsIndex] = 'L'.charCodeAt(0);
    expectFailure(
      verifyCertificateChain([tampered, interDer], server({ serverName: 'Localhost' }), NOW),
      AlertDescription.bad_certificate,
      /does not verify/,
    );
  });
});
