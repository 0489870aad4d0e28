// `pnpm bench` for @pathquic/cid-manager: endpoint demultiplexing, the per-datagram hot path of this package.
//
// 10,000 connections with 4 active 8-byte CIDs each (40,000 routes); 4,096 pre-built 1200-byte short-header datagrams
// addressed to random CIDs among them. Measured in the same run, interleaved:
// - CidRouter.route: DCID looked up in place in the tabulation-hashed table (no allocation);
// - Map<string, T> keyed by hex: peekDestinationConnectionId + hex string + Map.get, the naive baseline;
// - Map<string, T> keyed by latin1: the same with a one-char-per-byte string (the cheaper string key);
// plus the miss path (unknown CIDs) and, for scale, stateless reset token derivation (HMAC-SHA256).
// Last line: one JSON object of the figures.
import { peekDestinationConnectionId } from '@pathquic/wire-codec';
import { CidRouter, StatelessResetKey, defaultRandom, toHex } from '../src/index.js';
import { measureInterleaved, printTable, type BenchCase } from '@pathquic/bench-harness';

const CONNECTIONS = 10_000;
const CIDS_PER_CONNECTION = 4;
const CID_LENGTH = 8;
const DATAGRAMS = 4096;
const DATAGRAM_SIZE = 1200;

interface Connection {
  id: number;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const router = new CidRouter<Connection>({ localCidLength: CID_LENGTH, initialCapacity: CONNECTIONS * CIDS_PER_CONNECTION });
const hexMap = new Map<string, Connection>();
const latin1Map = new Map<string, Connection>();
const cids: Uint8Array[] = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const conn = { id: i };
  for (let j = 0; j < CIDS_PER_CONNECTION; j++) {
    let cid = defaultRandom(CID_LENGTH);
    while (router.has(cid)) cid = defaultRandom(CID_LENGTH);
    router.add(cid, conn);
    hexMap.set(toHex(cid), conn);
    latin1Map.set(latin1(cid), conn);
    cids.push(cid);
  }
}

function shortHeaderDatagram(dcid: Uint8Array): Uint8Array {
  const d = defaultRandom(DATAGRAM_SIZE);
  d[0] = 0x40 | (d[0]! & 0x3f); // RFC 9000 §17.3: header form 0, fixed bit 1
  d.set(dcid, 1);
  return d;
}

const hits = Array.from({ length: DATAGRAMS }, () => shortHeaderDatagram(cids[Math.floor(Math.random() * cids.length)]!));
const misses = Array.from({ length: DATAGRAMS }, () => shortHeaderDatagram(defaultRandom(CID_LENGTH)));
const ADDRESS = '198.51.100.7:443';

// Sanity: every variant finds the same connection for every datagram, and misses miss.
for (const d of hits) {
  const dcid = peekDestinationConnectionId(d, CID_LENGTH)!;
  const expected = router.route(d, ADDRESS);
  if (expected === undefined || hexMap.get(toHex(dcid)) !== expected || latin1Map.get(latin1(dcid)) !== expected) {
    throw new Error('routing variants disagree');
  }
}
if (misses.some((d) => router.route(d, ADDRESS) !== undefined)) throw new Error('a random CID was routed');

let sink = 0;
function routeAll(datagrams: Uint8Array[], route: (d: Uint8Array) => Connection | undefined): () => void {
  return () => {
    for (let i = 0; i < datagrams.length; i++) sink += route(datagrams[i]!)?.id ?? 1;
  };
}
const viaRouter = (d: Uint8Array) => router.route(d, ADDRESS);
const viaHex = (d: Uint8Array) => {
  const dcid = peekDestinationConnectionId(d, CID_LENGTH);
  return dcid === undefined ? undefined : hexMap.get(toHex(dcid));
};
const viaLatin1 = (d: Uint8Array) => {
  const dcid = peekDestinationConnectionId(d, CID_LENGTH);
  return dcid === undefined ? undefined : latin1Map.get(latin1(dcid));
};

const cases: BenchCase[] = [
  { name: 'CidRouter.route (hit)', fn: routeAll(hits, viaRouter), opsPerCall: DATAGRAMS, batch: 1 },
  { name: 'Map<hex string> naive (hit)', fn: routeAll(hits, viaHex), opsPerCall: DATAGRAMS, batch: 1 },
  { name: 'Map<latin1 string> (hit)', fn: routeAll(hits, viaLatin1), opsPerCall: DATAGRAMS, batch: 1 },
  { name: 'CidRouter.route (miss)', fn: routeAll(misses, viaRouter), opsPerCall: DATAGRAMS, batch: 1 },
  { name: 'Map<hex string> naive (miss)', fn: routeAll(misses, viaHex), opsPerCall: DATAGRAMS, batch: 1 },
];
const results = measureInterleaved(cases);

const resetKey = StatelessResetKey.generate();
const [tokenResult] = measureInterleaved(
  [{ name: 'StatelessResetKey.token (HMAC-SHA256)', fn: () => void resetKey.token(cids[sink & 1023]!), opsPerCall: 1, batch: 1 }],
  { rounds: 3 },
);

console.log(`CID routing: ${CONNECTIONS} connections x ${CIDS_PER_CONNECTION} CIDs of ${CID_LENGTH} bytes, ${DATAGRAMS} datagrams`);
printTable([...results, tokenResult!]);
if (sink === 42) console.log('');

const ops = (name: string) => Math.round(results.find((r) => r.name === name)!.opsPerSec);
const routerHit = ops('CidRouter.route (hit)');
const naiveHit = ops('Map<hex string> naive (hit)');
console.log(
  JSON.stringify({
    connections: CONNECTIONS,
    cidsPerConnection: CIDS_PER_CONNECTION,
    cidLength: CID_LENGTH,
    routerDatagramsPerSec: routerHit,
    naiveHexMapDatagramsPerSec: naiveHit,
    latin1MapDatagramsPerSec: ops('Map<latin1 string> (hit)'),
    routerMissDatagramsPerSec: ops('CidRouter.route (miss)'),
    naiveHexMapMissDatagramsPerSec: ops('Map<hex string> naive (miss)'),
    routerSpeedupVsNaive: Number((routerHit / naiveHit).toFixed(2)),
    resetTokensPerSec: Math.round(tokenResult!.opsPerSec),
  }),
);
