import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { H3Client, H3Server } from '../../src/session/index.js';
import type { H3ClientOptions, H3Handler, H3ServerOptions } from '../../src/session/index.js';
import { createFakeQuicPair } from './fake-quic.js';
import type { FakeOptions, FakeQuicConnection } from './fake-quic.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface Session {
  readonly client: H3Client;
  readonly server: H3Server;
  readonly clientConn: FakeQuicConnection;
  readonly serverConn: FakeQuicConnection;
  readonly errors: unknown[];
}

export function startSession(
  handler: H3Handler,
  options: { fake?: FakeOptions; server?: H3ServerOptions; client?: H3ClientOptions } = {},
): Session {
  const { client: clientConn, server: serverConn } = createFakeQuicPair(options.fake);
  const errors: unknown[] = [];
  const server = new H3Server(serverConn, handler, { onError: (e) => errors.push(e), ...options.server });
  const client = new H3Client(clientConn, options.client);
  return { client, server, clientConn, serverConn, errors };
}

/** File sizes around the 64 KiB chunk boundary and a few large ones. */
export const FILE_SIZES = [0, 1, 13, 1000, 65535, 65536, 65537, 200_000, 1_048_583, 3 * 1024 * 1024 + 5];

export interface Tree {
  readonly root: string;
  readonly outside: string;
  readonly files: Map<string, Uint8Array>;
}

/**
 * root/ with size-<n>.bin files, hello.txt, sub/index.html, sub/data.bin, and link.txt → a file outside root;
 * outside/secret.txt next to it.
 */
export async function makeTree(): Promise<Tree> {
  const base = await mkdtemp(join(tmpdir(), 'h3-session-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  const files = new Map<string, Uint8Array>();
  const put = async (name: string, bytes: Uint8Array): Promise<void> => {
    files.set(name, bytes);
    await writeFile(join(root, name), bytes);
  };
  for (const size of FILE_SIZES) await put(`size-${size}.bin`, new Uint8Array(randomBytes(size)));
  await put('hello.txt', new TextEncoder().encode('hello, world\n'));
  await put('sub/index.html', new TextEncoder().encode('<h1>sub</h1>\n'));
  await put('sub/data.bin', new Uint8Array(randomBytes(5000)));
  await put('with space.txt', new TextEncoder().encode('spaced\n'));
  await writeFile(join(outside, 'secret.txt'), 'secret\n');
  await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
  return { root, outside, files };
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Bytes from a readable until it ends. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
