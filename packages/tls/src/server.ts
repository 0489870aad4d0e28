import { concatBytes, equalBytes, utf8 } from './bytes.js';
import {
  chooseSignatureScheme,
  signCertificateVerify,
  verifyCertificateChain,
  verifyCertificateVerify,
  type CertificateIdentity,
} from './certificates.js';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeType,
  PskKeyExchangeMode,
  TLS13_VERSION,
  type CipherSuite,
  type NamedGroup,
} from './codes.js';
import type { CryptoLevel, TlsServerConfig } from './config.js';
import { EXT, QUIC_PROTOCOL_VIOLATION, QuicProfileError, TlsEndpoint } from './endpoint.js';
import { AlertDescription, TlsAlertError, TlsConfigError } from './errors.js';
import {
  KeySchedule,
  Transcript,
  digest,
  finishedVerifyData,
  hashLengthOf,
  resumptionPsk,
  suiteInfo,
  verifyFinished,
  type SuiteInfo,
} from './key-schedule.js';
import {
  encodeAlpn,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeNewSessionTicket,
  encodeServerHello,
  encodeServerKeyShare,
  encodeU16,
  encodeU16List,
  encodeU32,
  parseAlpn,
  parseCertificate,
  parseCertificateVerify,
  parseClientHello,
  parseClientKeyShares,
  parseOfferedPsks,
  parseServerName,
  parseU16List,
  parseU8List,
  type ClientHello,
  type ExtensionList,
  type HandshakeMessage,
} from './messages.js';
import { MAX_TICKET_LIFETIME, openTicket, sealTicket, type TicketState } from './session-ticket.js';

type ServerState =
  | 'wait-client-hello'
  | 'wait-second-client-hello'
  | 'wait-client-certificate'
  | 'wait-client-certificate-verify'
  | 'wait-finished'
  | 'connected';

const DEFAULT_TICKET_LIFETIME = 86400;
const DEFAULT_EARLY_DATA_AGE_TOLERANCE = 10_000;

interface AcceptedPsk {
  readonly state: TicketState;
  readonly index: number;
  readonly binder: Uint8Array;
  readonly clientAge: number;
}

/**
 * The server half of the TLS 1.3 handshake for QUIC. One instance per connection; the config (certificates,
 * ticket key, anti-replay store) is shared between connections.
 */
export class TlsServer extends TlsEndpoint {
  private readonly cfg: TlsServerConfig;
  private state: ServerState = 'wait-client-hello';
  private transcript: Transcript | undefined;
  private schedule: KeySchedule | undefined;
  private clientHsSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private retryGroup: number | undefined;
  private firstHello: ClientHello | undefined;
  private clientOfferedPskDhe = false;
  private sni: string | undefined;
  private identity: CertificateIdentity | undefined;
  private clientCertRequested = false;
  private clientSchemes: number[] = [];

