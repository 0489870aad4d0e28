import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CipherSuite, NamedGroup } from '../src/codes.js';
import { TlsConfigError } from '../src/errors.js';
import { nobleKeyExchange, nodeKeyExchange } from '../src/key-exchange.js';
import {
  KeySchedule,
  PendingTranscript,
  Transcript,
  constantTimeEqual,
  deriveSecret,
  digest,
  exportKeyingMaterial,
  finishedKey,
  finishedVerifyData,
  hashLengthOf,
  hkdfExpandLabel,
  hkdfExtract,
  hmac,
  nextTrafficSecret,
  recordKeys,
  resumptionPsk,
  suiteInfo,
  verifyFinished,
  type HashName,
} from '../src/key-schedule.js';
import { hex, resumed0Rtt as r4, simple1Rtt as r3, toHex } from './fixtures/rfc8448.js';

const EMPTY = new Uint8Array(0);

function transcriptOf(hash: HashName, ...messages: string[]): Transcript {
  const t = new Transcript(hash);
  for (const m of messages) t.update(hex(m));
  return t;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Independent HKDF-Expand-Label for L <= Hash.length (one HMAC block), built on node:crypto. */
function nodeExpandLabel(hash: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number) {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([context.length]),
    Buffer.from(context),
    Buffer.from([1]),
  ]);
  return new Uint8Array(createHmac(hash, secret).update(info).digest().subarray(0, length));
}

