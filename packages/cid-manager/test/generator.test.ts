import { describe, expect, it } from 'vitest';
import { CidConfigError, DEFAULT_CID_LENGTH, RandomCidGenerator, defaultRandom } from '../src/index.js';
import { seededRandom } from './helpers.js';

describe('RandomCidGenerator', () => {
  it('defaults to 8 random bytes', () => {
    const g = new RandomCidGenerator();
    expect(g.length).toBe(DEFAULT_CID_LENGTH);
    const a = g.generate();
    const b = g.generate();
    expect(a.length).toBe(8);
    expect(a).not.toEqual(b);
  });

  it('accepts 0 and 4..20 bytes only', () => {
    expect(new RandomCidGenerator(0).generate().length).toBe(0);
    for (const n of [4, 12, 20]) expect(new RandomCidGenerator(n, seededRandom()).generate().length).toBe(n);
    for (const n of [1, 2, 3, 21, -1, 4.5, Number.NaN]) expect(() => new RandomCidGenerator(n)).toThrow(CidConfigError);
  });

  it('draws from the injected source', () => {
    const g = new RandomCidGenerator(6, seededRandom(42));
    expect(g.generate()).toEqual(seededRandom(42)(6));
  });

  it('defaultRandom fills requests larger than one getRandomValues call', () => {
    const big = defaultRandom(70_000);
    expect(big.length).toBe(70_000);
    expect(big.subarray(66_000).some((b) => b !== 0)).toBe(true);
  });
});
