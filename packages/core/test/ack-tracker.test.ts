import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Writer, encodeFrame, parseFrames } from '@pathquic/wire-codec';
import type { AckRange } from '@pathquic/wire-codec';
import {
  AckTrackerConfigError,
  DEFAULT_MAX_ACK_DELAY_MS,
  ReceivedPacketTracker,
} from '../src/ack-tracker.js';

function app(options: Partial<ConstructorParameters<typeof ReceivedPacketTracker>[0]> = {}): ReceivedPacketTracker {
  return new ReceivedPacketTracker({ space: 'application', ...options });
}

function receiveAll(t: ReceivedPacketTracker, pns: number[], now = 0, ackEliciting = true): void {
  for (const pn of pns) t.onPacketReceived(pn, now, ackEliciting);
}

function rangesOf(t: ReceivedPacketTracker, now = 0): AckRange[] {
  return t.buildAckFrame(now)?.ranges ?? [];
}

describe('ReceivedPacketTracker: ranges and duplicates (RFC 9000 §13.2.3)', () => {
  it('starts empty with nothing to acknowledge', () => {
    const t = app();
    expect(t.largestReceived).toBe(-1);
    expect(t.buildAckFrame(0)).toBeUndefined();
    expect(t.ackDeadline()).toBeUndefined();
    expect(t.hasNewPackets).toBe(false);
    expect(t.isDuplicate(0)).toBe(false);
  });

  it('merges packet numbers into descending ranges, joining neighbours on both sides', () => {
    const t = app();
    receiveAll(t, [0, 1, 2, 5, 7, 6, 10]);
    expect(rangesOf(t)).toEqual([
      { largest: 10, smallest: 10 },
      { largest: 7, smallest: 5 },
      { largest: 2, smallest: 0 },
    ]);
    receiveAll(t, [3, 4]);
    expect(rangesOf(t)).toEqual([
      { largest: 10, smallest: 10 },
      { largest: 7, smallest: 0 },
    ]);
    expect(t.rangeCount).toBe(2);
  });

  it('reports duplicates, which change nothing', () => {
    const t = app();
    expect(t.onPacketReceived(4, 10, true, 'ce')).toBe(true);
    t.onAckSent();
    expect(t.isDuplicate(4)).toBe(true);
    expect(t.onPacketReceived(4, 20, true, 'ce')).toBe(false);
    expect(t.ecn).toEqual({ ect0: 0, ect1: 0, ce: 1 }); // RFC 9000 §13.4.1: duplicates are not counted
    expect(t.ackDeadline()).toBeUndefined();
    expect(t.hasNewPackets).toBe(false);
    expect(t.largestReceivedTime).toBe(10);
  });

  it('forgets the oldest ranges beyond the limit and treats packets below them as duplicates', () => {
    const t = app({ maxRanges: 3 });
    receiveAll(t, [0, 2, 4, 6]);
    expect(t.rangeCount).toBe(3);
    expect(rangesOf(t).map((r) => r.largest)).toEqual([6, 4, 2]);
    expect(t.isDuplicate(0)).toBe(true); // forgotten, so it cannot be told from a first arrival
    expect(t.isDuplicate(1)).toBe(true); // below the floor
    expect(t.isDuplicate(3)).toBe(false); // fills a gap between remembered ranges
    expect(t.onPacketReceived(3, 0, true)).toBe(true);
    expect(rangesOf(t)).toEqual([
      { largest: 6, smallest: 6 },
      { largest: 4, smallest: 2 },
    ]);
    expect(t.largestReceived).toBe(6);
  });

  it('drops a packet that would open a new lowest range when all range slots are in use', () => {
    const t = app({ maxRanges: 2 });
    receiveAll(t, [10, 12]);
    expect(t.isDuplicate(5)).toBe(true);
    expect(t.onPacketReceived(5, 0, true)).toBe(false);
    expect(t.isDuplicate(9)).toBe(false); // joins the lowest range
    expect(t.onPacketReceived(9, 0, true)).toBe(true);
    expect(rangesOf(t)).toEqual([
      { largest: 12, smallest: 12 },
      { largest: 10, smallest: 9 },
    ]);
  });

  it('keeps the largest packet number and its receive time', () => {
    const t = app();
    t.onPacketReceived(9, 100, false);
    t.onPacketReceived(3, 200, true);
    expect(t.largestReceived).toBe(9);
    expect(t.largestReceivedTime).toBe(100);
  });

  it('rejects invalid packet numbers and options with AckTrackerConfigError', () => {
    expect(() => app().onPacketReceived(-1, 0, true)).toThrow(AckTrackerConfigError);
    expect(() => app().onPacketReceived(1.5, 0, true)).toThrow(AckTrackerConfigError);
    expect(() => app({ ackDelayExponent: 21 })).toThrow(AckTrackerConfigError);
    expect(() => app({ maxRanges: 0 })).toThrow(AckTrackerConfigError);
    expect(() => app({ ackElicitingThreshold: 0 })).toThrow(AckTrackerConfigError);
    expect(() => app({ maxAckDelay: -1 })).toThrow(AckTrackerConfigError);
    expect(() => app({ maxAckDelay: 2 ** 14 })).toThrow(AckTrackerConfigError);
  });
});