describe('RFC 8448 §3 simple 1-RTT handshake', () => {
  const hash: HashName = 'sha256';
  const helloHash = transcriptOf(hash, r3.clientHello, r3.serverHello).digest();
  const serverFinishedHash = transcriptOf(
    hash,
    r3.clientHello,
    r3.serverHello,
    r3.encryptedExtensions,
    r3.certificate,
    r3.certificateVerify,
    r3.serverFinished,
  ).digest();
  const clientFinishedHash = transcriptOf(
    hash,
    r3.clientHello,
    r3.serverHello,
    r3.encryptedExtensions,
    r3.certificate,
    r3.certificateVerify,
    r3.serverFinished,
    r3.clientFinished,
  ).digest();

  it('computes the transcript hashes the RFC prints', () => {
    expect(toHex(helloHash)).toBe(r3.helloHash);
    expect(toHex(serverFinishedHash)).toBe(r3.serverFinishedHash);
    expect(toHex(clientFinishedHash)).toBe(r3.clientFinishedHash);
    expect(toHex(new Transcript(hash).digest())).toBe(r3.emptyHash);
  });

  it('derives every secret of the key schedule', () => {
    const ks = new KeySchedule(hash);
    expect(toHex(ks.earlySecret)).toBe(r3.earlySecret);
    expect(ks.handshakeSecret).toBeUndefined();
    expect(ks.masterSecret).toBeUndefined();

    expect(toHex(deriveSecret(hash, hex(r3.earlySecret), 'derived', hex(r3.emptyHash)))).toBe(r3.derivedForHandshake);

    const hs = ks.handshakeSecrets(hex(r3.sharedSecret), helloHash);
    expect(toHex(ks.handshakeSecret ?? EMPTY)).toBe(r3.handshakeSecret);
    expect(toHex(hs.client)).toBe(r3.clientHandshakeTrafficSecret);
    expect(toHex(hs.server)).toBe(r3.serverHandshakeTrafficSecret);

    expect(toHex(deriveSecret(hash, hex(r3.handshakeSecret), 'derived', hex(r3.emptyHash)))).toBe(r3.derivedForMaster);

    const app = ks.applicationSecrets(serverFinishedHash);
    expect(toHex(ks.masterSecret ?? EMPTY)).toBe(r3.masterSecret);
    expect(toHex(app.client)).toBe(r3.clientApplicationTrafficSecret);
    expect(toHex(app.server)).toBe(r3.serverApplicationTrafficSecret);
    expect(toHex(app.exporter)).toBe(r3.exporterMasterSecret);

    expect(toHex(ks.resumptionMasterSecret(clientFinishedHash))).toBe(r3.resumptionMasterSecret);
  });

  it('extracts the handshake secret from the RFC salt and IKM directly', () => {
    expect(toHex(hkdfExtract(hash, hex(r3.derivedForHandshake), hex(r3.sharedSecret)))).toBe(r3.handshakeSecret);
    expect(toHex(hkdfExtract(hash, hex(r3.derivedForMaster), new Uint8Array(32)))).toBe(r3.masterSecret);
  });

  it('derives the record keys and IVs', () => {
    const keyLength = suiteInfo(CipherSuite.TLS_AES_128_GCM_SHA256)?.keyLength ?? 0;
    expect(keyLength).toBe(16);
    const cases: [string, string, string][] = [
      [r3.serverHandshakeTrafficSecret, r3.serverHandshakeKey, r3.serverHandshakeIv],
      [r3.clientHandshakeTrafficSecret, r3.clientHandshakeKey, r3.clientHandshakeIv],
      [r3.serverApplicationTrafficSecret, r3.serverApplicationKey, r3.serverApplicationIv],
      [r3.clientApplicationTrafficSecret, r3.clientApplicationKey, r3.clientApplicationIv],
    ];
    for (const [secret, key, iv] of cases) {
      const keys = recordKeys(hash, keyLength, hex(secret));
      expect(toHex(keys.key)).toBe(key);
      expect(toHex(keys.iv)).toBe(iv);
    }
  });

  it('computes the server Finished over ClientHello..CertificateVerify', () => {
    const t = transcriptOf(hash, r3.clientHello, r3.serverHello, r3.encryptedExtensions, r3.certificate);
    t.update(hex(r3.certificateVerify));
    const base = hex(r3.serverHandshakeTrafficSecret);
    expect(toHex(finishedKey(hash, base))).toBe(r3.serverFinishedKey);
    const verifyData = finishedVerifyData(hash, base, t.digest());
    expect(toHex(verifyData)).toBe(r3.serverFinishedVerifyData);
    // Finished = 14 00 00 20 || verify_data (RFC 8446 §4.4.4).
    expect(toHex(concat(Uint8Array.of(20, 0, 0, 32), verifyData))).toBe(r3.serverFinished);
    expect(verifyFinished(hash, base, t.digest(), hex(r3.serverFinished).subarray(4))).toBe(true);
  });

  it('computes the client Finished over ClientHello..server Finished', () => {
    const base = hex(r3.clientHandshakeTrafficSecret);
    expect(toHex(finishedKey(hash, base))).toBe(r3.clientFinishedKey);
    const verifyData = finishedVerifyData(hash, base, serverFinishedHash);
    expect(toHex(verifyData)).toBe(r3.clientFinishedVerifyData);
    expect(toHex(concat(Uint8Array.of(20, 0, 0, 32), verifyData))).toBe(r3.clientFinished);
  });

  it('rejects a wrong Finished', () => {
    const base = hex(r3.clientHandshakeTrafficSecret);
    const good = hex(r3.clientFinishedVerifyData);
    expect(verifyFinished(hash, base, serverFinishedHash, good)).toBe(true);
    for (const i of [0, 17, 31]) {
      const bad = good.slice();
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(verifyFinished(hash, base, serverFinishedHash, bad)).toBe(false);
    }
    expect(verifyFinished(hash, base, serverFinishedHash, good.subarray(0, 31))).toBe(false);
    expect(verifyFinished(hash, base, serverFinishedHash, EMPTY)).toBe(false);
    // The server's key must not validate the client's Finished.
    expect(verifyFinished(hash, hex(r3.serverHandshakeTrafficSecret), serverFinishedHash, good)).toBe(false);
  });

  it('derives the resumption PSK with the nonce from the NewSessionTicket', () => {
    const nst = hex(r3.newSessionTicket);
    // RFC 8446 §4.6.1: type(1) length(3) ticket_lifetime(4) ticket_age_add(4) ticket_nonce<0..255>.
    expect(nst[0]).toBe(4);
    const nonceLength = nst[12] ?? -1;
    const nonce = nst.subarray(13, 13 + nonceLength);
    expect(toHex(nonce)).toBe(r3.ticketNonce);
    const psk = resumptionPsk(hash, hex(r3.resumptionMasterSecret), nonce);
    expect(toHex(psk)).toBe(r3.resumptionPsk);
    expect(toHex(psk)).toBe(r4.psk);
  });

  it('computes the x25519 shared secret from the RFC keys with both providers', () => {
    for (const provider of [nobleKeyExchange, nodeKeyExchange]) {
      const client = provider.fromPrivateKey(NamedGroup.x25519, hex(r3.clientPrivateKey));
      const server = provider.fromPrivateKey(NamedGroup.x25519, hex(r3.serverPrivateKey));
      expect(toHex(client.publicKey), provider.name).toBe(r3.clientPublicKey);
      expect(toHex(server.publicKey), provider.name).toBe(r3.serverPublicKey);
      expect(toHex(client.computeSecret(hex(r3.serverPublicKey))), provider.name).toBe(r3.sharedSecret);
      expect(toHex(server.computeSecret(hex(r3.clientPublicKey))), provider.name).toBe(r3.sharedSecret);
      const r4client = provider.fromPrivateKey(NamedGroup.x25519, hex(r4.clientPrivateKey));
      expect(toHex(r4client.publicKey), provider.name).toBe(r4.clientPublicKey);
    }
  });

  it('finds the key shares inside the RFC handshake messages', () => {
    // Consistency of the transcribed fixture: the key_share entries carry the published public keys.
    expect(r3.clientHello).toContain(`001d0020${r3.clientPublicKey}`);
    expect(r3.serverHello).toContain(`001d0020${r3.serverPublicKey}`);
  });
});

