/**
 * RFC 9218 Extensible Priorities for HTTP/3 on top of the 16-bit scheduler: the `Priority` field value (the same
 * text a PRIORITY_UPDATE frame carries, RFC 9218 §7) and the mapping of (urgency, incremental) onto a stream
 * priority and a scheduling scheme.
 */
import { StreamPriorityError } from './errors.js';
import type { SchedulingScheme } from './scheduler.js';
import { parseSfDictionary } from './structured-fields.js';

/** RFC 9218 §4 priority parameters. */
export interface HttpPriority {
  /** `u`: 0 (most urgent) .. 7 (background), RFC 9218 §4.1. */
  readonly urgency: number;
  /** `i`: the response is usable as it arrives, RFC 9218 §4.2. */
  readonly incremental: boolean;
}

/** RFC 9218 §4.1: the default urgency. */
export const URGENCY_DEFAULT = 3;
/** RFC 9218 §4.1: urgencies are 0..7. */
export const URGENCY_MAX = 7;
/** RFC 9218 §4.2: the default of the incremental parameter. */
export const INCREMENTAL_DEFAULT = false;
/** u=3, i=?0: what a request without the parameters means (RFC 9218 §4). */
export const DEFAULT_HTTP_PRIORITY: HttpPriority = Object.freeze({ urgency: URGENCY_DEFAULT, incremental: INCREMENTAL_DEFAULT });

/** Width of the 16-bit priority band of one urgency: 8 bands of 0x2000 cover 0x0000..0xFFFF. */
export const URGENCY_BAND = 0x2000;

function checkHttpPriority(p: HttpPriority): void {
  if (!Number.isInteger(p.urgency) || p.urgency < 0 || p.urgency > URGENCY_MAX) {
    throw new StreamPriorityError('INVALID_PRIORITY', `urgency must be an integer in 0..7, got ${String(p.urgency)}`);
  }
  if (typeof p.incremental !== 'boolean') {
    throw new StreamPriorityError('INVALID_ARGUMENT', `incremental must be a boolean, got ${String(p.incremental)}`);
  }
}

/**
 * Parse a `Priority` field value (RFC 9218 §5), or a PRIORITY_UPDATE frame's Priority Field Value (§7).
 * Returns null when the text is not a Structured Fields Dictionary (RFC 8941 §4.2); a PRIORITY_UPDATE receiver MAY
 * then close the connection with H3_GENERAL_PROTOCOL_ERROR (RFC 9218 §7). Within a valid Dictionary, unknown
 * parameters, out-of-range values and values of unexpected types are ignored (RFC 9218 §4) and the parameter keeps
 * its value from `base`.
 *
 * `base` is what an absent parameter means: the defaults for a request (RFC 9218 §4), or — for an intermediary
 * reading a response's field — the client's values, since an absent parameter in a response means "no change"
 * (RFC 9218 §8).
 */
export function tryParsePriorityField(value: string | readonly string[], base: HttpPriority = DEFAULT_HTTP_PRIORITY): HttpPriority | null {
  const dict = parseSfDictionary(value);
  if (dict === null) return null;
  let { urgency, incremental } = base;
  const u = dict.get('u');
  // §4.1: an sf-integer in 0..7; parameters on the member are ignored.
  if (u?.kind === 'item' && u.item.type === 'integer' && u.item.value >= 0 && u.item.value <= URGENCY_MAX) urgency = u.item.value | 0; // ("-0" → 0)
  const i = dict.get('i');
  // §4.2: an sf-boolean ("i" alone is true).
  if (i?.kind === 'item' && i.item.type === 'boolean') incremental = i.item.value;
  return { urgency, incremental };
}

/**
 * Parse a `Priority` field value, never failing: a value that is not a valid Dictionary is ignored as a whole
 * (RFC 8941 §4.2), which leaves `base` (the defaults, u=3 and not incremental, RFC 9218 §4).
 */