describe('ReceivedPacketTracker: when to acknowledge (RFC 9000 §13.2.1, §13.2.2)', () => {
  it('delays the ACK for one in-order ack-eliciting packet by max_ack_delay', () => {
    const t = app();
    t.onPacketReceived(0, 1000, true);
    expect(t.ackDeadline()).toBe(1000 + DEFAULT_MAX_ACK_DELAY_MS);
    expect(t.shouldSendAck(1024)).toBe(false);
    expect(t.shouldSendAck(1025)).toBe(true);
  });

  it('acknowledges every second ack-eliciting packet immediately', () => {
    const t = app({ maxAckDelay: 40 });
    t.onPacketReceived(0, 1000, true);
    t.onPacketReceived(1, 1005, true);
    expect(t.ackDeadline()).toBe(1005);
    expect(t.ackElicitingSinceAck).toBe(2);
    t.onAckSent();
    expect(t.ackDeadline()).toBeUndefined();
    expect(t.ackElicitingSinceAck).toBe(0);
    t.onPacketReceived(2, 1010, true);
    expect(t.ackDeadline()).toBe(1050);
  });

  it('honours a configured ack-eliciting threshold', () => {
    const t = app({ ackElicitingThreshold: 4, maxAckDelay: 10 });
    for (let pn = 0; pn < 3; pn++) t.onPacketReceived(pn, 100 + pn, true);
    expect(t.ackDeadline()).toBe(110); // the first packet's deadline still holds
    t.onPacketReceived(3, 104, true);
    expect(t.ackDeadline()).toBe(104);
  });

  it('never schedules an ACK for non-ack-eliciting packets alone, but includes them', () => {
    const t = app();
    receiveAll(t, [0, 1, 2, 5], 0, false);
    expect(t.ackDeadline()).toBeUndefined();
    expect(t.hasNewPackets).toBe(true);
    t.onPacketReceived(6, 50, true);
    expect(t.ackDeadline()).toBe(50 + DEFAULT_MAX_ACK_DELAY_MS); // non-eliciting 5 fills the gap below 6
    expect(rangesOf(t, 50)).toEqual([
      { largest: 6, smallest: 5 },
      { largest: 2, smallest: 0 },
    ]);
  });

  it('acknowledges immediately a packet that leaves a gap above the largest ack-eliciting one', () => {
    const t = app();
    t.onPacketReceived(0, 0, true);
    t.onAckSent();
    t.onPacketReceived(2, 7, true);
    expect(t.ackDeadline()).toBe(7);
  });

  it('acknowledges immediately a packet below the largest ack-eliciting one', () => {
    const t = app();
    t.onPacketReceived(0, 0, true);
    t.onPacketReceived(2, 1, true); // gap
    t.onAckSent();
    t.onPacketReceived(1, 9, true); // fills it but arrives late
    expect(t.ackDeadline()).toBe(9);
  });

  it('treats a gap filled by non-ack-eliciting packets as in order', () => {
    const t = app();
    t.onPacketReceived(0, 0, true);
    t.onAckSent();
    t.onPacketReceived(1, 1, false);
    t.onPacketReceived(2, 2, true);
    expect(t.ackDeadline()).toBe(2 + DEFAULT_MAX_ACK_DELAY_MS);
  });

  it('does not call the first packet out of order, whatever its number', () => {
    const t = app();
    t.onPacketReceived(100, 0, true);
    expect(t.ackDeadline()).toBe(DEFAULT_MAX_ACK_DELAY_MS);
  });

  it('acknowledges CE-marked ack-eliciting packets immediately', () => {
    const t = app();
    t.onPacketReceived(0, 3, true, 'ce');
    expect(t.ackDeadline()).toBe(3);
    const u = app();
    u.onPacketReceived(0, 3, false, 'ce');
    expect(u.ackDeadline()).toBeUndefined();
  });

  it('acknowledges Initial and Handshake packets immediately, with an ACK Delay of 0', () => {
    for (const space of ['initial', 'handshake'] as const) {
      const t = new ReceivedPacketTracker({ space });
      t.onPacketReceived(0, 500, true);
      expect(t.ackDeadline()).toBe(500);
      expect(t.buildAckFrame(530)?.ackDelay).toBe(0);
    }
  });

  it('keeps the earliest deadline when later packets would allow a later one', () => {
    const t = app({ maxAckDelay: 20 });
    t.onPacketReceived(5, 0, true);
    t.onPacketReceived(3, 1, false);
    expect(t.ackDeadline()).toBe(20);
  });
});