describe('RFC 8448 §4 resumed 0-RTT handshake (ClientHello side)', () => {
  const hash: HashName = 'sha256';

  it('derives the early secret and the resumption binder key from the PSK', () => {
    const ks = new KeySchedule(hash, hex(r4.psk));
    expect(toHex(ks.earlySecret)).toBe(r4.earlySecret);
    expect(toHex(ks.binderKey('resumption'))).toBe(r4.binderKey);
    expect(toHex(ks.binderKey('external'))).not.toBe(r4.binderKey);
  });

  it('computes the PSK binder over the truncated ClientHello', () => {
    const prefix = hex(r4.clientHelloPrefix);
    const binderHash = digest(hash, prefix);
    expect(toHex(binderHash)).toBe(r4.binderHash);
    const binderKey = new KeySchedule(hash, hex(r4.psk)).binderKey('resumption');
    expect(toHex(finishedKey(hash, binderKey))).toBe(r4.binderFinishedKey);
    const binder = finishedVerifyData(hash, binderKey, binderHash);
    expect(toHex(binder)).toBe(r4.binder);
    // RFC 8446 §4.2.11.2: the full ClientHello is prefix || binders (u16 length 0x21, u8 length 0x20, binder).
    expect(toHex(concat(prefix, Uint8Array.of(0x00, 0x21, 0x20), binder))).toBe(r4.clientHello);
    // A server checks the binder with the same primitives.
    expect(verifyFinished(hash, binderKey, binderHash, hex(r4.binder))).toBe(true);
  });

  it('buffers the ClientHello before the hash is known and still finds the binder hash', () => {
    const pending = new PendingTranscript();
    pending.update(hex(r4.clientHelloPrefix));
    expect(toHex(pending.resolve(hash).digest())).toBe(r4.binderHash);
  });

  it('derives the early traffic secrets from the full ClientHello', () => {
    const ks = new KeySchedule(hash, hex(r4.psk));
    const chHash = transcriptOf(hash, r4.clientHello).digest();
    expect(toHex(chHash)).toBe(r4.clientHelloHash);
    const early = ks.clientEarlyTrafficSecret(chHash);
    expect(toHex(early)).toBe(r4.clientEarlyTrafficSecret);
    expect(toHex(ks.earlyExporterMasterSecret(chHash))).toBe(r4.earlyExporterMasterSecret);
    const keys = recordKeys(hash, 16, early);
    expect(toHex(keys.key)).toBe(r4.clientEarlyKey);
    expect(toHex(keys.iv)).toBe(r4.clientEarlyIv);
  });
});

