/**
 * Programmer errors of this package. Misuse by the caller (a negative byte count, a PTO of zero, a probe timer
 * below what RFC 8899 allows) throws {@link PathConfigError}; input from the network never does: that becomes a
 * `QuicCodecError` from @pathquic/wire-codec carrying the transport error code to close with.
 */
export class PathConfigError extends TypeError {
  override readonly name = 'PathConfigError';
}

/** Throws unless `value` is an integer in [min, max]. */
export function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new PathConfigError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number > 0 (durations in milliseconds). */
export function requirePositiveDuration(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new PathConfigError(`${name} must be a finite number of milliseconds > 0, got ${String(value)}`);
  }
  return value;
}

/** Throws unless `now` is a finite time in milliseconds. */
export function requireTime(now: number): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new PathConfigError(`now must be a finite time in milliseconds, got ${String(now)}`);
  }
  return now;
}
