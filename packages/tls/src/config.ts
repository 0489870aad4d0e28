import type { KeyObject } from 'node:crypto';
import type { AeadAlgorithm } from '@pathquic/wire-codec';
import type { CertificateIdentity, CertificateVerifierOptions, PeerCertificateInfo } from './certificates.js';
import type { KeyExchangeProvider } from './key-exchange.js';
import type { HashName } from './key-schedule.js';
import type { CipherSuite, NamedGroup, SignatureScheme } from './codes.js';
import type { TlsAlertError } from './errors.js';

/** The encryption levels that carry handshake bytes (RFC 9001 §4.1.4). 0-RTT never carries CRYPTO data. */
export type CryptoLevel = 'initial' | 'handshake' | 'application';
/** The levels whose traffic secrets TLS hands to QUIC. */
export type SecretLevel = 'early' | 'handshake' | 'application';
/** The AEAD of a suite, named as @pathquic/wire-codec's derivePacketKeys and PacketProtection expect. */
export type AeadName = AeadAlgorithm;

export interface TrafficSecret {
  readonly level: SecretLevel;
  /** 'read' protects what the peer sends; 'write' what we send. */
  readonly direction: 'read' | 'write';
  readonly secret: Uint8Array;
  readonly cipherSuite: CipherSuite;
  readonly aead: AeadName;
  readonly hash: HashName;
}

/** A resumption ticket as a client stores it (RFC 8446 §4.6.1). Serialise with encodeSessionTicket. */
export interface SessionTicket {
  readonly serverName: string | undefined;
  readonly alpn: string;
  readonly cipherSuite: CipherSuite;
  /** The resumption PSK derived from resumption_master_secret and the ticket nonce. */
  readonly psk: Uint8Array;
  readonly ticket: Uint8Array;
  readonly ageAdd: number;
  /** Seconds (RFC 8446 §4.6.1: at most 604800). */
  readonly lifetime: number;
  /** When the client received it, milliseconds since the epoch. */
  readonly receivedAt: number;
  /** 0 when the server does not allow 0-RTT with this ticket; 0xffffffff on QUIC when it does (RFC 9001 §4.6.1). */
  readonly maxEarlyDataSize: number;
  /** The server's transport parameters from the original connection: QUIC needs them for 0-RTT (RFC 9000 §7.4.1). */
  readonly peerTransportParameters: Uint8Array | undefined;
}

export type TlsEvent =
  | { readonly type: 'handshake-data'; readonly level: CryptoLevel; readonly data: Uint8Array }
  | ({ readonly type: 'secret' } & TrafficSecret)
  /** Client: the server declined 0-RTT (or sent a HelloRetryRequest); everything sent in 0-RTT must be resent. */
  | { readonly type: 'early-data-rejected' }
  | { readonly type: 'handshake-complete' }
  | { readonly type: 'session-ticket'; readonly ticket: SessionTicket }
  | { readonly type: 'error'; readonly error: TlsAlertError };

export interface TlsCommonConfig {
  /** ALPN protocol names in preference order; required by QUIC (RFC 9001 §8.1). */
  readonly alpnProtocols: readonly string[];
  /**
   * Our encoded QUIC transport parameters, sent in the quic_transport_parameters extension (RFC 9001 §8.2). When
   * present the endpoint runs the QUIC profile and requires the peer's. Leaving it out runs plain TLS 1.3 (used by
   * tests against TLS-over-TCP peers); 0-RTT is then disabled.
   */
  readonly transportParameters?: Uint8Array;
  /** Default: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305. */
  readonly cipherSuites?: readonly CipherSuite[];
  /** Groups we support, preference order. Default: x25519, secp256r1. */
  readonly groups?: readonly NamedGroup[];
  /** Signature schemes accepted in CertificateVerify, preference order. */
  readonly signatureSchemes?: readonly SignatureScheme[];
  /** Key exchange implementation; default nobleKeyExchange. */
  readonly keyExchange?: KeyExchangeProvider;
  /** Randomness; default crypto.getRandomValues. Tests pass a seeded source. */
  readonly random?: (length: number) => Uint8Array;
  /** Receives every secret as an NSS key log line (SSLKEYLOGFILE format, no newline). */
  readonly keyLog?: (line: string) => void;
  /** Largest handshake message accepted, in bytes. Default 65536. */
  readonly maxHandshakeMessageSize?: number;
}

export interface TlsClientConfig extends TlsCommonConfig {
  /**
   * DNS name or IP literal of the server: sent as SNI unless it is an IP literal (RFC 6066 §3) and checked against
   * the certificate's subjectAltName.
   */
  readonly serverName?: string;
  /** Trusted roots (PEM/DER). Default: Node's bundled Mozilla roots. */
  readonly ca?: CertificateVerifierOptions['ca'];
  /** SPKI pins: 'sha256/<base64>'. At least one certificate in the verified chain must match. */
  readonly pins?: readonly string[];
  /** Extra check on the verified chain; return or throw an error (or a string) to reject. */
  readonly verifyCertificate?: (info: PeerCertificateInfo) => void | string | Error;
  /**
   * Skip chain building to a trusted root. Dates, name and pins are still checked. Only for tests and pin-only
   * deployments.
   */
  readonly insecureSkipChainVerification?: boolean;
  /** Client certificate for mutual TLS, sent when the server asks. */
  readonly certificate?: CertificateIdentity;
  /** Groups to send key shares for in the first ClientHello. Default: the first of `groups`. */
  readonly keyShareGroups?: readonly NamedGroup[];
  /** A ticket from an earlier connection to resume with (psk_dhe_ke). */
  readonly session?: SessionTicket;
  /** Derive 0-RTT secrets when `session` allows it. Default false. */
  readonly earlyData?: boolean;
}

/** Decides whether this server accepts a 0-RTT attempt: RFC 8446 §8 leaves anti-replay to the server. */
export interface AntiReplay {
  /** `identity` is unique per ClientHello (the PSK binder); returns false if it has been seen before. */
  accept(identity: Uint8Array, now: number): boolean;
}

export interface TlsServerConfig extends TlsCommonConfig {
  /** Our certificate, or a chooser by SNI (undefined when the client sent none). Returning undefined aborts with unrecognized_name. */
  readonly certificate: CertificateIdentity | ((serverName: string | undefined) => CertificateIdentity | undefined);
  /** Ask the client for a certificate; 'require' aborts with certificate_required when none comes. */
  readonly clientCertificate?: false | 'request' | 'require';
  /** Roots for client certificates (required when clientCertificate is set). */
  readonly clientCa?: CertificateVerifierOptions['ca'];
  readonly verifyClientCertificate?: (info: PeerCertificateInfo) => void | string | Error;
  /** 32-byte key protecting session tickets. Without it no tickets are issued and PSKs are ignored. */
  readonly ticketKey?: Uint8Array;
  /** Tickets sent after the handshake. Default 1 (when ticketKey is set). */
  readonly ticketCount?: number;
  /** Ticket lifetime in seconds; default 86400, at most 604800 (RFC 8446 §4.6.1). */
  readonly ticketLifetime?: number;
  /** Accept 0-RTT (QUIC profile only). Default false. Needs antiReplay unless allowReplay is set. */
  readonly earlyData?: boolean;
  readonly antiReplay?: AntiReplay;
  /** Accept 0-RTT without an anti-replay store (the application is idempotent). */
  readonly allowEarlyDataReplay?: boolean;
  /** Largest ticket age difference accepted for 0-RTT, ms (RFC 8446 §8.3). Default 10000. */
  readonly earlyDataAgeTolerance?: number;
}

export type { KeyObject };
