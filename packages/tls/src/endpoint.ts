import type { X509Certificate } from 'node:crypto';
import { fromUtf8, utf8 } from './bytes.js';
import { CipherSuite, ExtensionType, NamedGroup, SignatureScheme } from './codes.js';
import type { AeadName, CryptoLevel, SecretLevel, TlsCommonConfig, TlsEvent } from './config.js';
import { AlertDescription, TlsAlertError, TlsConfigError } from './errors.js';
import { HandshakeBuffer } from './handshake-buffer.js';
import { nobleKeyExchange, type KeyExchangeProvider } from './key-exchange.js';
import { exportKeyingMaterial, suiteInfo, type HashName, type SuiteInfo } from './key-schedule.js';
import { formatKeyLogLine, type KeyLogLabel } from './keylog.js';
import type { HandshakeMessage } from './messages.js';

export const DEFAULT_CIPHER_SUITES: readonly CipherSuite[] = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
];
export const DEFAULT_GROUPS: readonly NamedGroup[] = [NamedGroup.x25519, NamedGroup.secp256r1];
/** Schemes we accept in CertificateVerify: RFC 8446 §4.2.3 forbids rsa_pkcs1 there, so it only appears for certificates. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly SignatureScheme[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pss_pss_sha256,
  SignatureScheme.rsa_pss_pss_sha384,
  SignatureScheme.rsa_pss_pss_sha512,
];
/** signature_algorithms_cert (RFC 8446 §4.2.3): what we accept in certificate signatures, rsa_pkcs1 included. */
export const CERTIFICATE_SIGNATURE_SCHEMES: readonly SignatureScheme[] = [
  ...DEFAULT_SIGNATURE_SCHEMES,
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
];
export const DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE = 65536;

/** RFC 9001 §8.4 / RFC 9000 §20.1: transport error PROTOCOL_VIOLATION. */
export const QUIC_PROTOCOL_VIOLATION = 0x0a;

const LEVEL_ORDER: Record<CryptoLevel, number> = { initial: 0, handshake: 1, application: 2 };

function defaultRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** A TLS alert that QUIC reports with a transport error code instead of CRYPTO_ERROR. */
export class QuicProfileError extends TlsAlertError {
  constructor(
    alertValue: AlertDescription,
    message: string,
    readonly transportErrorCode: number,
  ) {
    super(alertValue, message);
  }

  override get quicErrorCode(): number {
    return this.transportErrorCode;
  }
}

/**
 * What client and server share: the event queue, per-level message reassembly, the read-level discipline of
 * RFC 9001 §4.1.3, error capture and the key log. Subclasses implement handle().
 */
export abstract class TlsEndpoint {
  protected readonly config: TlsCommonConfig;
  protected readonly quic: boolean;
  protected readonly suites: readonly CipherSuite[];
  protected readonly groups: readonly NamedGroup[];
  protected readonly schemes: readonly SignatureScheme[];
  protected readonly keyExchange: KeyExchangeProvider;
  protected readonly random: (n: number) => Uint8Array;
  private readonly events: TlsEvent[] = [];
  private readonly buffers: Record<CryptoLevel, HandshakeBuffer>;
  /** The only level at which handshake bytes are acceptable now. */
  protected readLevel: CryptoLevel = 'initial';
  private failure: TlsAlertError | undefined;
  private completed = false;

  protected clientRandom: Uint8Array | undefined;
  protected suite: SuiteInfo | undefined;
  protected exporterSecret: Uint8Array | undefined;
  protected negotiatedAlpn: string | undefined;
  protected peerParams: Uint8Array | undefined;
  protected peerChain: X509Certificate[] | undefined;
  protected pskAccepted = false;
  protected earlyAccepted = false;

  constructor(config: TlsCommonConfig) {
    if (!Array.isArray(config.alpnProtocols) || config.alpnProtocols.length === 0) {
      throw new TlsConfigError('alpnProtocols must list at least one protocol (RFC 9001 §8.1 requires ALPN)');
    }
    for (const p of config.alpnProtocols) {
      const len = utf8(p).length;
      if (len < 1 || len > 255) throw new TlsConfigError(`ALPN protocol "${p}" must be 1..255 bytes`);
    }
    this.config = config;
    this.quic = config.transportParameters !== undefined;
    this.suites = config.cipherSuites ?? DEFAULT_CIPHER_SUITES;
    for (const s of this.suites) {
      if (suiteInfo(s) === undefined) throw new TlsConfigError(`unsupported cipher suite 0x${s.toString(16)}`);
    }
    if (this.suites.length === 0) throw new TlsConfigError('cipherSuites is empty');
    this.keyExchange = config.keyExchange ?? nobleKeyExchange;
    this.groups = config.groups ?? DEFAULT_GROUPS;
    if (this.groups.length === 0) throw new TlsConfigError('groups is empty');
    for (const g of this.groups) {
      if (!this.keyExchange.supports(g)) {
        throw new TlsConfigError(`group 0x${g.toString(16)} is not supported by ${this.keyExchange.name}`);
      }
    }
    this.schemes = config.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES;
    this.random = config.random ?? defaultRandom;
    const max = config.maxHandshakeMessageSize ?? DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE;
    this.buffers = {
      initial: new HandshakeBuffer(max, 'Initial'),
      handshake: new HandshakeBuffer(max, 'Handshake'),
      application: new HandshakeBuffer(max, '1-RTT'),
    };
  }

  /** Next output, in order; undefined when there is nothing more until new input arrives. */
  poll(): TlsEvent | undefined {
    return this.events.shift();
  }

