// Issue 6 figures: the pathquic scheduler against MsQuic's sorted-list algorithm (bench/msquic-list.ts) at 10, 1,000,
// 10,000 and 100,000 streams, both schemes, the same deterministic operation mix for both.
//
// Setup per size N: N streams with data, priorities drawn from 16 values (0x0000, 0x1111, …, 0xFFFF), 10 % of them
// blocked by flow control. Operations: 70 % "send one packet" (pick, then report one packet sent), 20 % flow control
// (block one stream when fewer than 10 % are blocked, else unblock one, so the blocked share stays at 10 %), 10 %
// priority change of a uniformly random stream to a different one of the 16 priorities. Two workloads differ in
// which stream a "block" hits:
// - "sending": the stream that is sending, the one the scheduler picked. In QUIC a stream only leaves the ready set
//   by sending its last byte or its last byte of flow-control credit (limits never shrink), so this is where blocks
//   happen. An unblock hits the stream blocked longest ago (credit comes back about one round trip after a stream
//   ran out of it).
// - "uniform": block and unblock both hit uniformly random streams — a stress test of cache behaviour, since every
//   such operation then touches a cold stream and its two cold list neighbours.
// The operation sequence (kinds, random draws) is generated once per size from a fixed seed and both variants replay
// it from their own cursor, cyclically (a uniform sequence ends with the blocked set and the priorities it started
// with, a sending one with the blocked count it started with).
//
// The MsQuic driver models its send loop: a send asks `QuicSendGetNextStream` for a stream only when the current
// one's packet budget is spent (8 in round-robin, unlimited in FIFO); any other operation (an API call or a flow
// control event) ends the flush, so the next send picks again. Flow-control-blocked streams stay in MsQuic's list
// (that is what MsQuic does); pathquic unlinks them.
//
// Timing (the machine is noisy): per workload and scheme, the eight variants (4 sizes x pathquic/msquic) are measured
// interleaved — 11 rounds, in each round every variant runs for 20 ms of wall time, in an order that rotates and
// reverses from round to round — so a slow spell of the machine hits every size and both algorithms alike. A
// variant's figure is the median of its rounds.
//
// The last line is one JSON object. `speedup_vs_msquic_10k` (MsQuic ns/op over pathquic ns/op at 10,000 streams) and
// `cost_ratio_100k_vs_10` (pathquic ns/op at 100,000 streams over ns/op at 10) are the worst case over both workloads
// and both schemes; per-workload figures and every ns/op follow.
import { StreamScheduler, type SchedulingScheme, type StreamHandle } from '../src/index.js';
import { MsQuicSendQueue, MsQuicStream } from './msquic-list.js';

type Targeting = 'sending' | 'uniform';

const SIZES = [10, 1_000, 10_000, 100_000] as const;
const PRIORITIES = Array.from({ length: 16 }, (_, k) => k * 0x1111);
const HALF = 1 << 18;
const OPS = 2 * HALF;
const MASK = OPS - 1;
const ROUNDS = 11;
const ROUND_MS = 20;

const PICK = 0;
const BLOCK = 1;
const UNBLOCK = 2;
const REPRIO = 3;
// Op word: kind (2 bits) | new priority index (4) | old priority index (4) | stream index (17+). A "sending" block or
// unblock carries no stream: each variant decides (the sending stream; the oldest blocked one).
const op = (kind: number, stream: number, newPrio = 0, oldPrio = 0) => (kind | (newPrio << 2) | (oldPrio << 6) | (stream << 10)) >>> 0;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A set of stream indices with O(1) add, random choice and removal (for generating the uniform workload). */
class IndexSet {
  readonly items: Int32Array;
  private readonly pos: Int32Array;
  size = 0;
  constructor(n: number) {
    this.items = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
  }
  add(s: number): void {
    this.pos[s] = this.size;
    this.items[this.size++] = s;
  }
  /** Remove and return the item at index i. */
  take(i: number): number {
    const s = this.items[i]!;
    const last = this.items[--this.size]!;
    this.items[i] = last;
    this.pos[last] = i;
    this.pos[s] = -1;
    return s;
  }
}

