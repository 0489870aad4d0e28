/**
 * Interop with OpenSSL 3 over TCP: pathquic endpoints run plain TLS 1.3 (no transportParameters) through the test
 * record layer against `openssl s_server` and `openssl s_client`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CipherSuite,
  HELLO_RETRY_REQUEST_RANDOM,
  NamedGroup,
  TlsClient,
  TlsServer,
  type TlsClientConfig,
  type TlsServerConfig,
} from '../../src/index.js';
import { ROOT_CA, identity } from '../harness.js';
import { Resources, certPath, connectTcp, listenTcp, opensslVersion, startClient, startServer, type OpenSslProcess } from './openssl.js';
import { PeerAlertError, TlsRecordConnection, type RecordConnectionOptions } from './record-layer.js';

const OPENSSL = opensslVersion();
const TIMEOUT = 10_000;

const SUITES = [
  { suite: CipherSuite.TLS_AES_128_GCM_SHA256, name: 'TLS_AES_128_GCM_SHA256', hash: 'sha256' },
  { suite: CipherSuite.TLS_AES_256_GCM_SHA384, name: 'TLS_AES_256_GCM_SHA384', hash: 'sha384' },
  { suite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256, name: 'TLS_CHACHA20_POLY1305_SHA256', hash: 'sha256' },
] as const;
const GROUPS = [
  { group: NamedGroup.x25519, name: 'X25519', tempKey: /Server Temp Key: X25519/ },
  { group: NamedGroup.secp256r1, name: 'P-256', tempKey: /Server Temp Key: ECDH, prime256v1/ },
] as const;
const CERTS = [
  { name: 'leaf-ecdsa', signature: 'ECDSA' },
  { name: 'leaf-rsa', signature: 'RSA-PSS' },
] as const;

/** OpenSSL's s_server -rev answer: the line reversed (RFC-irrelevant, just a convenient echo). */
const reversed = (line: string): string => [...line].reverse().join('');

function serverArgs(cert: string, ...extra: string[]): string[] {
  return [
    '-tls1_3',
    '-cert',
    certPath(`${cert}.crt`),
    '-key',
    certPath(`${cert}.key`),
    '-cert_chain',
    certPath('intermediate-ca.crt'),
    '-alpn',
    'h3',
    '-rev',
    ...extra,
  ];
}

function clientArgs(port: number, ...extra: string[]): string[] {
  return [
    '-tls1_3',
    '-connect',
    `127.0.0.1:${port}`,
    '-alpn',
    'h3',
    '-servername',
    'localhost',
    '-CAfile',
    certPath('root-ca.crt'),
    '-verify_return_error',
    '-verify_hostname',
    'localhost',
    ...extra,
  ];
}

const clientConfig = (extra: Partial<TlsClientConfig> = {}): TlsClientConfig => ({
  alpnProtocols: ['h3'],
  serverName: 'localhost',
  ca: [ROOT_CA()],
  ...extra,
});

const serverConfig = (extra: Partial<TlsServerConfig> = {}): TlsServerConfig => ({
  alpnProtocols: ['h3'],
  certificate: identity('leaf-ecdsa'),
  ...extra,
});

/** Parses SSLKEYLOGFILE text into "LABEL random secret" lines (comments dropped). */
function keyLogLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** True when a ServerHello is the HelloRetryRequest (RFC 8446 §4.1.3: the special random value). */
function isHelloRetryRequest(message: Uint8Array): boolean {
  // type(1) length(3) legacy_version(2) random(32)
  return message[0] === 2 && Buffer.from(message.subarray(6, 38)).equals(Buffer.from(HELLO_RETRY_REQUEST_RANDOM));
}

/** Extension body of `type` in a ServerHello/HelloRetryRequest message (RFC 8446 §4.1.3 layout). */
function extensionBody(serverHello: Uint8Array, type: number): Buffer | undefined {
  const b = Buffer.from(serverHello);
  let off = 4 + 2 + 32; // header, legacy_version, random
  off += 1 + b[off]!; // legacy_session_id_echo
  off += 2 + 1; // cipher_suite, legacy_compression_method
  const end = off + 2 + b.readUInt16BE(off);
  off += 2;
  while (off + 4 <= end) {
    const t = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (t === type) return b.subarray(off + 4, off + 4 + len);
    off += 4 + len;
  }
  return undefined;
}

