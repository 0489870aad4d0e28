/**
 * The hot path: one large stream. Frames must be views of the application's buffers, one STREAM frame per full
 * packet, and buffers on both sides bounded by the send buffer and the receive window.
 */
import { describe, expect, it } from 'vitest';
import { encodedFrameLength } from '@pathquic/wire-codec';
import type { Frame } from '@pathquic/wire-codec';
import type { FrameSink, SentItem, StreamSentItem } from '../../src/sent-items.js';
import { StreamManager } from '../../src/streams/index.js';
import type { StreamLayerFrame, StreamLimits } from '../../src/streams/index.js';

/** A sink that only counts bytes (frames go straight to the peer, like a zero-copy in-memory path). */
class CountingSink implements FrameSink {
  remaining = 1200;
  readonly frames: Frame[] = [];
  readonly items: StreamSentItem[] = [];
  push(frame: Frame, item?: SentItem): void {
    this.remaining -= encodedFrameLength(frame);
    this.frames.push(frame);
    if (item !== undefined) this.items.push(item as StreamSentItem);
  }
}

const L: StreamLimits = {
  initialMaxData: 1 << 20,
  initialMaxStreamDataBidiLocal: 1 << 20,
  initialMaxStreamDataBidiRemote: 1 << 20,
  initialMaxStreamDataUni: 1 << 20,
  initialMaxStreamsBidi: 10,
  initialMaxStreamsUni: 10,
};

describe('bulk transfer on one stream', () => {
  it('moves 32 MiB with zero-copy frames, one per packet, and bounded buffers', () => {
    const sendBufferSize = 1 << 20;
    const client = new StreamManager({ role: 'client', local: L, sendBufferSize });
    const server = new StreamManager({ role: 'server', local: L, maxConnectionReceiveWindow: 4 << 20, maxStreamReceiveWindow: 4 << 20 });
    client.setPeerLimits(L);
    server.setPeerLimits(L);
    const id = client.open(true) as number;
    const total = 32 << 20;
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
    let written = 0;
    let received = 0;
    let packets = 0;
    let copies = 0;
    let checksum = 0;
    let fin = false;
    let rtt = 0;
    const inFlight: StreamSentItem[][] = [];
    const t0 = performance.now();
    while (!fin) {
      while (written < total) {
        const n = client.write(id, chunk.subarray(0, Math.min(chunk.length, total - written)));
        if (n === 0) break;
        written += n;
        if (written === total) client.finish(id);
      }
      expect(client.stats().bufferedSendBytes).toBeLessThanOrEqual(sendBufferSize);
      for (let k = 0; k < 64 && client.wantsToSend(); k++) {
        const sink = new CountingSink();
        client.writeFrames(sink, rtt, 10);
        packets++;
        const streamFrames = sink.frames.filter((f) => f.type === 'stream');
        if (sink.remaining > 40) expect(client.wantsToSend()).toBe(false); // a packet is left short only at the end
        expect(streamFrames.length).toBeLessThanOrEqual(2);
        for (const f of streamFrames) if (f.data.length > 0 && f.data.buffer !== chunk.buffer) copies++;
        for (const f of sink.frames) server.onFrame(f as StreamLayerFrame, rtt);
        inFlight.push(sink.items);
      }
      for (;;) {
        const r = server.read(id);
        if (r.data !== undefined) {
          received += r.data.length;
          checksum = (checksum + (r.data[0] ?? 0) + (r.data[r.data.length - 1] ?? 0)) | 0;
        }
        if (r.fin) {
          fin = true;
          break;
        }
        if (r.data === undefined) break;
      }
      expect(server.stats().bufferedRecvBytes).toBeLessThanOrEqual(4 << 20);
      while (server.wantsToSend()) {
        const sink = new CountingSink();
        server.writeFrames(sink, rtt, 10);
        for (const f of sink.frames) client.onFrame(f as StreamLayerFrame, rtt);
      }
      for (const items of inFlight.splice(0)) for (const item of items) client.onAcked(item);
      while (client.pollEvent() !== undefined);
      while (server.pollEvent() !== undefined);
      rtt += 1;
    }
    const ms = performance.now() - t0;
    expect(received).toBe(total);
    expect(checksum).not.toBe(0);
    // Frames are views of the application's buffer; a copy happens at most where a frame spans two writes.
    expect(copies).toBeLessThanOrEqual(total / chunk.length);
    expect(packets).toBeLessThan(Math.ceil(total / 1180) + 100);
    expect(client.stats()).toEqual({ openStreams: 1, bufferedSendBytes: 0, bufferedRecvBytes: 0 });
    // Generous bound (the real figure is a few hundred ms): catches per-byte work or quadratic bookkeeping.
    expect(ms).toBeLessThan(20_000);
  });
});
