/** The test double itself: FIN, RESET_STREAM, STOP_SENDING, backpressure and connection close behave like QUIC. */
import { describe, expect, it } from 'vitest';
import { FakeConnectionClosedError, createFakeQuicPair } from './fake-quic.js';
import type { FakeStreamError } from './fake-quic.js';
import { readAll, rejection } from './helpers.js';

describe('fake QUIC pair', () => {
  it('delivers bytes in order, cut into pieces, copied, and ends at FIN', async () => {
    const { client, server } = createFakeQuicPair({ maxPiece: 3 });
    const incoming = server.incomingBidirectionalStreams.getReader();
    const stream = await client.createBidirectionalStream();
    expect(stream.id).toBe(0);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    const writer = stream.writable.getWriter();
    const done = writer.write(data).then(() => writer.close());
    data[0] = 0xff; // the writer's buffer is copied at write time
    const { value: remote } = await incoming.read();
    expect(remote!.id).toBe(0);
    const reader = remote!.readable.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBeLessThanOrEqual(3);
    reader.releaseLock();
    const rest = await readAll(remote!.readable);
    await done;
    expect([...first.value!, ...rest]).toEqual(Array.from({ length: 100 }, (_, i) => (i === 0 ? 0 : i)));
    expect((await client.createBidirectionalStream()).id).toBe(4);
    expect((await server.createBidirectionalStream()).id).toBe(1);
    expect((await client.createUnidirectionalStream()).id).toBe(2);
    expect((await server.createUnidirectionalStream()).id).toBe(3);
  });

  it('RESET_STREAM errors the receiver with the code; STOP_SENDING errors the sender and resets', async () => {
    const { client, server } = createFakeQuicPair();
    const incoming = server.incomingBidirectionalStreams.getReader();
    const stream = await client.createBidirectionalStream();
    const { value: remote } = await incoming.read();
    stream.reset(0x10c);
    expect(((await rejection(readAll(remote!.readable))) as FakeStreamError).code).toBe(0x10c);
    const writer = remote!.writable.getWriter();
    await writer.write(new Uint8Array(1));
    stream.stopSending(0x100);
    expect(((await rejection(writer.write(new Uint8Array(1)))) as FakeStreamError).code).toBe(0x100);
    expect(((await rejection(readAll(stream.readable))) as FakeStreamError).code).toBe(0x100);
    expect(client.log).toEqual([
      { op: 'reset', by: 'client', id: 0, code: 0x10c },
      { op: 'stop-sending', by: 'client', id: 0, code: 0x100 },
    ]);
  });

  it('a full receive buffer holds the writer back until the reader reads', async () => {
    const { client, server } = createFakeQuicPair({ receiveBuffer: 1000 });
    const incoming = server.incomingUnidirectionalStreams.getReader();
    const stream = await client.createUnidirectionalStream();
    const writer = stream.writable.getWriter();
    let written = false;
    const write = writer.write(new Uint8Array(5000)).then(() => {
      written = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(written).toBe(false);
    const { value: remote } = await incoming.read();
    const reader = remote!.readable.getReader();
    let total = 0;
    while (total < 5000) total += (await reader.read()).value!.length;
    await write;
    expect(written).toBe(true);
  });

  it('closing the connection settles both sides and errors every stream', async () => {
    const { client, server } = createFakeQuicPair();
    const stream = await client.createBidirectionalStream();
    server.close({ closeCode: 0x104, reason: 'bye' });
    expect(await server.closed).toEqual({ closeCode: 0x104, reason: 'bye', remote: false });
    expect(await client.closed).toEqual({ closeCode: 0x104, reason: 'bye', remote: true });
    expect(await rejection(readAll(stream.readable))).toBeInstanceOf(FakeConnectionClosedError);
    await expect(client.createUnidirectionalStream()).rejects.toBeInstanceOf(FakeConnectionClosedError);
  });
});
