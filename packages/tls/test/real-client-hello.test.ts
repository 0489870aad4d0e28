import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes.js';
import {
  AlertDescription,
  CipherSuite,
  ExtensionType as E,
  HandshakeType,
  KeySchedule,
  NamedGroup,
  SignatureScheme as S,
  TlsClient,
  TlsServer,
  Transcript,
  signCertificateVerify,
  finishedVerifyData,
  nobleKeyExchange,
  verifyCertificateVerify,
  type TlsEvent,
} from '../src/index.js';
import { X509Certificate } from 'node:crypto';
import {
  encodeAlpn,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeServerHello,
  encodeServerKeyShare,
  parseClientHello,
  parseClientKeyShares,
  encodeClientKeyShares,
  encodeServerName,
  encodeU16List,
  parseServerHello,
  parseServerKeyShare,
  type ExtensionList,
} from '../src/messages.js';
import { HandshakeBuffer } from '../src/handshake-buffer.js';
import { NOW, baseClient, baseServer, identity } from './harness.js';

const GREASE_A = 0x0a0a;
const GREASE_B = 0x5a5a;

function drain(s: TlsServer): TlsEvent[] {
  const out: TlsEvent[] = [];
  for (let e = s.poll(); e; e = s.poll()) out.push(e);
  return out;
}

/**
 * A ClientHello shaped like a 2026 browser's QUIC ClientHello: GREASE in suites, groups, versions, key shares and
 * extensions; a hybrid X25519MLKEM768 share (1216 bytes) before the x25519 one; ECH GREASE; compress_certificate;
 * ALPS; record_size_limit; legacy TLS 1.2 extensions; an unknown extension; padding to 1800+ bytes; and no SNI
 * (connecting to an IP literal).
 */
function browserHello(x25519Public: Uint8Array, opts: { sni?: string; mlkemOnly?: boolean; p256?: Uint8Array } = {}) {
  const random = new Uint8Array(32).fill(0x42);
  const shares: { group: number; keyExchange: Uint8Array }[] = [
    { group: GREASE_A, keyExchange: Uint8Array.of(0) },
    { group: NamedGroup.X25519MLKEM768, keyExchange: new Uint8Array(1216).fill(0x33) },
  ];
  if (!opts.mlkemOnly) shares.push({ group: NamedGroup.x25519, keyExchange: x25519Public });
  if (opts.p256) shares.push({ group: NamedGroup.secp256r1, keyExchange: opts.p256 });
  const exts: [number, Uint8Array][] = [
    [GREASE_A, new Uint8Array(0)],
    ...(opts.sni ? ([[E.server_name, encodeServerName(opts.sni)]] as [number, Uint8Array][]) : []),
    [E.extended_master_secret, new Uint8Array(0)],
    [E.renegotiation_info, Uint8Array.of(0)],
    [E.supported_groups, encodeU16List([GREASE_A, NamedGroup.X25519MLKEM768, NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1], 2)],
    [E.ec_point_formats, Uint8Array.of(1, 0)],
    [E.session_ticket, new Uint8Array(0)],
    [E.application_layer_protocol_negotiation, encodeAlpn([utf8('h3')])],
    [E.status_request, Uint8Array.of(1, 0, 0, 0, 0)],
    [E.signature_algorithms, encodeU16List([S.ecdsa_secp256r1_sha256, S.rsa_pss_rsae_sha256, S.rsa_pkcs1_sha256, S.ecdsa_secp384r1_sha384], 2)],
    [E.signed_certificate_timestamp, new Uint8Array(0)],
    [E.key_share, encodeClientKeyShares(shares)],
    [E.psk_key_exchange_modes, Uint8Array.of(1, 1)],
    [E.supported_versions, encodeU16List([GREASE_B, 0x0304], 1)],
    [E.compress_certificate, Uint8Array.of(2, 0, 2)],
    [E.application_settings, Uint8Array.of(0, 3, 2, 0x68, 0x33)],
    [E.application_settings_new, Uint8Array.of(0, 3, 2, 0x68, 0x33)],
    [E.encrypted_client_hello, new Uint8Array(90).fill(0x11)],
    [E.record_size_limit, Uint8Array.of(0x40, 0x01)],
    [0x7777, Uint8Array.of(1, 2, 3)],
    [E.quic_transport_parameters, Uint8Array.of(0x01, 0x02, 0x43, 0xe8)],
    [E.quic_transport_parameters_draft, Uint8Array.of(0x01, 0x02, 0x43, 0xe8)],
    [GREASE_B, Uint8Array.of(0)],
    [E.padding, new Uint8Array(300)],
  ];
  const hello = encodeClientHello({
    random,
    cipherSuites: [GREASE_A, CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 0xc02b, 0xc02f],
    extensions: exts as ExtensionList,
  });
  return hello;
}

