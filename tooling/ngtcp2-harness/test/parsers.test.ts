import { describe, expect, it } from 'vitest';
import {
  ClientLogParser,
  HarnessError,
  captureUdp,
  GNUTLS_CIPHERS,
  downloadName,
  gtlsClientArgs,
  gtlsServerArgs,
  parseClientLog,
  summarizeTsharkFields,
} from '../src/index.js';

// Lines as gtlsclient 0.12.1 prints them without --quiet (with --no-quic-dump --no-http-dump), abridged.
const SCID = '0x8a97a0344e906269f34ba4846927bdd013';
const dbg = (t: number, text: string): string => `I${String(t).padStart(8, '0')} ${SCID} ${text}`;
const ZERO_RTT_RUN = [
  dbg(0, 'pkt tx pkn=0 dcid=0x04 scid=0x6a version=0x00000001 type=Initial len=0'),
  dbg(1, 'pkt tx pkn=0 dcid=0x04 scid=0x6a version=0x00000001 type=0RTT len=0'),
  dbg(1, 'frm tx 0 0RTT STREAM(0x0b) id=0x0 fin=1 offset=0 len=41 uni=0'),
  'Sent packet: local=[127.0.0.1]:36979 remote=[127.0.0.1]:4435 ecn=0x2 1200 bytes',
  'Set timer=0.021062s',
  'http: control stream=2',
  'http: QPACK streams encoder=6 decoder=a',
  'http: stream 0x0 submit request headers',
  '[:method: GET]',
  '[:scheme: https]',
  '[:authority: 127.0.0.1:4435]',
  '[:path: /f1m]',
  '[user-agent: nghttp3/ngtcp2 client]',
  'http: stream 0x4 submit request headers',
  '[:method: GET]',
  '[:path: /nope]',
  'Received packet: local=[127.0.0.1]:36979 remote=[127.0.0.1]:4435 ecn=0x2 1200 bytes',
  dbg(4, 'pkt rx pkn=0 dcid=0x8a scid=0x04 version=0x00000001 type=Initial len=119'),
  dbg(4, 'con discarding early key'),
  'QUIC handshake has completed',
  'Negotiated cipher suite is CHACHA20-POLY1305',
  'Negotiated ALPN is h3',
  dbg(5, 'pkt rx pkn=3 dcid=0x8a type=1RTT k=0'),
  'http: stream 0x0 response headers started',
  'http: stream 0x0 [:status: 200]',
  'http: stream 0x0 [content-type: text/plain]',
  'http: stream 0x0 [content-length: 1048576]',
  'http: stream 0x0 headers ended',
  'Updating traffic key',
  'QUIC handshake has been confirmed',
  'HTTP stream 0 closed with error code 256',
  'http: stream 0x4 [:status: 404]',
  'http: stream 0x4 [content-length: 146]',
  'HTTP stream 4 closed with error code 256',
  dbg(9, 'frm tx 80 1RTT CONNECTION_CLOSE(0x1d) error_code=(unknown)(0x100) frame_type=0 reason_len=0 reason=[]'),
].join('\n');