  /**
   * Feeds in-order handshake bytes received at `level` (QUIC: the reassembled CRYPTO stream of that packet number
   * space). Returns the failure, if the handshake failed now or earlier; never throws for bad peer input.
   */
  receive(level: CryptoLevel, data: Uint8Array, now: number): TlsAlertError | undefined {
    if (this.failure !== undefined) return this.failure;
    try {
      if (!(level in LEVEL_ORDER)) throw new TlsConfigError(`unknown encryption level ${String(level)}`);
      if (level !== this.readLevel) {
        // RFC 9001 §4.1.3: handshake data at a level other than the one TLS expects is a protocol error.
        throw new TlsAlertError(
          AlertDescription.unexpected_message,
          `handshake data at ${level} level while expecting ${this.readLevel}`,
        );
      }
      const buffer = this.buffers[level];
      buffer.push(data);
      for (let msg = buffer.next(); msg !== undefined; msg = this.failure === undefined ? this.buffers[level].next() : undefined) {
        this.handle(level, msg, now);
        if (this.readLevel !== level) {
          // Keys changed: anything left over at the old level arrived where it must not be (RFC 9001 §4.1.3).
          if (buffer.pending > 0) {
            throw new TlsAlertError(AlertDescription.unexpected_message, `handshake data left at ${level} level after a key change`);
          }
          break;
        }
      }
    } catch (e) {
      if (e instanceof TlsConfigError) throw e;
      this.fail(e);
    }
    return this.failure;
  }

  protected fail(e: unknown): void {
    const err =
      e instanceof TlsAlertError
        ? e
        : new TlsAlertError(AlertDescription.internal_error, `unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
            cause: e,
          });
    this.failure = err;
    this.events.push({ type: 'error', error: err });
  }

  protected abstract handle(level: CryptoLevel, msg: HandshakeMessage, now: number): void;

  protected emitData(level: CryptoLevel, data: Uint8Array): void {
    this.events.push({ type: 'handshake-data', level, data });
  }

  protected emitSecret(level: SecretLevel, direction: 'read' | 'write', secret: Uint8Array, label: KeyLogLabel): void {
    const suite = this.suite!;
    this.events.push({
      type: 'secret',
      level,
      direction,
      secret,
      cipherSuite: suite.suite,
      aead: suite.aead as AeadName,
      hash: suite.hash,
    });
    this.log(label, secret);
  }

  protected log(label: KeyLogLabel, secret: Uint8Array): void {
    if (this.config.keyLog !== undefined && this.clientRandom !== undefined) {
      this.config.keyLog(formatKeyLogLine(label, this.clientRandom, secret));
    }
  }

  protected emit(event: TlsEvent): void {
    this.events.push(event);
  }

  protected complete(): void {
    this.completed = true;
    this.events.push({ type: 'handshake-complete' });
  }

  protected alpnBytes(): Uint8Array[] {
    return this.config.alpnProtocols.map((p) => utf8(p));
  }

  protected decodeAlpn(b: Uint8Array): string {
    const s = fromUtf8(b);
    // Protocol ids are opaque bytes (RFC 7301 §3.1), but every registered one is ASCII; keep lossless for others.
    return s ?? Buffer.from(b).toString('latin1');
  }

  protected hashName(): HashName {
    return this.suite!.hash;
  }

  /** RFC 8446 §4.2: a known extension in the wrong message is illegal_parameter; an unrequested one unsupported_extension. */
  protected checkResponseExtensions(
    order: readonly number[],
    allowed: ReadonlySet<number>,
    offered: ReadonlySet<number>,
    message: string,
    tolerated: ReadonlySet<number> = new Set(),
  ): void {
    for (const type of order) {
      if (tolerated.has(type)) continue;
      if (!offered.has(type)) {
        throw new TlsAlertError(AlertDescription.unsupported_extension, `${message} carries extension ${type} that was not offered`);
      }
      if (!allowed.has(type)) {
        throw new TlsAlertError(AlertDescription.illegal_parameter, `extension ${type} is not allowed in ${message}`);
      }
    }
  }

  get error(): TlsAlertError | undefined {
    return this.failure;
  }
  get handshakeComplete(): boolean {
    return this.completed;
  }
  get alpn(): string | undefined {
    return this.negotiatedAlpn;
  }
  /** The peer's encoded transport parameters (decode with @pathquic/wire-codec decodeTransportParameters). */
  get peerTransportParameters(): Uint8Array | undefined {
    return this.peerParams;
  }
  get cipherSuite(): CipherSuite | undefined {
    return this.suite?.suite;
  }
  /** The peer's verified chain, leaf first (absent on resumption or without client auth). */
  get peerCertificates(): readonly X509Certificate[] | undefined {
    return this.peerChain;
  }
  /** True when the handshake used a resumption PSK. */
  get resumed(): boolean {
    return this.pskAccepted;
  }
  get earlyDataAccepted(): boolean {
    return this.earlyAccepted;
  }
  /** Where handshake bytes are expected next. */
  get expectedLevel(): CryptoLevel {
    return this.readLevel;
  }

  /** RFC 8446 §7.5 exporter; available once the application secrets exist. */
  exportKeyingMaterial(label: string, context: Uint8Array, length: number): Uint8Array {
    if (this.exporterSecret === undefined || this.suite === undefined) {
      throw new TlsConfigError('keying material can be exported only after the server Finished');
    }
    return exportKeyingMaterial(this.suite.hash, this.exporterSecret, label, context, length);
  }
}

export const EXT = ExtensionType;
