import type { Frame } from '@pathquic/wire-codec';
import { describe, expect, it } from 'vitest';
import {
  QLOG_DRAFT_EVENT_SCHEMA,
  QLOG_DRAFT_FILE_SCHEMA,
  QLOG_EVENT_NAMES,
  QlogError,
  QlogWriter,
  qlogFileName,
  type QlogFlavour,
  type QlogWriterOptions,
} from '../src/qlog.js';

const ODCID = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04]);
const REF = 5_000;

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed JSON is inspected loosely */
type Json = any;

function capture(flavour: QlogFlavour, extra: Partial<QlogWriterOptions> = {}) {
  const records: string[] = [];
  const writer = new QlogWriter({
    sink: (r) => records.push(r),
    flavour,
    vantagePoint: 'client',
    odcid: ODCID,
    referenceTime: REF,
    ...extra,
  });
  const parsed = (): Json[] =>
    records.map((r) => {
      expect(r.startsWith('\u001e')).toBe(true);
      expect(r.endsWith('\n')).toBe(true);
      const body = r.slice(1, -1);
      expect(body.includes('\u001e') || body.includes('\n')).toBe(false);
      return JSON.parse(body) as Json;
    });
  return { writer, records, parsed };
}

const ALL_FRAMES: Frame[] = [
  { type: 'padding', length: 900 },
  { type: 'ping' },
  { type: 'ack', largestAcknowledged: 10, ackDelay: 1000, ranges: [{ largest: 10, smallest: 8 }, { largest: 5, smallest: 5 }] },
  {
    type: 'ack',
    largestAcknowledged: 3,
    ackDelay: 0,
    ranges: [{ largest: 3, smallest: 0 }],
    ecn: { ect0: 4, ect1: 0, ce: 1 },
  },
  { type: 'reset_stream', streamId: 4, errorCode: 7n, finalSize: 100 },
  { type: 'stop_sending', streamId: 8, errorCode: 3 },
  { type: 'crypto', offset: 0, data: new Uint8Array(300) },
  { type: 'new_token', token: new Uint8Array(60) },
  { type: 'stream', streamId: 0, offset: 1200, fin: true, data: new Uint8Array(1000) },
  { type: 'stream', streamId: 4, offset: 0, fin: false, data: new Uint8Array(10) },
  { type: 'max_data', maximumData: 1 << 20 },
  { type: 'max_stream_data', streamId: 4, maximumStreamData: 65536 },
  { type: 'max_streams', bidirectional: true, maximumStreams: 100 },
  { type: 'data_blocked', limit: 5000 },
  { type: 'stream_data_blocked', streamId: 0, limit: 10 },
  { type: 'streams_blocked', bidirectional: false, limit: 3 },
  {
    type: 'new_connection_id',
    sequenceNumber: 1,
    retirePriorTo: 0,
    connectionId: Uint8Array.from([1, 2, 3, 4]),
    statelessResetToken: new Uint8Array(16).fill(0xab),
  },
  { type: 'retire_connection_id', sequenceNumber: 0 },
  { type: 'path_challenge', data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) },
  { type: 'path_response', data: Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]) },
  { type: 'connection_close', application: false, errorCode: 0x0a, frameType: 0x08, reason: new TextEncoder().encode('bad "stream"\n') },
  { type: 'connection_close', application: false, errorCode: 0x128, frameType: 0, reason: new Uint8Array(0) },
  { type: 'connection_close', application: true, errorCode: 0x101, frameType: 0, reason: new TextEncoder().encode('bye') },
  { type: 'handshake_done' },
  { type: 'datagram', data: new Uint8Array(42) },
  { type: 'path_ack', pathId: 1, largestAcknowledged: 2, ackDelay: 8, ranges: [{ largest: 2, smallest: 1 }] },
  { type: 'path_abandon', pathId: 1, errorCode: 0 },
  { type: 'path_status_backup', pathId: 1, sequenceNumber: 2 },
  { type: 'path_status_available', pathId: 1, sequenceNumber: 3 },
  {
    type: 'path_new_connection_id',
    pathId: 1,
    sequenceNumber: 0,
    retirePriorTo: 0,
    connectionId: Uint8Array.from([9]),
    statelessResetToken: new Uint8Array(16),
  },
  { type: 'path_retire_connection_id', pathId: 1, sequenceNumber: 0 },
  { type: 'max_path_id', maximumPathId: 4 },
  { type: 'paths_blocked', maximumPathId: 4 },
  { type: 'path_cids_blocked', pathId: 2, nextSequenceNumber: 5 },
];

