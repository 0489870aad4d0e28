/**
 * Command-line parsing for `pathquic-interop`. The flag names are a contract with the interop runners (issue 7):
 * later versions add flags, never rename or remove them.
 */
import { parseArgs } from 'node:util';
import { CipherSuite } from '@pathquic/tls';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage:
  pathquic-interop server --host H --port P --cert C --key K --root DIR [--retry] [--qlog-dir D] [--keylog F]
                          [--ciphers LIST] [--quiet]
  pathquic-interop client [--insecure] [--ca F] --output DIR [--keylog F] [--qlog-dir D] [--session-file F]
                          [--migrate-after S] [--ciphers LIST] [--timeout S] [--quiet] URL...

  server   serves the files under DIR over HTTP/3 (ALPN h3) until SIGINT/SIGTERM; --port 0 picks a free port
           (the first output line says which).
  client   fetches every URL over one connection and saves each body as DIR/<last path segment>; exits 0 only
           when every response was 200 and complete. --session-file resumes (and sends the requests as 0-RTT)
           with the ticket stored there and stores the new one.
  --ciphers  TLS 1.3 cipher suites, comma-separated: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
             TLS_CHACHA20_POLY1305_SHA256 (or aes128gcm, aes256gcm, chacha20).
  --keylog   appends TLS secrets in SSLKEYLOGFILE format (default: $SSLKEYLOGFILE).
  --timeout  client: give up after S seconds (default 300).
`;

export interface ServerArgs {
  readonly command: 'server';
  readonly host: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly root: string;
  readonly retry: boolean;
  readonly qlogDir: string | undefined;
  readonly keylog: string | undefined;
  readonly cipherSuites: CipherSuite[] | undefined;
  readonly quiet: boolean;
}

export interface ClientArgs {
  readonly command: 'client';
  readonly urls: URL[];
  readonly insecure: boolean;
  readonly ca: string | undefined;
  readonly output: string;
  readonly keylog: string | undefined;
  readonly qlogDir: string | undefined;
  readonly sessionFile: string | undefined;
  readonly migrateAfter: number | undefined;
  readonly cipherSuites: CipherSuite[] | undefined;
  /** Whole run, ms. */
  readonly timeoutMs: number;
  readonly quiet: boolean;
}

export type CliArgs = ServerArgs | ClientArgs | { readonly command: 'help' };

const SUITE_ALIASES: Readonly<Record<string, CipherSuite>> = {
  tls_aes_128_gcm_sha256: CipherSuite.TLS_AES_128_GCM_SHA256,
  tls_aes_256_gcm_sha384: CipherSuite.TLS_AES_256_GCM_SHA384,
  tls_chacha20_poly1305_sha256: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
  aes128gcm: CipherSuite.TLS_AES_128_GCM_SHA256,
  'aes-128-gcm': CipherSuite.TLS_AES_128_GCM_SHA256,
  aes256gcm: CipherSuite.TLS_AES_256_GCM_SHA384,
  'aes-256-gcm': CipherSuite.TLS_AES_256_GCM_SHA384,
  chacha20: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
  'chacha20-poly1305': CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
};

export function parseCipherSuites(list: string): CipherSuite[] {
  const suites: CipherSuite[] = [];
  for (const raw of list.split(/[,:\s]+/)) {
    if (raw === '') continue;
    const suite = SUITE_ALIASES[raw.toLowerCase()];
    if (suite === undefined) throw new UsageError(`unknown cipher suite ${JSON.stringify(raw)}`);
    if (!suites.includes(suite)) suites.push(suite);
  }
  if (suites.length === 0) throw new UsageError('--ciphers: no cipher suite given');
  return suites;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} takes a number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

function port(value: string | undefined): number {
  const text = required(value, '--port');
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be 0..65535, got ${JSON.stringify(text)}`);
  return n;
}

/** The file a URL's body is saved as: its last path segment (percent-decoded), "index.html" for a trailing "/". */
export function outputName(url: URL): string {
  const segment = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  if (segment === '') return 'index.html';
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  if (name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new UsageError(`${url.href}: cannot save as ${JSON.stringify(name)}`);
  return name;
}

function parseUrls(positionals: string[]): URL[] {
  if (positionals.length === 0) throw new UsageError('client: give at least one URL');
  const urls = positionals.map((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`not a URL: ${JSON.stringify(text)}`);
    }
    if (url.protocol !== 'https:') throw new UsageError(`${text}: only https:// URLs (HTTP/3)`);
    outputName(url);
    return url;
  });
  // One connection carries every request (RFC 9114 §3.3 allows reuse only for the same origin here).
  const first = urls[0]!;
  for (const u of urls) {
    if (u.hostname !== first.hostname || u.port !== first.port) {
      throw new UsageError(`all URLs must name the same server: ${first.host} and ${u.host} differ`);
    }
  }
  return urls;
}

export function parseCli(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'server') {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: {
        host: { type: 'string', default: '::' },
        port: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        root: { type: 'string' },
        retry: { type: 'boolean', default: false },
        'qlog-dir': { type: 'string' },
        keylog: { type: 'string' },
        ciphers: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`server: unexpected argument ${JSON.stringify(positionals[0])}`);
    return {
      command: 'server',
      host: values.host,
      port: port(values.port),
      cert: required(values.cert, '--cert'),
      key: required(values.key, '--key'),
      root: required(values.root, '--root'),
      retry: values.retry,
      qlogDir: values['qlog-dir'],
      keylog: values.keylog,
      cipherSuites: values.ciphers === undefined ? undefined : parseCipherSuites(values.ciphers),
      quiet: values.quiet,
    };
  }
  if (command === 'client') {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: {
        insecure: { type: 'boolean', default: false },
        ca: { type: 'string' },
        output: { type: 'string' },
        keylog: { type: 'string' },
        'qlog-dir': { type: 'string' },
        'session-file': { type: 'string' },
        'migrate-after': { type: 'string' },
        ciphers: { type: 'string' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    return {
      command: 'client',
      urls: parseUrls(positionals),
      insecure: values.insecure,
      ca: values.ca,
      output: required(values.output, '--output'),
      keylog: values.keylog,
      qlogDir: values['qlog-dir'],
      sessionFile: values['session-file'],
      migrateAfter: seconds(values['migrate-after'], '--migrate-after'),
      cipherSuites: values.ciphers === undefined ? undefined : parseCipherSuites(values.ciphers),
      timeoutMs: (seconds(values.timeout, '--timeout') ?? 300) * 1000,
      quiet: values.quiet,
    };
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)} (server or client)`);
}
