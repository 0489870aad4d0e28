import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidConfigError, CidTable } from '../src/index.js';
import { hex, seededRandom, toHexString } from './helpers.js';

/** All-zero tabulation tables: every key of a given length hashes alike, the worst case for probing and deletion. */
const zeros = (n: number) => new Uint8Array(n);

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'get'; key: number };

function runAgainstMap(keys: Uint8Array[], ops: Op[], table: CidTable<number>): void {
  const model = new Map<string, number>();
  for (const op of ops) {
    const key = keys[op.key % keys.length]!;
    const k = toHexString(key) + '/' + key.length;
    if (op.kind === 'set') {
      table.set(key, op.value);
      model.set(k, op.value);
    } else if (op.kind === 'delete') {
      expect(table.delete(key)).toBe(model.delete(k));
    } else {
      expect(table.get(key)).toBe(model.get(k));
    }
    expect(table.size).toBe(model.size);
  }
  for (const key of keys) {
    const k = toHexString(key) + '/' + key.length;
    expect(table.get(key)).toBe(model.get(k));
    expect(table.has(key)).toBe(model.has(k));
  }
  expect([...table.entries()].length).toBe(model.size);
}

const keySet = fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 20 }), {
  minLength: 1,
  maxLength: 60,
  selector: (k) => toHexString(k) + '/' + k.length,
});
const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.nat(), value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.nat() }),
    fc.record({ kind: fc.constant('get' as const), key: fc.nat() }),
  ),
  { maxLength: 300 },
);

describe('CidTable', () => {
  it('behaves like a Map keyed by bytes (random tables)', () => {
    fc.assert(
      fc.property(keySet, ops, fc.integer({ min: 1, max: 1000 }), (keys, o, seed) => {
        runAgainstMap(keys, o, new CidTable<number>(seededRandom(seed)));
      }),
      { numRuns: 200 },
    );
  });

  it('behaves like a Map when every key collides (probing, backward-shift deletion, growth and shrinking)', () => {
    fc.assert(
      fc.property(keySet, ops, (keys, o) => {
        runAgainstMap(keys, o, new CidTable<number>(zeros));
      }),
      { numRuns: 200 },
    );
  });

  it('looks keys up in place inside a larger buffer', () => {
    const t = new CidTable<string>(seededRandom(2));
    t.set(hex('0102030405060708'), 'a');
    const datagram = hex('40 0102030405060708 ffff');
    expect(t.getAt(datagram, 1, 8)).toBe('a');
    expect(t.getAt(datagram, 0, 8)).toBeUndefined();
    expect(t.getAt(datagram, 1, 0)).toBeUndefined();
    expect(t.getAt(datagram, 1, 21)).toBeUndefined();
  });

  it('distinguishes a key from its prefix', () => {
    const t = new CidTable<number>(zeros);
    t.set(hex('0102'), 1);
    t.set(hex('010203'), 2);
    expect(t.get(hex('0102'))).toBe(1);
    expect(t.get(hex('010203'))).toBe(2);
    expect(t.get(hex('01'))).toBeUndefined();
  });

  it('copies keys and survives growth to many entries and back', () => {
    const t = new CidTable<number>(seededRandom(3));
    const r = seededRandom(4);
    const keys = Array.from({ length: 5000 }, () => r(8));
    keys.forEach((k, i) => t.set(k, i));
    keys[0]!.fill(0xee); // mutating the caller's array must not corrupt the table
    keys.forEach((k, i) => {
      if (i > 0) expect(t.get(k)).toBe(i);
    });
    keys.forEach((k, i) => {
      if (i > 0) expect(t.delete(k)).toBe(true);
    });
    expect(t.size).toBe(1);
    t.clear();
    expect(t.size).toBe(0);
  });

  it('rejects keys that are not 1..20 bytes', () => {
    const t = new CidTable<number>(seededRandom());
    expect(() => t.set(new Uint8Array(0), 1)).toThrow(CidConfigError);
    expect(() => t.set(new Uint8Array(21), 1)).toThrow(CidConfigError);
    expect(t.delete(new Uint8Array(0))).toBe(false);
    expect(t.has(new Uint8Array(21))).toBe(false);
  });
});