describe('Transcript', () => {
  it('takes non-destructive snapshots', () => {
    const t = new Transcript('sha256');
    t.update(hex(r3.clientHello));
    const first = t.digest();
    expect(toHex(t.digest())).toBe(toHex(first));
    t.update(hex(r3.serverHello));
    expect(toHex(t.digest())).toBe(r3.helloHash);
  });

  it('clones into an independent transcript', () => {
    const t = transcriptOf('sha256', r3.clientHello);
    const c = t.clone();
    c.update(hex(r3.serverHello));
    expect(toHex(c.digest())).toBe(r3.helloHash);
    expect(toHex(t.digest())).toBe(toHex(digest('sha256', hex(r3.clientHello))));
    t.update(hex(r3.serverHello));
    expect(toHex(t.digest())).toBe(r3.helloHash);
  });

  it('hashes the concatenation regardless of how messages are split', () => {
    const whole = concat(hex(r3.clientHello), hex(r3.serverHello));
    const t = new Transcript('sha384');
    t.update(whole.subarray(0, 7));
    t.update(whole.subarray(7));
    expect(toHex(t.digest())).toBe(createHash('sha384').update(whole).digest('hex'));
    expect(t.digest().length).toBe(48);
  });

  it.each(['sha256', 'sha384'] as const)('rewrites ClientHello1 as message_hash after HelloRetryRequest (%s)', (hash) => {
    const ch1 = hex(r3.clientHello);
    const hrr = hex(r3.serverHello); // stands in for a HelloRetryRequest: any message works for the hash rewrite
    const ch2 = hex(r4.clientHello);
    const t = new Transcript(hash);
    t.update(ch1);
    t.restartForHelloRetry();
    const len = hashLengthOf(hash);
    // RFC 8446 §4.4.1: message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)
    const synthetic = concat(Uint8Array.of(254, 0, 0, len), createHash(hash).update(ch1).digest());
    expect(toHex(t.digest())).toBe(createHash(hash).update(synthetic).digest('hex'));
    t.update(hrr);
    t.update(ch2);
    expect(toHex(t.digest())).toBe(createHash(hash).update(concat(synthetic, hrr, ch2)).digest('hex'));
  });

  it('rewrites after a PendingTranscript was resolved (client learns the suite from the HRR)', () => {
    const pending = new PendingTranscript();
    const ch1 = hex(r3.clientHello);
    pending.update(ch1);
    const t = pending.resolve('sha384');
    t.restartForHelloRetry();
    const synthetic = concat(Uint8Array.of(254, 0, 0, 48), createHash('sha384').update(ch1).digest());
    expect(toHex(t.digest())).toBe(createHash('sha384').update(synthetic).digest('hex'));
  });
});

describe('PendingTranscript', () => {
  it('replays buffered messages into the resolved hash', () => {
    const p = new PendingTranscript();
    p.update(hex(r3.clientHello));
    p.update(hex(r3.serverHello));
    expect(toHex(p.resolve('sha256').digest())).toBe(r3.helloHash);
    expect(p.messages().map(toHex)).toEqual([r3.clientHello, r3.serverHello]);
    const sha384 = p.resolve('sha384').digest();
    expect(toHex(sha384)).toBe(
      createHash('sha384')
        .update(concat(hex(r3.clientHello), hex(r3.serverHello)))
        .digest('hex'),
    );
  });

  it('copies the caller buffer', () => {
    const p = new PendingTranscript();
    const buf = hex(r3.clientHello);
    p.update(buf);
    buf.fill(0);
    p.update(hex(r3.serverHello));
    expect(toHex(p.resolve('sha256').digest())).toBe(r3.helloHash);
  });

  it('resolves independent transcripts', () => {
    const p = new PendingTranscript();
    p.update(hex(r3.clientHello));
    const a = p.resolve('sha256');
    a.update(hex(r3.serverHello));
    const b = p.resolve('sha256');
    expect(toHex(b.digest())).toBe(toHex(digest('sha256', hex(r3.clientHello))));
    expect(toHex(a.digest())).toBe(r3.helloHash);
  });
});

