/**
 * QUIC transport parameters (RFC 9000 §7.4, §18): the body of the TLS `quic_transport_parameters` extension.
 *
 * Wire format (RFC 9000 §18): a sequence of `ID (i) | Length (i) | Value (Length bytes)`, in any order.
 *
 * Decoding policy:
 * - Every malformed or forbidden input throws QuicCodecError(TRANSPORT_PARAMETER_ERROR) whose message names the
 *   parameter; nothing else escapes (no RangeError, no out-of-bounds read).
 * - Integer limits whose value exceeds 2^53-1 (initial_max_data, max_idle_timeout, …) saturate to
 *   Number.MAX_SAFE_INTEGER, following the varint policy in varint.ts: a saturated limit is still far beyond anything
 *   reachable, so the connection behaves exactly as with the exact value. Range checks that the RFCs impose
 *   (e.g. initial_max_streams_* ≤ 2^60) are done on the exact value before saturating.
 * - Unknown ids (including reserved GREASE ids and draft codepoints) are never interpreted; they are kept in
 *   `unknown` with an exact id (a `bigint` only when above 2^53-1) for inspection and pass-through.
 * - Byte fields (connection IDs, tokens, addresses, unknown values) are copies, not views of the input: transport
 *   parameters live as long as the connection, while the TLS buffer they came from does not.
 *
 * Checks that need connection state are not done here and belong to the connection layer: connection ID
 * authentication and the mandatory presence of initial_source_connection_id / original_destination_connection_id
 * (RFC 9000 §7.3), version negotiation errors (RFC 9368 §4), and the multipath zero-length-CID rule.
 */
import { QuicEncodeError, transportParameterError } from './errors.js';
import { Reader, Writer } from './buffer.js';
import { VARINT_MAX, decodeVarint, varintLength } from './varint.js';
import { MAX_CID_LENGTH as MAX_CONNECTION_ID_LENGTH } from './header.js';

/** Transport parameter codepoints. */
export const TransportParameterId = {
  ORIGINAL_DESTINATION_CONNECTION_ID: 0x00, // RFC 9000 §18.2
  MAX_IDLE_TIMEOUT: 0x01, // RFC 9000 §18.2
  STATELESS_RESET_TOKEN: 0x02, // RFC 9000 §18.2
  MAX_UDP_PAYLOAD_SIZE: 0x03, // RFC 9000 §18.2
  INITIAL_MAX_DATA: 0x04, // RFC 9000 §18.2
  INITIAL_MAX_STREAM_DATA_BIDI_LOCAL: 0x05, // RFC 9000 §18.2
  INITIAL_MAX_STREAM_DATA_BIDI_REMOTE: 0x06, // RFC 9000 §18.2
  INITIAL_MAX_STREAM_DATA_UNI: 0x07, // RFC 9000 §18.2
  INITIAL_MAX_STREAMS_BIDI: 0x08, // RFC 9000 §18.2
  INITIAL_MAX_STREAMS_UNI: 0x09, // RFC 9000 §18.2
  ACK_DELAY_EXPONENT: 0x0a, // RFC 9000 §18.2
  MAX_ACK_DELAY: 0x0b, // RFC 9000 §18.2
  DISABLE_ACTIVE_MIGRATION: 0x0c, // RFC 9000 §18.2
  PREFERRED_ADDRESS: 0x0d, // RFC 9000 §18.2
  ACTIVE_CONNECTION_ID_LIMIT: 0x0e, // RFC 9000 §18.2
  INITIAL_SOURCE_CONNECTION_ID: 0x0f, // RFC 9000 §18.2
  RETRY_SOURCE_CONNECTION_ID: 0x10, // RFC 9000 §18.2
  VERSION_INFORMATION: 0x11, // RFC 9368 §3, §10.1
  MAX_DATAGRAM_FRAME_SIZE: 0x20, // RFC 9221 §3
  INITIAL_MAX_PATH_ID: 0x3e, // draft-ietf-quic-multipath-21 §2 (suggested final codepoint)
  GREASE_QUIC_BIT: 0x2ab2, // RFC 9287 §3
} as const;
export type TransportParameterId = (typeof TransportParameterId)[keyof typeof TransportParameterId];

/** Which endpoint sent a transport parameter block. */
export type TransportParameterSender = 'client' | 'server';

/**
 * The server's preferred_address (RFC 9000 §18.2). Addresses are raw network-order bytes (4 and 16), not strings:
 * this module is the wire format, turning them into text is the caller's choice. An all-zero address with port 0
 * means the server offers no address of that family (RFC 9000 §9.6.1).
 */
