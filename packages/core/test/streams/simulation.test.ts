/**
 * Two StreamManagers (client and server) exchanging real encoded packets over a lossy, reordering, duplicating
 * channel. Every STREAM byte must arrive intact, flow control and stream limits are enforced by the receiving
 * manager (a violation throws and fails the run), acknowledged ranges are never sent again, reset streams send
 * no more data, memory stays within the windows, and every stream ends closed on both sides.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseFrames } from '@pathquic/wire-codec';
import type { StreamSentItem } from '../../src/sent-items.js';
import { RangeSet, StreamManager, isBidirectional } from '../../src/streams/index.js';
import type { StreamLayerFrame, StreamLimits } from '../../src/streams/index.js';
import { PacketSink, bytes, concat, rng } from './helpers.js';

interface SimConfig {
  seed: number;
  loss: number;
  duplicate: number;
  late: number;
  streamsPerSide: number;
  maxSize: number;
  resets: boolean;
}

interface Plan {
  bidi: boolean;
  data: Uint8Array;
  priority: number;
  /** Sender resets after writing this many bytes (undefined: never). */
  resetAfter: number | undefined;
}

interface Writer {
  data: Uint8Array;
  written: number;
  resetAfter: number | undefined;
}

const RESET_CODE = 7;
const STOP_CODE = 9;

const LIMITS: StreamLimits = {
  initialMaxData: 48 * 1024,
  initialMaxStreamDataBidiLocal: 12 * 1024,
  initialMaxStreamDataBidiRemote: 12 * 1024,
  initialMaxStreamDataUni: 12 * 1024,
  initialMaxStreamsBidi: 3,
  initialMaxStreamsUni: 2,
};
const MAX_CONN_WINDOW = 96 * 1024;
const MAX_STREAM_WINDOW = 48 * 1024;
const SEND_BUFFER = 20 * 1024;

function replyFor(id: number): Uint8Array {
  return bytes((id * 7919) % 9000, id + 17);
}

class Side {
  readonly m: StreamManager;
  readonly plans: Plan[] = [];
  readonly writers = new Map<number, Writer>();
  /** What we sent (or mean to send) on each stream we write. */
  readonly sent = new Map<number, Uint8Array>();
  readonly received = new Map<number, Uint8Array[]>();
  readonly finReceived = new Set<number>();
  readonly resetReceived = new Map<number, { errorCode: number | bigint; finalSize: number }>();
  readonly stopAfter = new Map<number, number>();
  readonly stoppedByUs = new Set<number>();
  readonly stoppedByPeer = new Map<number, number | bigint>();
  readonly resetByUs = new Set<number>();
  readonly closed = new Set<number>();
  readonly finishedSend = new Set<number>();
  readonly acked = new Map<number, RangeSet>();
  /** Stream IDs opened (by us or the peer). */
  readonly known = new Set<number>();
  blocked = [false, false];
  blockedEvents = 0;
  stopRate = 0;

  constructor(
    readonly name: 'client' | 'server',
    private readonly random: () => number,
  ) {
    this.m = new StreamManager({
      role: name,
      local: LIMITS,
      maxConnectionReceiveWindow: MAX_CONN_WINDOW,
      maxStreamReceiveWindow: MAX_STREAM_WINDOW,
      sendBufferSize: SEND_BUFFER,
    });
    this.m.setPeerLimits(LIMITS);
  }

