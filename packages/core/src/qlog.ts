/**
 * A sans-I/O qlog writer: turns connection events into JSON Text Sequence records (RFC 7464: RS 0x1E, JSON, LF)
 * and hands each record to a sink callback (which may append to a `.sqlog` file, buffer, or drop it).
 *
 * Two flavours:
 * - `'draft'`: draft-ietf-quic-qlog-main-schema-14 sequential file (`urn:ietf:params:qlog:file:sequential`) with
 *   the event schema `urn:ietf:params:qlog:events:quic-13` (a draft implementation must suffix the URI with the
 *   draft number) and `quic:` event names.
 * - `'qvis'`: the qlog 0.3 shape qvis loads (`qlog_version: "0.3"`, `qlog_format: "JSON-SEQ"` at the very start of
 *   the header record; `transport:` / `recovery:` / `connectivity:` / `security:` names), because qvis does not read
 *   the current draft.
 *
 * The first record is the header (vantage point, the ODCID as group id and title, the reference time); every later
 * record is one event `{time, name, data}` with `time` in milliseconds relative to the reference time, never
 * decreasing. Records are built by string concatenation straight from the caller's objects, and every method returns
 * at once when the writer is disabled; check {@link QlogWriter.enabled} before building arguments that cost anything.
 */
import type { Frame, PreferredAddress, TransportParameters } from '@pathquic/wire-codec';

export type QlogFlavour = 'draft' | 'qvis';
/** Receives one complete record: `"\x1e" + JSON + "\n"`. */
export type QlogSink = (record: string) => void;
export type QlogVantagePoint = 'client' | 'server';

/** Packet types; `'0rtt'`/`'1rtt'` (the wire-codec spelling) are written as qlog's `"0RTT"`/`"1RTT"`. */
export type QlogPacketType =
  | 'initial'
  | 'handshake'
  | '0rtt'
  | '1rtt'
  | 'retry'
  | 'version_negotiation'
  | 'stateless_reset'
  | 'unknown';

/** Event names of each flavour, keyed by the helper that writes them. */
export const QLOG_EVENT_NAMES = {
  draft: {
    connectionStarted: 'quic:connection_started',
    parametersSet: 'quic:parameters_set',
    packetSent: 'quic:packet_sent',
    packetReceived: 'quic:packet_received',
    packetLost: 'quic:packet_lost',
    metricsUpdated: 'quic:recovery_metrics_updated',
    keyUpdated: 'quic:key_updated',
    connectionClosed: 'quic:connection_closed',
  },
  qvis: {
    connectionStarted: 'connectivity:connection_started',
    parametersSet: 'transport:parameters_set',
    packetSent: 'transport:packet_sent',
    packetReceived: 'transport:packet_received',
    packetLost: 'recovery:packet_lost',
    metricsUpdated: 'recovery:metrics_updated',
    keyUpdated: 'security:key_updated',
    connectionClosed: 'connectivity:connection_closed',
  },
} as const;

export const QLOG_DRAFT_FILE_SCHEMA = 'urn:ietf:params:qlog:file:sequential';
export const QLOG_DRAFT_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:quic-13';
export const QLOG_QVIS_VERSION = '0.3';
const RS = '\u001e';

export interface QlogWriterOptions {
  /** Where records go. Absent (or `enabled: false`) makes the writer a no-op. */
  sink?: QlogSink;
  enabled?: boolean;
  /** Default `'draft'`. */
  flavour?: QlogFlavour;
  vantagePoint: QlogVantagePoint;
  /** Original Destination CID: the trace's group id and default title (quic-events "Use of group IDs"). */
  odcid: Uint8Array;
  /** `now` (ms, the connection's clock) that event times are relative to, usually the connection's start. */
  referenceTime: number;
  /** Milliseconds since the Unix epoch at `referenceTime`, when known (anchors the trace in wall-clock time). */
  wallClockReference?: number;
  title?: string;
  description?: string;
  /** Written as vantage_point.name. Default `'pathquic'`. */
  name?: string;
  /** ack_delay_exponent for ACK frames this endpoint sends (RFC 9000 §18.2, default 3). */
  localAckDelayExponent?: number;
  /** ack_delay_exponent for ACK frames the peer sends. */
  peerAckDelayExponent?: number;
}

export interface QlogEndpoint {
  address: string;
  port: number;
}

