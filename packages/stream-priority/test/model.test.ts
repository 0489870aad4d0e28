// Model-based test: random operation sequences applied to the scheduler and to a reference model — one array of the
// ready streams kept sorted by (priority descending, time of joining ascending), MsQuic's list without the blocked
// streams — must give the same pick after every operation, under FIFO, round-robin and mixed schemes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamPriorityError, StreamScheduler, type SchedulingScheme, type StreamHandle } from '../src/index.js';

interface ModelStream {
  id: number;
  priority: number;
  own: SchedulingScheme | undefined;
  ready: boolean;
  credit: number;
  joined: number;
}

class Model {
  readonly streams = new Map<number, ModelStream>();
  /** The ready streams, sorted: the next to send first. */
  readonly sorted: ModelStream[] = [];
  private clock = 0;

  constructor(
    public scheme: SchedulingScheme,
    readonly quantum: number,
  ) {}

  private join(s: ModelStream): void {
    s.ready = true;
    s.credit = this.quantum;
    s.joined = ++this.clock;
    // Behind every stream of higher or equal priority (it joined last).
    let i = this.sorted.length;
    while (i > 0 && this.sorted[i - 1]!.priority < s.priority) i--;
    this.sorted.splice(i, 0, s);
  }

  private leave(s: ModelStream): void {
    this.sorted.splice(this.sorted.indexOf(s), 1);
    s.ready = false;
  }

  add(id: number, priority: number, own: SchedulingScheme | undefined, ready: boolean): void {
    const s: ModelStream = { id, priority, own, ready: false, credit: this.quantum, joined: 0 };
    this.streams.set(id, s);
    if (ready) this.join(s);
  }

  remove(id: number): void {
    const s = this.streams.get(id)!;
    if (s.ready) this.leave(s);
    this.streams.delete(id);
  }

  setReady(id: number): void {
    const s = this.streams.get(id)!;
    if (!s.ready) this.join(s);
  }

  setBlocked(id: number): void {
    const s = this.streams.get(id)!;
    if (s.ready) this.leave(s);
  }

  setPriority(id: number, priority: number): void {
    const s = this.streams.get(id)!;
    if (s.priority === priority) return;
    const ready = s.ready;
    if (ready) this.leave(s);
    s.priority = priority;
    if (ready) this.join(s);
  }

  setScheme(id: number, own: SchedulingScheme | undefined): void {
    const s = this.streams.get(id)!;
    if (s.own === own) return;
    s.own = own;
    s.credit = this.quantum;
  }

  onSent(id: number, amount: number): void {
    const s = this.streams.get(id)!;
    if (!s.ready || (s.own ?? this.scheme) === 'fifo') return;
    s.credit -= amount;
    if (s.credit > 0) return;
    this.leave(s);
    this.join(s);
  }

  pick(): number | undefined {
    return this.sorted[0]?.id;
  }
}

type Op =
  | { op: 'add'; id: number; priority: number; scheme: SchedulingScheme | undefined; ready: boolean }
  | { op: 'remove' | 'ready' | 'block'; id: number }
  | { op: 'priority'; id: number; priority: number }
  | { op: 'scheme'; id: number; scheme: SchedulingScheme | undefined }
  | { op: 'sent'; id: number; amount: number }
  | { op: 'send'; packets: number; amount: number }
  | { op: 'connection-scheme'; scheme: SchedulingScheme };

const ID = fc.integer({ min: 0, max: 11 });
const MANY_IDS = fc.integer({ min: 0, max: 39 });
const SCHEME = fc.constantFrom<SchedulingScheme | undefined>(undefined, 'fifo', 'round-robin');
const AMOUNT = fc.integer({ min: 0, max: 5 });

function opArb(priority: fc.Arbitrary<number>, mixed: boolean, ids: fc.Arbitrary<number> = ID): fc.Arbitrary<Op> {
  const scheme = mixed ? SCHEME : fc.constant(undefined);
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('add' as const), id: ids, priority, scheme, ready: fc.boolean() }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('remove' as const), id: ids }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('ready' as const), id: ids }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('block' as const), id: ids }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('priority' as const), id: ids, priority }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('scheme' as const), id: ids, scheme }), weight: mixed ? 1 : 0 },
    { arbitrary: fc.record({ op: fc.constant('sent' as const), id: ids, amount: AMOUNT }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('send' as const), packets: fc.integer({ min: 1, max: 20 }), amount: fc.integer({ min: 1, max: 3 }) }), weight: 4 },
    {
      arbitrary: fc.record({ op: fc.constant('connection-scheme' as const), scheme: fc.constantFrom<SchedulingScheme>('fifo', 'round-robin') }),
      weight: mixed ? 1 : 0,
    },
  );
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof StreamPriorityError) return e.code;
    throw e;
  }
}

