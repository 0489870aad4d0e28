// Acceptance "loopback": server and client both MPTCP, proven by getMptcpInfo and by the kernel's own MIB counters,
// and 100 MB round trip intact. Also: the sockets behave like node:net's (events, errors, options).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createConnection, createServer, getMptcpInfo, getTcpInfo, mptcpAvailability, MptcpSocket } from '../src/index.js';
import type { MptcpAcceptedSocket, MptcpServer } from '../src/index.js';
import { isMptcpSocketFd } from '../src/info.js';
import { fdOf } from '../src/native.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function track<T extends net.Server | net.Socket>(x: T): T {
  cleanup.push(() => (x instanceof net.Server ? x.close() : x.destroy()));
  return x;
}

/** Accepted sockets that the test does not watch: a reset when the client is torn down is expected. */
function quiet<T extends net.Socket>(s: T): T {
  return s.on('error', () => {});
}

function listening(server: net.Server, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...(args.length === 0 ? [0, '127.0.0.1'] : args), () => resolve((server.address() as AddressInfo).port));
  });
}

function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
}

function failure(socket: net.Socket): Promise<NodeJS.ErrnoException & { reason?: string }> {
  return new Promise((resolve, reject) => socket.once('error', resolve).once('connect', () => reject(new Error('connected'))));
}

/** The kernel's MPTcpExt MIB counters of this network namespace (/proc/net/netstat). */
function mib(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('MPTcpExt:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? 0]));
}

/** An echo server; resolves its port and hands out the accepted sockets. */
async function echoServer(options: Parameters<typeof createServer>[0] = {}, host = '127.0.0.1'): Promise<{ server: MptcpServer; port: number; accepted: Promise<MptcpAcceptedSocket> }> {
  let accept!: (s: MptcpAcceptedSocket) => void;
  const accepted = new Promise<MptcpAcceptedSocket>((resolve) => (accept = resolve));
  const server = track(
    createServer(options, (socket) => {
      accept(socket);
      track(quiet(socket));
      socket.pipe(socket);
    }),
  );
  const port = await listening(server, 0, host);
  return { server, port, accepted };
}

describe('loopback, both ends MPTCP', () => {
  it('this machine can open MPTCP sockets (the precondition of the acceptance tests)', () => {
    expect(mptcpAvailability()).toEqual({ available: true });
  });

  it('server, client and accepted socket are MPTCP, and getMptcpInfo and the kernel MIB prove it', async () => {
    const before = mib();
    const { server, port, accepted } = await echoServer();
    expect(server).toBeInstanceOf(net.Server);
    expect(server.mptcp).toBe(true);
    expect(isMptcpSocketFd(fdOf(server))).toBe(true);
    const client = track(connect({ port, host: '127.0.0.1' }));
    expect(client).toBeInstanceOf(net.Socket);
    await connected(client);
    const peer = await accepted;
    expect([client.mptcp, client.mptcpFallbackReason, peer.mptcp, peer.mptcpFallbackReason]).toEqual([true, null, true, null]);

    const info = getMptcpInfo(client);
    expect(info).not.toBeNull();
    expect(info?.fallback).toBe(false);
    expect(info?.remoteKeyReceived).toBe(true);
    expect(info?.token).not.toBe(0);
    expect(info?.length).toBeGreaterThanOrEqual(40);
    expect(info?.subflowDetails).toHaveLength(1);
    const sf = info?.subflowDetails?.[0];
    expect(sf?.local).toEqual({ family: 'IPv4', address: '127.0.0.1', port: client.localPort });
    expect(sf?.remote).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
    expect(sf?.tcp?.state).toBe('ESTABLISHED');

    const serverSide = getMptcpInfo(peer);
    expect(serverSide?.remoteKeyReceived).toBe(true);
    expect(serverSide?.subflowDetails?.[0]?.remote?.port).toBe(client.localPort);
    // Each side has its own token (RFC 8684 §3.2: a hash of its own key).
    expect(serverSide?.token).not.toBe(info?.token);

    // Data counters of MPTCP_INFO (Linux 6.5+) move with the data.
    client.write('x'.repeat(1000));
    await new Promise((resolve) => client.once('data', resolve));
    const after = getMptcpInfo(client);
    if (after?.bytesSent !== undefined) expect(after.bytesSent).toBeGreaterThanOrEqual(1000);

    // The kernel counted an MP_CAPABLE handshake, on both the SYN and the third ACK.
    const now = mib();
    expect(now['MPCapableSYNRX']).toBeGreaterThan(before['MPCapableSYNRX'] ?? 0);
    expect(now['MPCapableACKRX']).toBeGreaterThan(before['MPCapableACKRX'] ?? 0);
  });

  it('carries 100 MB there and back intact (sha256)', async () => {
    const { port, accepted } = await echoServer();
    const client = track(connect(port, '127.0.0.1'));
    await connected(client);
    expect(client.mptcp).toBe(true);
    expect((await accepted).mptcp).toBe(true);
    const TOTAL = 100 * 1024 * 1024;
    const sent = createHash('sha256');
    const back = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      client.on('data', (chunk: Buffer) => {
        back.update(chunk);
        received += chunk.length;
        if (received >= TOTAL) resolve();
      });
      client.on('error', reject);
    });
    const block = randomBytes(1 << 20);
    for (let i = 0; i < 100; i++) {
      // A different block each time, so a reordered or duplicated block cannot hash the same.
      block.writeUInt32BE(i, 0);
      const copy = Buffer.from(block);
      sent.update(copy);
      if (!client.write(copy)) await new Promise((resolve) => client.once('drain', resolve));
    }
    await done;
    expect(received).toBe(TOTAL);
    expect(back.digest('hex')).toBe(sent.digest('hex'));
    const info = getMptcpInfo(client, { subflows: false });
    expect(info).not.toBeNull();
    expect(info?.subflowDetails).toBeUndefined();
    if (info?.bytesAcked !== undefined) expect(info.bytesAcked).toBeGreaterThanOrEqual(TOTAL);
  }, 60_000);

  it('IPv6, a hostname, localAddress/localPort and the default dual-stack listen address all stay MPTCP', async () => {
    const v6 = await echoServer({}, '::1');
    const c6 = track(connect({ port: v6.port, host: '::1' }));
    await connected(c6);
    expect([c6.mptcp, c6.remoteFamily, (await v6.accepted).mptcp]).toEqual([true, 'IPv6', true]);
    expect(getMptcpInfo(c6)?.subflowDetails?.[0]?.local?.address).toBe('::1');

    const { port } = await echoServer();
    const byName = track(connect({ port, host: 'localhost', family: 4 }));
    await connected(byName);
    expect(byName.mptcp).toBe(true);

    const probe = track(net.createServer());
    const freePort = await listening(probe);
    probe.close();
    const bound = track(connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1', localPort: freePort }));
    await connected(bound);
    expect([bound.mptcp, bound.localPort]).toEqual([true, freePort]);
    expect(getMptcpInfo(bound)?.subflowDetails?.[0]?.local?.port).toBe(freePort);

    const any = track(createServer((s) => quiet(s).end('hi')));
    const anyPort = await listening(any, 0);
    expect(any.address()).toMatchObject({ address: '::', family: 'IPv6' });
    expect(any.mptcp).toBe(true);
    const viaV4 = track(connect(anyPort, '127.0.0.1'));
    await connected(viaV4);
    expect(viaV4.mptcp).toBe(true);
  });
});