/** Writes one of every helper's events. */
function writeSession(writer: QlogWriter): void {
  writer.connectionStarted(REF, {
    local: { address: '192.0.2.1', port: 50000 },
    remote: { address: '198.51.100.7', port: 443 },
    sourceCid: Uint8Array.from([1, 1, 1, 1]),
    destinationCid: ODCID,
    version: 1,
  });
  writer.parametersSet(REF + 1, 'local', { initialMaxData: 1 << 20, ackDelayExponent: 3, maxAckDelay: 25 });
  writer.packetSent(REF + 2, {
    packetType: 'initial',
    packetNumber: 0,
    length: 1200,
    payloadLength: 1160,
    version: 1,
    scid: Uint8Array.from([1, 1, 1, 1]),
    dcid: ODCID,
    tokenLength: 0,
    frames: [{ type: 'crypto', offset: 0, data: new Uint8Array(280) }, { type: 'padding', length: 880 }],
    datagramId: 0,
  });
  writer.metricsUpdated(REF + 2, { congestionWindow: 12000, bytesInFlight: 1200, ssthresh: Number.POSITIVE_INFINITY });
  writer.packetReceived(REF + 30, {
    packetType: 'initial',
    packetNumber: 0,
    length: 1200,
    frames: [{ type: 'ack', largestAcknowledged: 0, ackDelay: 0, ranges: [{ largest: 0, smallest: 0 }] }],
  });
  writer.metricsUpdated(REF + 30, { latestRtt: 28, minRtt: 28, smoothedRtt: 28, rttVariance: 14, bytesInFlight: 0 });
  writer.keyUpdated(REF + 31, { keyType: 'client_1rtt_secret', keyPhase: 0, trigger: 'tls' });
  writer.packetSent(REF + 40, { packetType: '1rtt', packetNumber: 1, length: 60, keyPhaseBit: false, spinBit: true });
  writer.packetLost(REF + 400, { packetType: '1rtt', packetNumber: 1, trigger: 'time_threshold' });
  writer.connectionClosed(REF + 500, { initiator: 'local', errorCode: 0, reason: 'done', trigger: 'application' });
}

describe('QlogWriter JSON-SEQ records', () => {
  it.each(['draft', 'qvis'] as const)('%s: every record is RS + JSON + LF, header first', (flavour) => {
    const { writer, parsed, records } = capture(flavour);
    writeSession(writer);
    const all = parsed();
    expect(all.length).toBe(11);
    expect(writer.recordsWritten).toBe(records.length);
    expect(all[0].trace).toBeDefined();
    expect(all[0].name).toBeUndefined();
    for (const e of all.slice(1)) {
      expect(typeof e.time).toBe('number');
      expect(typeof e.name).toBe('string');
      expect(typeof e.data).toBe('object');
    }
  });

  it.each(['draft', 'qvis'] as const)('%s: times are ms relative to the reference time and never decrease', (flavour) => {
    const { writer, parsed } = capture(flavour);
    writer.packetSent(REF + 12.3456, { packetType: '1rtt', packetNumber: 0, length: 50 });
    writer.packetSent(REF + 5, { packetType: '1rtt', packetNumber: 1, length: 50 }); // clock went back
    writer.packetSent(REF + 20, { packetType: '1rtt', packetNumber: 2, length: 50 });
    writer.packetSent(REF - 100, { packetType: '1rtt', packetNumber: 3, length: 50 });
    const times = parsed()
      .slice(1)
      .map((e: Json) => e.time as number);
    expect(times).toEqual([12.346, 12.346, 20, 20]);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] ?? 0);
  });

  it('a time before the reference time is written as 0', () => {
    const { writer, parsed } = capture('draft');
    writer.keyUpdated(REF - 10, { keyType: 'client_initial_secret', trigger: 'tls' });
    expect(parsed()[1].time).toBe(0);
  });

  it.each(['draft', 'qvis'] as const)('%s: all frame kinds serialize to valid JSON with frame_type', (flavour) => {
    const { writer, parsed } = capture(flavour);
    writer.packetReceived(REF, { packetType: '1rtt', packetNumber: 9, length: 1400, frames: ALL_FRAMES });
    const frames = parsed()[1].data.frames as Json[];
    expect(frames.length).toBe(ALL_FRAMES.length);
    frames.forEach((f, i) => expect(f.frame_type).toBe(ALL_FRAMES[i]?.type));
  });
});

