import { expect } from 'vitest';
import { QuicCodecError, Writer, encodeFrame, encodedFrameLength, parseFrames } from '@pathquic/wire-codec';
import type { Frame } from '@pathquic/wire-codec';
import type { FrameSink, SentItem, StreamSentItem } from '../../src/sent-items.js';
import { StreamManager } from '../../src/streams/index.js';
import type { StreamEvent, StreamLayerFrame, StreamLimits, StreamManagerOptions } from '../../src/streams/index.js';

/** A packet under construction: encodes every frame (so sizes and wire format are real). */
export class PacketSink implements FrameSink {
  readonly frames: Frame[] = [];
  readonly items: StreamSentItem[] = [];
  private readonly writer: Writer;

  constructor(readonly size = 1200) {
    this.writer = new Writer(new Uint8Array(size));
  }

  get remaining(): number {
    return this.size - this.writer.offset;
  }

  push(frame: Frame, item?: SentItem): void {
    const length = encodedFrameLength(frame);
    if (length > this.remaining) throw new Error(`frame of ${length} bytes pushed with ${this.remaining} left`);
    encodeFrame(frame, this.writer);
    this.frames.push(frame);
    if (item !== undefined) this.items.push(item as StreamSentItem);
  }

  /** The encoded payload, copied (so decoded frames alias a buffer of their own, as a datagram would). */
  payload(): Uint8Array {
    return this.writer.bytes().slice();
  }
}

export const LIMITS: StreamLimits = {
  initialMaxData: 1 << 20,
  initialMaxStreamDataBidiLocal: 1 << 18,
  initialMaxStreamDataBidiRemote: 1 << 18,
  initialMaxStreamDataUni: 1 << 18,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
};

export function limits(overrides: Partial<StreamLimits> = {}): StreamLimits {
  return { ...LIMITS, ...overrides };
}

/** A client/server pair with the given limits, each knowing the other's. */
export function pair(
  clientLimits: StreamLimits = LIMITS,
  serverLimits: StreamLimits = LIMITS,
  extra: Partial<StreamManagerOptions> = {},
): { client: StreamManager; server: StreamManager } {
  const client = new StreamManager({ role: 'client', local: clientLimits, ...extra });
  const server = new StreamManager({ role: 'server', local: serverLimits, ...extra });
  client.setPeerLimits(serverLimits);
  server.setPeerLimits(clientLimits);
  return { client, server };
}

/** One packet from `m` (empty frames list when it had nothing). */
export function packet(m: StreamManager, size = 1200, now = 0, rtt = 0): PacketSink {
  const sink = new PacketSink(size);
  m.writeFrames(sink, now, rtt);
  return sink;
}

/** Delivers a packet's frames to `to` through the real codec; returns the decoded frames. */
export function deliver(p: PacketSink, to: StreamManager, now = 0): Frame[] {
  const frames = parseFrames(p.payload());
  for (const f of frames) to.onFrame(f as StreamLayerFrame, now);
  return frames;
}

export function ack(p: PacketSink, m: StreamManager): void {
  for (const item of p.items) m.onAcked(item);
}

export function lose(p: PacketSink, m: StreamManager): void {
  for (const item of p.items) m.onLost(item);
}

/** Sends from `from` to `to` until it has nothing left (each packet delivered and acknowledged). */
export function flush(from: StreamManager, to: StreamManager, maxPackets = 10_000): PacketSink[] {
  const out: PacketSink[] = [];
  while (from.wantsToSend()) {
    const p = packet(from);
    if (p.frames.length === 0) break;
    deliver(p, to);
    ack(p, from);
    out.push(p);
    if (out.length > maxPackets) throw new Error('flush did not terminate');
  }
  return out;
}

/** Runs both directions until quiet. */
export function settle(a: StreamManager, b: StreamManager): void {
  for (let i = 0; i < 1000; i++) {
    const x = flush(a, b).length;
    const y = flush(b, a).length;
    if (x === 0 && y === 0) return;
  }
  throw new Error('did not settle');
}

export function events(m: StreamManager): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) out.push(e);
  return out;
}

/** Reads everything available (all chunks concatenated). */
export function readAll(m: StreamManager, id: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (;;) {
    const r = m.read(id);
    if (r.data !== undefined) parts.push(r.data);
    fin = r.fin;
    if (r.data === undefined || fin) break;
  }
  return { data: concat(parts), fin };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function expectCode(fn: () => unknown, code: number): QuicCodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QuicCodecError);
    expect((error as QuicCodecError).code).toBe(code);
    return error as QuicCodecError;
  }
  return expect.fail('expected a QuicCodecError');
}

export function streamFrames(p: PacketSink): Extract<Frame, { type: 'stream' }>[] {
  return p.frames.filter((f): f is Extract<Frame, { type: 'stream' }> => f.type === 'stream');
}

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
