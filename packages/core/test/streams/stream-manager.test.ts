import { describe, expect, it } from 'vitest';
import { FrameType, TransportErrorCode } from '@pathquic/wire-codec';
import { StreamError, StreamManager } from '../../src/streams/index.js';
import type { StreamLayerFrame } from '../../src/streams/index.js';
import {
  LIMITS,
  PacketSink,
  ack,
  bytes,
  deliver,
  events,
  expectCode,
  flush,
  limits,
  lose,
  packet,
  pair,
  readAll,
  settle,
  streamFrames,
} from './helpers.js';

const E = TransportErrorCode;

function streamFrame(streamId: number, offset: number, data: Uint8Array | number, fin = false): StreamLayerFrame {
  return { type: 'stream', streamId, offset, fin, data: typeof data === 'number' ? new Uint8Array(data) : data };
}

function server(overrides: Parameters<typeof limits>[0] = {}): StreamManager {
  const m = new StreamManager({ role: 'server', local: limits(overrides) });
  m.setPeerLimits(LIMITS);
  return m;
}

function client(overrides: Parameters<typeof limits>[0] = {}, peer: Parameters<typeof limits>[0] = {}): StreamManager {
  const m = new StreamManager({ role: 'client', local: limits(overrides) });
  m.setPeerLimits(limits(peer));
  return m;
}

function expectStreamError(fn: () => unknown, code: StreamError['code']): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).code).toBe(code);
    return;
  }
  expect.fail(`expected StreamError ${code}`);
}

describe('stream IDs and opening (RFC 9000 §2.1, §3.2, §4.6)', () => {
  it('numbers streams by initiator and direction', () => {
    const { client: c, server: s } = pair();
    expect([c.open(true), c.open(true), c.open(false), c.open(true), c.open(false)]).toEqual([0, 4, 2, 8, 6]);
    expect([s.open(true), s.open(false), s.open(true), s.open(false)]).toEqual([1, 3, 5, 7]);
    expect([...c.streamIds()].sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8]);
  });

  it('opens every lower stream of the type implicitly, reporting each in order', () => {
    const s = server();
    s.onFrame(streamFrame(8, 0, 3), 0);
    s.onFrame(streamFrame(6, 0, 1), 0);
    expect(events(s)).toEqual([
      { type: 'opened', id: 0 },
      { type: 'opened', id: 4 },
      { type: 'opened', id: 8 },
      { type: 'readable', id: 8 },
      { type: 'opened', id: 2 },
      { type: 'opened', id: 6 },
      { type: 'readable', id: 6 },
    ]);
    // A frame for an implicitly opened stream is an ordinary frame.
    s.onFrame(streamFrame(4, 0, 2), 0);
    expect(events(s)).toEqual([{ type: 'readable', id: 4 }]);
  });

  it('opens a peer stream with STOP_SENDING or MAX_STREAM_DATA too (bidirectional)', () => {
    const s = server();
    s.onFrame({ type: 'max_stream_data', streamId: 4, maximumStreamData: 10 }, 0);
    s.onFrame({ type: 'stop_sending', streamId: 8, errorCode: 3 }, 0);
    expect(events(s).map((e) => e.type)).toEqual(['opened', 'opened', 'opened', 'stopped']);
  });

  it('STREAM_LIMIT_ERROR for a peer stream beyond our MAX_STREAMS', () => {
    const s = server({ initialMaxStreamsBidi: 2, initialMaxStreamsUni: 0 });
    s.onFrame(streamFrame(4, 0, 1), 0);
    const e = expectCode(() => s.onFrame(streamFrame(8, 0, 1), 0), E.STREAM_LIMIT_ERROR);
    expect(e.frameType).toBe(FrameType.STREAM | 0x02);
    expectCode(() => s.onFrame(streamFrame(2, 0, 1), 0), E.STREAM_LIMIT_ERROR);
    expectCode(() => s.onFrame({ type: 'reset_stream', streamId: 12, errorCode: 0, finalSize: 0 }, 0), E.STREAM_LIMIT_ERROR);
    // A saturated ID (beyond 2^53, wire-codec keeps the type bits) is beyond every limit.
    expectCode(() => s.onFrame(streamFrame(Number.MAX_SAFE_INTEGER - 3, 0, 1), 0), E.STREAM_LIMIT_ERROR);
  });

  it('open() is refused at the peer limit: one blocked event, one STREAMS_BLOCKED per limit, unblocked on MAX_STREAMS', () => {
    const c = client({}, { initialMaxStreamsBidi: 1 });
    const s = new StreamManager({ role: 'server', local: limits({ initialMaxStreamsBidi: 1 }) });
    s.setPeerLimits(LIMITS);
    expect(c.open(true)).toBe(0);
    expect(c.open(true)).toBeUndefined();
    expect(c.open(true)).toBeUndefined();
    expect(events(c)).toEqual([{ type: 'blocked', bidirectional: true }]);
    const p = packet(c);
    expect(p.frames).toEqual([{ type: 'streams_blocked', bidirectional: true, limit: 1 }]);
    expect(c.wantsToSend()).toBe(false);
    c.open(true);
    expect(c.wantsToSend()).toBe(false); // once per limit (§4.6)
    c.onFrame({ type: 'max_streams', bidirectional: true, maximumStreams: 3 }, 0);
    expect(events(c)).toEqual([{ type: 'unblocked', bidirectional: true }]);
    expect([c.open(true), c.open(true), c.open(true)]).toEqual([4, 8, undefined]);
    expect(packet(c).frames).toEqual([{ type: 'streams_blocked', bidirectional: true, limit: 3 }]);
    // A lower MAX_STREAMS changes nothing (§4.6).
    c.onFrame({ type: 'max_streams', bidirectional: true, maximumStreams: 2 }, 0);
    expect(c.open(true)).toBeUndefined();
    // Unidirectional limits are separate.
    expect(c.open(false)).toBe(2);
  });

  it('gives MAX_STREAMS credit back as peer streams close (§4.6)', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxStreamsBidi: 2 }));
    const ids = [c.open(true), c.open(true)] as number[];
    expect(c.open(true)).toBeUndefined();
    for (const id of ids) c.write(id, bytes(10), true);
    flush(c, s);
    for (const id of ids) {
      expect(readAll(s, id)).toMatchObject({ fin: true });
      s.write(id, bytes(5), true);
    }
    settle(c, s);
    for (const id of ids) expect(readAll(c, id).fin).toBe(true);
    settle(c, s);
    const ev = events(s);
    expect(ev.filter((e) => e.type === 'closed').map((e) => (e as { id: number }).id)).toEqual(ids);
    expect(s.stats().openStreams).toBe(0);
    expect(events(c)).toContainEqual({ type: 'unblocked', bidirectional: true });
    expect(c.open(true)).toBe(8);
    expect(c.open(true)).toBe(12);
    expect(c.open(true)).toBeUndefined();
  });

  it('resends a lost MAX_STREAMS only while it is the current limit', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxStreamsUni: 2 }));
    const open = (): number => {
      const id = c.open(false) as number;
      c.write(id, bytes(1), true);
      return id;
    };
    open();
    open();
    flush(c, s);
    for (const id of [2, 6]) readAll(s, id);
    const p = packet(s);
    expect(p.frames).toEqual([{ type: 'max_streams', bidirectional: false, maximumStreams: 4 }]);
    lose(p, s);
    const again = packet(s);
    expect(again.frames).toEqual([{ type: 'max_streams', bidirectional: false, maximumStreams: 4 }]);
    deliver(again, c);
    open();
    open();
    flush(c, s);
    for (const id of [10, 14]) readAll(s, id);
    const newer = packet(s);
    expect(newer.frames).toEqual([{ type: 'max_streams', bidirectional: false, maximumStreams: 6 }]);
    lose(again, s); // stale: 4 is no longer current
    expect(s.wantsToSend()).toBe(false);
  });
});

