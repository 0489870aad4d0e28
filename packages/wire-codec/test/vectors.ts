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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const vectors: any = load();
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
