import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CipherSuite, NamedGroup, TlsClient, TlsServer, recordKeys, type TlsClientConfig, type TlsServerConfig } from '../../src/index.js';
import { simple1Rtt, hex, toHex } from '../fixtures/rfc8448.js';
import { ROOT_CA, identity } from '../harness.js';
import { Resources, connectTcp, listenTcp } from './openssl.js';
import {
  ContentType,
  MAX_CIPHERTEXT,
  MAX_PLAINTEXT,
  RecordLayerError,
  RecordProtection,
  RecordReader,
  TlsRecordConnection,
  recordHeader,
  type RecordConnectionOptions,
} from './record-layer.js';
import {
  applicationPayload,
  clientApplicationRecord,
  clientFinishedRecord,
  serverApplicationRecord,
  serverHandshakeRecord,
} from './rfc8448-records.js';

const sha256Suite = { aead: 'aes-128-gcm', hash: 'sha256' } as const;

function protection(secretHex: string, initialSequence = 0n): RecordProtection {
  const p = RecordProtection.fromSecret({ ...sha256Suite, secret: hex(secretHex) });
  if (initialSequence === 0n) return p;
  // Skip ahead by sealing throwaway records: the sequence number is internal state.
  for (let i = 0n; i < initialSequence; i++) p.seal(ContentType.application_data, new Uint8Array(0));
  return p;
}

function split(record: Uint8Array): { header: Uint8Array; body: Uint8Array } {
  return { header: record.subarray(0, 5), body: record.subarray(5) };
}

describe('record protection (RFC 8446 §5.2) against RFC 8448 §3 records', () => {
  const v = simple1Rtt;
  const vectors = [
    {
      name: 'server handshake flight',
      secret: v.serverHandshakeTrafficSecret,
      seq: 0n,
      record: serverHandshakeRecord,
      type: ContentType.handshake,
      content: hex(v.encryptedExtensions + v.certificate + v.certificateVerify + v.serverFinished),
    },
    {
      name: 'client Finished',
      secret: v.clientHandshakeTrafficSecret,
      seq: 0n,
      record: clientFinishedRecord,
      type: ContentType.handshake,
      content: hex(v.clientFinished),
    },
    {
      name: 'client application data',
      secret: v.clientApplicationTrafficSecret,
      seq: 0n,
      record: clientApplicationRecord,
      type: ContentType.application_data,
      content: applicationPayload,
    },
    {
      name: 'server application data at sequence 1',
      secret: v.serverApplicationTrafficSecret,
      seq: 1n,
      record: serverApplicationRecord,
      type: ContentType.application_data,
      content: applicationPayload,
    },
  ];

  it('derives the RFC 8448 record keys from the traffic secrets (RFC 8446 §7.3)', () => {
    const cases = [
      [v.serverHandshakeTrafficSecret, v.serverHandshakeKey, v.serverHandshakeIv],
      [v.clientHandshakeTrafficSecret, v.clientHandshakeKey, v.clientHandshakeIv],
      [v.serverApplicationTrafficSecret, v.serverApplicationKey, v.serverApplicationIv],
      [v.clientApplicationTrafficSecret, v.clientApplicationKey, v.clientApplicationIv],
    ] as const;
    for (const [secret, key, iv] of cases) {
      const k = recordKeys('sha256', 16, hex(secret));
      expect(toHex(k.key)).toBe(key);
      expect(toHex(k.iv)).toBe(iv);
    }
    expect(hex(serverHandshakeRecord).length).toBe(5 + 0x2a2);
  });

  for (const t of vectors) {
    it(`seals the ${t.name} byte for byte`, () => {
      const sealed = protection(t.secret, t.seq).seal(t.type, t.content);
      expect(toHex(sealed)).toBe(toHex(hex(t.record)));
    });

    it(`opens the ${t.name}`, () => {
      const p = protection(t.secret, t.seq);
      const { header, body } = split(hex(t.record));
      const opened = p.open(header, body);
      expect(opened.type).toBe(t.type);
      expect(toHex(opened.content)).toBe(toHex(t.content));
      expect(p.sequence).toBe(t.seq + 1n);
    });

    it(`rejects the ${t.name} at the wrong sequence number`, () => {
      const p = protection(t.secret, t.seq + 1n);
      const { header, body } = split(hex(t.record));
      expect(() => p.open(header, body)).toThrow(RecordLayerError);
    });
  }

  it('authenticates the header (additional data) and every ciphertext byte', () => {
    const record = hex(clientApplicationRecord);
    for (const index of [0, 2, 4, 5, 40, record.length - 1]) {
      const bad = record.slice();
      bad[index] = bad[index]! ^ 0x01;
      const { header, body } = split(bad);
      let err: unknown;
      try {
        protection(v.clientApplicationTrafficSecret).open(header, body);
      } catch (e) {
        err = e;
      }
      expect(err, `flipped byte ${index}`).toBeInstanceOf(RecordLayerError);
      expect((err as RecordLayerError).alert).toBe(20); // bad_record_mac
    }
  });

  it('adds and strips zero padding; an all-zero inner plaintext is unexpected_message', () => {
    for (const aead of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'] as const) {
      const key = randomBytes(aead === 'aes-128-gcm' ? 16 : 32);
      const iv = randomBytes(12);
      const w = new RecordProtection(aead, key, iv);
      const r = new RecordProtection(aead, key, iv);
      const padded = w.seal(ContentType.handshake, Uint8Array.of(1, 2, 0, 0), 100);
      expect(padded.length).toBe(5 + 4 + 1 + 100 + 16);
      const opened = r.open(padded.subarray(0, 5), padded.subarray(5));
      expect(opened.type).toBe(ContentType.handshake);
      // Trailing zero bytes of the content itself survive: only padding after the type byte goes.
      expect([...opened.content]).toEqual([1, 2, 0, 0]);
      // A second record uses the next nonce on both sides.
      const second = w.seal(ContentType.application_data, Uint8Array.of(7));
      expect(r.open(second.subarray(0, 5), second.subarray(5)).content).toEqual(Uint8Array.of(7));

      const zeros = w.seal(0, new Uint8Array(0), 10);
      let err: unknown;
      try {
        r.open(zeros.subarray(0, 5), zeros.subarray(5));
      } catch (e) {
        err = e;
      }
      expect((err as RecordLayerError).alert).toBe(10);
    }
  });

  it('refuses to build an inner plaintext longer than 2^14 + 1', () => {
    const p = new RecordProtection('aes-128-gcm', new Uint8Array(16), new Uint8Array(12));
    expect(() => p.seal(ContentType.application_data, new Uint8Array(MAX_PLAINTEXT))).not.toThrow();
    expect(() => p.seal(ContentType.application_data, new Uint8Array(MAX_PLAINTEXT + 1))).toThrow(/2\^14/);
  });
});