export interface QlogConnectionStarted {
  local?: QlogEndpoint;
  remote?: QlogEndpoint;
  /** This endpoint's Source CID. */
  sourceCid?: Uint8Array;
  /** The Destination CID used towards the peer. */
  destinationCid?: Uint8Array;
  version?: number;
}

/** Transport parameters (any subset) plus the TLS-level settings parameters_set also carries. */
export type QlogParameters = Partial<TransportParameters> & {
  tlsCipher?: string;
  resumptionAllowed?: boolean;
  earlyDataEnabled?: boolean;
};

export interface QlogPacket {
  packetType: QlogPacketType;
  /** Absent for Retry, Version Negotiation and Stateless Reset. */
  packetNumber?: number;
  /** Bytes of the whole packet on the wire, header and AEAD tag included: qlog `raw.length`. */
  length: number;
  /** Bytes after the header (packet number excluded), AEAD tag included: qlog `raw.payload_length`. */
  payloadLength?: number;
  frames?: readonly Frame[];
  packetNumberLength?: number;
  version?: number;
  scid?: Uint8Array;
  dcid?: Uint8Array;
  /** Initial and Retry: length of the token (its content is never logged). */
  tokenLength?: number;
  keyPhaseBit?: boolean;
  spinBit?: boolean;
  /** Packets coalesced into one UDP datagram share a datagram id (quic-events "Handling Packet Coalescing"). */
  datagramId?: number;
  isMtuProbe?: boolean;
  /** packet_sent: retransmit_reordered | retransmit_timeout | pto_probe | retransmit_crypto | cc_bandwidth_probe. */
  trigger?: string;
}

export interface QlogPacketLost {
  packetType: QlogPacketType;
  packetNumber: number;
  frames?: readonly Frame[];
  isMtuProbe?: boolean;
  trigger?: 'reordering_threshold' | 'time_threshold' | 'pto_expired';
}

/** RFC 9002 Appendix A.3/B.2 quantities; RTTs in ms, sizes in bytes, pacing rate in bit/s. */
export interface QlogRecoveryMetrics {
  minRtt?: number;
  smoothedRtt?: number;
  latestRtt?: number;
  rttVariance?: number;
  ptoCount?: number;
  congestionWindow?: number;
  bytesInFlight?: number;
  ssthresh?: number;
  packetsInFlight?: number;
  pacingRate?: number;
}

export type QlogKeyType =
  | 'server_initial_secret'
  | 'client_initial_secret'
  | 'server_handshake_secret'
  | 'client_handshake_secret'
  | 'server_0rtt_secret'
  | 'client_0rtt_secret'
  | 'server_1rtt_secret'
  | 'client_1rtt_secret';

export interface QlogKeyUpdated {
  keyType: QlogKeyType;
  /** 1-RTT key phase (the full counter, RFC 9001 §6); written as `generation` in the qvis flavour. */
  keyPhase?: number;
  trigger?: 'tls' | 'remote_update' | 'local_update';
}

export interface QlogConnectionClosed {
  initiator: 'local' | 'remote';
  /** Transport error code (RFC 9000 §20.1) or, with `application`, the application's code. */
  errorCode?: number | bigint;
  application?: boolean;
  reason?: string;
  trigger?: 'idle_timeout' | 'application' | 'error' | 'version_mismatch' | 'stateless_reset' | 'aborted' | 'unspecified';
}

/** Programmer errors: non-finite times, a missing vantage point. */
export class QlogError extends TypeError {
  override readonly name = 'QlogError';
}

/** The per-connection file name QLOGDIR implementations use: `<odcid hex>_<vantage point>.sqlog`. */
export function qlogFileName(odcid: Uint8Array, vantagePoint: QlogVantagePoint): string {
  return `${toHex(odcid)}_${vantagePoint}.sqlog`;
}

type MetricKey = keyof QlogRecoveryMetrics;
const METRICS: readonly (readonly [MetricKey, string])[] = [
  ['minRtt', 'min_rtt'],
  ['smoothedRtt', 'smoothed_rtt'],
  ['latestRtt', 'latest_rtt'],
  ['rttVariance', 'rtt_variance'],
  ['ptoCount', 'pto_count'],
  ['congestionWindow', 'congestion_window'],
  ['bytesInFlight', 'bytes_in_flight'],
  ['ssthresh', 'ssthresh'],
  ['packetsInFlight', 'packets_in_flight'],
  ['pacingRate', 'pacing_rate'],
];

