import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuicCodecError, QuicEncodeError, TransportErrorCode } from '../src/errors.js';
import { VARINT_MAX, encodeVarint } from '../src/varint.js';
import {
  DEFAULT_TRANSPORT_PARAMETERS,
  TransportParameterId,
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  isReservedTransportParameterId,
} from '../src/transport-params.js';
import type {
  PreferredAddress,
  TransportParameterSender,
  TransportParameters,
  UnknownTransportParameter,
} from '../src/transport-params.js';
import { vectors } from './vectors.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs `fn` and checks it threw QuicCodecError(TRANSPORT_PARAMETER_ERROR) with a message matching `pattern`. */
function expectTpError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(QuicCodecError);
  expect((err as QuicCodecError).code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  expect((err as QuicCodecError).message).toMatch(pattern);
}

/** Small deterministic PRNG (mulberry32) filling byte arrays, for reproducible GREASE tests. */
function mulberry32(seed: number): (out: Uint8Array) => void {
  let state = seed >>> 0;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) & 0xff;
    }
  };
}

const decodeHex = (s: string, sender: TransportParameterSender = 'server') => decodeTransportParameters(hex(s), sender);

/** One parameter: id, length, value, all as hex (id and length as minimal varints). */
function param(id: number | bigint, valueHex: string): string {
  return toHex(encodeVarint(id)) + toHex(encodeVarint(valueHex.length / 2)) + valueHex;
}

describe('transport parameters: RFC 9001 App. A client Initial', () => {
  // The ClientHello in the CRYPTO frame carries extension 0x0039 (quic_transport_parameters) of length 0x0032.
  const crypto = vectors.client_initial_packet.crypto_frame_plaintext;
  const marker = crypto.indexOf('00390032');
  const body = crypto.slice(marker + 8, marker + 8 + 0x32 * 2);

  it('finds the extension body that the RFC shows', () => {
    expect(marker).toBeGreaterThan(0);
    expect(body).toBe(
      '0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff',
    );
  });

  it('decodes every field', () => {
    const tp = decodeTransportParameters(hex(body), 'client');
    expect(tp).toEqual({
      ...defaultTransportParameters(),
      // 0x3fffffffffffffff saturates to 2^53-1 (limits policy, varint.ts).
      initialMaxData: Number.MAX_SAFE_INTEGER,
      initialMaxStreamDataBidiLocal: 0xffff,
      initialMaxStreamDataBidiRemote: 0xffff,
      initialMaxStreamDataUni: 0xffff,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: hex('8394c8f03e515708'),
    });
    expect(tp.maxUdpPayloadSize).toBe(65527);
    expect(tp.ackDelayExponent).toBe(3);
    expect(tp.maxAckDelay).toBe(25);
    expect(tp.activeConnectionIdLimit).toBe(2);
    expect(tp.originalDestinationConnectionId).toBeUndefined();
    expect(tp.unknown).toEqual([]);
  });

  it('re-encodes to an equivalent block', () => {
    const tp = decodeTransportParameters(hex(body), 'client');
    const again = encodeTransportParameters(tp, { sender: 'client' });
    expect(decodeTransportParameters(again, 'client')).toEqual(tp);
    // Same parameters, written in id order; 2^53-1 now needs 8 bytes as well.
    expect(toHex(again)).toBe(
      '010480007530' +
        '0408c01fffffffffffff' +
        '05048000ffff' +
        '06048000ffff' +
        '07048000ffff' +
        '080110' +
        '090110' +
        '0f088394c8f03e515708',
    );
  });
});