describe('ClientHellos as real clients send them', () => {
  it('completes a handshake with a browser-shaped ClientHello split over three Initial packets', () => {
    const share = nobleKeyExchange.generate(NamedGroup.x25519);
    const hello = browserHello(share.publicKey);
    expect(hello.length).toBeGreaterThan(1800);
    const server = new TlsServer(baseServer());
    // Three CRYPTO frames of a ClientHello spanning Initial packets (sizes as a 1200-byte packet would carry).
    for (const [a, b] of [[0, 1100], [1100, 1101], [1101, hello.length]] as const) {
      expect(server.receive('initial', hello.subarray(a, b), NOW)).toBeUndefined();
    }
    const events = drain(server);
    const initial = events.find((e) => e.type === 'handshake-data' && e.level === 'initial');
    const hs = events.find((e) => e.type === 'handshake-data' && e.level === 'handshake');
    if (initial?.type !== 'handshake-data' || hs?.type !== 'handshake-data') throw new Error('no server flight');

    // Play the client: the server must pick the x25519 share without a HelloRetryRequest.
    const shBuf = new HandshakeBuffer(65536, 'Initial');
    shBuf.push(initial.data);
    const shMsg = shBuf.next()!;
    const sh = parseServerHello(shMsg);
    expect(sh.isHelloRetryRequest).toBe(false);
    const ks = parseServerKeyShare(sh.extensions.map.get(E.key_share)!);
    expect(ks.group).toBe(NamedGroup.x25519);
    const transcript = new Transcript('sha256');
    transcript.update(hello);
    transcript.update(shMsg.raw);
    const schedule = new KeySchedule('sha256');
    const secrets = schedule.handshakeSecrets(share.computeSecret(ks.keyExchange), transcript.digest());
    const buf = new HandshakeBuffer(65536, 'Handshake');
    buf.push(hs.data);
    const types: number[] = [];
    let leaf: X509Certificate | undefined;
    for (let m = buf.next(); m; m = buf.next()) {
      types.push(m.type);
      if (m.type === HandshakeType.certificate) {
        // context(1) = 0, certificate_list length(3), first cert_data length(3), DER
        const len = (m.body[4]! << 16) | (m.body[5]! << 8) | m.body[6]!;
        leaf = new X509Certificate(Buffer.from(m.body.subarray(7, 7 + len)));
      }
      if (m.type === HandshakeType.certificate_verify) {
        const scheme = (m.body[0]! << 8) | m.body[1]!;
        expect(verifyCertificateVerify(leaf!, scheme, transcript.digest(), 'server', m.body.subarray(4))).toBe(true);
      }
      if (m.type === HandshakeType.finished) {
        expect(m.body).toEqual(finishedVerifyData('sha256', secrets.server, transcript.digest()));
      }
      transcript.update(m.raw);
    }
    expect(types).toEqual([HandshakeType.encrypted_extensions, HandshakeType.certificate, HandshakeType.certificate_verify, HandshakeType.finished]);
    const fin = Uint8Array.of(HandshakeType.finished, 0, 0, 32, ...finishedVerifyData('sha256', secrets.client, transcript.digest()));
    expect(server.receive('handshake', fin, NOW)).toBeUndefined();
    expect(server.handshakeComplete).toBe(true);
    expect(server.serverName).toBeUndefined();
    expect(server.alpn).toBe('h3');
  });

  it('byte-at-a-time delivery works as well as one chunk', () => {
    const share = nobleKeyExchange.generate(NamedGroup.x25519);
    const hello = browserHello(share.publicKey, { sni: 'localhost' });
    const server = new TlsServer(baseServer());
    for (let i = 0; i < hello.length; i++) expect(server.receive('initial', hello.subarray(i, i + 1), NOW)).toBeUndefined();
    expect(drain(server).some((e) => e.type === 'handshake-data' && e.level === 'handshake')).toBe(true);
    expect(server.serverName).toBe('localhost');
  });

  it('picks a secondary share (P-256) rather than retrying when x25519 is not offered', () => {
    const p256 = nobleKeyExchange.generate(NamedGroup.secp256r1);
    const hello = browserHello(new Uint8Array(32), { mlkemOnly: true, p256: p256.publicKey });
    const server = new TlsServer(baseServer());
    expect(server.receive('initial', hello, NOW)).toBeUndefined();
    const data = drain(server).find((e) => e.type === 'handshake-data');
    if (data?.type !== 'handshake-data') throw new Error('no ServerHello');
    const buf = new HandshakeBuffer(65536, 'Initial');
    buf.push(data.data);
    const sh = parseServerHello(buf.next()!);
    expect(sh.isHelloRetryRequest).toBe(false);
    expect(parseServerKeyShare(sh.extensions.map.get(E.key_share)!).group).toBe(NamedGroup.secp256r1);
  });

  it('sends a HelloRetryRequest for x25519 when only the hybrid share is offered', () => {
    const hello = browserHello(new Uint8Array(32), { mlkemOnly: true });
    const server = new TlsServer(baseServer());
    expect(server.receive('initial', hello, NOW)).toBeUndefined();
    const data = drain(server).find((e) => e.type === 'handshake-data');
    if (data?.type !== 'handshake-data') throw new Error('no HRR');
    const buf = new HandshakeBuffer(65536, 'Initial');
    buf.push(data.data);
    const hrr = parseServerHello(buf.next()!);
    expect(hrr.isHelloRetryRequest).toBe(true);
    expect([...hrr.extensions.map.get(E.key_share)!]).toEqual([0x00, 0x1d]);
  });

  it('rejects a ClientHello with a duplicated extension or two shares for one group', () => {
    const share = nobleKeyExchange.generate(NamedGroup.x25519);
    const hello = encodeClientHello({
      random: new Uint8Array(32),
      cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256],
      extensions: [
        [E.supported_versions, encodeU16List([0x0304], 1)],
        [E.supported_versions, encodeU16List([0x0304], 1)],
      ],
    });
    expect(new TlsServer(baseServer()).receive('initial', hello, NOW)?.alert).toBe(AlertDescription.illegal_parameter);
    const twoShares = encodeClientHello({
      random: new Uint8Array(32),
      cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256],
      extensions: [
        [E.supported_versions, encodeU16List([0x0304], 1)],
        [E.supported_groups, encodeU16List([NamedGroup.x25519], 2)],
        [E.application_layer_protocol_negotiation, encodeAlpn([utf8('h3')])],
        [E.quic_transport_parameters, Uint8Array.of(1, 1, 0)],
        [E.key_share, encodeClientKeyShares([{ group: 0x1d, keyExchange: share.publicKey }, { group: 0x1d, keyExchange: share.publicKey }])],
      ],
    });
    expect(new TlsServer(baseServer()).receive('initial', twoShares, NOW)?.alert).toBe(AlertDescription.illegal_parameter);
  });

  it('rejects a TLS 1.2-only ClientHello with protocol_version', () => {
    const hello = encodeClientHello({
      random: new Uint8Array(32),
      cipherSuites: [0xc02f],
      extensions: [[E.signature_algorithms, encodeU16List([S.rsa_pkcs1_sha256], 2)]],
    });
    expect(new TlsServer(baseServer()).receive('initial', hello, NOW)?.alert).toBe(AlertDescription.protocol_version);
  });
});

