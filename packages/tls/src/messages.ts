import { TlsReader, TlsWriter, equalBytes, fromUtf8, utf8 } from './bytes.js';
import { ExtensionType, HELLO_RETRY_REQUEST_RANDOM, HandshakeType, TLS12_VERSION } from './codes.js';
import { AlertDescription, TlsAlertError } from './errors.js';

/** RFC 8446 §4: a handshake message is msg_type(1) || length(3) || body. */
export const HANDSHAKE_HEADER_LENGTH = 4;

export interface HandshakeMessage {
  readonly type: number;
  /** The body, a view into `raw`. */
  readonly body: Uint8Array;
  /** The whole message including its header: what enters the transcript. */
  readonly raw: Uint8Array;
}

export function encodeHandshake(type: HandshakeType, body: (w: TlsWriter) => void): Uint8Array {
  const w = new TlsWriter();
  w.u8(type);
  w.vector(3, body);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Extensions (RFC 8446 §4.2)

export interface ExtensionBlock {
  /** Extension bodies by type (views). */
  readonly map: ReadonlyMap<number, Uint8Array>;
  /** Types in the order they appeared. */
  readonly order: readonly number[];
}

/** RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type in a given extension block." */
export function readExtensions(r: TlsReader, min: number, field = 'extensions'): ExtensionBlock {
  const body = r.sub(2, min, 0xffff, field);
  const map = new Map<number, Uint8Array>();
  const order: number[] = [];
  while (body.remaining > 0) {
    const type = body.u16('extension type');
    const data = body.vector(2, 0, 0xffff, `extension ${type}`);
    if (map.has(type)) body.fail(`duplicate extension ${type}`, AlertDescription.illegal_parameter);
    map.set(type, data);
    order.push(type);
  }
  return { map, order };
}

export type ExtensionList = ReadonlyArray<readonly [type: number, data: Uint8Array]>;

export function writeExtensions(w: TlsWriter, extensions: ExtensionList): void {
  w.vector(2, () => {
    for (const [type, data] of extensions) {
      w.u16(type);
      w.vectorBytes(2, data);
    }
  });
}

function ext(body: (w: TlsWriter) => void): Uint8Array {
  const w = new TlsWriter(64);
  body(w);
  return w.finish();
}

/** RFC 6066 §3: ServerNameList with one host_name entry. Returns undefined when no host_name is present. */
export function parseServerName(data: Uint8Array): string | undefined {
  const r = new TlsReader(data, 0, data.length, 'server_name');
  const list = r.sub(2, 1, 0xffff, 'server_name_list');
  r.expectEnd();
  let name: string | undefined;
  while (list.remaining > 0) {
    const nameType = list.u8('name_type');
    const value = list.vector(2, 1, 0xffff, 'host_name');
    if (nameType === 0) {
      // RFC 6066 §3: at most one name of a given type.
      if (name !== undefined) list.fail('two host_name entries', AlertDescription.illegal_parameter);
      const s = fromUtf8(value);
      if (s === undefined || !/^[\x21-\x7e]+$/.test(s)) list.fail('host_name is not ASCII', AlertDescription.decode_error);
      name = s;
    }
  }
  return name;
}

export function encodeServerName(name: string): Uint8Array {
  return ext((w) => w.vector(2, () => w.u8(0).vectorBytes(2, utf8(name))));
}

/** RFC 7301 §3.1 ProtocolNameList. Empty names are a decode_error. */
export function parseAlpn(data: Uint8Array): Uint8Array[] {
  const r = new TlsReader(data, 0, data.length, 'application_layer_protocol_negotiation');
  const list = r.sub(2, 2, 0xffff, 'protocol_name_list');
  r.expectEnd();
  const out: Uint8Array[] = [];
  while (list.remaining > 0) out.push(list.vector(1, 1, 0xff, 'protocol_name'));
  return out;
}

export function encodeAlpn(protocols: readonly Uint8Array[]): Uint8Array {
  return ext((w) =>
    w.vector(2, () => {
      for (const p of protocols) w.vectorBytes(1, p);
    }),
  );
}

/** A list of uint16 with a 1- or 2-byte length (supported_groups, signature_algorithms, supported_versions). */
export function parseU16List(data: Uint8Array, lenBytes: 1 | 2, min: number, field: string): number[] {
  const r = new TlsReader(data, 0, data.length, field);
  const body = r.sub(lenBytes, min, lenBytes === 1 ? 0xfe : 0xfffe, field);
  r.expectEnd();
  if (body.remaining % 2 !== 0) body.fail('odd length');
  const out: number[] = [];
  while (body.remaining > 0) out.push(body.u16());
  return out;
}

export function encodeU16List(values: readonly number[], lenBytes: 1 | 2): Uint8Array {
  return ext((w) =>
    w.vector(lenBytes, () => {
      for (const v of values) w.u16(v);
    }),
  );
}

export function parseU8List(data: Uint8Array, field: string): number[] {
  const r = new TlsReader(data, 0, data.length, field);
  const body = r.vector(1, 1, 0xff, field);
  r.expectEnd();
  return [...body];
}

export function parseU16(data: Uint8Array, field: string): number {
  const r = new TlsReader(data, 0, data.length, field);
  const v = r.u16();
  r.expectEnd();
  return v;
}

export function parseU32(data: Uint8Array, field: string): number {
  const r = new TlsReader(data, 0, data.length, field);
  const v = r.u32();
  r.expectEnd();
  return v;
}

export function encodeU16(v: number): Uint8Array {
  return Uint8Array.of(v >>> 8, v & 0xff);
}

export function encodeU32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function expectEmpty(data: Uint8Array, field: string): void {
  if (data.length !== 0) throw new TlsAlertError(AlertDescription.decode_error, `${field} must be empty`);
}

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** RFC 8446 §4.2.8 KeyShareClientHello. */
export function parseClientKeyShares(data: Uint8Array): KeyShareEntry[] {
  const r = new TlsReader(data, 0, data.length, 'key_share');
  const list = r.sub(2, 0, 0xffff, 'client_shares');
  r.expectEnd();
  const out: KeyShareEntry[] = [];
  const seen = new Set<number>();
  while (list.remaining > 0) {
    const group = list.u16('group');
    const keyExchange = list.vector(2, 1, 0xffff, 'key_exchange');
    // RFC 8446 §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group."
    if (seen.has(group)) list.fail(`two key shares for group ${group}`, AlertDescription.illegal_parameter);
    seen.add(group);
    out.push({ group, keyExchange });
  }
  return out;
}

export function encodeClientKeyShares(entries: readonly KeyShareEntry[]): Uint8Array {
  return ext((w) =>
    w.vector(2, () => {
      for (const e of entries) w.u16(e.group).vectorBytes(2, e.keyExchange);
    }),
  );
}

/** RFC 8446 §4.2.8 KeyShareServerHello. */
export function parseServerKeyShare(data: Uint8Array): KeyShareEntry {
  const r = new TlsReader(data, 0, data.length, 'key_share');
  const group = r.u16('group');
  const keyExchange = r.vector(2, 1, 0xffff, 'key_exchange');
  r.expectEnd();
  return { group, keyExchange };
}

export function encodeServerKeyShare(entry: KeyShareEntry): Uint8Array {
  return ext((w) => w.u16(entry.group).vectorBytes(2, entry.keyExchange));
}

export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  readonly identities: PskIdentity[];
  readonly binders: Uint8Array[];
}