describe('transport parameters: a realistic server block', () => {
  const preferredAddress =
    'c0000201' + '1151' + '20010db8000000000000000000000001' + '115b' + '08' + '0102030405060708' +
    'ffeeddccbbaa99887766554433221100';
  const block =
    '0008 8394c8f03e515708' + // original_destination_connection_id
    '0104 80007530' + // max_idle_timeout 30000
    '0210 00112233445566778899aabbccddeeff' + // stateless_reset_token
    '0302 45c0' + // max_udp_payload_size 1472
    '3a03 616263' + // reserved GREASE id 31*1+27
    '0404 80100000' + // initial_max_data 1 MiB
    '0504 80040000' +
    '0604 80040000' +
    '0704 80040000' +
    '0801 20' + // initial_max_streams_bidi 32
    '0901 03' +
    '0a01 08' + // ack_delay_exponent 8
    '0b01 14' + // max_ack_delay 20
    '0c00' + // disable_active_migration
    '0d31' + preferredAddress +
    '0e01 04' + // active_connection_id_limit 4
    '0f08 f067a5502a4262b5' + // initial_source_connection_id
    '1004 deadbeef' + // retry_source_connection_id
    '110c 00000001 6b3343cf 00000001' + // version_information: chosen v1, available v2, v1
    '2004 8000ffff' + // max_datagram_frame_size 65535
    '3e01 03' + // initial_max_path_id 3
    '6ab2 00' + // grease_quic_bit
    '80ff73db 04 00000001'; // version_information's draft codepoint: not interpreted

  it('decodes every field', () => {
    const tp = decodeHex(block, 'server');
    const expected: TransportParameters = {
      originalDestinationConnectionId: hex('8394c8f03e515708'),
      maxIdleTimeout: 30000,
      statelessResetToken: hex('00112233445566778899aabbccddeeff'),
      maxUdpPayloadSize: 1472,
      initialMaxData: 1 << 20,
      initialMaxStreamDataBidiLocal: 1 << 18,
      initialMaxStreamDataBidiRemote: 1 << 18,
      initialMaxStreamDataUni: 1 << 18,
      initialMaxStreamsBidi: 32,
      initialMaxStreamsUni: 3,
      ackDelayExponent: 8,
      maxAckDelay: 20,
      disableActiveMigration: true,
      preferredAddress: {
        ipv4Address: hex('c0000201'),
        ipv4Port: 4433,
        ipv6Address: hex('20010db8000000000000000000000001'),
        ipv6Port: 4443,
        connectionId: hex('0102030405060708'),
        statelessResetToken: hex('ffeeddccbbaa99887766554433221100'),
      },
      activeConnectionIdLimit: 4,
      initialSourceConnectionId: hex('f067a5502a4262b5'),
      retrySourceConnectionId: hex('deadbeef'),
      versionInformation: { chosenVersion: 1, availableVersions: [0x6b3343cf, 1] },
      maxDatagramFrameSize: 65535,
      greaseQuicBit: true,
      initialMaxPathId: 3,
      unknown: [
        { id: 58, value: hex('616263') },
        { id: 0xff73db, value: hex('00000001') },
      ],
    };
    expect(tp).toStrictEqual(expected);
  });

  it('returns copies, not views of the input', () => {
    const bytes = hex(block);
    const tp = decodeTransportParameters(bytes, 'server');
    bytes.fill(0xaa);
    expect(tp.initialSourceConnectionId).toEqual(hex('f067a5502a4262b5'));
    expect(tp.preferredAddress?.connectionId).toEqual(hex('0102030405060708'));
    expect(tp.unknown[0]?.value).toEqual(hex('616263'));
  });

  it('round-trips through the encoder', () => {
    const tp = decodeHex(block, 'server');
    expect(decodeTransportParameters(encodeTransportParameters(tp, { sender: 'server' }), 'server')).toStrictEqual(tp);
  });
});

