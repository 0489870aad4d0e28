import { describe, expect, it } from 'vitest';
import {
  ControlStreamReader,
  FrameType,
  H3ErrorCode,
  UniStreamClassifier,
  UniStreamPrefaceReader,
  UniStreamType,
  encodeCancelPushFrame,
  encodeControlStreamPreface,
  encodeDataFrame,
  encodeFrame,
  encodeGoawayFrame,
  encodeGreaseFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodeSettingsFrame,
  encodeUniStreamType,
  isGreaseStreamType,
} from '../src/index.js';
import type { ControlEvent } from '../src/index.js';
import { concat, expectH3Error, hex, splits } from './helpers.js';

function readControl(chunks: Uint8Array[], role: 'client' | 'server' = 'server'): { type: number | bigint; events: ControlEvent[] } {
  const preface = new UniStreamPrefaceReader();
  const control = new ControlStreamReader({ role });
  let type: number | bigint | undefined;
  const events: ControlEvent[] = [];
  for (const chunk of chunks) {
    if (type === undefined) {
      const got = preface.push(chunk);
      if (got === undefined) continue;
      type = got.type;
      events.push(...control.push(got.rest));
    } else {
      events.push(...control.push(chunk));
    }
  }
  if (type === undefined) throw new Error('no stream type');
  return { type, events };
}

describe('unidirectional stream types (RFC 9114 §6.2)', () => {
  it('reads the type split anywhere and hands back the rest', () => {
    const bytes = concat(encodeUniStreamType(0x1f * 3 + 0x21), hex('aabb'));
    for (const chunks of splits(bytes)) {
      const r = new UniStreamPrefaceReader();
      let result: { type: number | bigint; rest: Uint8Array } | undefined;
      const rest: number[] = [];
      for (const c of chunks) {
        if (result === undefined) {
          result = r.push(c);
          if (result !== undefined) rest.push(...result.rest);
        } else rest.push(...c);
      }
      expect(result?.type).toBe(0x7e);
      expect(rest).toEqual([0xaa, 0xbb]);
    }
    expect(isGreaseStreamType(0x7e)).toBe(true);
  });

  it('accepts one control, encoder and decoder stream each and ignores unknown types', () => {
    const c = new UniStreamClassifier({ role: 'server' });
    expect(c.classify(UniStreamType.CONTROL)).toEqual({ action: 'accept', kind: 'control' });
    expect(c.classify(UniStreamType.QPACK_ENCODER)).toEqual({ action: 'accept', kind: 'qpack-encoder' });
    expect(c.classify(UniStreamType.QPACK_DECODER)).toEqual({ action: 'accept', kind: 'qpack-decoder' });
    expect(c.classify(0x21)).toEqual({ action: 'ignore', stopSendingCode: H3ErrorCode.H3_STREAM_CREATION_ERROR });
    expect(c.classify(0x3fffffffffffffffn)).toEqual({ action: 'ignore', stopSendingCode: H3ErrorCode.H3_STREAM_CREATION_ERROR });
    expect(c.classify(0x54)).toMatchObject({ action: 'ignore' });
    for (const t of [UniStreamType.CONTROL, UniStreamType.QPACK_ENCODER, UniStreamType.QPACK_DECODER]) {
      expectH3Error(() => c.classify(t), H3ErrorCode.H3_STREAM_CREATION_ERROR, 'connection');
    }
  });

  it('refuses push streams: from a client (H3_STREAM_CREATION_ERROR) or without MAX_PUSH_ID (H3_ID_ERROR)', () => {
    expectH3Error(() => new UniStreamClassifier({ role: 'server' }).classify(UniStreamType.PUSH), H3ErrorCode.H3_STREAM_CREATION_ERROR);
    expectH3Error(() => new UniStreamClassifier({ role: 'client' }).classify(UniStreamType.PUSH), H3ErrorCode.H3_ID_ERROR);
    expect(new UniStreamClassifier({ role: 'client', maxPushIdSent: true }).classify(UniStreamType.PUSH)).toEqual({ action: 'accept', kind: 'push' });
  });
});