/** RFC 8446 §4.2.11 OfferedPsks. */
export function parseOfferedPsks(data: Uint8Array): OfferedPsks {
  const r = new TlsReader(data, 0, data.length, 'pre_shared_key');
  const ids = r.sub(2, 7, 0xffff, 'identities');
  const identities: PskIdentity[] = [];
  while (ids.remaining > 0) {
    const identity = ids.vector(2, 1, 0xffff, 'identity');
    identities.push({ identity, obfuscatedTicketAge: ids.u32('obfuscated_ticket_age') });
  }
  const bs = r.sub(2, 33, 0xffff, 'binders');
  r.expectEnd();
  const binders: Uint8Array[] = [];
  while (bs.remaining > 0) binders.push(bs.vector(1, 32, 0xff, 'binder'));
  if (binders.length !== identities.length) {
    r.fail(`${identities.length} PSK identities but ${binders.length} binders`, AlertDescription.illegal_parameter);
  }
  return { identities, binders };
}

/** Encodes OfferedPsks; the binders are written as given (zeros while computing the partial transcript). */
export function encodeOfferedPsks(psks: OfferedPsks): Uint8Array {
  return ext((w) => {
    w.vector(2, () => {
      for (const id of psks.identities) w.vectorBytes(2, id.identity).u32(id.obfuscatedTicketAge);
    });
    w.vector(2, () => {
      for (const b of psks.binders) w.vectorBytes(1, b);
    });
  });
}

