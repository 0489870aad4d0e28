// Full TLS 1.3 handshakes per second, client and server in one process, with ECDSA P-256 and RSA-2048 server
// certificates. The peer is node:tls (OpenSSL) doing the same handshake over loopback TCP in the same run; variants
// are interleaved round by round because the machine is shared and noisy, and each figure is the median of rounds.
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  NamedGroup,
  TlsClient,
  TlsServer,
  loadCertificateIdentity,
  nobleKeyExchange,
  nodeKeyExchange,
  type KeyExchangeProvider,
  type TlsClientConfig,
  type TlsEndpoint,
  type TlsServerConfig,
} from '../src/index.js';

const dir = fileURLToPath(new URL('../test/fixtures/certs/', import.meta.url));
const read = (f: string) => readFileSync(dir + f, 'utf8');
const ROOT = read('root-ca.crt');
const CERTS = {
  ecdsa: { chain: read('leaf-ecdsa.chain.pem'), key: read('leaf-ecdsa.key') },
  rsa: { chain: read('leaf-rsa.chain.pem'), key: read('leaf-rsa.key') },
};
type CertName = keyof typeof CERTS;

function pump(from: TlsEndpoint, to: TlsEndpoint, now: number): number {
  let moved = 0;
  for (let ev = from.poll(); ev !== undefined; ev = from.poll()) {
    if (ev.type === 'handshake-data') {
      moved++;
      const err = to.receive(ev.level, ev.data, now);
      if (err) throw err;
    } else if (ev.type === 'error') throw ev.error;
  }
  return moved;
}

function pathquicHandshake(cert: CertName, kx: KeyExchangeProvider): () => void {
  const identity = loadCertificateIdentity({ cert: CERTS[cert].chain, key: CERTS[cert].key });
  const tp = Uint8Array.of(1, 2, 0x43, 0xe8);
  const clientConfig: TlsClientConfig = { alpnProtocols: ['h3'], transportParameters: tp, serverName: 'localhost', ca: [ROOT], keyExchange: kx };
  const serverConfig: TlsServerConfig = { alpnProtocols: ['h3'], transportParameters: tp, certificate: identity, keyExchange: kx };
  return () => {
    const now = Date.now();
    const c = new TlsClient(clientConfig);
    const s = new TlsServer(serverConfig);
    c.start(now);
    while (pump(c, s, now) + pump(s, c, now) > 0);
    if (!c.handshakeComplete || !s.handshakeComplete) throw new Error('handshake did not complete');
  };
}

async function nodeTlsPeer(cert: CertName): Promise<{ run: () => Promise<void>; close: () => void }> {
  const server: Server = createServer({
    key: CERTS[cert].key,
    cert: CERTS[cert].chain,
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['h3'],
    ecdhCurve: 'X25519',
  });
  server.on('secureConnection', (sock) => sock.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const run = () =>
    new Promise<void>((resolve, reject) => {
      const sock = connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: ROOT,
        ALPNProtocols: ['h3'],
        minVersion: 'TLSv1.3',
        ecdhCurve: 'X25519',
        session: undefined,
      });
      sock.once('secureConnect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', reject);
    });
  return { run, close: () => server.close() };
}

interface Variant {
  name: string;
  run: () => void | Promise<void>;
}

async function timeRound(v: Variant, minMs: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const until = start + minMs;
  while (performance.now() < until) {
    const r = v.run();
    if (r) await r;
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const minMs = Number(process.env.BENCH_MS ?? 600);
  const ecdsaPeer = await nodeTlsPeer('ecdsa');
  const rsaPeer = await nodeTlsPeer('rsa');
  const variants: Variant[] = [
    { name: 'pathquic_ecdsa_noble', run: pathquicHandshake('ecdsa', nobleKeyExchange) },
    { name: 'pathquic_ecdsa_node', run: pathquicHandshake('ecdsa', nodeKeyExchange) },
    { name: 'node_tls_ecdsa', run: ecdsaPeer.run },
    { name: 'pathquic_rsa_noble', run: pathquicHandshake('rsa', nobleKeyExchange) },
    { name: 'pathquic_rsa_node', run: pathquicHandshake('rsa', nodeKeyExchange) },
    { name: 'node_tls_rsa', run: rsaPeer.run },
  ];
  for (const v of variants) await timeRound(v, 200); // warm-up
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) for (const v of variants) samples.get(v.name)!.push(await timeRound(v, minMs));
  ecdsaPeer.close();
  rsaPeer.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fig: Record<string, number> = {};
  console.log(`full TLS 1.3 handshakes/s (client+server, x25519, AES-128-GCM), median of ${rounds} interleaved rounds`);
  for (const v of variants) {
    fig[v.name] = Math.round(median(samples.get(v.name)!));
    console.log(`${v.name.padEnd(24)} ${String(fig[v.name]).padStart(7)} handshakes/s`);
  }
  const ratio = (a: string, b: string) => Math.round((fig[a]! / fig[b]!) * 100) / 100;
  const out = {
    handshakes_per_s_ecdsa: fig.pathquic_ecdsa_noble!,
    handshakes_per_s_rsa: fig.pathquic_rsa_noble!,
    handshakes_per_s_ecdsa_node_kx: fig.pathquic_ecdsa_node!,
    handshakes_per_s_rsa_node_kx: fig.pathquic_rsa_node!,
    node_tls_handshakes_per_s_ecdsa: fig.node_tls_ecdsa!,
    node_tls_handshakes_per_s_rsa: fig.node_tls_rsa!,
    ratio_ecdsa_vs_node_tls: ratio('pathquic_ecdsa_noble', 'node_tls_ecdsa'),
    ratio_rsa_vs_node_tls: ratio('pathquic_rsa_noble', 'node_tls_rsa'),
    ratio_ecdsa_node_kx_vs_node_tls: ratio('pathquic_ecdsa_node', 'node_tls_ecdsa'),
    ratio_rsa_node_kx_vs_node_tls: ratio('pathquic_rsa_node', 'node_tls_rsa'),
  };
  console.log(`ratios vs node:tls: ecdsa ${out.ratio_ecdsa_vs_node_tls} (node kx ${out.ratio_ecdsa_node_kx_vs_node_tls}), rsa ${out.ratio_rsa_vs_node_tls} (node kx ${out.ratio_rsa_node_kx_vs_node_tls})`);
  void NamedGroup;
  console.log(JSON.stringify(out));
}

await main();
