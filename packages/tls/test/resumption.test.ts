import { describe, expect, it } from 'vitest';
import {
  CipherSuite,
  NamedGroup,
  SingleUseAntiReplay,
  decodeSessionTicket,
  encodeSessionTicket,
  formatKeyLogLine,
  TlsServer,
  type SessionTicket,
  type TlsClientConfig,
  type TlsEndpoint,
  type TlsServerConfig,
  type TlsEvent,
} from '../src/index.js';
import { NOW, ROOT_CA, baseClient, baseServer, handshake, identity, pem, secretOf } from './harness.js';

function* drain(e: TlsEndpoint): Generator<TlsEvent> {
  for (let ev = e.poll(); ev !== undefined; ev = e.poll()) yield ev;
}

const ticketKey = new Uint8Array(32).fill(7);

function firstTicket(extraServer: Partial<TlsServerConfig> = {}, extraClient: Partial<TlsClientConfig> = {}): SessionTicket {
  const p = handshake(baseClient(extraClient), baseServer({ ticketKey, ...extraServer }));
  expect(p.client.complete).toBe(true);
  expect(p.client.tickets).toHaveLength(extraServer.ticketCount ?? 1);
  return p.client.tickets[0]!;
}

describe('HelloRetryRequest', () => {
  it('retries when the client sent no share the server accepts', () => {
    const p = handshake(
      baseClient({ groups: [NamedGroup.x25519, NamedGroup.secp256r1], keyShareGroups: [NamedGroup.x25519] }),
      baseServer({ groups: [NamedGroup.secp256r1] }),
    );
    expect(p.client.error).toBeUndefined();
    expect(p.client.endpoint.helloRetryRequested).toBe(true);
    expect(p.client.complete && p.server.complete).toBe(true);
    expect(secretOf(p.client, 'application', 'write')).toEqual(secretOf(p.server, 'application', 'read'));
    // Two ClientHellos at the Initial level from the client, HRR + ServerHello from the server.
    expect(p.client.events.filter((e) => e.type === 'handshake-data' && e.level === 'initial')).toHaveLength(2);
  });

  it('picks another offered share instead of retrying', () => {
    const p = handshake(
      baseClient({ keyShareGroups: [NamedGroup.secp256r1, NamedGroup.x25519] }),
      baseServer({ groups: [NamedGroup.x25519, NamedGroup.secp256r1] }),
    );
    expect(p.client.endpoint.helloRetryRequested).toBe(false);
    expect(p.client.complete).toBe(true);
  });

  it('fails with handshake_failure when no group is shared', () => {
    const p = handshake(baseClient({ groups: [NamedGroup.x25519] }), baseServer({ groups: [NamedGroup.secp256r1] }));
    expect(p.server.error?.alert).toBe(40);
    expect(p.server.error?.quicErrorCode).toBe(0x128);
  });

  it('resumes after a HelloRetryRequest (binder over message_hash + HRR)', () => {
    const ticket = firstTicket();
    const p = handshake(
      baseClient({ session: ticket, groups: [NamedGroup.x25519, NamedGroup.secp256r1] }),
      baseServer({ ticketKey, groups: [NamedGroup.secp256r1] }),
      { now: NOW + 1000 },
    );
    expect(p.client.error).toBeUndefined();
    expect(p.client.endpoint.helloRetryRequested).toBe(true);
    expect(p.client.endpoint.resumed).toBe(true);
    expect(p.server.endpoint.resumed).toBe(true);
  });
});

