import { isIP } from 'node:net';
import { concatBytes } from './bytes.js';
import {
  chooseSignatureScheme,
  signCertificateVerify,
  verifyCertificateChain,
  verifyCertificateVerify,
} from './certificates.js';
import { ExtensionType, HandshakeType, PskKeyExchangeMode, TLS12_VERSION, TLS13_VERSION, type NamedGroup } from './codes.js';
import type { CryptoLevel, SessionTicket, TlsClientConfig } from './config.js';
import { CERTIFICATE_SIGNATURE_SCHEMES, QUIC_PROTOCOL_VIOLATION, QuicProfileError, TlsEndpoint } from './endpoint.js';
import { AlertDescription, TlsAlertError, TlsConfigError } from './errors.js';
import type { KeyShare } from './key-exchange.js';
import {
  KeySchedule,
  PendingTranscript,
  type Transcript,
  digest,
  finishedVerifyData,
  hashLengthOf,
  resumptionPsk,
  suiteInfo,
  verifyFinished,
  type HashName,
} from './key-schedule.js';
import {
  bindersLength,
  encodeAlpn,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeClientKeyShares,
  encodeFinished,
  encodeOfferedPsks,
  encodeServerName,
  encodeU16List,
  expectEmpty,
  parseAlpn,
  parseCertificate,
  parseCertificateRequest,
  parseCertificateVerify,
  parseEncryptedExtensions,
  parseNewSessionTicket,
  parseServerHello,
  parseServerKeyShare,
  parseU16,
  parseU16List,
  parseU32,
  type ExtensionList,
  type HandshakeMessage,
  type ServerHello,
} from './messages.js';
import { MAX_TICKET_LIFETIME } from './session-ticket.js';

type ClientState =
  | 'idle'
  | 'wait-server-hello'
  | 'wait-encrypted-extensions'
  | 'wait-certificate-or-request'
  | 'wait-certificate'
  | 'wait-certificate-verify'
  | 'wait-finished'
  | 'connected';

/** Extensions a server may put in EncryptedExtensions (RFC 8446 §4.2 table, plus RFC 9001 §8.2). */
const EE_ALLOWED = new Set<number>([
  ExtensionType.server_name,
  ExtensionType.max_fragment_length,
  ExtensionType.supported_groups,
  ExtensionType.use_srtp,
  ExtensionType.heartbeat,
  ExtensionType.application_layer_protocol_negotiation,
  ExtensionType.client_certificate_type,
  ExtensionType.server_certificate_type,
  ExtensionType.early_data,
  ExtensionType.record_size_limit,
  ExtensionType.quic_transport_parameters,
]);
/**
 * Tolerated in EncryptedExtensions even if not offered: servers send record_size_limit and supported_groups (RFC
 * 8446 §4.2.7 allows the latter) regardless, and neither changes anything QUIC does (records do not exist in QUIC).
 */
const EE_TOLERATED = new Set<number>([ExtensionType.record_size_limit, ExtensionType.supported_groups]);
const SH_ALLOWED = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key]);
const HRR_ALLOWED = new Set<number>([ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie]);

interface OfferedPsk {
  readonly ticket: SessionTicket;
  readonly hash: HashName;
  readonly schedule: KeySchedule;
}

/**
 * The client half of the TLS 1.3 handshake for QUIC (RFC 8446, RFC 9001). Sans-I/O: call start(), feed received
 * handshake bytes with receive(), and drain poll() for bytes to send, secrets and completion.
 */
export class TlsClient extends TlsEndpoint {
  private readonly cfg: TlsClientConfig;
  private state: ClientState = 'idle';
  private transcript: Transcript | undefined;
  private pending = new PendingTranscript();
  private shares: KeyShare[] = [];
  private offeredExtensions = new Set<number>();
  private offeredPsk: OfferedPsk | undefined;
  private offeredEarlyData = false;
  private helloRetried = false;
  private hrrSuite: number | undefined;
  private schedule: KeySchedule | undefined;
  private clientHsSecret: Uint8Array | undefined;
  private serverHsSecret: Uint8Array | undefined;
  private certificateRequest: { context: Uint8Array; schemes: number[] } | undefined;
  private resumptionMaster: Uint8Array | undefined;
  private sniSent: string | undefined;

