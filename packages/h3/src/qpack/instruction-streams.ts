/**
 * The peer's QPACK encoder and decoder streams (RFC 9204 §4.2) as seen by an endpoint with no dynamic table:
 * it advertises SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0 and never inserts entries itself.
 */
import { H3Error, H3ErrorCode, h3Fail } from '../errors.js';
import type { H3ErrorCode as Code } from '../errors.js';
import { readPrefixedInt } from './integer.js';

/** Longest prefixed integer accepted on these streams, in bytes (a 62-bit value needs at most 10). */
const MAX_INSTRUCTION_PREFIX = 12;

abstract class InstructionStreamReader {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly errorCode: Code) {}

  /** Feeds stream bytes (after the Stream Type). Throws H3Error on an instruction this endpoint cannot accept. */
  push(chunk: Uint8Array): void {
    let buf: Uint8Array = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    let offset = 0;
    while (offset < buf.length) {
      const used = this.instruction(buf, offset);
      if (used === 0) break;
      offset += used;
    }
    this.pending = buf.slice(offset);
    if (this.pending.length > MAX_INSTRUCTION_PREFIX) this.fail('instruction too long');
  }

  /** The stream ended: closing a QPACK stream is H3_CLOSED_CRITICAL_STREAM (RFC 9204 §4.2). */
  end(): never {
    h3Fail(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'peer closed a QPACK stream');
  }

  protected fail(message: string): never {
    throw new H3Error(this.errorCode, message, 'connection');
  }

  /** Reads an integer; 0 bytes used means "wait for more". */
  protected int(buf: Uint8Array, offset: number, prefixBits: number): { value: number; used: number } {
    const r = readPrefixedInt(buf, offset, prefixBits);
    if (r.ok) return { value: r.value, used: r.next - offset };
    if (r.reason === 'overflow') this.fail('integer too large');
    return { value: 0, used: 0 };
  }

  /** Handles the instruction at `offset`; returns the bytes it used, or 0 when it is not complete yet. */
  protected abstract instruction(buf: Uint8Array, offset: number): number;
}

/**
 * The peer's encoder stream (RFC 9204 §4.3). Only Set Dynamic Table Capacity up to `maxTableCapacity` (0 by
 * default) is acceptable; every insertion or duplication needs a table this endpoint does not have, which is
 * QPACK_ENCODER_STREAM_ERROR (RFC 9204 §3.2.2, §4.3.1).
 */
export class QpackEncoderStreamReader extends InstructionStreamReader {
  constructor(private readonly maxTableCapacity = 0) {
    super(H3ErrorCode.QPACK_ENCODER_STREAM_ERROR);
  }

  protected instruction(buf: Uint8Array, offset: number): number {
    const first = buf[offset]!;
    if ((first & 0xe0) !== 0x20) this.fail('dynamic table insertion, but the maximum table capacity is 0');
    const { value, used } = this.int(buf, offset, 5);
    if (used > 0 && value > this.maxTableCapacity) {
      this.fail(`dynamic table capacity ${value} exceeds the maximum ${this.maxTableCapacity}`);
    }
    return used;
  }
}

/**
 * The peer's decoder stream (RFC 9204 §4.4), answering an encoder that never references the dynamic table:
 * Stream Cancellation is fine (reported through `cancelledStreams`); a Section Acknowledgment (nothing needs one)
 * or an Insert Count Increment (nothing was inserted) is QPACK_DECODER_STREAM_ERROR (RFC 9204 §4.4.1, §4.4.3).
 */
export class QpackDecoderStreamReader extends InstructionStreamReader {
  /** Stream IDs the peer cancelled, in order. */
  readonly cancelledStreams: number[] = [];

  constructor() {
    super(H3ErrorCode.QPACK_DECODER_STREAM_ERROR);
  }

  protected instruction(buf: Uint8Array, offset: number): number {
    const first = buf[offset]!;
    if (first & 0x80) {
      const { value, used } = this.int(buf, offset, 7);
      if (used > 0) this.fail(`Section Acknowledgment for stream ${value}, which has no dynamic references`);
      return 0;
    }
    const { value, used } = this.int(buf, offset, 6);
    if (used === 0) return 0;
    if (first & 0x40) {
      this.cancelledStreams.push(value);
      return used;
    }
    return this.fail(`Insert Count Increment of ${value}, but no entries were inserted`);
  }
}
