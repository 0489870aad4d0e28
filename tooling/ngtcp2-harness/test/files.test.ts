import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../src/files.js';
import { HarnessError, deterministicBytes, makeFile, sha256File } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ngtcp2-harness-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('makeFile', () => {
  it('writes the requested size and returns the content hash', async () => {
    const f = await makeFile(dir, 'a.bin', 100_003, 5);
    expect(f.path).toBe(join(dir, 'a.bin'));
    expect(f.size).toBe(100_003);
    const content = await readFile(f.path);
    expect(content.length).toBe(100_003);
    expect(f.sha256).toBe(sha(content));
    expect(await sha256File(f.path)).toBe(f.sha256);
  });

  it('is deterministic per seed, different across seeds, and matches deterministicBytes', async () => {
    const size = (4 << 20) * 2 + 7; // crosses two internal chunk boundaries and ends mid-word
    const a = await makeFile(dir, 'x1', size, 'seed');
    const b = await makeFile(dir, 'x2', size, 'seed');
    const c = await makeFile(dir, 'x3', size, 'other');
    expect(a.sha256).toBe(b.sha256);
    expect(c.sha256).not.toBe(a.sha256);
    const content = await readFile(a.path);
    expect(content.equals(deterministicBytes(size, 'seed'))).toBe(true);
    // A shorter file is a prefix of a longer one with the same seed.
    expect(deterministicBytes(1000, 'seed').equals(content.subarray(0, 1000))).toBe(true);
    // Looks random: every byte value appears, none dominates.
    const counts = new Array<number>(256).fill(0);
    for (const byte of content.subarray(0, 1 << 20)) counts[byte] = (counts[byte] ?? 0) + 1;
    expect(Math.min(...counts)).toBeGreaterThan(3500);
    expect(Math.max(...counts)).toBeLessThan(4700);
  });

  it('implements xoshiro128** as the reference C code', () => {
    // State {0,1,2,3}: the first outputs of the reference xoshiro128starstar.c (the first three checked by hand).
    const words = Xoshiro128.fromState([0, 1, 2, 3]).fill(20);
    expect([0, 4, 8, 12, 16].map((o) => words.readUInt32LE(o))).toEqual([5760, 17280, 2966400, 32451840, 2604340873]);
    // State {1,2,3,4}, computed by hand: rotl(2*5, 7)*9 = 11520, then s1 = 0 gives 0, then rotl(1029*5, 7)*9.
    const w2 = Xoshiro128.fromState([1, 2, 3, 4]).fill(12);
    expect([0, 4, 8].map((o) => w2.readUInt32LE(o))).toEqual([11520, 0, 5927040]);
  });

  it('pins the stream: seed 1 starts with these bytes on every machine', () => {
    expect(deterministicBytes(16, 1).toString('hex')).toMatchInlineSnapshot(`"f5bf613994292c8ceea906955e3e7eca"`);
  });

  it('handles empty files and overwrites existing ones', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, 'old content');
    const f = await makeFile(dir, 'empty', 0);
    expect((await stat(path)).size).toBe(0);
    expect(f.sha256).toBe(sha(Buffer.alloc(0)));
  });

  it('rejects bad sizes and names', async () => {
    await expect(makeFile(dir, 'n', -1)).rejects.toBeInstanceOf(HarnessError);
    await expect(makeFile(dir, 'n', 1.5)).rejects.toBeInstanceOf(HarnessError);
    await expect(makeFile(dir, '../escape', 1)).rejects.toBeInstanceOf(HarnessError);
    await expect(makeFile(dir, '', 1)).rejects.toBeInstanceOf(HarnessError);
  });

  it('writes 200 MB in a couple of seconds', async () => {
    const started = performance.now();
    const f = await makeFile(dir, 'big', 200 << 20, 9);
    const elapsed = performance.now() - started;
    expect((await stat(f.path)).size).toBe(200 << 20);
    expect(await sha256File(f.path)).toBe(f.sha256);
    await rm(f.path);
    // 0.4–1.3 s alone on the 2-core CI VM (disk-bound); up to ~3 s while the ngtcp2 tests run beside it.
    expect(elapsed).toBeLessThan(6000);
  });
});
