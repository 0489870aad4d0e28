import { describe, expect, it } from 'vitest';
import {
  CidConfigError,
  CidRouter,
  LoadBalancerCidGenerator,
  LoadBalancerDecoder,
  LocalCidIssuer,
  StatelessResetKey,
} from '../src/index.js';
import { hex, seededRandom } from './helpers.js';

function longHeader(dcid: Uint8Array, scid = hex('0a0b0c0d')): Uint8Array {
  return Uint8Array.from([0xc3, 0, 0, 0, 1, dcid.length, ...dcid, scid.length, ...scid, 0, 0x40, 0x15, ...new Uint8Array(30)]);
}
function shortHeader(dcid: Uint8Array, payload = 30): Uint8Array {
  return Uint8Array.from([0x41, ...dcid, ...new Uint8Array(payload)]);
}

describe('CidRouter', () => {
  const cidA = hex('0101010101010101');
  const cidB = hex('0202020202020202');

  it('routes short headers by the configured CID length and long headers by their DCID length (RFC 8999 §5)', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.add(cidA, 'A');
    r.add(cidB, 'B');
    r.add(hex('99887766554433221100'), 'client-initial-dcid'); // a 10-byte client-chosen DCID
    expect(r.route(shortHeader(cidA), 'x')).toBe('A');
    expect(r.route(shortHeader(cidB), 'x')).toBe('B');
    expect(r.route(longHeader(cidA), 'x')).toBe('A');
    expect(r.route(longHeader(hex('99887766554433221100')), 'x')).toBe('client-initial-dcid');
    expect(r.route(shortHeader(hex('0303030303030303')), 'x')).toBeUndefined();
    expect(r.size).toBe(3);
  });

  it('returns undefined for datagrams too short to hold the DCID, and for DCIDs longer than 20 bytes', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.add(cidA, 'A');
    expect(r.route(new Uint8Array(0), 'x')).toBeUndefined();
    expect(r.route(shortHeader(cidA).subarray(0, 8), 'x')).toBeUndefined();
    expect(r.route(shortHeader(cidA, 0), 'x')).toBe('A');
    expect(r.route(longHeader(cidA).subarray(0, 5), 'x')).toBeUndefined();
    expect(r.route(longHeader(cidA).subarray(0, 10), 'x')).toBeUndefined();
    const long21 = Uint8Array.from([0xc0, 0, 0, 0, 1, 21, ...new Uint8Array(40)]);
    expect(r.route(long21, 'x')).toBeUndefined();
  });

  it('routes zero-length DCIDs by address', () => {
    const r = new CidRouter<string>({ localCidLength: 0, random: seededRandom() });
    r.addAddress('192.0.2.1:443', 'C');
    expect(r.route(shortHeader(new Uint8Array(0)), '192.0.2.1:443')).toBe('C');
    expect(r.route(longHeader(new Uint8Array(0)), '192.0.2.1:443')).toBe('C');
    expect(r.route(shortHeader(new Uint8Array(0)), '192.0.2.2:443')).toBeUndefined();
    expect(r.getAddress('192.0.2.1:443')).toBe('C');
    expect(r.addressCount).toBe(1);
    expect(r.removeAddress('192.0.2.1:443', 'other')).toBe(false);
    expect(r.removeAddress('192.0.2.1:443', 'C')).toBe(true);
    expect(r.route(shortHeader(new Uint8Array(0)), '192.0.2.1:443')).toBeUndefined();
  });

  it('an endpoint with CIDs still routes long headers with an empty DCID by address (client using zero-length SCID)', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.addAddress('a', 'Z');
    expect(r.route(longHeader(new Uint8Array(0)), 'a')).toBe('Z');
  });

  it('refuses ambiguous routes and bad CIDs, allows idempotent adds', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.add(cidA, 'A');
    r.add(cidA, 'A');
    expect(() => r.add(cidA, 'B')).toThrow(CidConfigError);
    expect(() => r.add(new Uint8Array(0), 'A')).toThrow(CidConfigError);
    expect(() => r.add(new Uint8Array(21), 'A')).toThrow(CidConfigError);
    r.addAddress('a', 'A');
    expect(() => r.addAddress('a', 'B')).toThrow(CidConfigError);
    expect(() => new CidRouter({ localCidLength: 21 })).toThrow(CidConfigError);
    expect(() => new CidRouter({ localCidLength: -1 })).toThrow(CidConfigError);
  });

  it('remove(cid, value) only removes a route to that value', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.add(cidA, 'A');
    expect(r.remove(cidA, 'B')).toBe(false);
    expect(r.has(cidA)).toBe(true);
    expect(r.remove(cidA, 'A')).toBe(true);
    expect(r.remove(cidA)).toBe(false);
    expect(r.get(cidA)).toBeUndefined();
  });

  it('follows a LocalCidIssuer through its events, including retirement and rotation', () => {
    const router = new CidRouter<string>({ localCidLength: 8, random: seededRandom(1) });
    const issuer = new LocalCidIssuer({ random: seededRandom(2), isCidInUse: (c) => router.has(c) });
    router.applyEvents(issuer.pollEvents(), 'conn');
    const seq0 = issuer.handshakeCid!.connectionId;
    expect(router.route(longHeader(seq0), 'x')).toBe('conn');
    issuer.setPeerActiveConnectionIdLimit(4);
    router.applyEvents(issuer.pollEvents(), 'conn');
    expect(router.size).toBe(4);
    const frames = issuer.pollFrames();
    for (const f of frames) expect(router.route(shortHeader(f.connectionId), 'x')).toBe('conn');
    issuer.onRetire(0, frames[0]!.connectionId);
    router.applyEvents(issuer.pollEvents(), 'conn');
    expect(router.route(shortHeader(seq0), 'x')).toBeUndefined();
    expect(router.size).toBe(4); // a replacement was issued
    issuer.discard();
    router.applyEvents(issuer.pollEvents(), 'conn');
    expect(router.size).toBe(0);
  });

  it('routes load-balancer CIDs like any other, and the load balancer finds the server in the same datagram', () => {
    const router = new CidRouter<string>({ localCidLength: 9, random: seededRandom(1) });
    const generator = new LoadBalancerCidGenerator({ configId: 1, serverId: hex('beef'), nonceLength: 6 }, seededRandom(3));
    const issuer = new LocalCidIssuer({ generator, resetKey: new StatelessResetKey(new Uint8Array(32).fill(1)) });
    router.applyEvents(issuer.pollEvents(), 'conn');
    const datagram = shortHeader(issuer.handshakeCid!.connectionId);
    expect(router.route(datagram, 'x')).toBe('conn');
    const lb = new LoadBalancerDecoder([{ configId: 1, serverIdLength: 2, nonceLength: 6 }]);
    expect(lb.decodeDatagram(datagram)).toEqual({ configId: 1, serverId: hex('beef') });
  });

  it('clear() forgets everything', () => {
    const r = new CidRouter<string>({ localCidLength: 8, random: seededRandom() });
    r.add(cidA, 'A');
    r.addAddress('a', 'A');
    r.clear();
    expect(r.size + r.addressCount).toBe(0);
  });
});
