/**
 * A minimal TLS 1.3 record layer (RFC 8446 §5) over a node:net socket, so that the sans-I/O endpoints can talk to
 * ordinary TLS-over-TCP peers such as `openssl s_server` / `s_client`. Test-only: it trusts its own endpoint, keeps
 * everything in memory and favours clear failure reports over performance.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  TlsClient,
  alertName,
  recordKeys,
  type AeadName,
  type CryptoLevel,
  type SessionTicket,
  type TlsAlertError,
  type TlsEndpoint,
  type TlsEvent,
  type TrafficSecret,
} from '../../src/index.js';

/** RFC 8446 §5.1 ContentType. */
export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;

/** RFC 8446 §5.1: TLSPlaintext.length (and TLSInnerPlaintext content) is at most 2^14. */
export const MAX_PLAINTEXT = 1 << 14;
/** RFC 8446 §5.2: TLSCiphertext.length is at most 2^14 + 256. */
export const MAX_CIPHERTEXT = (1 << 14) + 256;
/** RFC 8446 §5.1: legacy_record_version is 0x0303 for every record we write. */
const LEGACY_RECORD_VERSION = 0x0303;
const HEADER_LENGTH = 5;
/** All three TLS 1.3 AEADs have a 16-byte tag (RFC 5116 §5.1, RFC 8439 §2.8). */
const TAG_LENGTH = 16;
/** RFC 8446 §6: AlertLevel. */
const ALERT_WARNING = 1;
const ALERT_FATAL = 2;
/** RFC 8446 §6 alert descriptions the record layer itself raises. */
const CLOSE_NOTIFY = 0;
const UNEXPECTED_MESSAGE = 10;
const BAD_RECORD_MAC = 20;
const RECORD_OVERFLOW = 22;
const DECODE_ERROR = 50;

const KEY_LENGTHS: Record<AeadName, number> = { 'aes-128-gcm': 16, 'aes-256-gcm': 32, 'chacha20-poly1305': 32 };

/** A record-layer failure detected locally; `alert` is what we send to the peer. */
export class RecordLayerError extends Error {
  override readonly name = 'RecordLayerError';
  constructor(
    readonly alert: number,
    message: string,
  ) {
    super(`${alertName(alert)}: ${message}`);
  }
}

/** The peer sent a fatal alert (anything but close_notify). */
export class PeerAlertError extends Error {
  override readonly name = 'PeerAlertError';
  constructor(
    readonly alert: number,
    readonly level: number,
  ) {
    super(`peer sent alert ${alert} (${alertName(alert)}), level ${level}`);
  }
}

/**
 * One direction's record protection (RFC 8446 §5.2-§5.3): an AEAD key, the static IV and the 64-bit sequence
 * number, which starts at 0 for every new key and is XORed into the right end of the IV to form the nonce.
 */
export class RecordProtection {
  private seq: bigint;

  constructor(
    readonly aead: AeadName,
    private readonly key: Uint8Array,
    private readonly iv: Uint8Array,
    initialSequence = 0n,
  ) {
    if (key.length !== KEY_LENGTHS[aead]) throw new Error(`${aead} needs a ${KEY_LENGTHS[aead]}-byte key, got ${key.length}`);
    // RFC 8446 §5.3: iv_length is max(8, N_MIN) = 12 for every TLS 1.3 AEAD.
    if (iv.length !== 12) throw new Error(`record IV must be 12 bytes, got ${iv.length}`);
    this.seq = initialSequence;
  }

  /** RFC 8446 §7.3: [sender]_write_key / _iv = HKDF-Expand-Label(secret, "key" / "iv", "", length). */
  static fromSecret(secret: Pick<TrafficSecret, 'aead' | 'hash' | 'secret'>): RecordProtection {
    const { key, iv } = recordKeys(secret.hash, KEY_LENGTHS[secret.aead], secret.secret);
    return new RecordProtection(secret.aead, key, iv);
  }

  get sequence(): bigint {
    return this.seq;
  }

