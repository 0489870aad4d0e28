/**
 * The demo's server, run in a child process (so client and server each have a core): serves one generated file
 * over HTTP/3 and answers the parent's questions about its connection over the IPC channel.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { serveH3 } from '@pathquic/h3';
import { listen, type QuicConnection } from '@pathquic/transport-dgram';
import { DEMO_CHAIN_PEM, DEMO_KEY_PEM } from './demo-cert.js';

export const DEMO_PATH = '/demo.bin';

/** What the server reports about the connection it sends on (the sender's congestion state is what matters). */
export interface SenderStats {
  readonly smoothedRtt: number;
  readonly minRtt: number;
  readonly congestionWindow: number;
  readonly congestionControl: string;
  readonly packetsSent: number;
  readonly packetsLost: number;
  readonly bytesSent: number;
  readonly ptoCount: number;
}

export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number; readonly size: number; readonly sha256: string }
  | { readonly type: 'stats'; readonly id: number; readonly stats: SenderStats | undefined }
  | { readonly type: 'error'; readonly message: string };

export type ParentMessage = { readonly type: 'stats'; readonly id: number } | { readonly type: 'exit' };

/** Chunks handed to the QUIC stream: large enough to keep per-chunk costs low, small enough to pace the reads. */
const CHUNK = 256 * 1024;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function senderStats(conn: QuicConnection | undefined): SenderStats | undefined {
  if (conn === undefined) return undefined;
  const s = conn.stats();
  return {
    smoothedRtt: s.smoothedRtt,
    minRtt: s.minRtt,
    congestionWindow: s.congestionWindow,
    congestionControl: s.congestionControl,
    packetsSent: s.packetsSent,
    packetsLost: s.packetsLost,
    bytesSent: s.bytesSent,
    ptoCount: s.ptoCount,
  };
}

export async function runServerChild(size: number): Promise<void> {
  // Random content, so nothing along the way can compress or guess it; the hash travels to the parent separately.
  const payload = new Uint8Array(size);
  for (let off = 0; off < size; off += 1 << 20) randomFillSync(payload, off, Math.min(1 << 20, size - off));
  const sha256 = createHash('sha256').update(payload).digest('hex');

  const server = await listen({ host: '127.0.0.1', port: 0, cert: DEMO_CHAIN_PEM, key: DEMO_KEY_PEM, alpn: ['h3'] });
  let current: QuicConnection | undefined;
  void (async () => {
    for await (const conn of server) {
      current = conn;
      serveH3(conn, (request) => {
        if (request.path !== DEMO_PATH) return { status: 404 };
        async function* body(): AsyncGenerator<Uint8Array> {
          // Subarrays, not copies: the transport keeps references until acknowledged, and nothing mutates them.
          for (let off = 0; off < size; off += CHUNK) yield payload.subarray(off, Math.min(size, off + CHUNK));
        }
        return { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: body() };
      });
    }
  })();

  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stats') send({ type: 'stats', id: m.id, stats: senderStats(current) });
    else if (m.type === 'exit') void server.close().finally(() => process.exit(0));
  });
  // The parent went away (it crashed or was killed): do not linger.
  process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
  send({ type: 'listening', port: server.address().port, size, sha256 });
}