describe('ReceivedPacketTracker: ACK frames (RFC 9000 §19.3)', () => {
  it('encodes ACK Delay from the largest packet receive time with ack_delay_exponent', () => {
    const t = app({ ackDelayExponent: 3 });
    t.onPacketReceived(0, 1000, true);
    t.onPacketReceived(1, 1002, true);
    const frame = t.buildAckFrame(1012.5);
    // 10.5 ms = 10500 µs; 10500 / 2^3 = 1312.5 → 1312
    expect(frame).toEqual({ type: 'ack', largestAcknowledged: 1, ackDelay: 1312, ranges: [{ largest: 1, smallest: 0 }] });
    expect(app({ ackDelayExponent: 0 }).buildAckFrame(0)).toBeUndefined();
    const u = app({ ackDelayExponent: 0 });
    u.onPacketReceived(0, 5, true);
    expect(u.buildAckFrame(7)?.ackDelay).toBe(2000);
    expect(u.buildAckFrame(4)?.ackDelay).toBe(0); // never negative
  });

  it('includes ECN counts once any codepoint was seen', () => {
    const t = app();
    t.onPacketReceived(0, 0, true);
    expect(t.buildAckFrame(0)?.ecn).toBeUndefined();
    t.onPacketReceived(1, 0, true, 'ect0');
    t.onPacketReceived(2, 0, true, 'ect0');
    t.onPacketReceived(3, 0, true, 'ect1');
    t.onPacketReceived(4, 0, false, 'ce');
    expect(t.buildAckFrame(0)?.ecn).toEqual({ ect0: 2, ect1: 1, ce: 1 });
    expect(t.ecn).toEqual({ ect0: 2, ect1: 1, ce: 1 });
  });

  it('keeps ECN counts per space', () => {
    const initial = new ReceivedPacketTracker({ space: 'initial' });
    const application = app();
    initial.onPacketReceived(0, 0, true, 'ect0');
    application.onPacketReceived(0, 0, true, 'ect1');
    expect(initial.ecn).toEqual({ ect0: 1, ect1: 0, ce: 0 });
    expect(application.ecn).toEqual({ ect0: 0, ect1: 1, ce: 0 });
  });

  it('caps the ranges of one frame, keeping the highest', () => {
    const t = app();
    receiveAll(t, [0, 2, 4, 6]);
    expect(t.buildAckFrame(0, 2)?.ranges).toEqual([
      { largest: 6, smallest: 6 },
      { largest: 4, smallest: 4 },
    ]);
  });

  it('builds frames the wire codec encodes and decodes unchanged', () => {
    const t = app();
    receiveAll(t, [0, 1, 3, 4, 5, 9, 20, 21]);
    t.onPacketReceived(22, 0, true, 'ect0');
    const frame = t.buildAckFrame(3);
    expect(frame).toBeDefined();
    if (frame === undefined) return;
    const writer = new Writer();
    encodeFrame(frame, writer);
    const decoded = parseFrames(writer.bytes());
    expect(decoded).toEqual([frame]);
  });

  it('stops acknowledging what the peer saw acknowledged (RFC 9000 §13.2.4)', () => {
    const t = app();
    receiveAll(t, [0, 1, 2, 4, 5]);
    const first = t.buildAckFrame(0);
    expect(first?.ranges).toEqual([
      { largest: 5, smallest: 4 },
      { largest: 2, smallest: 0 },
    ]);
    t.onAckSent();
    receiveAll(t, [7, 8]);
    t.onAckOfAckReceived(first?.largestAcknowledged ?? -1);
    expect(rangesOf(t)).toEqual([{ largest: 8, smallest: 7 }]);
    // Still duplicates, though no longer acknowledged.
    expect(t.isDuplicate(1)).toBe(true);
    // Everything seen acknowledged: nothing to send.
    t.onAckOfAckReceived(8);
    expect(t.buildAckFrame(0)).toBeUndefined();
    // A stale ACK of an older ACK changes nothing.
    t.onAckOfAckReceived(2);
    expect(t.buildAckFrame(0)).toBeUndefined();
  });

  it('acknowledges again a late packet below what the peer saw acknowledged', () => {
    const t = app();
    receiveAll(t, [0, 1, 3, 4]);
    t.onAckSent();
    t.onAckOfAckReceived(4);
    t.onPacketReceived(2, 10, true);
    expect(t.ackDeadline()).toBe(10); // out of order
    const ranges = rangesOf(t, 10);
    expect(ranges).toEqual([{ largest: 4, smallest: 2 }]);
  });

  it('does not change state when building a frame', () => {
    const t = app();
    t.onPacketReceived(0, 0, true);
    t.buildAckFrame(1);
    expect(t.ackDeadline()).toBe(DEFAULT_MAX_ACK_DELAY_MS);
    expect(t.hasNewPackets).toBe(true);
  });
});

