/* eslint-disable @typescript-eslint/no-explicit-any -- the vectors file is untyped JSON */
// The RFC 9001 App. A / RFC 9369 App. A vectors from ../shared (beside the project root).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [resolve(here, '../../../../shared/rfc9001-vectors.json'), resolve(here, 'fixtures/rfc9001-vectors.json')];

function load(): any {
  for (const p of candidates) {
    try {
      return JSON.parse(readFileSync(p, 'utf8'));
    } catch {
      // try the next location
    }
  }
  throw new Error(`rfc9001-vectors.json not found in ${candidates.join(' or ')}`);
}

export const vectors: any = load();
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** The v1 or v2 section of the vectors, in the shape the crypto and protection tests use. */
function versionSection(s: any, suffix: 'v1' | 'v2') {
  return {
    hkdfLabelBytes: s.hkdf_label_bytes as Record<string, string>,
    clientDcid: s.client_dcid as string,
    initialSecret: s.initial_secret as string,
    client: s.client_initial,
    server: s.server_initial,
    clientHp: { sample: s.client_initial_packet.hp_sample as string, mask: s.client_initial_packet.hp_mask as string },
    serverHp: { sample: s.server_initial_packet.hp_sample as string, mask: s.server_initial_packet.hp_mask as string },
    clientInitial: s.client_initial_packet,
    serverInitial: s.server_initial_packet,
    retry: {
      odcid: s.retry_packet.odcid as string,
      packet: s.retry_packet.packet as string,
      key: s.retry_packet[`retry_integrity_key_${suffix}`] as string,
      nonce: s.retry_packet[`retry_integrity_nonce_${suffix}`] as string,
      secret: s.retry_packet[`retry_secret_${suffix}`] as string,
    },
    chacha: s.chacha20_short_header,
  };
}

/** RFC 9001 App. A (v1), RFC 9369 App. A (v2) and the draft-ietf-quic-multipath-21 nonce example. */
export const quicVectors = {
  v1: versionSection(vectors, 'v1'),
  v2: versionSection(vectors.rfc9369_quic_v2, 'v2'),
  multipath: vectors.multipath_draft21_nonce_example,
};
