// The endpoint URL form the apps use: `mptcp://host:port` (MPTCP preferred) and `tcp://host:port?mptcp=true`
// (GOST's `?mptcp=true` spelling). `?mptcp=required` makes MPTCP mandatory, `?mptcp=false` turns it off. IPv6 hosts
// go in brackets; an empty host (`mptcp://:8080`) means "all addresses" for a listener.
import net from 'node:net';
import type { MptcpMode } from './errors.js';

export interface MptcpEndpoint {
  scheme: 'mptcp' | 'tcp';
  /** Without brackets; undefined when the URL has no host. */
  host: string | undefined;
  port: number;
  mptcp: MptcpMode;
}

const FORM = /^(mptcp|tcp):\/\/(\[[^\]]*\]|[^/?#:@[\]]*)(?::(\d*))?\/?(?:\?([^#]*))?$/i;

function parseMode(value: string, url: string): MptcpMode {
  switch (value.toLowerCase()) {
    case '':
    case '1':
    case 'true':
    case 'on':
    case 'yes':
      return true;
    case '0':
    case 'false':
    case 'off':
    case 'no':
      return false;
    case 'required':
    case 'require':
    case 'force':
      return 'required';
    default:
      throw new TypeError(`invalid mptcp=${value} in ${url} (use true, false or required)`);
  }
}

/**
 * Parses `mptcp://host:port[?mptcp=required]` or `tcp://host:port[?mptcp=true|required]`. The result works as
 * options for `connect()` and for `server.listen()` (and its `mptcp` for `createServer({ mptcp })`).
 * Throws TypeError on anything else; other query parameters are ignored, like GOST does.
 */
export function parseMptcpUrl(input: string | URL): MptcpEndpoint {
  const url = String(input).trim();
  const m = FORM.exec(url);
  if (m === null) throw new TypeError(`not an mptcp:// or tcp:// URL: ${url}`);
  const scheme = (m[1] as string).toLowerCase() as 'mptcp' | 'tcp';
  let host: string | undefined = m[2] ?? '';
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (!net.isIPv6(host)) throw new TypeError(`invalid IPv6 address [${host}] in ${url}`);
  } else if (host === '') {
    host = undefined;
  } else if (net.isIPv6(host)) {
    throw new TypeError(`IPv6 addresses need brackets: ${url}`);
  }
  const portText = m[3];
  if (portText === undefined || portText === '') throw new TypeError(`missing port in ${url}`);
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535) throw new TypeError(`invalid port ${portText} in ${url}`);
  let mptcp: MptcpMode = scheme === 'mptcp';
  for (const [key, value] of new URLSearchParams(m[4] ?? '')) if (key.toLowerCase() === 'mptcp') mptcp = parseMode(value, url);
  return { scheme, host, port, mptcp };
}

/** The inverse: `mptcp://[::1]:443`, `mptcp://host:80?mptcp=required`, `tcp://host:80`. */
export function formatMptcpUrl(endpoint: { host?: string | undefined; port: number; mptcp?: MptcpMode }): string {
  const host = endpoint.host === undefined ? '' : net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host;
  const mode = endpoint.mptcp ?? true;
  if (mode === false) return `tcp://${host}:${endpoint.port}`;
  return `mptcp://${host}:${endpoint.port}${mode === 'required' ? '?mptcp=required' : ''}`;
}
