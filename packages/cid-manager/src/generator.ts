/**
 * Connection ID generators. A generator makes the CIDs one endpoint issues; every CID it returns has the same length,
 * because short headers do not carry the DCID length and the receiver must find it without per-connection state
 * (RFC 9000 §5.2, §10.3.2).
 */
import { CidConfigError } from './errors.js';
import { defaultRandom, type RandomSource } from './random.js';

/** Longest CID of QUIC v1 (RFC 9000 §17.2). */
export const MAX_CID_LENGTH = 20;
/**
 * Shortest non-empty CID this package issues. RFC 9000 allows 1..20 bytes, but CIDs shorter than 4 bytes collide
 * across connections too easily to route an endpoint with many connections.
 */
export const MIN_ISSUED_CID_LENGTH = 4;
/** Default CID length: 64 bits, enough entropy for the client's address validation shortcut (RFC 9000 §8.1). */
export const DEFAULT_CID_LENGTH = 8;

/** Makes the connection IDs an endpoint issues. */
export interface CidGenerator {
  /** Length of every CID `generate()` returns (0 = zero-length CIDs, routed by address). */
  readonly length: number;
  /** A new CID. Callers check uniqueness (see `LocalCidIssuerOptions.isCidInUse`). */
  generate(): Uint8Array;
}

/** Throws unless `length` is 0 or MIN_ISSUED_CID_LENGTH..MAX_CID_LENGTH. */
export function checkIssuedCidLength(length: number, what = 'connection ID length'): void {
  if (!Number.isInteger(length) || (length !== 0 && (length < MIN_ISSUED_CID_LENGTH || length > MAX_CID_LENGTH))) {
    throw new CidConfigError(`${what} must be 0 or ${MIN_ISSUED_CID_LENGTH}..${MAX_CID_LENGTH}, got ${length}`);
  }
}

/** Uniformly random CIDs: unlinkable across paths (RFC 9000 §9.5) and unpredictable (RFC 9000 §5.1). */
export class RandomCidGenerator implements CidGenerator {
  readonly length: number;
  private readonly random: RandomSource;

  constructor(length: number = DEFAULT_CID_LENGTH, random: RandomSource = defaultRandom) {
    checkIssuedCidLength(length);
    this.length = length;
    this.random = random;
  }

  generate(): Uint8Array {
    return this.length === 0 ? new Uint8Array(0) : this.random(this.length);
  }
}