describe('HKDF primitives', () => {
  it('matches the RFC 9001 Appendix A.1 initial secrets (other labels, same HKDF-Expand-Label)', () => {
    const initialSalt = hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    const initial = hkdfExtract('sha256', initialSalt, hex('8394c8f03e515708'));
    expect(toHex(initial)).toBe('7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44');
    const client = hkdfExpandLabel('sha256', initial, 'client in', EMPTY, 32);
    expect(toHex(client)).toBe('c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
    expect(toHex(hkdfExpandLabel('sha256', client, 'quic key', EMPTY, 16))).toBe('1f369613dd76d5467730efcbe3b1a22d');
    expect(toHex(hkdfExpandLabel('sha256', client, 'quic iv', EMPTY, 12))).toBe('fa044b2f42a3fd3b46fb255c');
    expect(toHex(hkdfExpandLabel('sha256', client, 'quic hp', EMPTY, 16))).toBe('9f50449e04a0e810283a1e9933adedd2');
  });

  it('agrees with a node:crypto construction for SHA-384', () => {
    const secret = digest('sha384', Uint8Array.of(1, 2, 3));
    const context = digest('sha384', Uint8Array.of(4, 5, 6));
    expect(toHex(hkdfExpandLabel('sha384', secret, 'c hs traffic', context, 48))).toBe(
      toHex(nodeExpandLabel('sha384', secret, 'c hs traffic', context, 48)),
    );
    expect(toHex(nextTrafficSecret('sha384', secret))).toBe(
      toHex(nodeExpandLabel('sha384', secret, 'traffic upd', EMPTY, 48)),
    );
    const zeros = new Uint8Array(48);
    const early = createHmac('sha384', zeros).update(zeros).digest('hex');
    expect(toHex(new KeySchedule('sha384').earlySecret)).toBe(early);
    expect(hmac('sha384', secret, context)).toEqual(new Uint8Array(createHmac('sha384', secret).update(context).digest()));
  });

  it('derives the next traffic secret with "traffic upd" (RFC 8446 §7.2)', () => {
    const secret = hex(r3.clientApplicationTrafficSecret);
    const next = nextTrafficSecret('sha256', secret);
    expect(toHex(next)).toBe(toHex(nodeExpandLabel('sha256', secret, 'traffic upd', EMPTY, 32)));
    expect(toHex(nextTrafficSecret('sha256', next))).not.toBe(toHex(next));
  });

  it('runs a full SHA-384 schedule with 48-byte secrets', () => {
    const ks = new KeySchedule('sha384');
    const h = digest('sha384', Uint8Array.of(9));
    const hs = ks.handshakeSecrets(new Uint8Array(32).fill(7), h);
    const app = ks.applicationSecrets(h);
    for (const s of [hs.client, hs.server, app.client, app.server, app.exporter, ks.resumptionMasterSecret(h)]) {
      expect(s.length).toBe(48);
    }
    expect(recordKeys('sha384', 32, app.client).key.length).toBe(32);
  });

  it('uses the 0-value IKM for psk_ke (no shared secret)', () => {
    const a = new KeySchedule('sha256', hex(r4.psk));
    const b = new KeySchedule('sha256', hex(r4.psk));
    const h = hex(r3.helloHash);
    expect(a.handshakeSecrets(undefined, h)).toEqual(b.handshakeSecrets(new Uint8Array(32), h));
  });

  it('rejects out-of-range labels, contexts and lengths as programmer errors', () => {
    const secret = new Uint8Array(32);
    expect(() => hkdfExpandLabel('sha256', secret, 'x'.repeat(250), EMPTY, 32)).toThrow(TlsConfigError);
    expect(() => hkdfExpandLabel('sha256', secret, 'x'.repeat(249), EMPTY, 32)).not.toThrow();
    expect(() => hkdfExpandLabel('sha256', secret, 'key', new Uint8Array(256), 32)).toThrow(TlsConfigError);
    expect(() => hkdfExpandLabel('sha256', secret, 'key', EMPTY, 255 * 32 + 1)).toThrow(TlsConfigError);
    expect(() => hkdfExpandLabel('sha256', secret, 'key', EMPTY, -1)).toThrow(TlsConfigError);
  });

  it('refuses to derive later secrets before earlier ones', () => {
    const ks = new KeySchedule('sha256');
    expect(() => ks.applicationSecrets(new Uint8Array(32))).toThrow(TlsConfigError);
    expect(() => ks.resumptionMasterSecret(new Uint8Array(32))).toThrow(TlsConfigError);
  });

  it('hands out fresh copies of stored secrets', () => {
    const ks = new KeySchedule('sha256');
    ks.earlySecret.fill(0);
    expect(toHex(ks.earlySecret)).toBe(r3.earlySecret);
    ks.handshakeSecrets(hex(r3.sharedSecret), hex(r3.helloHash));
    ks.handshakeSecret?.fill(0);
    expect(toHex(ks.handshakeSecret ?? EMPTY)).toBe(r3.handshakeSecret);
  });
});

describe('exportKeyingMaterial (RFC 8446 §7.5)', () => {
  // Produced with node:tls (OpenSSL 3.0) against itself: EXPORTER_SECRET from the 'keylog' event and
  // TLSSocket.exportKeyingMaterial(length, 'EXPORTER-pathquic-test', context). An independent implementation.
  const openssl = [
    {
      hash: 'sha256' as const,
      exporter: 'ad1f322f54b4be55105842be032e464634470806b47ea5edf7cea2e7dec84b6c',
      withContext: 'ed5411640d63317505d09d8b663951409d9d16685fe3291c0dec95ec4440f0ad',
      emptyContext: 'ab0c095a965b0644ae2259f4440f3ac9251c0819',
    },
    {
      hash: 'sha384' as const,
      exporter: '69f4644a5454c36beef0a5bb417665ed3f542d3174700491995f655d4ffe0b500b7f15a76f06f443e8ee94358abc7e5d',
      withContext: '7c8a29920928fc3a8fe29fbf9c84199ee78380abbe1fb4fa0f7785cde78cfc2a',
      emptyContext: 'c69c4ccafd6d93f1cff1ffb3d3c0106f97fb6423',
    },
  ];

  it.each(openssl)('matches OpenSSL ($hash)', ({ hash, exporter, withContext, emptyContext }) => {
    const label = 'EXPORTER-pathquic-test';
    expect(toHex(exportKeyingMaterial(hash, hex(exporter), label, hex('0011223344'), 32))).toBe(withContext);
    expect(toHex(exportKeyingMaterial(hash, hex(exporter), label, EMPTY, 20))).toBe(emptyContext);
  });

  it('follows the RFC 8446 §7.5 construction', () => {
    const secret = hex(r3.exporterMasterSecret);
    const context = Uint8Array.of(1, 2, 3);
    const inner = deriveSecret('sha256', secret, 'EXPORTER-Test', digest('sha256', EMPTY));
    const expected = hkdfExpandLabel('sha256', inner, 'exporter', digest('sha256', context), 42);
    const out = exportKeyingMaterial('sha256', secret, 'EXPORTER-Test', context, 42);
    expect(out.length).toBe(42);
    expect(toHex(out)).toBe(toHex(expected));
    expect(toHex(exportKeyingMaterial('sha256', secret, 'EXPORTER-Other', context, 42))).not.toBe(toHex(out));
    expect(toHex(exportKeyingMaterial('sha256', secret, 'EXPORTER-Test', EMPTY, 42))).not.toBe(toHex(out));
    // HkdfLabel.length binds the output length: a shorter export is not a prefix of a longer one.
    expect(toHex(exportKeyingMaterial('sha256', secret, 'EXPORTER-Test', context, 32))).not.toBe(
      toHex(out.subarray(0, 32)),
    );
  });
});

describe('constantTimeEqual', () => {
  it('compares contents and lengths', () => {
    expect(constantTimeEqual(EMPTY, new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(0x80, 2, 3), Uint8Array.of(0, 2, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(constantTimeEqual(EMPTY, Uint8Array.of(0))).toBe(false);
    const big = hex(r3.certificate);
    expect(constantTimeEqual(big, big.slice())).toBe(true);
  });
});

describe('suiteInfo', () => {
  it('describes the three QUIC-usable suites', () => {
    expect(suiteInfo(0x1301)).toEqual({ suite: 0x1301, hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16 });
    expect(suiteInfo(0x1302)).toEqual({ suite: 0x1302, hash: 'sha384', aead: 'aes-256-gcm', keyLength: 32 });
    expect(suiteInfo(0x1303)).toEqual({ suite: 0x1303, hash: 'sha256', aead: 'chacha20-poly1305', keyLength: 32 });
    for (const s of [0x1304, 0x1305, 0x0000, 0xc02f, 0x0a0a]) expect(suiteInfo(s)).toBeUndefined();
  });

  it('returns copies that callers cannot use to corrupt the table', () => {
    const info = suiteInfo(0x1301);
    if (info === undefined) throw new Error('missing suite');
    info.keyLength = 99;
    expect(suiteInfo(0x1301)?.keyLength).toBe(16);
  });

  it('maps hashes to their lengths', () => {
    expect(hashLengthOf('sha256')).toBe(32);
    expect(hashLengthOf('sha384')).toBe(48);
  });
});