describe('decodeTransportParameters: defaults, unknown ids, integer encodings', () => {
  it('an empty block yields the RFC 9000 §18.2 defaults', () => {
    const tp = decodeTransportParameters(new Uint8Array(0), 'client');
    expect(tp).toStrictEqual(defaultTransportParameters());
    expect(tp).toEqual(DEFAULT_TRANSPORT_PARAMETERS);
    expect(tp.maxUdpPayloadSize).toBe(65527);
    expect(tp.ackDelayExponent).toBe(3);
    expect(tp.maxAckDelay).toBe(25);
    expect(tp.activeConnectionIdLimit).toBe(2);
  });

  it('defaultTransportParameters() returns independent copies; the constant is frozen', () => {
    const a = defaultTransportParameters();
    a.unknown.push({ id: 27, value: new Uint8Array(0) });
    a.maxIdleTimeout = 5;
    expect(defaultTransportParameters().unknown).toEqual([]);
    expect(defaultTransportParameters().maxIdleTimeout).toBe(0);
    expect(Object.isFrozen(DEFAULT_TRANSPORT_PARAMETERS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TRANSPORT_PARAMETERS.unknown)).toBe(true);
  });

  it('ignores GREASE ids (31*N+27) and unknown ids, keeping them for inspection', () => {
    const tp = decodeHex(
      param(27, '') + param(31 * 1000 + 27, 'ff') + param(0x2ab3, '0102') + param(VARINT_MAX, 'aa') + param(1, '05'),
      'client',
    );
    expect(tp.maxIdleTimeout).toBe(5);
    expect(tp.unknown).toEqual<UnknownTransportParameter[]>([
      { id: 27, value: hex('') },
      { id: 31027, value: hex('ff') },
      { id: 0x2ab3, value: hex('0102') },
      { id: VARINT_MAX, value: hex('aa') },
    ]);
    expect(isReservedTransportParameterId(27)).toBe(true);
    expect(isReservedTransportParameterId(31027)).toBe(true);
    expect(isReservedTransportParameterId(31n * (1n << 55n) + 27n)).toBe(true);
    expect(isReservedTransportParameterId(28)).toBe(false);
    expect(isReservedTransportParameterId(0)).toBe(false);
  });

  it('keeps unknown ids exact: numbers up to 2^53-1, bigints above', () => {
    const big = (1n << 53n) + 5n;
    const tp = decodeHex(param(Number.MAX_SAFE_INTEGER, '') + param(big, '01'));
    expect(tp.unknown.map((u) => u.id)).toEqual([Number.MAX_SAFE_INTEGER, big]);
  });

  it('accepts non-minimal varints in ids, lengths and integer values (RFC 9000 §16)', () => {
    // id 0x4001 = max_idle_timeout, length 0x4002, value 0x4007 = 7.
    expect(decodeHex('4001 4002 4007').maxIdleTimeout).toBe(7);
    expect(decodeHex('0a08 c000000000000014').ackDelayExponent).toBe(20);
  });

  it('saturates integer limits above 2^53-1 to Number.MAX_SAFE_INTEGER', () => {
    const max = 'ffffffffffffffff';
    const tp = decodeHex(
      ['01', '03', '04', '05', '06', '07', '0e', '20'].map((id) => `${id}08${max}`).join('') +
        '0808 d000000000000000' + // initial_max_streams_bidi = 2^60 exactly: allowed
        '0908 c020000000000000', // initial_max_streams_uni = 2^53
      'client',
    );
    expect(tp.maxIdleTimeout).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.maxUdpPayloadSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxData).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxStreamDataBidiLocal).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxStreamDataBidiRemote).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxStreamDataUni).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.activeConnectionIdLimit).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.maxDatagramFrameSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxStreamsBidi).toBe(Number.MAX_SAFE_INTEGER);
    expect(tp.initialMaxStreamsUni).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('accepts the boundary values', () => {
    const tp = decodeHex('0302 44b0' + '0a01 14' + '0b02 7fff' + '0e01 02' + '3e04 bfffffff' + '2001 00', 'client');
    expect(tp.maxUdpPayloadSize).toBe(1200);
    expect(tp.ackDelayExponent).toBe(20);
    expect(tp.maxAckDelay).toBe(16383);
    expect(tp.activeConnectionIdLimit).toBe(2);
    expect(tp.initialMaxPathId).toBe(0x3fffffff);
    expect(tp.maxDatagramFrameSize).toBe(0);
    expect(decodeHex('3e08 c0000000ffffffff').initialMaxPathId).toBe(0xffffffff);
    expect(decodeHex('3e01 00').initialMaxPathId).toBe(0);
  });

  it('accepts zero-length connection IDs and 20-byte ones', () => {
    const cid20 = '11'.repeat(20);
    const tp = decodeHex('0000' + '0f00' + param(0x10, cid20), 'server');
    expect(tp.originalDestinationConnectionId).toEqual(new Uint8Array(0));
    expect(tp.initialSourceConnectionId).toEqual(new Uint8Array(0));
    expect(tp.retrySourceConnectionId).toEqual(hex(cid20));
  });

  it('server-sent version_information may omit the chosen version or list no available versions (RFC 9368 §3)', () => {
    expect(decodeHex('1104 00000001', 'server').versionInformation).toEqual({ chosenVersion: 1, availableVersions: [] });
    expect(decodeHex('1108 00000001 6b3343cf', 'server').versionInformation).toEqual({
      chosenVersion: 1,
      availableVersions: [0x6b3343cf],
    });
    expect(decodeHex('110c 00000001 1a2a3a4a 00000001', 'client').versionInformation).toEqual({
      chosenVersion: 1,
      availableVersions: [0x1a2a3a4a, 1],
    });
  });
});