describe('stream-state errors (RFC 9000 §19.4–§19.13)', () => {
  it('STREAM / RESET_STREAM / STREAM_DATA_BLOCKED on our send-only stream', () => {
    const s = server();
    expect(s.open(false)).toBe(3);
    expectCode(() => s.onFrame(streamFrame(3, 0, 1), 0), E.STREAM_STATE_ERROR);
    expectCode(() => s.onFrame({ type: 'reset_stream', streamId: 3, errorCode: 0, finalSize: 0 }, 0), E.STREAM_STATE_ERROR);
    const e = expectCode(() => s.onFrame({ type: 'stream_data_blocked', streamId: 3, limit: 0 }, 0), E.STREAM_STATE_ERROR);
    expect(e.frameType).toBe(FrameType.STREAM_DATA_BLOCKED);
    // Same for one not opened yet: the direction is wrong either way.
    expectCode(() => s.onFrame(streamFrame(7, 0, 1), 0), E.STREAM_STATE_ERROR);
  });

  it('STOP_SENDING / MAX_STREAM_DATA on the peer’s unidirectional (receive-only) stream', () => {
    const s = server();
    s.onFrame(streamFrame(2, 0, 1), 0);
    const e = expectCode(() => s.onFrame({ type: 'stop_sending', streamId: 2, errorCode: 0 }, 0), E.STREAM_STATE_ERROR);
    expect(e.frameType).toBe(FrameType.STOP_SENDING);
    expectCode(() => s.onFrame({ type: 'max_stream_data', streamId: 2, maximumStreamData: 9 }, 0), E.STREAM_STATE_ERROR);
    expectCode(() => s.onFrame({ type: 'max_stream_data', streamId: 6, maximumStreamData: 9 }, 0), E.STREAM_STATE_ERROR);
  });

  it('any frame for a locally-initiated stream not yet opened', () => {
    const c = client();
    c.open(true); // 0
    const frames: StreamLayerFrame[] = [
      streamFrame(4, 0, 1),
      { type: 'reset_stream', streamId: 4, errorCode: 1, finalSize: 0 },
      { type: 'stop_sending', streamId: 4, errorCode: 1 },
      { type: 'max_stream_data', streamId: 4, maximumStreamData: 5 },
      { type: 'stream_data_blocked', streamId: 4, limit: 5 },
      { type: 'stop_sending', streamId: 2, errorCode: 1 },
    ];
    for (const f of frames) expectCode(() => c.onFrame(f, 0), E.STREAM_STATE_ERROR);
    c.onFrame(streamFrame(0, 0, 1), 0); // opened: fine
  });

  it('FRAME_ENCODING_ERROR for stream counts above 2^60 (§19.11, §19.14)', () => {
    const c = client();
    expectCode(() => c.onFrame({ type: 'max_streams', bidirectional: true, maximumStreams: 2 ** 60 + 2 ** 10 }, 0), E.FRAME_ENCODING_ERROR);
    expectCode(() => c.onFrame({ type: 'streams_blocked', bidirectional: false, limit: 2 ** 61 }, 0), E.FRAME_ENCODING_ERROR);
    c.onFrame({ type: 'max_streams', bidirectional: true, maximumStreams: 2 ** 60 }, 0);
  });

  it('ignores frames for streams already closed', () => {
    const { client: c, server: s } = pair();
    const id = c.open(false) as number;
    c.write(id, bytes(100), true);
    flush(c, s);
    expect(readAll(s, id).fin).toBe(true);
    expect(events(s).at(-1)).toEqual({ type: 'closed', id });
    expect(events(c)).toEqual([{ type: 'finished', id }, { type: 'closed', id }]);
    s.onFrame(streamFrame(id, 0, bytes(100), true), 0);
    s.onFrame({ type: 'reset_stream', streamId: id, errorCode: 1, finalSize: 100 }, 0);
    c.onFrame({ type: 'stop_sending', streamId: id, errorCode: 1 }, 0);
    c.onFrame({ type: 'max_stream_data', streamId: id, maximumStreamData: 1 << 30 }, 0);
    expect(events(s)).toEqual([]);
    expect(events(c)).toEqual([]);
    expect(c.wantsToSend() || s.wantsToSend()).toBe(false);
  });
});