describe('ControlStreamReader (RFC 9114 §6.2.1)', () => {
  const stream = concat(
    encodeControlStreamPreface({ maxFieldSectionSize: 8192 }, { greaseN: 2 }),
    encodeGreaseFrame(1, hex('0102')),
    encodeMaxPushIdFrame(10),
    encodeMaxPushIdFrame(10),
    encodeGoawayFrame(8),
    encodeGoawayFrame(4),
  );

  it('reads SETTINGS then the other control frames, split at every offset', () => {
    for (const chunks of splits(stream)) {
      const { type, events } = readControl(chunks);
      expect(type).toBe(UniStreamType.CONTROL);
      expect(events.map((e) => e.kind)).toEqual(['settings', 'max-push-id', 'max-push-id', 'goaway', 'goaway']);
      const settings = events[0]!;
      expect(settings.kind === 'settings' && settings.settings.maxFieldSectionSize).toBe(8192);
      expect(settings.kind === 'settings' && settings.settings.unknown).toEqual([[0x5f, 2]]);
      expect(events[4]).toEqual({ kind: 'goaway', id: 4 });
    }
  });

  it('starts the preface with type 0x00 and a SETTINGS frame', () => {
    expect(Array.from(encodeControlStreamPreface())).toEqual([0x00, FrameType.SETTINGS, 0x00]);
  });

  const first = (frame: Uint8Array, role: 'client' | 'server' = 'server'): (() => unknown) => () =>
    new ControlStreamReader({ role }).push(frame);
  const afterSettings = (frame: Uint8Array, role: 'client' | 'server' = 'server', maxPushIdSent?: number): (() => unknown) => () => {
    const r = new ControlStreamReader(maxPushIdSent === undefined ? { role } : { role, maxPushIdSent });
    r.push(encodeSettingsFrame({}));
    return r.push(frame);
  };

  it('requires SETTINGS first: H3_MISSING_SETTINGS', () => {
    expectH3Error(first(encodeGoawayFrame(0)), H3ErrorCode.H3_MISSING_SETTINGS, 'connection');
    expectH3Error(first(encodeGreaseFrame(0)), H3ErrorCode.H3_MISSING_SETTINGS);
    expectH3Error(first(encodeDataFrame(hex('00'))), H3ErrorCode.H3_MISSING_SETTINGS);
    expectH3Error(first(encodeHeadersFrame(hex('0000'))), H3ErrorCode.H3_MISSING_SETTINGS);
  });

  it('rejects a second SETTINGS and request-stream frames with H3_FRAME_UNEXPECTED', () => {
    expectH3Error(afterSettings(encodeSettingsFrame({})), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(encodeDataFrame(hex('00'))), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(encodeDataFrame(new Uint8Array(0))), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(encodeHeadersFrame(hex('0000'))), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(encodeFrame(FrameType.PUSH_PROMISE, hex('000000')), 'client'), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(encodeFrame(0x06, hex('00'))), H3ErrorCode.H3_FRAME_UNEXPECTED);
  });

  it('checks SETTINGS contents', () => {
    expectH3Error(first(encodeFrame(FrameType.SETTINGS, hex('0600 0601'))), H3ErrorCode.H3_SETTINGS_ERROR);
    expectH3Error(first(encodeFrame(FrameType.SETTINGS, hex('0201'))), H3ErrorCode.H3_SETTINGS_ERROR);
    expectH3Error(first(encodeFrame(FrameType.SETTINGS, hex('06'))), H3ErrorCode.H3_FRAME_ERROR);
  });

  it('enforces GOAWAY and MAX_PUSH_ID rules (RFC 9114 §5.2, §7.2.6, §7.2.7)', () => {
    expect(afterSettings(encodeGoawayFrame(8), 'client')()).toEqual([{ kind: 'goaway', id: 8 }]);
    expectH3Error(afterSettings(encodeGoawayFrame(2), 'client'), H3ErrorCode.H3_ID_ERROR);
    expect(afterSettings(encodeGoawayFrame(3), 'server')()).toEqual([{ kind: 'goaway', id: 3 }]);
    expectH3Error(afterSettings(concat(encodeGoawayFrame(4), encodeGoawayFrame(8)), 'client'), H3ErrorCode.H3_ID_ERROR);
    expectH3Error(afterSettings(encodeMaxPushIdFrame(1), 'client'), H3ErrorCode.H3_FRAME_UNEXPECTED);
    expectH3Error(afterSettings(concat(encodeMaxPushIdFrame(5), encodeMaxPushIdFrame(4))), H3ErrorCode.H3_ID_ERROR);
    expectH3Error(afterSettings(encodeFrame(FrameType.GOAWAY, hex('0000'))), H3ErrorCode.H3_FRAME_ERROR);
    expectH3Error(afterSettings(encodeFrame(FrameType.MAX_PUSH_ID, hex('400102'))), H3ErrorCode.H3_FRAME_ERROR);
    expect(afterSettings(encodeGoawayFrame(0x3fffffffffffffffn), 'server')()).toEqual([{ kind: 'goaway', id: 0x3fffffffffffffffn }]);
  });

  it('enforces CANCEL_PUSH push IDs (RFC 9114 §7.2.3)', () => {
    expectH3Error(afterSettings(encodeCancelPushFrame(0), 'server'), H3ErrorCode.H3_ID_ERROR);
    expectH3Error(afterSettings(encodeCancelPushFrame(0), 'client'), H3ErrorCode.H3_ID_ERROR);
    expectH3Error(afterSettings(encodeCancelPushFrame(6), 'client', 5), H3ErrorCode.H3_ID_ERROR);
    expect(afterSettings(encodeCancelPushFrame(5), 'client', 5)()).toEqual([{ kind: 'cancel-push', pushId: 5 }]);
  });

  it('treats the end of the control stream as H3_CLOSED_CRITICAL_STREAM', () => {
    const r = new ControlStreamReader({ role: 'client' });
    r.push(encodeSettingsFrame({}));
    expect(r.settings?.qpackMaxTableCapacity).toBe(0);
    expectH3Error(() => r.end(), H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'connection');
  });

  it('bounds buffered control frames', () => {
    const r = new ControlStreamReader({ role: 'server', maxFramePayload: 4 });
    expectH3Error(() => r.push(encodeFrame(FrameType.SETTINGS, new Uint8Array(6))), H3ErrorCode.H3_EXCESSIVE_LOAD);
  });
});
