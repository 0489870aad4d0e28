import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, transportDiagnostics, QuicMigrationError, type QuicConnection, type QuicPathChange, type QuicServer } from '../src/index.js';
import { allSocketsClosed, clientOptions, drain, patternBytes, sha256, startServer, waitFor } from './helpers.js';

afterAll(async () => {
  await allSocketsClosed(15_000);
});

/** Serves `data` on every bidirectional stream a client opens; returns the server's connections as they come. */
function serveDownload(server: QuicServer, data: Uint8Array): QuicConnection[] {
  const conns: QuicConnection[] = [];
  void (async () => {
    for await (const conn of server) {
      conns.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void (async () => {
            const w = s.writable.getWriter();
            for (let o = 0; o < data.length; o += 256 * 1024) await w.write(data.subarray(o, Math.min(data.length, o + 256 * 1024)));
            await w.close();
          })().catch(() => {});
        }
      })().catch(() => {});
    }
  })();
  return conns;
}

/** Opens a stream, asks for the download, and returns its length and hash; calls `during` once `after` bytes came. */
async function download(conn: QuicConnection, after: number, during: () => Promise<unknown>): Promise<{ length: number; sha256: string; duringResult: unknown }> {
  const s = await conn.createBidirectionalStream();
  await s.writable.getWriter().close();
  let got = 0;
  let fired: Promise<unknown> | undefined;
  const counted = s.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        got += chunk.length;
        if (fired === undefined && got >= after) fired = during();
        ctl.enqueue(chunk);
      },
    }),
  );
  const result = await drain(counted);
  return { ...result, duringResult: await fired };
}

function events<T>(conn: QuicConnection, name: string): T[] {
  const out: T[] = [];
  conn.on(name, (e: T) => out.push(e));
  return out;
}

