/**
 * Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2): every unidirectional stream starts with a varint
 * Stream Type.
 */
import { Reader, encodeVarint } from '@pathquic/wire-codec';
import { H3ErrorCode, h3Fail, isReservedCodepoint } from './errors.js';

export const UniStreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;
export type UniStreamType = (typeof UniStreamType)[keyof typeof UniStreamType];

/** The bytes that open a unidirectional stream of this type. */
export function encodeUniStreamType(type: number | bigint): Uint8Array {
  return encodeVarint(type);
}

/** Reserved stream types 0x1f * N + 0x21 (RFC 9114 §6.2.3). */
export function isGreaseStreamType(type: number | bigint): boolean {
  return isReservedCodepoint(type);
}

/**
 * Reads the Stream Type at the start of a unidirectional stream, split across chunks or not.
 * `push` returns undefined until the varint is complete, then the type and the bytes after it in that chunk.
 * A stream that ends (or is reset) before its type is tolerated (RFC 9114 §6.2): nothing to check.
 */
export class UniStreamPrefaceReader {
  private readonly buf = new Uint8Array(8);
  private length = 0;
  private done = false;

  push(chunk: Uint8Array): { type: number | bigint; rest: Uint8Array } | undefined {
    if (this.done) h3Fail(H3ErrorCode.H3_INTERNAL_ERROR, 'stream type already read');
    let offset = 0;
    while (offset < chunk.length) {
      this.buf[this.length++] = chunk[offset++]!;
      if (this.length === 1 << (this.buf[0]! >> 6)) {
        this.done = true;
        const type = new Reader(this.buf, 0, this.length).readVarintExact();
        return { type, rest: chunk.subarray(offset) };
      }
    }
    return undefined;
  }
}

export type UniStreamKind = 'control' | 'push' | 'qpack-encoder' | 'qpack-decoder';

export type UniStreamDecision =
  | { readonly action: 'accept'; readonly kind: UniStreamKind }
  /**
   * Unknown or reserved type: discard the data, or abort reading with STOP_SENDING carrying `stopSendingCode`
   * (H3_STREAM_CREATION_ERROR), RFC 9114 §6.2.
   */
  | { readonly action: 'ignore'; readonly stopSendingCode: H3ErrorCode };

export interface UniStreamClassifierOptions {
  /** Which side this endpoint is. */
  readonly role: 'client' | 'server';
  /** Clients only: whether a MAX_PUSH_ID frame has been sent (this package never does). */
  readonly maxPushIdSent?: boolean;
}

/**
 * Decides what to do with each peer-initiated unidirectional stream once its type is known, and enforces one
 * control, one QPACK encoder and one QPACK decoder stream per peer (RFC 9114 §6.2.1, RFC 9204 §4.2).
 */
export class UniStreamClassifier {
  private readonly role: 'client' | 'server';
  private readonly maxPushIdSent: boolean;
  private readonly seen = new Set<UniStreamKind>();

  constructor(options: UniStreamClassifierOptions) {
    this.role = options.role;
    this.maxPushIdSent = options.maxPushIdSent ?? false;
  }

  /** Throws H3Error for a stream the peer must not have opened. */
  classify(type: number | bigint): UniStreamDecision {
    let kind: UniStreamKind;
    switch (type) {
      case UniStreamType.CONTROL:
        kind = 'control';
        break;
      case UniStreamType.QPACK_ENCODER:
        kind = 'qpack-encoder';
        break;
      case UniStreamType.QPACK_DECODER:
        kind = 'qpack-decoder';
        break;
      case UniStreamType.PUSH:
        // Only servers push (RFC 9114 §6.2.2); a client that sent no MAX_PUSH_ID allows none (RFC 9114 §4.6).
        if (this.role === 'server') h3Fail(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'client opened a push stream');
        if (!this.maxPushIdSent) h3Fail(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
        return { action: 'accept', kind: 'push' };
      default:
        return { action: 'ignore', stopSendingCode: H3ErrorCode.H3_STREAM_CREATION_ERROR };
    }
    if (this.seen.has(kind)) h3Fail(H3ErrorCode.H3_STREAM_CREATION_ERROR, `second ${kind} stream`);
    this.seen.add(kind);
    return { action: 'accept', kind };
  }
}
