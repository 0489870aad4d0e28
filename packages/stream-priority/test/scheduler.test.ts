import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUANTUM,
  MAX_STREAMS,
  PRIORITY_DEFAULT,
  PRIORITY_HIGHEST,
  PRIORITY_LOWEST,
  StreamPriorityError,
  StreamScheduler,
  type StreamHandle,
} from '../src/index.js';

/** Send `n` packets the way a connection does: pick, send one packet, report it. Returns the streams sent from. */
function send<S>(sched: StreamScheduler<S>, n: number): (S | undefined)[] {
  const out: (S | undefined)[] = [];
  for (let k = 0; k < n; k++) {
    const h = sched.pickHandle();
    out.push(h === undefined ? undefined : sched.streamOf(h));
    if (h !== undefined) sched.onSent(h, 1);
  }
  return out;
}

function expectError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamPriorityError);
    expect((e as StreamPriorityError).code).toBe(code);
    expect((e as StreamPriorityError).name).toBe('StreamPriorityError');
    expect((e as Error).message.startsWith(`${code}: `)).toBe(true);
    return;
  }
  throw new Error(`expected a StreamPriorityError ${code}`);
}

describe('constants', () => {
  it('are MsQuic values', () => {
    expect(PRIORITY_LOWEST).toBe(0x0000);
    expect(PRIORITY_DEFAULT).toBe(0x7fff);
    expect(PRIORITY_HIGHEST).toBe(0xffff);
    expect(DEFAULT_QUANTUM).toBe(8);
  });
});

describe('add, lookup and inspection', () => {
  it('starts empty', () => {
    const sched = new StreamScheduler<string>();
    expect(sched.pick()).toBeUndefined();
    expect(sched.pickHandle()).toBeUndefined();
    expect(sched.size).toBe(0);
    expect(sched.readyCount).toBe(0);
    expect(sched.activeLevels).toBe(0);
    expect(sched.priorities).toBe(0);
    expect(sched.scheme).toBe('fifo');
    expect(sched.quantum).toBe(8);
    expect(sched.readyOrder()).toEqual([]);
  });

  it('adds idle streams at the default priority unless told otherwise', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a');
    expect(sched.isReady(a)).toBe(false);
    expect(sched.priorityOf(a)).toBe(PRIORITY_DEFAULT);
    expect(sched.pick()).toBeUndefined();
    const b = sched.add('b', 0x1234, { ready: true, scheme: 'round-robin' });
    expect(sched.info(b)).toEqual({ stream: 'b', priority: 0x1234, scheme: 'round-robin', ownScheme: 'round-robin', ready: true, credit: 8 });
    expect(sched.info(a)).toEqual({ stream: 'a', priority: PRIORITY_DEFAULT, scheme: 'fifo', ownScheme: undefined, ready: false, credit: 8 });
    expect(sched.size).toBe(2);
    expect(sched.readyCount).toBe(1);
    expect(sched.priorities).toBe(2);
    expect(sched.activeLevels).toBe(1);
    expect(sched.handleOf('a')).toBe(a);
    expect(sched.handleOf('b')).toBe(b);
    expect(sched.handleOf('c')).toBeUndefined();
    expect(sched.contains(a)).toBe(true);
    expect(sched.streamOf(b)).toBe('b');
    expect(sched.schemeOf(a)).toBeUndefined();
    expect(sched.schemeOf(b)).toBe('round-robin');
  });

  it('accepts any stream type, including numbers and objects', () => {
    const ids = new StreamScheduler<number>();
    const h0 = ids.add(0, 1, { ready: true });
    const h4 = ids.add(4, 2, { ready: true });
    expect(ids.pick()).toBe(4);
    expect(ids.streamOf(h0)).toBe(0);
    expect(ids.handleOf(4)).toBe(h4);
    const objs = new StreamScheduler<{ id: number }>();
    const s = { id: 7 };
    objs.add(s, 9, { ready: true });
    expect(objs.pick()).toBe(s);
  });

  it('grows past its initial capacity', () => {
    const sched = new StreamScheduler<number>({ scheme: 'round-robin', quantum: 1 });
    const handles = Array.from({ length: 1000 }, (_, i) => sched.add(i, i % 3, { ready: true }));
    expect(sched.size).toBe(1000);
    expect(sched.readyCount).toBe(1000);
    expect(sched.readyOrder().slice(0, 4)).toEqual([2, 5, 8, 11]);
    const sent = send(sched, 334);
    expect(sent.every((s) => s !== undefined && s % 3 === 2)).toBe(true); // strict priority: only level 2
    expect(new Set(sent.slice(0, 333)).size).toBe(333); // quantum 1: each of its 333 streams once, in turn
    expect(sent[333]).toBe(2);
    for (const h of handles) expect(sched.contains(h)).toBe(true);
  });
});

