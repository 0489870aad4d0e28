import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, createServer, formatMptcpUrl, parseMptcpUrl } from '../src/index.js';

describe('parseMptcpUrl', () => {
  it.each([
    ['mptcp://example.com:443', { scheme: 'mptcp', host: 'example.com', port: 443, mptcp: true }],
    ['mptcp://[::1]:8443', { scheme: 'mptcp', host: '::1', port: 8443, mptcp: true }],
    ['mptcp://[2001:db8::7]:80/', { scheme: 'mptcp', host: '2001:db8::7', port: 80, mptcp: true }],
    ['mptcp://:8080', { scheme: 'mptcp', host: undefined, port: 8080, mptcp: true }],
    ['mptcp://10.0.0.1:80?mptcp=required', { scheme: 'mptcp', host: '10.0.0.1', port: 80, mptcp: 'required' }],
    ['mptcp://h:80?mptcp=false', { scheme: 'mptcp', host: 'h', port: 80, mptcp: false }],
    ['tcp://h:80', { scheme: 'tcp', host: 'h', port: 80, mptcp: false }],
    ['tcp://h:80?mptcp=true', { scheme: 'tcp', host: 'h', port: 80, mptcp: true }],
    ['tcp://h:80?mptcp', { scheme: 'tcp', host: 'h', port: 80, mptcp: true }],
    ['tcp://:8080?mptcp=true', { scheme: 'tcp', host: undefined, port: 8080, mptcp: true }],
    ['tcp://[::]:0?mptcp=1&other=x', { scheme: 'tcp', host: '::', port: 0, mptcp: true }],
    ['TCP://Host:1?MPTCP=Required', { scheme: 'tcp', host: 'Host', port: 1, mptcp: 'required' }],
  ])('%s', (url, expected) => {
    expect(parseMptcpUrl(url)).toEqual(expected);
  });

  it('takes URL objects', () => {
    expect(parseMptcpUrl(new URL('mptcp://[::1]:443'))).toEqual({ scheme: 'mptcp', host: '::1', port: 443, mptcp: true });
  });

  it.each([
    ['http://h:80', /not an mptcp/],
    ['mptcp://h', /missing port/],
    ['mptcp://h:', /missing port/],
    ['mptcp://h:65536', /invalid port/],
    ['mptcp://::1:80', /not an mptcp/],
    ['mptcp://[not-v6]:80', /invalid IPv6/],
    ['tcp://h:80?mptcp=maybe', /invalid mptcp=maybe/],
    ['mptcp://user@h:80', /not an mptcp/],
  ])('rejects %s', (url, message) => {
    expect(() => parseMptcpUrl(url)).toThrow(message);
  });
});

describe('formatMptcpUrl', () => {
  it.each([
    [{ host: 'h', port: 1 }, 'mptcp://h:1'],
    [{ host: '::1', port: 443, mptcp: true }, 'mptcp://[::1]:443'],
    [{ host: 'h', port: 80, mptcp: 'required' as const }, 'mptcp://h:80?mptcp=required'],
    [{ host: 'h', port: 80, mptcp: false }, 'tcp://h:80'],
    [{ port: 8080 }, 'mptcp://:8080'],
  ] as Array<[{ host?: string; port: number; mptcp?: boolean | 'required' }, string]>)('%j → %s, and back', (endpoint, url) => {
    expect(formatMptcpUrl(endpoint)).toBe(url);
    expect(parseMptcpUrl(url)).toMatchObject({ port: endpoint.port, host: endpoint.host, mptcp: endpoint.mptcp ?? true });
  });
});

describe('URLs drive real sockets', () => {
  it('listen on mptcp://127.0.0.1:0 and connect to the formatted URL of the bound port', async () => {
    const listenAt = parseMptcpUrl('mptcp://127.0.0.1:0?mptcp=required');
    const server = createServer({ mptcp: listenAt.mptcp }, (s) => s.end('via url'));
    await new Promise<void>((resolve) => server.listen(listenAt, resolve));
    try {
      const url = formatMptcpUrl({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
      const socket = connect(parseMptcpUrl(url));
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d));
      await new Promise((resolve) => socket.on('end', resolve));
      expect([server.mptcp, socket.mptcp, text]).toEqual([true, true, 'via url']);
    } finally {
      server.close();
    }
  });
});
