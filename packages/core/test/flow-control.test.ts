import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameType, QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import {
  FlowControlUsageError,
  IncomingStreamLimit,
  MAX_STREAM_COUNT,
  OutgoingStreamLimit,
  ReceiveWindow,
  SendCredit,
  checkStreamCount,
} from '../src/flow-control.js';

function expectCode(fn: () => unknown, code: number): QuicCodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QuicCodecError);
    expect((error as QuicCodecError).code).toBe(code);
    return error as QuicCodecError;
  }
  return expect.fail('expected a QuicCodecError');
}

describe('SendCredit (RFC 9000 §4.1)', () => {
  it('allows sending up to the peer limit and no further', () => {
    const c = new SendCredit(100);
    c.onSent(60);
    expect(c.available).toBe(40);
    expect(c.isBlocked).toBe(false);
    expect(() => c.onSent(41)).toThrow(FlowControlUsageError);
    expect(c.sent).toBe(60);
    c.onSent(40);
    expect(c.isBlocked).toBe(true);
    expect(c.available).toBe(0);
  });

  it('raises the limit on MAX_DATA and ignores values that do not increase it', () => {
    const c = new SendCredit(100);
    expect(c.onMaxUpdate(50)).toBe(false);
    expect(c.onMaxUpdate(100)).toBe(false);
    expect(c.max).toBe(100);
    expect(c.onMaxUpdate(150)).toBe(true);
    expect(c.max).toBe(150);
  });

  it('reports DATA_BLOCKED once per limit', () => {
    const c = new SendCredit(10);
    expect(c.takeBlocked()).toBeUndefined(); // credit left: not blocked
    c.onSent(10);
    expect(c.takeBlocked()).toBe(10);
    expect(c.takeBlocked()).toBeUndefined();
    c.onMaxUpdate(20);
    expect(c.takeBlocked()).toBeUndefined();
    c.onSent(10);
    expect(c.takeBlocked()).toBe(20);
  });

  it('reports blocked at once with a zero initial limit', () => {
    const c = new SendCredit(0);
    expect(c.takeBlocked()).toBe(0);
  });

  it('rejects invalid arguments with FlowControlUsageError', () => {
    expect(() => new SendCredit(-1)).toThrow(FlowControlUsageError);
    expect(() => new SendCredit(10).onSent(1.5)).toThrow(FlowControlUsageError);
    expect(() => new SendCredit(10).onMaxUpdate(Number.NaN)).toThrow(FlowControlUsageError);
  });
});