export function parsePriorityField(value: string | readonly string[], base: HttpPriority = DEFAULT_HTTP_PRIORITY): HttpPriority {
  return tryParsePriorityField(value, base) ?? { urgency: base.urgency, incremental: base.incremental };
}

export interface SerializePriorityOptions {
  /**
   * Leave out parameters that have their default value (default true): in a request, absence means the default
   * (RFC 9218 §4). Set false for a response that must restate them, since absence there means "no change" (§8).
   */
  omitDefaults?: boolean;
}

/**
 * Serialize to a `Priority` field value (RFC 8941 §4.1.2 Dictionary): `u=5, i`. With the defaults omitted, u=3 and
 * not incremental serialize to the empty string — send no field then. Throws `INVALID_PRIORITY` for an urgency
 * outside 0..7.
 */
export function serializePriorityField(p: HttpPriority, options: SerializePriorityOptions = {}): string {
  checkHttpPriority(p);
  const omit = options.omitDefaults ?? true;
  const members: string[] = [];
  if (!omit || p.urgency !== URGENCY_DEFAULT) members.push(`u=${p.urgency}`);
  // RFC 8941 §4.1.2: a Boolean true member is its key alone.
  if (p.incremental) members.push('i');
  else if (!omit) members.push('i=?0');
  return members.join(', ');
}

export interface PriorityFromHttpOptions {
  /**
   * Put incremental streams in a level of their own, below the non-incremental ones of the same urgency (priority
   * minus 0x1000), so non-incremental responses always go first. Default false: both share one level.
   */
  separateIncremental?: boolean;
}

/** A stream priority and the scheme to give the stream: arguments for `StreamScheduler.add` / `setPriority` / `setScheme`. */
export interface StreamPriority {
  readonly priority: number;
  readonly scheme: SchedulingScheme;
}

/**
 * Map RFC 9218 parameters onto the scheduler. Each urgency owns a band of 0x2000 priorities, urgency 0 the highest
 * (0xE000..0xFFFF) and urgency 7 the lowest (0x0000..0x1FFF), so strict priority between levels serves urgencies in
 * order (RFC 9218 §10: "sending higher-urgency responses before lower-urgency responses"). The stream gets the top of
 * its band (u=0 → 0xFFFF, u=3 → 0x9FFF, u=7 → 0x1FFF), which leaves room below it for an application that wants
 * finer levels within an urgency (RFC 9218 §4.3).
 *
 * The scheme is chosen per stream: incremental → round-robin ("sharing bandwidth among them", §10), non-incremental
 * → FIFO ("one by one", §4.2, §10). By default both kinds share their urgency's level: the level is served in
 * readiness order, a FIFO stream at the front keeps the level until it is done, a round-robin stream at the front
 * sends its quantum and goes to the back. So a late non-incremental response waits behind the incremental ones only
 * for one turn of the round, and an incremental response of indeterminate length cannot starve a non-incremental
 * one that arrives later (the second starvation example of §10). With `separateIncremental`, incremental streams
 * sit 0x1000 lower and only get the link when no non-incremental stream of their urgency is ready.
 */
export function priorityFromHttp(p: HttpPriority, options: PriorityFromHttpOptions = {}): StreamPriority {
  checkHttpPriority(p);
  let priority = 0xffff - p.urgency * URGENCY_BAND;
  if (p.incremental && options.separateIncremental === true) priority -= URGENCY_BAND / 2;
  return { priority, scheme: p.incremental ? 'round-robin' : 'fifo' };
}

/** The urgency whose band contains a 16-bit priority (the inverse of `priorityFromHttp`'s band layout). */
export function urgencyFromPriority(priority: number): number {
  if ((priority & 0xffff) !== priority) {
    throw new StreamPriorityError('INVALID_PRIORITY', `priority must be an integer in 0..0xFFFF, got ${String(priority)}`);
  }
  return URGENCY_MAX - Math.floor(priority / URGENCY_BAND);
}