  constructor(config: TlsServerConfig) {
    super(config);
    this.cfg = config;
    if (config.certificate === undefined) throw new TlsConfigError('a server needs a certificate');
    if (config.ticketKey !== undefined && config.ticketKey.length !== 32) {
      throw new TlsConfigError(`ticketKey must be 32 bytes, got ${config.ticketKey.length}`);
    }
    const lifetime = config.ticketLifetime ?? DEFAULT_TICKET_LIFETIME;
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_TICKET_LIFETIME) {
      throw new TlsConfigError(`ticketLifetime must be 1..${MAX_TICKET_LIFETIME} seconds`);
    }
    if (config.earlyData === true && config.antiReplay === undefined && config.allowEarlyDataReplay !== true) {
      throw new TlsConfigError('earlyData needs an antiReplay store, or allowEarlyDataReplay: true to accept replays');
    }
    if (config.clientCertificate !== undefined && config.clientCertificate !== false && config.clientCa === undefined) {
      throw new TlsConfigError('clientCertificate needs clientCa (the roots client certificates must chain to)');
    }
  }

  /** The SNI the client sent, if any. */
  get serverName(): string | undefined {
    return this.sni;
  }

  protected handle(level: CryptoLevel, msg: HandshakeMessage, now: number): void {
    const t = msg.type;
    switch (this.state) {
      case 'wait-client-hello':
      case 'wait-second-client-hello':
        if (t !== HandshakeType.client_hello) break;
        return this.onClientHello(msg, now);
      case 'wait-client-certificate':
        if (t !== HandshakeType.certificate) break;
        return this.onClientCertificate(msg, now);
      case 'wait-client-certificate-verify':
        if (t !== HandshakeType.certificate_verify) break;
        return this.onClientCertificateVerify(msg);
      case 'wait-finished':
        if (t !== HandshakeType.finished) break;
        return this.onFinished(msg, now);
      case 'connected':
        break;
    }
    if (t === HandshakeType.end_of_early_data && this.quic) {
      // RFC 9001 §8.3: QUIC clients never send EndOfEarlyData.
      throw new QuicProfileError(AlertDescription.unexpected_message, 'EndOfEarlyData is forbidden in QUIC', QUIC_PROTOCOL_VIOLATION);
    }
    throw new TlsAlertError(AlertDescription.unexpected_message, `unexpected handshake message ${t} in state ${this.state} (${level})`);
  }

  private onClientHello(msg: HandshakeMessage, now: number): void {
    const ch = parseClientHello(msg);
    const ext = ch.extensions.map;
    const retry = this.state === 'wait-second-client-hello';

    const versions = ext.get(EXT.supported_versions);
    if (versions === undefined || !parseU16List(versions, 1, 2, 'supported_versions').includes(TLS13_VERSION)) {
      throw new TlsAlertError(AlertDescription.protocol_version, 'client does not offer TLS 1.3');
    }
    // RFC 8446 §4.1.2: TLS 1.3 ClientHellos carry exactly one compression method, null.
    if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'legacy_compression_methods must be [null]');
    }
    if (this.quic && ch.legacySessionId.length !== 0) {
      // RFC 9001 §8.4: a QUIC ClientHello with a legacy_session_id is a PROTOCOL_VIOLATION.
      throw new QuicProfileError(AlertDescription.illegal_parameter, 'QUIC ClientHello carries a legacy_session_id', QUIC_PROTOCOL_VIOLATION);
    }
    if (retry) this.checkSecondHello(this.firstHello!, ch);
    this.clientRandom = ch.random.slice();

    // ALPN (RFC 7301 §3.2): server preference among what the client offers.
    const alpnData = ext.get(EXT.application_layer_protocol_negotiation);
    if (alpnData === undefined) {
      throw new TlsAlertError(AlertDescription.no_application_protocol, 'client offered no application protocol');
    }
    const offeredAlpn = parseAlpn(alpnData).map((b) => this.decodeAlpn(b));
    const alpn = this.config.alpnProtocols.find((p) => offeredAlpn.includes(p));
    if (alpn === undefined) {
      throw new TlsAlertError(AlertDescription.no_application_protocol, `no common application protocol (client offered ${offeredAlpn.join(', ')})`);
    }

    let clientParams: Uint8Array | undefined;
    if (this.quic) {
      clientParams = ext.get(EXT.quic_transport_parameters);
      if (clientParams === undefined) {
        throw new TlsAlertError(AlertDescription.missing_extension, 'client sent no quic_transport_parameters');
      }
    }

    const modesData = ext.get(EXT.psk_key_exchange_modes);
    this.clientOfferedPskDhe =
      modesData !== undefined && parseU8List(modesData, 'psk_key_exchange_modes').includes(PskKeyExchangeMode.psk_dhe_ke);

    const sniData = ext.get(EXT.server_name);
    const sni = sniData === undefined ? undefined : parseServerName(sniData);

    // Groups and key shares (RFC 8446 §4.2.7, §4.2.8). Only psk_dhe_ke is supported, so both are mandatory.
    const groupsData = ext.get(EXT.supported_groups);
    const sharesData = ext.get(EXT.key_share);
    if (groupsData === undefined || sharesData === undefined) {
      throw new TlsAlertError(AlertDescription.missing_extension, 'ClientHello lacks supported_groups or key_share');
    }
    const clientGroups = parseU16List(groupsData, 2, 2, 'supported_groups');
    const shares = parseClientKeyShares(sharesData);
    for (const s of shares) {
      if (!clientGroups.includes(s.group)) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `key share for group 0x${s.group.toString(16)} not in supported_groups`);
      }
    }

    // Cipher suite: server preference; a resumption prefers the ticket's suite (0-RTT needs it, RFC 8446 §4.2.10).
    const psk = this.findPsk(ch, msg, alpn, sni, now);
    let suite: SuiteInfo | undefined;
    if (retry) {
      suite = this.suite;
      if (suite === undefined || !ch.cipherSuites.includes(suite.suite)) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, 'second ClientHello dropped the cipher suite of the HelloRetryRequest');
      }
    } else if (psk !== undefined && ch.cipherSuites.includes(psk.state.cipherSuite)) {
      suite = suiteInfo(psk.state.cipherSuite);
    } else {
      const chosen = this.suites.find((s) => ch.cipherSuites.includes(s));
      suite = chosen === undefined ? undefined : suiteInfo(chosen);
    }
    if (suite === undefined) throw new TlsAlertError(AlertDescription.handshake_failure, 'no cipher suite in common');
    const usePsk = psk !== undefined && suiteInfo(psk.state.cipherSuite)!.hash === suite.hash ? psk : undefined;

    // Certificate (only for a full handshake).
    let identity: CertificateIdentity | undefined;
    let scheme: number | undefined;
    if (usePsk === undefined) {
      const c = this.cfg.certificate;
      identity = typeof c === 'function' ? c(sni) : c;
      if (identity === undefined) {
        throw new TlsAlertError(AlertDescription.unrecognized_name, `no certificate for server name ${sni ?? '(none)'}`);
      }
      const saData = ext.get(EXT.signature_algorithms);
      if (saData === undefined) {
        throw new TlsAlertError(AlertDescription.missing_extension, 'ClientHello lacks signature_algorithms');
      }
      const offered = parseU16List(saData, 2, 2, 'signature_algorithms');
      scheme = chooseSignatureScheme(identity, offered.filter((s) => this.schemes.includes(s as never)));
      if (scheme === undefined) {
        throw new TlsAlertError(AlertDescription.handshake_failure, 'no signature scheme in common with our certificate');
      }
    }

    // Key share: one the client sent, in our preference order; otherwise ask for one (HelloRetryRequest).
    let entry: { group: number; keyExchange: Uint8Array } | undefined;
    for (const g of this.groups) {
      entry = shares.find((s) => s.group === g);
      if (entry !== undefined) break;
    }
    if (retry && (entry === undefined || entry.group !== this.retryGroup || shares.length !== 1)) {
      // RFC 8446 §4.1.2: the second ClientHello replaces key_share with exactly the requested group.
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'second ClientHello does not carry the requested key share');
    }
    if (entry === undefined) {
      const group = this.groups.find((g) => clientGroups.includes(g));
      if (group === undefined) throw new TlsAlertError(AlertDescription.handshake_failure, 'no key exchange group in common');
      return this.sendHelloRetryRequest(ch, msg, suite, group);
    }

    this.suite = suite;
    this.negotiatedAlpn = alpn;
    this.peerParams = clientParams?.slice();
    this.sni = sni;
    this.identity = identity;
    const accepted = this.keyExchange.accept(entry.group as NamedGroup, entry.keyExchange);

    if (!retry) {
      this.transcript = new Transcript(suite.hash);
      this.transcript.update(msg.raw);
    } else {
      this.transcript!.update(msg.raw);
    }
    const transcript = this.transcript!;
    this.schedule = new KeySchedule(suite.hash, usePsk?.state.psk);
    this.pskAccepted = usePsk !== undefined;

    // 0-RTT (RFC 8446 §4.2.10, RFC 9001 §4.6): only the first PSK, same suite and ALPN, a fresh ticket, not replayed.
    if (usePsk !== undefined && ext.has(EXT.early_data) && !retry && this.acceptEarlyData(usePsk, suite, alpn, now)) {
      this.earlyAccepted = true;
      const chHash = transcript.digest();
      this.emitSecret('early', 'read', this.schedule.clientEarlyTrafficSecret(chHash), 'CLIENT_EARLY_TRAFFIC_SECRET');
      this.log('EARLY_EXPORTER_SECRET', this.schedule.earlyExporterMasterSecret(chHash));
    }

    const shExts: [number, Uint8Array][] = [
      [EXT.supported_versions, encodeU16(TLS13_VERSION)],
      [EXT.key_share, encodeServerKeyShare({ group: entry.group, keyExchange: accepted.publicKey })],
    ];
    if (usePsk !== undefined) shExts.push([EXT.pre_shared_key, encodeU16(usePsk.index)]);
    const serverHello = encodeServerHello({
      random: this.random(32),
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suite.suite,
      extensions: shExts,
    });
    transcript.update(serverHello);
    this.emitData('initial', serverHello);

    const hs = this.schedule.handshakeSecrets(accepted.sharedSecret, transcript.digest());
    this.clientHsSecret = hs.client;
    this.emitSecret('handshake', 'read', hs.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    this.emitSecret('handshake', 'write', hs.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');

    const eeExts: [number, Uint8Array][] = [
      [EXT.application_layer_protocol_negotiation, encodeAlpn([utf8(alpn)])],
    ];
    // RFC 6066 §3: a server that used the SNI answers with an empty server_name.
    if (sni !== undefined && usePsk === undefined) eeExts.push([EXT.server_name, new Uint8Array(0)]);
    if (this.earlyAccepted) eeExts.push([EXT.early_data, new Uint8Array(0)]);
    if (this.quic) eeExts.push([EXT.quic_transport_parameters, this.config.transportParameters!]);
    const flight: Uint8Array[] = [encodeEncryptedExtensions(eeExts as ExtensionList)];
    transcript.update(flight[0]!);

    if (identity !== undefined && scheme !== undefined) {
      const mode = this.cfg.clientCertificate;
      if (mode === 'request' || mode === 'require') {
        const cr = encodeCertificateRequest(new Uint8Array(0), [[EXT.signature_algorithms, encodeU16List(this.schemes, 2)]]);
        transcript.update(cr);
        flight.push(cr);
        this.clientCertRequested = true;
        this.clientSchemes = [...this.schemes];
      }
      const cert = encodeCertificate(new Uint8Array(0), identity.chain);
      transcript.update(cert);
      flight.push(cert);
      const signature = signCertificateVerify(identity, scheme as never, transcript.digest(), 'server');
      const cv = encodeCertificateVerify({ scheme, signature });
      transcript.update(cv);
      flight.push(cv);
    }
    const fin = encodeFinished(finishedVerifyData(suite.hash, hs.server, transcript.digest()));
    transcript.update(fin);
    flight.push(fin);
    this.emitData('handshake', concatBytes(...flight));

    const app = this.schedule.applicationSecrets(transcript.digest());
    this.exporterSecret = app.exporter;
    this.clientAppSecret = app.client;
    this.log('EXPORTER_SECRET', app.exporter);
    // The server may send 0.5-RTT data at once; it reads 1-RTT only after the client's Finished (RFC 9001 §5.7).
    this.emitSecret('application', 'write', app.server, 'SERVER_TRAFFIC_SECRET_0');

    this.state = this.clientCertRequested ? 'wait-client-certificate' : 'wait-finished';
    this.readLevel = 'handshake';
  }

  private sendHelloRetryRequest(ch: ClientHello, msg: HandshakeMessage, suite: SuiteInfo, group: number): void {
    if (this.state === 'wait-second-client-hello') {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'second ClientHello still lacks a usable key share');
    }
    this.suite = suite;
    this.retryGroup = group;
    this.firstHello = ch;
    this.clientRandom = ch.random.slice();
    const transcript = new Transcript(suite.hash);
    transcript.update(msg.raw);
    transcript.restartForHelloRetry();
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: ch.legacySessionId,
      cipherSuite: suite.suite,
      extensions: [
        [EXT.supported_versions, encodeU16(TLS13_VERSION)],
        [EXT.key_share, encodeU16(group)],
      ],
    });
    transcript.update(hrr);
    this.transcript = transcript;
    this.emitData('initial', hrr);
    this.state = 'wait-second-client-hello';
  }

  /** RFC 8446 §4.1.2: the second ClientHello must be the first one with only the allowed changes. */
  private checkSecondHello(first: ClientHello, second: ClientHello): void {
    if (!equalBytes(first.random, second.random) || !equalBytes(first.legacySessionId, second.legacySessionId)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'second ClientHello changed random or legacy_session_id');
    }
    if (first.cipherSuites.join() !== second.cipherSuites.join()) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'second ClientHello changed its cipher suites');
    }
    const changeable = new Set<number>([EXT.key_share, EXT.early_data, EXT.cookie, EXT.pre_shared_key, EXT.padding]);
    for (const t of second.extensions.order) {
      if (changeable.has(t)) continue;
      const a = first.extensions.map.get(t);
      const b = second.extensions.map.get(t)!;
      if (a === undefined || !equalBytes(a, b)) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `second ClientHello changed extension ${t}`);
      }
    }
  }

  /** Returns the first PSK identity whose ticket opens and is fresh; checks its binder (RFC 8446 §4.2.11). */
  private findPsk(ch: ClientHello, msg: HandshakeMessage, alpn: string, sni: string | undefined, now: number): AcceptedPsk | undefined {
    const data = ch.extensions.map.get(EXT.pre_shared_key);
    if (data === undefined) return undefined;
    const modesData = ch.extensions.map.get(EXT.psk_key_exchange_modes);
    if (modesData === undefined) {
      // RFC 8446 §4.2.9: pre_shared_key without psk_key_exchange_modes aborts the handshake.
      throw new TlsAlertError(AlertDescription.missing_extension, 'pre_shared_key without psk_key_exchange_modes');
    }
    const offered = parseOfferedPsks(data);
    const key = this.cfg.ticketKey;
    if (key === undefined || !this.clientOfferedPskDhe) return undefined;
    for (let i = 0; i < offered.identities.length; i++) {
      const id = offered.identities[i]!;
      const state = openTicket(key, id.identity);
      if (state === undefined) continue;
      if (now > state.createdAt + state.lifetime * 1000 || now < state.createdAt - 60_000) continue;
      if (state.alpn !== alpn || state.serverName !== sni) continue;
      const info = suiteInfo(state.cipherSuite);
      if (info === undefined || !this.suites.includes(state.cipherSuite)) continue;
      // The binder covers the ClientHello up to its binders, after message_hash + HRR on a retry.
      const partial = msg.raw.subarray(0, ch.bindersOffset!);
      let partialHash: Uint8Array;
      if (this.state === 'wait-second-client-hello') {
        if (info.hash !== this.suite!.hash) continue;
        partialHash = this.transcript!.digestWith(partial); // holds message_hash(CH1) and the HRR
      } else {
        partialHash = digest(info.hash, partial);
      }
      const binderKey = new KeySchedule(info.hash, state.psk).binderKey('resumption');
      const binder = offered.binders[i]!;
      if (binder.length !== hashLengthOf(info.hash) || !verifyFinished(info.hash, binderKey, partialHash, binder)) {
        throw new TlsAlertError(AlertDescription.decrypt_error, 'PSK binder does not verify');
      }
      const clientAge = (id.obfuscatedTicketAge - state.ageAdd) >>> 0;
      return { state, index: i, binder: binder.slice(), clientAge };
    }
    return undefined;
  }

  private acceptEarlyData(psk: AcceptedPsk, suite: SuiteInfo, alpn: string, now: number): boolean {
    if (!this.quic || this.cfg.earlyData !== true || !psk.state.earlyData || psk.index !== 0) return false;
    if (psk.state.cipherSuite !== suite.suite || psk.state.alpn !== alpn) return false;
    // RFC 8446 §8.3: the client's view of the ticket age must match ours within the tolerance.
    const serverAge = now - psk.state.createdAt;
    const tolerance = this.cfg.earlyDataAgeTolerance ?? DEFAULT_EARLY_DATA_AGE_TOLERANCE;
    if (Math.abs(serverAge - psk.clientAge) > tolerance) return false;
    if (this.cfg.antiReplay !== undefined) return this.cfg.antiReplay.accept(psk.binder, now);
    return this.cfg.allowEarlyDataReplay === true;
  }

  private onClientCertificate(msg: HandshakeMessage, now: number): void {
    const cert = parseCertificate(msg);
    if (cert.context.length !== 0) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, 'client Certificate context does not match the request');
    }
    this.transcript!.update(msg.raw);
    if (cert.certificates.length === 0) {
      if (this.cfg.clientCertificate === 'require') {
        // RFC 8446 §4.4.2.4.
        throw new TlsAlertError(AlertDescription.certificate_required, 'client sent no certificate');
      }
      this.state = 'wait-finished';
      return;
    }
    const result = verifyCertificateChain(
      cert.certificates,
      {
        purpose: 'client',
        ca: this.cfg.clientCa!,
        ...(this.cfg.verifyClientCertificate !== undefined && { verify: this.cfg.verifyClientCertificate }),
      },
      now,
    );
    if (!result.ok) throw new TlsAlertError(result.alert, `client certificate rejected: ${result.reason}`);
    this.peerChain = result.chain;
    this.state = 'wait-client-certificate-verify';
  }

  private onClientCertificateVerify(msg: HandshakeMessage): void {
    const cv = parseCertificateVerify(msg);
    if (!this.clientSchemes.includes(cv.scheme)) {
      throw new TlsAlertError(AlertDescription.illegal_parameter, `client CertificateVerify uses scheme 0x${cv.scheme.toString(16)} that was not requested`);
    }
    if (!verifyCertificateVerify(this.peerChain![0]!, cv.scheme, this.transcript!.digest(), 'client', cv.signature)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'client CertificateVerify signature is invalid');
    }
    this.transcript!.update(msg.raw);
    this.state = 'wait-finished';
  }

  private onFinished(msg: HandshakeMessage, now: number): void {
    const suite = this.suite!;
    const transcript = this.transcript!;
    if (msg.body.length !== hashLengthOf(suite.hash) || !verifyFinished(suite.hash, this.clientHsSecret!, transcript.digest(), msg.body)) {
      throw new TlsAlertError(AlertDescription.decrypt_error, 'client Finished does not verify');
    }
    transcript.update(msg.raw);
    const resumptionMaster = this.schedule!.resumptionMasterSecret(transcript.digest());
    this.emitSecret('application', 'read', this.clientAppSecret!, 'CLIENT_TRAFFIC_SECRET_0');
    this.state = 'connected';
    this.readLevel = 'application';
    this.complete();
    this.sendTickets(resumptionMaster, now);
  }

  private sendTickets(resumptionMaster: Uint8Array, now: number): void {
    const key = this.cfg.ticketKey;
    // RFC 8446 §4.2.9: without psk_key_exchange_modes the client cannot use a ticket; don't send one.
    if (key === undefined || !this.clientOfferedPskDhe) return;
    const count = this.cfg.ticketCount ?? 1;
    const lifetime = this.cfg.ticketLifetime ?? DEFAULT_TICKET_LIFETIME;
    const suite = this.suite!;
    const early = this.quic && this.cfg.earlyData === true;
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const nonce = encodeU32(i);
      const ageAdd = new DataView(this.random(4).buffer).getUint32(0);
      const state: TicketState = {
        cipherSuite: suite.suite as CipherSuite,
        createdAt: now,
        ageAdd,
        lifetime,
        psk: resumptionPsk(suite.hash, resumptionMaster, nonce),
        alpn: this.negotiatedAlpn!,
        serverName: this.sni,
        earlyData: early,
      };
      const ticket = sealTicket(key, state, this.random);
      // RFC 9001 §4.6.1: on QUIC max_early_data_size is 0xffffffff when 0-RTT is allowed.
      const exts: ExtensionList = early ? [[EXT.early_data, encodeU32(0xffffffff)]] : [];
      out.push(encodeNewSessionTicket({ lifetime, ageAdd, nonce, ticket }, exts));
    }
    if (out.length > 0) this.emitData('application', concatBytes(...out));
  }
}