describe('final size (RFC 9000 §4.5)', () => {
  it('accepts duplicates and overlapping retransmissions, rejects data past the final size', () => {
    const s = server();
    s.onFrame(streamFrame(0, 0, bytes(10)), 0);
    s.onFrame(streamFrame(0, 0, bytes(10)), 0);
    s.onFrame(streamFrame(0, 5, bytes(15).subarray(5), true), 0);
    s.onFrame(streamFrame(0, 15, 0, true), 0);
    expectCode(() => s.onFrame(streamFrame(0, 10, 6), 0), E.FINAL_SIZE_ERROR);
  });

  it('rejects a changed final size and one below data received', () => {
    const s = server();
    s.onFrame(streamFrame(0, 0, 20, true), 0);
    const e = expectCode(() => s.onFrame(streamFrame(0, 0, 19, true), 0), E.FINAL_SIZE_ERROR);
    expect(e.frameType).toBe(FrameType.STREAM | 0x03);
    const s2 = server();
    s2.onFrame(streamFrame(0, 0, 20), 0);
    expectCode(() => s2.onFrame(streamFrame(0, 0, 10, true), 0), E.FINAL_SIZE_ERROR);
  });

  it('checks RESET_STREAM final size against FIN and received data', () => {
    const s = server();
    s.onFrame(streamFrame(0, 0, 20, true), 0);
    expectCode(() => s.onFrame({ type: 'reset_stream', streamId: 0, errorCode: 0, finalSize: 21 }, 0), E.FINAL_SIZE_ERROR);
    s.onFrame(streamFrame(4, 0, 30), 0);
    expectCode(() => s.onFrame({ type: 'reset_stream', streamId: 4, errorCode: 0, finalSize: 29 }, 0), E.FINAL_SIZE_ERROR);
    s.onFrame({ type: 'reset_stream', streamId: 4, errorCode: 0, finalSize: 40 }, 0);
    s.onFrame({ type: 'reset_stream', streamId: 4, errorCode: 0, finalSize: 40 }, 0); // repeated: fine
    expectCode(() => s.onFrame({ type: 'reset_stream', streamId: 4, errorCode: 0, finalSize: 41 }, 0), E.FINAL_SIZE_ERROR);
    expectCode(() => s.onFrame(streamFrame(4, 35, 6), 0), E.FINAL_SIZE_ERROR);
  });
});