describe('QlogWriter draft flavour (main-schema-14, quic-events-13)', () => {
  it('header: sequential file schema, quic-13 event schema, vantage point, ODCID group id, reference time', () => {
    const { parsed } = capture('draft', { wallClockReference: Date.UTC(2026, 11, 2, 12, 0, 0), description: 'test run' });
    const h = parsed()[0];
    expect(h.file_schema).toBe(QLOG_DRAFT_FILE_SCHEMA);
    expect(h.file_schema).toBe('urn:ietf:params:qlog:file:sequential');
    expect(h.serialization_format).toBe('application/qlog+json-seq');
    expect(h.trace.event_schemas).toEqual([QLOG_DRAFT_EVENT_SCHEMA]);
    expect(QLOG_DRAFT_EVENT_SCHEMA).toBe('urn:ietf:params:qlog:events:quic-13');
    expect(h.trace.vantage_point).toEqual({ name: 'pathquic', type: 'client' });
    expect(h.trace.common_fields.group_id).toBe('deadbeef01020304');
    expect(h.trace.title).toBe('client deadbeef01020304');
    expect(h.description).toBe('test run');
    expect(h.trace.common_fields.time_format).toBe('relative_to_epoch');
    expect(h.trace.common_fields.reference_time).toEqual({
      clock_type: 'monotonic',
      epoch: 'unknown',
      wall_clock_time: '2026-12-02T12:00:00.000Z',
    });
    expect(h.qlog_version).toBeUndefined();
  });

  it('uses the quic: names of the draft', () => {
    const { writer, parsed } = capture('draft');
    writeSession(writer);
    const names = parsed()
      .slice(1)
      .map((e: Json) => e.name as string);
    expect(names).toEqual([
      'quic:connection_started',
      'quic:parameters_set',
      'quic:packet_sent',
      'quic:recovery_metrics_updated',
      'quic:packet_received',
      'quic:recovery_metrics_updated',
      'quic:key_updated',
      'quic:packet_sent',
      'quic:packet_lost',
      'quic:connection_closed',
    ]);
    for (const n of names) expect(n.startsWith('quic:')).toBe(true);
    expect(Object.values(QLOG_EVENT_NAMES.draft).every((n) => n.startsWith('quic:'))).toBe(true);
  });

  it('event data follows quic-events-13 field names', () => {
    const { writer, parsed } = capture('draft');
    writeSession(writer);
    const [, started, params, sent, , , , key, sent1rtt, lost, closed] = parsed();
    expect(started.data).toEqual({
      local: { ip_v4: '192.0.2.1', port_v4: 50000, connection_ids: ['01010101'] },
      remote: { ip_v4: '198.51.100.7', port_v4: 443, connection_ids: ['deadbeef01020304'] },
    });
    expect(params.data).toEqual({ initiator: 'local', initial_max_data: 1048576, ack_delay_exponent: 3, max_ack_delay: 25 });
    expect(sent.data.header).toEqual({
      packet_type: 'initial',
      packet_number: 0,
      token: { raw: { length: 0 } },
      version: '00000001',
      scil: 4,
      scid: '01010101',
      dcil: 8,
      dcid: 'deadbeef01020304',
    });
    expect(sent.data.raw).toEqual({ length: 1200, payload_length: 1160 });
    expect(sent.data.datagram_id).toBe(0);
    expect(sent.data.frames).toEqual([
      { frame_type: 'crypto', offset: 0, raw: { length: 280 } },
      { frame_type: 'padding', raw: { length: 880, payload_length: 880 } },
    ]);
    expect(key.data).toEqual({ key_type: 'client_1rtt_secret', key_phase: 0, trigger: 'tls' });
    expect(sent1rtt.data.header).toEqual({ packet_type: '1RTT', packet_number: 1, key_phase_bit: false, spin_bit: true });
    expect(lost.data).toEqual({ header: { packet_type: '1RTT', packet_number: 1 }, trigger: 'time_threshold' });
    expect(closed.data).toEqual({ initiator: 'local', connection_error: 'no_error', reason: 'done', trigger: 'application' });
  });

  it('frames: ack ranges ascending with [n] for single packets, ack_delay in ms, errors by name', () => {
    const { writer, parsed } = capture('draft');
    writer.packetReceived(REF, { packetType: '1rtt', packetNumber: 9, length: 1400, frames: ALL_FRAMES });
    const f = parsed()[1].data.frames as Json[];
    // 1000 × 2^3 µs = 8 ms
    expect(f[2]).toEqual({ frame_type: 'ack', ack_delay: 8, acked_ranges: [[5], [8, 10]] });
    expect(f[3]).toEqual({ frame_type: 'ack', ack_delay: 0, acked_ranges: [[0, 3]], ect1: 0, ect0: 4, ce: 1 });
    expect(f[4]).toEqual({ frame_type: 'reset_stream', stream_id: 4, error: 'unknown', error_code: 7, final_size: 100 });
    expect(f[7]).toEqual({ frame_type: 'new_token', token: { raw: { length: 60 } } });
    expect(f[8]).toEqual({ frame_type: 'stream', stream_id: 0, offset: 1200, raw: { length: 1000 }, fin: true });
    expect(f[12]).toEqual({ frame_type: 'max_streams', stream_type: 'bidirectional', maximum: 100 });
    expect(f[16]).toEqual({
      frame_type: 'new_connection_id',
      sequence_number: 1,
      retire_prior_to: 0,
      connection_id_length: 4,
      connection_id: '01020304',
      stateless_reset_token: 'ab'.repeat(16),
    });
    expect(f[18]).toEqual({ frame_type: 'path_challenge', data: '0102030405060708' });
    expect(f[20]).toEqual({
      frame_type: 'connection_close',
      error_space: 'transport',
      error: 'protocol_violation',
      reason: 'bad "stream"\n',
      trigger_frame_type: 8,
    });
    expect(f[21]).toMatchObject({ error: 'crypto_error_0x128' });
    expect(f[22]).toEqual({
      frame_type: 'connection_close',
      error_space: 'application',
      error: 'unknown',
      error_code: 0x101,
      reason: 'bye',
    });
    expect(f[24]).toEqual({ frame_type: 'datagram', raw: { length: 42 } });
  });

  it('ack_delay uses the exponent of whoever sent the ACK, learnt from parameters_set', () => {
    const { writer, parsed } = capture('draft');
    writer.parametersSet(REF, 'remote', { ackDelayExponent: 10 });
    writer.parametersSet(REF, 'local', { ackDelayExponent: 0 });
    const ack: Frame = { type: 'ack', largestAcknowledged: 1, ackDelay: 2, ranges: [{ largest: 1, smallest: 1 }] };
    writer.packetReceived(REF, { packetType: '1rtt', packetNumber: 1, length: 40, frames: [ack] });
    writer.packetSent(REF, { packetType: '1rtt', packetNumber: 1, length: 40, frames: [ack] });
    const [, , , received, sent] = parsed();
    expect(received.data.frames[0].ack_delay).toBe(2.048);
    expect(sent.data.frames[0].ack_delay).toBe(0.002);
  });

  it('parameters_set writes CIDs and tokens as hex, the preferred address, unknown parameters', () => {
    const { writer, parsed } = capture('draft');
    writer.parametersSet(REF, 'remote', {
      originalDestinationConnectionId: ODCID,
      initialSourceConnectionId: Uint8Array.from([2]),
      retrySourceConnectionId: Uint8Array.from([3]),
      statelessResetToken: new Uint8Array(16),
      disableActiveMigration: true,
      greaseQuicBit: true,
      maxDatagramFrameSize: 1200,
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      preferredAddress: {
        ipv4Address: Uint8Array.from([203, 0, 113, 5]),
        ipv4Port: 4433,
        ipv6Address: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ipv6Port: 4434,
        connectionId: Uint8Array.from([7, 7]),
        statelessResetToken: new Uint8Array(16).fill(1),
      },
      unknown: [
        { id: 27, value: Uint8Array.from([0xff]) },
        { id: 2n ** 62n - 1n, value: new Uint8Array(0) },
      ],
    });
    const d = parsed()[1].data;
    expect(d.initiator).toBe('remote');
    expect(d.original_destination_connection_id).toBe('deadbeef01020304');
    expect(d.stateless_reset_token).toBe('00'.repeat(16));
    expect(d.disable_active_migration).toBe(true);
    expect(d.grease_quic_bit).toBe(true);
    expect(d.tls_cipher).toBe('TLS_AES_128_GCM_SHA256');
    expect(d.preferred_address).toEqual({
      ip_v4: '203.0.113.5',
      port_v4: 4433,
      ip_v6: '2001:db8:0:0:0:0:0:1',
      port_v6: 4434,
      connection_id: '0707',
      stateless_reset_token: '01'.repeat(16),
    });
    expect(d.unknown_parameters[0]).toEqual({ id: 27, value: 'ff' });
    expect(d.unknown_parameters[1].value).toBe('');
  });

  it('connection_closed maps transport codes to names, keeps unknown and application codes numeric', () => {
    const { writer, parsed } = capture('draft');
    writer.connectionClosed(REF, { initiator: 'remote', errorCode: 0x0b });
    writer.connectionClosed(REF, { initiator: 'remote', errorCode: 0x178 });
    writer.connectionClosed(REF, { initiator: 'remote', errorCode: 0x4242 });
    writer.connectionClosed(REF, { initiator: 'local', errorCode: 0x10c, application: true, trigger: 'application' });
    writer.connectionClosed(REF, { initiator: 'local', trigger: 'idle_timeout' });
    expect(parsed().slice(1).map((e: Json) => e.data)).toEqual([
      { initiator: 'remote', connection_error: 'invalid_token' },
      { initiator: 'remote', connection_error: 'crypto_error_0x178' },
      { initiator: 'remote', connection_error: 'unknown', error_code: 0x4242 },
      { initiator: 'local', application_error: 'unknown', error_code: 0x10c, trigger: 'application' },
      { initiator: 'local', trigger: 'idle_timeout' },
    ]);
  });
});