export interface PreferredAddress {
  ipv4Address: Uint8Array;
  ipv4Port: number;
  ipv6Address: Uint8Array;
  ipv6Port: number;
  /** 1..20 bytes; has sequence number 1 (RFC 9000 §5.1.1). */
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

/** version_information (RFC 9368 §3). */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

/** A parameter this module does not interpret (unknown, GREASE, draft codepoint), kept verbatim. */
export interface UnknownTransportParameter {
  /** A number up to 2^53-1, an exact bigint above. */
  id: number | bigint;
  value: Uint8Array;
}

/**
 * Decoded transport parameters, with RFC defaults filled in for absent ones. Optional fields are `undefined` when the
 * parameter was absent (their presence carries meaning, e.g. initial_max_path_id enables multipath).
 */
export interface TransportParameters {
  originalDestinationConnectionId?: Uint8Array;
  /** Milliseconds; 0 = no idle timeout advertised. */
  maxIdleTimeout: number;
  statelessResetToken?: Uint8Array;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  preferredAddress?: PreferredAddress;
  activeConnectionIdLimit: number;
  initialSourceConnectionId?: Uint8Array;
  retrySourceConnectionId?: Uint8Array;
  versionInformation?: VersionInformation;
  maxDatagramFrameSize?: number;
  greaseQuicBit: boolean;
  initialMaxPathId?: number;
  unknown: UnknownTransportParameter[];
}

// RFC 9000 §18.2 defaults for absent parameters.
const DEFAULT_MAX_UDP_PAYLOAD_SIZE = 65527;
const DEFAULT_ACK_DELAY_EXPONENT = 3;
const DEFAULT_MAX_ACK_DELAY_MS = 25;
const DEFAULT_ACTIVE_CONNECTION_ID_LIMIT = 2;

/** RFC 9000 §18.2 defaults (frozen). Use {@link defaultTransportParameters} for a mutable copy. */
export const DEFAULT_TRANSPORT_PARAMETERS: Readonly<TransportParameters> = Object.freeze({
  maxIdleTimeout: 0,
  maxUdpPayloadSize: DEFAULT_MAX_UDP_PAYLOAD_SIZE,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  ackDelayExponent: DEFAULT_ACK_DELAY_EXPONENT,
  maxAckDelay: DEFAULT_MAX_ACK_DELAY_MS,
  disableActiveMigration: false,
  activeConnectionIdLimit: DEFAULT_ACTIVE_CONNECTION_ID_LIMIT,
  greaseQuicBit: false,
  unknown: Object.freeze([]) as unknown as UnknownTransportParameter[],
});

/** A fresh, mutable copy of the RFC defaults. */
export function defaultTransportParameters(): TransportParameters {
  return { ...DEFAULT_TRANSPORT_PARAMETERS, unknown: [] };
}

/** True for the ids reserved to exercise unknown-parameter handling: 31 * N + 27 (RFC 9000 §18.1). */
export function isReservedTransportParameterId(id: number | bigint): boolean {
  return typeof id === 'bigint' ? id >= 27n && (id - 27n) % 31n === 0n : id >= 27 && (id - 27) % 31 === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Limits

const STATELESS_RESET_TOKEN_LENGTH = 16; // RFC 9000 §10.3
const MIN_MAX_UDP_PAYLOAD_SIZE = 1200; // RFC 9000 §18.2: values below 1200 are invalid
const MAX_ACK_DELAY_EXPONENT = 20; // RFC 9000 §18.2: values above 20 are invalid
const MAX_ACK_DELAY_LIMIT = 1 << 14; // RFC 9000 §18.2: values of 2^14 or greater are invalid
const MIN_ACTIVE_CONNECTION_ID_LIMIT = 2; // RFC 9000 §18.2: MUST be at least 2
const MAX_STREAMS_LIMIT = 1n << 60n; // RFC 9000 §4.6, §18.2: stream counts above 2^60 are invalid
const MAX_PATH_ID_LIMIT = 0xffff_ffff; // draft-ietf-quic-multipath-21 §2: must not exceed 2^32-1
// RFC 9000 §18.2: IPv4 Address (32), IPv4 Port (16), IPv6 Address (128), IPv6 Port (16), CID Length (8).
const PREFERRED_ADDRESS_FIXED_PREFIX = 4 + 2 + 16 + 2 + 1;
/** Largest random value of the GREASE parameter the encoder adds. */
const GREASE_MAX_VALUE_LENGTH = 16;

// ---------------------------------------------------------------------------------------------------------------
// Decoding

const ID = TransportParameterId;

/** Names as in the RFCs, for error messages. */
function parameterName(id: number): string {
  switch (id) {
    case ID.ORIGINAL_DESTINATION_CONNECTION_ID:
      return 'original_destination_connection_id';
    case ID.MAX_IDLE_TIMEOUT:
      return 'max_idle_timeout';
    case ID.STATELESS_RESET_TOKEN:
      return 'stateless_reset_token';
    case ID.MAX_UDP_PAYLOAD_SIZE:
      return 'max_udp_payload_size';
    case ID.INITIAL_MAX_DATA:
      return 'initial_max_data';
    case ID.INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
      return 'initial_max_stream_data_bidi_local';
    case ID.INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
      return 'initial_max_stream_data_bidi_remote';
    case ID.INITIAL_MAX_STREAM_DATA_UNI:
      return 'initial_max_stream_data_uni';
    case ID.INITIAL_MAX_STREAMS_BIDI:
      return 'initial_max_streams_bidi';
    case ID.INITIAL_MAX_STREAMS_UNI:
      return 'initial_max_streams_uni';
    case ID.ACK_DELAY_EXPONENT:
      return 'ack_delay_exponent';
    case ID.MAX_ACK_DELAY:
      return 'max_ack_delay';
    case ID.DISABLE_ACTIVE_MIGRATION:
      return 'disable_active_migration';
    case ID.PREFERRED_ADDRESS:
      return 'preferred_address';
    case ID.ACTIVE_CONNECTION_ID_LIMIT:
      return 'active_connection_id_limit';
    case ID.INITIAL_SOURCE_CONNECTION_ID:
      return 'initial_source_connection_id';
    case ID.RETRY_SOURCE_CONNECTION_ID:
      return 'retry_source_connection_id';
    case ID.VERSION_INFORMATION:
      return 'version_information';
    case ID.MAX_DATAGRAM_FRAME_SIZE:
      return 'max_datagram_frame_size';
    case ID.INITIAL_MAX_PATH_ID:
      return 'initial_max_path_id';
    case ID.GREASE_QUIC_BIT:
      return 'grease_quic_bit';
    default:
      return `transport parameter 0x${id.toString(16)}`;
  }
}

/** Bit used to detect duplicates of a known parameter, or -1 for ids this module does not interpret. */
function knownParameterBit(id: number): number {
  if (id <= ID.VERSION_INFORMATION) return id; // 0x00..0x11 are contiguous: bits 0..17
  switch (id) {
    case ID.MAX_DATAGRAM_FRAME_SIZE:
      return 18;
    case ID.INITIAL_MAX_PATH_ID:
      return 19;
    case ID.GREASE_QUIC_BIT:
      return 20;
    default:
      return -1;
  }
}

/** RFC 9000 §18.2: parameters only a server may send. */
function isServerOnly(id: number): boolean {
  return (
    id === ID.ORIGINAL_DESTINATION_CONNECTION_ID ||
    id === ID.STATELESS_RESET_TOKEN ||
    id === ID.PREFERRED_ADDRESS ||
    id === ID.RETRY_SOURCE_CONNECTION_ID
  );
}

/** A Reader whose every overrun is a TRANSPORT_PARAMETER_ERROR naming what was being read. */
class TransportParameterReader extends Reader {
  context = 'transport parameter id';

  override fail(message: string): never {
    throw transportParameterError(`${this.context}: ${message}`);
  }
}

/** The exact integer in an integer-valued parameter, whose value must be exactly one varint (RFC 9000 §18). */
function integerValue(value: Uint8Array, name: string): number | bigint {
  const first = value[0];
  if (first === undefined) throw transportParameterError(`${name}: empty value, expected a varint`);
  const length = 1 << (first >> 6);
  if (value.length !== length) {
    throw transportParameterError(`${name}: value is ${value.length} bytes but holds a ${length}-byte varint`);
  }
  return decodeVarint(value, 0).value;
}

/** Saturates a limit above 2^53-1 (see the varint policy in varint.ts). */
function saturate(v: number | bigint): number {
  return typeof v === 'number' ? v : Number.MAX_SAFE_INTEGER;
}

function connectionIdValue(value: Uint8Array, name: string): Uint8Array {
  if (value.length > MAX_CONNECTION_ID_LENGTH) {
    throw transportParameterError(`${name}: connection ID of ${value.length} bytes exceeds ${MAX_CONNECTION_ID_LENGTH}`);
  }
  return value.slice();
}

function readUint32(b: Uint8Array, o: number): number {
  return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function preferredAddressValue(value: Uint8Array): PreferredAddress {
  if (value.length < PREFERRED_ADDRESS_FIXED_PREFIX) {
    throw transportParameterError(`preferred_address: truncated (${value.length} bytes)`);
  }
  const cidLength = value[PREFERRED_ADDRESS_FIXED_PREFIX - 1]!;
  // RFC 9000 §18.2: a server MUST NOT send a zero-length connection ID in preferred_address.
  if (cidLength === 0) throw transportParameterError('preferred_address: zero-length connection ID');
  if (cidLength > MAX_CONNECTION_ID_LENGTH) {
    throw transportParameterError(`preferred_address: connection ID length ${cidLength} exceeds ${MAX_CONNECTION_ID_LENGTH}`);
  }
  const cidEnd = PREFERRED_ADDRESS_FIXED_PREFIX + cidLength;
  const expected = cidEnd + STATELESS_RESET_TOKEN_LENGTH;
  if (value.length !== expected) {
    throw transportParameterError(`preferred_address: ${value.length} bytes, expected ${expected}`);
  }
  return {
    ipv4Address: value.slice(0, 4),
    ipv4Port: (value[4]! << 8) | value[5]!,
    ipv6Address: value.slice(6, 22),
    ipv6Port: (value[22]! << 8) | value[23]!,
    connectionId: value.slice(PREFERRED_ADDRESS_FIXED_PREFIX, cidEnd),
    statelessResetToken: value.slice(cidEnd, expected),
  };
}

function versionInformationValue(value: Uint8Array, sender: TransportParameterSender): VersionInformation {
  // RFC 9368 §4: a length that is not a positive multiple of 4 is a parsing failure.
  if (value.length === 0 || value.length % 4 !== 0) {
    throw transportParameterError(`version_information: length ${value.length} is not a positive multiple of 4`);
  }
  const chosenVersion = readUint32(value, 0);
  // RFC 9368 §4: a Chosen Version or any Available Version equal to zero is a parsing failure.
  if (chosenVersion === 0) throw transportParameterError('version_information: chosen version is 0');
  const availableVersions: number[] = new Array<number>((value.length >> 2) - 1);
  let chosenIsAvailable = false;
  for (let i = 0, o = 4; o < value.length; i++, o += 4) {
    const version = readUint32(value, o);
    if (version === 0) throw transportParameterError('version_information: available version 0');
    if (version === chosenVersion) chosenIsAvailable = true;
    availableVersions[i] = version;
  }
  // RFC 9368 §3, §4: a client must list its Chosen Version among its Available Versions.
  if (sender === 'client' && !chosenIsAvailable) {
    throw transportParameterError(
      `version_information: client's chosen version 0x${chosenVersion.toString(16)} is not in its available versions`,
    );
  }
  return { chosenVersion, availableVersions };
}

/**
 * Decodes and validates a transport parameter block sent by `sender`. Absent parameters take their RFC defaults.
 * Throws QuicCodecError(TRANSPORT_PARAMETER_ERROR) for any malformed or forbidden content.
 */
export function decodeTransportParameters(bytes: Uint8Array, sender: TransportParameterSender): TransportParameters {
  const params = defaultTransportParameters();
  const r = new TransportParameterReader(bytes);
  let seen = 0;
  let seenUnknown: Set<number | bigint> | undefined;

  while (!r.atEnd) {
    r.context = 'transport parameter id';
    const rawId = r.readVarintExact();
    const bit = typeof rawId === 'number' ? knownParameterBit(rawId) : -1;
    const name = bit >= 0 ? parameterName(rawId as number) : `transport parameter 0x${rawId.toString(16)}`;
    r.context = `${name} length`;
    const length = r.readVarint();
    r.context = `${name} value`;
    const value = r.readBytes(length);

    if (bit < 0) {
      // RFC 9000 §7.4: every parameter, understood or not, appears at most once.
      seenUnknown ??= new Set();
      if (seenUnknown.has(rawId)) throw transportParameterError(`${name} appears more than once`);
      seenUnknown.add(rawId);
      // RFC 9000 §7.4.2, §18.1: unknown and reserved parameters are ignored.
      params.unknown.push({ id: rawId, value: value.slice() });
      continue;
    }
    const id = rawId as number;
    if ((seen & (1 << bit)) !== 0) throw transportParameterError(`${name} appears more than once`); // RFC 9000 §7.4
    seen |= 1 << bit;
    // RFC 9000 §18.2: a server MUST treat a server-only parameter from a client as TRANSPORT_PARAMETER_ERROR.
    if (sender === 'client' && isServerOnly(id)) {
      throw transportParameterError(`${name} is a server-only parameter but was sent by a client`);
    }

    switch (id) {
      case ID.ORIGINAL_DESTINATION_CONNECTION_ID:
        params.originalDestinationConnectionId = connectionIdValue(value, name);
        break;
      case ID.MAX_IDLE_TIMEOUT:
        params.maxIdleTimeout = saturate(integerValue(value, name));
        break;
      case ID.STATELESS_RESET_TOKEN:
        if (value.length !== STATELESS_RESET_TOKEN_LENGTH) {
          throw transportParameterError(`${name}: ${value.length} bytes, expected ${STATELESS_RESET_TOKEN_LENGTH}`);
        }
        params.statelessResetToken = value.slice();
        break;
      case ID.MAX_UDP_PAYLOAD_SIZE: {
        const v = integerValue(value, name);
        if (v < MIN_MAX_UDP_PAYLOAD_SIZE) throw transportParameterError(`${name}: ${v} is below ${MIN_MAX_UDP_PAYLOAD_SIZE}`);
        params.maxUdpPayloadSize = saturate(v);
        break;
      }
      case ID.INITIAL_MAX_DATA:
        params.initialMaxData = saturate(integerValue(value, name));
        break;
      case ID.INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
        params.initialMaxStreamDataBidiLocal = saturate(integerValue(value, name));
        break;
      case ID.INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
        params.initialMaxStreamDataBidiRemote = saturate(integerValue(value, name));
        break;
      case ID.INITIAL_MAX_STREAM_DATA_UNI:
        params.initialMaxStreamDataUni = saturate(integerValue(value, name));
        break;
      case ID.INITIAL_MAX_STREAMS_BIDI:
      case ID.INITIAL_MAX_STREAMS_UNI: {
        const v = integerValue(value, name);
        if (BigInt(v) > MAX_STREAMS_LIMIT) throw transportParameterError(`${name}: ${v} exceeds 2^60`);
        if (id === ID.INITIAL_MAX_STREAMS_BIDI) params.initialMaxStreamsBidi = saturate(v);
        else params.initialMaxStreamsUni = saturate(v);
        break;
      }
      case ID.ACK_DELAY_EXPONENT: {
        const v = integerValue(value, name);
        if (v > MAX_ACK_DELAY_EXPONENT) throw transportParameterError(`${name}: ${v} exceeds ${MAX_ACK_DELAY_EXPONENT}`);
        params.ackDelayExponent = v as number;
        break;
      }
      case ID.MAX_ACK_DELAY: {
        const v = integerValue(value, name);
        if (v >= MAX_ACK_DELAY_LIMIT) throw transportParameterError(`${name}: ${v} is not below 2^14`);
        params.maxAckDelay = v as number;
        break;
      }
      case ID.DISABLE_ACTIVE_MIGRATION:
        // RFC 9000 §18.2: a zero-length value.
        if (value.length !== 0) throw transportParameterError(`${name}: value must be empty, got ${value.length} bytes`);
        params.disableActiveMigration = true;
        break;
      case ID.PREFERRED_ADDRESS:
        params.preferredAddress = preferredAddressValue(value);
        break;
      case ID.ACTIVE_CONNECTION_ID_LIMIT: {
        const v = integerValue(value, name);
        if (v < MIN_ACTIVE_CONNECTION_ID_LIMIT) {
          throw transportParameterError(`${name}: ${v} is below ${MIN_ACTIVE_CONNECTION_ID_LIMIT}`);
        }
        params.activeConnectionIdLimit = saturate(v);
        break;
      }
      case ID.INITIAL_SOURCE_CONNECTION_ID:
        params.initialSourceConnectionId = connectionIdValue(value, name);
        break;
      case ID.RETRY_SOURCE_CONNECTION_ID:
        params.retrySourceConnectionId = connectionIdValue(value, name);
        break;
      case ID.VERSION_INFORMATION:
        params.versionInformation = versionInformationValue(value, sender);
        break;
      case ID.MAX_DATAGRAM_FRAME_SIZE:
        params.maxDatagramFrameSize = saturate(integerValue(value, name));
        break;
      case ID.INITIAL_MAX_PATH_ID: {
        const v = integerValue(value, name);
        if (v > MAX_PATH_ID_LIMIT) throw transportParameterError(`${name}: ${v} exceeds 2^32-1`);
        params.initialMaxPathId = v as number;
        break;
      }
      case ID.GREASE_QUIC_BIT:
        // RFC 9287 §3: a non-empty value MUST be treated as TRANSPORT_PARAMETER_ERROR.
        if (value.length !== 0) throw transportParameterError(`${name}: value must be empty, got ${value.length} bytes`);
        params.greaseQuicBit = true;
        break;
    }
  }
  return params;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

export interface EncodeTransportParametersOptions {
  /** Adds one reserved parameter (id 31 * N + 27, RFC 9000 §18.1) with random id and random 0..16-byte content. */
  grease?: boolean;
  /** Fills its argument with random bytes. Defaults to `globalThis.crypto.getRandomValues`. */
  random?: (out: Uint8Array) => void;
  /** When given, rejects parameters this endpoint may not send (server-only parameters from a client, …). */
  sender?: TransportParameterSender;
}

function defaultRandom(out: Uint8Array): void {
  globalThis.crypto.getRandomValues(out);
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new QuicEncodeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

function checkBytes(name: string, v: unknown, min: number, max: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array) || v.length < min || v.length > max) {
    const got = v instanceof Uint8Array ? `${v.length} bytes` : typeof v;
    throw new QuicEncodeError(`${name} must be ${min === max ? min : `${min}..${max}`} bytes, got ${got}`);
  }
}

function writeInteger(w: Writer, id: number, v: number): void {
  w.writeVarint(id);
  w.writeVarint(varintLength(v));
  w.writeVarint(v);
}

function writeBytesParameter(w: Writer, id: number | bigint, v: Uint8Array): void {
  w.writeVarint(id);
  w.writeVarint(v.length);
  w.writeBytes(v);
}

/** Writes an integer parameter unless it equals the value assumed when absent. */
function writeLimit(w: Writer, id: number, v: number | undefined, fallback: number, min: number, max: number): void {
  if (v === undefined) return;
  checkInteger(parameterName(id), v, min, max);
  if (v !== fallback) writeInteger(w, id, v);
}

function serverOnlyFromClient(name: string): QuicEncodeError {
  return new QuicEncodeError(`${name} is server-only (RFC 9000 §18.2) and cannot be sent by a client`);
}

/**
 * Encodes transport parameters. Integer parameters equal to their default are omitted (absence means the same
 * thing); optional parameters (connection IDs, tokens, preferred_address, version_information,
 * max_datagram_frame_size, initial_max_path_id) are written whenever they are defined, even when zero or empty;
 * boolean flags are written when true; `unknown` entries are written verbatim. Ids are written minimally.
 * Invalid arguments throw QuicEncodeError.
 */
export function encodeTransportParameters(
  params: Partial<TransportParameters>,
  opts: EncodeTransportParametersOptions = {},
): Uint8Array {
  const w = new Writer(256);
  const sender = opts.sender;

  if (params.originalDestinationConnectionId !== undefined) {
    const name = 'original_destination_connection_id';
    if (sender === 'client') throw serverOnlyFromClient(name);
    checkBytes(name, params.originalDestinationConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
    writeBytesParameter(w, ID.ORIGINAL_DESTINATION_CONNECTION_ID, params.originalDestinationConnectionId);
  }
  writeLimit(w, ID.MAX_IDLE_TIMEOUT, params.maxIdleTimeout, 0, 0, Number.MAX_SAFE_INTEGER);
  if (params.statelessResetToken !== undefined) {
    const name = 'stateless_reset_token';
    if (sender === 'client') throw serverOnlyFromClient(name);
    checkBytes(name, params.statelessResetToken, STATELESS_RESET_TOKEN_LENGTH, STATELESS_RESET_TOKEN_LENGTH);
    writeBytesParameter(w, ID.STATELESS_RESET_TOKEN, params.statelessResetToken);
  }
  writeLimit(
    w,
    ID.MAX_UDP_PAYLOAD_SIZE,
    params.maxUdpPayloadSize,
    DEFAULT_MAX_UDP_PAYLOAD_SIZE,
    MIN_MAX_UDP_PAYLOAD_SIZE,
    Number.MAX_SAFE_INTEGER,
  );
  writeLimit(w, ID.INITIAL_MAX_DATA, params.initialMaxData, 0, 0, Number.MAX_SAFE_INTEGER);
  writeLimit(w, ID.INITIAL_MAX_STREAM_DATA_BIDI_LOCAL, params.initialMaxStreamDataBidiLocal, 0, 0, Number.MAX_SAFE_INTEGER);
  writeLimit(w, ID.INITIAL_MAX_STREAM_DATA_BIDI_REMOTE, params.initialMaxStreamDataBidiRemote, 0, 0, Number.MAX_SAFE_INTEGER);
  writeLimit(w, ID.INITIAL_MAX_STREAM_DATA_UNI, params.initialMaxStreamDataUni, 0, 0, Number.MAX_SAFE_INTEGER);
  // Stream counts are capped at 2^60 (RFC 9000 §4.6), which is above every safe integer.
  writeLimit(w, ID.INITIAL_MAX_STREAMS_BIDI, params.initialMaxStreamsBidi, 0, 0, Number.MAX_SAFE_INTEGER);
  writeLimit(w, ID.INITIAL_MAX_STREAMS_UNI, params.initialMaxStreamsUni, 0, 0, Number.MAX_SAFE_INTEGER);
  writeLimit(w, ID.ACK_DELAY_EXPONENT, params.ackDelayExponent, DEFAULT_ACK_DELAY_EXPONENT, 0, MAX_ACK_DELAY_EXPONENT);
  writeLimit(w, ID.MAX_ACK_DELAY, params.maxAckDelay, DEFAULT_MAX_ACK_DELAY_MS, 0, MAX_ACK_DELAY_LIMIT - 1);
  if (params.disableActiveMigration === true) writeBytesParameter(w, ID.DISABLE_ACTIVE_MIGRATION, EMPTY);
  if (params.preferredAddress !== undefined) {
    if (sender === 'client') throw serverOnlyFromClient('preferred_address');
    writePreferredAddress(w, params.preferredAddress);
  }
  writeLimit(
    w,
    ID.ACTIVE_CONNECTION_ID_LIMIT,
    params.activeConnectionIdLimit,
    DEFAULT_ACTIVE_CONNECTION_ID_LIMIT,
    MIN_ACTIVE_CONNECTION_ID_LIMIT,
    Number.MAX_SAFE_INTEGER,
  );
  if (params.initialSourceConnectionId !== undefined) {
    checkBytes('initial_source_connection_id', params.initialSourceConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
    writeBytesParameter(w, ID.INITIAL_SOURCE_CONNECTION_ID, params.initialSourceConnectionId);
  }
  if (params.retrySourceConnectionId !== undefined) {
    const name = 'retry_source_connection_id';
    if (sender === 'client') throw serverOnlyFromClient(name);
    checkBytes(name, params.retrySourceConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
    writeBytesParameter(w, ID.RETRY_SOURCE_CONNECTION_ID, params.retrySourceConnectionId);
  }
  if (params.versionInformation !== undefined) writeVersionInformation(w, params.versionInformation, sender);
  if (params.maxDatagramFrameSize !== undefined) {
    checkInteger('max_datagram_frame_size', params.maxDatagramFrameSize, 0, Number.MAX_SAFE_INTEGER);
    writeInteger(w, ID.MAX_DATAGRAM_FRAME_SIZE, params.maxDatagramFrameSize);
  }
  if (params.initialMaxPathId !== undefined) {
    checkInteger('initial_max_path_id', params.initialMaxPathId, 0, MAX_PATH_ID_LIMIT);
    writeInteger(w, ID.INITIAL_MAX_PATH_ID, params.initialMaxPathId);
  }
  if (params.greaseQuicBit === true) writeBytesParameter(w, ID.GREASE_QUIC_BIT, EMPTY);

  let unknownIds: Set<number | bigint> | undefined;
  if (params.unknown !== undefined && params.unknown.length > 0) {
    unknownIds = new Set();
    for (const p of params.unknown) {
      const id = normalizeUnknownId(p.id);
      if (unknownIds.has(id)) throw new QuicEncodeError(`unknown transport parameter 0x${id.toString(16)} appears twice`);
      unknownIds.add(id);
      checkBytes(`transport parameter 0x${id.toString(16)}`, p.value, 0, Number.MAX_SAFE_INTEGER);
      writeBytesParameter(w, id, p.value);
    }
  }
  if (opts.grease === true) writeGrease(w, opts.random ?? defaultRandom, unknownIds);

  return w.buf.slice(0, w.offset);
}

const EMPTY = new Uint8Array(0);

/** Validates an `unknown` id and returns it in the decoder's representation (number up to 2^53-1, else bigint). */
function normalizeUnknownId(id: number | bigint): number | bigint {
  let n: number | bigint = id;
  if (typeof id === 'bigint') {
    if (id < 0n || id > VARINT_MAX) throw new QuicEncodeError(`transport parameter id ${id} is not a varint`);
    if (id <= BigInt(Number.MAX_SAFE_INTEGER)) n = Number(id);
  } else if (!Number.isSafeInteger(id) || id < 0) {
    throw new QuicEncodeError(`transport parameter id ${id} is not a varint`);
  }
  if (typeof n === 'number' && knownParameterBit(n) >= 0) {
    throw new QuicEncodeError(`${parameterName(n)} cannot be passed in \`unknown\`: set its field instead`);
  }
  return n;
}

function writePreferredAddress(w: Writer, pa: PreferredAddress): void {
  checkBytes('preferred_address.ipv4Address', pa.ipv4Address, 4, 4);
  checkInteger('preferred_address.ipv4Port', pa.ipv4Port, 0, 0xffff);
  checkBytes('preferred_address.ipv6Address', pa.ipv6Address, 16, 16);
  checkInteger('preferred_address.ipv6Port', pa.ipv6Port, 0, 0xffff);
  // RFC 9000 §18.2: the connection ID must not be zero-length.
  checkBytes('preferred_address.connectionId', pa.connectionId, 1, MAX_CONNECTION_ID_LENGTH);
  checkBytes(
    'preferred_address.statelessResetToken',
    pa.statelessResetToken,
    STATELESS_RESET_TOKEN_LENGTH,
    STATELESS_RESET_TOKEN_LENGTH,
  );
  w.writeVarint(ID.PREFERRED_ADDRESS);
  w.writeVarint(PREFERRED_ADDRESS_FIXED_PREFIX + pa.connectionId.length + STATELESS_RESET_TOKEN_LENGTH);
  w.writeBytes(pa.ipv4Address);
  w.writeUint16(pa.ipv4Port);
  w.writeBytes(pa.ipv6Address);
  w.writeUint16(pa.ipv6Port);
  w.writeUint8(pa.connectionId.length);
  w.writeBytes(pa.connectionId);
  w.writeBytes(pa.statelessResetToken);
}

function writeVersionInformation(w: Writer, vi: VersionInformation, sender: TransportParameterSender | undefined): void {
  // RFC 9368 §4: versions are 32-bit and never 0.
  checkInteger('version_information.chosenVersion', vi.chosenVersion, 1, 0xffff_ffff);
  if (!Array.isArray(vi.availableVersions)) {
    throw new QuicEncodeError('version_information.availableVersions must be an array');
  }
  for (const v of vi.availableVersions) checkInteger('version_information.availableVersions[]', v, 1, 0xffff_ffff);
  // RFC 9368 §3: a client lists its Chosen Version among its Available Versions.
  if (sender === 'client' && !vi.availableVersions.includes(vi.chosenVersion)) {
    throw new QuicEncodeError('version_information: a client must include its chosen version in availableVersions');
  }
  w.writeVarint(ID.VERSION_INFORMATION);
  w.writeVarint(4 + 4 * vi.availableVersions.length);
  w.writeUint32(vi.chosenVersion);
  for (const v of vi.availableVersions) w.writeUint32(v);
}

/**
 * Appends one reserved parameter (RFC 9000 §18.1) so that peers keep ignoring unknown ids. N is a random 32-bit value
 * shifted right by a random amount, so the id's varint length varies too.
 */
function writeGrease(w: Writer, random: (out: Uint8Array) => void, taken: Set<number | bigint> | undefined): void {
  const seed = new Uint8Array(6);
  random(seed);
  let n = readUint32(seed, 0) >>> (seed[4]! & 31);
  let id = 31 * n + 27;
  while (taken?.has(id) === true) id = 31 * ++n + 27; // never collide with a caller-supplied parameter
  const value = new Uint8Array(seed[5]! % (GREASE_MAX_VALUE_LENGTH + 1));
  if (value.length > 0) random(value);
  w.writeVarint(id);
  w.writeVarint(value.length);
  w.writeBytes(value);
}