describe('receive flow control (RFC 9000 §4.1, §4.2)', () => {
  it('FLOW_CONTROL_ERROR past the stream limit, the connection limit, or via a RESET_STREAM final size', () => {
    const s = server({ initialMaxStreamDataBidiRemote: 100, initialMaxData: 150 });
    s.onFrame(streamFrame(0, 0, 100), 0);
    const e = expectCode(() => s.onFrame(streamFrame(0, 100, 1), 0), E.FLOW_CONTROL_ERROR);
    expect(e.frameType).toBe(FrameType.STREAM | 0x06);
    const s2 = server({ initialMaxStreamDataBidiRemote: 100, initialMaxData: 150 });
    s2.onFrame(streamFrame(0, 0, 100), 0);
    s2.onFrame(streamFrame(4, 0, 50), 0);
    expectCode(() => s2.onFrame(streamFrame(8, 0, 1), 0), E.FLOW_CONTROL_ERROR);
    const s3 = server({ initialMaxStreamDataBidiRemote: 100 });
    const e3 = expectCode(() => s3.onFrame({ type: 'reset_stream', streamId: 0, errorCode: 0, finalSize: 101 }, 0), E.FLOW_CONTROL_ERROR);
    expect(e3.frameType).toBe(FrameType.RESET_STREAM);
  });

  it('counts only new bytes: retransmissions below the highest offset take no credit', () => {
    const s = server({ initialMaxStreamDataBidiRemote: 100, initialMaxData: 100 });
    for (let i = 0; i < 5; i++) s.onFrame(streamFrame(0, 0, 100), 0);
    s.onFrame(streamFrame(0, 40, 60, true), 0);
  });

  it('raises MAX_STREAM_DATA and MAX_DATA as the application reads', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxStreamDataBidiRemote: 1000, initialMaxData: 2000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(5000));
    flush(c, s);
    expect(s.stats().bufferedRecvBytes).toBe(1000);
    expect(s.wantsToSend()).toBe(false); // nothing read yet
    s.read(id, 400);
    expect(s.wantsToSend()).toBe(false); // 600 of 1000 left: not yet (less than half)
    s.read(id, 200);
    const p = packet(s);
    expect(p.frames).toEqual([{ type: 'max_stream_data', streamId: id, maximumStreamData: 1600 }]);
    deliver(p, c);
    flush(c, s);
    readAll(s, id);
    const q = packet(s);
    expect(q.frames.map((f) => f.type).sort()).toEqual(['max_data', 'max_stream_data']);
  });

  it('auto-tunes the stream window when updates come within two RTTs', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxStreamDataBidiRemote: 1000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(50_000));
    const limitsSeen: number[] = [];
    for (let t = 0; t < 40; t++) {
      flush(c, s);
      readAll(s, id);
      const p = new PacketSink(1200);
      s.writeFrames(p, t, 100);
      for (const f of p.frames) if (f.type === 'max_stream_data') limitsSeen.push(f.maximumStreamData);
      deliver(p, c);
      ack(p, s);
    }
    const steps = limitsSeen.slice(1).map((v, i) => v - (limitsSeen[i] as number));
    expect(Math.max(...steps)).toBeGreaterThan(1000); // the window grew
  });

  it('does not send MAX_STREAM_DATA once the final size is known; resends a lost one only while current', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxStreamDataBidiRemote: 1000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(3000));
    flush(c, s);
    readAll(s, id);
    const first = packet(s);
    expect(first.frames).toEqual([{ type: 'max_stream_data', streamId: id, maximumStreamData: 2000 }]);
    lose(first, s);
    const again = packet(s);
    expect(again.frames).toEqual([{ type: 'max_stream_data', streamId: id, maximumStreamData: 2000 }]);
    deliver(again, c);
    flush(c, s);
    readAll(s, id);
    const newer = packet(s);
    expect(newer.frames).toEqual([{ type: 'max_stream_data', streamId: id, maximumStreamData: 3000 }]);
    lose(again, s); // 2000 is stale
    expect(s.wantsToSend()).toBe(false);
    deliver(newer, c);
    c.finish(id);
    flush(c, s);
    lose(newer, s); // size known now: no more credit needed
    expect(s.wantsToSend()).toBe(false);
  });

  it('resends a lost MAX_DATA with the current value only', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxData: 1000, initialMaxStreamDataBidiRemote: 100_000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(5000));
    flush(c, s);
    readAll(s, id);
    const p = packet(s);
    const maxData = p.frames.find((f) => f.type === 'max_data');
    expect(maxData).toEqual({ type: 'max_data', maximumData: 2000 });
    lose(p, s);
    expect(packet(s).frames).toContainEqual({ type: 'max_data', maximumData: 2000 });
  });
});

describe('send flow control and blocked signals (RFC 9000 §4.1, §19.12, §19.13)', () => {
  it('never exceeds the peer limits; STREAM_DATA_BLOCKED and DATA_BLOCKED once per limit', () => {
    const c = client({}, { initialMaxData: 1000, initialMaxStreamDataBidiRemote: 600 });
    const a = c.open(true) as number;
    c.write(a, bytes(5000));
    const p1 = packet(c);
    expect(streamFrames(p1).reduce((n, f) => n + f.data.length, 0)).toBe(600);
    expect(p1.frames.at(-1)).toEqual({ type: 'stream_data_blocked', streamId: a, limit: 600 });
    expect(c.wantsToSend()).toBe(false);
    c.onFrame({ type: 'max_stream_data', streamId: a, maximumStreamData: 600 }, 0); // not higher: nothing
    expect(c.wantsToSend()).toBe(false);
    c.onFrame({ type: 'max_stream_data', streamId: a, maximumStreamData: 2000 }, 0);
    const p2 = packet(c);
    expect(streamFrames(p2).reduce((n, f) => n + f.data.length, 0)).toBe(400);
    expect(p2.frames.at(-1)).toEqual({ type: 'data_blocked', limit: 1000 });
    expect(c.wantsToSend()).toBe(false);
    // A lost DATA_BLOCKED is resent while still blocked at that limit...
    lose(p2, c);
    const p3 = packet(c);
    expect(p3.frames.filter((f) => f.type !== 'stream')).toEqual([{ type: 'data_blocked', limit: 1000 }]);
    // ...but not once the limit moved.
    c.onFrame({ type: 'max_data', maximumData: 1500 }, 0);
    lose(p3, c);
    const p4 = packet(c);
    expect(p4.frames.filter((f) => f.type === 'data_blocked')).toEqual([{ type: 'data_blocked', limit: 1500 }]);
    expect(streamFrames(p4).every((f) => f.offset >= 600)).toBe(true);
  });

  it('resends a lost STREAM_DATA_BLOCKED only while blocked at that limit', () => {
    const c = client({}, { initialMaxStreamDataBidiRemote: 100 });
    const a = c.open(true) as number;
    c.write(a, bytes(500));
    const p = packet(c);
    expect(p.frames.at(-1)).toEqual({ type: 'stream_data_blocked', streamId: a, limit: 100 });
    lose(p, c);
    const again = packet(c);
    expect(again.frames.filter((f) => f.type === 'stream_data_blocked')).toHaveLength(1);
    c.onFrame({ type: 'max_stream_data', streamId: a, maximumStreamData: 1000 }, 0);
    lose(again, c);
    const next = packet(c);
    expect(next.frames.some((f) => f.type === 'stream_data_blocked')).toBe(false);
  });

  it('has nothing to send before the peer limits arrive', () => {
    const m = new StreamManager({ role: 'client', local: LIMITS });
    expect(m.open(true)).toBeUndefined();
    m.setPeerLimits(limits({ initialMaxStreamDataBidiRemote: 0 }));
    const id = m.open(true) as number;
    m.write(id, bytes(10));
    expect(packet(m).frames).toEqual([{ type: 'stream_data_blocked', streamId: id, limit: 0 }]);
  });

  it('raises the limits of existing streams when setPeerLimits raises them, never lowers them', () => {
    const m = new StreamManager({ role: 'client', local: LIMITS });
    m.setPeerLimits(limits({ initialMaxStreamDataBidiRemote: 10, initialMaxData: 10 }));
    const id = m.open(true) as number;
    m.write(id, bytes(100));
    expect(streamFrames(packet(m))[0]?.data.length).toBe(10);
    m.setPeerLimits(limits({ initialMaxStreamDataBidiRemote: 50, initialMaxData: 30 }));
    expect(streamFrames(packet(m))[0]?.data.length).toBe(20);
    m.setPeerLimits(limits({ initialMaxStreamDataBidiRemote: 5, initialMaxData: 5, initialMaxStreamsBidi: 0 }));
    m.onFrame({ type: 'max_data', maximumData: 60 }, 0);
    expect(streamFrames(packet(m))[0]?.data.length).toBe(20); // stream limit still 50
    expect(m.open(true)).toBe(4);
  });
});