  /** RFC 8446 §5.3: the 64-bit record sequence number, left-padded to iv_length, XORed with the static IV. */
  private nextNonce(): Buffer {
    // RFC 8446 §5.3: the sequence number must not wrap; a new key is needed long before that.
    if (this.seq >= 0xffffffffffffffffn) throw new Error('record sequence number exhausted');
    const nonce = Buffer.from(this.iv);
    let s = this.seq;
    for (let i = nonce.length - 1; i >= nonce.length - 8; i--) {
      nonce[i] = nonce[i]! ^ Number(s & 0xffn);
      s >>= 8n;
    }
    this.seq += 1n;
    return nonce;
  }

  /**
   * Builds a complete TLSCiphertext record (RFC 8446 §5.2): outer type application_data, version 0x0303, and the
   * AEAD of TLSInnerPlaintext = content || ContentType || zeros[padding], with the 5-byte header as additional data.
   */
  seal(contentType: number, content: Uint8Array, padding = 0): Uint8Array {
    const inner = Buffer.alloc(content.length + 1 + padding);
    inner.set(content, 0);
    inner[content.length] = contentType;
    if (inner.length > MAX_PLAINTEXT + 1) throw new Error(`inner plaintext of ${inner.length} bytes exceeds 2^14 + 1`);
    const length = inner.length + TAG_LENGTH;
    const header = recordHeader(ContentType.application_data, length);
    const nonce = this.nextNonce();
    let out: Buffer;
    let tag: Buffer;
    if (this.aead === 'chacha20-poly1305') {
      const c = createCipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG_LENGTH });
      c.setAAD(header, { plaintextLength: inner.length });
      out = Buffer.concat([c.update(inner), c.final()]);
      tag = c.getAuthTag();
    } else {
      const c = createCipheriv(this.aead, this.key, nonce, { authTagLength: TAG_LENGTH });
      c.setAAD(header);
      out = Buffer.concat([c.update(inner), c.final()]);
      tag = c.getAuthTag();
    }
    return Buffer.concat([header, out, tag]);
  }

  /**
   * Opens one TLSCiphertext (header + body). Returns the inner content type and content with padding removed
   * (RFC 8446 §5.4); throws RecordLayerError(bad_record_mac) when authentication fails.
   */
  open(header: Uint8Array, body: Uint8Array): { type: number; content: Uint8Array } {
    if (body.length < TAG_LENGTH + 1) throw new RecordLayerError(BAD_RECORD_MAC, `protected record of ${body.length} bytes is too short`);
    const nonce = this.nextNonce();
    const ct = body.subarray(0, body.length - TAG_LENGTH);
    const tag = body.subarray(body.length - TAG_LENGTH);
    let inner: Buffer;
    try {
      if (this.aead === 'chacha20-poly1305') {
        const d = createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG_LENGTH });
        d.setAAD(header, { plaintextLength: ct.length });
        d.setAuthTag(tag);
        inner = Buffer.concat([d.update(ct), d.final()]);
      } else {
        const d = createDecipheriv(this.aead, this.key, nonce, { authTagLength: TAG_LENGTH });
        d.setAAD(header);
        d.setAuthTag(tag);
        inner = Buffer.concat([d.update(ct), d.final()]);
      }
    } catch {
      // RFC 8446 §5.2: failed deprotection terminates the connection with bad_record_mac.
      throw new RecordLayerError(BAD_RECORD_MAC, `record ${this.seq - 1n} does not authenticate`);
    }
    // RFC 8446 §5.4: the content type is the last non-zero byte; all zeros is unexpected_message.
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw new RecordLayerError(UNEXPECTED_MESSAGE, 'protected record has no non-zero content type');
    // RFC 8446 §5.2: the content of TLSInnerPlaintext is at most 2^14 bytes.
    if (end > MAX_PLAINTEXT) throw new RecordLayerError(RECORD_OVERFLOW, `inner plaintext content of ${end} bytes`);
    return { type: inner[end]!, content: new Uint8Array(inner.buffer, inner.byteOffset, end) };
  }
}

