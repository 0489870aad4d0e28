import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, makeTestPki } from '../src/index.js';
import type { TestPki } from '../src/index.js';

const hasOpenssl = findExecutable('openssl') !== undefined;
let dir: string;
let pki: TestPki;

describe.skipIf(!hasOpenssl)('makeTestPki', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ngtcp2-harness-pki-'));
    pki = await makeTestPki(join(dir, 'pki'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a P-256 CA and a leaf it signed, with the loopback SANs', () => {
    const ca = new X509Certificate(pki.caCertPem);
    const leaf = new X509Certificate(pki.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(leaf.checkHost('example.com')).toBeUndefined();
    expect(leaf.keyUsage ?? []).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    // The key is PKCS#8 and belongs to the leaf.
    expect(pki.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(leaf.checkPrivateKey(createPrivateKey(pki.keyPem))).toBe(true);
  });

  it('works for a real TLS 1.3 handshake that verifies against the CA, and rejects without it', async () => {
    const server = createServer({ key: pki.keyPem, cert: pki.certPem, minVersion: 'TLSv1.3' }, (s) => s.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const fetch = (ca: string | undefined, servername: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca, servername }, () => {
          let data = '';
          socket.setEncoding('utf8').on('data', (c: string) => (data += c));
          socket.on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
    try {
      expect(await fetch(pki.caCertPem, 'localhost')).toBe('hi');
      await expect(fetch(undefined, 'localhost')).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
      await expect(fetch(pki.caCertPem, 'wrong.example')).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      server.close();
    }
  });

  it('writes the chain as leaf then CA, and fresh PKIs differ', async () => {
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(pki.chain, 'utf8')).toBe(pki.certPem + pki.caCertPem);
    const other = await makeTestPki(join(dir, 'other'), { extraSans: ['DNS:peer.test'] });
    expect(new X509Certificate(other.certPem).checkHost('peer.test')).toBe('peer.test');
    expect(new X509Certificate(other.certPem).serialNumber).not.toBe(new X509Certificate(pki.certPem).serialNumber);
    expect(new X509Certificate(other.certPem).verify(new X509Certificate(pki.caCertPem).publicKey)).toBe(false);
  });
});