describe('sending: frames, retransmission, FIN (RFC 9000 §3.1, §13.3)', () => {
  it('frames reference the application buffer (no copy) and fill the packet', () => {
    const c = client();
    const id = c.open(true) as number;
    const data = bytes(10_000);
    c.write(id, data);
    const p = packet(c);
    const [f] = streamFrames(p);
    expect(f?.data.buffer).toBe(data.buffer);
    expect(f?.data.byteOffset).toBe(0);
    expect(p.remaining).toBeLessThan(4);
  });

  it('coalesces small writes into one frame', () => {
    const c = client();
    const id = c.open(true) as number;
    for (let i = 0; i < 100; i++) c.write(id, bytes(10, i + 1));
    c.finish(id);
    const p = packet(c);
    const frames = streamFrames(p);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ offset: 0, fin: true });
    expect(frames[0]?.data.length).toBe(1000);
    expect(Array.from(frames[0]?.data.subarray(990) ?? [])).toEqual(Array.from(bytes(10, 100)));
  });

  it('retransmits only the lost ranges that are not acknowledged', () => {
    const { client: c, server: s } = pair();
    const id = c.open(true) as number;
    const data = bytes(6000);
    c.write(id, data, true);
    const ps = [packet(c), packet(c), packet(c), packet(c), packet(c), packet(c)];
    expect(c.wantsToSend()).toBe(false);
    const range = (i: number): [number, number] => {
      const f = streamFrames(ps[i] as (typeof ps)[number])[0];
      return [f?.offset ?? -1, (f?.offset ?? 0) + (f?.data.length ?? 0)];
    };
    ack(ps[0] as (typeof ps)[number], c);
    ack(ps[2] as (typeof ps)[number], c);
    lose(ps[1] as (typeof ps)[number], c);
    lose(ps[3] as (typeof ps)[number], c);
    const r = packet(c);
    const r2 = packet(c);
    expect(c.wantsToSend()).toBe(false);
    expect([...streamFrames(r), ...streamFrames(r2)].map((f) => [f.offset, f.offset + f.data.length])).toEqual([range(1), range(3)]);
    // Lost but acknowledged later (spurious loss): not sent again.
    lose(ps[4] as (typeof ps)[number], c);
    ack(ps[4] as (typeof ps)[number], c);
    expect(c.wantsToSend()).toBe(false);
    // The last packet carried the FIN: a retransmission carries it again.
    lose(ps[5] as (typeof ps)[number], c);
    const fin = streamFrames(packet(c));
    expect(fin.at(-1)).toMatchObject({ fin: true, offset: range(5)[0] });
    for (const p of [ps[0], ps[2], ps[4], r, r2, ps[5]]) deliver(p as (typeof ps)[number], s);
    deliver(ps[1] as (typeof ps)[number], s);
    deliver(ps[3] as (typeof ps)[number], s);
    const got = readAll(s, id);
    expect(got.fin).toBe(true);
    expect(Buffer.from(got.data).equals(Buffer.from(data))).toBe(true);
  });

  it('resends a lost FIN alone once the data is acknowledged', () => {
    const c = client();
    const id = c.open(false) as number;
    c.write(id, bytes(100));
    const p1 = packet(c);
    c.finish(id);
    const p2 = packet(c);
    expect(p2.frames).toEqual([{ type: 'stream', streamId: id, offset: 100, fin: true, data: new Uint8Array(0) }]);
    ack(p1, c);
    lose(p2, c);
    expect(streamFrames(packet(c))).toMatchObject([{ offset: 100, fin: true }]);
  });

  it('reports finished then closed once data and FIN are acknowledged; zero-length streams work', () => {
    const { client: c, server: s } = pair();
    const id = c.open(false) as number;
    c.finish(id);
    const p = packet(c);
    expect(streamFrames(p)).toMatchObject([{ streamId: id, offset: 0, fin: true }]);
    deliver(p, s);
    expect(events(s)).toEqual([
      { type: 'opened', id },
      { type: 'readable', id },
    ]);
    expect(s.read(id)).toEqual({ data: undefined, fin: true });
    expect(events(s)).toEqual([{ type: 'closed', id }]);
    ack(p, c);
    expect(events(c)).toEqual([
      { type: 'finished', id },
      { type: 'closed', id },
    ]);
  });

  it('write() accepts up to the send buffer and reports writable when acks free space', () => {
    const c = new StreamManager({ role: 'client', local: LIMITS, sendBufferSize: 3000 });
    c.setPeerLimits(LIMITS);
    const id = c.open(true) as number;
    expect(c.writableBytes(id)).toBe(3000);
    expect(c.write(id, bytes(5000))).toBe(3000);
    expect(c.writableBytes(id)).toBe(0);
    expect(c.write(id, bytes(10))).toBe(0);
    const p = packet(c);
    expect(events(c)).toEqual([]);
    ack(p, c);
    expect(events(c)).toEqual([{ type: 'writable', id }]);
    expect(c.writableBytes(id)).toBe(streamFrames(p)[0]?.data.length);
    // fin with a partial write is not applied
    expect(c.write(id, bytes(5000), true)).toBeLessThan(5000);
    c.write(id, new Uint8Array(0), true);
    expect(c.writableBytes(id)).toBe(0);
  });
});