describe('decodeTransportParameters: validation (TRANSPORT_PARAMETER_ERROR)', () => {
  it('rejects a duplicate parameter (RFC 9000 §7.4), known or unknown', () => {
    expectTpError(() => decodeHex('0101 05' + '0101 06'), /max_idle_timeout appears more than once/);
    expectTpError(() => decodeHex('0c00 3a00 0c00'), /disable_active_migration appears more than once/);
    expectTpError(() => decodeHex('6ab200 6ab200'), /grease_quic_bit appears more than once/);
    expectTpError(() => decodeHex('3a00 3a01 00'), /transport parameter 0x3a appears more than once/);
    // A non-minimal encoding of the same id is still the same parameter.
    expectTpError(() => decodeHex('0101 05' + '4001 01 06'), /max_idle_timeout appears more than once/);
  });

  it('rejects server-only parameters from a client and accepts them from a server (RFC 9000 §18.2)', () => {
    const cases: Array<[string, RegExp]> = [
      ['0004 01020304', /original_destination_connection_id is a server-only parameter/],
      ['0210 00112233445566778899aabbccddeeff', /stateless_reset_token is a server-only parameter/],
      [
        '0d31 c0000201 1151 20010db8000000000000000000000001 115b 08 0102030405060708 ffeeddccbbaa99887766554433221100',
        /preferred_address is a server-only parameter/,
      ],
      ['1004 01020304', /retry_source_connection_id is a server-only parameter/],
    ];
    for (const [block, pattern] of cases) {
      expectTpError(() => decodeHex(block, 'client'), pattern);
      expect(() => decodeHex(block, 'server')).not.toThrow();
    }
  });

  it('rejects max_udp_payload_size below 1200', () => {
    expectTpError(() => decodeHex('0302 44af'), /max_udp_payload_size: 1199 is below 1200/);
    expectTpError(() => decodeHex('0301 00'), /max_udp_payload_size: 0 is below 1200/);
  });

  it('rejects ack_delay_exponent above 20', () => {
    expectTpError(() => decodeHex('0a01 15'), /ack_delay_exponent: 21 exceeds 20/);
    expectTpError(() => decodeHex('0a08 ffffffffffffffff'), /ack_delay_exponent: \d+ exceeds 20/);
  });

  it('rejects max_ack_delay of 2^14 or more', () => {
    expectTpError(() => decodeHex('0b04 80004000'), /max_ack_delay: 16384 is not below 2\^14/);
    expectTpError(() => decodeHex('0b08 ffffffffffffffff'), /max_ack_delay/);
  });

  it('rejects active_connection_id_limit below 2', () => {
    expectTpError(() => decodeHex('0e01 00'), /active_connection_id_limit: 0 is below 2/);
    expectTpError(() => decodeHex('0e01 01'), /active_connection_id_limit: 1 is below 2/);
  });

  it('rejects initial_max_streams_bidi/uni above 2^60', () => {
    expectTpError(() => decodeHex('0808 d000000000000001'), /initial_max_streams_bidi: \d+ exceeds 2\^60/);
    expectTpError(() => decodeHex('0908 ffffffffffffffff'), /initial_max_streams_uni: \d+ exceeds 2\^60/);
  });

  it('rejects a stateless_reset_token that is not 16 bytes', () => {
    expectTpError(() => decodeHex(param(2, '00'.repeat(15))), /stateless_reset_token: 15 bytes, expected 16/);
    expectTpError(() => decodeHex(param(2, '00'.repeat(17))), /stateless_reset_token: 17 bytes, expected 16/);
    expectTpError(() => decodeHex('0200'), /stateless_reset_token: 0 bytes, expected 16/);
  });

  it('rejects connection IDs longer than 20 bytes', () => {
    const cid21 = '22'.repeat(21);
    expectTpError(() => decodeHex(param(0x00, cid21)), /original_destination_connection_id: connection ID of 21 bytes/);
    expectTpError(() => decodeHex(param(0x0f, cid21)), /initial_source_connection_id: connection ID of 21 bytes/);
    expectTpError(() => decodeHex(param(0x10, cid21)), /retry_source_connection_id: connection ID of 21 bytes/);
  });

  it('rejects a malformed preferred_address or one with a zero-length connection ID', () => {
    const v4 = 'c0000201 1151';
    const v6 = '20010db8000000000000000000000001 115b';
    const token = 'ffeeddccbbaa99887766554433221100';
    const pa = (body: string) => decodeHex(param(0x0d, body.replace(/\s+/g, '')));
    expect(pa(`${v4} ${v6} 01 aa ${token}`).preferredAddress?.connectionId).toEqual(hex('aa'));
    expect(pa(`${v4} ${v6} 14 ${'bb'.repeat(20)} ${token}`).preferredAddress?.connectionId).toEqual(hex('bb'.repeat(20)));
    expectTpError(() => pa(`${v4} ${v6} 00 ${token}`), /preferred_address: zero-length connection ID/);
    expectTpError(() => pa(`${v4} ${v6} 15 ${'bb'.repeat(21)} ${token}`), /preferred_address: connection ID length 21/);
    expectTpError(() => pa(`${v4} ${v6} 02 aabb ${token.slice(2)}`), /preferred_address: 42 bytes, expected 43/);
    expectTpError(() => pa(`${v4} ${v6} 02 aabb ${token} 00`), /preferred_address: 44 bytes, expected 43/);
    expectTpError(() => pa(`${v4} ${v6}`), /preferred_address: truncated \(24 bytes\)/);
    expectTpError(() => pa(''), /preferred_address: truncated \(0 bytes\)/);
  });

  it('rejects a non-empty disable_active_migration or grease_quic_bit', () => {
    expectTpError(() => decodeHex('0c01 00'), /disable_active_migration: value must be empty, got 1 bytes/);
    expectTpError(() => decodeHex('6ab2 02 0000'), /grease_quic_bit: value must be empty, got 2 bytes/);
  });

  it('rejects a malformed version_information (RFC 9368 §4)', () => {
    expectTpError(() => decodeHex('1100'), /version_information: length 0 is not a positive multiple of 4/);
    expectTpError(() => decodeHex('1103 000001'), /version_information: length 3 is not a positive multiple of 4/);
    expectTpError(() => decodeHex('1105 0000000100'), /version_information: length 5 is not a positive multiple of 4/);
    expectTpError(() => decodeHex('1108 00000000 00000001'), /version_information: chosen version is 0/);
    expectTpError(() => decodeHex('1108 00000001 00000000'), /version_information: available version 0/);
    // RFC 9368 §4: a server treats a client's chosen version missing from its available versions as a parse failure.
    expectTpError(
      () => decodeHex('1108 00000001 6b3343cf', 'client'),
      /version_information: client's chosen version 0x1 is not in its available versions/,
    );
  });

  it('rejects initial_max_path_id above 2^32-1 (draft-ietf-quic-multipath-21 §2)', () => {
    expectTpError(() => decodeHex('3e08 c000000100000000'), /initial_max_path_id: 4294967296 exceeds 2\^32-1/);
    expectTpError(() => decodeHex('3e08 ffffffffffffffff'), /initial_max_path_id: \d+ exceeds 2\^32-1/);
  });

  it('rejects an integer parameter whose length does not match its varint', () => {
    expectTpError(() => decodeHex('0102 0500'), /max_idle_timeout: value is 2 bytes but holds a 1-byte varint/);
    expectTpError(() => decodeHex('0401 40'), /initial_max_data: value is 1 bytes but holds a 2-byte varint/);
    expectTpError(() => decodeHex('2000'), /max_datagram_frame_size: empty value/);
    expectTpError(() => decodeHex('3e05 8000000100'), /initial_max_path_id: value is 5 bytes but holds a 4-byte varint/);
    expectTpError(() => decodeHex('0e03 400200'), /active_connection_id_limit: value is 3 bytes/);
  });

  it('rejects truncation of an id, a length or a value', () => {
    expectTpError(() => decodeHex('40'), /transport parameter id: truncated/);
    expectTpError(() => decodeHex('0101 05 c0000000'), /transport parameter id: truncated/);
    expectTpError(() => decodeHex('01'), /max_idle_timeout length: truncated/);
    expectTpError(() => decodeHex('0f 40'), /initial_source_connection_id length: truncated/);
    expectTpError(() => decodeHex('0f08 8394c8f03e5157'), /initial_source_connection_id value: truncated/);
    expectTpError(() => decodeHex('3a05 0102'), /transport parameter 0x3a value: truncated/);
    expectTpError(() => decodeHex('3a ffffffffffffffff'), /transport parameter 0x3a value: truncated/);
  });
});

