import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HTTP_PRIORITY,
  PRIORITY_HIGHEST,
  StreamPriorityError,
  StreamScheduler,
  parsePriorityField,
  parseSfDictionary,
  priorityFromHttp,
  serializePriorityField,
  tryParsePriorityField,
  urgencyFromPriority,
  type HttpPriority,
} from '../src/index.js';

const p = (urgency: number, incremental: boolean): HttpPriority => ({ urgency, incremental });

describe('parsePriorityField (RFC 9218 §4, §5)', () => {
  it('parses the RFC examples', () => {
    expect(parsePriorityField('u=0')).toEqual(p(0, false)); // §4.1: a CSS file
    expect(parsePriorityField('u=5, i')).toEqual(p(5, true)); // §4.2: a JPEG
    expect(parsePriorityField('u=7')).toEqual(p(7, false)); // §6: a background prefetch
  });

  it('uses the defaults, u=3 and not incremental, for absent parameters (§4)', () => {
    expect(DEFAULT_HTTP_PRIORITY).toEqual(p(3, false));
    expect(parsePriorityField('')).toEqual(p(3, false));
    expect(parsePriorityField('i')).toEqual(p(3, true));
    expect(parsePriorityField('u=1')).toEqual(p(1, false));
    expect(tryParsePriorityField('')).toEqual(p(3, false)); // an empty Dictionary is valid
  });

  it('merges a response field over the client values (§8 example)', () => {
    // Client: u=5, i; origin responds with u=1 → urgency 1, still incremental.
    const client = parsePriorityField('u=5, i');
    expect(parsePriorityField('u=1', client)).toEqual(p(1, true));
  });

  it('ignores unknown parameters, out-of-range values and values of unexpected types (§4)', () => {
    const cases: [string, HttpPriority][] = [
      ['u=5, i, bikeshed-order-name=15', p(5, true)],
      ['foo=bar, u=2', p(2, false)],
      ['u=8', p(3, false)],
      ['u=-1', p(3, false)],
      ['u=-0', p(0, false)],
      ['u=1.0', p(3, false)],
      ['u="1"', p(3, false)],
      ['u=?1', p(3, false)],
      ['u', p(3, false)], // Boolean true is not an integer
      ['u=(1 2)', p(3, false)],
      ['u=one', p(3, false)],
      ['i=1', p(3, false)],
      ['i=?0', p(3, false)],
      ['i=?1', p(3, true)],
      ['i="yes", u=6', p(6, false)],
      ['i=(?1)', p(3, false)],
      ['u=2;x=1;y', p(2, false)], // parameters on a member are ignored
      ['i;x="y", u=4', p(4, true)],
      ['u=1, u=2', p(2, false)], // a repeated key: the last wins
      ['i, i=?0', p(3, false)],
      ['x="a,b", u=4', p(4, false)], // a comma inside a string is not a separator
      ['x=("a" b;c=1 :aGk=:);d, u=6', p(6, false)],
      ['x=:aGVsbG8=:, u=6', p(6, false)],
      ['x=@1659578233, u=6', p(6, false)], // RFC 9651 Date
      ['x=%"f%c3%bc", u=6', p(6, false)], // RFC 9651 Display String
      ['x=foo/bar:baz*, u=2', p(2, false)],
      ['x=-12.345, u=2', p(2, false)],
      ['*x=1, u=2', p(2, false)],
      ['u=000000000000003', p(3, false)],
    ];
    for (const [field, expected] of cases) expect(parsePriorityField(field), field).toEqual(expected);
  });

  it('treats a value that is not a Dictionary as absent, and tryParse says so (RFC 8941 §4.2, RFC 9218 §7)', () => {
    const invalid = [
      'U=2',
      'u=2,',
      ',u=2',
      'u=2 i',
      'u=2;',
      'u=',
      'u=2,,i',
      'i=?2',
      'u=1234567890123456', // 16 digits
      'x=1.2345',
      'x=1.',
      'x=1234567890123.5',
      'x="unterminated',
      'x="bad\\escape"',
      'x=:not base64!:',
      'x=(a b',
      'x=(a,b)',
      'x=%"F%C3%BC"',
      'x=%"%ff"',
      'x=@1.5',
      'x=é',
      '1=2',
      'u=2\ti', // a tab between members without a comma
    ];
    for (const field of invalid) {
      expect(tryParsePriorityField(field), field).toBeNull();
      expect(parsePriorityField(field), field).toEqual(p(3, false));
      expect(parsePriorityField(field, p(1, true)), field).toEqual(p(1, true));
    }
  });

  it('accepts the whitespace RFC 8941 allows and combines several field lines', () => {
    expect(parsePriorityField('  u=4  ')).toEqual(p(4, false));
    expect(parsePriorityField('u=4,\ti')).toEqual(p(4, true));
    expect(parsePriorityField('u=4 ,   i')).toEqual(p(4, true));
    expect(parsePriorityField(['u=4', 'i'])).toEqual(p(4, true));
    expect(parsePriorityField(['u=4', 'u=6'])).toEqual(p(6, false));
    expect(parsePriorityField([])).toEqual(p(3, false));
  });

  it('exposes the Dictionary parser', () => {
    const dict = parseSfDictionary('a=1, b, c="x";p=?0, d=(1 2.5)');
    expect(dict?.get('a')).toEqual({ kind: 'item', item: { type: 'integer', value: 1 } });
    expect(dict?.get('b')).toEqual({ kind: 'item', item: { type: 'boolean', value: true } });
    expect(dict?.get('c')).toEqual({ kind: 'item', item: { type: 'string', value: 'x' } });
    expect(dict?.get('d')).toEqual({
      kind: 'inner-list',
      items: [
        { type: 'integer', value: 1 },
        { type: 'decimal', value: 2.5 },
      ],
    });
    expect(parseSfDictionary('a=%"f%c3%bc"')?.get('a')).toEqual({ kind: 'item', item: { type: 'display-string', value: 'fü' } });
    expect(parseSfDictionary('a="q\\"\\\\"')?.get('a')).toEqual({ kind: 'item', item: { type: 'string', value: 'q"\\' } });
    expect(parseSfDictionary('a=b')).not.toBeNull();
    expect(parseSfDictionary('a=-')).toBeNull();
  });
});

