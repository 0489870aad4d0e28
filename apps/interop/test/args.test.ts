import { describe, expect, it } from 'vitest';
import { CipherSuite } from '@pathquic/tls';
import { UsageError, outputName, parseCipherSuites, parseCli } from '../src/args.js';
import { describeRun, runCli } from './helpers.js';

describe('pathquic-interop flags (a contract: never renamed)', () => {
  it('parses the server flags', () => {
    const a = parseCli(['server', '--host', '::1', '--port', '4433', '--cert', 'c.pem', '--key', 'k.pem', '--root', 'www', '--retry', '--qlog-dir', 'q', '--keylog', 'kl']);
    expect(a).toEqual({
      command: 'server',
      host: '::1',
      port: 4433,
      cert: 'c.pem',
      key: 'k.pem',
      root: 'www',
      retry: true,
      qlogDir: 'q',
      keylog: 'kl',
      cipherSuites: undefined,
      quiet: false,
    });
  });

  it('parses the client flags', () => {
    const a = parseCli([
      'client', '--insecure', '--ca', 'ca.pem', '--output', 'out', '--keylog', 'kl', '--qlog-dir', 'q', '--session-file', 's',
      '--migrate-after', '1.5', '--ciphers', 'chacha20,TLS_AES_128_GCM_SHA256', '--timeout', '10',
      'https://[::1]:4433/a/b.bin', 'https://[::1]:4433/',
    ]);
    if (a.command !== 'client') throw new Error('not a client');
    expect(a.urls.map((u) => u.href)).toEqual(['https://[::1]:4433/a/b.bin', 'https://[::1]:4433/']);
    expect(a).toMatchObject({
      insecure: true, ca: 'ca.pem', output: 'out', keylog: 'kl', qlogDir: 'q', sessionFile: 's', migrateAfter: 1.5, timeoutMs: 10_000,
      cipherSuites: [CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256],
    });
  });

  it('rejects what cannot work', () => {
    expect(() => parseCli(['server', '--port', '1', '--cert', 'c', '--key', 'k'])).toThrow(/--root is required/);
    expect(() => parseCli(['server', '--port', '70000', '--cert', 'c', '--key', 'k', '--root', 'r'])).toThrow(UsageError);
    expect(() => parseCli(['client', '--output', 'o'])).toThrow(/at least one URL/);
    expect(() => parseCli(['client', 'https://a/x'])).toThrow(/--output is required/);
    expect(() => parseCli(['client', '--output', 'o', 'http://a/x'])).toThrow(/only https/);
    expect(() => parseCli(['client', '--output', 'o', 'https://a/x', 'https://b/y'])).toThrow(/same server/);
    expect(() => parseCli(['client', '--output', 'o', 'https://a/x%2Fy'])).toThrow(/cannot save/);
    expect(() => parseCli(['client', '--output', 'o', '--bogus', 'https://a/x'])).toThrow();
    expect(() => parseCipherSuites('TLS_AES_128_CCM_SHA256')).toThrow(/unknown cipher suite/);
    expect(() => parseCli(['frobnicate'])).toThrow(/unknown command/);
  });

  it('names output files by the last path segment', () => {
    expect(outputName(new URL('https://h/a/b/c.bin?x=1'))).toBe('c.bin');
    expect(outputName(new URL('https://h/dir/'))).toBe('index.html');
    expect(outputName(new URL('https://h/with%20space'))).toBe('with space');
  });

  it('the built command prints usage and exits 2 on a bad flag', async () => {
    const help = await runCli(['--help']);
    expect(help.code, describeRun(help)).toBe(0);
    expect(help.stdout).toMatch(/pathquic-interop server --host H --port P --cert C --key K --root DIR/);
    const bad = await runCli(['client', '--nope']);
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).toMatch(/usage:/);
  });
});