describe('record framing (RFC 8446 §5.1)', () => {
  it('reassembles records from single-byte TCP segments and splits coalesced ones', () => {
    const a = Buffer.concat([recordHeader(ContentType.handshake, 3), Buffer.from([1, 2, 3])]);
    const b = Buffer.concat([recordHeader(ContentType.change_cipher_spec, 1), Buffer.from([1])]);
    const c = hex(clientApplicationRecord);
    const stream = Buffer.concat([a, b, c]);
    const reader = new RecordReader();
    const got: number[][] = [];
    for (const byte of stream) {
      reader.push(Uint8Array.of(byte));
      for (let r = reader.next(); r !== undefined; r = reader.next()) got.push([r.type, r.body.length]);
    }
    expect(got).toEqual([
      [22, 3],
      [20, 1],
      [23, 0x43],
    ]);
    const all = new RecordReader();
    all.push(stream);
    expect([all.next()?.type, all.next()?.type, all.next()?.type, all.next()]).toEqual([22, 20, 23, undefined]);
    expect(all.pending).toBe(0);
  });

  it('rejects oversized records with record_overflow and unknown types with unexpected_message', () => {
    const overflow = (type: number, length: number): unknown => {
      const r = new RecordReader();
      const h = recordHeader(type, length);
      r.push(h);
      try {
        r.next();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(overflow(ContentType.handshake, MAX_PLAINTEXT)).toBeUndefined();
    expect((overflow(ContentType.handshake, MAX_PLAINTEXT + 1) as RecordLayerError).alert).toBe(22);
    expect(overflow(ContentType.application_data, MAX_CIPHERTEXT)).toBeUndefined();
    expect((overflow(ContentType.application_data, MAX_CIPHERTEXT + 1) as RecordLayerError).alert).toBe(22);
    expect((overflow(24, 1) as RecordLayerError).alert).toBe(10);
  });
});

describe('pathquic client <-> pathquic server over TCP through the record layer', () => {
  const resources = new Resources();
  afterEach(() => resources.close());

  async function pair(
    clientConfig: TlsClientConfig,
    serverConfig: TlsServerConfig,
    clientOptions: RecordConnectionOptions = {},
    serverOptions: RecordConnectionOptions = {},
  ): Promise<{ client: TlsRecordConnection; server: Promise<TlsRecordConnection> }> {
    let accept!: (c: TlsRecordConnection) => void;
    const server = new Promise<TlsRecordConnection>((resolve) => (accept = resolve));
    const { port } = await listenTcp((socket) => {
      let answered = 0;
      const conn = new TlsRecordConnection(socket, new TlsServer(serverConfig), {
        ...serverOptions,
        // Line echo server: answers every complete line with "echo:" + line.
        onData: (_data, c) => {
          const lines = c.text.split('\n');
          for (let i = answered; i < lines.length - 1; i++) c.send(`echo:${lines[i]!}\n`);
          answered = lines.length - 1;
        },
      });
      resources.add(() => conn.destroy());
      accept(conn);
    }, resources);
    const socket = await connectTcp(port, resources);
    const client = new TlsRecordConnection(socket, new TlsClient(clientConfig), clientOptions);
    resources.add(() => client.destroy());
    client.start();
    return { client, server };
  }

  const client = (extra: Partial<TlsClientConfig> = {}): TlsClientConfig => ({
    alpnProtocols: ['h3'],
    serverName: 'localhost',
    ca: [ROOT_CA()],
    ...extra,
  });
  const server = (extra: Partial<TlsServerConfig> = {}): TlsServerConfig => ({
    alpnProtocols: ['h3'],
    certificate: identity('leaf-rsa'),
    ...extra,
  });

  it('completes with tiny fragments and padding in both directions and exchanges data', async () => {
    const p = await pair(
      client({ cipherSuites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256] }),
      server(),
      { maxFragment: 7, padding: 3 },
      { maxFragment: 50, padding: 1 },
    );
    await p.client.waitForHandshake();
    const srv = await p.server;
    await srv.waitForHandshake();
    // The server's RSA chain arrived in many 50-byte records: the endpoint reassembled messages across records.
    const hsIn = p.client.trace.filter((t) => t.direction === 'in' && t.protection === 'handshake');
    expect(hsIn.length).toBeGreaterThan(20);
    expect(Math.max(...hsIn.map((t) => t.length))).toBe(50);
    const chIn = srv.trace.filter((t) => t.direction === 'in' && t.protection === 'plaintext');
    expect(chIn.length).toBeGreaterThan(10);
    expect(Math.max(...chIn.map((t) => t.length))).toBe(7);
    p.client.send('hello over records\n');
    await p.client.waitForText('echo:hello over records\n');
    expect(p.client.endpoint.cipherSuite).toBe(CipherSuite.TLS_CHACHA20_POLY1305_SHA256);
    p.client.close();
    await srv.waitFor(() => srv.peerClosed, 'close_notify');
  });

  it('resumes with a ticket sent under the application keys', async () => {
    const ticketKey = randomBytes(32);
    const first = await pair(client({ groups: [NamedGroup.secp256r1] }), server({ ticketKey, ticketCount: 2 }));
    await first.client.waitFor(() => first.client.tickets.length === 2, 'two tickets');
    expect(first.client.endpoint.resumed).toBe(false);
    // Both tickets came in one record: several handshake messages per record.
    const nstRecords = first.client.trace.filter((t) => t.direction === 'in' && t.protection === 'application' && t.innerType === 22);
    expect(nstRecords.length).toBe(1);

    const second = await pair(client({ session: first.client.tickets[1]! }), server({ ticketKey }));
    await second.client.waitForHandshake();
    expect(second.client.endpoint.resumed).toBe(true);
    second.client.send('again\n');
    await second.client.waitForText('echo:again\n');
  });

  it('reports a certificate failure to the peer as an alert', async () => {
    const p = await pair(client({ ca: [identity('leaf-ecdsa').leaf.toString()] }), server());
    const err = await p.client.waitForFailure();
    expect(p.client.endpointError?.alert).toBe(48); // unknown_ca
    expect(err).toBe(p.client.endpointError);
    const srv = await p.server;
    const peerErr = await srv.waitForFailure();
    expect(peerErr.message).toMatch(/alert 48 \(unknown_ca\)/);
  });
});