describe('strict priority between levels', () => {
  it('serves the highest ready level; lower levels only when every higher stream is blocked', () => {
    const sched = new StreamScheduler<string>();
    const lo = sched.add('lo', PRIORITY_LOWEST, { ready: true });
    const mid = sched.add('mid', PRIORITY_DEFAULT, { ready: true });
    const hi = sched.add('hi', PRIORITY_HIGHEST, { ready: true });
    expect(send(sched, 3)).toEqual(['hi', 'hi', 'hi']);
    sched.setBlocked(hi);
    expect(send(sched, 2)).toEqual(['mid', 'mid']);
    sched.setBlocked(mid);
    expect(sched.pick()).toBe('lo');
    sched.setReady(hi);
    expect(sched.pick()).toBe('hi');
    sched.setBlocked(hi);
    sched.setBlocked(lo);
    expect(sched.pick()).toBeUndefined();
    expect(sched.readyCount).toBe(0);
    expect(sched.activeLevels).toBe(0);
  });

  it('orders many levels like a sorted list', () => {
    const sched = new StreamScheduler<number>();
    const prios = [5, 0xffff, 0, 300, 0x7fff, 17, 0x8000, 1, 0xfffe, 42];
    prios.forEach((p, i) => sched.add(i, p, { ready: true }));
    const expected = prios.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).map((x) => x.i);
    expect(sched.readyOrder()).toEqual(expected);
    const served: number[] = [];
    for (;;) {
      const h = sched.pickHandle();
      if (h === undefined) break;
      served.push(sched.streamOf(h));
      sched.setBlocked(h);
    }
    expect(served).toEqual(expected);
  });

  it('pick changes nothing', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 1 });
    sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    expect([sched.pick(), sched.pick(), sched.pick()]).toEqual(['a', 'a', 'a']);
    expect(sched.pickHandle()).toBe(sched.pickHandle());
  });
});

describe('FIFO within a level', () => {
  it('keeps sending the first ready stream until it is blocked; equals queue in readiness order', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a');
    const b = sched.add('b');
    const c = sched.add('c');
    sched.setReady(b);
    sched.setReady(c);
    sched.setReady(a);
    expect(send(sched, 20).every((s) => s === 'b')).toBe(true);
    sched.setBlocked(b);
    expect(send(sched, 3)).toEqual(['c', 'c', 'c']);
    sched.setReady(b); // rejoins at the back
    expect(sched.readyOrder()).toEqual(['c', 'a', 'b']);
    sched.setBlocked(c);
    expect(sched.pick()).toBe('a');
    sched.onSent(sched.handleOf('a')!, 1_000_000);
    expect(sched.pick()).toBe('a');
    expect(sched.info(a).credit).toBe(8); // FIFO streams do not use their quantum
  });

  it('setReady on a ready stream keeps its place; setBlocked on a blocked one does nothing', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a', 1, { ready: true });
    const b = sched.add('b', 1, { ready: true });
    sched.setReady(a);
    expect(sched.readyOrder()).toEqual(['a', 'b']);
    sched.setBlocked(b);
    sched.setBlocked(b);
    expect(sched.readyCount).toBe(1);
  });
});

