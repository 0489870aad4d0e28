// The pathquic scheduler serves streams in MsQuic's order. The reference is bench/msquic-list.ts, a re-implementation
// of MsQuic's send queue (src/core/send.c). One MsQuic "flush step" — `QuicSendGetNextStream`, then up to its budget
// of packets — corresponds to `pick` followed by `onSent(quantum)`.
//
// Streams that run out of data leave MsQuic's list and rejoin it at the back of their priority when they have data
// again; pathquic does the same with setBlocked / setReady. (Streams blocked by flow control are where the two
// differ on purpose: MsQuic leaves them in its list, in place, and walks over them on every pick; pathquic unlinks
// them and they rejoin at the back, so they are not part of this comparison.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MsQuicSendQueue, MsQuicStream } from '../bench/msquic-list.js';
import { StreamScheduler, type SchedulingScheme, type StreamHandle } from '../src/index.js';

type Op =
  | { op: 'open'; priority: number; data: boolean }
  | { op: 'data' | 'drain'; which: number }
  | { op: 'priority'; which: number; priority: number }
  | { op: 'flush'; steps: number };

const PRIORITY = fc.oneof(fc.constantFrom(0, 0x7fff, 0xffff), fc.integer({ min: 0, max: 0xffff }));
const OPS = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('open' as const), priority: PRIORITY, data: fc.boolean() }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constantFrom('data' as const, 'drain' as const), which: fc.nat() }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('priority' as const), which: fc.nat(), priority: PRIORITY }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('flush' as const), steps: fc.integer({ min: 1, max: 6 }) }), weight: 3 },
  ),
  { maxLength: 150 },
);

function compare(scheme: SchedulingScheme, ops: Op[]): number[] {
  const msquic = new MsQuicSendQueue<number>(scheme === 'round-robin');
  const sched = new StreamScheduler<number>({ scheme });
  const streams: MsQuicStream<number>[] = [];
  const handles: StreamHandle[] = [];
  const served: number[] = [];
  for (const o of ops) {
    if (o.op === 'open') {
      const id = streams.length;
      streams.push(new MsQuicStream(id, o.priority));
      handles.push(sched.add(id, o.priority, { ready: o.data }));
      if (o.data) msquic.queueFlushForStream(streams[id]!);
    } else if (o.op === 'flush') {
      for (let k = 0; k < o.steps; k++) {
        const s = msquic.getNextStream();
        const h = sched.pickHandle();
        expect(h === undefined ? undefined : sched.streamOf(h)).toBe(s?.id);
        if (s === null || h === undefined) break;
        served.push(s.id);
        sched.onSent(h, sched.quantum);
      }
    } else {
      if (streams.length === 0) continue;
      const id = o.which % streams.length;
      if (o.op === 'data') {
        msquic.queueFlushForStream(streams[id]!);
        sched.setReady(handles[id]!);
      } else if (o.op === 'drain') {
        msquic.removeStream(streams[id]!);
        sched.setBlocked(handles[id]!);
      } else if (o.op === 'priority') {
        msquic.setPriority(streams[id]!, o.priority);
        sched.setPriority(handles[id]!, o.priority);
      }
    }
    expect(sched.readyOrder()).toEqual(msquic.toArray().map((s) => s.id));
  }
  return served;
}

describe('same order as MsQuic', () => {
  for (const scheme of ['fifo', 'round-robin'] as const) {
    it(scheme, () => {
      fc.assert(
        fc.property(OPS, (ops) => {
          compare(scheme, ops);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('round-robin rotates within equal priority only, as QuicSendGetNextStream does', () => {
    const served = compare('round-robin', [
      { op: 'open', priority: 9, data: true },
      { op: 'open', priority: 9, data: true },
      { op: 'open', priority: 9, data: true },
      { op: 'open', priority: 3, data: true },
      { op: 'flush', steps: 5 },
      { op: 'drain', which: 0 },
      { op: 'drain', which: 1 },
      { op: 'drain', which: 2 },
      { op: 'flush', steps: 2 },
      { op: 'data', which: 1 },
      { op: 'priority', which: 3, priority: 9 },
      { op: 'flush', steps: 3 },
    ]);
    expect(served).toEqual([0, 1, 2, 0, 1, 3, 3, 1, 3, 1]);
  });

  it('a stream whose priority changes goes behind its new equals (QuicSendUpdateStreamPriority)', () => {
    const served = compare('fifo', [
      { op: 'open', priority: 1, data: true },
      { op: 'open', priority: 5, data: true },
      { op: 'open', priority: 5, data: true },
      { op: 'priority', which: 0, priority: 5 },
      { op: 'flush', steps: 1 },
      { op: 'drain', which: 1 },
      { op: 'flush', steps: 1 },
      { op: 'drain', which: 2 },
      { op: 'flush', steps: 1 },
    ]);
    expect(served).toEqual([1, 2, 0]);
  });
});