  /** Application activity: open planned streams, write, react to events. */
  app(): void {
    while (this.plans.length > 0) {
      const plan = this.plans[0] as Plan;
      const id = this.m.open(plan.bidi);
      if (id === undefined) break;
      this.plans.shift();
      this.known.add(id);
      this.m.setPriority(id, plan.priority, this.random() < 0.5);
      this.sent.set(id, plan.data);
      this.writers.set(id, { data: plan.data, written: 0, resetAfter: plan.resetAfter });
    }
    for (let e = this.m.pollEvent(); e !== undefined; e = this.m.pollEvent()) {
      switch (e.type) {
        case 'opened':
          expect(this.known.has(e.id)).toBe(false);
          this.known.add(e.id);
          if (isBidirectional(e.id)) {
            const reply = replyFor(e.id);
            this.sent.set(e.id, reply);
            this.writers.set(e.id, { data: reply, written: 0, resetAfter: undefined });
          }
          if (this.stopRate > 0 && this.random() < this.stopRate) this.stopAfter.set(e.id, Math.floor(this.random() * 4000));
          break;
        case 'readable':
          this.drain(e.id);
          break;
        case 'reset':
          expect(this.resetReceived.has(e.id)).toBe(false);
          this.resetReceived.set(e.id, { errorCode: e.errorCode, finalSize: e.finalSize });
          break;
        case 'stopped':
          expect(e.errorCode).toBe(STOP_CODE);
          this.stoppedByPeer.set(e.id, e.errorCode);
          this.writers.delete(e.id);
          break;
        case 'finished':
          this.finishedSend.add(e.id);
          break;
        case 'closed':
          expect(this.closed.has(e.id)).toBe(false);
          this.closed.add(e.id);
          break;
        case 'blocked':
          this.blocked[e.bidirectional ? 0 : 1] = true;
          this.blockedEvents++;
          break;
        case 'unblocked':
          this.blocked[e.bidirectional ? 0 : 1] = false;
          break;
        case 'writable':
          break;
      }
    }
    for (const [id, w] of this.writers) {
      const limit = w.resetAfter ?? w.data.length;
      if (w.written < limit) {
        const chunk = 1 + Math.floor(this.random() * 6000);
        const end = Math.min(limit, w.written + chunk);
        const n = this.m.write(id, w.data.subarray(w.written, end));
        expect(n).toBeLessThanOrEqual(end - w.written);
        w.written += n;
      }
      if (w.written === limit) {
        if (w.resetAfter !== undefined) {
          this.m.reset(id, RESET_CODE);
          this.resetByUs.add(id);
        } else {
          this.m.finish(id);
        }
        this.writers.delete(id);
      }
    }
  }

  private drain(id: number): void {
    if (this.stoppedByUs.has(id) || this.closed.has(id)) return;
    const parts = this.received.get(id) ?? [];
    this.received.set(id, parts);
    for (;;) {
      const r = this.m.read(id, 1 + Math.floor(this.random() * 5000));
      if (r.data !== undefined) parts.push(r.data.slice());
      if (r.fin) {
        this.finReceived.add(id);
        return;
      }
      if (r.data === undefined) return;
      const stop = this.stopAfter.get(id);
      if (stop !== undefined && parts.reduce((n, p) => n + p.length, 0) >= stop) {
        this.m.stopSending(id, STOP_CODE);
        this.stoppedByUs.add(id);
        return;
      }
    }
  }

  /** Checks a packet this side is about to send. */
  checkOutgoing(p: PacketSink): void {
    for (const f of p.frames) {
      if (f.type !== 'stream') continue;
      expect(this.resetByUs.has(f.streamId) || this.stoppedByPeer.has(f.streamId)).toBe(false);
      const acked = this.acked.get(f.streamId);
      if (acked !== undefined && f.data.length > 0) {
        const probe = new RangeSet();
        probe.add(f.offset, f.offset + f.data.length);
        probe.subtractWithin(acked, f.offset, f.offset + f.data.length);
        // RFC 9000 §13.3: acknowledged data is never sent again.
        expect(probe.totalLength).toBe(f.data.length);
      }
    }
  }

  onAcked(items: StreamSentItem[]): void {
    for (const item of items) {
      if (item.kind === 'stream') {
        let r = this.acked.get(item.id);
        if (r === undefined) this.acked.set(item.id, (r = new RangeSet()));
        r.add(item.offset, item.offset + item.length);
      }
      this.m.onAcked(item);
    }
  }
}

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