describe.skipIf(OPENSSL === undefined)(`interop with ${OPENSSL ?? 'OpenSSL 3 (not on PATH: skipped)'}`, () => {
  const resources = new Resources();
  afterEach(() => resources.close());

  async function connectClient(
    port: number,
    config: TlsClientConfig,
    options: RecordConnectionOptions = {},
  ): Promise<{ conn: TlsRecordConnection; client: TlsClient }> {
    const socket = await connectTcp(port, resources);
    const client = new TlsClient(config);
    const conn = new TlsRecordConnection(socket, client, options);
    resources.add(() => conn.destroy());
    conn.start();
    return { conn, client };
  }

  /** Sends a line to s_server -rev and waits for it to come back reversed. */
  async function roundTrip(conn: TlsRecordConnection, line: string): Promise<void> {
    const before = conn.text.length;
    conn.send(`${line}\n`);
    await conn.waitFor(() => conn.text.slice(before).includes(`${reversed(line)}\n`), `"${reversed(line)}" from s_server`);
  }

  /** Closes with close_notify and checks that s_server saw an orderly end. */
  async function closeCleanly(conn: TlsRecordConnection, server: OpenSslProcess): Promise<void> {
    const closedBefore = server.output.split('CONNECTION CLOSED').length;
    conn.close();
    await server.waitForOutput(new RegExp(`(CONNECTION CLOSED[\\s\\S]*){${closedBefore}}`));
  }

  describe('pathquic TlsClient -> openssl s_server', () => {
    for (const cert of CERTS) {
      for (const s of SUITES) {
        for (const g of GROUPS) {
          it(`${cert.name}, ${s.name}, ${g.name}: handshake, data both ways, NewSessionTickets`, { timeout: TIMEOUT }, async () => {
            const { server, port } = await startServer(serverArgs(cert.name, '-ciphersuites', s.name, '-groups', g.name), resources);
            const { conn, client } = await connectClient(port, clientConfig({ cipherSuites: [s.suite], groups: [g.group] }));
            await conn.waitForHandshake();
            expect(client.error).toBeUndefined();
            expect(client.cipherSuite).toBe(s.suite);
            expect(client.alpn).toBe('h3');
            expect(client.resumed).toBe(false);
            expect(client.helloRetryRequested).toBe(false);
            expect(client.peerCertificates?.map((c) => c.subject)).toEqual([
              expect.stringContaining('CN=localhost'),
              expect.stringContaining('CN=pathquic test intermediate CA'),
              expect.stringContaining('CN=pathquic test root CA'),
            ]);
            expect(conn.secrets.every((x) => x.cipherSuite === s.suite && x.hash === s.hash)).toBe(true);

            await roundTrip(conn, 'hello from pathquic');
            await roundTrip(conn, 'a second line, sent after the first answer');
            // OpenSSL 3 sends two tickets by default (SSL_CTX_set_num_tickets) right after the client Finished.
            await conn.waitFor(() => conn.tickets.length === 2, 'two NewSessionTickets');
            for (const t of conn.tickets) {
              expect(t.cipherSuite).toBe(s.suite);
              expect(t.alpn).toBe('h3');
              expect(t.serverName).toBe('localhost');
              expect(t.lifetime).toBe(7200);
              expect(t.psk.length).toBe(s.hash === 'sha384' ? 48 : 32);
            }
            expect(conn.tickets[0]!.ticket).not.toEqual(conn.tickets[1]!.ticket);
            // s_server runs in middlebox compatibility mode by default: one CCS, which the record layer drops.
            expect(conn.trace.filter((t) => t.direction === 'in' && t.outerType === 20).length).toBe(1);
            // Tickets arrive as handshake data under the application keys.
            expect(conn.trace.some((t) => t.direction === 'in' && t.protection === 'application' && t.innerType === 22)).toBe(true);

            await server.waitForOutput(`Ciphersuite: ${s.name}`);
            expect(server.output).toContain('Protocol version: TLSv1.3');
            await closeCleanly(conn, server);
            expect(conn.failure).toBeUndefined();
          });
        }
      }
    }

    it('reassembles handshake messages fragmented across 512-byte records; sends 40-byte records', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-rsa', '-max_send_frag', '512'), resources);
      const { conn, client } = await connectClient(port, clientConfig(), { maxFragment: 40, padding: 5 });
      await conn.waitForHandshake();
      expect(client.peerCertificates?.[0]?.subject).toContain('CN=localhost (RSA)');
      const hsIn = conn.trace.filter((t) => t.direction === 'in' && t.protection === 'handshake' && t.innerType === 22);
      // The RSA Certificate message alone is over 1 KB: it needs several 512-byte records.
      expect(hsIn.filter((t) => t.length === 512).length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...hsIn.map((t) => t.length))).toBe(512);
      const chOut = conn.trace.filter((t) => t.direction === 'out' && t.protection === 'plaintext');
      expect(chOut.length).toBeGreaterThan(3);

      const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
      expect(long.length).toBeGreaterThan(1000);
      await roundTrip(conn, long);
      const dataIn = conn.trace.filter((t) => t.direction === 'in' && t.innerType === 23);
      expect(dataIn.every((t) => t.length <= 512)).toBe(true);
      await closeCleanly(conn, server);
    });

    it('retries after openssl sends a HelloRetryRequest for P-256', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa', '-groups', 'P-256'), resources);
      // Default groups x25519, secp256r1: only the x25519 share goes in the first ClientHello.
      const { conn, client } = await connectClient(port, clientConfig());
      await conn.waitForHandshake();
      expect(client.helloRetryRequested).toBe(true);
      expect(conn.handshakeOut.filter((h) => h.level === 'initial').length).toBe(2);
      // HelloRetryRequest, the compatibility CCS, then the real ServerHello, all before any protected record.
      const plain = conn.trace.filter((t) => t.direction === 'in' && t.protection === 'plaintext').map((t) => t.outerType);
      expect(plain).toEqual([22, 20, 22]);
      await roundTrip(conn, 'after a retry');
      await closeCleanly(conn, server);
    });

    it('answers a HelloRetryRequest carrying a cookie (s_server -stateless) and echoes the cookie', { timeout: TIMEOUT }, async () => {
      // -stateless only applies to s_server's plain mode (not -rev): it prints what it reads and sends its stdin.
      const args = serverArgs('leaf-ecdsa', '-stateless').filter((a) => a !== '-rev');
      const { server, port } = await startServer(args, resources);
      const { conn, client } = await connectClient(port, clientConfig());
      await conn.waitForHandshake();
      expect(client.helloRetryRequested).toBe(true);
      const hellos = conn.handshakeOut.filter((h) => h.level === 'initial').map((h) => Buffer.from(h.data));
      expect(hellos.length).toBe(2);
      // s_server writes the HelloRetryRequest in a record of its own.
      const hrr = conn.handshakeIn[0]!.data;
      expect(isHelloRetryRequest(hrr)).toBe(true);
      // RFC 8446 §4.2.2: the cookie extension (44) the HRR carried comes back verbatim in the second ClientHello.
      const cookie = extensionBody(hrr, 44);
      expect(cookie?.length).toBeGreaterThan(2);
      expect(hellos[1]!.includes(cookie!)).toBe(true);
      expect(hellos[0]!.includes(cookie!)).toBe(false);

      conn.send('to s_server\n');
      await server.waitForOutput('to s_server');
      server.write('to pathquic\n');
      await conn.waitForText('to pathquic\n');
    });

    it('sends two key shares; s_server -groups P-256 picks P-256 without a retry (-no_middlebox: no CCS)', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa', '-groups', 'P-256', '-no_middlebox'), resources);
      const { conn, client } = await connectClient(port, clientConfig({ keyShareGroups: [NamedGroup.x25519, NamedGroup.secp256r1] }));
      await conn.waitForHandshake();
      expect(client.helloRetryRequested).toBe(false);
      expect(conn.trace.some((t) => t.direction === 'in' && t.outerType === 20)).toBe(false);
      await roundTrip(conn, 'two shares');
      await closeCleanly(conn, server);
    });

    for (const cert of [
      { name: 'leaf-p384', digest: 'SHA384' },
      { name: 'leaf-ed25519', digest: undefined },
    ]) {
      it(`verifies a ${cert.name} server (CertificateVerify ${cert.digest ?? 'Ed25519'})`, { timeout: TIMEOUT }, async () => {
        const { server, port } = await startServer(serverArgs(cert.name), resources);
        const { conn, client } = await connectClient(port, clientConfig());
        await conn.waitForHandshake();
        expect(client.peerCertificates?.[0]?.publicKey.asymmetricKeyType).toBe(cert.digest === undefined ? 'ed25519' : 'ec');
        await roundTrip(conn, cert.name);
        await closeCleanly(conn, server);
      });
    }

    it('mutual TLS: presents client-ecdsa to s_server -Verify 1', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(
        serverArgs('leaf-ecdsa', '-Verify', '1', '-CAfile', certPath('root-ca.crt'), '-verify_return_error'),
        resources,
      );
      const { conn } = await connectClient(port, clientConfig({ certificate: identity('client-ecdsa') }));
      await conn.waitForHandshake();
      await roundTrip(conn, 'authenticated client');
      // s_server prints its verdict after the peer certificate line, sometimes in a later write: wait for it too.
      await server.waitForOutput(/Peer certificate: .*CN = pathquic-client/);
      await server.waitForOutput(/Verification: OK|Verification error/);
      expect(server.output).toMatch(/depth=0 O = pathquic test, CN = pathquic-client\s+verify return:1/);
      expect(server.output).toContain('Verification: OK');
      await closeCleanly(conn, server);
    });

    it('mutual TLS: without a client certificate s_server aborts with certificate_required', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa', '-Verify', '1', '-CAfile', certPath('root-ca.crt')), resources);
      const { conn } = await connectClient(port, clientConfig());
      const err = await conn.waitForFailure();
      // TLS 1.3: the client finishes first; the server's verdict arrives afterwards.
      expect(conn.complete).toBe(true);
      expect(err).toBeInstanceOf(PeerAlertError);
      expect((err as PeerAlertError).alert).toBe(116);
      await server.waitForOutput(/peer did not return a certificate/);
    });

    it('rejects a chain it does not trust and tells s_server unknown_ca', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa'), resources);
      const { conn, client } = await connectClient(port, clientConfig({ ca: [readFileSync(certPath('evil-root-ca.crt'), 'utf8')] }));
      await conn.waitForFailure();
      expect(client.error?.alert).toBe(48);
      expect(conn.complete).toBe(false);
      await server.waitForOutput(/alert unknown ca/);
    });

    it('rejects a certificate for another name (bad_certificate)', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa'), resources);
      const { conn, client } = await connectClient(port, clientConfig({ serverName: 'not-localhost.example' }));
      await conn.waitForFailure();
      expect(client.error?.alert).toBe(42);
      expect(client.error?.message).toContain('not-localhost.example');
      await server.waitForOutput(/alert bad certificate/);
    });

    it('resumes a session with a ticket from s_server', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa'), resources);
      const first = await connectClient(port, clientConfig());
      await first.conn.waitFor(() => first.conn.tickets.length === 2, 'tickets');
      await roundTrip(first.conn, 'first connection');
      await closeCleanly(first.conn, server);
      expect(first.client.resumed).toBe(false);

      const second = await connectClient(port, clientConfig({ session: first.conn.tickets[0]! }));
      await second.conn.waitForHandshake();
      expect(second.client.resumed).toBe(true);
      // A resumed handshake carries no Certificate (RFC 8446 §2.2).
      expect(second.client.peerCertificates).toBeUndefined();
      await roundTrip(second.conn, 'resumed connection');
      // The server issues fresh tickets on the resumed connection too.
      await second.conn.waitFor(() => second.conn.tickets.length >= 1, 'a ticket on the resumed connection');
      await closeCleanly(second.conn, server);
    });

    it('resumes after a HelloRetryRequest (PSK binder over message_hash + HRR)', { timeout: TIMEOUT }, async () => {
      const { server, port } = await startServer(serverArgs('leaf-ecdsa', '-groups', 'P-256'), resources);
      // First connection straight to P-256; the second sends an x25519 share (default groups) along with the PSK,
      // which s_server answers with a HelloRetryRequest for P-256, so the binder is recomputed.
      const first = await connectClient(port, clientConfig({ groups: [NamedGroup.secp256r1] }));
      await first.conn.waitFor(() => first.conn.tickets.length === 2, 'tickets');
      expect(first.client.helloRetryRequested).toBe(false);
      await closeCleanly(first.conn, server);

      const second = await connectClient(port, clientConfig({ session: first.conn.tickets[1]! }));
      await second.conn.waitForHandshake();
      expect(second.client.helloRetryRequested).toBe(true);
      expect(second.client.resumed).toBe(true);
      await roundTrip(second.conn, 'resumed after retry');
      await closeCleanly(second.conn, server);
    });

    it('writes an SSLKEYLOGFILE identical to s_server -keylogfile', { timeout: TIMEOUT }, async () => {
      const dir = resources.tempDir();
      const theirs = join(dir, 'openssl.keys');
      const ours = join(dir, 'pathquic.keys');
      const lines: string[] = [];
      const { server, port } = await startServer(serverArgs('leaf-ecdsa', '-keylogfile', theirs, '-ciphersuites', 'TLS_AES_256_GCM_SHA384'), resources);
      const { conn } = await connectClient(port, clientConfig({ keyLog: (l) => lines.push(l) }));
      await conn.waitForHandshake();
      await roundTrip(conn, 'keylog');
      writeFileSync(ours, lines.map((l) => `${l}\n`).join(''));
      await closeCleanly(conn, server);

      const ourLines = keyLogLines(readFileSync(ours, 'utf8'));
      const theirLines = keyLogLines(readFileSync(theirs, 'utf8'));
      const labels = ourLines.map((l) => l.split(' ')[0]).sort();
      expect(labels).toEqual([
        'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
        'CLIENT_TRAFFIC_SECRET_0',
        'EXPORTER_SECRET',
        'SERVER_HANDSHAKE_TRAFFIC_SECRET',
        'SERVER_TRAFFIC_SECRET_0',
      ]);
      for (const l of ourLines) expect(l).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{96}$/);
      expect([...theirLines].sort()).toEqual([...ourLines].sort());
    });
  });

  describe('openssl s_client -> pathquic TlsServer', () => {
    /** A pathquic server on an ephemeral port that answers each line with "pathquic echo: <line>". */
    async function startOurServer(
      config: TlsServerConfig,
      options: RecordConnectionOptions = {},
    ): Promise<{ port: number; connections: TlsRecordConnection[]; servers: TlsServer[]; next: (i: number) => Promise<TlsRecordConnection> }> {
      const connections: TlsRecordConnection[] = [];
      const servers: TlsServer[] = [];
      const waiting: (() => void)[] = [];
      const { port } = await listenTcp((socket) => {
        let answered = 0;
        const endpoint = new TlsServer(config);
        const conn = new TlsRecordConnection(socket, endpoint, {
          ...options,
          onData: (_data, c) => {
            const lines = c.text.split('\n');
            for (let i = answered; i < lines.length - 1; i++) c.send(`pathquic echo: ${lines[i]!}\n`);
            answered = lines.length - 1;
          },
        });
        resources.add(() => conn.destroy());
        connections.push(conn);
        servers.push(endpoint);
        for (const w of waiting.splice(0)) w();
      }, resources);
      const next = async (i: number): Promise<TlsRecordConnection> => {
        while (connections.length <= i) await new Promise<void>((r) => waiting.push(r));
        return connections[i]!;
      };
      return { port, connections, servers, next };
    }

    /** Runs one s_client session: waits for the handshake summary, sends a line, waits for the echo, ends. */
    async function session(port: number, extra: string[], line = 'hello from s_client'): Promise<OpenSslProcess> {
      const cli = startClient(clientArgs(port, ...extra), resources);
      await cli.waitForOutput(/Verify return code: \d+/);
      cli.write(`${line}\n`);
      await cli.waitForOutput(`pathquic echo: ${line}`);
      return cli;
    }

    async function finish(cli: OpenSslProcess, conn: TlsRecordConnection): Promise<void> {
      cli.endInput();
      expect(await cli.waitForExit()).toBe(0);
      // s_client sends close_notify when its input ends.
      await conn.waitFor(() => conn.peerClosed, 'close_notify from s_client');
      expect(conn.failure).toBeUndefined();
    }

    for (const cert of CERTS) {
      it(`${cert.name}: s_client -no_middlebox verifies our chain and exchanges data`, { timeout: TIMEOUT }, async () => {
        const ours = await startOurServer(serverConfig({ certificate: identity(cert.name) }));
        const cli = await session(ours.port, ['-no_middlebox']);
        const conn = await ours.next(0);
        expect(conn.complete).toBe(true);
        expect(ours.servers[0]!.serverName).toBe('localhost');
        expect(ours.servers[0]!.alpn).toBe('h3');
        expect(conn.text).toBe('hello from s_client\n');
        expect(cli.output).toContain('Verification: OK');
        expect(cli.output).toContain('Verified peername: localhost');
        expect(cli.output).toContain('Verify return code: 0 (ok)');
        expect(cli.output).toContain('New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256');
        expect(cli.output).toContain('ALPN protocol: h3');
        expect(cli.output).toContain(`Peer signature type: ${cert.signature}`);
        expect(cli.output).toMatch(/Server Temp Key: X25519/);
        // -no_middlebox: no ChangeCipherSpec from s_client.
        expect(conn.trace.some((t) => t.direction === 'in' && t.outerType === 20)).toBe(false);
        await finish(cli, conn);
      });
    }

    for (const s of SUITES.slice(1)) {
      it(`negotiates ${s.name} when s_client offers only that suite`, { timeout: TIMEOUT }, async () => {
        const ours = await startOurServer(serverConfig({ certificate: identity('leaf-rsa') }));
        const cli = await session(ours.port, ['-no_middlebox', '-ciphersuites', s.name]);
        const conn = await ours.next(0);
        expect(ours.servers[0]!.cipherSuite).toBe(s.suite);
        expect(cli.output).toContain(`New, TLSv1.3, Cipher is ${s.name}`);
        await finish(cli, conn);
      });
    }

    it('middlebox compatibility mode: echoes the legacy_session_id and drops s_client\'s ChangeCipherSpec', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig());
      const cli = await session(ours.port, []);
      const conn = await ours.next(0);
      expect(conn.trace.filter((t) => t.direction === 'in' && t.outerType === 20).length).toBe(1);
      // RFC 8446 §4.1.3: legacy_session_id_echo copies the client's 32-byte session id.
      const sh = conn.handshakeOut[0]!.data;
      expect(sh[38]).toBe(32);
      await finish(cli, conn);
    });

    it('picks P-256 from the shares without a HelloRetryRequest when x25519 has no share', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig());
      const cli = await session(ours.port, ['-no_middlebox', '-groups', 'P-256:X25519']);
      const conn = await ours.next(0);
      expect(isHelloRetryRequest(conn.handshakeOut[0]!.data)).toBe(false);
      expect(conn.handshakeOut.filter((h) => h.level === 'initial').length).toBe(1);
      expect(cli.output).toMatch(/Server Temp Key: ECDH, prime256v1, 256 bits/);
      await finish(cli, conn);
    });

    it('sends a HelloRetryRequest for x25519 when s_client only sent a P-256 share', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig({ groups: [NamedGroup.x25519] }));
      const cli = await session(ours.port, ['-groups', 'P-256:X25519']);
      const conn = await ours.next(0);
      const initial = conn.handshakeOut.filter((h) => h.level === 'initial');
      expect(initial.length).toBe(2);
      expect(isHelloRetryRequest(initial[0]!.data)).toBe(true);
      expect(isHelloRetryRequest(initial[1]!.data)).toBe(false);
      // Two plaintext ClientHellos arrived; in compatibility mode s_client also sent its CCS after the HRR.
      expect(conn.trace.filter((t) => t.direction === 'in' && t.protection === 'plaintext' && t.innerType === 22).length).toBe(2);
      expect(cli.output).toMatch(/Server Temp Key: X25519/);
      expect(cli.output).toContain('Verify return code: 0 (ok)');
      await finish(cli, conn);
    });

    it('signs with rsa_pss_rsae_sha384 when s_client only allows that', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig({ certificate: identity('leaf-rsa') }));
      const cli = await session(ours.port, ['-no_middlebox', '-sigalgs', 'rsa_pss_rsae_sha384']);
      expect(cli.output).toContain('Peer signing digest: SHA384');
      expect(cli.output).toContain('Peer signature type: RSA-PSS');
      await finish(cli, await ours.next(0));
    });

    it('fails with handshake_failure when no group is shared', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig({ groups: [NamedGroup.secp256r1] }));
      const cli = startClient(clientArgs(ours.port, '-no_middlebox', '-groups', 'X25519'), resources);
      const conn = await ours.next(0);
      await conn.waitForFailure();
      expect(conn.endpointError?.alert).toBe(40);
      await cli.waitForOutput(/alert handshake failure/);
    });

    it('mutual TLS: requires and verifies the s_client certificate', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig({ clientCertificate: 'require', clientCa: [ROOT_CA()] }));
      const cli = await session(ours.port, [
        '-no_middlebox',
        '-cert',
        certPath('client-ecdsa.crt'),
        '-key',
        certPath('client-ecdsa.key'),
        '-cert_chain',
        certPath('intermediate-ca.crt'),
      ]);
      const conn = await ours.next(0);
      expect(ours.servers[0]!.peerCertificates?.[0]?.subject).toContain('CN=pathquic-client');
      // The verified chain: leaf, the intermediate s_client sent, and our trusted root.
      expect(ours.servers[0]!.peerCertificates?.map((c) => c.subject)).toEqual([
        expect.stringContaining('CN=pathquic-client'),
        expect.stringContaining('CN=pathquic test intermediate CA'),
        expect.stringContaining('CN=pathquic test root CA'),
      ]);
      await finish(cli, conn);
    });

    it('mutual TLS: aborts with certificate_required when s_client has no certificate', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig({ clientCertificate: 'require', clientCa: [ROOT_CA()] }));
      const cli = startClient(clientArgs(ours.port, '-no_middlebox'), resources);
      const conn = await ours.next(0);
      await conn.waitForFailure();
      expect(conn.endpointError?.alert).toBe(116);
      await cli.waitForOutput(/alert certificate required/);
    });

    it('s_client rejects our chain against another root: our server gets unknown_ca', { timeout: TIMEOUT }, async () => {
      const ours = await startOurServer(serverConfig());
      const cli = startClient(
        ['-tls1_3', '-connect', `127.0.0.1:${ours.port}`, '-alpn', 'h3', '-servername', 'localhost', '-no_middlebox', '-CAfile', certPath('evil-root-ca.crt'), '-verify_return_error'],
        resources,
      );
      const conn = await ours.next(0);
      const err = await conn.waitForFailure();
      expect(err).toBeInstanceOf(PeerAlertError);
      expect((err as PeerAlertError).alert).toBe(48);
      await cli.waitForOutput(/verify error:num=20/);
    });

    it('s_client -keylogfile matches our server\'s keyLog', { timeout: TIMEOUT }, async () => {
      const dir = resources.tempDir();
      const theirs = join(dir, 'openssl.keys');
      const lines: string[] = [];
      const ours = await startOurServer(serverConfig({ keyLog: (l) => lines.push(l) }));
      const cli = await session(ours.port, ['-no_middlebox', '-keylogfile', theirs, '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256']);
      const conn = await ours.next(0);
      await finish(cli, conn);
      const theirLines = keyLogLines(readFileSync(theirs, 'utf8'));
      expect(lines.length).toBe(5);
      expect([...theirLines].sort()).toEqual([...lines].sort());
    });

    it('issues a ticket that s_client resumes with (-sess_out / -sess_in)', { timeout: TIMEOUT }, async () => {
      const dir = resources.tempDir();
      const sessionFile = join(dir, 'session.pem');
      const ticketKey = new Uint8Array(32).fill(7);
      const ours = await startOurServer(serverConfig({ ticketKey }));
      const first = await session(ours.port, ['-no_middlebox', '-sess_out', sessionFile], 'first');
      // The ticket went out right after the client Finished, so s_client has stored it before printing our echo.
      await finish(first, await ours.next(0));
      // s_client's session printout is stdio-buffered on a pipe: it shows up by exit.
      expect(first.output).toContain('Post-Handshake New Session Ticket arrived');
      expect(first.output).toMatch(/TLS session ticket lifetime hint: 86400/);
      expect(readFileSync(sessionFile, 'utf8')).toContain('BEGIN SSL SESSION PARAMETERS');
      expect(ours.servers[0]!.resumed).toBe(false);

      const second = await session(ours.port, ['-no_middlebox', '-sess_in', sessionFile], 'second');
      const conn = await ours.next(1);
      expect(ours.servers[1]!.resumed).toBe(true);
      expect(second.output).toContain('Reused, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256');
      await finish(second, conn);

      // Once more, with s_client sending only a P-256 share while we want x25519: HRR, then the PSK binder again.
      const hrrServer = await startOurServer(serverConfig({ ticketKey, groups: [NamedGroup.x25519] }));
      const third = await session(hrrServer.port, ['-no_middlebox', '-sess_in', sessionFile, '-groups', 'P-256:X25519'], 'third');
      const hrrConn = await hrrServer.next(0);
      expect(isHelloRetryRequest(hrrConn.handshakeOut[0]!.data)).toBe(true);
      expect(hrrServer.servers[0]!.resumed).toBe(true);
      expect(third.output).toContain('Reused, TLSv1.3');
      await finish(third, hrrConn);
    });
  });
});