/** Length of the binders vector (with its 2-byte length) at the end of an encoded ClientHello. */
export function bindersLength(binderLengths: readonly number[]): number {
  let n = 2;
  for (const l of binderLengths) n += 1 + l;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// ClientHello (RFC 8446 §4.1.2)

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionId: Uint8Array;
  readonly cipherSuites: number[];
  readonly compressionMethods: Uint8Array;
  readonly extensions: ExtensionBlock;
  /**
   * Offset in the raw message (header included) where the binders vector of pre_shared_key starts: the PSK binder
   * covers the message up to here (RFC 8446 §4.2.11.2). Undefined without pre_shared_key.
   */
  readonly bindersOffset: number | undefined;
}

export function parseClientHello(msg: HandshakeMessage): ClientHello {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'ClientHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const legacySessionId = r.vector(1, 0, 32, 'legacy_session_id');
  const suites = r.sub(2, 2, 0xfffe, 'cipher_suites');
  if (suites.remaining % 2 !== 0) suites.fail('odd length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16());
  const compressionMethods = r.vector(1, 1, 0xff, 'legacy_compression_methods');
  // TLS 1.3 ClientHellos always carry extensions (supported_versions at least): their absence means an older client.
  if (r.remaining === 0) r.fail('no extensions: not a TLS 1.3 ClientHello', AlertDescription.protocol_version);
  const extensions = readExtensions(r, 8);
  r.expectEnd();
  let bindersOffset: number | undefined;
  const psk = extensions.map.get(ExtensionType.pre_shared_key);
  if (psk !== undefined) {
    // RFC 8446 §4.2.11: pre_shared_key MUST be the last extension in the ClientHello.
    if (extensions.order[extensions.order.length - 1] !== ExtensionType.pre_shared_key) {
      r.fail('pre_shared_key is not the last extension', AlertDescription.illegal_parameter);
    }
    const pr = new TlsReader(psk, 0, psk.length, 'pre_shared_key');
    pr.vector(2, 7, 0xffff, 'identities');
    // psk is a view into msg.body, itself a view into msg.raw.
    bindersOffset = psk.byteOffset - msg.raw.byteOffset + pr.offset;
  }
  return { legacyVersion, random, legacySessionId, cipherSuites, compressionMethods, extensions, bindersOffset };
}

export interface ClientHelloFields {
  readonly random: Uint8Array;
  readonly legacySessionId?: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly extensions: ExtensionList;
}

export function encodeClientHello(ch: ClientHelloFields): Uint8Array {
  return encodeHandshake(HandshakeType.client_hello, (w) => {
    w.u16(TLS12_VERSION);
    w.bytes(ch.random);
    w.vectorBytes(1, ch.legacySessionId ?? new Uint8Array(0));
    w.vector(2, () => {
      for (const s of ch.cipherSuites) w.u16(s);
    });
    w.vectorBytes(1, Uint8Array.of(0));
    writeExtensions(w, ch.extensions);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4)

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: ExtensionBlock;
  readonly isHelloRetryRequest: boolean;
}

export function parseServerHello(msg: HandshakeMessage): ServerHello {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'ServerHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const legacySessionIdEcho = r.vector(1, 0, 32, 'legacy_session_id_echo');
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('legacy_compression_method');
  if (r.remaining === 0) r.fail('no extensions: not a TLS 1.3 ServerHello', AlertDescription.protocol_version);
  const extensions = readExtensions(r, 6);
  r.expectEnd();
  const isHelloRetryRequest = equalBytes(random, HELLO_RETRY_REQUEST_RANDOM);
  return { legacyVersion, random, legacySessionIdEcho, cipherSuite, compressionMethod, extensions, isHelloRetryRequest };
}

export interface ServerHelloFields {
  readonly random: Uint8Array;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly extensions: ExtensionList;
}

export function encodeServerHello(sh: ServerHelloFields): Uint8Array {
  return encodeHandshake(HandshakeType.server_hello, (w) => {
    w.u16(TLS12_VERSION);
    w.bytes(sh.random);
    w.vectorBytes(1, sh.legacySessionIdEcho);
    w.u16(sh.cipherSuite);
    w.u8(0);
    writeExtensions(w, sh.extensions);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Messages after ServerHello

export function parseEncryptedExtensions(msg: HandshakeMessage): ExtensionBlock {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'EncryptedExtensions');
  const block = readExtensions(r, 0);
  r.expectEnd();
  return block;
}

export function encodeEncryptedExtensions(extensions: ExtensionList): Uint8Array {
  return encodeHandshake(HandshakeType.encrypted_extensions, (w) => writeExtensions(w, extensions));
}

export interface CertificateRequest {
  readonly context: Uint8Array;
  readonly extensions: ExtensionBlock;
}

/** RFC 8446 §4.3.2. */
export function parseCertificateRequest(msg: HandshakeMessage): CertificateRequest {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'CertificateRequest');
  const context = r.vector(1, 0, 0xff, 'certificate_request_context');
  const extensions = readExtensions(r, 2);
  r.expectEnd();
  return { context, extensions };
}

export function encodeCertificateRequest(context: Uint8Array, extensions: ExtensionList): Uint8Array {
  return encodeHandshake(HandshakeType.certificate_request, (w) => {
    w.vectorBytes(1, context);
    writeExtensions(w, extensions);
  });
}

export interface CertificateMessage {
  readonly context: Uint8Array;
  /** DER certificates, leaf first (views). */
  readonly certificates: Uint8Array[];
}

/** RFC 8446 §4.4.2; certificate_type is X.509 (no raw public keys are negotiated). */
export function parseCertificate(msg: HandshakeMessage, maxEntries = 16): CertificateMessage {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'Certificate');
  const context = r.vector(1, 0, 0xff, 'certificate_request_context');
  const list = r.sub(3, 0, 0xffffff, 'certificate_list');
  r.expectEnd();
  const certificates: Uint8Array[] = [];
  while (list.remaining > 0) {
    if (certificates.length === maxEntries) list.fail(`more than ${maxEntries} certificates`, AlertDescription.bad_certificate);
    certificates.push(list.vector(3, 1, 0xffffff, 'cert_data'));
    // Per-certificate extensions (OCSP, SCT) are accepted and ignored: we never ask for them.
    readExtensions(list, 0, 'certificate entry extensions');
  }
  return { context, certificates };
}

export function encodeCertificate(context: Uint8Array, chain: readonly Uint8Array[]): Uint8Array {
  return encodeHandshake(HandshakeType.certificate, (w) => {
    w.vectorBytes(1, context);
    w.vector(3, () => {
      for (const c of chain) {
        w.vectorBytes(3, c);
        w.u16(0);
      }
    });
  });
}

export interface CertificateVerify {
  readonly scheme: number;
  readonly signature: Uint8Array;
}

export function parseCertificateVerify(msg: HandshakeMessage): CertificateVerify {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'CertificateVerify');
  const scheme = r.u16('algorithm');
  const signature = r.vector(2, 0, 0xffff, 'signature');
  r.expectEnd();
  return { scheme, signature };
}

export function encodeCertificateVerify(cv: CertificateVerify): Uint8Array {
  return encodeHandshake(HandshakeType.certificate_verify, (w) => w.u16(cv.scheme).vectorBytes(2, cv.signature));
}

export function encodeFinished(verifyData: Uint8Array): Uint8Array {
  return encodeHandshake(HandshakeType.finished, (w) => w.bytes(verifyData));
}

export interface NewSessionTicket {
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: ExtensionBlock;
}

/** RFC 8446 §4.6.1. */
export function parseNewSessionTicket(msg: HandshakeMessage): NewSessionTicket {
  const r = new TlsReader(msg.body, 0, msg.body.length, 'NewSessionTicket');
  const lifetime = r.u32('ticket_lifetime');
  const ageAdd = r.u32('ticket_age_add');
  const nonce = r.vector(1, 0, 0xff, 'ticket_nonce');
  const ticket = r.vector(2, 1, 0xffff, 'ticket');
  const extensions = readExtensions(r, 0);
  r.expectEnd();
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

export function encodeNewSessionTicket(t: Omit<NewSessionTicket, 'extensions'>, extensions: ExtensionList): Uint8Array {
  return encodeHandshake(HandshakeType.new_session_ticket, (w) => {
    w.u32(t.lifetime).u32(t.ageAdd).vectorBytes(1, t.nonce).vectorBytes(2, t.ticket);
    writeExtensions(w, extensions);
  });
}
