import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import {
  CryptoReassemblyBuffer,
  DEFAULT_CRYPTO_BUFFER,
  MIN_CRYPTO_BUFFER,
  ReassemblyBuffer,
  ReassemblyUsageError,
} from '../src/reassembly.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const range = (start: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

function drain(buffer: { read(max?: number): Uint8Array | undefined }, max?: number): number[] {
  const out: number[] = [];
  for (let chunk = buffer.read(max); chunk !== undefined; chunk = buffer.read(max)) out.push(...chunk);
  return out;
}

function expectCode(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QuicCodecError);
    expect((error as QuicCodecError).code).toBe(code);
    return;
  }
  expect.fail('expected a QuicCodecError');
}

describe('ReassemblyBuffer: ordering (RFC 9000 §2.2)', () => {
  it('delivers in-order data as it arrives', () => {
    const b = new ReassemblyBuffer();
    expect(b.insert(0, bytes(1, 2, 3))).toBe(3);
    expect(b.availableBytes).toBe(3);
    expect(drain(b)).toEqual([1, 2, 3]);
    expect(b.readOffset).toBe(3);
    expect(b.read()).toBeUndefined();
  });

  it('holds out-of-order data until the gap is filled', () => {
    const b = new ReassemblyBuffer();
    b.insert(3, bytes(4, 5));
    expect(b.availableBytes).toBe(0);
    expect(b.read()).toBeUndefined();
    expect(b.bufferedBytes).toBe(2);
    expect(b.highestOffset).toBe(5);
    b.insert(0, bytes(1, 2, 3));
    expect(b.availableBytes).toBe(5);
    expect(drain(b)).toEqual([1, 2, 3, 4, 5]);
    expect(b.bufferedBytes).toBe(0);
  });

  it('keeps the first copy of overlapping bytes and stores only the uncovered parts', () => {
    const b = new ReassemblyBuffer();
    b.insert(2, bytes(12, 13));
    b.insert(6, bytes(16, 17));
    // Covers 0..9 with different values; only 0-1, 4-5 and 8-9 are new.
    expect(b.insert(0, Uint8Array.from({ length: 10 }, () => 99))).toBe(6);
    expect(b.bufferedBytes).toBe(10);
    expect(drain(b)).toEqual([99, 99, 12, 13, 99, 99, 16, 17, 99, 99]);
  });

  it('ignores duplicates and data already read', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1, 2, 3, 4));
    expect(b.insert(0, bytes(1, 2, 3, 4))).toBe(0);
    expect(b.insert(1, bytes(2, 3))).toBe(0);
    expect(drain(b, 3)).toEqual([1, 2, 3, 4]);
    expect(b.insert(0, bytes(1, 2, 3, 4))).toBe(0);
    expect(b.insert(2, bytes(3, 4, 5))).toBe(1);
    expect(drain(b)).toEqual([5]);
    expect(b.bufferedBytes).toBe(0);
  });

  it('reads in pieces of at most maxBytes, as views of the stored bytes', () => {
    const b = new ReassemblyBuffer({ copy: false });
    const data = range(0, 10);
    b.insert(0, data);
    const first = b.read(4);
    expect([...(first ?? [])]).toEqual([0, 1, 2, 3]);
    expect(first?.buffer).toBe(data.buffer); // no copy with copy: false
    expect(b.availableBytes).toBe(6);
    expect(drain(b, 4)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(() => b.read(0)).toThrow(ReassemblyUsageError);
    expect(() => b.read(1.5)).toThrow(ReassemblyUsageError);
  });

  it('copies inserted bytes by default, so the caller may reuse its buffer', () => {
    const b = new ReassemblyBuffer();
    const data = bytes(1, 2, 3);
    b.insert(0, data);
    data.fill(0);
    expect(drain(b)).toEqual([1, 2, 3]);
  });

  it('accepts empty chunks and rejects invalid offsets with ReassemblyUsageError', () => {
    const b = new ReassemblyBuffer();
    expect(b.insert(5, new Uint8Array(0))).toBe(0);
    expect(b.highestOffset).toBe(5);
    expect(() => b.insert(-1, bytes(1))).toThrow(ReassemblyUsageError);
    expect(() => b.insert(0.5, bytes(1))).toThrow(ReassemblyUsageError);
  });

  it('refuses data ending beyond 2^53-1 with FLOW_CONTROL_ERROR (RFC 9000 §19.8)', () => {
    const b = new ReassemblyBuffer();
    expectCode(() => b.insert(Number.MAX_SAFE_INTEGER, bytes(1)), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('compacts its chunk list while many small chunks are read', () => {
    const b = new ReassemblyBuffer();
    const n = 1000;
    for (let i = n - 1; i >= 0; i--) b.insert(i, bytes(i & 0xff));
    const out = drain(b);
    expect(out.length).toBe(n);
    expect(out.every((v, i) => v === (i & 0xff))).toBe(true);
    b.insert(n, bytes(7));
    expect(drain(b)).toEqual([7]);
  });
});

describe('ReassemblyBuffer: final size (RFC 9000 §4.5)', () => {
  it('fixes the final size with FIN and finishes once everything is read', () => {
    const b = new ReassemblyBuffer();
    b.insert(3, bytes(4, 5), true);
    expect(b.finalSize).toBe(5);
    expect(b.isComplete).toBe(false);
    b.insert(0, bytes(1, 2, 3));
    expect(b.isComplete).toBe(true);
    expect(b.isFinished).toBe(false);
    drain(b);
    expect(b.isFinished).toBe(true);
  });

  it('accepts an empty FIN frame and repeated FIN at the same size', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1, 2));
    b.insert(2, new Uint8Array(0), true);
    b.insert(0, bytes(1, 2), true);
    expect(b.finalSize).toBe(2);
    drain(b);
    expect(b.isFinished).toBe(true);
  });

  it('refuses data beyond the final size', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1), true);
    expectCode(() => b.insert(1, bytes(2)), TransportErrorCode.FINAL_SIZE_ERROR);
    expectCode(() => b.insert(0, bytes(1, 2)), TransportErrorCode.FINAL_SIZE_ERROR);
    b.insert(0, bytes(1)); // up to the final size is fine
  });

  it('refuses a different final size', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1, 2), true);
    expectCode(() => b.insert(0, bytes(1), true), TransportErrorCode.FINAL_SIZE_ERROR);
    expectCode(() => b.setFinalSize(3), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('refuses a final size below data already received', () => {
    const b = new ReassemblyBuffer();
    b.insert(10, bytes(1, 2));
    expectCode(() => b.insert(0, bytes(1), true), TransportErrorCode.FINAL_SIZE_ERROR);
    expectCode(() => b.setFinalSize(11), TransportErrorCode.FINAL_SIZE_ERROR);
    expect(b.finalSize).toBeUndefined();
  });

  it('takes the final size of a RESET_STREAM through setFinalSize', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1, 2, 3));
    b.setFinalSize(8);
    expect(b.finalSize).toBe(8);
    expectCode(() => b.insert(6, bytes(1, 2, 3)), TransportErrorCode.FINAL_SIZE_ERROR);
    expect(() => b.setFinalSize(-1)).toThrow(ReassemblyUsageError);
  });

  it('after discard, stores nothing but still enforces the final size and tracks the highest offset', () => {
    const b = new ReassemblyBuffer();
    b.insert(0, bytes(1, 2));
    b.insert(5, bytes(6, 7));
    b.discard();
    expect(b.bufferedBytes).toBe(0);
    expect(b.read()).toBeUndefined();
    expect(b.insert(7, bytes(8, 9), true)).toBe(0);
    expect(b.highestOffset).toBe(9);
    expect(b.isFinished).toBe(true);
    expectCode(() => b.insert(9, bytes(1)), TransportErrorCode.FINAL_SIZE_ERROR);
  });
});