describe('conn.migrate() (RFC 9000 §9.2)', () => {
  for (const immediate of [false, true]) {
    it(`moves a client to a new local socket mid-download${immediate ? ' at once (immediate)' : ' after validating it'}; the file is intact`, async () => {
      const server = await startServer();
      const data = patternBytes(8_000_000, 31);
      const serverConns = serveDownload(server, data);
      const conn = await connect(clientOptions(server));
      try {
        const migrated = events<QuicPathChange>(conn, 'migrated');
        const validated = events<unknown>(conn, 'pathvalidated');
        await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
        const before = conn.path;
        const result = await download(conn, 2_000_000, () => conn.migrate({ immediate }));
        expect(result.length).toBe(data.length);
        expect(result.sha256).toBe(sha256(data));
        const path = result.duringResult as Awaited<ReturnType<QuicConnection['migrate']>>;
        expect(path.state).toBe('active');
        expect(path.local.port).not.toBe(before.local.port);
        expect(conn.path.local).toEqual(path.local);
        expect(conn.localAddress.port).toBe(path.local.port);
        expect(migrated).toHaveLength(1);
        expect(migrated[0]).toMatchObject({ reason: 'local-migration', from: { local: before.local }, to: { local: path.local } });
        expect(validated.length).toBeGreaterThanOrEqual(1);
        // The figures of the new path: it carried most of the download.
        expect(conn.path.bytesReceived).toBeGreaterThan(1_000_000);
        expect(conn.path.rtt).toBeGreaterThan(0);
        expect(conn.path.cwnd).toBeGreaterThan(0);
        // The server followed: its peer is the new socket (same IP, new port: NAT-rebinding-like, RFC 9000 §9.4).
        await waitFor(() => serverConns[0]!.remoteAddress.port === path.local.port, 2000, 'server to follow');
      } finally {
        conn.close();
        await conn.terminated;
        await server.close();
      }
    });
  }

  it('moves to another local IP address (127.0.0.2): the server sees a peer migration, not a rebinding', async () => {
    const server = await startServer({ host: '0.0.0.0' });
    const data = patternBytes(3_000_000, 32);
    const serverConns = serveDownload(server, data);
    const conn = await connect(clientOptions(server));
    try {
      await waitFor(() => conn.core.isHandshakeConfirmed && serverConns.length === 1, 2000, 'confirmation');
      const serverMoves = events<QuicPathChange>(serverConns[0]!, 'migrated');
      const result = await download(conn, 500_000, () => conn.migrate({ localAddress: '127.0.0.2' }));
      expect(result.sha256).toBe(sha256(data));
      expect(conn.path.local.address).toBe('127.0.0.2');
      await waitFor(() => serverConns[0]!.remoteAddress.address === '127.0.0.2', 2000, 'server to follow');
      expect(serverMoves[0]).toMatchObject({ reason: 'peer-migration', to: { remote: { address: '127.0.0.2' } } });
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });

  it('rejects with QuicMigrationError when the server set disable_active_migration, and closes the socket it opened', async () => {
    const server = await startServer({ transport: { disableActiveMigration: true } });
    const conn = await connect(clientOptions(server));
    try {
      await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
      const open = transportDiagnostics().openSockets;
      const error = await conn.migrate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuicMigrationError);
      expect(error).toMatchObject({ reason: 'peer-disabled-active-migration' });
      expect((error as Error).message).toMatch(/disable_active_migration/);
      await waitFor(() => transportDiagnostics().openSockets === open, 1000, 'the new socket to close');
      expect(conn.paths).toHaveLength(1);
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });

  it('rejects on the server side (only clients migrate) and on a socket it cannot bind', async () => {
    const server = await startServer();
    const accepted = new Promise<QuicConnection>((resolve) => server.once('connection', resolve));
    const conn = await connect(clientOptions(server));
    try {
      const serverConn = await accepted;
      await expect(serverConn.migrate()).rejects.toMatchObject({ reason: 'not-client' });
      await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
      await expect(conn.migrate({ localAddress: '192.0.2.1' })).rejects.toMatchObject({ reason: 'socket' });
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });
});

describe('probePath() then migrate() to it', () => {
  it('reuses the probed socket and moves without another validation', async () => {
    const server = await startServer();
    const conn = await connect(clientOptions(server));
    try {
      await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
      const spare = await conn.probePath();
      const open = transportDiagnostics().openSockets;
      const validations = events<unknown>(conn, 'pathvalidated');
      const path = await conn.migrate({ localAddress: spare.local.address, localPort: spare.local.port });
      expect(path).toMatchObject({ state: 'active', local: spare.local });
      expect(conn.path.local).toEqual(spare.local);
      expect(transportDiagnostics().openSockets).toBe(open);
      expect(validations).toEqual([]);
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });
});

describe("the server's preferred address (RFC 9000 §9.6)", () => {
  it('the client validates it after the handshake and moves there; downloads keep working', async () => {
    const server = await startServer({ host: '127.0.0.1', preferredAddress: { host: '127.0.0.2', port: 0 } });
    const preferred = server.preferredAddress()!;
    expect(preferred.address).toBe('127.0.0.2');
    const data = patternBytes(2_000_000, 33);
    serveDownload(server, data);
    const conn = await connect(clientOptions(server));
    try {
      const offers = events<unknown>(conn, 'preferredaddress');
      await waitFor(() => conn.remoteAddress.address === '127.0.0.2', 3000, 'the move to the preferred address');
      expect(conn.remoteAddress.port).toBe(preferred.port);
      expect(offers).toEqual([{ ipv4: { address: '127.0.0.2', port: preferred.port } }]);
      const s = await conn.createBidirectionalStream();
      await s.writable.getWriter().close();
      expect((await drain(s.readable)).sha256).toBe(sha256(data));
      expect(conn.path.remote).toEqual({ address: '127.0.0.2', port: preferred.port });
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });

  it('followPreferredAddress: false keeps the handshake address', async () => {
    const server = await startServer({ host: '127.0.0.1', preferredAddress: { host: '127.0.0.2', port: 0 } });
    const conn = await connect(clientOptions(server, { followPreferredAddress: false }));
    try {
      await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
      await new Promise((r) => setTimeout(r, 200));
      expect(conn.remoteAddress.address).toBe('127.0.0.1');
      expect(conn.preferredAddress).toEqual({ ipv4: { address: '127.0.0.2', port: server.preferredAddress()!.port } });
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });
});

describe('a path that goes dark (black hole)', () => {
  it('probePath() keeps a validated spare; when the active socket stops passing packets the connection fails over to it', async () => {
    const server = await startServer();
    const data = patternBytes(6_000_000, 34);
    serveDownload(server, data);
    const conn = await connect(clientOptions(server));
    try {
      await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
      const spare = await conn.probePath();
      expect(spare.state).toBe('validated');
      expect(spare.validationRtt).toBeGreaterThan(0);
      expect(conn.paths.map((p) => p.state).sort()).toEqual(['active', 'validated']);
      const original = conn.path.local;
      const migrated = events<QuicPathChange>(conn, 'migrated');
      // Black-hole the original socket both ways, as a Wi-Fi link that silently stops carrying packets would.
      const dark = darkenSocket(conn, original);
      const result = await download(conn, 1_000_000, async () => {
        dark.start();
      });
      expect(result.sha256).toBe(sha256(data));
      expect(migrated[0]).toMatchObject({ reason: 'local-migration', to: { local: spare.local } });
      expect(conn.path.local).toEqual(spare.local);
      expect(dark.dropped).toBeGreaterThan(0);
    } finally {
      conn.close();
      await conn.terminated;
      await server.close();
    }
  });
});

/** Makes the socket bound to `local` drop everything it would send or receive, from `start()` on. */
function darkenSocket(conn: QuicConnection, local: { address: string; port: number }): { start(): void; dropped: number } {
  const bound = conn.driver.socketFor(local)!;
  const state = { dark: false, dropped: 0, start: () => (state.dark = true) };
  const socket = bound.socket;
  const send = socket.send.bind(socket) as (...args: unknown[]) => void;
  (socket as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    if (!state.dark) return send(...args);
    state.dropped++;
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    cb?.();
  };
  const listeners = socket.listeners('message') as ((...a: unknown[]) => void)[];
  socket.removeAllListeners('message');
  socket.on('message', (...a: unknown[]) => {
    if (state.dark) {
      state.dropped++;
      return;
    }
    for (const l of listeners) l(...a);
  });
  return state;
}

const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;

describe.skipIf(!isRoot || !hasIp)('watchLocalAddress (needs root: adds and removes an address on lo)', () => {
  it('the local address disappears mid-download: the client moves to a new socket by itself; the file is intact', async () => {
    // Two private addresses unique to this run on the loopback interface (the client's, which goes away, and the
    // server's: Linux drops packets from 10/8 sources to 127/8 on lo); removed in finally, also on failure.
    const address = `10.213.${(process.pid >> 8) & 0xff}.${(process.pid & 0xff) || 1}`;
    const serverAddress = `10.214.${(process.pid >> 8) & 0xff}.${(process.pid & 0xff) || 1}`;
    const ip = (...args: string[]): void => {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    };
    for (const a of [address, serverAddress]) {
      spawnSync('ip', ['addr', 'del', `${a}/32`, 'dev', 'lo']);
      ip('addr', 'add', `${a}/32`, 'dev', 'lo');
    }
    let removed = false;
    const server = await startServer({ host: serverAddress });
    const data = patternBytes(6_000_000, 35);
    serveDownload(server, data);
    try {
      const conn = await connect(clientOptions(server, { localAddress: address, watchLocalAddress: 50 }));
      try {
        expect(conn.localAddress.address).toBe(address);
        const lost = events<{ address: string }>(conn, 'localaddresslost');
        const migrated = events<QuicPathChange>(conn, 'migrated');
        await waitFor(() => conn.core.isHandshakeConfirmed, 2000, 'confirmation');
        const result = await download(conn, 1_000_000, async () => {
          ip('addr', 'del', `${address}/32`, 'dev', 'lo');
          removed = true;
        });
        expect(result.sha256).toBe(sha256(data));
        expect(lost).toEqual([{ address, port: expect.any(Number) }]);
        expect(migrated[0]).toMatchObject({ reason: 'local-migration', from: { local: { address } } });
        expect(conn.localAddress.address).not.toBe(address);
      } finally {
        conn.close();
        await conn.terminated;
      }
    } finally {
      if (!removed) spawnSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
      await server.close();
      spawnSync('ip', ['addr', 'del', `${serverAddress}/32`, 'dev', 'lo']);
    }
  });
});
