import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SendStream } from '../../src/streams/send-stream.js';
import { RangeSet } from '../../src/streams/index.js';
import { bytes, concat } from './helpers.js';

describe('SendStream buffer', () => {
  it('slices views of the application buffers and copies only to join small pieces', () => {
    const s = new SendStream(1 << 30);
    const a = bytes(4000, 1);
    const b = bytes(3100, 2);
    s.append(a);
    s.append(b);
    const first = s.takeNew(3000);
    expect(first.buffer).toBe(a.buffer);
    // 1000 bytes left in a: cut at the chunk boundary (no copy).
    const second = s.takeNew(3000);
    expect(second.buffer).toBe(a.buffer);
    expect(second.length).toBe(1000);
    const third = s.takeNew(3000);
    expect(third.buffer).toBe(b.buffer);
    // Tiny remainder + next chunk: joined into one copied frame.
    const c = bytes(3000, 3);
    s.append(c);
    const d = s.takeNew(1200);
    expect(d.length).toBe(1200);
    expect(Array.from(d)).toEqual([...b.subarray(3000, 3100), ...c.subarray(0, 1100)]);
  });

  it('coalesces small writes and releases chunks as acks advance in order', () => {
    const s = new SendStream(1 << 30);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 500; i++) {
      const p = bytes(100, i + 1);
      parts.push(p);
      s.append(p);
    }
    const all = concat(parts);
    const out: Uint8Array[] = [];
    while (s.sentOffset < s.writeOffset) {
      const off = s.sentOffset;
      const d = s.takeNew(1200);
      out.push(d.slice());
      s.onAck(off, d.length, false);
      expect(s.acked.isEmpty).toBe(true); // in-order acks never touch the range set
      expect(s.bufferedBytes).toBe(s.writeOffset - s.sentOffset);
    }
    expect(Buffer.from(concat(out)).equals(Buffer.from(all))).toBe(true);
    expect(s.bufferedBytes).toBe(0);
  });

  it('reaches data-recvd only with all data and the FIN acknowledged', () => {
    const s = new SendStream(1000);
    s.append(bytes(100));
    s.finalSize = 100;
    s.takeNew(60);
    s.takeNew(60);
    expect(s.frameFin).toBe(true);
    expect(s.state).toBe('data-sent');
    expect(s.onAck(60, 40, true)).toBe(0);
    expect(s.state).toBe('data-sent');
    expect(s.onAck(0, 60, false) & 2).toBe(2);
    expect(s.state).toBe('data-recvd');
    expect(s.isDone).toBe(true);
  });

  it('retransmits exactly the lost, unacknowledged bytes (property)', () => {
    // A random schedule of sends, acks, losses and retransmissions; every byte must end up acknowledged, nothing
    // acknowledged is ever handed out again, and every frame carries the right bytes.
    const action = fc.record({ kind: fc.constantFrom('send', 'ack', 'lose', 'resend'), pick: fc.nat(), size: fc.integer({ min: 1, max: 700 }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.array(action, { maxLength: 200 }), (total, actions) => {
        const data = bytes(total, total);
        const s = new SendStream(1 << 30);
        for (let o = 0; o < total; ) {
          const n = Math.min(total - o, 1 + ((o * 7) % 3000));
          s.append(data.subarray(o, o + n));
          o += n;
        }
        s.finalSize = total;
        const inFlight: Array<[number, number, boolean]> = [];
        const acked = new RangeSet();
        const check = (offset: number, d: Uint8Array): void => {
          expect(Buffer.from(d).equals(Buffer.from(data.subarray(offset, offset + d.length)))).toBe(true);
          if (d.length > 0) {
            const probe = new RangeSet();
            probe.add(offset, offset + d.length);
            probe.subtractWithin(acked, offset, offset + d.length);
            expect(probe.totalLength).toBe(d.length);
          }
        };
        const sendOne = (kind: string, size: number): boolean => {
          if (kind === 'resend' && !s.lost.isEmpty) {
            const off = s.lost.firstStart as number;
            const d = s.takeLost(size);
            check(off, d);
            inFlight.push([off, d.length, s.frameFin]);
            return true;
          }
          if (s.sentOffset < s.writeOffset) {
            const off = s.sentOffset;
            const d = s.takeNew(Math.min(size, s.writeOffset - off));
            check(off, d);
            inFlight.push([off, d.length, s.frameFin]);
            return true;
          }
          if (s.needsFin) {
            s.takeFinOnly();
            inFlight.push([total, 0, true]);
            return true;
          }
          return false;
        };
        const settleOne = (kind: string, pick: number): void => {
          const i = pick % inFlight.length;
          const [off, len, fin] = inFlight.splice(i, 1)[0] as [number, number, boolean];
          if (kind === 'ack') {
            s.onAck(off, len, fin);
            acked.add(off, off + len);
          } else {
            s.onLoss(off, len, fin);
          }
        };
        for (const a of actions) {
          if ((a.kind === 'ack' || a.kind === 'lose') && inFlight.length > 0) settleOne(a.kind, a.pick);
          else sendOne(a.kind, a.size);
        }
        // Drain: lose nothing more, acknowledge everything, resend what is lost.
        for (let guard = 0; guard < 100_000 && s.state !== 'data-recvd'; guard++) {
          if (inFlight.length > 0) settleOne('ack', 0);
          else if (!sendOne('resend', 1000)) break;
        }
        expect(s.state).toBe('data-recvd');
        expect(acked.covers(0, total)).toBe(true);
        expect(s.bufferedBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('a reset drops the data: nothing is retransmitted', () => {
    const s = new SendStream(1 << 20);
    s.append(bytes(5000));
    s.takeNew(1000);
    s.takeNew(1000);
    expect(s.reset(3)).toBe(true);
    expect(s.resetFinalSize).toBe(2000);
    expect(s.onLoss(0, 1000, false)).toBe(false);
    expect(s.hasRetransmit).toBe(false);
    expect(s.sendable).toBe(false);
    expect(s.bufferedBytes).toBe(0);
    expect(s.reset(4)).toBe(false);
  });

  it('rewind (0-RTT rejected) makes everything unsent again', () => {
    const s = new SendStream(1 << 20);
    const d = bytes(3000);
    s.append(d);
    s.finalSize = 3000;
    s.takeNew(1500);
    s.takeNew(1500);
    s.onLoss(0, 1500, false);
    s.rewind();
    expect(s.sentOffset).toBe(0);
    expect(s.lost.isEmpty).toBe(true);
    expect(s.finSent).toBe(false);
    expect(s.onLoss(1500, 1500, true)).toBe(false); // records from before the rejection are ignored
    const again = s.takeNew(3000);
    expect(again.length).toBe(3000);
    expect(s.frameFin).toBe(true);
  });
});