/** The blocked streams of one variant in the "sending" workload (its own handles for them), oldest first. */
class BlockedQueue {
  private readonly ring: Int32Array;
  private head = 0;
  private tail = 0;
  constructor(n: number, initial: Uint8Array, handleOf: (s: number) => number) {
    this.ring = new Int32Array(n);
    for (let s = 0; s < n; s++) if (initial[s] === 1) this.push(handleOf(s));
  }
  push(s: number): void {
    this.ring[this.tail] = s;
    this.tail = this.tail + 1 === this.ring.length ? 0 : this.tail + 1;
  }
  shift(): number {
    const s = this.ring[this.head]!;
    this.head = this.head + 1 === this.ring.length ? 0 : this.head + 1;
    return s;
  }
}

interface Workload {
  n: number;
  targeting: Targeting;
  /** Priority index of each stream at the start. */
  prio: Uint8Array;
  /** Blocked at the start. */
  blocked: Uint8Array;
  /** Stream indices sorted by priority, highest first: the insertion order (keeps MsQuic's setup O(n)). */
  order: number[];
  ops: Uint32Array;
}

function makeWorkload(n: number, targeting: Targeting, seed: number): Workload {
  const rnd = mulberry32(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const prio = new Uint8Array(n);
  for (let s = 0; s < n; s++) prio[s] = int(PRIORITIES.length);
  const ready = new IndexSet(n);
  const blockedSet = new IndexSet(n);
  for (let s = 0; s < n; s++) ready.add(s);
  const target = Math.max(1, Math.round(n / 10));
  while (blockedSet.size < target) blockedSet.add(ready.take(int(ready.size)));
  const blocked = new Uint8Array(n);
  for (let k = 0; k < blockedSet.size; k++) blocked[blockedSet.items[k]!] = 1;
  const start = Uint8Array.from(prio);
  const reprio = () => {
    const s = int(n);
    const old = prio[s]!;
    const p = (old + 1 + int(PRIORITIES.length - 1)) % PRIORITIES.length; // a different priority
    prio[s] = p;
    return op(REPRIO, s, p, old);
  };

  const ops = new Uint32Array(OPS);
  if (targeting === 'uniform') {
    // First half at random, second half the inverses in reverse order: the sequence ends where it started.
    for (let k = 0; k < HALF; k++) {
      const r = rnd();
      if (r < 0.7) {
        ops[k] = op(PICK, 0);
      } else if (r < 0.9) {
        if (blockedSet.size < target) {
          const s = ready.take(int(ready.size));
          blockedSet.add(s);
          ops[k] = op(BLOCK, s);
        } else {
          const s = blockedSet.take(int(blockedSet.size));
          ready.add(s);
          ops[k] = op(UNBLOCK, s);
        }
      } else {
        ops[k] = reprio();
      }
    }
    for (let k = 0; k < HALF; k++) {
      const w = ops[k]!;
      const kind = w & 3;
      const s = w >>> 10;
      ops[OPS - 1 - k] =
        kind === PICK ? w : kind === BLOCK ? op(UNBLOCK, s) : kind === UNBLOCK ? op(BLOCK, s) : op(REPRIO, s, (w >>> 6) & 15, (w >>> 2) & 15);
    }
  } else {
    // Which stream a block or an unblock hits is decided by each variant; only the blocked count matters here.
    // (Never more than n / 10 + 1 are blocked, so a ready stream to block always exists.)
    let nBlocked = target;
    for (let k = 0; k < OPS - 1; k++) {
      const r = rnd();
      if (r < 0.7) {
        ops[k] = op(PICK, 0);
      } else if (r < 0.9) {
        if (nBlocked < target) {
          nBlocked++;
          ops[k] = BLOCK;
        } else {
          nBlocked--;
          ops[k] = UNBLOCK;
        }
      } else {
        ops[k] = reprio();
      }
    }
    ops[OPS - 1] = nBlocked < target ? BLOCK : PICK; // back to the starting count
  }
  const order = Array.from({ length: n }, (_, s) => s).sort((a, b) => start[b]! - start[a]! || a - b);
  return { n, targeting, prio: start, blocked, order, ops };
}

interface Variant {
  name: string;
  chunk: number;
  run(count: number): void;
  nsPerOp: number[];
}

function pathquicVariant(w: Workload, scheme: SchedulingScheme): Variant {
  const sched = new StreamScheduler<number>({ scheme });
  // The caller's side: each stream keeps its handle (a small integer; here in an array indexed by stream number).
  const handles = new Int32Array(w.n);
  for (const s of w.order) handles[s] = sched.add(s, PRIORITIES[w.prio[s]!]!, { ready: w.blocked[s] === 0 });
  const handle = (s: number) => handles[s] as StreamHandle;
  const blocked = new BlockedQueue(w.n, w.blocked, handle);
  const ops = w.ops;
  const sending = w.targeting === 'sending';
  let cursor = 0;
  return {
    name: 'pathquic',
    chunk: 1024,
    nsPerOp: [],
    run(count) {
      for (let k = 0; k < count; k++) {
        const o = ops[cursor]!;
        cursor = (cursor + 1) & MASK;
        const kind = o & 3;
        if (kind === PICK) {
          const h = sched.pickHandle();
          if (h !== undefined) sched.onSent(h, 1);
        } else if (kind === BLOCK) {
          if (sending) {
            const h = sched.pickHandle();
            if (h !== undefined) {
              sched.setBlocked(h);
              blocked.push(h);
            }
          } else {
            sched.setBlocked(handle(o >>> 10));
          }
        } else if (kind === UNBLOCK) {
          sched.setReady(sending ? (blocked.shift() as StreamHandle) : handle(o >>> 10));
        } else {
          sched.setPriority(handle(o >>> 10), PRIORITIES[(o >>> 2) & 15]!);
        }
      }
    },
  };
}

function msquicVariant(w: Workload, scheme: SchedulingScheme): Variant {
  const queue = new MsQuicSendQueue<number>(scheme === 'round-robin');
  const streams: MsQuicStream<number>[] = new Array<MsQuicStream<number>>(w.n);
  for (const s of w.order) {
    const stream = new MsQuicStream(s, PRIORITIES[w.prio[s]!]!);
    stream.blocked = w.blocked[s] === 1;
    streams[s] = stream;
    queue.queueFlushForStream(stream);
  }
  const blocked = new BlockedQueue(w.n, w.blocked, (s) => s);
  const ops = w.ops;
  const sending = w.targeting === 'sending';
  let cursor = 0;
  let current: MsQuicStream<number> | null = null;
  let budget = 0;
  return {
    name: 'msquic',
    chunk: 16,
    nsPerOp: [],
    run(count) {
      for (let k = 0; k < count; k++) {
        const o = ops[cursor]!;
        cursor = (cursor + 1) & MASK;
        const kind = o & 3;
        if (kind === PICK || (kind === BLOCK && sending)) {
          if (current === null || budget === 0) {
            current = queue.getNextStream();
            budget = queue.packetCount;
          }
          if (current === null) continue;
          if (kind === PICK) {
            budget--;
            continue;
          }
          current.blocked = true; // the sending stream ran out of credit; it stays in the list
          blocked.push(current.id);
        } else if (kind === BLOCK) {
          (streams[o >>> 10] as MsQuicStream<number>).blocked = true;
        } else if (kind === UNBLOCK) {
          const stream = streams[sending ? blocked.shift() : o >>> 10]!;
          stream.blocked = false;
          queue.queueFlushForStream(stream); // already queued: O(1) no-op
        } else {
          queue.setPriority(streams[o >>> 10]!, PRIORITIES[(o >>> 2) & 15]!);
        }
        current = null; // the next send starts a new flush
      }
    },
  };
}

function timeRound(v: Variant): void {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    v.run(v.chunk);
    ops += v.chunk;
    t = performance.now();
  } while (t - t0 < ROUND_MS);
  v.nsPerOp.push(((t - t0) * 1e6) / ops);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;
const pad = (s: string, n: number) => s.padStart(n);
const mops = (ns: number) => (1e3 / ns).toFixed(ns < 100 ? 1 : ns < 1e5 ? 3 : 5);

interface Result {
  targeting: Targeting;
  scheme: SchedulingScheme;
  n: number;
  pathquicNs: number;
  msquicNs: number;
}

const results: Result[] = [];
console.log(
  'stream scheduler: 16 priorities, 10 % of streams flow-control blocked; ops: 70 % send a packet, 20 % block/unblock, 10 % priority change',
);
for (const targeting of ['sending', 'uniform'] as const) {
  console.log(targeting === 'sending' ? 'blocks hit the sending stream:' : 'blocks hit uniformly random streams (cache stress):');
  for (const scheme of ['fifo', 'round-robin'] as const) {
    const bySize = SIZES.map((n) => {
      const w = makeWorkload(n, targeting, 0x5eed + n);
      return [pathquicVariant(w, scheme), msquicVariant(w, scheme)] as const;
    });
    const variants = bySize.flat();
    for (const v of variants) {
      timeRound(v); // warm-up, discarded
      v.nsPerOp.length = 0;
    }
    for (let r = 0; r < ROUNDS; r++) {
      const k = r % variants.length;
      const order = [...variants.slice(k), ...variants.slice(0, k)];
      if (r % 2 === 1) order.reverse();
      for (const v of order) timeRound(v);
    }
    for (const [i, n] of SIZES.entries()) {
      const [pq, ms] = bySize[i]!.map((v) => median(v.nsPerOp)) as [number, number];
      results.push({ targeting, scheme, n, pathquicNs: pq, msquicNs: ms });
      console.log(
        `  ${scheme.padEnd(11)} ${pad(n.toLocaleString('en-US'), 7)} streams: pathquic ${pad(mops(pq), 6)} Mops/s (${pad(pq.toFixed(1), 6)} ns/op)   ` +
          `msquic ${pad(mops(ms), 8)} Mops/s (${pad(ms.toFixed(1), 9)} ns/op)   speedup ${pad((ms / pq).toFixed(1), 7)}x`,
      );
    }
  }
}

const get = (t: Targeting, scheme: SchedulingScheme, n: number) => results.find((r) => r.targeting === t && r.scheme === scheme && r.n === n)!;
const speedup = (t: Targeting, scheme: SchedulingScheme, n: number) => get(t, scheme, n).msquicNs / get(t, scheme, n).pathquicNs;
const costRatio = (t: Targeting, scheme: SchedulingScheme) => get(t, scheme, 100_000).pathquicNs / get(t, scheme, 10).pathquicNs;
for (const t of ['sending', 'uniform'] as const) {
  for (const scheme of ['fifo', 'round-robin'] as const) {
    console.log(
      `${t}, ${scheme}: speedup at 10,000 streams ${speedup(t, scheme, 10_000).toFixed(1)}x (target >= 20x); ` +
        `pathquic per-op cost 100,000 vs 10 streams ${costRatio(t, scheme).toFixed(2)} (target <= 2)`,
    );
  }
}

const worst = (ts: readonly Targeting[]) => ({
  speedup: r2(Math.min(...ts.flatMap((t) => [speedup(t, 'fifo', 10_000), speedup(t, 'round-robin', 10_000)]))),
  ratio: r2(Math.max(...ts.flatMap((t) => [costRatio(t, 'fifo'), costRatio(t, 'round-robin')]))),
});
const figures: Record<string, number> = {
  // Headline: the worst case over both workloads and both schemes.
  speedup_vs_msquic_10k: worst(['sending', 'uniform']).speedup,
  cost_ratio_100k_vs_10: worst(['sending', 'uniform']).ratio,
  speedup_vs_msquic_10k_sending: worst(['sending']).speedup,
  cost_ratio_100k_vs_10_sending: worst(['sending']).ratio,
  speedup_vs_msquic_10k_uniform: worst(['uniform']).speedup,
  cost_ratio_100k_vs_10_uniform: worst(['uniform']).ratio,
};
for (const r of results) {
  const tag = `${r.targeting}_${r.scheme === 'fifo' ? 'fifo' : 'rr'}_${r.n}`;
  figures[`pathquic_ns_per_op_${tag}`] = r2(r.pathquicNs);
  figures[`msquic_ns_per_op_${tag}`] = r2(r.msquicNs);
}
console.log(JSON.stringify(figures));
