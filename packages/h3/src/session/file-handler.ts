/**
 * A handler serving the files under one directory: GET and HEAD, content-length, bodies streamed in chunks with
 * backpressure, nothing outside the directory reachable.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { H3Handler, H3Request, H3ResponseInit } from './server.js';
import { DEFAULT_CHUNK_SIZE } from './message-io.js';

export interface FileHandlerOptions {
  /** Bytes read from the file per DATA frame; default 65536. */
  readonly chunkSize?: number;
  /** File served for a directory path (e.g. "/"); default "index.html"; false for none (404). */
  readonly index?: string | false;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
};

export type ResolvedPath =
  | { readonly ok: true; readonly path: string; readonly directory: boolean }
  | { readonly ok: false; readonly status: 400 | 404 };

/**
 * Maps a request :path to a file path under `root` without touching the file system. The query is ignored;
 * each segment is percent-decoded (RFC 3986 §2.1). A bad escape, an encoded "/" or "\", or a NUL is 400; a ".."
 * segment (literal or encoded) is 404, so nothing reveals what lies outside the root.
 */
export function resolveRequestPath(root: string, requestPath: string): ResolvedPath {
  let path = requestPath;
  const query = path.search(/[?#]/);
  if (query >= 0) path = path.slice(0, query);
  if (!path.startsWith('/')) return { ok: false, status: 400 };
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400 };
    }
    if (/[/\\\0]/.test(segment)) return { ok: false, status: 400 };
    if (segment === '..') return { ok: false, status: 404 };
    if (segment === '' || segment === '.') continue;
    segments.push(segment);
  }
  const base = resolve(root);
  const full = join(base, ...segments);
  const rel = relative(base, full);
  if (rel.startsWith('..') || isAbsolute(rel)) return { ok: false, status: 404 };
  return { ok: true, path: full, directory: path.endsWith('/') || segments.length === 0 };
}

/** Reads `size` bytes of a file in fresh chunks (the transport may keep them until acked); opened lazily. */
async function* fileChunks(path: string, size: number, chunkSize: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  let pending: Promise<Uint8Array> | undefined;
  try {
    let position = 0;
    const readAt = async (at: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(Math.min(chunkSize, size - at));
      const { bytesRead } = await handle.read(buf, 0, buf.length, at);
      // The file shrank after its content-length was sent: the response can only be aborted.
      if (bytesRead === 0) throw new Error(`${path} shrank while being served`);
      return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    };
    // One read ahead: the disk works on the next chunk while this one is being sent.
    if (position < size) pending = readAt(position);
    while (pending !== undefined) {
      const chunk = await pending;
      position += chunk.length;
      pending = position < size ? readAt(position) : undefined;
      pending?.catch(() => undefined); // awaited on the next turn; not unhandled meanwhile
      yield chunk;
    }
  } finally {
    await pending?.catch(() => undefined);
    await handle.close();
  }
}

function errorResponse(status: number, message: string, extra: Record<string, string> = {}): H3ResponseInit {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...extra },
    body: new TextEncoder().encode(`${message}\n`),
  };
}

/** Reads a request body to its end and drops it. */
async function drainBody(body: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (const _ of body);
  } catch {
    // the request was reset: nothing to drain
  }
}

/** Serves GET and HEAD for files under `rootDir`: 404 for missing files, 405 for other methods. */
export function fileHandler(rootDir: string, options: FileHandlerOptions = {}): H3Handler {
  const root = resolve(rootDir);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const index = options.index ?? 'index.html';
  let realRoot: Promise<string> | undefined;

  /** The real path of a candidate, if it is a regular file still inside the root after symlinks. */
  async function regularFile(path: string): Promise<{ path: string; size: number } | 'directory' | undefined> {
    let base: string;
    try {
      realRoot ??= realpath(root);
      base = await realRoot;
    } catch {
      realRoot = undefined; // the root does not exist (yet): look again next time
      return undefined;
    }
    try {
      const real = await realpath(path);
      const rel = relative(base, real);
      if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
      const info = await stat(real);
      if (info.isDirectory()) return 'directory';
      return info.isFile() ? { path: real, size: info.size } : undefined;
    } catch {
      return undefined; // missing or unreadable
    }
  }

  return async (request: H3Request): Promise<H3ResponseInit> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      // RFC 9110 §15.5.6: 405 lists the allowed methods.
      return errorResponse(405, 'method not allowed', { allow: 'GET, HEAD' });
    }
    // RFC 9110 §9.3.1: content in a GET has no meaning; read and drop it as it comes, so that a client sending
    // some (gtlsclient --data) is never held up by flow control or reset while its response streams out.
    void drainBody(request.body);
    const target = resolveRequestPath(root, request.path ?? '');
    if (!target.ok) return errorResponse(target.status, target.status === 400 ? 'bad request' : 'not found');
    let file = await regularFile(target.path);
    if (file === 'directory') file = index === false ? undefined : await regularFile(join(target.path, index));
    if (file === undefined || file === 'directory') return errorResponse(404, 'not found');
    const headers = {
      'content-type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(file.size),
    };
    if (request.method === 'HEAD') return { status: 200, headers };
    return { status: 200, headers, body: fileChunks(file.path, file.size, chunkSize) };
  };
}