describe('parseClientLog', () => {
  it('reads handshake, cipher, ALPN, 0-RTT and per-stream HTTP results', () => {
    const log = parseClientLog(ZERO_RTT_RUN + '\n');
    expect(log.handshakeCompleted).toBe(true);
    expect(log.handshakeConfirmed).toBe(true);
    expect(log.cipher).toBe('CHACHA20-POLY1305');
    expect(log.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(log.alpn).toBe('h3');
    expect(log.packetsSent).toEqual({ Initial: 1, '0RTT': 1 });
    expect(log.packetsReceived).toEqual({ Initial: 1, '1RTT': 1 });
    expect(log.earlyData).toBe('accepted');
    expect(log.responses).toEqual([
      { streamId: 0, path: '/f1m', status: 200, contentLength: 1048576, closeCode: 256 },
      { streamId: 4, path: '/nope', status: 404, contentLength: 146, closeCode: 256 },
    ]);
    expect(log.errors).toEqual([]);
    // Debug and per-packet lines are parsed, not kept.
    expect(log.events.some((l) => l.startsWith('I0') || l.startsWith('Sent packet'))).toBe(false);
    expect(log.events).toContain('QUIC handshake has completed');
  });

  it('sees 0-RTT rejection, and no 0-RTT at all', () => {
    const rejected = parseClientLog(ZERO_RTT_RUN.replace('QUIC handshake has completed', 'Early data was rejected by server\nQUIC handshake has completed'));
    expect(rejected.earlyData).toBe('rejected');
    const none = parseClientLog(ZERO_RTT_RUN.split('\n').filter((l) => !l.includes('0RTT')).join('\n'));
    expect(none.earlyData).toBe('not-attempted');
    // Quiet output has no debug lines: nothing can be said.
    expect(parseClientLog('').earlyData).toBe('unknown');
  });

  it('counts Retry, key updates and key phases, and collects errors, whatever the chunking', () => {
    const text = [
      dbg(2, 'pkt rx pkn=0 dcid=0xfb scid=0x69 version=0x00000001 type=Retry len=0'),
      'QUIC handshake has completed',
      'Initiate key update',
      dbg(38, 'pkt tx pkn=12 dcid=0x1d type=1RTT k=1'),
      dbg(38, 'pkt unexpected KEY_PHASE'),
      dbg(39, 'pkt rx pkn=72 dcid=0xad type=1RTT k=1'),
      dbg(39, 'cry key update confirmed'),
      dbg(40, 'frm tx 4 1RTT ACK(0x03) largest_ack=10 ack_delay=0(5) ack_range_count=0'),
      dbg(41, 'frm rx 9 1RTT CONNECTION_CLOSE(0x1c) error_code=PROTOCOL_VIOLATION(0xa) frame_type=0 reason_len=0 reason=[]'),
      'selected server preferred_address is [127.0.0.1]:48116',
      'Path validation against path {local:[127.0.0.1]:47658, remote:[127.0.0.1]:48116} succeeded',
      'Changing local address',
      'Local address is now [127.0.0.1]:50067',
      'Path validation against path {local:[127.0.0.1]:50067, remote:[127.0.0.1]:4453} failed',
      'ngtcp2_conn_read_pkt: ERR_DRAINING',
      'ngtcp2_conn_handle_expiry: ERR_HANDSHAKE_TIMEOUT',
      'open: Could not open file /nonexistent/f1m: No such file or directory',
    ].join('\n');
    const parser = new ClientLogParser();
    for (let i = 0; i < text.length; i += 7) parser.push(text.slice(i, i + 7));
    const log = parser.end();
    expect(log.retryReceived).toBe(true);
    expect(log.keyUpdatesInitiated).toBe(1);
    expect(log.keyUpdatesConfirmed).toBe(1);
    expect(log.keyPhase1Sent).toBe(1);
    expect(log.keyPhase1Received).toBe(1);
    expect(log.preferredAddress).toBe('[127.0.0.1]:48116');
    expect(log.localAddressChanges).toEqual(['[127.0.0.1]:50067']);
    expect(log.pathValidations).toEqual([
      { path: '{local:[127.0.0.1]:47658, remote:[127.0.0.1]:48116}', succeeded: true },
      { path: '{local:[127.0.0.1]:50067, remote:[127.0.0.1]:4453}', succeeded: false },
    ]);
    expect(log.connectionClosesReceived).toHaveLength(1);
    expect(log.connectionClosesReceived[0]).toContain('PROTOCOL_VIOLATION');
    // ERR_DRAINING is routine (a packet after the peer's CONNECTION_CLOSE), the others are failures.
    expect(log.errors).toEqual([
      'ngtcp2_conn_handle_expiry: ERR_HANDSHAKE_TIMEOUT',
      'open: Could not open file /nonexistent/f1m: No such file or directory',
    ]);
  });
});

describe('command lines', () => {
  it('downloadName follows gtlsclient: last segment, query kept, index.html for a trailing slash', () => {
    expect(downloadName('https://127.0.0.1:4433/f1m')).toBe('f1m');
    expect(downloadName('https://127.0.0.1:4433/sub/dir/f1m')).toBe('f1m');
    expect(downloadName('https://127.0.0.1:4433/f1m?x=1')).toBe('f1m?x=1');
    expect(downloadName('https://127.0.0.1:4433/')).toBe('index.html');
    expect(downloadName('https://127.0.0.1:4433')).toBe('index.html');
    expect(downloadName('https://[::1]:4433/sub/')).toBe('index.html');
  });

  it('gtlsClientArgs maps options to flags and paths to URLs (IPv6 bracketed)', () => {
    const { args, urls } = gtlsClientArgs({
      host: '::1',
      port: 4433,
      paths: ['/a', 'b'],
      downloadDir: '/tmp/dl',
      sessionFile: '/tmp/s.pem',
      tpFile: '/tmp/tp.txt',
      keyUpdate: 10,
      txLoss: 0.05,
      rxLoss: 0.05,
      ciphers: GNUTLS_CIPHERS.TLS_AES_256_GCM_SHA384,
    });
    expect(urls).toEqual(['https://[::1]:4433/a', 'https://[::1]:4433/b']);
    expect(args).toEqual([
      '--no-quic-dump',
      '--no-http-dump',
      '--exit-on-all-streams-close',
      '--timeout=5s',
      '--handshake-timeout=5s',
      '--download=/tmp/dl',
      '--session-file=/tmp/s.pem',
      '--tp-file=/tmp/tp.txt',
      '--key-update=10ms',
      '--tx-loss=0.05',
      '--rx-loss=0.05',
      '--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM',
      '::1',
      '4433',
      'https://[::1]:4433/a',
      'https://[::1]:4433/b',
    ]);
    expect(gtlsClientArgs({ port: 1, urls: ['https://x/'], quiet: true, exitOnAllStreamsClose: false }).args).toEqual([
      '--quiet',
      '--timeout=5s',
      '--handshake-timeout=5s',
      '127.0.0.1',
      '1',
      'https://x/',
    ]);
    expect(() => gtlsClientArgs({ port: 1 })).toThrow(/urls or paths/);
  });

  it('gtlsServerArgs maps options to flags, positional address/port/key/cert last', () => {
    const args = gtlsServerArgs(
      {
        htdocs: '/srv/www',
        cert: '/pki/cert.pem',
        key: '/pki/key.pem',
        retry: true,
        maxGsoDgrams: 1,
        preferredAddress: { ipv4: '127.0.0.1:5000' },
        qlogDir: '/tmp/q',
      },
      '127.0.0.1',
      4433,
    );
    expect(args).toEqual([
      '--quiet',
      '--htdocs=/srv/www',
      '--validate-addr',
      '--qlog-dir=/tmp/q',
      '--preferred-ipv4-addr=127.0.0.1:5000',
      '--max-gso-dgrams=1',
      '127.0.0.1',
      '4433',
      '/pki/key.pem',
      '/pki/cert.pem',
    ]);
  });
});

describe('captureUdp options', () => {
  it('needs at least one valid port', async () => {
    await expect(captureUdp({})).rejects.toBeInstanceOf(HarnessError);
    await expect(captureUdp({ ports: [0] })).rejects.toThrow(/ports/);
    await expect(captureUdp({ port: 70000 })).rejects.toThrow(/ports/);
  });
});

describe('summarizeTsharkFields', () => {
  const A = '\u001f';
  // Columns: frame.number, header_form, long.packet_type, version, key_phase, frame_type, decryption_failed,
  // _ws.malformed, expert severity, expert message (tshark -T fields, occurrence=a, aggregator=0x1f).
  const row = (...cols: string[]): string => cols.join('\t');

  it('counts coalesced packets, frames, key phases and expert info', () => {
    const text = [
      row('1', '1', '0', '0x00000001', '', `6${A}0`, '', '', '', ''),
      row('2', `1${A}1${A}0`, `0${A}2`, `0x00000001${A}0x00000001`, '0', `3${A}6${A}6${A}30${A}10`, '', '', '', ''),
      row('3', '0', '', '', '1', `8${A}2`, '', '', '4194304', 'This QUIC frame has a reused stream offset (retransmission?)'),
      row('4', '1', '3', '0x00000001', '', '', '', '', '', ''),
      row('5', '', '', '', '', '', '', '', '', ''),
    ].join('\n');
    const s = summarizeTsharkFields(text + '\n');
    expect(s.datagrams).toBe(5);
    expect(s.quicDatagrams).toBe(4);
    expect(s.quicPackets).toBe(6);
    expect(s.longHeaderPackets).toEqual({ Initial: 2, Handshake: 1, Retry: 1 });
    expect(s.shortHeaderPackets).toBe(2);
    expect(s.keyPhase1Packets).toBe(1);
    expect(s.frames).toEqual({ CRYPTO: 3, PADDING: 1, ACK: 2, STREAM: 2, HANDSHAKE_DONE: 1 }); // tshark prints types in decimal
    expect(s.expert).toEqual({ note: 1 });
    expect(s.expertMessages).toEqual({});
    expect(s.malformed).toBe(0);
    expect(s.undecodedDatagrams).toBe(0);
    expect(s.decrypted).toBe(true);
  });

  it('flags malformed packets and decryption failures', () => {
    const text = [
      row('1', '0', '', '', '0', '', '1', '', '6291456', 'Decryption failed: Decryption (checktag) failed: Checksum error'),
      row('2', '0', '', '', '', '1', '', '1', '8388608', 'Malformed Packet (Exception occurred)'),
    ].join('\n');
    const s = summarizeTsharkFields(text);
    expect(s.decryptionFailures).toBe(1);
    expect(s.undecodedDatagrams).toBe(1);
    expect(s.malformed).toBe(1);
    expect(s.expert).toEqual({ warn: 1, error: 1 });
    expect(Object.keys(s.expertMessages)).toHaveLength(2);
    expect(s.decrypted).toBe(false);
  });
});