interface SimResult {
  client: Side;
  server: Side;
  packets: number;
  steps: number;
  /** Frames sent, by type. */
  frames: Map<string, number>;
}

function simulate(cfg: SimConfig): SimResult {
  const random = rng(cfg.seed);
  const client = new Side('client', random);
  const server = new Side('server', random);
  const frames = new Map<string, number>();
  if (cfg.resets) client.stopRate = server.stopRate = 0.15;
  for (const side of [client, server]) {
    for (let i = 0; i < cfg.streamsPerSide; i++) {
      const bidi = random() < 0.6;
      const size = i === 0 ? cfg.maxSize * 4 : Math.floor(random() * random() * cfg.maxSize);
      side.plans.push({
        bidi,
        data: bytes(size, cfg.seed * 1000 + i + (side.name === 'server' ? 500 : 0)),
        priority: [0, 0x7fff, 0x7fff, 0xffff][Math.floor(random() * 4)] as number,
        resetAfter: cfg.resets && random() < 0.1 ? Math.floor(random() * size) : undefined,
      });
    }
  }
  const queue: Scheduled[] = [];
  let seq = 0;
  const at = (time: number, run: () => void): void => {
    queue.push({ at: time, seq: seq++, run });
  };
  let now = 0;
  let packets = 0;
  const send = (from: Side, to: Side): void => {
    for (let burst = 0; burst < 8 && from.m.wantsToSend(); burst++) {
      const p = new PacketSink(1200);
      from.m.writeFrames(p, now, 20);
      // wantsToSend() is exact: a full-size packet always gets something.
      expect(p.frames.length).toBeGreaterThan(0);
      from.checkOutgoing(p);
      packets++;
      for (const f of p.frames) frames.set(f.type, (frames.get(f.type) ?? 0) + 1);
      const payload = p.payload();
      const items = p.items;
      const delay = 5 + Math.floor(random() * 15);
      const arrive = (): void => {
        const copy = payload.slice();
        for (const f of parseFrames(copy)) to.m.onFrame(f as StreamLayerFrame, now);
        copy.fill(0xee); // the receiver must have copied what it keeps
      };
      const r = random();
      if (r < cfg.loss) {
        at(now + delay + 10, () => items.forEach((i) => from.m.onLost(i)));
      } else if (r < cfg.loss + cfg.late) {
        // Declared lost, then arrives and is acknowledged after all (spurious loss).
        at(now + delay, () => items.forEach((i) => from.m.onLost(i)));
        at(now + delay + 15, arrive);
        at(now + delay + 25, () => from.onAcked(items));
      } else {
        at(now + delay, arrive);
        if (random() < cfg.duplicate) at(now + delay + Math.floor(random() * 30), arrive);
        at(now + delay + 5 + Math.floor(random() * 10), () => from.onAcked(items));
      }
    }
  };
  const done = (): boolean =>
    queue.length === 0 &&
    client.plans.length === 0 &&
    server.plans.length === 0 &&
    client.writers.size === 0 &&
    server.writers.size === 0 &&
    !client.m.wantsToSend() &&
    !server.m.wantsToSend() &&
    client.m.stats().openStreams === 0 &&
    server.m.stats().openStreams === 0;
  let steps = 0;
  for (; steps < 200_000 && !done(); steps++) {
    now += 1;
    client.app();
    server.app();
    send(client, server);
    send(server, client);
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (queue.length > 0 && (queue[0] as Scheduled).at <= now) (queue.shift() as Scheduled).run();
    client.app();
    server.app();
    for (const side of [client, server]) {
      const st = side.m.stats();
      // Bounded memory: reassembly never exceeds the largest window the receiver may have advertised.
      expect(st.bufferedRecvBytes).toBeLessThanOrEqual(MAX_CONN_WINDOW);
      expect(st.bufferedSendBytes).toBeLessThanOrEqual(SEND_BUFFER * Math.max(1, st.openStreams));
    }
  }
  expect(done()).toBe(true);
  return { client, server, packets, steps, frames };
}

