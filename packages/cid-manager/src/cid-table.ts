/**
 * A hash map from connection ID bytes (1..20) to values, built for the receive path: a lookup reads the key straight
 * out of the datagram (`getAt(datagram, offset, length)`) without allocating a view, a string or anything else.
 *
 * Open addressing with linear probing, load factor at most 1/2, backward-shift deletion (no tombstones). Keys are
 * stored inline in one byte array with a fixed stride of 20 bytes.
 *
 * Hash: simple tabulation hashing with tables filled from the injected random source. Connection IDs are partly
 * chosen by peers (a client picks the DCID of its first Initial, and a core may register it), so a fixed or merely
 * seeded hash would let an attacker pick colliding keys and degrade probing to linear scans; with secret random
 * tables it cannot predict collisions, and tabulation hashing is known to behave like a truly random hash for linear
 * probing.
 */
import { CidConfigError } from './errors.js';
import { MAX_CID_LENGTH } from './generator.js';
import type { RandomSource } from './random.js';

const STRIDE = MAX_CID_LENGTH;
/** Set in every stored hash; slot indices use the low bits only. */
const OCCUPIED_BIT = 0x80000000 | 0;
const MIN_CAPACITY = 16;

export class CidTable<T> {
  /** Tabulation tables: 256 random words per byte position, plus one word per key length. */
  private readonly tab: Int32Array;
  private readonly lengthTab: Int32Array;
  private capacity: number;
  private mask: number;
  /** Key lengths (1..20). */
  private lengths: Uint8Array;
  /** Key hashes; 0 = empty slot. */
  private hashes: Int32Array;
  private keys: Uint8Array;
  private values: (T | undefined)[];
  private count = 0;
  private readonly minCapacity: number;

  constructor(random: RandomSource, initialCapacity = MIN_CAPACITY) {
    const words = new Int32Array(random(4 * (STRIDE * 256 + STRIDE + 1)).slice().buffer);
    this.tab = words.subarray(0, STRIDE * 256);
    this.lengthTab = words.subarray(STRIDE * 256);
    this.minCapacity = powerOfTwoAtLeast(Math.max(MIN_CAPACITY, 2 * initialCapacity));
    this.capacity = this.minCapacity;
    this.mask = this.capacity - 1;
    this.lengths = new Uint8Array(this.capacity);
    this.hashes = new Int32Array(this.capacity);
    this.keys = new Uint8Array(this.capacity * STRIDE);
    this.values = new Array<T | undefined>(this.capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** Never 0: the top bit is forced on, so `hashes[slot] === 0` marks an empty slot and probing reads one array. */
  private hash(bytes: Uint8Array, offset: number, length: number): number {
    const tab = this.tab;
    let h = this.lengthTab[length]!;
    for (let i = 0; i < length; i++) h ^= tab[(i << 8) | bytes[offset + i]!]!;
    return h | OCCUPIED_BIT;
  }

  /** Slot holding the key, or -1. */
  private find(bytes: Uint8Array, offset: number, length: number, h: number): number {
    const { lengths, hashes, keys, mask } = this;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const stored = hashes[slot]!;
      if (stored === 0) return -1;
      if (stored === h && lengths[slot] === length) {
        const base = slot * STRIDE;
        let i = 0;
        while (i < length && keys[base + i] === bytes[offset + i]) i++;
        if (i === length) return slot;
      }
    }
  }

  /** The value for the key `bytes[offset, offset + length)`; undefined when absent or when length is not 1..20. */
  getAt(bytes: Uint8Array, offset: number, length: number): T | undefined {
    if (length < 1 || length > STRIDE) return undefined;
    const slot = this.find(bytes, offset, length, this.hash(bytes, offset, length));
    return slot < 0 ? undefined : this.values[slot];
  }

  get(key: Uint8Array): T | undefined {
    return this.getAt(key, 0, key.length);
  }

  has(key: Uint8Array): boolean {
    return key.length >= 1 && key.length <= STRIDE && this.find(key, 0, key.length, this.hash(key, 0, key.length)) >= 0;
  }

  /** Inserts or replaces. Keys must be 1..20 bytes. */
  set(key: Uint8Array, value: T): void {
    if (key.length < 1 || key.length > STRIDE) {
      throw new CidConfigError(`connection ID table keys are 1..${STRIDE} bytes, got ${key.length}`);
    }
    const h = this.hash(key, 0, key.length);
    const slot = this.find(key, 0, key.length, h);
    if (slot >= 0) {
      this.values[slot] = value;
      return;
    }
    if (2 * (this.count + 1) > this.capacity) this.resize(this.capacity * 2);
    this.insertNew(key, 0, key.length, h, value);
    this.count++;
  }

  private insertNew(bytes: Uint8Array, offset: number, length: number, h: number, value: T | undefined): void {
    let slot = h & this.mask;
    while (this.hashes[slot] !== 0) slot = (slot + 1) & this.mask;
    this.lengths[slot] = length;
    this.hashes[slot] = h;
    this.keys.set(bytes.subarray(offset, offset + length), slot * STRIDE);
    this.values[slot] = value;
  }

  delete(key: Uint8Array): boolean {
    if (key.length < 1 || key.length > STRIDE) return false;
    let hole = this.find(key, 0, key.length, this.hash(key, 0, key.length));
    if (hole < 0) return false;
    const { lengths, hashes, keys, values, mask } = this;
    // Backward-shift deletion: pull later members of the probe run into the hole unless that would move them before
    // their home slot.
    for (let j = (hole + 1) & mask; hashes[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      lengths[hole] = lengths[j]!;
      hashes[hole] = hashes[j]!;
      keys.copyWithin(hole * STRIDE, j * STRIDE, j * STRIDE + STRIDE);
      values[hole] = values[j];
      hole = j;
    }
    lengths[hole] = 0;
    hashes[hole] = 0;
    values[hole] = undefined;
    this.count--;
    if (this.capacity > this.minCapacity && 8 * this.count < this.capacity) this.resize(this.capacity / 2);
    return true;
  }

  *entries(): IterableIterator<[Uint8Array, T]> {
    for (let slot = 0; slot < this.capacity; slot++) {
      const l = this.lengths[slot]!;
      if (l !== 0) yield [this.keys.slice(slot * STRIDE, slot * STRIDE + l), this.values[slot] as T];
    }
  }

  clear(): void {
    this.count = 0;
    this.capacity = this.minCapacity;
    this.mask = this.capacity - 1;
    this.lengths = new Uint8Array(this.capacity);
    this.hashes = new Int32Array(this.capacity);
    this.keys = new Uint8Array(this.capacity * STRIDE);
    this.values = new Array<T | undefined>(this.capacity).fill(undefined);
  }

  private resize(capacity: number): void {
    const { lengths, hashes, keys, values } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.lengths = new Uint8Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.keys = new Uint8Array(capacity * STRIDE);
    this.values = new Array<T | undefined>(capacity).fill(undefined);
    for (let slot = 0; slot < old; slot++) {
      const l = lengths[slot]!;
      if (l !== 0) this.insertNew(keys, slot * STRIDE, l, hashes[slot]!, values[slot]);
    }
  }
}

function powerOfTwoAtLeast(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}