describe('resumption', () => {
  it('issues tickets and resumes with psk_dhe_ke, skipping the certificate', () => {
    const ticket = firstTicket({ ticketCount: 2 });
    expect(ticket.alpn).toBe('h3');
    expect(ticket.serverName).toBe('localhost');
    expect(ticket.maxEarlyDataSize).toBe(0);
    const p = handshake(baseClient({ session: ticket }), baseServer({ ticketKey }), { now: NOW + 5000 });
    expect(p.client.error).toBeUndefined();
    expect(p.client.endpoint.resumed).toBe(true);
    expect(p.server.endpoint.resumed).toBe(true);
    expect(p.client.endpoint.peerCertificates).toBeUndefined();
    expect(secretOf(p.client, 'application', 'write')).toEqual(secretOf(p.server, 'application', 'read'));
    // New tickets keep coming on resumed connections (ticketCount defaults to 1).
    expect(p.client.tickets).toHaveLength(1);
  });

  it('falls back to a full handshake with an unknown ticket key, an expired ticket or another ALPN', () => {
    const ticket = firstTicket();
    const other = handshake(baseClient({ session: ticket }), baseServer({ ticketKey: new Uint8Array(32).fill(9) }));
    expect(other.client.complete).toBe(true);
    expect(other.client.endpoint.resumed).toBe(false);
    const late = handshake(baseClient({ session: ticket }), baseServer({ ticketKey }), { now: NOW + 86_401_000 });
    expect(late.client.complete).toBe(true);
    expect(late.client.endpoint.resumed).toBe(false);
    const alpn = handshake(
      baseClient({ session: ticket, alpnProtocols: ['h3', 'hq-interop'] }),
      baseServer({ ticketKey, alpnProtocols: ['hq-interop'] }),
    );
    expect(alpn.client.complete).toBe(true);
    expect(alpn.client.endpoint.resumed).toBe(false);
  });

  it('keeps the ticket suite when the server would prefer another', () => {
    const ticket = firstTicket({}, { cipherSuites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256] });
    const p = handshake(baseClient({ session: ticket }), baseServer({ ticketKey }));
    expect(p.client.endpoint.resumed).toBe(true);
    expect(p.client.endpoint.cipherSuite).toBe(CipherSuite.TLS_CHACHA20_POLY1305_SHA256);
  });

  it('rejects a tampered binder with decrypt_error', () => {
    const ticket = firstTicket();
    const p = handshake(baseClient({ session: ticket }), baseServer({ ticketKey }), {
      toServer: (_f, level, data) => {
        if (level !== 'initial') return data;
        const copy = data.slice();
        copy[copy.length - 1]! ^= 1; // the binder is the last byte of the ClientHello
        return copy;
      },
    });
    expect(p.server.error?.alert).toBe(51);
  });

  it('round-trips a stored session', () => {
    const ticket = firstTicket();
    const back = decodeSessionTicket(encodeSessionTicket(ticket));
    expect(back).toEqual(ticket);
    expect(() => decodeSessionTicket(Uint8Array.of(1, 2, 3))).toThrow(/not a stored session|unknown session/);
  });
});

describe('0-RTT', () => {
  const early = { earlyData: true, antiReplay: new SingleUseAntiReplay() };

  it('derives matching early secrets and accepts 0-RTT once', () => {
    const ticket = firstTicket({ ...early, antiReplay: new SingleUseAntiReplay() });
    expect(ticket.maxEarlyDataSize).toBe(0xffffffff);
    const antiReplay = new SingleUseAntiReplay();
    const p = handshake(baseClient({ session: ticket, earlyData: true }), baseServer({ ticketKey, earlyData: true, antiReplay }), {
      now: NOW + 2000,
    });
    expect(p.client.error).toBeUndefined();
    const clientEarly = secretOf(p.client, 'early', 'write');
    expect(clientEarly).toBeDefined();
    expect(secretOf(p.server, 'early', 'read')).toEqual(clientEarly);
    expect(p.client.endpoint.earlyDataAccepted).toBe(true);
    expect(p.server.endpoint.earlyDataAccepted).toBe(true);
    expect(p.client.earlyRejected).toBe(false);
  });

  it('rejects a replayed ClientHello, keeping the handshake', () => {
    const ticket = firstTicket(early);
    const antiReplay = new SingleUseAntiReplay();
    let hello: Uint8Array | undefined;
    const a = handshake(baseClient({ session: ticket, earlyData: true }), baseServer({ ticketKey, earlyData: true, antiReplay }), {
      now: NOW + 1000,
      toServer: (_f, level, data) => {
        if (level === 'initial') hello = data;
        return data;
      },
    });
    expect(a.server.endpoint.earlyDataAccepted).toBe(true);
    // An attacker replays the captured ClientHello to another server sharing the anti-replay store.
    const replay = new TlsServer(baseServer({ ticketKey, earlyData: true, antiReplay }));
    expect(replay.receive('initial', hello!, NOW + 1500)).toBeUndefined();
    expect(replay.earlyDataAccepted).toBe(false);
    expect(replay.resumed).toBe(true);
    const events = [...drain(replay)];
    expect(events.some((e) => e.type === 'secret' && e.level === 'early')).toBe(false);
  });

  it('rejects 0-RTT when the ticket age is off or after a HelloRetryRequest', () => {
    const ticket = firstTicket(early);
    const skewed = handshake(baseClient({ session: ticket, earlyData: true }), baseServer({ ticketKey, ...early }), {
      now: NOW + 1000,
      serverNow: NOW + 60_000,
    });
    expect(skewed.server.endpoint.earlyDataAccepted).toBe(false);
    expect(skewed.client.earlyRejected).toBe(true);
    expect(skewed.client.endpoint.resumed).toBe(true);
    const hrr = handshake(
      baseClient({ session: ticket, earlyData: true, groups: [NamedGroup.x25519, NamedGroup.secp256r1] }),
      baseServer({ ticketKey, ...early, antiReplay: new SingleUseAntiReplay(), groups: [NamedGroup.secp256r1] }),
      { now: NOW + 1000 },
    );
    expect(hrr.client.endpoint.helloRetryRequested).toBe(true);
    expect(hrr.client.earlyRejected).toBe(true);
    expect(hrr.server.endpoint.earlyDataAccepted).toBe(false);
    expect(hrr.client.complete).toBe(true);
  });

  it('does not offer 0-RTT with a ticket that does not allow it', () => {
    const ticket = firstTicket();
    const p = handshake(baseClient({ session: ticket, earlyData: true }), baseServer({ ticketKey, ...early }));
    expect(p.client.endpoint.earlyDataOffered).toBe(false);
    expect(secretOf(p.client, 'early', 'write')).toBeUndefined();
  });
});

