// MPTCP introspection: struct mptcp_info (MPTCP_INFO), and per subflow the addresses and struct tcp_info
// (MPTCP_FULL_INFO on Linux 6.5+, else MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS on 5.16+). Layouts follow
// include/uapi/linux/mptcp.h and include/uapi/linux/tcp.h; the kernel copies min(our length, its struct size) and
// says how much, so every field is read only when the returned length covers it (older kernels have shorter structs).
import { SocketAddress, type Server, type Socket } from 'node:net';
import { IPPROTO_MPTCP, MPTCP_INFO, MPTCP_SUBFLOW_ADDRS, MPTCP_TCPINFO, SOL_MPTCP, fdOf, loadNative } from './native.js';
import type { NativeBinding } from './native.js';

/** include/uapi/asm-generic/socket.h */
const SOL_SOCKET = 1;
const SO_PROTOCOL = 38;
/** include/uapi/linux/in.h */
const SOL_TCP = 6;
const TCP_INFO = 11;

/** MPTCP_INFO_FLAG_* of include/uapi/linux/mptcp.h. */
export const MPTCP_INFO_FLAG_FALLBACK = 1;
export const MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED = 2;

/** Room for struct mptcp_info (96 bytes on 6.18) and for growth in later kernels. */
const INFO_ROOM = 160;
/** offsetof(struct mptcp_full_info, mptcp_info) */
const FULL_INFO_HEADER = 40;
/** sizeof(struct mptcp_subflow_info) on x86-64/arm64: __u32 id, padding, two 128-byte sockaddr_storage unions. */
const SUBFLOW_INFO_ROOM = 264;
const SUBFLOW_ADDRS_ROOM = 256;
/** sizeof(struct tcp_info) is 232 to 280 bytes depending on the kernel; ask for more, the kernel trims. */
const TCP_INFO_ROOM = 320;
/** sizeof(struct mptcp_subflow_data) */
const SUBFLOW_DATA_HEADER = 16;

/** struct mptcp_info, parsed. Counters that the running kernel does not report are undefined. */
export interface MptcpInfo {
  /** Bytes the kernel returned (96 on Linux 6.10+; 40 on 5.x). */
  length: number;
  /** mptcpi_subflows: subflows beyond the initial one. */
  subflows: number;
  addAddrSignal: number;
  addAddrAccepted: number;
  /** mptcpi_subflows_max: the `ip mptcp limits … subflows` in force for this connection. */
  subflowsMax: number;
  addAddrSignalMax: number;
  addAddrAcceptedMax: number;
  flags: number;
  /** MPTCP_INFO_FLAG_FALLBACK: the connection runs as plain TCP. */
  fallback: boolean;
  /** MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED: the MP_CAPABLE handshake completed. */
  remoteKeyReceived: boolean;
  /** The local connection token (RFC 8684 §3.2), 0 before the handshake. */
  token: number;
  /** Data sequence numbers (64-bit, random start). */
  writeSeq: bigint;
  sndUna: bigint;
  rcvNxt: bigint;
  localAddrUsed?: number;
  localAddrMax?: number;
  csumEnabled?: boolean;
  retransmits?: number;
  bytesRetrans?: number;
  bytesSent?: number;
  bytesReceived?: number;
  bytesAcked?: number;
  /** All subflows including the initial one (Linux 6.6+). */
  subflowsTotal?: number;
  /** Milliseconds since the last data sent / received / ack received (Linux 6.10+). */
  lastDataSent?: number;
  lastDataRecv?: number;
  lastAckRecv?: number;
  /** Per subflow, when the kernel can tell (MPTCP_FULL_INFO, or MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS). */
  subflowDetails?: MptcpSubflowInfo[];
}

export interface SubflowAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
}

/** The essentials of struct tcp_info for one subflow. Times in microseconds, rates in bytes per second. */
export interface SubflowTcpInfo {
  state: string;
  rto: number;
  rtt: number;
  rttVar: number;
  minRtt?: number;
  sndMss: number;
  sndCwnd: number;
  sndSsthresh: number;
  pmtu: number;
  unacked: number;
  lost: number;
  retrans: number;
  totalRetrans: number;
  pacingRate?: number;
  deliveryRate?: number;
  bytesAcked?: number;
  bytesReceived?: number;
  bytesSent?: number;
  bytesRetrans?: number;
  segsOut?: number;
  segsIn?: number;
}