describe('round-robin within a level', () => {
  it('gives each stream 8 packets, then moves it behind the others of its level', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin' });
    sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    sched.add('c', 1, { ready: true });
    sched.add('low', 0, { ready: true });
    const sent = send(sched, 48);
    const runs = [...sent.join('').matchAll(/(.)\1*/g)].map((m) => `${m[1]}x${m[0].length}`);
    expect(runs).toEqual(['ax8', 'bx8', 'cx8', 'ax8', 'bx8', 'cx8']);
  });

  it('counts the quantum in the caller\'s unit and forgives overshoot', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 8 * 1200 });
    const a = sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    sched.onSent(a, 5000);
    expect(sched.pick()).toBe('a');
    expect(sched.info(a).credit).toBe(4600);
    sched.onSent(a, 5000); // 400 bytes over: moves on, fresh quantum
    expect(sched.pick()).toBe('b');
    expect(sched.info(a).credit).toBe(9600);
    sched.onSent(a, 0);
    expect(sched.info(a).credit).toBe(9600);
  });

  it('keeps a stream alone in its level at the front, with a fresh quantum', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 3 });
    const a = sched.add('a', 1, { ready: true });
    expect(send(sched, 7)).toEqual(['a', 'a', 'a', 'a', 'a', 'a', 'a']);
    expect(sched.info(a).credit).toBe(2);
  });

  it('keeps the rest of a quantum when a higher level preempts it', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 4 });
    sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    expect(send(sched, 2)).toEqual(['a', 'a']);
    const hi = sched.add('hi', 2, { ready: true });
    expect(send(sched, 2)).toEqual(['hi', 'hi']);
    sched.setBlocked(hi);
    expect(send(sched, 4)).toEqual(['a', 'a', 'b', 'b']);
  });

  it('charges any ready stream it is told about, not only the front one', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 2 });
    sched.add('a', 1, { ready: true });
    const b = sched.add('b', 1, { ready: true });
    sched.add('c', 1, { ready: true });
    sched.onSent(b, 2);
    expect(sched.readyOrder()).toEqual(['a', 'c', 'b']);
    sched.setBlocked(b);
    sched.onSent(b, 5); // not ready: no effect
    expect(sched.info(b).credit).toBe(2);
  });

  it('gives a stream that becomes ready again a fresh quantum at the back', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 4 });
    const a = sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    send(sched, 3);
    sched.setBlocked(a);
    sched.setReady(a);
    expect(sched.info(a).credit).toBe(4);
    expect(sched.readyOrder()).toEqual(['b', 'a']);
  });
});

describe('setPriority', () => {
  it('moves a ready stream to the back of its new level with a fresh quantum', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 4 });
    const a = sched.add('a', 5, { ready: true });
    sched.add('b', 9, { ready: true });
    sched.add('c', 9, { ready: true });
    sched.onSent(a, 1);
    sched.setPriority(a, 9);
    expect(sched.readyOrder()).toEqual(['b', 'c', 'a']);
    expect(sched.priorityOf(a)).toBe(9);
    expect(sched.info(a).credit).toBe(4);
    expect(sched.activeLevels).toBe(1);
    expect(sched.priorities).toBe(1);
    sched.setPriority(a, PRIORITY_HIGHEST);
    expect(sched.pick()).toBe('a');
  });

  it('is a no-op when the priority does not change (the stream keeps its place)', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a', 5, { ready: true });
    sched.add('b', 5, { ready: true });
    sched.setPriority(a, 5);
    expect(sched.readyOrder()).toEqual(['a', 'b']);
  });

  it('applies to a blocked stream when it becomes ready', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a', 1);
    sched.add('b', 5, { ready: true });
    sched.setPriority(a, 10);
    expect(sched.pick()).toBe('b');
    sched.setReady(a);
    expect(sched.pick()).toBe('a');
  });
});

describe('schemes per connection and per stream', () => {
  it('switches the connection scheme for streams without their own', () => {
    const sched = new StreamScheduler<string>({ quantum: 2 });
    const a = sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    expect(send(sched, 3)).toEqual(['a', 'a', 'a']);
    sched.scheme = 'round-robin';
    expect(sched.info(a).scheme).toBe('round-robin');
    expect(send(sched, 4)).toEqual(['a', 'a', 'b', 'b']);
    sched.scheme = 'fifo';
    expect(send(sched, 3)).toEqual(['a', 'a', 'a']);
  });

  it('mixes FIFO and round-robin streams in one level', () => {
    const sched = new StreamScheduler<string>({ quantum: 2 });
    sched.add('r1', 1, { ready: true, scheme: 'round-robin' });
    sched.add('f', 1, { ready: true, scheme: 'fifo' });
    sched.add('r2', 1, { ready: true, scheme: 'round-robin' });
    // r1 takes its turn, then f holds the level until it is blocked, then r2 and r1 alternate.
    expect(send(sched, 6)).toEqual(['r1', 'r1', 'f', 'f', 'f', 'f']);
    sched.setBlocked(sched.handleOf('f')!);
    expect(send(sched, 6)).toEqual(['r2', 'r2', 'r1', 'r1', 'r2', 'r2']);
  });

  it('setScheme refills the quantum and keeps the place; the same scheme changes nothing', () => {
    const sched = new StreamScheduler<string>({ scheme: 'round-robin', quantum: 4 });
    const a = sched.add('a', 1, { ready: true });
    sched.add('b', 1, { ready: true });
    sched.onSent(a, 3);
    sched.setScheme(a, undefined); // already following the connection
    expect(sched.info(a).credit).toBe(1);
    sched.setScheme(a, 'round-robin');
    expect(sched.info(a)).toMatchObject({ credit: 4, ownScheme: 'round-robin' });
    expect(sched.readyOrder()).toEqual(['a', 'b']);
    sched.setScheme(a, 'fifo');
    expect(send(sched, 10).every((s) => s === 'a')).toBe(true);
    sched.setScheme(a, undefined);
    expect(sched.schemeOf(a)).toBeUndefined();
    expect(send(sched, 5)).toEqual(['a', 'a', 'a', 'a', 'b']);
  });
});

