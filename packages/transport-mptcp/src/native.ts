// Loads the N-API addon (native/mptcp.c) lazily and once. Everything that can fail here (not Linux, no compiler at
// install time, a broken build) turns into a fallback reason instead of an exception, so importing this package
// never throws and plain TCP keeps working.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';

/** The addon's functions; each returns a number that is -errno on failure. */
export interface NativeBinding {
  socket(family: 4 | 6): number;
  bind(fd: number, family: 4 | 6, address: string, port: number, ipv6Only: boolean): number;
  getsockopt(fd: number, level: number, optname: number, buffer: Buffer): number;
  fullInfo(fd: number, header: Buffer, subflows: Buffer, tcpInfos: Buffer): number;
  close(fd: number): number;
}

/** include/uapi/linux/in.h: the protocol number of Multipath TCP (RFC 8684). */
export const IPPROTO_MPTCP = 262;
/** include/linux/socket.h: the socket-option level of MPTCP. */
export const SOL_MPTCP = 284;
/** include/uapi/linux/mptcp.h socket options at SOL_MPTCP. */
export const MPTCP_INFO = 1;
export const MPTCP_TCPINFO = 2;
export const MPTCP_SUBFLOW_ADDRS = 3;
export const MPTCP_FULL_INFO = 4;

export type NativeState = { binding: NativeBinding; error: null } | { binding: null; error: 'platform' | 'addon'; detail: string };

let state: NativeState | undefined;

/** Candidate addon paths: an explicit override, then the node-gyp output next to src/ or dist/. */
function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const override = process.env['PATHQUIC_MPTCP_ADDON'];
  if (override !== undefined && override !== '') return [override];
  return [join(here, '..', 'build', 'Release', 'mptcp.node'), join(here, 'mptcp.node')];
}

export function loadNative(): NativeState {
  if (state !== undefined) return state;
  if (process.platform !== 'linux') {
    state = { binding: null, error: 'platform', detail: `Multipath TCP sockets need Linux, this is ${process.platform}` };
    return state;
  }
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of candidates()) {
    if (!existsSync(path)) {
      tried.push(`${path}: missing`);
      continue;
    }
    try {
      state = { binding: require(path) as NativeBinding, error: null };
      return state;
    } catch (err) {
      tried.push(`${path}: ${(err as Error).message}`);
    }
  }
  state = { binding: null, error: 'addon', detail: `native addon not loaded (${tried.join('; ')})` };
  return state;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

/** 'ENOPROTOOPT' for 92 on Linux. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** An Error shaped like node:net's system errors: `bind EADDRINUSE: address already in use 127.0.0.1:80`. */
export function systemError(errno: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException {
  const code = errnoName(errno);
  const text = getSystemErrorMap().get(-errno)?.[1] ?? code;
  const where = address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err: NodeJS.ErrnoException & { address?: string; port?: number } = new Error(`${syscall} ${code}: ${text}${where}`);
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/** The file descriptor behind a net.Socket or net.Server, or -1 (closed, not yet connected, not a socket). */
export function fdOf(target: object): number {
  const handle = (target as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}
