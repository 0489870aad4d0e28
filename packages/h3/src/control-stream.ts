/**
 * The peer's control stream after its Stream Type byte (RFC 9114 §6.2.1): SETTINGS first, then CANCEL_PUSH,
 * GOAWAY, MAX_PUSH_ID and unknown frames; closing it is fatal.
 */
import { H3ErrorCode, h3Fail } from './errors.js';
import { FrameReader } from './frame-reader.js';
import type { FrameReaderOptions } from './frame-reader.js';
import { FrameType, decodeSingleVarintPayload, encodeFrame, frameTypeName } from './frames.js';
import { decodeSettingsPayload, encodeSettingsPayload } from './settings.js';
import type { DecodedSettings, EncodeSettingsOptions, H3Settings } from './settings.js';
import { UniStreamType, encodeUniStreamType } from './stream-types.js';

export type ControlEvent =
  | { readonly kind: 'settings'; readonly settings: DecodedSettings }
  | { readonly kind: 'goaway'; readonly id: number | bigint }
  | { readonly kind: 'max-push-id'; readonly pushId: number | bigint }
  | { readonly kind: 'cancel-push'; readonly pushId: number | bigint };

export interface ControlStreamReaderOptions extends FrameReaderOptions {
  /** This endpoint's role: the peer is the other one. */
  readonly role: 'client' | 'server';
  /** Clients only: the largest push ID this client advertised with MAX_PUSH_ID (none: this package never does). */
  readonly maxPushIdSent?: number;
}

function compare(a: number | bigint, b: number | bigint): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export class ControlStreamReader {
  private readonly frames: FrameReader;
  private readonly role: 'client' | 'server';
  private readonly maxPushIdSent: number | undefined;
  private settingsReceived = false;
  private lastGoaway: number | bigint | undefined;
  private lastMaxPushId: number | bigint | undefined;
  /** The peer's settings once received. */
  settings: DecodedSettings | undefined;

  constructor(options: ControlStreamReaderOptions) {
    this.frames = new FrameReader(options);
    this.role = options.role;
    this.maxPushIdSent = options.maxPushIdSent;
  }

  /** Bytes of the control stream after its type. Throws H3Error (connection errors). */
  push(chunk: Uint8Array): ControlEvent[] {
    const out: ControlEvent[] = [];
    for (const event of this.frames.push(chunk)) {
      const type = event.kind === 'data' ? FrameType.DATA : event.type;
      // RFC 9114 §6.2.1: the first frame must be SETTINGS, whatever its type.
      if (!this.settingsReceived && type !== FrameType.SETTINGS) {
        h3Fail(H3ErrorCode.H3_MISSING_SETTINGS, `control stream starts with ${frameTypeName(type)}, not SETTINGS`);
      }
      if (event.kind === 'unknown') continue; // RFC 9114 §9
      if (event.kind === 'data') h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'DATA on the control stream');
      out.push(...this.onFrame(event.type, event.payload));
    }
    return out;
  }

  /** The control stream ended: H3_CLOSED_CRITICAL_STREAM (RFC 9114 §6.2.1); a reset means the same. */
  end(): never {
    h3Fail(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'peer closed its control stream');
  }

  private onFrame(type: FrameType, payload: Uint8Array): ControlEvent[] {
    switch (type) {
      case FrameType.SETTINGS:
        if (this.settingsReceived) h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'second SETTINGS frame'); // §7.2.4
        this.settingsReceived = true;
        this.settings = decodeSettingsPayload(payload);
        return [{ kind: 'settings', settings: this.settings }];
      case FrameType.GOAWAY: {
        const id = decodeSingleVarintPayload(type, payload);
        // §7.2.6: from a server, a client-initiated bidirectional stream ID; §5.2: never larger than before.
        if (this.role === 'client' && BigInt(id) % 4n !== 0n) {
          h3Fail(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${id}, not client-initiated bidirectional`);
        }
        if (this.lastGoaway !== undefined && compare(id, this.lastGoaway) > 0) {
          h3Fail(H3ErrorCode.H3_ID_ERROR, `GOAWAY ID increased from ${this.lastGoaway} to ${id}`);
        }
        this.lastGoaway = id;
        return [{ kind: 'goaway', id }];
      }
      case FrameType.MAX_PUSH_ID: {
        // §7.2.7: only clients send it, and it never decreases.
        if (this.role === 'client') h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
        const pushId = decodeSingleVarintPayload(type, payload);
        if (this.lastMaxPushId !== undefined && compare(pushId, this.lastMaxPushId) < 0) {
          h3Fail(H3ErrorCode.H3_ID_ERROR, `MAX_PUSH_ID decreased from ${this.lastMaxPushId} to ${pushId}`);
        }
        this.lastMaxPushId = pushId;
        return [{ kind: 'max-push-id', pushId }];
      }
      case FrameType.CANCEL_PUSH: {
        const pushId = decodeSingleVarintPayload(type, payload);
        // §7.2.3: a client checks it against its MAX_PUSH_ID; a server against the pushes it promised (this
        // package promises none).
        if (this.role === 'server') h3Fail(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ${pushId} never promised`);
        if (this.maxPushIdSent === undefined || compare(pushId, this.maxPushIdSent) > 0) {
          h3Fail(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH for push ${pushId} beyond MAX_PUSH_ID`);
        }
        return [{ kind: 'cancel-push', pushId }];
      }
      default:
        // HEADERS, PUSH_PROMISE (and DATA above): RFC 9114 §7.2.2, §7.2.5.
        return h3Fail(H3ErrorCode.H3_FRAME_UNEXPECTED, `${frameTypeName(type)} on the control stream`);
    }
  }
}

/**
 * The first bytes of this endpoint's control stream: Stream Type 0x00 then SETTINGS (RFC 9114 §6.2.1).
 * Defaults advertise a QPACK table capacity of 0 (no dynamic table) and no blocked streams.
 */
export function encodeControlStreamPreface(
  settings: Partial<H3Settings> = {},
  options: EncodeSettingsOptions = {},
): Uint8Array {
  const type = encodeUniStreamType(UniStreamType.CONTROL);
  const frame = encodeFrame(FrameType.SETTINGS, encodeSettingsPayload(settings, options));
  const out = new Uint8Array(type.length + frame.length);
  out.set(type, 0);
  out.set(frame, type.length);
  return out;
}
