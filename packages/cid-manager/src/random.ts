/**
 * Injected randomness. Every component that needs unpredictable bytes (connection IDs, reset keys, stateless reset
 * padding, the router's hash tables) takes a `RandomSource`, so tests can make runs reproducible.
 */

/** Returns `n` fresh unpredictable bytes. */
export type RandomSource = (n: number) => Uint8Array;

/** Web Crypto fills at most 65536 bytes per call (WebCrypto getRandomValues quota). */
const MAX_FILL = 65536;

/** The default source: `globalThis.crypto.getRandomValues` into a new array. */
export const defaultRandom: RandomSource = (n) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += MAX_FILL) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + MAX_FILL)));
  return out;
};