describe('CryptoReassemblyBuffer (RFC 9000 §7.5)', () => {
  it('buffers out-of-order data up to its bound, which is at least 4096 bytes', () => {
    expect(MIN_CRYPTO_BUFFER).toBe(4096);
    const c = new CryptoReassemblyBuffer({ maxBuffered: MIN_CRYPTO_BUFFER });
    expect(c.insert(100, range(100, MIN_CRYPTO_BUFFER - 100))).toBe(MIN_CRYPTO_BUFFER - 100);
    expect(c.highestOffset).toBe(MIN_CRYPTO_BUFFER);
    expectCode(() => c.insert(MIN_CRYPTO_BUFFER, bytes(0)), TransportErrorCode.CRYPTO_BUFFER_EXCEEDED);
    c.insert(0, range(0, 100));
    expect(c.availableBytes).toBe(MIN_CRYPTO_BUFFER);
    const out = drain(c);
    expect(out.length).toBe(MIN_CRYPTO_BUFFER);
    expect(c.readOffset).toBe(MIN_CRYPTO_BUFFER);
    // The bound moves with the read offset.
    expect(c.insert(2 * MIN_CRYPTO_BUFFER - 1, bytes(1))).toBe(1);
    expect(c.bufferedBytes).toBe(1);
  });

  it('ignores retransmitted data below the read offset', () => {
    const c = new CryptoReassemblyBuffer();
    c.insert(0, bytes(1, 2, 3));
    drain(c);
    expect(c.insert(0, bytes(1, 2, 3))).toBe(0);
  });

  it('defaults to a larger bound and rejects one below 4096', () => {
    expect(new CryptoReassemblyBuffer().maxBuffered).toBe(DEFAULT_CRYPTO_BUFFER);
    expect(() => new CryptoReassemblyBuffer({ maxBuffered: 4095 })).toThrow(ReassemblyUsageError);
  });
});