describe('mutual TLS', () => {
  const mtls = { clientCertificate: 'require' as const, clientCa: [ROOT_CA()] };

  it('verifies the client certificate', () => {
    const p = handshake(baseClient({ certificate: identity('client-ecdsa') }), baseServer(mtls));
    expect(p.server.error).toBeUndefined();
    expect(p.server.complete).toBe(true);
    expect(p.server.endpoint.peerCertificates?.[0]?.subject).toBeDefined();
  });

  it('require without a certificate: certificate_required', () => {
    const p = handshake(baseClient(), baseServer(mtls));
    expect(p.server.error?.alert).toBe(116);
  });

  it('request without a certificate completes', () => {
    const p = handshake(baseClient(), baseServer({ ...mtls, clientCertificate: 'request' }));
    expect(p.server.complete).toBe(true);
    expect(p.server.endpoint.peerCertificates).toBeUndefined();
  });

  it('untrusted client certificate: unknown_ca', () => {
    const p = handshake(baseClient({ certificate: identity('client-ecdsa') }), baseServer({ ...mtls, clientCa: [pem('evil-root-ca.crt')] }));
    expect(p.server.error?.alert).toBe(48);
  });
});

describe('key log', () => {
  it('writes every secret in NSS format, identical on both sides', () => {
    const clientLines: string[] = [];
    const serverLines: string[] = [];
    const p = handshake(baseClient({ keyLog: (l) => clientLines.push(l) }), baseServer({ keyLog: (l) => serverLines.push(l) }));
    expect(p.client.complete).toBe(true);
    const labels = clientLines.map((l) => l.split(' ')[0]).sort();
    expect(labels).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
    expect([...serverLines].sort()).toEqual([...clientLines].sort());
    for (const l of clientLines) expect(l).toMatch(/^[A-Z_0]+ [0-9a-f]{64} [0-9a-f]{64}$/);
    expect(formatKeyLogLine('CLIENT_TRAFFIC_SECRET_0', Uint8Array.of(1), Uint8Array.of(0xab))).toBe('CLIENT_TRAFFIC_SECRET_0 01 ab');
  });

  it('exports matching keying material', () => {
    const p = handshake(baseClient(), baseServer());
    const a = p.client.endpoint.exportKeyingMaterial('EXPORTER-test', Uint8Array.of(1, 2), 32);
    const b = p.server.endpoint.exportKeyingMaterial('EXPORTER-test', Uint8Array.of(1, 2), 32);
    expect(a).toEqual(b);
    expect(a).toHaveLength(32);
  });
});
