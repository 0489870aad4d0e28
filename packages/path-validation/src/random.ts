import { PathConfigError } from './errors.js';

/** Source of unpredictable bytes, injectable so tests are deterministic. */
export type RandomSource = (length: number) => Uint8Array;

/** RFC 9000 §8.2.1: PATH_CHALLENGE data must be unpredictable, so the default is the platform CSPRNG. */
export const cryptoRandom: RandomSource = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

/** Calls `random` and checks it kept its contract (a wrong length would weaken or break the challenge). */
export function randomBytes(random: RandomSource, length: number): Uint8Array {
  const bytes = random(length);
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new PathConfigError(`random(${length}) must return a Uint8Array of ${length} bytes`);
  }
  return bytes;
}
