// The parsers behind getMptcpInfo, on hand-made kernel structs: the full 6.18 struct mptcp_info and the shorter ones
// of older kernels (the kernel copies min(our length, its size) and returns that length).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { getMptcpInfo } from '../src/index.js';
import { parseMptcpInfo, parseSockaddr, parseTcpInfo } from '../src/info.js';

function mptcpInfo96(): Buffer {
  const b = Buffer.alloc(96);
  b.writeUInt8(1, 0); // subflows (extra)
  b.writeUInt8(2, 1); // add_addr_signal
  b.writeUInt8(3, 2); // add_addr_accepted
  b.writeUInt8(4, 3); // subflows_max
  b.writeUInt8(5, 4);
  b.writeUInt8(6, 5);
  b.writeUInt32LE(2, 8); // flags: REMOTE_KEY_RECEIVED
  b.writeUInt32LE(0xdeadbeef, 12); // token
  b.writeBigUInt64LE(0xfedcba9876543210n, 16); // write_seq
  b.writeBigUInt64LE(11n, 24);
  b.writeBigUInt64LE(12n, 32);
  b.writeUInt8(7, 40); // local_addr_used
  b.writeUInt8(8, 41); // local_addr_max
  b.writeUInt8(1, 42); // csum_enabled
  b.writeUInt32LE(13, 44); // retransmits
  b.writeBigUInt64LE(14n, 48); // bytes_retrans
  b.writeBigUInt64LE(15n, 56); // bytes_sent
  b.writeBigUInt64LE(16n, 64); // bytes_received
  b.writeBigUInt64LE(17n, 72); // bytes_acked
  b.writeUInt8(2, 80); // subflows_total
  b.writeUInt32LE(18, 84); // last_data_sent
  b.writeUInt32LE(19, 88);
  b.writeUInt32LE(20, 92);
  return b;
}

describe('parseMptcpInfo', () => {
  it('reads every field of the Linux 6.10+ struct (96 bytes)', () => {
    expect(parseMptcpInfo(mptcpInfo96(), 96)).toEqual({
      length: 96,
      subflows: 1,
      addAddrSignal: 2,
      addAddrAccepted: 3,
      subflowsMax: 4,
      addAddrSignalMax: 5,
      addAddrAcceptedMax: 6,
      flags: 2,
      fallback: false,
      remoteKeyReceived: true,
      token: 0xdeadbeef,
      writeSeq: 0xfedcba9876543210n,
      sndUna: 11n,
      rcvNxt: 12n,
      localAddrUsed: 7,
      localAddrMax: 8,
      csumEnabled: true,
      retransmits: 13,
      bytesRetrans: 14,
      bytesSent: 15,
      bytesReceived: 16,
      bytesAcked: 17,
      subflowsTotal: 2,
      lastDataSent: 18,
      lastDataRecv: 19,
      lastAckRecv: 20,
    });
  });

  it.each([
    [40, [], ['localAddrUsed', 'bytesSent', 'subflowsTotal']],
    // 5.13's struct is 48 bytes: bytes 44-47 are its padding, not yet the 6.5 retransmits counter
    [48, ['localAddrUsed', 'localAddrMax', 'csumEnabled'], ['retransmits', 'bytesSent']],
    [80, ['retransmits', 'bytesRetrans', 'bytesSent', 'bytesReceived', 'bytesAcked'], ['subflowsTotal', 'lastDataSent']],
    [88, ['subflowsTotal'], ['lastDataSent']],
  ])('a %i-byte struct from an older kernel has only the fields it covers', (length, present, absent) => {
    const info = parseMptcpInfo(mptcpInfo96(), length);
    expect(info.length).toBe(length);
    expect(info.token).toBe(0xdeadbeef);
    for (const key of present) expect(info).toHaveProperty(key);
    for (const key of absent) expect(info).not.toHaveProperty(key);
  });

  it('decodes the fallback flag and refuses structs shorter than the first kernel version', () => {
    const b = mptcpInfo96();
    b.writeUInt32LE(1, 8);
    expect(parseMptcpInfo(b, 96)).toMatchObject({ fallback: true, remoteKeyReceived: false });
    expect(() => parseMptcpInfo(b, 39)).toThrow(RangeError);
  });
});

describe('parseSockaddr', () => {
  function v6(address: number[], port: number): Buffer {
    const b = Buffer.alloc(128);
    b.writeUInt16LE(10, 0);
    b.writeUInt16BE(port, 2);
    for (let i = 0; i < 8; i++) b.writeUInt16BE(address[i] ?? 0, 8 + 2 * i);
    return b;
  }

  it('reads sockaddr_in', () => {
    const b = Buffer.alloc(128);
    b.writeUInt16LE(2, 0);
    b.writeUInt16BE(443, 2);
    Buffer.from([192, 0, 2, 7]).copy(b, 4);
    expect(parseSockaddr(b, 0)).toEqual({ family: 'IPv4', address: '192.0.2.7', port: 443 });
  });

  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0xdb8, 1, 0, 1, 1, 1, 1], '2001:db8:1:0:1:1:1:1'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], '::ffff:127.0.0.1'],
  ])('reads sockaddr_in6 %j as %s (RFC 5952)', (groups, text) => {
    expect(parseSockaddr(v6(groups, 8080), 0)).toEqual({ family: 'IPv6', address: text, port: 8080 });
    expect(net.isIPv6(text)).toBe(true);
  });

  it('gives null for an empty (AF_UNSPEC) or cut-off sockaddr', () => {
    expect(parseSockaddr(Buffer.alloc(128), 0)).toBeNull();
    expect(parseSockaddr(Buffer.alloc(20), 0)).toBeNull();
  });
});

describe('parseTcpInfo', () => {
  it('reads the essentials and skips fields beyond the length', () => {
    const b = Buffer.alloc(232);
    b.writeUInt8(1, 0);
    b.writeUInt32LE(200_000, 8); // rto
    b.writeUInt32LE(1448, 16); // snd_mss
    b.writeUInt32LE(1500, 60); // pmtu
    b.writeUInt32LE(321, 68); // rtt
    b.writeUInt32LE(10, 80); // snd_cwnd
    b.writeBigUInt64LE(123456n, 120); // bytes_acked
    b.writeBigUInt64LE(654321n, 200); // bytes_sent
    expect(parseTcpInfo(b, 232)).toMatchObject({ state: 'ESTABLISHED', rto: 200_000, sndMss: 1448, pmtu: 1500, rtt: 321, sndCwnd: 10, bytesAcked: 123456, bytesSent: 654321 });
    const short = parseTcpInfo(b, 120);
    expect(short).not.toHaveProperty('bytesAcked');
    expect(short).toHaveProperty('pacingRate');
    expect(parseTcpInfo(b, 100)).toBeNull();
  });
});

describe('getMptcpInfo', () => {
  it('is null for sockets without a descriptor and for plain TCP', async () => {
    expect(getMptcpInfo(new net.Socket())).toBeNull();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(getMptcpInfo(server)).toBeNull();
    server.close();
  });
});