/** Apply the ops to both; return the pick sequence (after every op, and for every packet of a `send`). */
function run(scheme: SchedulingScheme, quantum: number, ops: Op[]): (number | undefined)[] {
  const sched = new StreamScheduler<number>({ scheme, quantum });
  const model = new Model(scheme, quantum);
  const handles = new Map<number, StreamHandle>(); // last handle of each id, kept after removal
  const picks: (number | undefined)[] = [];
  const check = () => {
    const expected = model.pick();
    expect(sched.pick()).toBe(expected);
    const h = sched.pickHandle();
    expect(h === undefined ? undefined : sched.streamOf(h)).toBe(expected);
    expect(sched.readyCount).toBe(model.sorted.length);
    expect(sched.size).toBe(model.streams.size);
    picks.push(expected);
  };
  for (const o of ops) {
    if (o.op === 'connection-scheme') {
      sched.scheme = o.scheme;
      model.scheme = o.scheme;
    } else if (o.op === 'send') {
      for (let k = 0; k < o.packets; k++) {
        const h = sched.pickHandle();
        const id = model.pick();
        expect(h === undefined ? undefined : sched.streamOf(h)).toBe(id);
        if (h === undefined || id === undefined) break;
        picks.push(id);
        sched.onSent(h, o.amount);
        model.onSent(id, o.amount);
      }
    } else if (o.op === 'add') {
      if (model.streams.has(o.id)) {
        expect(errorCode(() => sched.add(o.id, o.priority, { scheme: o.scheme, ready: o.ready }))).toBe('DUPLICATE_STREAM');
      } else {
        handles.set(o.id, sched.add(o.id, o.priority, { scheme: o.scheme, ready: o.ready }));
        model.add(o.id, o.priority, o.scheme, o.ready);
      }
    } else {
      const h = handles.get(o.id);
      if (h === undefined) continue; // never added: no handle to pass
      const act = (): void => {
        switch (o.op) {
          case 'remove':
            return sched.remove(h);
          case 'ready':
            return sched.setReady(h);
          case 'block':
            return sched.setBlocked(h);
          case 'priority':
            return sched.setPriority(h, o.priority);
          case 'scheme':
            return sched.setScheme(h, o.scheme);
          case 'sent':
            return sched.onSent(h, o.amount);
        }
      };
      if (!model.streams.has(o.id)) {
        expect(errorCode(act)).toBe('UNKNOWN_STREAM'); // a removed stream's handle
        continue;
      }
      act();
      switch (o.op) {
        case 'remove':
          model.remove(o.id);
          break;
        case 'ready':
          model.setReady(o.id);
          break;
        case 'block':
          model.setBlocked(o.id);
          break;
        case 'priority':
          model.setPriority(o.id, o.priority);
          break;
        case 'scheme':
          model.setScheme(o.id, o.scheme);
          break;
        case 'sent':
          model.onSent(o.id, o.amount);
          break;
      }
    }
    check();
    // The whole order, and each stream's state, agree too.
    expect(sched.readyOrder()).toEqual(model.sorted.map((s) => s.id));
    for (const s of model.streams.values()) {
      const info = sched.info(handles.get(s.id)!);
      expect(info).toMatchObject({ priority: s.priority, ready: s.ready, ownScheme: s.own, scheme: s.own ?? model.scheme });
      if (s.ready) expect(info.credit).toBe(s.credit);
    }
  }
  return picks;
}

// Few priorities (many equal-priority streams) and the full 16-bit range (many levels).
const FEW = fc.constantFrom(0, 1, 0x7fff, 0xfffe, 0xffff);
const ANY = fc.oneof(FEW, fc.integer({ min: 0, max: 0xffff }));

describe('scheduler against a sorted-array model', () => {
  it('FIFO', () => {
    fc.assert(
      fc.property(fc.array(opArb(FEW, false), { maxLength: 120 }), (ops) => {
        run('fifo', 8, ops);
      }),
      { numRuns: 300 },
    );
  });

  it('round-robin', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb(FEW, false), { maxLength: 120 }), (quantum, ops) => {
        run('round-robin', quantum, ops);
      }),
      { numRuns: 300 },
    );
  });

  it('mixed schemes per stream and per connection, any priority', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SchedulingScheme>('fifo', 'round-robin'),
        fc.integer({ min: 1, max: 8 }),
        fc.array(opArb(ANY, true), { maxLength: 150 }),
        (scheme, quantum, ops) => {
          run(scheme, quantum, ops);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('many streams and levels (heap)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SchedulingScheme>('fifo', 'round-robin'),
        fc.integer({ min: 1, max: 4 }),
        fc.array(opArb(fc.integer({ min: 0, max: 60 }), true, MANY_IDS), { minLength: 50, maxLength: 300 }),
        (scheme, quantum, ops) => {
          run(scheme, quantum, ops);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a known round-robin sequence', () => {
    const picks = run('round-robin', 2, [
      { op: 'add', id: 1, priority: 5, scheme: undefined, ready: true },
      { op: 'add', id: 2, priority: 5, scheme: undefined, ready: true },
      { op: 'add', id: 3, priority: 1, scheme: undefined, ready: true },
      { op: 'send', packets: 6, amount: 1 },
      { op: 'block', id: 1 },
      { op: 'block', id: 2 },
      { op: 'send', packets: 2, amount: 1 },
    ]);
    // A pick after each op, and one per packet sent: three adds; six packets (1 1 2 2 1 1) then 2 is next; two blocks;
    // two packets of 3.
    expect(picks).toEqual([1, 1, 1, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3]);
  });
});