describe('RESET_STREAM and STOP_SENDING (RFC 9000 §3.5, §19.4, §19.5)', () => {
  it('reset: RESET_STREAM with the sent size, peer reports it, lost data of the stream is dropped', () => {
    const { client: c, server: s } = pair();
    const id = c.open(true) as number;
    c.write(id, bytes(3000));
    const p1 = packet(c);
    const p2 = packet(c);
    deliver(p1, s);
    c.reset(id, 77n);
    expectStreamError(() => c.write(id, bytes(1)), 'stream-reset');
    expect(c.writableBytes(id)).toBe(0);
    const r = packet(c);
    expect(r.frames).toEqual([{ type: 'reset_stream', streamId: id, errorCode: 77n, finalSize: p1.items.concat(p2.items).reduce((n, i) => n + (i.kind === 'stream' ? i.length : 0), 0) }]);
    lose(p2, c); // data of a reset stream is never resent
    expect(c.wantsToSend()).toBe(false);
    lose(r, c); // but the RESET_STREAM is
    const r2 = packet(c);
    expect(r2.frames).toEqual(r.frames);
    deliver(r2, s);
    const ev = events(s);
    // The codec decodes error codes below 2^53 as numbers.
    expect(ev).toContainEqual({ type: 'reset', id, errorCode: 77, finalSize: (r.frames[0] as { finalSize: number }).finalSize });
    expect(s.read(id)).toEqual({ data: undefined, fin: false });
    ack(r2, c);
    lose(r, c);
    expect(c.wantsToSend()).toBe(false);
    // Server side still has its send part open; finishing it closes the stream on both sides.
    s.finish(id);
    settle(s, c);
    expect(readAll(c, id).fin).toBe(true);
    expect(events(s)).toContainEqual({ type: 'closed', id });
    expect(events(c)).toContainEqual({ type: 'closed', id });
  });

  it('the reset gives the connection-level credit back to the receiver (§4.5)', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxData: 2000, initialMaxStreamDataBidiRemote: 10_000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(1500));
    flush(c, s);
    c.reset(id, 1);
    flush(c, s);
    const p = packet(s);
    expect(p.frames).toEqual([{ type: 'max_data', maximumData: 3500 }]);
  });

  it('STOP_SENDING received: stopped event and RESET_STREAM with the same code', () => {
    const { client: c, server: s } = pair();
    const id = c.open(true) as number;
    c.write(id, bytes(5000));
    const first = packet(c);
    deliver(first, s);
    events(s);
    s.stopSending(id, 0x1234);
    const stop = packet(s);
    expect(stop.frames).toEqual([{ type: 'stop_sending', streamId: id, errorCode: 0x1234 }]);
    deliver(stop, c);
    expect(events(c)).toEqual([{ type: 'stopped', id, errorCode: 0x1234 }]);
    const r = packet(c);
    const finalSize = streamFrames(first).reduce((n, f) => n + f.data.length, 0);
    expect(r.frames).toEqual([{ type: 'reset_stream', streamId: id, errorCode: 0x1234, finalSize }]);
    expectStreamError(() => c.write(id, bytes(1)), 'stream-reset');
    // A repeated STOP_SENDING changes nothing.
    deliver(stop, c);
    expect(events(c)).toEqual([]);
    deliver(r, s);
    expect(events(s)).toEqual([{ type: 'reset', id, errorCode: 0x1234, finalSize }]);
  });

  it('stopSending discards data, still credits the connection, and is resent when lost while relevant', () => {
    const { client: c, server: s } = pair(LIMITS, limits({ initialMaxData: 4000, initialMaxStreamDataBidiRemote: 100_000 }));
    const id = c.open(true) as number;
    c.write(id, bytes(3000));
    flush(c, s);
    s.stopSending(id, 5);
    expect(s.stats().bufferedRecvBytes).toBe(0);
    expect(s.read(id)).toEqual({ data: undefined, fin: false });
    const p = packet(s);
    expect(p.frames.map((f) => f.type).sort()).toEqual(['max_data', 'stop_sending']);
    lose(p, s);
    const again = packet(s);
    expect(again.frames.filter((f) => f.type === 'stop_sending')).toHaveLength(1);
    // More data arriving (sent before the peer saw STOP_SENDING) is discarded but counted.
    c.write(id, bytes(1500));
    flush(c, s);
    expect(s.stats().bufferedRecvBytes).toBe(0);
    // Once the peer's reset arrives, a lost STOP_SENDING is not resent. The peer was held at the 4000-byte
    // connection limit (the MAX_DATA travels with the STOP_SENDING), so that is the final size.
    deliver(again, c);
    flush(c, s);
    expect(events(s)).toContainEqual({ type: 'reset', id, errorCode: 5, finalSize: 4000 });
    lose(again, s);
    expect(packet(s).frames.some((f) => f.type === 'stop_sending')).toBe(false);
  });

  it('stopSending after all data arrived sends nothing and ends the receive side', () => {
    const { client: c, server: s } = pair();
    const id = c.open(false) as number;
    c.write(id, bytes(100), true);
    flush(c, s);
    s.stopSending(id, 1);
    expect(s.wantsToSend()).toBe(false);
    expect(events(s)).toContainEqual({ type: 'closed', id });
  });

  it('a reset after all data arrived is ignored (§3.2): the data stays readable', () => {
    const s = server();
    s.onFrame(streamFrame(2, 0, bytes(10), true), 0);
    s.onFrame({ type: 'reset_stream', streamId: 2, errorCode: 9, finalSize: 10 }, 0);
    expect(events(s).map((e) => e.type)).toEqual(['opened', 'readable']);
    expect(readAll(s, 2)).toEqual({ data: bytes(10), fin: true });
  });
});