describe('remove', () => {
  it('unlinks a ready stream, invalidates its handle, and frees its slot', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a', 3, { ready: true });
    const b = sched.add('b', 3, { ready: true });
    sched.remove(a);
    expect(sched.pick()).toBe('b');
    expect(sched.size).toBe(1);
    expect(sched.contains(a)).toBe(false);
    expect(sched.handleOf('a')).toBeUndefined();
    expectError(() => sched.setReady(a), 'UNKNOWN_STREAM');
    expectError(() => sched.remove(a), 'UNKNOWN_STREAM');
    // The slot is reused under a new handle; the old one stays invalid.
    const c = sched.add('c', 3, { ready: true });
    expect(c).not.toBe(a);
    expect(sched.contains(a)).toBe(false);
    expect(sched.streamOf(c)).toBe('c');
    // A removed stream can be added again.
    const a2 = sched.add('a', 1);
    expect(sched.handleOf('a')).toBe(a2);
    sched.remove(b);
    sched.remove(c);
    sched.remove(a2);
    expect(sched.size).toBe(0);
    expect(sched.priorities).toBe(0);
    expect(sched.pick()).toBeUndefined();
  });

  it('keeps handles small integers and rejects the previous handle of a reused slot', () => {
    const sched = new StreamScheduler<number>();
    sched.add(-1, 1, { ready: true });
    let previous = sched.add(0, 1);
    for (let i = 1; i < 5000; i++) {
      sched.remove(previous);
      const h = sched.add(i, 1, { ready: i % 2 === 0 });
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 31).toBe(true);
      expect(sched.contains(previous)).toBe(false);
      expect(sched.streamOf(h)).toBe(i);
      previous = h;
    }
    expect(sched.size).toBe(2);
  });

  it('holds up to MAX_STREAMS streams at once', () => {
    const sched = new StreamScheduler<number>();
    for (let i = 0; i < MAX_STREAMS; i++) sched.add(i, i & 0xff);
    expectError(() => sched.add(-1), 'INVALID_ARGUMENT');
    sched.remove(sched.handleOf(12345)!);
    const h = sched.add(-1, 0xffff, { ready: true });
    expect(sched.pick()).toBe(-1);
    expect(sched.size).toBe(MAX_STREAMS);
    expect(sched.streamOf(h)).toBe(-1);
  });

  it('removes an idle stream', () => {
    const sched = new StreamScheduler<number>();
    const h = sched.add(1, 7);
    sched.remove(h);
    expect(sched.readyCount).toBe(0);
    expect(sched.priorities).toBe(0);
  });
});