describe('ReceiveWindow (RFC 9000 §4.1, §4.2)', () => {
  it('refuses data beyond the advertised limit with FLOW_CONTROL_ERROR', () => {
    const w = new ReceiveWindow({ initialWindow: 100 });
    expect(w.onReceivedUpTo(100)).toBe(100);
    expectCode(() => w.onReceivedUpTo(101), TransportErrorCode.FLOW_CONTROL_ERROR);
    expect(w.highestReceived).toBe(100);
  });

  it('counts only increases of the highest offset (retransmissions and reordering are free)', () => {
    const w = new ReceiveWindow({ initialWindow: 100 });
    expect(w.onReceivedUpTo(40)).toBe(40);
    expect(w.onReceivedUpTo(20)).toBe(0);
    expect(w.onReceivedUpTo(40)).toBe(0);
    expect(w.onReceivedUpTo(50)).toBe(10);
  });

  it('sums per-stream increases at the connection level', () => {
    const connection = new ReceiveWindow({ initialWindow: 100 });
    const a = new ReceiveWindow({ initialWindow: 80 });
    const b = new ReceiveWindow({ initialWindow: 80 });
    connection.onIncrease(a.onReceivedUpTo(60));
    connection.onIncrease(b.onReceivedUpTo(40));
    expect(connection.highestReceived).toBe(100);
    expectCode(() => connection.onIncrease(a.onReceivedUpTo(61)), TransportErrorCode.FLOW_CONTROL_ERROR);
  });

  it('advertises a new limit once less than half the window remains', () => {
    const w = new ReceiveWindow({ initialWindow: 100 });
    w.onReceivedUpTo(100);
    w.onConsumed(50);
    expect(w.shouldUpdate).toBe(false);
    expect(w.takeMaxUpdate(0, 10)).toBeUndefined();
    w.onConsumed(1);
    expect(w.shouldUpdate).toBe(true);
    expect(w.takeMaxUpdate(0, 10)).toBe(151);
    expect(w.maxData).toBe(151);
    expect(w.shouldUpdate).toBe(false);
    w.onReceivedUpTo(151);
  });

  it('refuses consuming more than was received', () => {
    const w = new ReceiveWindow({ initialWindow: 100 });
    w.onReceivedUpTo(10);
    expect(() => w.onConsumed(11)).toThrow(FlowControlUsageError);
  });

  it('doubles the window when updates come less than two RTTs apart, up to the maximum', () => {
    const w = new ReceiveWindow({ initialWindow: 100, maxWindow: 300 });
    const rtt = 50;
    let now = 0;
    const consumeHalf = (): number | undefined => {
      const target = w.maxData;
      w.onReceivedUpTo(target);
      w.onConsumed(target - w.consumed);
      return w.takeMaxUpdate(now, rtt);
    };
    expect(consumeHalf()).toBe(200); // first update: no history, no tuning
    expect(w.window).toBe(100);
    now += 60; // < 2 RTT after the previous update
    expect(consumeHalf()).toBe(400);
    expect(w.window).toBe(200);
    now += 60;
    expect(consumeHalf()).toBe(700);
    expect(w.window).toBe(300); // capped
    now += 60;
    expect(consumeHalf()).toBe(1000);
    expect(w.window).toBe(300);
  });

  it('keeps the window when updates are at least two RTTs apart or no RTT is known', () => {
    const w = new ReceiveWindow({ initialWindow: 100, maxWindow: 1000 });
    const cycle = (now: number, rtt: number): void => {
      w.onReceivedUpTo(w.maxData);
      w.onConsumed(w.maxData - w.consumed);
      w.takeMaxUpdate(now, rtt);
    };
    cycle(0, 50);
    cycle(100, 50); // exactly 2 RTTs: slow enough
    expect(w.window).toBe(100);
    cycle(101, 0); // no RTT sample yet
    expect(w.window).toBe(100);
  });

  it('rejects a maximum window below the initial one', () => {
    expect(() => new ReceiveWindow({ initialWindow: 100, maxWindow: 50 })).toThrow(FlowControlUsageError);
  });
});

