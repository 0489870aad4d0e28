// A throwaway PKI for interop tests, made with the openssl CLI: one CA and one server leaf, both EC P-256.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireExecutable, runCommand } from './proc.js';

export interface TestPki {
  /** CA certificate (PEM) to trust. */
  readonly caCert: string;
  readonly caKey: string;
  /** Leaf certificate (PEM), SAN DNS:localhost, IP:127.0.0.1, IP:::1. */
  readonly cert: string;
  /** Leaf private key, PKCS#8 PEM ("BEGIN PRIVATE KEY"); GnuTLS (gtlsserver) and Node both read it. */
  readonly key: string;
  /** Leaf followed by the CA certificate, for servers that send the whole chain. */
  readonly chain: string;
  readonly caCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestPkiOptions {
  /** Leaf subject CN (default "localhost"). */
  commonName?: string;
  /** Extra SAN entries in openssl syntax, e.g. ["DNS:example.test"]. */
  extraSans?: string[];
  /** Validity in days (default 30). */
  days?: number;
}

/** Creates `dir` if needed and writes ca.pem, ca.key, cert.pem, key.pem and chain.pem into it. */
export async function makeTestPki(dir: string, options: TestPkiOptions = {}): Promise<TestPki> {
  const openssl = requireExecutable('openssl');
  await mkdir(dir, { recursive: true });
  const p = (name: string): string => join(dir, name);
  const days = String(options.days ?? 30);
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:named_curve'];
  // A config file keeps this independent of the system openssl.cnf defaults.
  const sans = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...(options.extraSans ?? [])].join(',');
  await writeFile(
    p('openssl.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = unused',
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[leaf_ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = ${sans}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, OPENSSL_CONF: p('openssl.cnf') };
  const run = (args: string[]): Promise<unknown> => runCommand(openssl, args, { env, cwd: dir });
  await Promise.all([
    run(['genpkey', ...ec, '-out', p('ca.key')]),
    run(['genpkey', ...ec, '-out', p('key.pem')]),
  ]);
  await run([
    'req', '-x509', '-new', '-config', p('openssl.cnf'), '-key', p('ca.key'), '-subj', '/CN=pathquic test CA',
    '-days', days, '-sha256', '-extensions', 'ca_ext', '-out', p('ca.pem'),
  ]);
  await run([
    'req', '-new', '-config', p('openssl.cnf'), '-key', p('key.pem'),
    '-subj', `/CN=${options.commonName ?? 'localhost'}`, '-out', p('cert.csr'),
  ]);
  await run([
    'x509', '-req', '-in', p('cert.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-set_serial',
    serialNumber(),
    '-days', days, '-sha256', '-extfile', p('openssl.cnf'), '-extensions', 'leaf_ext', '-out', p('cert.pem'),
  ]);
  const [caCertPem, certPem, keyPem] = await Promise.all([
    readFile(p('ca.pem'), 'utf8'),
    readFile(p('cert.pem'), 'utf8'),
    readFile(p('key.pem'), 'utf8'),
  ]);
  await writeFile(p('chain.pem'), certPem + caCertPem);
  return {
    caCert: p('ca.pem'),
    caKey: p('ca.key'),
    cert: p('cert.pem'),
    key: p('key.pem'),
    chain: p('chain.pem'),
    caCertPem,
    certPem,
    keyPem,
  };
}

// A positive 63-bit random serial (RFC 5280 §4.1.2.2: unique per CA, positive, at most 20 octets).
function serialNumber(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}
