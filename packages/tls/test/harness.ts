import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  TlsClient,
  TlsServer,
  loadCertificateIdentity,
  type CertificateIdentity,
  type CryptoLevel,
  type SessionTicket,
  type TlsAlertError,
  type TlsClientConfig,
  type TlsEndpoint,
  type TlsEvent,
  type TlsServerConfig,
  type TrafficSecret,
} from '../src/index.js';

const certDir = fileURLToPath(new URL('./fixtures/certs/', import.meta.url));

export function pem(name: string): string {
  return readFileSync(certDir + name, 'utf8');
}

const identities = new Map<string, CertificateIdentity>();

/** `leaf-ecdsa`, `leaf-rsa`, `leaf-ed25519`, `client-ecdsa`, ...: chain file + key from test/fixtures/certs. */
export function identity(name: string): CertificateIdentity {
  let id = identities.get(name);
  if (id === undefined) {
    id = loadCertificateIdentity({ cert: pem(`${name}.chain.pem`), key: pem(`${name}.key`) });
    identities.set(name, id);
  }
  return id;
}

export const ROOT_CA = (): string => pem('root-ca.crt');
export const NOW = Date.UTC(2027, 0, 1);

export interface Side {
  readonly name: 'client' | 'server';
  readonly endpoint: TlsEndpoint;
  readonly secrets: TrafficSecret[];
  readonly tickets: SessionTicket[];
  readonly events: TlsEvent[];
  error?: TlsAlertError;
  complete: boolean;
  earlyRejected: boolean;
}

function side(name: Side['name'], endpoint: TlsEndpoint): Side {
  return { name, endpoint, secrets: [], tickets: [], events: [], complete: false, earlyRejected: false };
}

/** Drains one endpoint's events, delivering handshake bytes to the other. Returns bytes moved. */
function pump(from: Side, to: Side, now: number, intercept?: Interceptor): number {
  let moved = 0;
  for (let ev = from.endpoint.poll(); ev !== undefined; ev = from.endpoint.poll()) {
    from.events.push(ev);
    switch (ev.type) {
      case 'handshake-data': {
        const data = intercept ? intercept(from.name, ev.level, ev.data) : ev.data;
        if (data === undefined) break;
        moved += data.length;
        const err = to.endpoint.receive(ev.level, data, now);
        if (err !== undefined) to.error = err;
        break;
      }
      case 'secret':
        from.secrets.push(ev);
        break;
      case 'session-ticket':
        from.tickets.push(ev.ticket);
        break;
      case 'handshake-complete':
        from.complete = true;
        break;
      case 'early-data-rejected':
        from.earlyRejected = true;
        break;
      case 'error':
        from.error = ev.error;
        break;
    }
  }
  return moved;
}

export type Interceptor = (from: string, level: CryptoLevel, data: Uint8Array) => Uint8Array | undefined;

export interface Pair {
  client: Side & { endpoint: TlsClient };
  server: Side & { endpoint: TlsServer };
}

/** Runs a whole handshake in memory, alternating until nobody has anything to say. */
export function handshake(
  clientConfig: TlsClientConfig,
  serverConfig: TlsServerConfig,
  opts: { now?: number; serverNow?: number; toServer?: Interceptor; toClient?: Interceptor } = {},
): Pair {
  const now = opts.now ?? NOW;
  const client = side('client', new TlsClient(clientConfig)) as Pair['client'];
  const server = side('server', new TlsServer(serverConfig)) as Pair['server'];
  client.endpoint.start(now);
  // A handshake is at most a few flights; the bound turns a ping-pong bug into a failed test instead of a hang.
  for (let round = 0; round < 20; round++) {
    const a = pump(client, server, opts.serverNow ?? now, opts.toServer);
    const b = pump(server, client, now, opts.toClient);
    if (a === 0 && b === 0) break;
  }
  return { client, server };
}

export function secretOf(s: Side, level: TrafficSecret['level'], direction: 'read' | 'write'): Uint8Array | undefined {
  return s.secrets.find((x) => x.level === level && x.direction === direction)?.secret;
}

export const baseClient = (extra: Partial<TlsClientConfig> = {}): TlsClientConfig => ({
  alpnProtocols: ['h3'],
  transportParameters: Uint8Array.of(0x01, 0x02, 0x43, 0xe8),
  serverName: 'localhost',
  ca: [ROOT_CA()],
  ...extra,
});

export const baseServer = (extra: Partial<TlsServerConfig> = {}): TlsServerConfig => ({
  alpnProtocols: ['h3'],
  transportParameters: Uint8Array.of(0x04, 0x04, 0x80, 0x10, 0x00, 0x00),
  certificate: identity('leaf-ecdsa'),
  ...extra,
});
