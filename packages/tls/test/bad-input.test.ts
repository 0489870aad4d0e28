import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertDescription, HandshakeType, TlsAlertError, TlsClient, TlsServer, type CryptoLevel } from '../src/index.js';
import { NOW, baseClient, baseServer, handshake, identity, pem, type Interceptor } from './harness.js';

const A = AlertDescription;

/** Splits a flight into whole handshake messages. */
function messages(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; ) {
    const len = (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
    out.push(data.subarray(o, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Rewrites the server's handshake-level flight. */
function serverFlight(edit: (msgs: Uint8Array[]) => Uint8Array[]): Interceptor {
  return (_f, level, data) => (level === 'handshake' ? join(edit(messages(data))) : data);
}

function flip(msg: Uint8Array, fromEnd: number): Uint8Array {
  const c = msg.slice();
  c[c.length - fromEnd]! ^= 0x01;
  return c;
}

function byType(msgs: Uint8Array[], type: number): number {
  return msgs.findIndex((m) => m[0] === type);
}

describe('bad input ends the handshake with the right alert', () => {
  it('bad server Finished: decrypt_error', () => {
    const p = handshake(baseClient(), baseServer(), {
      toClient: serverFlight((m) => m.map((x) => (x[0] === HandshakeType.finished ? flip(x, 1) : x))),
    });
    expect(p.client.error?.alert).toBe(A.decrypt_error);
    expect(p.client.error?.message).toMatch(/Finished/);
    expect(p.client.complete).toBe(false);
  });

  it('bad client Finished: decrypt_error at the server', () => {
    const p = handshake(baseClient(), baseServer(), {
      toServer: (_f, level, data) => (level === 'handshake' ? flip(data, 3) : data),
    });
    expect(p.server.error?.alert).toBe(A.decrypt_error);
    expect(p.server.complete).toBe(false);
  });

  it('bad CertificateVerify signature: decrypt_error', () => {
    for (const cert of ['leaf-ecdsa', 'leaf-rsa', 'leaf-ed25519']) {
      const p = handshake(baseClient(), baseServer({ certificate: identity(cert) }), {
        toClient: serverFlight((m) => m.map((x) => (x[0] === HandshakeType.certificate_verify ? flip(x, 5) : x))),
      });
      expect(p.client.error?.alert, cert).toBe(A.decrypt_error);
      expect(p.client.error?.message).toMatch(/signature/);
    }
  });

  it('reordered messages: unexpected_message', () => {
    const p = handshake(baseClient(), baseServer(), {
      toClient: serverFlight((m) => {
        const i = byType(m, HandshakeType.certificate);
        const j = byType(m, HandshakeType.certificate_verify);
        const c = [...m];
        [c[i], c[j]] = [c[j]!, c[i]!];
        return c;
      }),
    });
    expect(p.client.error?.alert).toBe(A.unexpected_message);
  });

  it('a message the state machine does not expect: unexpected_message', () => {
    const server = new TlsServer(baseServer());
    const err = server.receive('initial', Uint8Array.of(HandshakeType.finished, 0, 0, 32, ...new Uint8Array(32)), NOW);
    expect(err?.alert).toBe(A.unexpected_message);
    const client = new TlsClient(baseClient());
    client.start(NOW);
    expect(client.receive('initial', Uint8Array.of(HandshakeType.client_hello, 0, 0, 0), NOW)?.alert).toBe(A.unexpected_message);
  });

  it('truncated and garbled messages: decode_error', () => {
    const p = handshake(baseClient(), baseServer(), {
      toClient: serverFlight((m) =>
        m.map((x) => {
          if (x[0] !== HandshakeType.encrypted_extensions) return x;
          // Same message length, but the extensions vector claims more than is there.
          const c = x.slice();
          c[4] = 0xff;
          return c;
        }),
      ),
    });
    expect(p.client.error?.alert).toBe(A.decode_error);
    const server = new TlsServer(baseServer());
    expect(server.receive('initial', Uint8Array.of(1, 0, 0, 3, 3, 3, 0), NOW)?.alert).toBe(A.decode_error);
  });

  it('an oversized message is refused from its header, before buffering the body', () => {
    const server = new TlsServer(baseServer({ maxHandshakeMessageSize: 4096 }));
    const err = server.receive('initial', Uint8Array.of(HandshakeType.client_hello, 0x01, 0x00, 0x00), NOW);
    expect(err?.alert).toBe(A.illegal_parameter);
    expect(err?.message).toMatch(/65536 bytes exceeds the 4096-byte limit/);
    // A 16 MiB declaration with the default bound.
    const s2 = new TlsServer(baseServer());
    expect(s2.receive('initial', Uint8Array.of(1, 0xff, 0xff, 0xff), NOW)?.alert).toBe(A.illegal_parameter);
  });

  it('handshake bytes at the wrong encryption level: unexpected_message', () => {
    const server = new TlsServer(baseServer());
    expect(server.receive('handshake', Uint8Array.of(1, 0, 0, 0), NOW)?.alert).toBe(A.unexpected_message);
    // Leftover Initial bytes after the ServerHello.
    const p = handshake(baseClient(), baseServer(), {
      toClient: (_f, level, data) => (level === 'initial' ? join([data, Uint8Array.of(2)]) : data),
    });
    expect(p.client.error?.alert).toBe(A.unexpected_message);
  });

  it('untrusted, expired and wrong-host certificates', () => {
    const untrusted = handshake(baseClient(), baseServer({ certificate: identity('evil-leaf') }));
    expect(untrusted.client.error?.alert).toBe(A.unknown_ca);
    expect(untrusted.client.error?.message).toMatch(/server certificate rejected/);
    const expired = handshake(baseClient(), baseServer(), { now: Date.UTC(2300, 0, 1) });
    expect(expired.client.error?.alert).toBe(A.certificate_expired);
    const host = handshake(baseClient({ serverName: 'example.com' }), baseServer());
    expect(host.client.error?.alert).toBe(A.bad_certificate);
    expect(host.client.error?.message).toMatch(/example\.com/);
    const pinned = handshake(baseClient({ pins: ['sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='] }), baseServer());
    expect(pinned.client.error?.alert).toBe(A.bad_certificate);
    const callback = handshake(baseClient({ verifyCertificate: () => 'not this one' }), baseServer());
    expect(callback.client.error?.alert).toBe(A.bad_certificate);
    expect(callback.client.error?.message).toMatch(/not this one/);
  });

  it('IP literal: no SNI is sent and the IP SAN is checked', () => {
    const p = handshake(baseClient({ serverName: '127.0.0.1' }), baseServer());
    expect(p.client.error).toBeUndefined();
    expect(p.client.endpoint.sentServerName).toBeUndefined();
    expect(p.server.endpoint.serverName).toBeUndefined();
    const v6 = handshake(baseClient({ serverName: '::1' }), baseServer());
    expect(v6.client.complete).toBe(true);
    const wrong = handshake(baseClient({ serverName: '10.0.0.1' }), baseServer());
    expect(wrong.client.error?.alert).toBe(A.bad_certificate);
  });

  it('ALPN: no overlap is no_application_protocol (CRYPTO_ERROR 0x178)', () => {
    const p = handshake(baseClient({ alpnProtocols: ['h3-29'] }), baseServer());
    expect(p.server.error?.alert).toBe(A.no_application_protocol);
    expect(p.server.error?.quicErrorCode).toBe(0x178);
  });

  it('missing quic_transport_parameters: missing_extension (0x16d)', () => {
    const { transportParameters: _, ...noTp } = baseClient();
    const p = handshake(noTp, baseServer());
    expect(p.server.error?.alert).toBe(A.missing_extension);
    expect(p.server.error?.quicErrorCode).toBe(0x16d);
  });

  it('SNI chooses the certificate; an unknown name is unrecognized_name', () => {
    const chooser = (name: string | undefined) => (name === 'localhost' ? identity('leaf-rsa') : undefined);
    const ok = handshake(baseClient(), baseServer({ certificate: chooser }));
    expect(ok.client.complete).toBe(true);
    expect(ok.client.endpoint.peerCertificates?.[0]?.publicKey.asymmetricKeyType).toBe('rsa');
    const bad = handshake(baseClient({ serverName: 'a.test.pathquic' }), baseServer({ certificate: chooser }));
    expect(bad.server.error?.alert).toBe(A.unrecognized_name);
  });

  it('TLS KeyUpdate after the handshake: unexpected_message (0x10a)', () => {
    const p = handshake(baseClient(), baseServer());
    const err = p.client.endpoint.receive('application', Uint8Array.of(HandshakeType.key_update, 0, 0, 1, 0), NOW);
    expect(err?.alert).toBe(A.unexpected_message);
    expect(err?.quicErrorCode).toBe(0x10a);
  });

  it('a failed endpoint stays failed and keeps returning the same error', () => {
    const server = new TlsServer(baseServer());
    const first = server.receive('initial', Uint8Array.of(99, 0, 0, 0), NOW);
    expect(first).toBeInstanceOf(TlsAlertError);
    expect(server.receive('initial', Uint8Array.of(1, 0, 0, 0), NOW)).toBe(first);
    const events = [];
    for (let e = server.poll(); e; e = server.poll()) events.push(e);
    expect(events).toEqual([{ type: 'error', error: first }]);
  });

  it('programmer errors are TlsConfigError, not alerts', () => {
    expect(() => new TlsClient({ alpnProtocols: [] })).toThrow(/alpnProtocols/);
    expect(() => new TlsServer({ ...baseServer(), ticketKey: new Uint8Array(3) })).toThrow(/ticketKey must be 32 bytes/);
    expect(() => new TlsServer({ ...baseServer(), earlyData: true })).toThrow(/antiReplay/);
    const c = new TlsClient(baseClient());
    c.start(NOW);
    expect(() => c.start(NOW)).toThrow(/already/);
    expect(() => c.receive('bogus' as CryptoLevel, new Uint8Array(1), NOW)).toThrow(/unknown encryption level/);
  });
});

describe('fuzzing the handshake never throws or hangs', () => {
  const levels: CryptoLevel[] = ['initial', 'handshake'];

  it('random mutations of either flight end in completion or a TlsAlertError', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(...levels),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (toServer, level, flips, truncate) => {
          const mutate: Interceptor = (_f, l, data) => {
            if (l !== level) return data;
            let c = data.slice();
            for (const [at, x] of flips) c[at % c.length]! ^= x;
            if (truncate !== undefined) c = c.subarray(0, truncate % c.length);
            return c;
          };
          const p = handshake(baseClient(), baseServer(), toServer ? { toServer: mutate } : { toClient: mutate });
          for (const s of [p.client, p.server]) {
            if (s.error === undefined) continue;
            expect(s.error).toBeInstanceOf(TlsAlertError);
            // Peer bytes must map to a specific alert, never to "something broke inside" (internal_error).
            expect(s.error.alert, s.error.message).not.toBe(A.internal_error);
          }
          // Either both finished cleanly, or somebody reported an error, or the handshake is waiting for bytes.
          expect(p.client.error === undefined || !p.client.complete || p.server.error !== undefined).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('random bytes into a fresh server and client', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.constantFrom(...levels), (bytes, level) => {
        const server = new TlsServer(baseServer());
        const e1 = server.receive(level, bytes, NOW);
        if (e1 !== undefined) expect(e1).toBeInstanceOf(TlsAlertError);
        expect(e1?.alert).not.toBe(A.internal_error);
        const client = new TlsClient(baseClient());
        client.start(NOW);
        const e2 = client.receive(level, bytes, NOW);
        if (e2 !== undefined) expect(e2).toBeInstanceOf(TlsAlertError);
        expect(e2?.alert).not.toBe(A.internal_error);
      }),
      { numRuns: 500 },
    );
  });
});

void pem;
