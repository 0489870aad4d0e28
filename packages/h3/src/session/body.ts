/** Helpers for response (or request) bodies. */
import { open } from 'node:fs/promises';

/** Reads a body to its end (at most `maxBytes`, default unlimited; more rejects with a RangeError). */
export async function readBody(body: ReadableStream<Uint8Array>, maxBytes = Number.POSITIVE_INFINITY): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new RangeError(`body larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Bytes gathered before one writev: few large writes instead of one thread-pool round trip per chunk. */
const SAVE_BATCH_BYTES = 512 * 1024;

/**
 * Writes a body to a file (created or truncated) without holding a large download in memory: chunks are gathered
 * into ~512 KiB writev calls, and one write runs while the next batch is read; resolves with the number of bytes
 * written. If the body errors, the file keeps what arrived and the error is rethrown.
 */
export async function saveBody(body: ReadableStream<Uint8Array>, filePath: string): Promise<number> {
  const handle = await open(filePath, 'w');
  const reader = body.getReader();
  let total = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const writeAll = async (chunks: Uint8Array[], bytes: number): Promise<void> => {
    let done = 0;
    while (done < bytes) {
      // writev may write less than asked: continue from where it stopped.
      const { bytesWritten } = await handle.writev(chunks);
      done += bytesWritten;
      if (done < bytes) chunks = remainingAfter(chunks, bytesWritten);
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      batch.push(value);
      batchBytes += value.length;
      total += value.length;
      if (batchBytes >= SAVE_BATCH_BYTES) {
        await writing; // at most one write in flight: memory stays bounded
        writing = writeAll(batch, batchBytes);
        // Awaited before the next batch or at the end; until then a failure must not count as unhandled.
        writing.catch(() => undefined);
        batch = [];
        batchBytes = 0;
      }
    }
    await writing;
    if (batchBytes > 0) await writeAll(batch, batchBytes);
  } catch (err) {
    reader.cancel(err).catch(() => undefined);
    await writing.catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
    await handle.close();
  }
  return total;
}

/** The chunks still to write after the first `written` bytes of `chunks` went out. */
function remainingAfter(chunks: Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = written;
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    rest.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return rest;
}