function verify(a: Side, b: Side): void {
  for (const [id, data] of a.sent) {
    expect(a.closed.has(id)).toBe(true);
    expect(b.closed.has(id)).toBe(true);
    const got = concat(b.received.get(id) ?? []);
    const reset = b.resetReceived.get(id);
    if (b.finReceived.has(id)) {
      // Everything arrived, byte for byte (a late reset may be ignored, RFC 9000 §3.2).
      expect(got.length).toBe(data.length);
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
    } else {
      // Reset by the sender or stopped by the receiver: a correct prefix, then the reset.
      expect(a.resetByUs.has(id) || b.stoppedByUs.has(id)).toBe(true);
      expect(Buffer.from(got).equals(Buffer.from(data.subarray(0, got.length)))).toBe(true);
      if (reset !== undefined) {
        expect(reset.errorCode).toBe(a.resetByUs.has(id) && !a.stoppedByPeer.has(id) ? RESET_CODE : STOP_CODE);
        expect(reset.finalSize).toBeGreaterThanOrEqual(got.length);
      } else {
        // Only a receiver that stopped may miss the RESET_STREAM event (the stream finished under it).
        expect(b.stoppedByUs.has(id)).toBe(true);
      }
    }
  }
}

describe('two StreamManagers over a lossy channel', () => {
  it('delivers many streams byte-identical over a clean channel', () => {
    const { client, server, frames } = simulate({ seed: 1, loss: 0, duplicate: 0, late: 0, streamsPerSide: 12, maxSize: 30_000, resets: false });
    verify(client, server);
    verify(server, client);
    expect(client.sent.size).toBeGreaterThan(12); // own streams plus replies
    expect(frames.get('stream') ?? 0).toBeGreaterThan(100);
  });

  it('delivers through 15% loss, duplication, reordering and spurious losses', () => {
    const { client, server, packets, frames } = simulate({ seed: 7, loss: 0.15, duplicate: 0.1, late: 0.05, streamsPerSide: 16, maxSize: 25_000, resets: false });
    verify(client, server);
    verify(server, client);
    expect(packets).toBeGreaterThan(200);
    // The limits are small on purpose: every flow-control and stream-limit frame takes part.
    for (const type of ['max_data', 'max_stream_data', 'max_streams', 'streams_blocked', 'stream_data_blocked', 'data_blocked']) {
      expect(frames.get(type) ?? 0, type).toBeGreaterThan(0);
    }
    expect(client.blockedEvents + server.blockedEvents).toBeGreaterThan(0);
  });

  it('handles resets and STOP_SENDING under loss', () => {
    const { client, server, frames } = simulate({ seed: 11, loss: 0.1, duplicate: 0.05, late: 0.03, streamsPerSide: 20, maxSize: 20_000, resets: true });
    verify(client, server);
    verify(server, client);
    expect(frames.get('reset_stream') ?? 0).toBeGreaterThan(0);
    expect(frames.get('stop_sending') ?? 0).toBeGreaterThan(0);
    expect(client.stoppedByPeer.size + server.stoppedByPeer.size).toBeGreaterThan(0);
    const stopped = client.stoppedByUs.size + server.stoppedByUs.size;
    const reset = client.resetByUs.size + server.resetByUs.size;
    expect(stopped + reset).toBeGreaterThan(0);
  });

  it('holds for random seeds and channel conditions (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          loss: fc.double({ min: 0, max: 0.25, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
          late: fc.double({ min: 0, max: 0.05, noNaN: true }),
          streamsPerSide: fc.integer({ min: 1, max: 10 }),
          maxSize: fc.integer({ min: 1, max: 12_000 }),
          resets: fc.boolean(),
        }),
        (cfg) => {
          const { client, server } = simulate(cfg);
          verify(client, server);
          verify(server, client);
        },
      ),
      { numRuns: Number(process.env.SIM_RUNS ?? 25), seed: Number(process.env.SIM_SEED ?? 42) },
    );
  });
});