export function recordHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(HEADER_LENGTH);
  h[0] = type;
  h.writeUInt16BE(LEGACY_RECORD_VERSION, 1);
  h.writeUInt16BE(length, 3);
  return h;
}

export interface RawRecord {
  readonly type: number;
  readonly version: number;
  readonly header: Uint8Array;
  readonly body: Uint8Array;
}

/** Splits a TCP byte stream into records (RFC 8446 §5.1), tolerating any segmentation. */
export class RecordReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(data: Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffer, data]);
  }

  get pending(): number {
    return this.buffer.length;
  }

  next(): RawRecord | undefined {
    if (this.buffer.length < HEADER_LENGTH) return undefined;
    const type = this.buffer[0]!;
    const version = this.buffer.readUInt16BE(1);
    const length = this.buffer.readUInt16BE(3);
    if (type < ContentType.change_cipher_spec || type > ContentType.application_data) {
      // RFC 8446 §5: an unknown record type is unexpected_message.
      throw new RecordLayerError(UNEXPECTED_MESSAGE, `unknown record content type ${type}`);
    }
    // RFC 8446 §5.1: legacy_record_version is 0x0303, or 0x0301 on an initial ClientHello; only the major byte is checked.
    if (version >> 8 !== 3) throw new RecordLayerError(DECODE_ERROR, `record version 0x${version.toString(16)}`);
    // RFC 8446 §5.1/§5.2: plaintext records carry at most 2^14 bytes, protected ones 2^14 + 256.
    const max = type === ContentType.application_data ? MAX_CIPHERTEXT : MAX_PLAINTEXT;
    if (length > max) throw new RecordLayerError(RECORD_OVERFLOW, `record of ${length} bytes (type ${type})`);
    if (this.buffer.length < HEADER_LENGTH + length) return undefined;
    const header = this.buffer.subarray(0, HEADER_LENGTH);
    const body = this.buffer.subarray(HEADER_LENGTH, HEADER_LENGTH + length);
    this.buffer = this.buffer.subarray(HEADER_LENGTH + length);
    return { type, version, header, body };
  }
}

export interface TraceEntry {
  readonly direction: 'in' | 'out';
  /** Type in the record header (23 for every protected record). */
  readonly outerType: number;
  /** The real content type (inner type for protected records). */
  readonly innerType: number;
  /** Which keys protected it: 'plaintext', or the level of the traffic secret. */
  readonly protection: 'plaintext' | 'handshake' | 'application';
  /** Content length (without header, tag, type byte or padding). */
  readonly length: number;
}

export interface RecordConnectionOptions {
  /** Largest content per record we send; default 2^14 (RFC 8446 §5.1). Small values force fragmentation. */
  readonly maxFragment?: number;
  /** Zero bytes of padding added to every protected record we send (RFC 8446 §5.4). */
  readonly padding?: number;
  /** Clock passed to the endpoint; default Date.now. */
  readonly now?: () => number;
  /** Called with every event the endpoint produced, in order. */
  readonly onEvent?: (event: TlsEvent) => void;
  /** Called with the application data of every record (after the handshake). */
  readonly onData?: (data: Uint8Array, connection: TlsRecordConnection) => void;
}

interface Waiter {
  readonly cond: () => boolean;
  readonly what: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Runs one TlsEndpoint over a TCP socket. Handshake bytes at 'initial' travel in plaintext records, at 'handshake'
 * and 'application' under the matching traffic keys; received records go to receive() at the level of the keys
 * that opened them. State is exposed for assertions; waitFor() turns it into promises.
 */
export class TlsRecordConnection {
  readonly trace: TraceEntry[] = [];
  readonly events: TlsEvent[] = [];
  readonly secrets: TrafficSecret[] = [];
  readonly tickets: SessionTicket[] = [];
  /** Handshake bytes the endpoint emitted, by level, in order. */
  readonly handshakeOut: { level: CryptoLevel; data: Uint8Array }[] = [];
  /** Handshake bytes fed to the endpoint, by level, one entry per record. */
  readonly handshakeIn: { level: CryptoLevel; data: Uint8Array }[] = [];
  /** Application data received, in order. */
  readonly received: Uint8Array[] = [];
  complete = false;
  /** The first fatal problem: local endpoint error, peer alert, record-layer or socket error. */
  failure: Error | undefined;
  /** The endpoint's own error, if it failed. */
  endpointError: TlsAlertError | undefined;
  /** The peer sent close_notify. */
  peerClosed = false;
  /** The TCP connection is gone. */
  socketClosed = false;