  constructor(config: TlsClientConfig) {
    super(config);
    this.cfg = config;
    for (const g of config.keyShareGroups ?? []) {
      if (!this.groups.includes(g)) throw new TlsConfigError(`keyShareGroups lists 0x${g.toString(16)}, which is not in groups`);
    }
    if (config.serverName !== undefined && config.serverName.length === 0) {
      throw new TlsConfigError('serverName is empty');
    }
  }

  /** Produces the ClientHello (and 0-RTT secrets when resuming with early data). Call once. */
  start(now: number): void {
    if (this.state !== 'idle') throw new TlsConfigError('start() was already called');
    this.state = 'wait-server-hello';
    try {
      const groups = this.cfg.keyShareGroups ?? [this.groups[0]!];
      this.shares = groups.map((g) => this.keyExchange.generate(g));
      this.clientRandom = this.random(32);
      const hello = this.buildClientHello(now, undefined);
      this.pending.update(hello);
      this.emitData('initial', hello);
      if (this.offeredEarlyData && this.offeredPsk !== undefined) {
        const { ticket, schedule, hash } = this.offeredPsk;
        this.suite = suiteInfo(ticket.cipherSuite);
        const chHash = digest(hash, hello);
        this.emitSecret('early', 'write', schedule.clientEarlyTrafficSecret(chHash), 'CLIENT_EARLY_TRAFFIC_SECRET');
        this.log('EARLY_EXPORTER_SECRET', schedule.earlyExporterMasterSecret(chHash));
        this.suite = undefined;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** Whether 0-RTT was offered in the ClientHello (the caller may send 0-RTT packets until told otherwise). */
  get earlyDataOffered(): boolean {
    return this.offeredEarlyData;
  }

  private usableSession(now: number): SessionTicket | undefined {
    const t = this.cfg.session;
    if (t === undefined) return undefined;
    const info = suiteInfo(t.cipherSuite);
    if (info === undefined || !this.suites.includes(t.cipherSuite)) return undefined;
    if (now - t.receivedAt > t.lifetime * 1000 || now < t.receivedAt - 60_000) return undefined;
    if (t.serverName !== this.cfg.serverName) return undefined;
    if (!this.config.alpnProtocols.includes(t.alpn)) return undefined;
    return t;
  }

  private buildClientHello(now: number, retry: { group?: number; cookie?: Uint8Array } | undefined): Uint8Array {
    const exts: [number, Uint8Array][] = [];
    const name = this.cfg.serverName;
    // RFC 6066 §3: literal IPv4 and IPv6 addresses are not permitted in server_name.
    if (name !== undefined && isIP(name) === 0) {
      exts.push([ExtensionType.server_name, encodeServerName(name)]);
      this.sniSent = name;
    }
    exts.push([ExtensionType.supported_versions, encodeU16List([TLS13_VERSION], 1)]);
    exts.push([ExtensionType.supported_groups, encodeU16List(this.groups, 2)]);
    exts.push([ExtensionType.signature_algorithms, encodeU16List(this.schemes, 2)]);
    exts.push([ExtensionType.signature_algorithms_cert, encodeU16List(CERTIFICATE_SIGNATURE_SCHEMES, 2)]);
    exts.push([
      ExtensionType.key_share,
      encodeClientKeyShares(this.shares.map((s) => ({ group: s.group, keyExchange: s.publicKey }))),
    ]);
    exts.push([ExtensionType.application_layer_protocol_negotiation, encodeAlpn(this.alpnBytes())]);
    if (this.quic) exts.push([ExtensionType.quic_transport_parameters, this.config.transportParameters!]);
    // psk_dhe_ke only (RFC 8446 §4.2.9): resumption always runs a fresh (EC)DHE for forward secrecy.
    exts.push([ExtensionType.psk_key_exchange_modes, Uint8Array.of(1, PskKeyExchangeMode.psk_dhe_ke)]);
    if (retry?.cookie !== undefined) {
      const c = retry.cookie;
      exts.push([ExtensionType.cookie, concatBytes(Uint8Array.of(c.length >>> 8, c.length & 0xff), c)]);
    }

    const session = retry === undefined ? this.usableSession(now) : this.offeredPsk?.ticket;
    let psk: OfferedPsk | undefined;
    if (session !== undefined) {
      const hash = suiteInfo(session.cipherSuite)!.hash;
      if (retry === undefined || this.hrrSuite === undefined || suiteInfo(this.hrrSuite)!.hash === hash) {
        psk = { ticket: session, hash, schedule: new KeySchedule(hash, session.psk) };
      }
    }
    // RFC 9001 §4.6.1: on QUIC, a ticket allowing 0-RTT carries max_early_data_size 0xffffffff.
    const early =
      retry === undefined && psk !== undefined && this.quic && this.cfg.earlyData === true && psk.ticket.maxEarlyDataSize === 0xffffffff;
    if (early) exts.push([ExtensionType.early_data, new Uint8Array(0)]);
    this.offeredEarlyData = early;

    const suites = [...this.suites];
    if (psk !== undefined) {
      // Put the ticket's suite first so a server that resumes can keep it (0-RTT needs the same suite, §4.2.10).
      suites.splice(suites.indexOf(psk.ticket.cipherSuite), 1);
      suites.unshift(psk.ticket.cipherSuite);
    }
    let binderLen = 0;
    if (psk !== undefined) {
      binderLen = hashLengthOf(psk.hash);
      // RFC 8446 §4.2.11.1: obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32.
      const age = Math.max(0, Math.floor(now - psk.ticket.receivedAt));
      const obfuscated = (age + psk.ticket.ageAdd) >>> 0;
      exts.push([
        ExtensionType.pre_shared_key,
        encodeOfferedPsks({
          identities: [{ identity: psk.ticket.ticket, obfuscatedTicketAge: obfuscated }],
          binders: [new Uint8Array(binderLen)],
        }),
      ]);
    }
    this.offeredPsk = psk;
    this.offeredExtensions = new Set(exts.map(([t]) => t));
    const hello = encodeClientHello({ random: this.clientRandom!, cipherSuites: suites, extensions: exts as ExtensionList });
    if (psk !== undefined) {
      // RFC 8446 §4.2.11.2: the binder covers the transcript up to (excluding) the binders list.
      const cut = hello.length - bindersLength([binderLen]);
      const partial = hello.subarray(0, cut);
      // After a HelloRetryRequest the transcript already holds message_hash(CH1) and the HRR (RFC 8446 §4.4.1).
      const partialHash = this.transcript === undefined ? digest(psk.hash, partial) : this.transcript.digestWith(partial);
      const binder = finishedVerifyData(psk.hash, psk.schedule.binderKey('resumption'), partialHash);
      hello.set(binder, hello.length - binderLen);
    }
    return hello;
  }

  protected handle(level: CryptoLevel, msg: HandshakeMessage, now: number): void {
    const t = msg.type;
    switch (this.state) {
      case 'wait-server-hello':
        if (t !== HandshakeType.server_hello) break;
        return this.onServerHello(msg, now);
      case 'wait-encrypted-extensions':
        if (t !== HandshakeType.encrypted_extensions) break;
        return this.onEncryptedExtensions(msg);
      case 'wait-certificate-or-request':
        if (t === HandshakeType.certificate_request) return this.onCertificateRequest(msg);
        if (t === HandshakeType.certificate) return this.onCertificate(msg, now);
        break;
      case 'wait-certificate':
        if (t !== HandshakeType.certificate) break;
        return this.onCertificate(msg, now);
      case 'wait-certificate-verify':
        if (t !== HandshakeType.certificate_verify) break;
        return this.onCertificateVerify(msg);
      case 'wait-finished':
        if (t !== HandshakeType.finished) break;
        return this.onFinished(msg);
      case 'connected':
        if (t === HandshakeType.new_session_ticket) return this.onNewSessionTicket(msg, now);
        if (t === HandshakeType.key_update && this.quic) {
          // RFC 9001 §6: QUIC replaces KeyUpdate; receiving one is an unexpected_message.
          throw new TlsAlertError(AlertDescription.unexpected_message, 'TLS KeyUpdate is forbidden in QUIC');
        }
        break;
      case 'idle':
        throw new TlsAlertError(AlertDescription.unexpected_message, 'handshake data before start()');
    }
    throw new TlsAlertError(AlertDescription.unexpected_message, `unexpected handshake message ${t} in state ${this.state} (${level})`);
  }

  private checkHelloCommon(sh: ServerHello, what: string): void {
    const versions = sh.extensions.map.get(ExtensionType.supported_versions);
    if (versions === undefined) {
      throw new TlsAlertError(AlertDescription.protocol_version, `${what} does not select TLS 1.3 (no supported_versions)`);
    }
    if (parseU16(versions, 'supported_versions') !== TLS13_VERSION) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `${what} selects a version other than TLS 1.3`);
    }
    if (sh.legacyVersion !== TLS12_VERSION) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `${what} legacy_version is not 0x0303`);
    }
    if (sh.legacySessionIdEcho.length !== 0) {
      // We always send an empty legacy_session_id (RFC 9001 §8.4), so the echo must be empty too (RFC 8446 §4.1.3).
      throw new TlsAlertError(AlertDescription.illegal_parameter, `${what} legacy_session_id_echo does not match`);
    }
    if (sh.compressionMethod !== 0) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `${what} selects a compression method`);
    }
    if (!this.suites.includes(sh.cipherSuite as never) || suiteInfo(sh.cipherSuite) === undefined) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `${what} selects cipher suite 0x${sh.cipherSuite.toString(16)} that was not offered`);
    }
  }

  private onServerHello(msg: HandshakeMessage, now: number): void {
    const sh = parseServerHello(msg);
    if (sh.isHelloRetryRequest) return this.onHelloRetryRequest(sh, msg, now);
    this.checkHelloCommon(sh, 'ServerHello');
    this.checkResponseExtensions(sh.extensions.order, SH_ALLOWED, this.offeredExtensions, 'ServerHello');
    if (this.hrrSuite !== undefined && sh.cipherSuite !== this.hrrSuite) {
      // RFC 8446 §4.1.4: the ServerHello after a HelloRetryRequest must keep the suite.
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'ServerHello cipher suite differs from the HelloRetryRequest');
    }
    const suite = suiteInfo(sh.cipherSuite)!;
    const ksData = sh.extensions.map.get(ExtensionType.key_share);
    if (ksData === undefined) {
      // We offer psk_dhe_ke only, so a key share is always needed.
      throw new TlsAlertError(AlertDescription.missing_extension, 'ServerHello has no key_share');
    }
    const ks = parseServerKeyShare(ksData);
    const share = this.shares.find((s) => s.group === ks.group);
    if (share === undefined) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `ServerHello key share for group 0x${ks.group.toString(16)} that we did not offer`);
    }
    let psk: Uint8Array | undefined;
    const pskData = sh.extensions.map.get(ExtensionType.pre_shared_key);
    if (pskData !== undefined) {
      const selected = parseU16(pskData, 'pre_shared_key');
      const offered = this.offeredPsk;
      if (offered === undefined || selected !== 0) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `server selected PSK identity ${selected} that was not offered`);
      }
      if (offered.hash !== suite.hash) {
        // RFC 8446 §4.2.11: the selected suite must use the PSK's hash.
        throw new TlsAlertError(AlertDescription.illegal_parameter, 'server resumed with a suite whose hash differs from the PSK');
      }
      psk = offered.ticket.psk;
      this.pskAccepted = true;
    }
    const shared = share.computeSecret(ks.keyExchange);
    this.suite = suite;
    this.transcript ??= this.pending.resolve(suite.hash);
    this.transcript.update(msg.raw);
    this.schedule = this.pskAccepted ? this.offeredPsk!.schedule : new KeySchedule(suite.hash, psk);
    const hs = this.schedule.handshakeSecrets(shared, this.transcript.digest());
    this.clientHsSecret = hs.client;
    this.serverHsSecret = hs.server;
    this.emitSecret('handshake', 'read', hs.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    this.emitSecret('handshake', 'write', hs.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    this.state = 'wait-encrypted-extensions';
    this.readLevel = 'handshake';
  }

  private onHelloRetryRequest(hrr: ServerHello, msg: HandshakeMessage, now: number): void {
    if (this.helloRetried) {
      throw new TlsAlertError(AlertDescription.unexpected_message, 'second HelloRetryRequest');
    }
    this.helloRetried = true;
    this.checkHelloCommon(hrr, 'HelloRetryRequest');
    this.checkResponseExtensions(hrr.extensions.order, HRR_ALLOWED, new Set([...this.offeredExtensions, ExtensionType.cookie]), 'HelloRetryRequest');
    const ksData = hrr.extensions.map.get(ExtensionType.key_share);
    const cookieData = hrr.extensions.map.get(ExtensionType.cookie);
    let group: number | undefined;
    if (ksData !== undefined) {
      group = parseU16(ksData, 'key_share');
      // RFC 8446 §4.2.8: the group must be one we support and not one we already sent a share for.
      if (!this.groups.includes(group as NamedGroup) || this.shares.some((s) => s.group === group)) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `HelloRetryRequest asks for group 0x${group.toString(16)}`);
      }
    }
    let cookie: Uint8Array | undefined;
    if (cookieData !== undefined) {
      const r = parseCookie(cookieData);
      cookie = r;
    }
    if (group === undefined && cookie === undefined) {
      // RFC 8446 §4.1.4: an HRR that would not change the ClientHello is illegal.
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'HelloRetryRequest changes nothing');
    }
    this.hrrSuite = hrr.cipherSuite;
    const suite = suiteInfo(hrr.cipherSuite)!;
    this.transcript = this.pending.resolve(suite.hash);
    this.transcript.restartForHelloRetry();
    this.transcript.update(msg.raw);
    if (this.offeredEarlyData) {
      // RFC 8446 §4.1.2: early data is not allowed after a HelloRetryRequest.
      this.offeredEarlyData = false;
      this.emit({ type: 'early-data-rejected' });
    }
    if (group !== undefined) this.shares = [this.keyExchange.generate(group as NamedGroup)];
    const hello = this.buildClientHello(now, { group, cookie });
    this.transcript.update(hello);
    this.emitData('initial', hello);
  }

  private onEncryptedExtensions(msg: HandshakeMessage): void {
    const ee = parseEncryptedExtensions(msg);
    this.checkResponseExtensions(ee.order, EE_ALLOWED, this.offeredExtensions, 'EncryptedExtensions', EE_TOLERATED);
    const alpnData = ee.map.get(ExtensionType.application_layer_protocol_negotiation);
    if (alpnData === undefined) {
      // RFC 9001 §8.1: without ALPN agreement the handshake fails with no_application_protocol.
      throw new TlsAlertError(AlertDescription.no_application_protocol, 'server did not select an application protocol');
    }
    const list = parseAlpn(alpnData);
    if (list.length !== 1) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'server ALPN response must name exactly one protocol');
    }
    const chosen = this.decodeAlpn(list[0]!);
    if (!this.config.alpnProtocols.includes(chosen)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `server selected ALPN "${chosen}" that was not offered`);
    }
    this.negotiatedAlpn = chosen;
    const sni = ee.map.get(ExtensionType.server_name);
    if (sni !== undefined) expectEmpty(sni, 'server_name in EncryptedExtensions');
    if (this.quic) {
      const tp = ee.map.get(ExtensionType.quic_transport_parameters);
      if (tp === undefined) {
        // RFC 9001 §8.2: missing quic_transport_parameters is a missing_extension alert.
        throw new TlsAlertError(AlertDescription.missing_extension, 'server sent no quic_transport_parameters');
      }
      this.peerParams = tp.slice();
    }
    const early = ee.map.get(ExtensionType.early_data);
    if (early !== undefined) {
      expectEmpty(early, 'early_data in EncryptedExtensions');
      if (!this.offeredEarlyData || !this.pskAccepted) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, 'server accepted early data that was not offered');
      }
      // RFC 8446 §4.2.10: 0-RTT was sent for the ticket's ALPN; accepting it under another protocol is an error.
      if (chosen !== this.offeredPsk!.ticket.alpn) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `server accepted early data but selected ALPN "${chosen}"`);
      }
      this.earlyAccepted = true;
    } else if (this.offeredEarlyData) {
      this.emit({ type: 'early-data-rejected' });
    }
    this.transcript!.update(msg.raw);
    this.state = this.pskAccepted ? 'wait-finished' : 'wait-certificate-or-request';
  }

  private onCertificateRequest(msg: HandshakeMessage): void {
    const cr = parseCertificateRequest(msg);
    if (cr.context.length !== 0) {
      // RFC 8446 §4.3.2: in the main handshake the context is zero length.
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'CertificateRequest context must be empty during the handshake');
    }
    const sa = cr.extensions.map.get(ExtensionType.signature_algorithms);
    if (sa === undefined) {
      throw new TlsAlertError(AlertDescription.missing_extension, 'CertificateRequest without signature_algorithms');
    }
    this.certificateRequest = { context: cr.context.slice(), schemes: parseU16List(sa, 2, 2, 'signature_algorithms') };
    this.transcript!.update(msg.raw);
    this.state = 'wait-certificate';
  }

  private onCertificate(msg: HandshakeMessage, now: number): void {
    const cert = parseCertificate(msg);
    if (cert.context.length !== 0) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'server Certificate context must be empty');
    }
    if (cert.certificates.length === 0) {
      // RFC 8446 §4.4.2.4.
      throw new TlsAlertError(AlertDescription.decode_error, 'server sent an empty certificate list');
    }
    const result = verifyCertificateChain(
      cert.certificates,
      {
        purpose: 'server',
        ...(this.cfg.ca !== undefined && { ca: this.cfg.ca }),
        ...(this.cfg.serverName !== undefined && { serverName: this.cfg.serverName }),
        ...(this.cfg.pins !== undefined && { pins: this.cfg.pins }),
        ...(this.cfg.verifyCertificate !== undefined && { verify: this.cfg.verifyCertificate }),
        ...(this.cfg.insecureSkipChainVerification === true && { allowUntrusted: true }),
      },
      now,
    );
    if (!result.ok) throw new TlsAlertError(result.alert, `server certificate rejected: ${result.reason}`);
    this.peerChain = result.chain;
    this.transcript!.update(msg.raw);
    this.state = 'wait-certificate-verify';
  }

  private onCertificateVerify(msg: HandshakeMessage): void {
    const cv = parseCertificateVerify(msg);
    if (!this.schemes.includes(cv.scheme as never)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `CertificateVerify uses scheme 0x${cv.scheme.toString(16)} that was not offered`);
    }
    const ok = verifyCertificateVerify(this.peerChain![0]!, cv.scheme, this.transcript!.digest(), 'server', cv.signature);
    if (!ok) {
      // RFC 8446 §4.4.3: a failed signature check is a decrypt_error.
      throw new TlsAlertError(AlertDescription.decrypt_error, 'server CertificateVerify signature is invalid');
    }
    this.transcript!.update(msg.raw);
    this.state = 'wait-finished';
  }

  private onFinished(msg: HandshakeMessage): void {
    const hash = this.hashName();
    const transcript = this.transcript!;
    if (msg.body.length !== hashLengthOf(hash) || !verifyFinished(hash, this.serverHsSecret!, transcript.digest(), msg.body)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'server Finished does not verify');
    }
    transcript.update(msg.raw);
    const app = this.schedule!.applicationSecrets(transcript.digest());
    this.exporterSecret = app.exporter;
    this.log('EXPORTER_SECRET', app.exporter);

    const flight: Uint8Array[] = [];
    const req = this.certificateRequest;
    if (req !== undefined) {
      const identity = this.cfg.certificate;
      const scheme = identity === undefined ? undefined : chooseSignatureScheme(identity, req.schemes);
      const chain = identity !== undefined && scheme !== undefined ? identity.chain : [];
      const certMsg = encodeCertificate(req.context, chain);
      transcript.update(certMsg);
      flight.push(certMsg);
      if (identity !== undefined && scheme !== undefined) {
        const signature = signCertificateVerify(identity, scheme, transcript.digest(), 'client');
        const cvMsg = encodeCertificateVerify({ scheme, signature });
        transcript.update(cvMsg);
        flight.push(cvMsg);
      }
    }
    const fin = encodeFinished(finishedVerifyData(hash, this.clientHsSecret!, transcript.digest()));
    transcript.update(fin);
    flight.push(fin);
    this.resumptionMaster = this.schedule!.resumptionMasterSecret(transcript.digest());

    this.emitSecret('application', 'read', app.server, 'SERVER_TRAFFIC_SECRET_0');
    this.emitSecret('application', 'write', app.client, 'CLIENT_TRAFFIC_SECRET_0');
    this.emitData('handshake', concatBytes(...flight));
    this.state = 'connected';
    this.readLevel = 'application';
    this.complete();
  }

  private onNewSessionTicket(msg: HandshakeMessage, now: number): void {
    const nst = parseNewSessionTicket(msg);
    if (nst.lifetime > MAX_TICKET_LIFETIME) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `ticket lifetime ${nst.lifetime} s exceeds 7 days`);
    }
    let maxEarly = 0;
    for (const type of nst.extensions.order) {
      if (type === ExtensionType.early_data) {
        maxEarly = parseU32(nst.extensions.map.get(type)!, 'early_data');
        if (this.quic && maxEarly !== 0xffffffff) {
          // RFC 9001 §4.6.1.
          throw new QuicProfileError(
            AlertDescription.illegal_parameter,
            `NewSessionTicket max_early_data_size ${maxEarly} is not 0xffffffff`,
            QUIC_PROTOCOL_VIOLATION,
          );
        }
      }
      // Other NewSessionTicket extensions (GREASE included) are ignored: RFC 8446 §4.6.1 lets clients skip unknown ones.
    }
    if (nst.lifetime === 0) return; // RFC 8446 §4.6.1: "the ticket should be discarded immediately"
    const suite = this.suite!;
    const ticket: SessionTicket = {
      serverName: this.cfg.serverName,
      alpn: this.negotiatedAlpn!,
      cipherSuite: suite.suite,
      psk: resumptionPsk(suite.hash, this.resumptionMaster!, nst.nonce),
      ticket: nst.ticket.slice(),
      ageAdd: nst.ageAdd,
      lifetime: nst.lifetime,
      receivedAt: now,
      maxEarlyDataSize: this.quic ? maxEarly : 0,
      peerTransportParameters: this.peerParams,
    };
    this.emit({ type: 'session-ticket', ticket });
  }

  /** The SNI value sent, if any (IP literals are never sent). */
  get sentServerName(): string | undefined {
    return this.sniSent;
  }

  /** True when the server answered with a HelloRetryRequest. */
  get helloRetryRequested(): boolean {
    return this.helloRetried;
  }
}

function parseCookie(data: Uint8Array): Uint8Array {
  if (data.length < 3 || ((data[0]! << 8) | data[1]!) !== data.length - 2) {
    throw new TlsAlertError(AlertDescription.decode_error, 'malformed cookie extension');
  }
  return data.slice(2);
}