describe('priorities and scheduling', () => {
  function order(m: StreamManager, packets = 200): number[] {
    const ids: number[] = [];
    for (let i = 0; i < packets && m.wantsToSend(); i++) {
      for (const f of streamFrames(packet(m))) if (f.data.length > 0) ids.push(f.streamId);
    }
    return ids;
  }

  it('sends higher priority first', () => {
    const c = client();
    const low = c.open(true) as number;
    const mid = c.open(true) as number;
    const high = c.open(true) as number;
    c.setPriority(low, 0);
    c.setPriority(high, 0xffff);
    for (const id of [low, mid, high]) c.write(id, bytes(5000, id + 1));
    const ids = order(c);
    const firstOf = (id: number): number => ids.indexOf(id);
    const lastOf = (id: number): number => ids.lastIndexOf(id);
    expect(lastOf(high)).toBeLessThan(firstOf(mid));
    expect(lastOf(mid)).toBeLessThan(firstOf(low));
  });

  it('round-robins among equal priorities (quantum in bytes)', () => {
    const c = new StreamManager({ role: 'client', local: LIMITS, quantum: 1000 });
    c.setPeerLimits(LIMITS);
    const a = c.open(true) as number;
    const b = c.open(true) as number;
    const d = c.open(true) as number;
    for (const id of [a, b, d]) c.write(id, bytes(6000, id + 1));
    const ids = order(c);
    expect(ids.slice(0, 6)).toEqual([a, b, d, a, b, d]);
  });

  it('sends sequentially with the fifo scheme or non-incremental streams', () => {
    const c = client();
    const a = c.open(true) as number;
    const b = c.open(true) as number;
    c.write(a, bytes(20_000));
    c.write(b, bytes(20_000));
    c.setScheme('fifo');
    const ids = order(c);
    expect(ids.lastIndexOf(a)).toBeLessThan(ids.indexOf(b));
    const c2 = client();
    const x = c2.open(true) as number;
    const y = c2.open(true) as number;
    c2.setPriority(x, 0x7fff, false);
    c2.write(x, bytes(20_000));
    c2.write(y, bytes(20_000));
    const ids2 = order(c2);
    expect(ids2.lastIndexOf(x)).toBeLessThan(ids2.indexOf(y));
  });

  it('a priority change applies to data not yet sent', () => {
    const c = client();
    const a = c.open(true) as number;
    const b = c.open(true) as number;
    c.write(a, bytes(10_000));
    c.write(b, bytes(10_000));
    packet(c);
    c.setPriority(b, 0x9000);
    const ids = order(c);
    expect(ids.lastIndexOf(b)).toBeLessThan(ids.indexOf(a));
  });

  it('control frames go before retransmissions, which go before new data', () => {
    const { client: c, server: s } = pair();
    const a = c.open(true) as number;
    const b = c.open(true) as number;
    c.write(a, bytes(1000));
    const lost = packet(c);
    c.write(b, bytes(5000));
    s.onFrame(streamFrame(a, 0, 10), 0); // the peer writes on a
    readAll(c, a);
    c.stopSending(a, 3);
    lose(lost, c);
    const p = packet(c);
    expect(p.frames.map((f) => f.type)).toEqual(['stop_sending', 'stream', 'stream']);
    expect(streamFrames(p).map((f) => f.streamId)).toEqual([a, b]);
  });
});

describe('readable events', () => {
  it('fires once until a read drains the stream', () => {
    const s = server();
    s.onFrame(streamFrame(0, 0, 10), 0);
    s.onFrame(streamFrame(0, 10, 10), 0);
    expect(events(s)).toEqual([
      { type: 'opened', id: 0 },
      { type: 'readable', id: 0 },
    ]);
    expect(s.read(0, 5).data?.length).toBe(5);
    s.onFrame(streamFrame(0, 20, 10), 0);
    expect(events(s)).toEqual([]); // not drained yet
    expect(readAll(s, 0).data.length).toBe(25);
    s.onFrame(streamFrame(0, 40, 10), 0); // out of order: nothing readable
    expect(events(s)).toEqual([]);
    s.onFrame(streamFrame(0, 30, 10, false), 0);
    expect(events(s)).toEqual([{ type: 'readable', id: 0 }]);
    readAll(s, 0);
    s.onFrame(streamFrame(0, 50, 0, true), 0); // the FIN alone
    expect(events(s)).toEqual([{ type: 'readable', id: 0 }]);
    expect(s.read(0)).toEqual({ data: undefined, fin: true });
  });
});