describe('ReassemblyBuffer properties', () => {
  /** Random chunks (possibly overlapping, repeated) covering the whole of `data`, in a shuffled order. */
  const chunking = fc
    .uint8Array({ minLength: 0, maxLength: 400 })
    .chain((data) =>
      fc
        .array(
          fc.tuple(fc.integer({ min: 0, max: Math.max(0, data.length - 1) }), fc.integer({ min: 1, max: 64 })),
          { maxLength: 40 },
        )
        .map((extra) => {
          const pieces: [number, number][] = [];
          for (let off = 0; off < data.length; off += 37) pieces.push([off, Math.min(37, data.length - off)]);
          for (const [off, len] of extra) if (data.length > 0) pieces.push([off, Math.min(len, data.length - off)]);
          return pieces;
        })
        .chain((pieces) => fc.shuffledSubarray(pieces, { minLength: pieces.length, maxLength: pieces.length }))
        .map((pieces) => ({ data, pieces })),
    );

  it('any arrival order of overlapping chunks reassembles to the original bytes', () => {
    fc.assert(
      fc.property(chunking, fc.integer({ min: 1, max: 50 }), fc.boolean(), ({ data, pieces }, readSize, readEarly) => {
        const b = new ReassemblyBuffer();
        const out: number[] = [];
        for (const [off, len] of pieces) {
          b.insert(off, data.subarray(off, off + len), off + len === data.length);
          if (readEarly) out.push(...drain(b, readSize));
          expect(b.bufferedBytes).toBeGreaterThanOrEqual(0);
        }
        out.push(...drain(b, readSize));
        expect(out).toEqual([...data]);
        expect(b.bufferedBytes).toBe(0);
        expect(b.highestOffset).toBe(data.length);
        if (data.length > 0) expect(b.isFinished).toBe(true);
      }),
    );
  });

  it('bufferedBytes counts exactly the distinct unread bytes received', () => {
    fc.assert(
      fc.property(chunking, ({ data, pieces }) => {
        const b = new ReassemblyBuffer();
        const seen = new Set<number>();
        for (const [off, len] of pieces) {
          b.insert(off, data.subarray(off, off + len));
          for (let i = off; i < off + len; i++) seen.add(i);
          let contiguous = 0;
          while (seen.has(contiguous)) contiguous++;
          expect(b.bufferedBytes).toBe(seen.size);
          expect(b.availableBytes).toBe(contiguous);
        }
      }),
    );
  });
});