/** Model: the set of accepted packet numbers, with ranges truncated to the lowest `maxRanges`. */
function modelRanges(received: Set<number>, maxRanges: number): AckRange[] {
  const sorted = [...received].sort((a, b) => b - a);
  const ranges: AckRange[] = [];
  for (const pn of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.smallest === pn + 1) last.smallest = pn;
    else ranges.push({ largest: pn, smallest: pn });
  }
  return ranges.slice(0, maxRanges);
}

describe('ReceivedPacketTracker properties', () => {
  it('produces the ranges of a set-based model when the range limit is never reached', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }), (pns) => {
        const t = app({ maxRanges: 1000 });
        const seen = new Set<number>();
        for (const pn of pns) {
          expect(t.isDuplicate(pn)).toBe(seen.has(pn));
          expect(t.onPacketReceived(pn, 0, true)).toBe(!seen.has(pn));
          seen.add(pn);
        }
        expect(rangesOf(t)).toEqual(modelRanges(seen, 1000));
        if (seen.size > 0) expect(t.largestReceived).toBe(Math.max(...seen));
      }),
    );
  });

  it('under a small range limit, reports exactly the highest ranges of the accepted packets it still holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 200 }),
        (maxRanges, pns) => {
          const t = app({ maxRanges });
          const accepted = new Set<number>();
          for (const pn of pns) {
            if (t.onPacketReceived(pn, 0, true)) {
              expect(accepted.has(pn)).toBe(false); // never accepts a packet twice
              accepted.add(pn);
              // RFC 9000 §13.2.3: once more than maxRanges ranges are held the lowest are forgotten for good, even if
              // a later packet merges two of the kept ones (counterexample found by fast-check: limit 2, 118 0 116 117).
              for (const dropped of modelRanges(accepted, Infinity).slice(maxRanges)) {
                for (let x = dropped.smallest; x <= dropped.largest; x++) accepted.delete(x);
              }
            }
          }
          const ranges = rangesOf(t);
          expect(ranges.length).toBeLessThanOrEqual(maxRanges);
          expect(ranges).toEqual(modelRanges(accepted, maxRanges));
          // Every reported packet number was accepted; the largest accepted is always reported.
          if (accepted.size > 0) expect(ranges[0]?.largest).toBe(Math.max(...accepted));
        },
      ),
    );
  });

  it('after an ACK of an ACK, reports the model above the acknowledged largest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 100 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 50 }),
        (before, after) => {
          const t = app({ maxRanges: 1000 });
          const seen = new Set<number>();
          for (const pn of before) if (t.onPacketReceived(pn, 0, true)) seen.add(pn);
          const largest = t.buildAckFrame(0)?.largestAcknowledged ?? -1;
          t.onAckSent();
          t.onAckOfAckReceived(largest);
          let floor = largest;
          for (const pn of after) {
            if (t.onPacketReceived(pn, 0, true)) {
              seen.add(pn);
              if (pn <= floor) floor = pn - 1;
            }
          }
          const expected = modelRanges(new Set([...seen].filter((pn) => pn > floor)), 1000);
          expect(rangesOf(t)).toEqual(expected);
        },
      ),
    );
  });
});