describe('node:net behaviour', () => {
  it('ECONNREFUSED arrives as the same error as node:net, then close', async () => {
    const probe = net.createServer();
    const port = await listening(probe);
    probe.close();
    const plain = net.connect(port, '127.0.0.1');
    const ours = connect(port, '127.0.0.1');
    const [a, b] = await Promise.all([failure(plain), failure(ours)]);
    expect(b.code).toBe('ECONNREFUSED');
    expect({ code: b.code, syscall: b.syscall, message: b.message }).toEqual({ code: a.code, syscall: a.syscall, message: a.message });
    await new Promise((resolve) => ours.once('close', resolve));
    expect(ours.destroyed).toBe(true);
  });

  it('listen errors look like node:net ones (EADDRINUSE)', async () => {
    const { port } = await echoServer();
    const plain = net.createServer();
    const ours = createServer();
    const errors = await Promise.all(
      [plain, ours].map((s) => new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve).listen(port, '127.0.0.1'))),
    );
    expect(errors[1]?.code).toBe('EADDRINUSE');
    expect({ code: errors[1]?.code, syscall: errors[1]?.syscall, message: errors[1]?.message }).toEqual({ code: errors[0]?.code, syscall: errors[0]?.syscall, message: errors[0]?.message });
    expect(ours.listening).toBe(false);
  });

  it('listening twice throws like node:net and keeps the MPTCP state', async () => {
    const { server } = await echoServer();
    expect(() => server.listen(0)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
    expect([server.mptcp, server.mptcpFallbackReason]).toEqual([true, null]);
  });

  it('the argument forms, createConnection, timeout, noDelay, keepAlive and allowHalfOpen work as in node:net', async () => {
    let serverGotEnd = false;
    const server = track(
      createServer({ allowHalfOpen: true }, (s) => {
        track(s);
        s.on('data', () => {});
        s.on('end', () => {
          serverGotEnd = true;
          s.end('after your end');
        });
      }),
    );
    const port = await new Promise<number>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 16 }, () => resolve((server.address() as AddressInfo).port)));
    expect(server.mptcp).toBe(true);

    const client = track(createConnection({ port, host: '127.0.0.1', noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000, allowHalfOpen: true }));
    await connected(client);
    expect(client).toBeInstanceOf(MptcpSocket);
    expect(client.mptcp).toBe(true);
    let text = '';
    client.setEncoding('utf8').on('data', (d: string) => (text += d));
    const ended = new Promise((resolve) => client.once('end', resolve));
    client.end();
    await ended;
    expect([serverGotEnd, text]).toEqual([true, 'after your end']);

    const idle = track(connect({ port, host: '127.0.0.1', timeout: 50 }));
    await new Promise((resolve) => idle.once('timeout', resolve));
    expect(idle.mptcp).toBe(true);

    const cb = await new Promise<MptcpSocket>((resolve) => {
      const s: MptcpSocket = track(connect(port, '127.0.0.1', () => resolve(s)));
    });
    expect(cb.mptcp).toBe(true);
  });

  it('an AbortSignal aborts the connection like node:net', async () => {
    const { port } = await echoServer();
    const controller = new AbortController();
    const socket = connect({ port, host: '127.0.0.1', signal: controller.signal });
    controller.abort();
    const err = await failure(socket);
    expect(err.name).toBe('AbortError');
  });

  it('Unix socket paths pass through as plain sockets (not TCP)', async () => {
    const path = join(tmpdir(), `pqm-${process.pid}-${Date.now()}.sock`);
    const server = track(createServer((s) => quiet(s).end('unix')));
    await listening(server, path);
    expect([server.mptcp, server.mptcpFallbackReason]).toEqual([false, 'not-tcp']);
    const client = track(connect({ path }));
    await connected(client);
    expect([client.mptcp, client.mptcpFallbackReason]).toEqual([false, 'not-tcp']);
    expect(getMptcpInfo(client)).toBeNull();
  });
});