  private readonly reader = new RecordReader();
  private readonly now: () => number;
  private readonly maxFragment: number;
  private readonly padding: number;
  private readKeys: { level: 'handshake' | 'application'; protection: RecordProtection } | undefined;
  private readonly writeKeys = new Map<'handshake' | 'application', RecordProtection>();
  private latestWrite: 'handshake' | 'application' | undefined;
  private waiters: Waiter[] = [];
  private receivedAnyHandshake = false;
  private closing = false;

  constructor(
    readonly socket: Socket,
    readonly endpoint: TlsEndpoint,
    private readonly options: RecordConnectionOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxFragment = options.maxFragment ?? MAX_PLAINTEXT;
    if (this.maxFragment < 1 || this.maxFragment > MAX_PLAINTEXT) throw new Error('maxFragment must be 1..2^14');
    this.padding = options.padding ?? 0;
    if (this.maxFragment + 1 + this.padding > MAX_PLAINTEXT + 1) throw new Error('maxFragment + padding exceeds 2^14');
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.setFailure(e));
    socket.on('close', () => {
      this.socketClosed = true;
      this.notify();
    });
  }

  /** Client side: sends the ClientHello. */
  start(): void {
    if (!(this.endpoint instanceof TlsClient)) throw new Error('only a client starts the handshake');
    this.endpoint.start(this.now());
    this.drain();
  }