export class QlogWriter {
  readonly flavour: QlogFlavour;
  /** Exponents used to turn ACK frames' raw ack_delay into ms; parametersSet updates them from ack_delay_exponent. */
  localAckDelayExponent: number;
  peerAckDelayExponent: number;
  #sink: QlogSink | undefined;
  readonly #names: (typeof QLOG_EVENT_NAMES)[QlogFlavour];
  readonly #qvis: boolean;
  readonly #referenceTime: number;
  #lastTime = 0;
  #records = 0;
  readonly #metrics: Record<MetricKey, number | undefined> = {
    minRtt: undefined,
    smoothedRtt: undefined,
    latestRtt: undefined,
    rttVariance: undefined,
    ptoCount: undefined,
    congestionWindow: undefined,
    bytesInFlight: undefined,
    ssthresh: undefined,
    packetsInFlight: undefined,
    pacingRate: undefined,
  };

  constructor(options: QlogWriterOptions) {
    this.flavour = options.flavour ?? 'draft';
    if (this.flavour !== 'draft' && this.flavour !== 'qvis') {
      throw new QlogError(`flavour must be 'draft' or 'qvis', got ${String(this.flavour)}`);
    }
    this.#qvis = this.flavour === 'qvis';
    this.#names = QLOG_EVENT_NAMES[this.flavour];
    this.#referenceTime = requireTime('referenceTime', options.referenceTime);
    this.localAckDelayExponent = options.localAckDelayExponent ?? 3;
    this.peerAckDelayExponent = options.peerAckDelayExponent ?? 3;
    this.#sink = options.enabled === false ? undefined : options.sink;
    if (this.#sink === undefined) return;
    if (options.vantagePoint !== 'client' && options.vantagePoint !== 'server') {
      throw new QlogError(`vantagePoint must be 'client' or 'server', got ${String(options.vantagePoint)}`);
    }
    if (options.wallClockReference !== undefined) requireTime('wallClockReference', options.wallClockReference);
    this.#write(this.#qvis ? qvisHeader(options) : draftHeader(options));
  }

  /** False when records go nowhere: callers can skip gathering event data. */
  get enabled(): boolean {
    return this.#sink !== undefined;
  }

  /** Records handed to the sink so far, the header included. */
  get recordsWritten(): number {
    return this.#records;
  }

  /** Stops writing; later calls are no-ops. */
  close(): void {
    this.#sink = undefined;
  }

  connectionStarted(now: number, info: QlogConnectionStarted): void {
    if (this.#sink === undefined) return;
    let d: string;
    if (this.#qvis) {
      d = '';
      const ip = info.local?.address ?? info.remote?.address;
      if (ip !== undefined) d = add(d, 'ip_version', ip.includes(':') ? '"ipv6"' : '"ipv4"');
      if (info.local !== undefined) d = add(d, 'src_ip', str(info.local.address));
      if (info.remote !== undefined) d = add(d, 'dst_ip', str(info.remote.address));
      d = add(d, 'protocol', '"QUIC"');
      if (info.local !== undefined) d = add(d, 'src_port', num(info.local.port));
      if (info.remote !== undefined) d = add(d, 'dst_port', num(info.remote.port));
      if (info.version !== undefined) d = add(d, 'quic_version', versionHex(info.version));
      if (info.sourceCid !== undefined) d = add(d, 'src_cid', hex(info.sourceCid));
      if (info.destinationCid !== undefined) d = add(d, 'dst_cid', hex(info.destinationCid));
    } else {
      // quic-events: local and remote TupleEndpointInfo, each with the CIDs used towards it.
      d = add('', 'local', tupleEndpoint(info.local, info.sourceCid));
      d = add(d, 'remote', tupleEndpoint(info.remote, info.destinationCid));
    }
    this.#event(now, this.#names.connectionStarted, d);
  }

  /** Transport parameters and TLS settings of one side (quic-events parameters_set; RFC 9000 §18.2 names). */
  parametersSet(now: number, initiator: 'local' | 'remote', params: QlogParameters): void {
    if (params.ackDelayExponent !== undefined) {
      if (initiator === 'local') this.localAckDelayExponent = params.ackDelayExponent;
      else this.peerAckDelayExponent = params.ackDelayExponent;
    }
    if (this.#sink === undefined) return;
    let d = add('', this.#qvis ? 'owner' : 'initiator', str(initiator));
    if (params.resumptionAllowed !== undefined) d = add(d, 'resumption_allowed', bool(params.resumptionAllowed));
    if (params.earlyDataEnabled !== undefined) d = add(d, 'early_data_enabled', bool(params.earlyDataEnabled));
    if (params.tlsCipher !== undefined) d = add(d, 'tls_cipher', str(params.tlsCipher));
    d = addHex(d, 'original_destination_connection_id', params.originalDestinationConnectionId);
    d = addHex(d, 'initial_source_connection_id', params.initialSourceConnectionId);
    d = addHex(d, 'retry_source_connection_id', params.retrySourceConnectionId);
    d = addHex(d, 'stateless_reset_token', params.statelessResetToken);
    if (params.disableActiveMigration !== undefined) d = add(d, 'disable_active_migration', bool(params.disableActiveMigration));
    d = addNum(d, 'max_idle_timeout', params.maxIdleTimeout);
    d = addNum(d, 'max_udp_payload_size', params.maxUdpPayloadSize);
    d = addNum(d, 'ack_delay_exponent', params.ackDelayExponent);
    d = addNum(d, 'max_ack_delay', params.maxAckDelay);
    d = addNum(d, 'active_connection_id_limit', params.activeConnectionIdLimit);
    d = addNum(d, 'initial_max_data', params.initialMaxData);
    d = addNum(d, 'initial_max_stream_data_bidi_local', params.initialMaxStreamDataBidiLocal);
    d = addNum(d, 'initial_max_stream_data_bidi_remote', params.initialMaxStreamDataBidiRemote);
    d = addNum(d, 'initial_max_stream_data_uni', params.initialMaxStreamDataUni);
    d = addNum(d, 'initial_max_streams_bidi', params.initialMaxStreamsBidi);
    d = addNum(d, 'initial_max_streams_uni', params.initialMaxStreamsUni);
    if (params.preferredAddress !== undefined) d = add(d, 'preferred_address', preferredAddress(params.preferredAddress));
    d = addNum(d, 'max_datagram_frame_size', params.maxDatagramFrameSize);
    if (params.greaseQuicBit !== undefined) d = add(d, 'grease_quic_bit', bool(params.greaseQuicBit));
    d = addNum(d, 'initial_max_path_id', params.initialMaxPathId);
    if (params.unknown !== undefined && params.unknown.length > 0) {
      let list = '';
      for (const p of params.unknown) list += (list === '' ? '' : ',') + `{"id":${num(p.id)},"value":${hex(p.value)}}`;
      d = add(d, 'unknown_parameters', `[${list}]`);
    }
    this.#event(now, this.#names.parametersSet, d);
  }

  packetSent(now: number, packet: QlogPacket): void {
    if (this.#sink === undefined) return;
    this.#event(now, this.#names.packetSent, this.#packet(packet, this.localAckDelayExponent));
  }

  packetReceived(now: number, packet: QlogPacket): void {
    if (this.#sink === undefined) return;
    this.#event(now, this.#names.packetReceived, this.#packet(packet, this.peerAckDelayExponent));
  }

  /** A packet declared lost (RFC 9002 §6.1: reordering/time threshold; §6.2.4: pto_expired). */
  packetLost(now: number, lost: QlogPacketLost): void {
    if (this.#sink === undefined) return;
    let d = add('', 'header', `{"packet_type":${packetTypeJson(lost.packetType)},"packet_number":${num(lost.packetNumber)}}`);
    if (lost.frames !== undefined) d = add(d, 'frames', this.#frames(lost.frames, this.localAckDelayExponent));
    if (lost.isMtuProbe === true) d = add(d, 'is_mtu_probe_packet', 'true');
    if (lost.trigger !== undefined) d = add(d, 'trigger', str(lost.trigger));
    this.#event(now, this.#names.packetLost, d);
  }

  /**
   * Recovery metrics (RFC 9002 Appendix A.3, B.2). Only fields that changed since the last call are written, and
   * nothing at all when none did (quic-events: "SHOULD try to log only actual updates"). Non-finite values (an
   * ssthresh of Infinity before the first loss) are skipped. Returns whether a record was written.
   */
  metricsUpdated(now: number, metrics: QlogRecoveryMetrics): boolean {
    if (this.#sink === undefined) return false;
    let d = '';
    const last = this.#metrics;
    for (const [key, field] of METRICS) {
      const value = metrics[key];
      if (value === undefined || !Number.isFinite(value) || value === last[key]) continue;
      last[key] = value;
      d = add(d, field, num(value));
    }
    if (d === '') return false;
    this.#event(now, this.#names.metricsUpdated, d);
    return true;
  }

  /** New keys installed (RFC 9001 §4, §6). Key material is never written. */
  keyUpdated(now: number, info: QlogKeyUpdated): void {
    if (this.#sink === undefined) return;
    let d = add('', 'key_type', str(info.keyType));
    if (info.keyPhase !== undefined) d = add(d, this.#qvis ? 'generation' : 'key_phase', num(info.keyPhase));
    if (info.trigger !== undefined) d = add(d, 'trigger', str(info.trigger));
    this.#event(now, this.#names.keyUpdated, d);
  }

  connectionClosed(now: number, info: QlogConnectionClosed): void {
    if (this.#sink === undefined) return;
    let d = add('', this.#qvis ? 'owner' : 'initiator', str(info.initiator));
    if (info.errorCode !== undefined) {
      if (this.#qvis) {
        d = add(d, info.application === true ? 'application_code' : 'connection_code', num(info.errorCode));
      } else if (info.application === true) {
        d = add(add(d, 'application_error', '"unknown"'), 'error_code', num(info.errorCode));
      } else {
        const name = transportErrorName(info.errorCode);
        d = add(d, 'connection_error', str(name));
        if (name === 'unknown') d = add(d, 'error_code', num(info.errorCode));
      }
    }
    if (info.reason !== undefined) d = add(d, 'reason', str(info.reason));
    if (info.trigger !== undefined) d = add(d, 'trigger', str(info.trigger));
    this.#event(now, this.#names.connectionClosed, d);
  }

  /**
   * Any other event, with a name per flavour (e.g. `'quic:packet_dropped'` / `'transport:packet_dropped'`). `data`
   * goes through JSON.stringify; Uint8Array values become hex strings and bigints numbers.
   */
  event(now: number, names: { draft: string; qvis: string }, data: Record<string, unknown>): void {
    if (this.#sink === undefined) return;
    const json = JSON.stringify(data, jsonReplacer).replace(BIGINT_MARK, '$1');
    this.#event(now, str(this.#qvis ? names.qvis : names.draft).slice(1, -1), json.slice(1, -1));
  }

  #packet(p: QlogPacket, ackDelayExponent: number): string {
    let h = `"packet_type":${packetTypeJson(p.packetType)}`;
    if (p.packetNumber !== undefined) h += `,"packet_number":${num(p.packetNumber)}`;
    if (p.packetNumberLength !== undefined) h += `,"packet_number_length":${num(p.packetNumberLength)}`;
    if (p.keyPhaseBit !== undefined) h += `,"key_phase_bit":${bool(p.keyPhaseBit)}`;
    if (p.spinBit !== undefined) h += `,"spin_bit":${bool(p.spinBit)}`;
    if (p.tokenLength !== undefined) h += `,"token":{"raw":{"length":${num(p.tokenLength)}}}`;
    if (p.version !== undefined) h += `,"version":${versionHex(p.version)}`;
    if (p.scid !== undefined) h += `,"scil":${p.scid.length},"scid":${hex(p.scid)}`;
    if (p.dcid !== undefined) h += `,"dcil":${p.dcid.length},"dcid":${hex(p.dcid)}`;
    let d = add('', 'header', `{${h}}`);
    if (p.frames !== undefined) d = add(d, 'frames', this.#frames(p.frames, ackDelayExponent));
    let raw = `"length":${num(p.length)}`;
    if (p.payloadLength !== undefined) raw += `,"payload_length":${num(p.payloadLength)}`;
    d = add(d, 'raw', `{${raw}}`);
    if (p.datagramId !== undefined) d = add(d, 'datagram_id', num(p.datagramId));
    if (p.isMtuProbe === true) d = add(d, 'is_mtu_probe_packet', 'true');
    if (p.trigger !== undefined) d = add(d, 'trigger', str(p.trigger));
    return d;
  }

  #frames(frames: readonly Frame[], ackDelayExponent: number): string {
    let out = '';
    for (const f of frames) out += (out === '' ? '{' : ',{') + frameFields(f, this.#qvis, ackDelayExponent) + '}';
    return `[${out}]`;
  }

  /** `name` must not need JSON escaping (the helpers' constant names; {@link event} escapes its own). */
  #event(now: number, name: string, data: string): void {
    requireTime('now', now);
    let t = now - this.#referenceTime;
    // Events must be time-ordered (qvis sorts and complains otherwise): never go back.
    if (!(t >= this.#lastTime)) t = this.#lastTime;
    this.#lastTime = t;
    this.#write(`{"time":${num(Math.round(t * 1000) / 1000)},"name":"${name}","data":{${data}}}`);
  }

  #write(json: string): void {
    this.#records++;
    this.#sink?.(RS + json + '\n');
  }
}

function draftHeader(o: QlogWriterOptions): string {
  const odcid = toHex(o.odcid);
  const title = o.title ?? `${o.vantagePoint} ${odcid}`;
  let refTime = '"clock_type":"monotonic","epoch":"unknown"';
  if (o.wallClockReference !== undefined) refTime += `,"wall_clock_time":${str(new Date(o.wallClockReference).toISOString())}`;
  let file = `"file_schema":"${QLOG_DRAFT_FILE_SCHEMA}","serialization_format":"application/qlog+json-seq"`;
  file += `,"title":${str(title)}`;
  if (o.description !== undefined) file += `,"description":${str(o.description)}`;
  let trace = `"title":${str(title)}`;
  if (o.description !== undefined) trace += `,"description":${str(o.description)}`;
  trace += `,"common_fields":{"group_id":"${odcid}","time_format":"relative_to_epoch","reference_time":{${refTime}}}`;
  trace += `,"vantage_point":{"name":${str(o.name ?? 'pathquic')},"type":"${o.vantagePoint}"}`;
  trace += `,"event_schemas":["${QLOG_DRAFT_EVENT_SCHEMA}"]`;
  return `{${file},"trace":{${trace}}}`;
}

function qvisHeader(o: QlogWriterOptions): string {
  const odcid = toHex(o.odcid);
  const title = o.title ?? `${o.vantagePoint} ${odcid}`;
  // qvis sniffs qlog_version and qlog_format in the first 1024 characters: write them first.
  let file = `"qlog_version":"${QLOG_QVIS_VERSION}","qlog_format":"JSON-SEQ","title":${str(title)}`;
  if (o.description !== undefined) file += `,"description":${str(o.description)}`;
  let trace = `"title":${str(title)}`;
  if (o.description !== undefined) trace += `,"description":${str(o.description)}`;
  trace += `,"vantage_point":{"name":${str(o.name ?? 'pathquic')},"type":"${o.vantagePoint}"}`;
  // time_format "relative": absolute time = reference_time (ms since the Unix epoch) + event time.
  trace += `,"common_fields":{"ODCID":"${odcid}","group_id":"${odcid}","protocol_type":["QUIC"]`;
  trace += `,"time_format":"relative","reference_time":${num(o.wallClockReference ?? 0)}}`;
  trace += ',"configuration":{"time_units":"ms"}';
  return `{${file},"trace":{${trace}}}`;
}

function frameFields(f: Frame, qvis: boolean, ackDelayExponent: number): string {
  let s = `"frame_type":"${f.type}"`;
  switch (f.type) {
    case 'padding':
      return qvis ? `${s},"length":${num(f.length)}` : `${s},"raw":{"length":${num(f.length)},"payload_length":${num(f.length)}}`;
    case 'ping':
    case 'handshake_done':
      return s;
    case 'ack':
    case 'path_ack': {
      if (f.type === 'path_ack') s += `,"path_id":${num(f.pathId)}`;
      // RFC 9000 §19.3: ACK Delay × 2^ack_delay_exponent microseconds.
      s += `,"ack_delay":${num((f.ackDelay * 2 ** ackDelayExponent) / 1000)}`;
      let ranges = '';
      for (let i = f.ranges.length - 1; i >= 0; i--) {
        const r = f.ranges[i];
        if (r === undefined) continue;
        const one = r.smallest === r.largest && !qvis; // quic-events: SHOULD log [n]; qvis reads both ends
        ranges += (ranges === '' ? '[' : ',[') + (one ? num(r.smallest) : `${num(r.smallest)},${num(r.largest)}`) + ']';
      }
      s += `,"acked_ranges":[${ranges}]`;
      if (f.ecn !== undefined) s += `,"ect1":${num(f.ecn.ect1)},"ect0":${num(f.ecn.ect0)},"ce":${num(f.ecn.ce)}`;
      return s;
    }
    case 'reset_stream':
      return `${s},"stream_id":${num(f.streamId)}${appError(f.errorCode, qvis)},"final_size":${num(f.finalSize)}`;
    case 'stop_sending':
      return `${s},"stream_id":${num(f.streamId)}${appError(f.errorCode, qvis)}`;
    case 'crypto':
      return `${s},"offset":${num(f.offset)},${lengthField(f.data.length, qvis)}`;
    case 'new_token':
      return qvis ? `${s},"length":${num(f.token.length)}` : `${s},"token":{"raw":{"length":${num(f.token.length)}}}`;
    case 'stream':
      s += `,"stream_id":${num(f.streamId)},"offset":${num(f.offset)},${lengthField(f.data.length, qvis)}`;
      return f.fin ? `${s},"fin":true` : s;
    case 'max_data':
      return `${s},"maximum":${num(f.maximumData)}`;
    case 'max_stream_data':
      return `${s},"stream_id":${num(f.streamId)},"maximum":${num(f.maximumStreamData)}`;
    case 'max_streams':
      return `${s},"stream_type":${streamType(f.bidirectional)},"maximum":${num(f.maximumStreams)}`;
    case 'data_blocked':
      return `${s},"limit":${num(f.limit)}`;
    case 'stream_data_blocked':
      return `${s},"stream_id":${num(f.streamId)},"limit":${num(f.limit)}`;
    case 'streams_blocked':
      return `${s},"stream_type":${streamType(f.bidirectional)},"limit":${num(f.limit)}`;
    case 'new_connection_id':
    case 'path_new_connection_id':
      if (f.type === 'path_new_connection_id') s += `,"path_id":${num(f.pathId)}`;
      return (
        `${s},"sequence_number":${num(f.sequenceNumber)},"retire_prior_to":${num(f.retirePriorTo)}` +
        `,"connection_id_length":${f.connectionId.length},"connection_id":${hex(f.connectionId)}` +
        `,"stateless_reset_token":${hex(f.statelessResetToken)}`
      );
    case 'retire_connection_id':
      return `${s},"sequence_number":${num(f.sequenceNumber)}`;
    case 'path_retire_connection_id':
      return `${s},"path_id":${num(f.pathId)},"sequence_number":${num(f.sequenceNumber)}`;
    case 'path_challenge':
    case 'path_response':
      return `${s},"data":${hex(f.data)}`;
    case 'connection_close': {
      s += `,"error_space":"${f.application ? 'application' : 'transport'}"`;
      if (qvis) s += `,"error_code":${num(f.errorCode)},"raw_error_code":${num(f.errorCode)}`;
      else if (f.application) s += `,"error":"unknown","error_code":${num(f.errorCode)}`;
      else {
        const name = transportErrorName(f.errorCode);
        s += `,"error":${str(name)}`;
        if (name === 'unknown') s += `,"error_code":${num(f.errorCode)}`;
      }
      if (f.reason.length > 0) s += `,"reason":${str(utf8Decoder.decode(f.reason))}`;
      if (!f.application) s += `,"trigger_frame_type":${num(f.frameType)}`;
      return s;
    }
    case 'datagram':
      return `${s},${lengthField(f.data.length, qvis)}`;
    case 'path_abandon':
      return `${s},"path_id":${num(f.pathId)},"error_code":${num(f.errorCode)}`;
    case 'path_status_backup':
    case 'path_status_available':
      return `${s},"path_id":${num(f.pathId)},"path_status_sequence_number":${num(f.sequenceNumber)}`;
    case 'max_path_id':
    case 'paths_blocked':
      return `${s},"maximum_path_id":${num(f.maximumPathId)}`;
    case 'path_cids_blocked':
      return `${s},"path_id":${num(f.pathId)},"next_sequence_number":${num(f.nextSequenceNumber)}`;
    default:
      return s;
  }
}

/** Crypto, stream and datagram lengths: `raw.length` in the draft (quic-events), a plain `length` in qlog 0.3. */
function lengthField(length: number, qvis: boolean): string {
  return qvis ? `"length":${length}` : `"raw":{"length":${length}}`;
}

function appError(code: number | bigint, qvis: boolean): string {
  return qvis ? `,"error_code":${num(code)}` : `,"error":"unknown","error_code":${num(code)}`;
}

function streamType(bidirectional: boolean): string {
  return bidirectional ? '"bidirectional"' : '"unidirectional"';
}

function tupleEndpoint(endpoint: QlogEndpoint | undefined, cid: Uint8Array | undefined): string {
  let s = '';
  if (endpoint !== undefined) {
    const v6 = endpoint.address.includes(':');
    s = add(s, v6 ? 'ip_v6' : 'ip_v4', str(endpoint.address));
    s = add(s, v6 ? 'port_v6' : 'port_v4', num(endpoint.port));
  }
  if (cid !== undefined) s = add(s, 'connection_ids', `[${hex(cid)}]`);
  return `{${s}}`;
}

function preferredAddress(p: PreferredAddress): string {
  const v4 = Array.from(p.ipv4Address).join('.');
  let v6 = '';
  for (let i = 0; i < 16; i += 2) v6 += (i === 0 ? '' : ':') + (((p.ipv6Address[i] ?? 0) << 8) | (p.ipv6Address[i + 1] ?? 0)).toString(16);
  return (
    `{"ip_v4":"${v4}","port_v4":${num(p.ipv4Port)},"ip_v6":"${v6}","port_v6":${num(p.ipv6Port)}` +
    `,"connection_id":${hex(p.connectionId)},"stateless_reset_token":${hex(p.statelessResetToken)}}`
  );
}

/** qlog TransportError strings (quic-events "TransportError", "CryptoError"), indexed by RFC 9000 §20.1 code. */
const TRANSPORT_ERRORS = [
  'no_error',
  'internal_error',
  'connection_refused',
  'flow_control_error',
  'stream_limit_error',
  'stream_state_error',
  'final_size_error',
  'frame_encoding_error',
  'transport_parameter_error',
  'connection_id_limit_error',
  'protocol_violation',
  'invalid_token',
  'application_error',
  'crypto_buffer_exceeded',
  'key_update_error',
  'aead_limit_reached',
  'no_viable_path',
] as const;

function transportErrorName(code: number | bigint): string {
  const n = Number(code);
  if (n >= 0x100 && n <= 0x1ff) return `crypto_error_0x${n.toString(16)}`;
  return TRANSPORT_ERRORS[n] ?? 'unknown';
}

const PACKET_TYPES: Record<QlogPacketType, string> = {
  initial: '"initial"',
  handshake: '"handshake"',
  '0rtt': '"0RTT"',
  '1rtt': '"1RTT"',
  retry: '"retry"',
  version_negotiation: '"version_negotiation"',
  stateless_reset: '"stateless_reset"',
  unknown: '"unknown"',
};

function packetTypeJson(type: QlogPacketType): string {
  return PACKET_TYPES[type] ?? '"unknown"';
}

const utf8Decoder = new TextDecoder();

/** Appends `"key":value` to an object body. */
function add(body: string, key: string, value: string): string {
  return `${body}${body === '' ? '' : ','}"${key}":${value}`;
}

function addNum(body: string, key: string, value: number | undefined): string {
  return value === undefined ? body : add(body, key, num(value));
}

function addHex(body: string, key: string, value: Uint8Array | undefined): string {
  return value === undefined ? body : add(body, key, hex(value));
}

/** A JSON number; non-finite values (not representable in JSON) become null. */
function num(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  return Number.isFinite(value) ? String(value) : 'null';
}

function bool(value: boolean): string {
  return value ? 'true' : 'false';
}

function str(value: string): string {
  return JSON.stringify(value);
}

function hex(bytes: Uint8Array): string {
  return `"${toHex(bytes)}"`;
}

function versionHex(version: number): string {
  return `"${(version >>> 0).toString(16).padStart(8, '0')}"`;
}

const HEX_DIGITS = '0123456789abcdef';

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (HEX_DIGITS[b >> 4] ?? '') + (HEX_DIGITS[b & 15] ?? '');
  return s;
}

/** JSON.stringify cannot write bigints: they become marked strings that are unquoted afterwards. */
const BIGINT_MARK = /"__qlog_bigint__(-?\d+)"/g;

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `__qlog_bigint__${value.toString()}`;
  if (value instanceof Uint8Array) return toHex(value);
  return value;
}

function requireTime(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new QlogError(`${name} must be a finite time in milliseconds, got ${String(value)}`);
  }
  return value;
}