describe('fallback inside the kernel (a peer without MPTCP)', () => {
  it('an MPTCP client talking to a plain node:net server runs TCP and says so', async () => {
    const plain = track(net.createServer((s) => quiet(s).end('plain tcp here')));
    const port = await listening(plain);
    const client = track(connect(port, '127.0.0.1'));
    await connected(client);
    expect([client.mptcp, client.mptcpFallbackReason]).toEqual([false, 'peer']);
    expect(getMptcpInfo(client)).toBeNull();
    expect(getTcpInfo(client)?.state).toBe('ESTABLISHED');
    let text = '';
    client.setEncoding('utf8').on('data', (d: string) => (text += d));
    await new Promise((resolve) => client.once('end', resolve));
    expect(text).toBe('plain tcp here');
  });

  it("in 'required' mode the same connection fails with ERR_MPTCP_UNAVAILABLE and never emits 'connect'", async () => {
    const plain = track(net.createServer((s) => quiet(s).end()));
    const port = await listening(plain);
    const client = connect({ port, host: '127.0.0.1', mptcp: 'required' });
    const err = await failure(client);
    expect(err).toMatchObject({ name: 'MptcpUnavailableError', code: 'ERR_MPTCP_UNAVAILABLE', reason: 'peer' });
    expect(err.message).toMatch(/does not speak MPTCP/);
  });

  it('a plain node:net client of an MPTCP server is accepted as a TCP connection and labelled', async () => {
    const { port, accepted } = await echoServer();
    const client = track(net.connect(port, '127.0.0.1'));
    await connected(client);
    const peer = await accepted;
    expect([peer.mptcp, peer.mptcpFallbackReason]).toEqual([false, 'peer']);
    expect(getMptcpInfo(peer)).toBeNull();
  });

  it("an MPTCP-required server drops plain TCP clients ('mptcpRejected') and keeps MPTCP ones", async () => {
    const server = track(createServer({ mptcp: 'required' }, (s) => quiet(s).end('welcome')));
    const port = await listening(server);
    const rejected = new Promise<MptcpAcceptedSocket>((resolve) => server.once('mptcpRejected', resolve));
    const plain = track(net.connect(port, '127.0.0.1'));
    plain.on('error', () => {});
    const [r] = await Promise.all([rejected, new Promise((resolve) => plain.once('close', resolve))]);
    expect(r.mptcpFallbackReason).toBe('peer');
    const ok = track(connect(port, '127.0.0.1'));
    let text = '';
    ok.setEncoding('utf8').on('data', (d: string) => (text += d));
    await new Promise((resolve) => ok.once('end', resolve));
    expect([ok.mptcp, text]).toEqual([true, 'welcome']);
  });

  it('mptcp: false gives plain TCP sockets on both ends', async () => {
    const { server, port, accepted } = await echoServer({ mptcp: false });
    expect([server.mptcp, server.mptcpFallbackReason]).toEqual([false, 'disabled']);
    expect(isMptcpSocketFd(fdOf(server))).toBe(false);
    const client = track(connect({ port, host: '127.0.0.1', mptcp: false }));
    await connected(client);
    expect([client.mptcp, client.mptcpFallbackReason]).toEqual([false, 'disabled']);
    expect(isMptcpSocketFd(fdOf(client))).toBe(false);
    expect((await accepted).mptcpFallbackReason).toBe('disabled');
  });
});
