/**
 * SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5): a sequence of Identifier (i), Value (i) pairs.
 */
import { Reader, Writer } from '@pathquic/wire-codec';
import { H3ErrorCode, h3Fail, isReservedCodepoint } from './errors.js';
import { FrameType, encodeFrame } from './frames.js';

/** Setting identifiers this package knows (RFC 9114 §7.2.4.1, RFC 9204 §5). */
export const SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
} as const;
export type SettingId = (typeof SettingId)[keyof typeof SettingId];

export interface H3Settings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY, default 0 (RFC 9204 §5). */
  readonly qpackMaxTableCapacity: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE, default unlimited (RFC 9114 §7.2.4.1). */
  readonly maxFieldSectionSize: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS, default 0 (RFC 9204 §5). */
  readonly qpackBlockedStreams: number;
}

/** Values in force before the peer's SETTINGS arrive (RFC 9114 §7.2.4.2). */
export const DEFAULT_SETTINGS: H3Settings = Object.freeze({
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Number.POSITIVE_INFINITY,
  qpackBlockedStreams: 0,
});

/** A decoded SETTINGS frame: the known values (defaults where absent) and every other pair as received. */
export interface DecodedSettings extends H3Settings {
  /** Unknown and reserved identifiers, ignored (RFC 9114 §7.2.4.1, §9). */
  readonly unknown: ReadonlyArray<readonly [id: number | bigint, value: number | bigint]>;
}

/** HTTP/2 settings with no HTTP/3 meaning: receipt is H3_SETTINGS_ERROR (RFC 9114 §7.2.4.1, §11.2.2). */
export function isHttp2OnlySetting(id: number | bigint): boolean {
  return id === 0x02 || id === 0x03 || id === 0x04 || id === 0x05;
}

export interface EncodeSettingsOptions {
  /** Add one reserved setting 0x1f * n + 0x21 (RFC 9114 §7.2.4.1 asks for at least one); its value is `n`. */
  readonly greaseN?: number;
}

/**
 * SETTINGS payload. Settings at their default value are not sent (the receiver assumes the default, RFC 9114
 * §7.2.4.2); an infinite maxFieldSectionSize means "no limit", so it is not sent either.
 */
export function encodeSettingsPayload(settings: Partial<H3Settings>, options: EncodeSettingsOptions = {}): Uint8Array {
  const w = new Writer(32);
  const put = (id: number, value: number | undefined, defaultValue: number): void => {
    if (value === undefined || value === defaultValue || !Number.isFinite(value)) return;
    w.writeVarint(id);
    w.writeVarint(value);
  };
  put(SettingId.QPACK_MAX_TABLE_CAPACITY, settings.qpackMaxTableCapacity, 0);
  put(SettingId.MAX_FIELD_SECTION_SIZE, settings.maxFieldSectionSize, Number.POSITIVE_INFINITY);
  put(SettingId.QPACK_BLOCKED_STREAMS, settings.qpackBlockedStreams, 0);
  if (options.greaseN !== undefined) {
    w.writeVarint(0x1f * options.greaseN + 0x21);
    w.writeVarint(options.greaseN);
  }
  return w.bytes().slice();
}

/** A complete SETTINGS frame (RFC 9114 §7.2.4). */
export function encodeSettingsFrame(settings: Partial<H3Settings>, options: EncodeSettingsOptions = {}): Uint8Array {
  return encodeFrame(FrameType.SETTINGS, encodeSettingsPayload(settings, options));
}

function toNumber(value: number | bigint): number {
  return typeof value === 'number' ? value : Number.MAX_SAFE_INTEGER;
}

/**
 * Decodes a SETTINGS payload. A truncated pair is H3_FRAME_ERROR (RFC 9114 §7.1); a duplicate identifier or an
 * HTTP/2-only setting is H3_SETTINGS_ERROR (RFC 9114 §7.2.4, §7.2.4.1). Unknown and GREASE settings are kept
 * aside and otherwise ignored.
 */
export function decodeSettingsPayload(payload: Uint8Array): DecodedSettings {
  const r = new Reader(payload);
  const seen = new Set<number | bigint>();
  const unknown: Array<readonly [number | bigint, number | bigint]> = [];
  let qpackMaxTableCapacity = DEFAULT_SETTINGS.qpackMaxTableCapacity;
  let maxFieldSectionSize = DEFAULT_SETTINGS.maxFieldSectionSize;
  let qpackBlockedStreams = DEFAULT_SETTINGS.qpackBlockedStreams;
  while (!r.atEnd) {
    let id: number | bigint;
    let value: number | bigint;
    try {
      id = r.readVarintExact();
      value = r.readVarintExact();
    } catch {
      h3Fail(H3ErrorCode.H3_FRAME_ERROR, 'truncated SETTINGS frame');
    }
    if (seen.has(id)) h3Fail(H3ErrorCode.H3_SETTINGS_ERROR, `duplicate setting 0x${id.toString(16)}`);
    seen.add(id);
    if (isHttp2OnlySetting(id)) h3Fail(H3ErrorCode.H3_SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)} in SETTINGS`);
    switch (id) {
      case SettingId.QPACK_MAX_TABLE_CAPACITY:
        qpackMaxTableCapacity = toNumber(value);
        break;
      case SettingId.MAX_FIELD_SECTION_SIZE:
        maxFieldSectionSize = toNumber(value);
        break;
      case SettingId.QPACK_BLOCKED_STREAMS:
        qpackBlockedStreams = toNumber(value);
        break;
      default:
        unknown.push([id, value]);
    }
  }
  return { qpackMaxTableCapacity, maxFieldSectionSize, qpackBlockedStreams, unknown };
}

/** True for reserved (GREASE) setting identifiers 0x1f * N + 0x21 (RFC 9114 §7.2.4.1). */
export function isGreaseSetting(id: number | bigint): boolean {
  return isReservedCodepoint(id);
}
