// Parser for gtlsclient's stderr. Without --quiet the client prints application events ("QUIC handshake has
// completed", HTTP headers, "Early data was rejected by server", ...) interleaved with libngtcp2's debug log
// ("I00000005 0x<scid> pkt tx pkn=0 ... type=0RTT"). The parser keeps the events and turns both into facts.

/** TLS 1.3 cipher suite names (RFC 8446 §B.4) by GnuTLS's names as printed after "Negotiated cipher suite is". */
const SUITE_BY_GNUTLS_NAME: Record<string, string> = {
  'AES-128-GCM': 'TLS_AES_128_GCM_SHA256',
  'AES-256-GCM': 'TLS_AES_256_GCM_SHA384',
  'CHACHA20-POLY1305': 'TLS_CHACHA20_POLY1305_SHA256',
  'AES-128-CCM': 'TLS_AES_128_CCM_SHA256',
};

export interface HttpResponseInfo {
  readonly streamId: number;
  path?: string;
  status?: number;
  contentLength?: number;
  /** HTTP/3 application error code from "HTTP stream N closed with error code C" (256 = H3_NO_ERROR). */
  closeCode?: number;
}

export type EarlyDataOutcome = 'not-attempted' | 'accepted' | 'rejected' | 'unknown';

export interface ClientLog {
  handshakeCompleted: boolean;
  handshakeConfirmed: boolean;
  /** GnuTLS's name, e.g. "AES-128-GCM". */
  cipher?: string;
  /** The RFC 8446 name, e.g. "TLS_AES_128_GCM_SHA256". */
  cipherSuite?: string;
  alpn?: string;
  /** Packets the client sent / received, by ngtcp2's packet type name (Initial, 0RTT, Handshake, 1RTT, Retry …). */
  packetsSent: Record<string, number>;
  packetsReceived: Record<string, number>;
  /** A Retry packet arrived. */
  retryReceived: boolean;
  /** 0-RTT packets sent and whether the server took them (the client prints a line only on rejection). */
  earlyData: EarlyDataOutcome;
  earlyDataRejected: boolean;
  /** "Initiate key update" lines (the client's --key-update timer fired). */
  keyUpdatesInitiated: number;
  /** libngtcp2 "key update confirmed": the peer acknowledged a packet in the new key phase. */
  keyUpdatesConfirmed: number;
  /** 1-RTT packets sent / received with the key phase bit set (k=1). */
  keyPhase1Sent: number;
  keyPhase1Received: number;
  /** The server's preferred address the client moved to ("selected server preferred_address is [a]:p"). */
  preferredAddress?: string;
  /** New local addresses after --change-local-addr ("Local address is now [a]:p"). */
  localAddressChanges: string[];
  /** Path validations the client finished: "{local:[a]:p, remote:[a]:p}" with the outcome. */
  pathValidations: { path: string; succeeded: boolean }[];
  /** CONNECTION_CLOSE frames received (ngtcp2's frame log text). */
  connectionClosesReceived: string[];
  responses: HttpResponseInfo[];
  /** Event lines that report a failure ("ngtcp2_conn_read_pkt: ERR_…", "open: Could not open file …"). */
  errors: string[];
  /** Every non-debug line, in order. */
  events: string[];
}

const DEBUG_LINE = /^I\d{8} 0x[0-9a-f]* (\w+) (.*)$/;
// Per-packet and timer chatter of the example program itself.
const NOISE = /^(Sent packet: |Received packet: |Set timer=|Timer has already expired|Timer expired|Ordered (STREAM|CRYPTO) data|[0-9a-f]{8} {2})/;
const ERROR_LINE =
  /^(ngtcp2|nghttp3|gnutls)_\w+: |^(open|sendmsg|recvmsg|getnameinfo|getaddrinfo|socket|bind|connect): |Could not |Unable to |invalid argument|Invalid file name|mutually exclusive|peer does not allow/;

/** Incremental parser: feed chunks of stderr, then read `log`. */
export class ClientLogParser {
  readonly log: ClientLog = {
    handshakeCompleted: false,
    handshakeConfirmed: false,
    packetsSent: {},
    packetsReceived: {},
    retryReceived: false,
    earlyData: 'unknown',
    earlyDataRejected: false,
    keyUpdatesInitiated: 0,
    keyUpdatesConfirmed: 0,
    keyPhase1Sent: 0,
    keyPhase1Received: 0,
    pathValidations: [],
    localAddressChanges: [],
    connectionClosesReceived: [],
    responses: [],
    errors: [],
    events: [],
  };
  private partial = '';
  private requestStream: HttpResponseInfo | undefined;
  private sawDebug = false;