describe('QlogWriter qvis flavour (qlog 0.3, quic-facts §8.2)', () => {
  const QVIS_VERSIONS = ['draft-02', 'draft-02-RC1', 'qlog-03-WIP', '0.3'];
  const QVIS_CATEGORIES = ['transport', 'recovery', 'connectivity', 'security'];

  it('header: qlog_version and qlog_format JSON-SEQ within the first 1024 characters, trace present', () => {
    const { writer, records, parsed } = capture('qvis', { title: 'x'.repeat(5000), description: 'y'.repeat(5000) });
    writeSession(writer);
    const first1024 = records.join('').slice(0, 1024);
    expect(first1024).toContain('"qlog_version":"0.3"');
    expect(first1024).toContain('"qlog_format":"JSON-SEQ"');
    const h = parsed()[0];
    // textsequencejsontoqlog.ts: aborts unless qlog_version, qlog_format === "JSON-SEQ" and trace are present.
    expect(QVIS_VERSIONS).toContain(h.qlog_version);
    expect(h.qlog_format).toBe('JSON-SEQ');
    expect(h.trace).toBeDefined();
    expect(h.trace.vantage_point.type).toBe('client');
    expect(h.trace.common_fields.ODCID).toBe('deadbeef01020304');
    expect(h.trace.common_fields.group_id).toBe('deadbeef01020304');
    expect(h.trace.common_fields.time_format).toBe('relative');
    expect(typeof h.trace.common_fields.reference_time).toBe('number');
    expect(h.file_schema).toBeUndefined();
  });

  it('reference_time is the wall clock in ms when given', () => {
    const { parsed } = capture('qvis', { wallClockReference: 1_764_676_800_000 });
    expect(parsed()[0].trace.common_fields.reference_time).toBe(1_764_676_800_000);
  });

  it('uses the category:type names qvis knows', () => {
    const { writer, parsed } = capture('qvis');
    writeSession(writer);
    const events = parsed().slice(1);
    expect(events.map((e: Json) => e.name)).toEqual([
      'connectivity:connection_started',
      'transport:parameters_set',
      'transport:packet_sent',
      'recovery:metrics_updated',
      'transport:packet_received',
      'recovery:metrics_updated',
      'security:key_updated',
      'transport:packet_sent',
      'recovery:packet_lost',
      'connectivity:connection_closed',
    ]);
    for (const e of events) expect(QVIS_CATEGORIES).toContain(String(e.name).split(':')[0]);
  });

  it('packets carry data.header.packet_type, data.header.packet_number and data.raw.length', () => {
    const { writer, parsed } = capture('qvis');
    writeSession(writer);
    const packets = parsed()
      .slice(1)
      .filter((e: Json) => e.name === 'transport:packet_sent' || e.name === 'transport:packet_received');
    expect(packets.length).toBe(3);
    for (const p of packets) {
      expect(typeof p.data.header.packet_type).toBe('string');
      expect(typeof p.data.header.packet_number).toBe('number');
      expect(typeof p.data.raw.length).toBe('number');
      expect(p.data.header.packet_size).toBeUndefined();
      expect(p.data.packet_type).toBeUndefined();
    }
    const lost = parsed().find((e: Json) => e.name === 'recovery:packet_lost');
    expect(lost.data.header.packet_number).toBe(1);
  });

  it('metrics_updated carries the fields the congestion graph reads', () => {
    const { writer, parsed } = capture('qvis');
    writeSession(writer);
    const metrics = parsed().filter((e: Json) => e.name === 'recovery:metrics_updated');
    expect(metrics[0].data).toEqual({ congestion_window: 12000, bytes_in_flight: 1200 });
    expect(metrics[1].data).toEqual({ min_rtt: 28, smoothed_rtt: 28, latest_rtt: 28, rtt_variance: 14, bytes_in_flight: 0 });
  });

  it('frames use qlog 0.3 fields: ack ranges as pairs, plain lengths, owner, generation', () => {
    const { writer, parsed } = capture('qvis');
    writer.packetReceived(REF, { packetType: '1rtt', packetNumber: 9, length: 1400, frames: ALL_FRAMES });
    writer.parametersSet(REF, 'remote', { initialMaxData: 10 });
    writer.keyUpdated(REF, { keyType: 'server_1rtt_secret', keyPhase: 1, trigger: 'remote_update' });
    writer.connectionClosed(REF, { initiator: 'remote', errorCode: 0x0a, reason: 'oops' });
    writer.connectionClosed(REF, { initiator: 'local', errorCode: 5, application: true });
    const [, packet, params, key, closed, appClosed] = parsed();
    const f = packet.data.frames as Json[];
    expect(f[2]).toEqual({ frame_type: 'ack', ack_delay: 8, acked_ranges: [[5, 5], [8, 10]] });
    expect(f[6]).toEqual({ frame_type: 'crypto', offset: 0, length: 300 });
    expect(f[8]).toEqual({ frame_type: 'stream', stream_id: 0, offset: 1200, length: 1000, fin: true });
    expect(f[10]).toEqual({ frame_type: 'max_data', maximum: 1048576 });
    expect(f[11]).toEqual({ frame_type: 'max_stream_data', stream_id: 4, maximum: 65536 });
    expect(f[20]).toMatchObject({ error_space: 'transport', error_code: 10, raw_error_code: 10 });
    expect(params.data).toEqual({ owner: 'remote', initial_max_data: 10 });
    expect(key.data).toEqual({ key_type: 'server_1rtt_secret', generation: 1, trigger: 'remote_update' });
    expect(closed.data).toEqual({ owner: 'remote', connection_code: 10, reason: 'oops' });
    expect(appClosed.data).toEqual({ owner: 'local', application_code: 5 });
  });

  it('connection_started uses the 0.3 src/dst fields', () => {
    const { writer, parsed } = capture('qvis');
    writer.connectionStarted(REF, {
      local: { address: '::1', port: 1 },
      remote: { address: '::2', port: 2 },
      sourceCid: Uint8Array.from([1]),
      destinationCid: Uint8Array.from([2]),
      version: 0x6b3343cf,
    });
    expect(parsed()[1].data).toEqual({
      ip_version: 'ipv6',
      src_ip: '::1',
      dst_ip: '::2',
      protocol: 'QUIC',
      src_port: 1,
      dst_port: 2,
      quic_version: '6b3343cf',
      src_cid: '01',
      dst_cid: '02',
    });
  });

  it('events are time-ordered as qvis requires', () => {
    const { writer, parsed } = capture('qvis');
    writeSession(writer);
    writer.packetSent(REF + 1, { packetType: '1rtt', packetNumber: 2, length: 40 }); // late, earlier timestamp
    const times = parsed()
      .slice(1)
      .map((e: Json) => e.time as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

describe('QlogWriter metrics, custom events, disabled', () => {
  it('metrics_updated writes only changed fields and nothing when none changed', () => {
    const { writer, parsed } = capture('draft');
    expect(writer.metricsUpdated(REF, { smoothedRtt: 10, congestionWindow: 1000, ptoCount: 0, pacingRate: 1e6 })).toBe(true);
    expect(writer.metricsUpdated(REF + 1, { smoothedRtt: 10, congestionWindow: 1000 })).toBe(false);
    expect(writer.metricsUpdated(REF + 2, { smoothedRtt: 12.5, congestionWindow: 1000, ptoCount: 1 })).toBe(true);
    expect(writer.metricsUpdated(REF + 3, { ssthresh: Number.POSITIVE_INFINITY, packetsInFlight: Number.NaN })).toBe(false);
    expect(writer.metricsUpdated(REF + 4, { ssthresh: 8000, packetsInFlight: 3 })).toBe(true);
    expect(parsed().slice(1).map((e: Json) => e.data)).toEqual([
      { smoothed_rtt: 10, pto_count: 0, congestion_window: 1000, pacing_rate: 1000000 },
      { smoothed_rtt: 12.5, pto_count: 1 },
      { ssthresh: 8000, packets_in_flight: 3 },
    ]);
  });

  it('custom events: names per flavour, escaped, Uint8Array as hex, bigint as number', () => {
    for (const flavour of ['draft', 'qvis'] as const) {
      const { writer, parsed } = capture(flavour);
      writer.event(
        REF,
        { draft: 'quic:packet_dropped', qvis: 'transport:packet_dropped' },
        { trigger: 'decryption_failure', raw: { length: 50, data: Uint8Array.from([0xab]) }, big: 2n ** 62n, note: 'a"b' },
      );
      const e = parsed()[1];
      expect(e.name).toBe(flavour === 'draft' ? 'quic:packet_dropped' : 'transport:packet_dropped');
      expect(e.data).toEqual({ trigger: 'decryption_failure', raw: { length: 50, data: 'ab' }, big: 2 ** 62, note: 'a"b' });
    }
  });

  it('disabled (no sink or enabled: false) writes nothing and skips all work', () => {
    for (const extra of [{ sink: undefined }, { enabled: false }] as Partial<QlogWriterOptions>[]) {
      const { writer, records } = capture('qvis', extra);
      expect(writer.enabled).toBe(false);
      writeSession(writer);
      // Even arguments that would be programmer errors are not looked at.
      writer.packetSent(Number.NaN, { packetType: '1rtt', packetNumber: 0, length: 1 });
      expect(writer.metricsUpdated(REF, { smoothedRtt: 1 })).toBe(false);
      expect(records).toEqual([]);
      expect(writer.recordsWritten).toBe(0);
    }
  });

  it('close() stops writing', () => {
    const { writer, records } = capture('draft');
    expect(writer.enabled).toBe(true);
    writer.close();
    expect(writer.enabled).toBe(false);
    writeSession(writer);
    expect(records.length).toBe(1);
  });

  it('programmer errors throw QlogError', () => {
    const { writer } = capture('draft');
    expect(() => writer.packetSent(Number.NaN, { packetType: '1rtt', packetNumber: 0, length: 1 })).toThrow(QlogError);
    expect(() => capture('draft', { referenceTime: Number.POSITIVE_INFINITY })).toThrow(QlogError);
    expect(() => capture('draft', { vantagePoint: 'network' as 'client' })).toThrow(QlogError);
    expect(() => capture('bogus' as QlogFlavour)).toThrow(QlogError);
  });

  it('qlogFileName follows the QLOGDIR convention', () => {
    expect(qlogFileName(ODCID, 'server')).toBe('deadbeef01020304_server.sqlog');
  });
});