describe('serializePriorityField', () => {
  it('writes the RFC forms, leaving out defaults', () => {
    expect(serializePriorityField(p(5, true))).toBe('u=5, i');
    expect(serializePriorityField(p(0, false))).toBe('u=0');
    expect(serializePriorityField(p(3, true))).toBe('i');
    expect(serializePriorityField(p(3, false))).toBe('');
  });

  it('can restate defaults (for a response, where absence means "no change", §8)', () => {
    expect(serializePriorityField(p(3, false), { omitDefaults: false })).toBe('u=3, i=?0');
    expect(serializePriorityField(p(7, true), { omitDefaults: false })).toBe('u=7, i');
  });

  it('round-trips through the parser', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.boolean(), fc.boolean(), (u, i, omit) => {
        const value = p(u, i);
        expect(parsePriorityField(serializePriorityField(value, { omitDefaults: omit }))).toEqual(value);
        expect(tryParsePriorityField(serializePriorityField(value, { omitDefaults: omit }))).toEqual(value);
      }),
    );
  });

  it('rejects values outside RFC 9218 with a typed error', () => {
    for (const u of [-1, 8, 1.5, Number.NaN]) {
      expect(() => serializePriorityField(p(u, false))).toThrow(StreamPriorityError);
      expect(() => priorityFromHttp(p(u, false))).toThrow(/INVALID_PRIORITY/);
    }
    expect(() => serializePriorityField({ urgency: 1, incremental: 'yes' as unknown as boolean })).toThrow(/INVALID_ARGUMENT/);
  });
});

describe('priorityFromHttp', () => {
  it('maps urgency 0 to the highest priority and each urgency to its band', () => {
    expect(priorityFromHttp(p(0, false))).toEqual({ priority: PRIORITY_HIGHEST, scheme: 'fifo' });
    expect(priorityFromHttp(p(3, false))).toEqual({ priority: 0x9fff, scheme: 'fifo' });
    expect(priorityFromHttp(p(3, true))).toEqual({ priority: 0x9fff, scheme: 'round-robin' });
    expect(priorityFromHttp(p(7, true))).toEqual({ priority: 0x1fff, scheme: 'round-robin' });
    expect(priorityFromHttp(p(3, true), { separateIncremental: true })).toEqual({ priority: 0x8fff, scheme: 'round-robin' });
    expect(priorityFromHttp(p(3, false), { separateIncremental: true })).toEqual({ priority: 0x9fff, scheme: 'fifo' });
  });

  it('is strictly monotonic in urgency and inverted by urgencyFromPriority', () => {
    for (const separateIncremental of [false, true]) {
      for (let u = 0; u <= 7; u++) {
        for (const i of [false, true]) {
          const { priority } = priorityFromHttp(p(u, i), { separateIncremental });
          expect(urgencyFromPriority(priority)).toBe(u);
          if (u < 7) {
            for (const j of [false, true]) expect(priority).toBeGreaterThan(priorityFromHttp(p(u + 1, j), { separateIncremental }).priority);
          }
        }
      }
    }
    expect(urgencyFromPriority(0)).toBe(7);
    expect(urgencyFromPriority(0xffff)).toBe(0);
    expect(() => urgencyFromPriority(0x10000)).toThrow(/INVALID_PRIORITY/);
  });

  it('drives the scheduler the way RFC 9218 §10 recommends', () => {
    // An HTTP/3 server with five responses; request headers in stream-ID order.
    const requests: [number, string][] = [
      [0, ''], // the HTML document: u=3
      [4, 'u=0'], // CSS
      [8, 'u=5, i'], // image
      [12, 'u=5, i'], // image
      [16, 'u=3'], // a script, same urgency as the document
    ];
    const sched = new StreamScheduler<number>({ quantum: 2 });
    for (const [id, field] of requests) {
      const { priority, scheme } = priorityFromHttp(parsePriorityField(field));
      sched.add(id, priority, { scheme, ready: true });
    }
    const sent: number[] = [];
    for (let k = 0; k < 12; k++) {
      const h = sched.pickHandle()!;
      sent.push(sched.streamOf(h));
      sched.onSent(h, 1);
      if (k === 2 || k === 5 || k === 8) sched.setBlocked(h); // the CSS, the document, the script finish
    }
    // Urgency order; the two u=3 responses one after the other in request order; the images round-robin.
    expect(sent).toEqual([4, 4, 4, 0, 0, 0, 16, 16, 16, 8, 8, 12]);
  });
});
