/** A Node Duplex over a QUIC stream's web streams, for pipeline() and other Node-style code. */
import { Duplex } from 'node:stream';
import { codeFromReason } from './stream.js';

export interface WebStreamPair {
  readonly readable?: ReadableStream<Uint8Array>;
  readonly writable?: WritableStream<Uint8Array>;
}

/**
 * Wraps `{ readable, writable }` (a QuicBidirectionalStream, or one direction only) in a Duplex: end() sends the
 * FIN (the 'finish' event waits until the peer acknowledged it), the readable side ends at the peer's FIN, and
 * destroy(err) resets / stops the stream with the error's `code` (0 by default).
 */
export function toDuplex(stream: WebStreamPair, options: { highWaterMark?: number } = {}): Duplex {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  try {
    reader = stream.readable?.getReader();
  } catch {
    reader = undefined;
  }
  try {
    writer = stream.writable?.getWriter();
  } catch {
    writer = undefined;
  }
  let reading = false;
  let readEnded = reader === undefined;
  let writeEnded = writer === undefined;
  const duplex: Duplex = new Duplex({
    allowHalfOpen: true,
    ...(options.highWaterMark !== undefined && { highWaterMark: options.highWaterMark }),
    read() {
      if (reader === undefined) {
        this.push(null);
        return;
      }
      if (reading) return;
      reading = true;
      const r = reader;
      const pump = (): void => {
        r.read().then(
          ({ value, done }) => {
            if (done) {
              readEnded = true;
              reading = false;
              duplex.push(null);
              return;
            }
            if (duplex.push(value)) pump();
            else reading = false;
          },
          (err: unknown) => {
            readEnded = true;
            reading = false;
            duplex.destroy(err instanceof Error ? err : new Error(String(err)));
          },
        );
      };
      pump();
    },
    write(chunk: Uint8Array, _encoding, callback) {
      if (writer === undefined) {
        callback(new Error('this stream has no writable side'));
        return;
      }
      writer.write(chunk).then(() => callback(), (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
    },
    final(callback) {
      if (writer === undefined) {
        callback();
        return;
      }
      writer.close().then(
        () => {
          writeEnded = true;
          callback();
        },
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
      );
    },
    destroy(err, callback) {
      const code = codeFromReason(err);
      if (!readEnded && reader !== undefined) reader.cancel(code).catch(() => {});
      if (!writeEnded && writer !== undefined) writer.abort(code).catch(() => {});
      readEnded = writeEnded = true;
      callback(err);
    },
  });
  return duplex;
}
