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

/**
 * Writes a body to a file (created or truncated), one chunk at a time so a large download never sits in memory;
 * resolves with the number of bytes written. If the body errors, the file keeps what arrived and the error is
 * rethrown.
 */
export async function saveBody(body: ReadableStream<Uint8Array>, filePath: string): Promise<number> {
  const handle = await open(filePath, 'w');
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.length) {
        const { bytesWritten } = await handle.write(value, offset, value.length - offset);
        offset += bytesWritten;
      }
      total += value.length;
    }
  } catch (err) {
    reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
    await handle.close();
  }
  return total;
}