export interface MptcpSubflowInfo {
  /** The kernel's subflow id (MPTCP_FULL_INFO only; null with the older options). */
  id: number | null;
  local: SubflowAddress | null;
  remote: SubflowAddress | null;
  tcp: SubflowTcpInfo | null;
}

export interface GetMptcpInfoOptions {
  /** Also read per-subflow addresses and TCP info (default true). */
  subflows?: boolean;
}

/** include/net/tcp_states.h */
const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];

function u8(b: Buffer, len: number, off: number): number | undefined {
  return off + 1 <= len ? b.readUInt8(off) : undefined;
}
function u32(b: Buffer, len: number, off: number): number | undefined {
  return off + 4 <= len ? b.readUInt32LE(off) : undefined;
}
function u64(b: Buffer, len: number, off: number): number | undefined {
  return off + 8 <= len ? Number(b.readBigUInt64LE(off)) : undefined;
}

/** Parses struct mptcp_info from `buf[0, length)`; exported for tests of short (old-kernel) structs. */
export function parseMptcpInfo(buf: Buffer, length: number): MptcpInfo {
  const len = Math.min(length, buf.length);
  if (len < 40) throw new RangeError(`struct mptcp_info needs at least 40 bytes, got ${len}`);
  const flags = buf.readUInt32LE(8);
  const info: MptcpInfo = {
    length: len,
    subflows: buf.readUInt8(0),
    addAddrSignal: buf.readUInt8(1),
    addAddrAccepted: buf.readUInt8(2),
    subflowsMax: buf.readUInt8(3),
    addAddrSignalMax: buf.readUInt8(4),
    addAddrAcceptedMax: buf.readUInt8(5),
    // offsets 6-7: a 16-bit hole in the kernel struct
    flags,
    fallback: (flags & MPTCP_INFO_FLAG_FALLBACK) !== 0,
    remoteKeyReceived: (flags & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED) !== 0,
    token: buf.readUInt32LE(12),
    writeSeq: buf.readBigUInt64LE(16),
    sndUna: buf.readBigUInt64LE(24),
    rcvNxt: buf.readBigUInt64LE(32),
  };
  // The struct grew in steps, each padded to 8 bytes, so a field counts only when the length reaches the size of
  // the struct version that introduced it (padding of an older struct reads as zeros, not as a counter).
  const at = (size: number, read: () => number | undefined): number | undefined => (len >= size ? read() : undefined);
  const optional: Partial<MptcpInfo> = {
    // 48 bytes (Linux 5.13+)
    localAddrUsed: at(48, () => u8(buf, len, 40)),
    localAddrMax: at(48, () => u8(buf, len, 41)),
    csumEnabled: len >= 48 ? buf.readUInt8(42) !== 0 : undefined,
    // offset 43: an 8-bit hole; 80 bytes (Linux 6.5+)
    retransmits: at(80, () => u32(buf, len, 44)),
    bytesRetrans: at(80, () => u64(buf, len, 48)),
    bytesSent: at(80, () => u64(buf, len, 56)),
    bytesReceived: at(80, () => u64(buf, len, 64)),
    bytesAcked: at(80, () => u64(buf, len, 72)),
    // 88 bytes (Linux 6.6+); 81 is an endpoint limit whose name changed between releases, 82-83 reserved
    subflowsTotal: at(88, () => u8(buf, len, 80)),
    // 96 bytes (Linux 6.10+)
    lastDataSent: at(96, () => u32(buf, len, 84)),
    lastDataRecv: at(96, () => u32(buf, len, 88)),
    lastAckRecv: at(96, () => u32(buf, len, 92)),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value;
  return info;
}

/** Parses the essentials of struct tcp_info (include/uapi/linux/tcp.h) from `buf[0, length)`. */
export function parseTcpInfo(buf: Buffer, length: number): SubflowTcpInfo | null {
  const len = Math.min(length, buf.length);
  if (len < 104) return null;
  const state = buf.readUInt8(0);
  const info: SubflowTcpInfo = {
    state: TCP_STATES[state] ?? String(state),
    rto: buf.readUInt32LE(8),
    sndMss: buf.readUInt32LE(16),
    unacked: buf.readUInt32LE(24),
    lost: buf.readUInt32LE(32),
    retrans: buf.readUInt32LE(36),
    pmtu: buf.readUInt32LE(60),
    rtt: buf.readUInt32LE(68),
    rttVar: buf.readUInt32LE(72),
    sndSsthresh: buf.readUInt32LE(76),
    sndCwnd: buf.readUInt32LE(80),
    totalRetrans: buf.readUInt32LE(100),
  };
  const optional: Partial<SubflowTcpInfo> = {
    pacingRate: u64(buf, len, 104),
    bytesAcked: u64(buf, len, 120),
    bytesReceived: u64(buf, len, 128),
    segsOut: u32(buf, len, 136),
    segsIn: u32(buf, len, 140),
    minRtt: u32(buf, len, 148),
    deliveryRate: u64(buf, len, 160),
    bytesSent: u64(buf, len, 200),
    bytesRetrans: u64(buf, len, 208),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value;
  return info;
}

/** RFC 5952 text, as node:net prints addresses (inet_ntop: "::ffff:a.b.c.d" for IPv4-mapped ones). */
function formatIPv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Parses a struct sockaddr_in / sockaddr_in6 stored in a 128-byte sockaddr_storage. */
export function parseSockaddr(buf: Buffer, offset: number): SubflowAddress | null {
  if (offset + 28 > buf.length) return null;
  const family = buf.readUInt16LE(offset);
  const port = buf.readUInt16BE(offset + 2);
  if (family === 2) return { family: 'IPv4', address: `${buf[offset + 4]}.${buf[offset + 5]}.${buf[offset + 6]}.${buf[offset + 7]}`, port };
  if (family === 10) return { family: 'IPv6', address: formatIPv6(buf.subarray(offset + 8, offset + 24)), port };
  return null;
}

function readFullInfo(binding: NativeBinding, fd: number, info: MptcpInfo): boolean {
  let capacity = Math.max(4, (info.subflowsTotal ?? info.subflows + 1) + 2);
  for (let attempt = 0; attempt < 3; attempt++) {
    const header = Buffer.alloc(FULL_INFO_HEADER + INFO_ROOM);
    const subflows = Buffer.alloc(capacity * SUBFLOW_INFO_ROOM);
    const tcp = Buffer.alloc(capacity * TCP_INFO_ROOM);
    header.writeUInt32LE(TCP_INFO_ROOM, 4); // size_tcpinfo_user
    header.writeUInt32LE(SUBFLOW_INFO_ROOM, 12); // size_sfinfo_user
    header.writeUInt32LE(capacity, 20); // size_arrays_user
    const n = binding.fullInfo(fd, header, subflows, tcp);
    if (n < FULL_INFO_HEADER) return false;
    const tcpStride = header.readUInt32LE(4);
    const sfStride = header.readUInt32LE(12);
    const count = header.readUInt32LE(16);
    if (count > capacity) {
      capacity = count + 2;
      continue;
    }
    const details: MptcpSubflowInfo[] = [];
    for (let i = 0; i < count; i++) {
      const sf = subflows.subarray(i * sfStride, (i + 1) * sfStride);
      // struct mptcp_subflow_info: __u32 id, then struct mptcp_subflow_addrs aligned to 8
      details.push({
        id: sf.readUInt32LE(0),
        local: parseSockaddr(sf, 8),
        remote: parseSockaddr(sf, 8 + 128),
        tcp: tcpStride > 0 ? parseTcpInfo(tcp.subarray(i * tcpStride, (i + 1) * tcpStride), tcpStride) : null,
      });
    }
    info.subflowDetails = details;
    return true;
  }
  return false;
}

/** MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS: arrays after a struct mptcp_subflow_data header (Linux 5.16+). */
function readSubflowArray(binding: NativeBinding, fd: number, optname: number, room: number, capacity: number): { count: number; stride: number; data: Buffer } | null {
  const buf = Buffer.alloc(SUBFLOW_DATA_HEADER + capacity * room);
  buf.writeUInt32LE(SUBFLOW_DATA_HEADER, 0); // size_subflow_data
  buf.writeUInt32LE(room, 12); // size_user
  const n = binding.getsockopt(fd, SOL_MPTCP, optname, buf);
  if (n < SUBFLOW_DATA_HEADER) return null;
  return { count: buf.readUInt32LE(4), stride: buf.readUInt32LE(12), data: buf.subarray(SUBFLOW_DATA_HEADER) };
}

function readSubflowsOld(binding: NativeBinding, fd: number, info: MptcpInfo): void {
  const capacity = Math.max(8, info.subflows + 3);
  const tcp = readSubflowArray(binding, fd, MPTCP_TCPINFO, TCP_INFO_ROOM, capacity);
  const addrs = readSubflowArray(binding, fd, MPTCP_SUBFLOW_ADDRS, SUBFLOW_ADDRS_ROOM, capacity);
  if (tcp === null && addrs === null) return;
  const count = Math.min(capacity, Math.max(tcp?.count ?? 0, addrs?.count ?? 0));
  const details: MptcpSubflowInfo[] = [];
  for (let i = 0; i < count; i++) {
    const a = addrs !== null && i < addrs.count ? addrs.data.subarray(i * addrs.stride, (i + 1) * addrs.stride) : null;
    const t = tcp !== null && i < tcp.count ? tcp.data.subarray(i * tcp.stride, (i + 1) * tcp.stride) : null;
    details.push({
      id: null,
      local: a === null ? null : parseSockaddr(a, 0),
      remote: a === null ? null : parseSockaddr(a, 128),
      tcp: t === null ? null : parseTcpInfo(t, t.length),
    });
  }
  info.subflowDetails = details;
}

function rawMptcpInfo(binding: NativeBinding, fd: number): MptcpInfo | null {
  const buf = Buffer.alloc(INFO_ROOM);
  const n = binding.getsockopt(fd, SOL_MPTCP, MPTCP_INFO, buf);
  // EOPNOTSUPP: a plain TCP socket, or an MPTCP socket that fell back (the kernel then routes SOL_MPTCP to TCP)
  if (n < 40) return null;
  return parseMptcpInfo(buf, n);
}

/**
 * MPTCP state of a connected socket (or a listening server): struct mptcp_info plus, unless `subflows: false`, the
 * addresses and TCP info of each subflow. Null when the socket is plain TCP, fell back to TCP, or is closed.
 */
export function getMptcpInfo(target: Socket | Server, options: GetMptcpInfoOptions = {}): MptcpInfo | null {
  const { binding } = loadNative();
  const fd = fdOf(target);
  if (binding === null || fd < 0) return null;
  const info = rawMptcpInfo(binding, fd);
  if (info === null || info.fallback) return null;
  if (options.subflows !== false && !readFullInfo(binding, fd, info)) readSubflowsOld(binding, fd, info);
  return info;
}

/** Whether the descriptor was created with IPPROTO_MPTCP (true even when the connection later fell back). */
export function isMptcpSocketFd(fd: number): boolean {
  const { binding } = loadNative();
  if (binding === null || fd < 0) return false;
  const buf = Buffer.alloc(4);
  return binding.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, buf) === 4 && buf.readInt32LE(0) === IPPROTO_MPTCP;
}

/** Whether a connected descriptor currently runs MPTCP (not fallen back). */
export function runsMptcp(fd: number): boolean {
  const { binding } = loadNative();
  if (binding === null || fd < 0) return false;
  const info = rawMptcpInfo(binding, fd);
  return info !== null && !info.fallback;
}

/** struct tcp_info of a plain TCP socket (or of the remaining subflow of a fallen-back one). */
export function getTcpInfo(target: Socket): SubflowTcpInfo | null {
  const { binding } = loadNative();
  const fd = fdOf(target);
  if (binding === null || fd < 0) return null;
  const buf = Buffer.alloc(TCP_INFO_ROOM);
  const n = binding.getsockopt(fd, SOL_TCP, TCP_INFO, buf);
  return n < 0 ? null : parseTcpInfo(buf, n);
}