describe('what real servers send', () => {
  /** A hand-built server flight whose EncryptedExtensions carries `extra`. */
  function flightWith(extra: [number, Uint8Array][]) {
    const client = new TlsClient(baseClient());
    client.start(NOW);
    const ch = client.poll();
    if (ch?.type !== 'handshake-data') throw new Error('no ClientHello');
    const buf = new HandshakeBuffer(65536, 'Initial');
    buf.push(ch.data);
    const chMsg = buf.next()!;
    const hello = parseClientHello(chMsg);
    const share = parseClientKeyShares(hello.extensions.map.get(E.key_share)!)[0]!;
    const accepted = nobleKeyExchange.accept(NamedGroup.x25519, share.keyExchange);
    const sh = encodeServerHello({
      random: new Uint8Array(32).fill(9),
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: CipherSuite.TLS_AES_128_GCM_SHA256,
      extensions: [
        [E.supported_versions, Uint8Array.of(3, 4)],
        [E.key_share, encodeServerKeyShare({ group: NamedGroup.x25519, keyExchange: accepted.publicKey })],
      ],
    });
    const t = new Transcript('sha256');
    t.update(chMsg.raw);
    t.update(sh);
    const secrets = new KeySchedule('sha256').handshakeSecrets(accepted.sharedSecret, t.digest());
    const id = identity('leaf-ecdsa');
    const ee = encodeEncryptedExtensions([
      [E.application_layer_protocol_negotiation, encodeAlpn([utf8('h3')])],
      [E.quic_transport_parameters, Uint8Array.of(1, 1, 0)],
      ...extra,
    ]);
    t.update(ee);
    const cert = encodeCertificate(new Uint8Array(0), id.chain);
    t.update(cert);
    const cv = encodeCertificateVerify({
      scheme: S.ecdsa_secp256r1_sha256,
      signature: signCertificateVerify(id, S.ecdsa_secp256r1_sha256, t.digest(), 'server'),
    });
    t.update(cv);
    const fin = encodeFinished(finishedVerifyData('sha256', secrets.server, t.digest()));
    const errSh = client.receive('initial', sh, NOW);
    const err = errSh ?? client.receive('handshake', Uint8Array.from([...ee, ...cert, ...cv, ...fin]), NOW);
    return { client, err };
  }

  it('tolerates record_size_limit and supported_groups in EncryptedExtensions', () => {
    const { client, err } = flightWith([
      [E.record_size_limit, Uint8Array.of(0x40, 0x01)],
      [E.supported_groups, encodeU16List([NamedGroup.secp256r1], 2)],
    ]);
    expect(err).toBeUndefined();
    expect(client.handshakeComplete).toBe(true);
  });

  it('refuses an extension it never offered (unsupported_extension) or one misplaced (illegal_parameter)', () => {
    expect(flightWith([[0x7777, new Uint8Array(0)]]).err?.alert).toBe(AlertDescription.unsupported_extension);
    expect(flightWith([[E.key_share, new Uint8Array(0)]]).err?.alert).toBe(AlertDescription.illegal_parameter);
    expect(flightWith([[E.early_data, new Uint8Array(0)]]).err?.alert).toBe(AlertDescription.unsupported_extension);
  });
});
