import { PacketProtection, QUIC_V1, derivePacketKeys, nodeCryptoProvider } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import { CipherSuite, HandshakeType, NamedGroup, SignatureScheme } from '../src/index.js';
import { HandshakeBuffer } from '../src/handshake-buffer.js';
import { parseCertificateVerify } from '../src/messages.js';
import { baseClient, baseServer, handshake, identity, pem, secretOf, type Pair } from './harness.js';

function expectMatchingSecrets(p: Pair): void {
  for (const level of ['handshake', 'application'] as const) {
    const c2s = secretOf(p.client, level, 'write');
    const s2c = secretOf(p.server, level, 'write');
    expect(c2s, `client ${level} write`).toBeDefined();
    expect(s2c, `server ${level} write`).toBeDefined();
    expect(secretOf(p.server, level, 'read')).toEqual(c2s);
    expect(secretOf(p.client, level, 'read')).toEqual(s2c);
    expect(c2s).not.toEqual(s2c);
  }
}

describe('in-memory handshake', () => {
  it('completes with defaults (x25519, AES-128-GCM, ECDSA P-256)', () => {
    const p = handshake(baseClient(), baseServer());
    expect(p.client.error).toBeUndefined();
    expect(p.server.error).toBeUndefined();
    expect(p.client.complete).toBe(true);
    expect(p.server.complete).toBe(true);
    expectMatchingSecrets(p);
    expect(p.client.endpoint.alpn).toBe('h3');
    expect(p.server.endpoint.alpn).toBe('h3');
    expect(p.client.endpoint.cipherSuite).toBe(CipherSuite.TLS_AES_128_GCM_SHA256);
    expect(p.client.endpoint.peerTransportParameters).toEqual(Uint8Array.of(0x04, 0x04, 0x80, 0x10, 0x00, 0x00));
    expect(p.server.endpoint.peerTransportParameters).toEqual(Uint8Array.of(0x01, 0x02, 0x43, 0xe8));
    expect(p.server.endpoint.serverName).toBe('localhost');
    expect(p.client.endpoint.peerCertificates?.[0]?.subject).toContain('localhost');
  });

  for (const suite of [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256]) {
    for (const group of [NamedGroup.x25519, NamedGroup.secp256r1]) {
      for (const cert of ['leaf-ecdsa', 'leaf-rsa', 'leaf-ed25519']) {
        it(`suite 0x${suite.toString(16)} group 0x${group.toString(16)} ${cert}`, () => {
          const p = handshake(
            baseClient({ cipherSuites: [suite], groups: [group] }),
            baseServer({ certificate: identity(cert) }),
          );
          expect(p.client.error?.message).toBeUndefined();
          expect(p.server.error?.message).toBeUndefined();
          expect(p.client.complete && p.server.complete).toBe(true);
          expectMatchingSecrets(p);
          const s = p.client.secrets[0]!;
          expect(s.cipherSuite).toBe(suite);
          expect(s.hash).toBe(suite === CipherSuite.TLS_AES_256_GCM_SHA384 ? 'sha384' : 'sha256');
        });
      }
    }
  }

  for (const [cert, scheme] of [
    ['leaf-p384', SignatureScheme.ecdsa_secp384r1_sha384],
    ['leaf-rsa-pss', SignatureScheme.rsa_pss_pss_sha256],
    ['leaf-rsaroot', SignatureScheme.rsa_pss_rsae_sha256],
  ] as const) {
    it(`${cert} signs with 0x${scheme.toString(16)}`, () => {
      const p = handshake(baseClient({ ca: [pem('root-ca.crt'), pem('rsa-root-ca.crt')] }), baseServer({ certificate: identity(cert) }));
      expect(p.client.error?.message).toBeUndefined();
      expect(p.client.complete && p.server.complete).toBe(true);
      const flight = p.server.events.find((e) => e.type === 'handshake-data' && e.level === 'handshake');
      if (flight?.type !== 'handshake-data') throw new Error('no server flight');
      const buf = new HandshakeBuffer(1 << 16, 'Handshake');
      buf.push(flight.data);
      let used: number | undefined;
      for (let m = buf.next(); m; m = buf.next()) if (m.type === HandshakeType.certificate_verify) used = parseCertificateVerify(m).scheme;
      expect(used).toBe(scheme);
    });
  }

  it('signature schemes: RSA uses rsa_pss_rsae_sha256, Ed25519 ed25519', () => {
    const p = handshake(baseClient({ signatureSchemes: [SignatureScheme.rsa_pss_rsae_sha256] }), baseServer({ certificate: identity('leaf-rsa') }));
    expect(p.client.complete).toBe(true);
    const q = handshake(baseClient({ signatureSchemes: [SignatureScheme.ecdsa_secp256r1_sha256] }), baseServer({ certificate: identity('leaf-rsa') }));
    expect(q.server.error?.alert).toBe(40);
  });
});

describe('secrets drive QUIC packet protection (RFC 9001 §5)', () => {
  it('a 1-RTT packet sealed with the client secret opens with the server read secret, for every suite', () => {
    for (const suite of [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256]) {
      const p = handshake(baseClient({ cipherSuites: [suite] }), baseServer());
      const write = p.client.secrets.find((s) => s.level === 'application' && s.direction === 'write')!;
      const read = p.server.secrets.find((s) => s.level === 'application' && s.direction === 'read')!;
      const seal = new PacketProtection(nodeCryptoProvider, write.aead, derivePacketKeys(nodeCryptoProvider, write.aead, write.secret, QUIC_V1));
      const open = new PacketProtection(nodeCryptoProvider, read.aead, derivePacketKeys(nodeCryptoProvider, read.aead, read.secret, QUIC_V1));
      const packet = new Uint8Array(1 + 8 + 2 + 40 + 16);
      packet[0] = 0x41; // short header, fixed bit, 2-byte packet number
      packet.fill(0xab, 1, 9);
      packet[10] = 7; // truncated packet number, in clear before sealing
      packet.fill(0x5c, 11, 51);
      const len = seal.seal(packet, 9, 2, 7, 51);
      const opened = open.open(packet.subarray(0, len), 9, 6, false);
      expect(opened?.packetNumber).toBe(7);
      expect([...opened!.payload]).toEqual(new Array(40).fill(0x5c));
    }
  });
});