describe('0-RTT rejection (RFC 9000 §7.4.1, RFC 9001 §4.6.2)', () => {
  it('resends every byte after the rejection under the new limits', () => {
    const c = new StreamManager({ role: 'client', local: LIMITS });
    c.setPeerLimits(limits({ initialMaxStreamsBidi: 3 })); // remembered
    const a = c.open(true) as number;
    const b = c.open(true) as number;
    const d = c.open(true) as number;
    const dataA = bytes(3000, 1);
    c.write(a, dataA, true);
    c.write(b, bytes(500, 2));
    c.reset(b, 4);
    c.write(d, bytes(100, 3), true);
    while (c.wantsToSend()) packet(c); // all of it went into 0-RTT packets, never acknowledged
    c.onZeroRttRejected();
    expect(c.open(true)).toBeUndefined(); // no stream and no STREAMS_BLOCKED until the real limits are known
    expect(c.wantsToSend()).toBe(false);
    c.setPeerLimits(limits({ initialMaxStreamsBidi: 2 })); // lower than remembered: replaces
    const s = new StreamManager({ role: 'server', local: limits({ initialMaxStreamsBidi: 2 }) });
    s.setPeerLimits(LIMITS);
    flush(c, s);
    expect(readAll(s, a)).toEqual({ data: dataA, fin: true });
    expect(events(s)).toContainEqual({ type: 'reset', id: b, errorCode: 4, finalSize: 0 });
    // Stream d is beyond the new limit: nothing of it went out (the server, at 2 streams, would have raised
    // STREAM_LIMIT_ERROR in flush), and it waits for MAX_STREAMS.
    expect(s.stats().openStreams).toBe(2);
    expect(c.open(true)).toBeUndefined();
    c.onFrame({ type: 'max_streams', bidirectional: true, maximumStreams: 3 }, 0);
    const p = packet(c);
    expect(streamFrames(p)).toMatchObject([{ streamId: d, offset: 0, fin: true }]);
  });
});

describe('application errors and lifecycle', () => {
  it('StreamError codes for misuse', () => {
    const { client: c, server: s } = pair();
    expectStreamError(() => c.write(0, bytes(1)), 'unknown-stream');
    expectStreamError(() => c.read(-1), 'unknown-stream');
    expectStreamError(() => c.read(4.5), 'unknown-stream');
    const uni = c.open(false) as number;
    expectStreamError(() => c.read(uni), 'not-readable');
    expectStreamError(() => c.stopSending(uni, 1), 'not-readable');
    s.onFrame(streamFrame(uni, 0, 0), 0);
    expectStreamError(() => s.write(uni, bytes(1)), 'not-writable');
    expectStreamError(() => s.reset(uni, 1), 'not-writable');
    expectStreamError(() => s.finish(uni), 'not-writable');
    const bidi = c.open(true) as number;
    c.write(bidi, bytes(1), true);
    expectStreamError(() => c.write(bidi, bytes(1)), 'not-writable');
    expectStreamError(() => c.setPriority(bidi, 0x10000), 'invalid-argument');
    expectStreamError(() => c.setPriority(bidi, -1), 'invalid-argument');
    expectStreamError(() => c.reset(bidi, -1), 'invalid-argument');
    expectStreamError(() => c.reset(bidi, 2n ** 62n), 'invalid-argument');
    expectStreamError(() => c.read(bidi, 0), 'invalid-argument');
    expectStreamError(() => c.write(bidi, 'x' as unknown as Uint8Array), 'invalid-argument');
    expectStreamError(() => c.setScheme('sequential' as 'fifo'), 'invalid-argument');
    c.finish(uni);
    settle(c, s);
    readAll(s, uni);
    // A closed stream: events queued before it closed may still name it, so only write() complains.
    expectStreamError(() => c.write(uni, bytes(1)), 'closed');
    expect(s.read(uni)).toEqual({ data: undefined, fin: false });
    c.finish(uni);
    c.reset(uni, 1);
    c.setPriority(uni, 1);
    s.stopSending(uni, 1);
    expect(c.writableBytes(uni)).toBe(0);
    expect(c.wantsToSend() || s.wantsToSend()).toBe(false);
    expectStreamError(() => c.read(1000), 'unknown-stream');
  });

  it('closeAll drops everything', () => {
    const { client: c } = pair();
    const id = c.open(true) as number;
    c.write(id, bytes(100));
    c.closeAll();
    expect(c.wantsToSend()).toBe(false);
    expect([...c.streamIds()]).toEqual([]);
    expect(c.pollEvent()).toBeUndefined();
    expect(c.open(true)).toBeUndefined();
    expectStreamError(() => c.write(id, bytes(1)), 'closed');
    c.onFrame(streamFrame(1, 0, 1), 0);
    expect(packet(c).frames).toEqual([]);
  });

  it('stats count open streams and buffered bytes', () => {
    const { client: c, server: s } = pair();
    const id = c.open(true) as number;
    c.write(id, bytes(5000));
    expect(c.stats()).toEqual({ openStreams: 1, bufferedSendBytes: 5000, bufferedRecvBytes: 0 });
    const p = packet(c);
    deliver(p, s);
    ack(p, c);
    const sent = streamFrames(p)[0]?.data.length ?? 0;
    expect(c.stats().bufferedSendBytes).toBe(5000 - sent);
    expect(s.stats()).toEqual({ openStreams: 1, bufferedSendBytes: 0, bufferedRecvBytes: sent });
  });
});