describe('encodeTransportParameters', () => {
  it('writes nothing for defaults, explicit or implied', () => {
    expect(encodeTransportParameters({})).toEqual(new Uint8Array(0));
    expect(encodeTransportParameters(defaultTransportParameters())).toEqual(new Uint8Array(0));
    expect(encodeTransportParameters(DEFAULT_TRANSPORT_PARAMETERS)).toEqual(new Uint8Array(0));
    expect(
      encodeTransportParameters({ maxUdpPayloadSize: 65527, ackDelayExponent: 3, maxAckDelay: 25, activeConnectionIdLimit: 2 }),
    ).toEqual(new Uint8Array(0));
  });

  it('writes presence-meaningful parameters even when zero or empty, with minimal ids', () => {
    expect(toHex(encodeTransportParameters({ initialSourceConnectionId: new Uint8Array(0) }))).toBe('0f00');
    expect(toHex(encodeTransportParameters({ maxDatagramFrameSize: 0 }))).toBe('200100');
    expect(toHex(encodeTransportParameters({ initialMaxPathId: 0 }))).toBe('3e0100');
    expect(toHex(encodeTransportParameters({ greaseQuicBit: true }))).toBe('6ab200');
    expect(toHex(encodeTransportParameters({ disableActiveMigration: true }))).toBe('0c00');
    expect(toHex(encodeTransportParameters({ greaseQuicBit: false, disableActiveMigration: false }))).toBe('');
    expect(toHex(encodeTransportParameters({ versionInformation: { chosenVersion: 1, availableVersions: [] } }))).toBe(
      '110400000001',
    );
  });

  it('encodes known values byte for byte', () => {
    const out = encodeTransportParameters({
      maxIdleTimeout: 30000,
      maxUdpPayloadSize: 1472,
      initialMaxData: 1 << 20,
      initialMaxStreamsBidi: 100,
      ackDelayExponent: 0,
      initialSourceConnectionId: hex('c0ffee'),
      unknown: [{ id: 0x1b, value: hex('ab') }, { id: 1n << 60n, value: new Uint8Array(0) }],
    });
    expect(toHex(out)).toBe(
      '010480007530' + '030245c0' + '040480100000' + '08024064' + '0a0100' + '0f03c0ffee' + '1b01ab' +
        'd00000000000000000',
    );
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(out.length);
  });

  it('adds one GREASE parameter with a reserved id and random content from the injected source', () => {
    let calls = 0;
    const random = (out: Uint8Array) => {
      calls++;
      for (let i = 0; i < out.length; i++) out[i] = (i * 37 + calls * 11) & 0xff;
    };
    const out = encodeTransportParameters({ maxIdleTimeout: 1 }, { grease: true, random });
    const tp = decodeTransportParameters(out, 'client');
    expect(tp.maxIdleTimeout).toBe(1);
    expect(tp.unknown).toHaveLength(1);
    const grease = tp.unknown[0]!;
    expect(isReservedTransportParameterId(grease.id)).toBe(true);
    expect(grease.value.length).toBeLessThanOrEqual(16);
    expect(calls).toBe(grease.value.length > 0 ? 2 : 1);
    // Deterministic for a deterministic source.
    calls = 0;
    expect(encodeTransportParameters({ maxIdleTimeout: 1 }, { grease: true, random })).toEqual(out);
  });

  it('GREASE ids vary in size, never collide with caller-supplied parameters, and default to crypto randomness', () => {
    const ids = new Set<number | bigint>();
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const random = mulberry32(seed);
      const tp = decodeTransportParameters(encodeTransportParameters({}, { grease: true, random }), 'server');
      const g = tp.unknown[0]!;
      expect(isReservedTransportParameterId(g.id)).toBe(true);
      ids.add(g.id);
      lengths.add(encodeVarint(g.id).length);
    }
    expect(ids.size).toBeGreaterThan(100);
    expect(lengths).toEqual(new Set([1, 2, 4, 8]));

    // All-zero randomness picks id 27: a caller-supplied 27 forces the next reserved id.
    const zeros = (out: Uint8Array) => out.fill(0);
    const tp = decodeTransportParameters(
      encodeTransportParameters({ unknown: [{ id: 27, value: hex('01') }] }, { grease: true, random: zeros }),
      'server',
    );
    expect(tp.unknown.map((u) => u.id)).toEqual([27, 58]);

    const a = decodeTransportParameters(encodeTransportParameters({}, { grease: true }), 'server');
    expect(a.unknown).toHaveLength(1);
    expect(isReservedTransportParameterId(a.unknown[0]!.id)).toBe(true);
  });

  it('throws QuicEncodeError for bad lengths and out-of-range values', () => {
    const token = new Uint8Array(16);
    const pa: PreferredAddress = {
      ipv4Address: new Uint8Array(4),
      ipv4Port: 443,
      ipv6Address: new Uint8Array(16),
      ipv6Port: 443,
      connectionId: new Uint8Array(8),
      statelessResetToken: token,
    };
    const bad: Array<[Partial<TransportParameters>, RegExp]> = [
      [{ maxIdleTimeout: -1 }, /max_idle_timeout/],
      [{ maxIdleTimeout: 1.5 }, /max_idle_timeout/],
      [{ initialMaxData: 2 ** 53 }, /initial_max_data/],
      [{ initialMaxStreamsUni: Number.NaN }, /initial_max_streams_uni/],
      [{ maxUdpPayloadSize: 1199 }, /max_udp_payload_size/],
      [{ ackDelayExponent: 21 }, /ack_delay_exponent/],
      [{ maxAckDelay: 16384 }, /max_ack_delay/],
      [{ activeConnectionIdLimit: 1 }, /active_connection_id_limit/],
      [{ initialMaxPathId: 2 ** 32 }, /initial_max_path_id/],
      [{ maxDatagramFrameSize: -5 }, /max_datagram_frame_size/],
      [{ statelessResetToken: new Uint8Array(15) }, /stateless_reset_token must be 16 bytes/],
      [{ originalDestinationConnectionId: new Uint8Array(21) }, /original_destination_connection_id must be 0..20/],
      [{ initialSourceConnectionId: new Uint8Array(21) }, /initial_source_connection_id/],
      [{ retrySourceConnectionId: new Uint8Array(21) }, /retry_source_connection_id/],
      [{ preferredAddress: { ...pa, connectionId: new Uint8Array(0) } }, /preferred_address.connectionId must be 1..20/],
      [{ preferredAddress: { ...pa, ipv4Address: new Uint8Array(5) } }, /preferred_address.ipv4Address must be 4/],
      [{ preferredAddress: { ...pa, ipv6Address: new Uint8Array(4) } }, /preferred_address.ipv6Address must be 16/],
      [{ preferredAddress: { ...pa, ipv6Port: 65536 } }, /preferred_address.ipv6Port/],
      [{ preferredAddress: { ...pa, statelessResetToken: new Uint8Array(0) } }, /preferred_address.statelessResetToken/],
      [{ versionInformation: { chosenVersion: 0, availableVersions: [1] } }, /chosenVersion/],
      [{ versionInformation: { chosenVersion: 1, availableVersions: [0] } }, /availableVersions/],
      [{ versionInformation: { chosenVersion: 2 ** 32, availableVersions: [] } }, /chosenVersion/],
      [{ unknown: [{ id: 1, value: new Uint8Array(0) }] }, /max_idle_timeout cannot be passed in `unknown`/],
      [{ unknown: [{ id: 0x2ab2n, value: new Uint8Array(0) }] }, /grease_quic_bit cannot be passed/],
      [{ unknown: [{ id: -1, value: new Uint8Array(0) }] }, /not a varint/],
      [{ unknown: [{ id: 1n << 62n, value: new Uint8Array(0) }] }, /not a varint/],
      [
        { unknown: [{ id: 27, value: new Uint8Array(0) }, { id: 27n, value: new Uint8Array(1) }] },
        /0x1b appears twice/,
      ],
    ];
    for (const [params, pattern] of bad) {
      expect(() => encodeTransportParameters(params), JSON.stringify(params, (_k, v: unknown) => String(v))).toThrow(
        QuicEncodeError,
      );
      expect(() => encodeTransportParameters(params)).toThrow(pattern);
    }
    expect(() => encodeTransportParameters({ preferredAddress: pa })).not.toThrow();
  });

  it('with `sender: client`, refuses server-only parameters and a chosen version missing from availableVersions', () => {
    const cid = new Uint8Array(4);
    const pa: PreferredAddress = {
      ipv4Address: new Uint8Array(4),
      ipv4Port: 0,
      ipv6Address: new Uint8Array(16),
      ipv6Port: 0,
      connectionId: cid,
      statelessResetToken: new Uint8Array(16),
    };
    const serverOnly: Array<Partial<TransportParameters>> = [
      { originalDestinationConnectionId: cid },
      { statelessResetToken: new Uint8Array(16) },
      { preferredAddress: pa },
      { retrySourceConnectionId: cid },
    ];
    for (const p of serverOnly) {
      expect(() => encodeTransportParameters(p, { sender: 'client' })).toThrow(/server-only/);
      expect(() => encodeTransportParameters(p, { sender: 'server' })).not.toThrow();
      expect(() => encodeTransportParameters(p)).not.toThrow();
    }
    const vi = { chosenVersion: 1, availableVersions: [0x6b3343cf] };
    expect(() => encodeTransportParameters({ versionInformation: vi }, { sender: 'client' })).toThrow(QuicEncodeError);
    expect(() => encodeTransportParameters({ versionInformation: vi }, { sender: 'server' })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

const KNOWN_IDS = new Set<number>(Object.values(TransportParameterId));

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const limit = fc.oneof(fc.nat(63), fc.nat(16383), fc.nat(2 ** 30 - 1), fc.maxSafeNat());
const cid = bytes(0, 20);
const version = fc.integer({ min: 1, max: 0xffff_ffff });

const unknownArb: fc.Arbitrary<UnknownTransportParameter[]> = fc.uniqueArray(
  fc.record({
    id: fc
      .oneof(fc.nat(0x3fff), fc.bigInt({ min: 0n, max: VARINT_MAX }), fc.nat(100).map((n) => 31 * n + 27))
      .map((id) => (typeof id === 'bigint' && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id))
      .filter((id) => typeof id === 'bigint' || !KNOWN_IDS.has(id)),
    value: bytes(0, 24),
  }),
  { selector: (p) => p.id, maxLength: 5 },
);

const preferredAddressArb: fc.Arbitrary<PreferredAddress> = fc.record({
  ipv4Address: bytes(4, 4),
  ipv4Port: fc.nat(0xffff),
  ipv6Address: bytes(16, 16),
  ipv6Port: fc.nat(0xffff),
  connectionId: bytes(1, 20),
  statelessResetToken: bytes(16, 16),
});

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function paramsArb(sender: TransportParameterSender): fc.Arbitrary<TransportParameters> {
  const server = sender === 'server';
  return fc
    .record({
      originalDestinationConnectionId: server ? opt(cid) : fc.constant(undefined),
      maxIdleTimeout: limit,
      statelessResetToken: server ? opt(bytes(16, 16)) : fc.constant(undefined),
      maxUdpPayloadSize: fc.oneof(fc.integer({ min: 1200, max: 65527 }), fc.integer({ min: 1200, max: Number.MAX_SAFE_INTEGER })),
      initialMaxData: limit,
      initialMaxStreamDataBidiLocal: limit,
      initialMaxStreamDataBidiRemote: limit,
      initialMaxStreamDataUni: limit,
      initialMaxStreamsBidi: limit,
      initialMaxStreamsUni: limit,
      ackDelayExponent: fc.nat(20),
      maxAckDelay: fc.nat(16383),
      disableActiveMigration: fc.boolean(),
      preferredAddress: server ? opt(preferredAddressArb) : fc.constant(undefined),
      activeConnectionIdLimit: fc.oneof(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER })),
      initialSourceConnectionId: opt(cid),
      retrySourceConnectionId: server ? opt(cid) : fc.constant(undefined),
      versionInformation: opt(
        fc.record({ chosenVersion: version, availableVersions: fc.array(version, { maxLength: 4 }) }).map((vi) =>
          server || vi.availableVersions.includes(vi.chosenVersion)
            ? vi
            : { ...vi, availableVersions: [...vi.availableVersions, vi.chosenVersion] },
        ),
      ),
      maxDatagramFrameSize: opt(limit),
      greaseQuicBit: fc.boolean(),
      initialMaxPathId: opt(fc.oneof(fc.nat(8), fc.integer({ min: 0, max: 0xffff_ffff }))),
      unknown: unknownArb,
    })
    .map((p) => {
      // Absent optional parameters are absent keys, as the decoder produces them.
      const out = { ...p } as Record<string, unknown>;
      for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
      // fc.record builds null-prototype objects; clone into ordinary ones so toStrictEqual compares content only.
      return structuredClone(out) as unknown as TransportParameters;
    });
}

/** Decoding either succeeds or fails with TRANSPORT_PARAMETER_ERROR, never anything else. */
function decodesOrTpError(b: Uint8Array, sender: TransportParameterSender): void {
  try {
    decodeTransportParameters(b, sender);
  } catch (e) {
    if (!(e instanceof QuicCodecError) || e.code !== TransportErrorCode.TRANSPORT_PARAMETER_ERROR) throw e;
  }
}

const senderArb = fc.constantFrom<TransportParameterSender>('client', 'server');

describe('transport parameters: properties', () => {
  it('every valid parameter set round-trips through encode/decode (unknown included)', () => {
    fc.assert(
      fc.property(
        senderArb.chain((sender) => fc.tuple(fc.constant(sender), paramsArb(sender), fc.boolean())),
        ([sender, params, grease]) => {
          const encoded = encodeTransportParameters(params, { sender });
          expect(decodeTransportParameters(encoded, sender)).toStrictEqual(params);
          if (grease) {
            // One extra reserved parameter at the end, everything else unchanged.
            const greased = decodeTransportParameters(encodeTransportParameters(params, { sender, grease }), sender);
            expect(greased.unknown).toHaveLength(params.unknown.length + 1);
            expect(isReservedTransportParameterId(greased.unknown.at(-1)!.id)).toBe(true);
            expect({ ...greased, unknown: greased.unknown.slice(0, -1) }).toStrictEqual(params);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every truncation of a valid encoding decodes or fails with TRANSPORT_PARAMETER_ERROR', () => {
    fc.assert(
      fc.property(
        senderArb.chain((sender) => fc.tuple(fc.constant(sender), paramsArb(sender))),
        ([sender, params]) => {
          const encoded = encodeTransportParameters(params, { sender });
          for (let n = 0; n < encoded.length; n++) decodesOrTpError(encoded.subarray(0, n), sender);
          // Decoding as the other endpoint must be equally well-behaved.
          decodesOrTpError(encoded, sender === 'client' ? 'server' : 'client');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('random bytes decode or fail with TRANSPORT_PARAMETER_ERROR', () => {
    fc.assert(
      fc.property(bytes(0, 256), senderArb, (b, sender) => decodesOrTpError(b, sender)),
      { numRuns: 2000 },
    );
  });

  it('well-framed blocks with random values for known ids decode or fail with TRANSPORT_PARAMETER_ERROR', () => {
    const entry = fc.record({
      id: fc.oneof(fc.constantFrom(...KNOWN_IDS), fc.nat(0x50)),
      value: fc.oneof(bytes(0, 12), bytes(0, 60)),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), senderArb, (entries, sender) => {
        const block = hex(entries.map((e) => param(e.id, toHex(e.value))).join(''));
        decodesOrTpError(block, sender);
        // Flipping any one byte must not change that.
        for (let i = 0; i < block.length; i++) {
          const mutated = block.slice();
          mutated[i] = mutated[i]! ^ 0xff;
          decodesOrTpError(mutated, sender);
        }
      }),
      { numRuns: 500 },
    );
  });
});
