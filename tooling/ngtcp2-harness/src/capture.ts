// Packet captures with dumpcap and QUIC decoding with tshark (Wireshark's QUIC dissector, decrypting with an NSS
// key log as written by GnuTLS/OpenSSL/Node for SSLKEYLOGFILE).
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { HarnessError, OutputBuffer, findExecutable, pollUntil, requireExecutable, runCommand, spawnGuarded } from './proc.js';

/** True when tshark and dumpcap are installed. Capturing may still need root or CAP_NET_RAW: see `canCapture`. */
export function hasTshark(): boolean {
  return findExecutable('tshark') !== undefined && findExecutable('dumpcap') !== undefined;
}

/** Whether dumpcap may open `iface` here (it compiles a filter against the live interface). */
export async function canCapture(iface = 'lo'): Promise<boolean> {
  const dumpcap = findExecutable('dumpcap');
  if (dumpcap === undefined) return false;
  try {
    await runCommand(dumpcap, ['-i', iface, '-f', 'udp', '-d'], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export interface CaptureOptions {
  /** UDP ports to capture (either direction); at least one. `port` is shorthand for one. */
  ports?: number[];
  port?: number;
  /** Interface (default "lo"). */
  iface?: string;
  /** Output pcapng path (its directory is created); default capture.pcapng in a new temporary directory. */
  file?: string;
  /** Kernel capture buffer in MiB (default 64; bulk loopback transfers overflow small buffers). */
  bufferMiB?: number;
  /** Bytes kept per packet (default: whole packets). */
  snaplen?: number;
  startTimeoutMs?: number;
}

export interface CaptureStats {
  /** Packets dumpcap wrote, and packets the kernel or dumpcap dropped (a capture with drops misses datagrams). */
  readonly packets: number;
  readonly dropped: number;
}

export interface Capture {
  readonly file: string;
  /** dumpcap's stderr so far. */
  output(): string;
  /** Stops dumpcap (SIGINT, so it finishes the file) and reports its counters; idempotent. */
  stop(): Promise<CaptureStats>;
}

/** Starts dumpcap on `iface` for the given UDP ports and resolves once it is capturing. */
export async function captureUdp(options: CaptureOptions): Promise<Capture> {
  const ports = [...(options.ports ?? []), ...(options.port === undefined ? [] : [options.port])];
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    throw new HarnessError(`captureUdp: give one or more ports, got ${JSON.stringify(ports)}`);
  }
  const dumpcap = requireExecutable('dumpcap');
  const file =
    options.file === undefined ? join(await mkdtemp(join(tmpdir(), 'capture-')), 'capture.pcapng') : resolve(options.file);
  await mkdir(dirname(file), { recursive: true });
  const filter = `udp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
  const args = ['-i', options.iface ?? 'lo', '-f', filter, '-w', file, '-B', String(options.bufferMiB ?? 64), '-q'];
  if (options.snaplen !== undefined) args.push('-s', String(options.snaplen));
  const out = new OutputBuffer(1 << 20);
  const guarded = spawnGuarded(dumpcap, args, { onStdout: (c) => out.push(c), onStderr: (c) => out.push(c) });
  // dumpcap prints this after the interface is open and the filter set, so later packets are captured.
  const started = await pollUntil(
    () => out.text().includes('Capturing on'),
    options.startTimeoutMs ?? 10_000,
    guarded.hasExited,
  );
  if (!started) {
    await guarded.stop(500);
    throw new HarnessError(`dumpcap did not start: ${out.text().trim() || '(no output)'}\ndumpcap ${args.join(' ')}`);
  }
  let stopping: Promise<CaptureStats> | undefined;
  const stop = async (): Promise<CaptureStats> => {
    await guarded.stop(5000, 'SIGINT');
    const text = out.text();
    const packets = Number(/Packets captured: (\d+)/.exec(text)?.[1] ?? 'NaN');
    const dropped = Number(/received\/dropped on interface [^:]*: \d+\/(\d+)/.exec(text)?.[1] ?? '0');
    return { packets, dropped };
  };
  return { file, output: () => out.text(), stop: () => (stopping ??= stop()) };
}

// RFC 9000 §12.4 Table 3 (and RFC 9221 §4 for DATAGRAM).
function frameTypeName(type: number): string {
  if (type >= 0x08 && type <= 0x0f) return 'STREAM';
  const names: Record<number, string> = {
    0x00: 'PADDING', 0x01: 'PING', 0x02: 'ACK', 0x03: 'ACK', 0x04: 'RESET_STREAM', 0x05: 'STOP_SENDING',
    0x06: 'CRYPTO', 0x07: 'NEW_TOKEN', 0x10: 'MAX_DATA', 0x11: 'MAX_STREAM_DATA', 0x12: 'MAX_STREAMS',
    0x13: 'MAX_STREAMS', 0x14: 'DATA_BLOCKED', 0x15: 'STREAM_DATA_BLOCKED', 0x16: 'STREAMS_BLOCKED',
    0x17: 'STREAMS_BLOCKED', 0x18: 'NEW_CONNECTION_ID', 0x19: 'RETIRE_CONNECTION_ID', 0x1a: 'PATH_CHALLENGE',
    0x1b: 'PATH_RESPONSE', 0x1c: 'CONNECTION_CLOSE', 0x1d: 'CONNECTION_CLOSE', 0x1e: 'HANDSHAKE_DONE',
    0x30: 'DATAGRAM', 0x31: 'DATAGRAM',
  };
  return names[type] ?? `0x${type.toString(16)}`;
}

// RFC 9000 §17.2 Table 5: QUIC v1 long header packet types.
const LONG_TYPES = ['Initial', '0-RTT', 'Handshake', 'Retry'];

// Wireshark's expert severities (epan/proto.h PI_COMMENT … PI_ERROR).
const SEVERITY: Record<number, 'comment' | 'chat' | 'note' | 'warn' | 'error'> = {
  0x00100000: 'comment',
  0x00200000: 'chat',
  0x00400000: 'note',
  0x00600000: 'warn',
  0x00800000: 'error',
};

export interface DecodeOptions {
  pcap: string;
  /** NSS key log (SSLKEYLOGFILE) of either endpoint; without it nothing past Initial decrypts. */
  keylogFile?: string;
  /** Force the QUIC dissector on these UDP ports (tshark's heuristic usually finds QUIC anyway). */
  ports?: number[];
  timeoutMs?: number;
}

export interface QuicDecode {
  /** UDP datagrams in the capture, and those tshark saw QUIC in. */
  readonly datagrams: number;
  readonly quicDatagrams: number;
  /** QUIC packets (coalesced packets counted one by one). */
  readonly quicPackets: number;
  readonly longHeaderPackets: Record<string, number>;
  readonly shortHeaderPackets: number;
  /** 1-RTT packets with the key phase bit set: evidence of a key update (RFC 9001 §6). */
  readonly keyPhase1Packets: number;
  /** Frames with tshark's "Malformed Packet" marker. */
  readonly malformed: number;
  /** Packets tshark could not decrypt ("Decryption failed" / "Secrets are not available"). */
  readonly decryptionFailures: number;
  /** QUIC datagrams with neither a decoded frame nor a Retry/Version Negotiation packet. */
  readonly undecodedDatagrams: number;
  /** Every packet decrypted and showed frames. */
  readonly decrypted: boolean;
  /** Decoded frames by type name. */
  readonly frames: Record<string, number>;
  /** Expert info counts by severity, and each distinct warn/error message with its count. */
  readonly expert: Record<string, number>;
  readonly expertMessages: Record<string, number>;
}

const FIELDS = [
  'frame.number',
  'quic.header_form',
  'quic.long.packet_type',
  'quic.version',
  'quic.key_phase',
  'quic.frame_type',
  'quic.decryption_failed',
  '_ws.malformed',
  '_ws.expert.severity',
  '_ws.expert.message',
];

const AGG = '\u001f';

/** Decodes a capture with tshark and summarizes the QUIC packets, their frames and tshark's complaints. */
export async function decodeQuic(options: DecodeOptions): Promise<QuicDecode> {
  const tshark = requireExecutable('tshark');
  const args = ['-n', '-r', resolve(options.pcap)];
  if (options.keylogFile !== undefined) args.push('-o', `tls.keylog_file:${resolve(options.keylogFile)}`);
  for (const port of options.ports ?? []) args.push('-d', `udp.port==${port},quic`);
  args.push('-Y', 'udp', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', `aggregator=${AGG}`);
  for (const f of FIELDS) args.push('-e', f);
  const { stdout } = await runCommand(tshark, args, { timeoutMs: options.timeoutMs ?? 120_000 });
  return summarizeTsharkFields(stdout);
}

/** The summary `decodeQuic` computes, from tshark's `-T fields` output for FIELDS (exported for tests). */
export function summarizeTsharkFields(text: string): QuicDecode {
  let datagrams = 0;
  let quicDatagrams = 0;
  let quicPackets = 0;
  let shortHeaderPackets = 0;
  let keyPhase1Packets = 0;
  let malformed = 0;
  let decryptionFailures = 0;
  let undecodedDatagrams = 0;
  const longHeaderPackets: Record<string, number> = {};
  const frames: Record<string, number> = {};
  const expert: Record<string, number> = {};
  const expertMessages: Record<string, number> = {};
  const bump = (r: Record<string, number>, k: string, n = 1): void => {
    r[k] = (r[k] ?? 0) + n;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    datagrams++;
    const cols = line.split('\t');
    const list = (i: number): string[] => {
      const v = cols[i] ?? '';
      return v === '' ? [] : v.split(AGG);
    };
    const forms = list(1);
    const longTypes = list(2);
    const versions = list(3);
    const keyPhases = list(4);
    const frameTypes = list(5);
    const severities = list(8);
    const messages = list(9);
    if (list(7).length > 0) malformed++;
    severities.forEach((s, i) => {
      const level = SEVERITY[Number(s)] ?? `0x${Number(s).toString(16)}`;
      bump(expert, level);
      if (level === 'warn' || level === 'error') bump(expertMessages, messages[i] ?? '(no message)');
      if (/^Decryption failed|Secrets are not available|Failed to create decryption context/.test(messages[i] ?? '')) {
        decryptionFailures++;
      }
    });
    if (forms.length === 0) continue;
    quicDatagrams++;
    quicPackets += forms.length;
    let longIndex = 0;
    let retryOrVn = false;
    for (const form of forms) {
      if (form === '1') {
        const t = Number(longTypes[longIndex]);
        // Version Negotiation has version 0 and no packet type (RFC 9000 §17.2.1).
        const name = versions[longIndex] === '0x00000000' || versions[longIndex] === '0' ? 'VersionNegotiation' : (LONG_TYPES[t] ?? `type${t}`);
        if (name === 'Retry' || name === 'VersionNegotiation') retryOrVn = true;
        bump(longHeaderPackets, name);
        longIndex++;
      } else {
        shortHeaderPackets++;
      }
    }
    keyPhase1Packets += keyPhases.filter((k) => k === '1' || k === 'True').length;
    for (const t of frameTypes) bump(frames, frameTypeName(Number(t)));
    if (frameTypes.length === 0 && !retryOrVn) undecodedDatagrams++;
  }
  return {
    datagrams,
    quicDatagrams,
    quicPackets,
    longHeaderPackets,
    shortHeaderPackets,
    keyPhase1Packets,
    malformed,
    decryptionFailures,
    undecodedDatagrams,
    decrypted: quicPackets > 0 && decryptionFailures === 0 && undecodedDatagrams === 0,
    frames,
    expert,
    expertMessages,
  };
}