describe('levels', () => {
  it('keeps a consistent order through many distinct priorities coming and going', () => {
    // More than 64 idle levels exercise the table's deletion and the spare list; thousands of streams its growth.
    const sched = new StreamScheduler<number>();
    let seed = 12345;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % k;
    };
    const prio = new Map<number, number>();
    const handles = new Map<number, StreamHandle>();
    for (let i = 0; i < 2000; i++) {
      const p = rand(0x10000);
      prio.set(i, p);
      handles.set(i, sched.add(i, p, { ready: true }));
    }
    for (let step = 0; step < 20_000; step++) {
      const i = rand(2000);
      const h = handles.get(i)!;
      const r = rand(10);
      if (r < 6) {
        const p = rand(4) === 0 ? rand(8) : rand(0x10000);
        sched.setPriority(h, p);
        prio.set(i, p);
      } else if (r < 8) {
        sched.remove(h);
        const p = rand(0x10000);
        handles.set(i, sched.add(i, p, { ready: true }));
        prio.set(i, p);
      } else {
        sched.setBlocked(h);
        sched.setReady(h);
      }
    }
    const order = sched.readyOrder();
    expect(order.length).toBe(2000);
    for (let k = 1; k < order.length; k++) expect(prio.get(order[k - 1]!)! >= prio.get(order[k]!)!).toBe(true);
    expect(sched.priorities).toBe(new Set(prio.values()).size);
    expect(sched.activeLevels).toBe(new Set(prio.values()).size);
    for (const [i, h] of handles) expect(sched.priorityOf(h)).toBe(prio.get(i));
    // Draining by pick exercises the heap: priorities never increase.
    let last = Infinity;
    let drained = 0;
    for (let h = sched.pickHandle(); h !== undefined; h = sched.pickHandle()) {
      const p = sched.priorityOf(h);
      expect(p).toBeLessThanOrEqual(last);
      last = p;
      sched.setBlocked(h);
      drained++;
      if (drained % 7 === 0) {
        // Re-ready an earlier stream now and then: it must come back at once if it outranks the rest.
        const again = handles.get(order[drained >> 1]!)!;
        sched.setReady(again);
        last = Math.max(last, sched.priorityOf(again));
      }
    }
    expect(sched.readyCount).toBe(0);
  });
});

describe('programmer errors', () => {
  it('rejects priorities outside 0..0xFFFF', () => {
    const sched = new StreamScheduler<string>();
    const a = sched.add('a');
    for (const p of [-1, 0x10000, 1.5, Number.NaN, Infinity, '5' as unknown as number]) {
      expectError(() => sched.add('x', p), 'INVALID_PRIORITY');
      expectError(() => sched.setPriority(a, p), 'INVALID_PRIORITY');
    }
    expect(sched.size).toBe(1);
  });

  it('rejects handles it did not issue', () => {
    const sched = new StreamScheduler<string>();
    sched.add('a');
    for (const h of [12345, -1, 0.5, 2 ** 20, 2 ** 31, '0' as unknown as number] as StreamHandle[]) {
      expect(sched.contains(h)).toBe(false);
      expectError(() => sched.setReady(h), 'UNKNOWN_STREAM');
      expectError(() => sched.setBlocked(h), 'UNKNOWN_STREAM');
      expectError(() => sched.setPriority(h, 1), 'UNKNOWN_STREAM');
      expectError(() => sched.setScheme(h, 'fifo'), 'UNKNOWN_STREAM');
      expectError(() => sched.onSent(h, 1), 'UNKNOWN_STREAM');
      expectError(() => sched.remove(h), 'UNKNOWN_STREAM');
      expectError(() => sched.streamOf(h), 'UNKNOWN_STREAM');
      expectError(() => sched.priorityOf(h), 'UNKNOWN_STREAM');
      expectError(() => sched.isReady(h), 'UNKNOWN_STREAM');
      expectError(() => sched.info(h), 'UNKNOWN_STREAM');
      expectError(() => sched.schemeOf(h), 'UNKNOWN_STREAM');
    }
  });

  it('rejects a stream added twice', () => {
    const sched = new StreamScheduler<string>();
    sched.add('a');
    expectError(() => sched.add('a', 3), 'DUPLICATE_STREAM');
  });

  it('rejects bad options and amounts', () => {
    for (const quantum of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expectError(() => new StreamScheduler({ quantum }), 'INVALID_ARGUMENT');
    }
    expectError(() => new StreamScheduler({ scheme: 'lifo' as never }), 'INVALID_ARGUMENT');
    const sched = new StreamScheduler<string>();
    const a = sched.add('a', 1, { ready: true });
    expectError(() => sched.add('b', 1, { scheme: 'wfq' as never }), 'INVALID_ARGUMENT');
    expectError(() => sched.setScheme(a, 'wfq' as never), 'INVALID_ARGUMENT');
    expectError(() => {
      sched.scheme = undefined as never;
    }, 'INVALID_ARGUMENT');
    for (const amount of [-1, 0.5, Number.NaN, Infinity]) expectError(() => sched.onSent(a, amount), 'INVALID_ARGUMENT');
  });
});