  constructor(private readonly keepEvents = 20_000) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** Flushes a last unterminated line and settles derived fields. */
  end(): ClientLog {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    const log = this.log;
    const zeroRtt = log.packetsSent['0RTT'] ?? 0;
    if (log.earlyDataRejected) log.earlyData = 'rejected';
    else if (!this.sawDebug) log.earlyData = 'unknown';
    else if (zeroRtt === 0) log.earlyData = 'not-attempted';
    else log.earlyData = log.handshakeCompleted ? 'accepted' : 'unknown';
    return log;
  }

  private response(streamId: number): HttpResponseInfo {
    let r = this.log.responses.find((x) => x.streamId === streamId);
    if (r === undefined) {
      r = { streamId };
      this.log.responses.push(r);
    }
    return r;
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (line === '') return;
    const debug = DEBUG_LINE.exec(line);
    if (debug !== null) {
      this.sawDebug = true;
      this.debugLine(debug[1] ?? '', debug[2] ?? '');
      return;
    }
    if (NOISE.test(line)) return;
    const log = this.log;
    if (log.events.length < this.keepEvents) log.events.push(line);
    // ERR_DRAINING only means a packet arrived after the peer's CONNECTION_CLOSE (RFC 9000 §10.2.2).
    if (ERROR_LINE.test(line) && !line.endsWith(': ERR_DRAINING')) log.errors.push(line);
    let m: RegExpExecArray | null;
    if (line === 'QUIC handshake has completed') log.handshakeCompleted = true;
    else if (line === 'QUIC handshake has been confirmed') log.handshakeConfirmed = true;
    else if (line === 'Early data was rejected by server') log.earlyDataRejected = true;
    else if (line === 'Initiate key update') log.keyUpdatesInitiated++;
    else if ((m = /^Negotiated cipher suite is (.+)$/.exec(line)) !== null) {
      log.cipher = m[1] ?? '';
      log.cipherSuite = SUITE_BY_GNUTLS_NAME[log.cipher] ?? log.cipher;
    } else if ((m = /^Negotiated ALPN is (.+)$/.exec(line)) !== null) log.alpn = m[1];
    else if ((m = /^http: stream 0x([0-9a-f]+) submit request headers$/.exec(line)) !== null) {
      this.requestStream = this.response(parseInt(m[1] ?? '0', 16));
    } else if ((m = /^\[:path: (.*)\]$/.exec(line)) !== null) {
      // Request header lines carry no stream prefix; they follow "submit request headers".
      if (this.requestStream !== undefined) this.requestStream.path = m[1];
    } else if ((m = /^http: stream 0x([0-9a-f]+) \[:status: (\d+)\]$/.exec(line)) !== null) {
      this.response(parseInt(m[1] ?? '0', 16)).status = Number(m[2]);
    } else if ((m = /^http: stream 0x([0-9a-f]+) \[content-length: (\d+)\]$/.exec(line)) !== null) {
      this.response(parseInt(m[1] ?? '0', 16)).contentLength = Number(m[2]);
    } else if ((m = /^Local address is now (.+)$/.exec(line)) !== null) {
      log.localAddressChanges.push(m[1] ?? '');
    } else if ((m = /^selected server preferred_address is (.+)$/.exec(line)) !== null) {
      log.preferredAddress = m[1];
    } else if ((m = /^Path validation against path (\{.*\}) (succeeded|failed)$/.exec(line)) !== null) {
      log.pathValidations.push({ path: m[1] ?? '', succeeded: m[2] === 'succeeded' });
    } else if ((m = /^HTTP stream (\d+) closed with error code (\d+)$/.exec(line)) !== null) {
      this.response(Number(m[1])).closeCode = Number(m[2]);
    }
  }

  private debugLine(kind: string, rest: string): void {
    const log = this.log;
    if (kind === 'pkt') {
      const m = /^(tx|rx) pkn=\d+ .*type=(\w+)(?: k=(\d))?/.exec(rest);
      if (m === null) return;
      const type = m[2] ?? '?';
      if (m[1] === 'tx') {
        log.packetsSent[type] = (log.packetsSent[type] ?? 0) + 1;
        if (m[3] === '1') log.keyPhase1Sent++;
      } else {
        log.packetsReceived[type] = (log.packetsReceived[type] ?? 0) + 1;
        if (m[3] === '1') log.keyPhase1Received++;
        if (type === 'Retry') log.retryReceived = true;
      }
    } else if (kind === 'cry' && rest === 'key update confirmed') {
      log.keyUpdatesConfirmed++;
    } else if (kind === 'frm' && /^rx \d+ \S+ CONNECTION_CLOSE\(/.test(rest)) {
      log.connectionClosesReceived.push(rest);
    }
  }
}

/** Parses a whole stderr text at once. */
export function parseClientLog(text: string): ClientLog {
  const parser = new ClientLogParser();
  parser.push(text);
  return parser.end();
}