  /** All application data received so far, as UTF-8. */
  get text(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  /** Sends application data (RFC 8446 §5.1: split into records of at most maxFragment bytes). */
  send(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const keys = this.writeKeys.get('application');
    if (keys === undefined) throw new Error('no application write keys yet');
    for (let off = 0; off < bytes.length; off += this.maxFragment) {
      this.writeProtected('application', keys, ContentType.application_data, bytes.subarray(off, off + this.maxFragment));
    }
  }

  /** Sends close_notify (RFC 8446 §6.1) and half-closes the socket. */
  close(): void {
    if (this.closing || this.socket.destroyed) return;
    this.closing = true;
    this.sendAlert(ALERT_WARNING, CLOSE_NOTIFY);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
  }

  /**
   * Resolves once cond() holds. Rejects with the connection's failure if one occurs first, or when the socket
   * closes or the timeout passes without cond() holding.
   */
  waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        cond,
        what,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.describe()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.notify();
    });
  }

  waitForHandshake(timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.complete, 'handshake completion', timeoutMs);
  }

  waitForText(text: string, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.text.includes(text), `application data containing ${JSON.stringify(text)}`, timeoutMs);
  }

  /** Resolves with the failure (rejects if the connection ends cleanly or the timeout passes). */
  async waitForFailure(timeoutMs?: number): Promise<Error> {
    await this.waitFor(() => this.failure !== undefined, 'a failure', timeoutMs).catch((e: unknown) => {
      if (this.failure === undefined) throw e;
    });
    return this.failure!;
  }

  private describe(): string {
    const f = this.failure === undefined ? '' : `; failure: ${this.failure.message}`;
    return ` (complete=${this.complete}, peerClosed=${this.peerClosed}, socketClosed=${this.socketClosed}, received=${JSON.stringify(this.text.slice(0, 200))}${f})`;
  }

  private notify(): void {
    for (const w of [...this.waiters]) {
      let done = false;
      try {
        done = w.cond();
      } catch (e) {
        this.finishWaiter(w);
        w.reject(e as Error);
        continue;
      }
      if (done) {
        this.finishWaiter(w);
        w.resolve();
      } else if (this.failure !== undefined) {
        this.finishWaiter(w);
        w.reject(new Error(`failed while waiting for ${w.what}: ${this.failure.message}`, { cause: this.failure }));
      } else if (this.socketClosed) {
        this.finishWaiter(w);
        w.reject(new Error(`connection closed while waiting for ${w.what}${this.describe()}`));
      }
    }
  }

  private finishWaiter(w: Waiter): void {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
  }

  private setFailure(e: Error): void {
    this.failure ??= e;
    this.notify();
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.reader.push(chunk);
      for (let rec = this.reader.next(); rec !== undefined && this.failure === undefined; rec = this.reader.next()) {
        this.onRecord(rec);
      }
    } catch (e) {
      if (e instanceof RecordLayerError) {
        this.sendAlert(ALERT_FATAL, e.alert);
        this.socket.end();
      }
      this.setFailure(e as Error);
    }
    this.notify();
  }

  private onRecord(rec: RawRecord): void {
    switch (rec.type) {
      case ContentType.change_cipher_spec:
        // RFC 8446 §5: an unprotected CCS of value 0x01 between the first ClientHello and the peer's Finished is
        // dropped (middlebox compatibility, Appendix D.4); anything else is unexpected_message.
        if (rec.body.length !== 1 || rec.body[0] !== 0x01) {
          throw new RecordLayerError(UNEXPECTED_MESSAGE, 'malformed change_cipher_spec record');
        }
        if (!this.receivedAnyHandshake && !(this.endpoint instanceof TlsClient)) {
          throw new RecordLayerError(UNEXPECTED_MESSAGE, 'change_cipher_spec before the ClientHello');
        }
        if (this.endpoint.handshakeComplete) {
          throw new RecordLayerError(UNEXPECTED_MESSAGE, 'change_cipher_spec after the handshake');
        }
        this.trace.push({ direction: 'in', outerType: rec.type, innerType: rec.type, protection: 'plaintext', length: 1 });
        return;
      case ContentType.alert:
        // Alerts are protected once keys exist, but a peer that failed before installing ours sends them in clear.
        this.trace.push({ direction: 'in', outerType: rec.type, innerType: rec.type, protection: 'plaintext', length: rec.body.length });
        return this.onAlert(rec.body);
      case ContentType.handshake:
        if (this.readKeys !== undefined) {
          // RFC 8446 §5: after the key change handshake messages must be protected.
          throw new RecordLayerError(UNEXPECTED_MESSAGE, 'plaintext handshake record after the key change');
        }
        this.trace.push({ direction: 'in', outerType: rec.type, innerType: rec.type, protection: 'plaintext', length: rec.body.length });
        return this.feed('initial', rec.body);
      case ContentType.application_data: {
        const keys = this.readKeys;
        if (keys === undefined) throw new RecordLayerError(UNEXPECTED_MESSAGE, 'protected record before any read keys');
        const { type, content } = keys.protection.open(rec.header, rec.body);
        this.trace.push({ direction: 'in', outerType: rec.type, innerType: type, protection: keys.level, length: content.length });
        if (type === ContentType.handshake) return this.feed(keys.level, content);
        if (type === ContentType.alert) return this.onAlert(content);
        if (type === ContentType.application_data) {
          if (keys.level !== 'application') {
            throw new RecordLayerError(UNEXPECTED_MESSAGE, 'application data under handshake keys');
          }
          const copy = Uint8Array.from(content);
          this.received.push(copy);
          this.options.onData?.(copy, this);
          return;
        }
        // RFC 8446 §5: a protected change_cipher_spec (or any other type) is unexpected_message.
        throw new RecordLayerError(UNEXPECTED_MESSAGE, `protected record of inner type ${type}`);
      }
    }
  }

  private onAlert(body: Uint8Array): void {
    // RFC 8446 §6: an alert is exactly level (1 byte) + description (1 byte).
    if (body.length !== 2) throw new RecordLayerError(DECODE_ERROR, `alert record of ${body.length} bytes`);
    const level = body[0]!;
    const description = body[1]!;
    if (description === CLOSE_NOTIFY) {
      this.peerClosed = true;
      this.notify();
      return;
    }
    this.setFailure(new PeerAlertError(description, level));
  }

  private feed(level: CryptoLevel, data: Uint8Array): void {
    // RFC 8446 §5.1: zero-length handshake fragments are not allowed.
    if (data.length === 0) throw new RecordLayerError(UNEXPECTED_MESSAGE, 'empty handshake fragment');
    this.receivedAnyHandshake = true;
    const copy = Uint8Array.from(data);
    this.handshakeIn.push({ level, data: copy });
    this.endpoint.receive(level, copy, this.now());
    this.drain();
  }

  /** Moves every pending endpoint event onto the wire or into state, in order: key changes take effect at once. */
  private drain(): void {
    for (let ev = this.endpoint.poll(); ev !== undefined; ev = this.endpoint.poll()) {
      this.events.push(ev);
      this.options.onEvent?.(ev);
      switch (ev.type) {
        case 'secret':
          this.secrets.push(ev);
          this.installSecret(ev);
          break;
        case 'handshake-data':
          this.handshakeOut.push({ level: ev.level, data: ev.data });
          this.writeHandshake(ev.level, ev.data);
          break;
        case 'session-ticket':
          this.tickets.push(ev.ticket);
          break;
        case 'handshake-complete':
          this.complete = true;
          break;
        case 'early-data-rejected':
          break;
        case 'error':
          this.endpointError = ev.error;
          // RFC 8446 §6.2: tell the peer why, under the current write keys, then close.
          this.sendAlert(ALERT_FATAL, ev.error.alert);
          this.socket.end();
          this.setFailure(ev.error);
          break;
      }
    }
    this.notify();
  }

  private installSecret(s: TrafficSecret): void {
    // 0-RTT does not exist without the QUIC profile; nothing would ever use early keys here.
    if (s.level === 'early') return;
    const protection = RecordProtection.fromSecret(s);
    if (s.direction === 'read') {
      this.readKeys = { level: s.level, protection };
    } else {
      this.writeKeys.set(s.level, protection);
      this.latestWrite = s.level;
    }
  }

  private writeHandshake(level: CryptoLevel, data: Uint8Array): void {
    if (level === 'initial') {
      for (let off = 0; off < data.length; off += this.maxFragment) {
        const part = data.subarray(off, off + this.maxFragment);
        this.trace.push({ direction: 'out', outerType: ContentType.handshake, innerType: ContentType.handshake, protection: 'plaintext', length: part.length });
        this.socket.write(Buffer.concat([recordHeader(ContentType.handshake, part.length), part]));
      }
      return;
    }
    const keys = this.writeKeys.get(level);
    if (keys === undefined) throw new Error(`endpoint emitted ${level} handshake data before the ${level} write secret`);
    for (let off = 0; off < data.length; off += this.maxFragment) {
      this.writeProtected(level, keys, ContentType.handshake, data.subarray(off, off + this.maxFragment));
    }
  }

  private writeProtected(level: 'handshake' | 'application', keys: RecordProtection, type: number, content: Uint8Array): void {
    this.trace.push({ direction: 'out', outerType: ContentType.application_data, innerType: type, protection: level, length: content.length });
    this.socket.write(keys.seal(type, content, this.padding));
  }

  private sendAlert(level: number, description: number): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const body = Uint8Array.of(level, description);
    const latest = this.latestWrite;
    if (latest === undefined) {
      this.trace.push({ direction: 'out', outerType: ContentType.alert, innerType: ContentType.alert, protection: 'plaintext', length: 2 });
      this.socket.write(Buffer.concat([recordHeader(ContentType.alert, 2), body]));
    } else {
      this.writeProtected(latest, this.writeKeys.get(latest)!, ContentType.alert, body);
    }
  }
}
