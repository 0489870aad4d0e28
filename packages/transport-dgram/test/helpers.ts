import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listen, transportDiagnostics, type ListenOptions, type QuicServer } from '../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const CERT = readFileSync(dir + 'leaf-ecdsa.chain.pem', 'utf8');
export const KEY = readFileSync(dir + 'leaf-ecdsa.key', 'utf8');
export const ROOT_CA = readFileSync(dir + 'root-ca.crt', 'utf8');

export function startServer(extra: Partial<ListenOptions> = {}): Promise<QuicServer> {
  return listen({ port: 0, host: '127.0.0.1', cert: CERT, key: KEY, alpn: ['test'], ...extra });
}

export function clientOptions(server: QuicServer, extra: Record<string, unknown> = {}) {
  const a = server.address();
  const host = a.address === '::' || a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
  return { host, port: a.port, alpn: ['test'], servername: 'localhost', ca: ROOT_CA, ...extra };
}

export function sha256(...chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Deterministic bytes (xorshift), fast enough for 100 MB. */
export function patternBytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < n; i++) out[i] = i & 0xff;
  return out;
}

/** Reads a whole ReadableStream: total length and sha256. */
export async function drain(readable: ReadableStream<Uint8Array>): Promise<{ length: number; sha256: string }> {
  const h = createHash('sha256');
  let length = 0;
  for await (const chunk of readable) {
    h.update(chunk);
    length += chunk.length;
  }
  return { length, sha256: h.digest('hex') };
}

export async function readAllBytes(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readable) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Writes `data` in chunks of `chunk` bytes, then closes. */
export async function writeAll(writable: WritableStream<Uint8Array>, data: Uint8Array, chunk = 256 * 1024): Promise<void> {
  const w = writable.getWriter();
  for (let o = 0; o < data.length; o += chunk) await w.write(data.subarray(o, Math.min(data.length, o + chunk)));
  await w.close();
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every socket this package opened is closed (clients close theirs after the draining period). */
export function allSocketsClosed(timeoutMs = 5000): Promise<void> {
  return waitFor(() => transportDiagnostics().openSockets === 0, timeoutMs, 'all sockets to close');
}