describe('stream count limits (RFC 9000 §4.6)', () => {
  it('opens outgoing streams up to the peer limit and reports STREAMS_BLOCKED once per limit', () => {
    const l = new OutgoingStreamLimit(2);
    expect(l.takeBlocked()).toBeUndefined();
    expect(l.open()).toBe(0);
    expect(l.open()).toBe(1);
    expect(l.canOpen).toBe(false);
    expect(() => l.open()).toThrow(FlowControlUsageError);
    expect(l.takeBlocked()).toBe(2);
    expect(l.takeBlocked()).toBeUndefined();
    expect(l.onMaxStreams(1)).toBe(false);
    expect(l.onMaxStreams(3)).toBe(true);
    expect(l.open()).toBe(2);
    expect(l.takeBlocked()).toBe(3);
    expect(l.opened).toBe(3);
  });

  it('treats MAX_STREAMS and STREAMS_BLOCKED above 2^60 as FRAME_ENCODING_ERROR', () => {
    const l = new OutgoingStreamLimit(0);
    expect(l.onMaxStreams(MAX_STREAM_COUNT)).toBe(true);
    const error = expectCode(
      () => new OutgoingStreamLimit(0).onMaxStreams(MAX_STREAM_COUNT + 2 ** 10, FrameType.MAX_STREAMS_BIDI),
      TransportErrorCode.FRAME_ENCODING_ERROR,
    );
    expect(error.frameType).toBe(FrameType.MAX_STREAMS_BIDI);
    expectCode(() => checkStreamCount(2 ** 61), TransportErrorCode.FRAME_ENCODING_ERROR);
    expect(() => checkStreamCount(MAX_STREAM_COUNT)).not.toThrow();
  });

  it('opens lower incoming streams implicitly and refuses streams past the limit', () => {
    const l = new IncomingStreamLimit(4);
    expect(l.onStreamReferenced(2)).toBe(3); // streams 0, 1, 2
    expect(l.onStreamReferenced(1)).toBe(0);
    expect(l.onStreamReferenced(3)).toBe(1);
    expect(l.opened).toBe(4);
    const error = expectCode(() => l.onStreamReferenced(4, 0x08), TransportErrorCode.STREAM_LIMIT_ERROR);
    expect(error.frameType).toBe(0x08);
  });

  it('rolls MAX_STREAMS forward as streams close, once half the credit is used', () => {
    const l = new IncomingStreamLimit(10);
    l.onStreamReferenced(4); // 5 opened: 5 of 10 remain
    for (let i = 0; i < 5; i++) l.onStreamClosed();
    expect(l.takeMaxStreams()).toBeUndefined(); // 5 remaining is not below half
    l.onStreamReferenced(5);
    expect(l.takeMaxStreams()).toBe(15);
    expect(l.max).toBe(15);
    expect(l.takeMaxStreams()).toBeUndefined();
    l.onStreamReferenced(14);
    expect(l.takeMaxStreams()).toBeUndefined(); // nothing closed since: no higher limit to give
    expectCode(() => l.onStreamReferenced(15), TransportErrorCode.STREAM_LIMIT_ERROR);
    l.onStreamClosed();
    expect(l.takeMaxStreams()).toBe(16);
    expect(l.closed).toBe(6);
  });

  it('with a limit of one, replaces each closed stream', () => {
    const l = new IncomingStreamLimit(1);
    l.onStreamReferenced(0);
    l.onStreamClosed();
    expect(l.takeMaxStreams()).toBe(2);
  });

  it('with a limit of zero, never allows a stream', () => {
    const l = new IncomingStreamLimit(0);
    expectCode(() => l.onStreamReferenced(0), TransportErrorCode.STREAM_LIMIT_ERROR);
    expect(l.takeMaxStreams()).toBeUndefined();
  });

  it('refuses closing more streams than were opened', () => {
    const l = new IncomingStreamLimit(3);
    expect(() => l.onStreamClosed()).toThrow(FlowControlUsageError);
  });
});

describe('flow control properties', () => {
  const action = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), bytes: fc.integer({ min: 0, max: 500 }) }),
    fc.record({ kind: fc.constant('max' as const), value: fc.integer({ min: 0, max: 5000 }) }),
  );

  it('never lets a sender that checks its credit pass the peer limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(action, { maxLength: 100 }), (initial, actions) => {
        const c = new SendCredit(initial);
        let peerMax = initial;
        let blockedReports = 0;
        for (const a of actions) {
          if (a.kind === 'max') {
            peerMax = Math.max(peerMax, a.value);
            c.onMaxUpdate(a.value);
          } else {
            const n = Math.min(a.bytes, c.available);
            c.onSent(n);
            if (n < a.bytes && c.takeBlocked() !== undefined) blockedReports++;
          }
          expect(c.max).toBe(peerMax);
          expect(c.sent).toBeLessThanOrEqual(peerMax);
          if (a.kind === 'send' && a.bytes > c.available) expect(() => c.onSent(a.bytes)).toThrow();
        }
        // One report per distinct limit at most.
        expect(blockedReports).toBeLessThanOrEqual(actions.filter((a) => a.kind === 'max').length + 1);
      }),
    );
  });

  it('a receiver fed by a sender that honours its updates never sees a violation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 })), { maxLength: 80 }),
        (window, steps) => {
          const receiver = new ReceiveWindow({ initialWindow: window, maxWindow: window * 8 });
          const sender = new SendCredit(window);
          let now = 0;
          for (const [send, read] of steps) {
            const n = Math.min(send, sender.available);
            sender.onSent(n);
            receiver.onReceivedUpTo(sender.sent);
            receiver.onConsumed(Math.min(read, receiver.highestReceived - receiver.consumed));
            now += 7;
            const update = receiver.takeMaxUpdate(now, 20);
            if (update !== undefined) sender.onMaxUpdate(update);
            expect(receiver.maxData).toBeGreaterThanOrEqual(receiver.highestReceived);
            expect(receiver.window).toBeLessThanOrEqual(window * 8);
          }
        },
      ),
    );
  });
});
