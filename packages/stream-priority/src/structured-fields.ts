/**
 * The part of Structured Field Values (RFC 8941, as updated by RFC 9651) that the `Priority` field needs: parsing a
 * Dictionary (RFC 8941 §4.2.2) completely enough that any member — strings with commas, inner lists, parameters,
 * byte sequences, RFC 9651 dates and display strings — is skipped correctly, and a malformed field is rejected as a
 * whole (RFC 8941 §4.2: "fail parsing", the field is then ignored).
 */

/** A bare item's type and, for the types RFC 9218 uses, its value. */
export type SfBareItem =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'decimal'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'token'; readonly value: string }
  | { readonly type: 'byte-sequence'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'date'; readonly value: number }
  | { readonly type: 'display-string'; readonly value: string };

/** A Dictionary member value: an Item or an Inner List (RFC 8941 §3.2). Parameters are parsed and dropped. */
export type SfMember = { readonly kind: 'item'; readonly item: SfBareItem } | { readonly kind: 'inner-list'; readonly items: SfBareItem[] };

class SfFail extends Error {}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isLcAlpha = (c: string): boolean => c >= 'a' && c <= 'z';
const isAlpha = (c: string): boolean => isLcAlpha(c) || (c >= 'A' && c <= 'Z');
// RFC 9110 §5.6.2 tchar.
const isTchar = (c: string): boolean => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(c);

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private peek(): string {
    return this.s.charAt(this.i);
  }

  private fail(): never {
    throw new SfFail();
  }

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  /** RFC 8941 §4.2.2 Parsing a Dictionary. */
  dictionary(): Map<string, SfMember> {
    const dict = new Map<string, SfMember>();
    while (!this.atEnd()) {
      const key = this.key();
      let member: SfMember;
      if (this.peek() === '=') {
        this.i++;
        member = this.itemOrInnerList();
      } else {
        // A key without "=" is Boolean true (with parameters).
        this.parameters();
        member = { kind: 'item', item: { type: 'boolean', value: true } };
      }
      dict.set(key, member); // a repeated key overwrites: the last one wins
      this.ows();
      if (this.atEnd()) return dict;
      if (this.peek() !== ',') this.fail();
      this.i++;
      this.ows();
      if (this.atEnd()) this.fail(); // trailing comma
    }
    return dict;
  }

  private ows(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }

  private sp(): void {
    while (this.peek() === ' ') this.i++;
  }

  /** §4.2.3.3 Parsing a Key. */
  private key(): string {
    const start = this.i;
    const c = this.peek();
    if (!isLcAlpha(c) && c !== '*') this.fail();
    this.i++;
    for (;;) {
      const d = this.peek();
      if (isLcAlpha(d) || isDigit(d) || d === '_' || d === '-' || d === '.' || d === '*') this.i++;
      else break;
    }
    return this.s.slice(start, this.i);
  }

  /** §4.2.1.1 Parsing an Item or Inner List. */
  private itemOrInnerList(): SfMember {
    if (this.peek() === '(') return { kind: 'inner-list', items: this.innerList() };
    return { kind: 'item', item: this.item() };
  }

  /** §4.2.1.2 Parsing an Inner List. */
  private innerList(): SfBareItem[] {
    this.i++; // "("
    const items: SfBareItem[] = [];
    while (!this.atEnd()) {
      this.sp();
      if (this.peek() === ')') {
        this.i++;
        this.parameters();
        return items;
      }
      items.push(this.item());
      const c = this.peek();
      if (c !== ' ' && c !== ')') this.fail();
    }
    return this.fail();
  }

  /** §4.2.3 Parsing an Item. */
  private item(): SfBareItem {
    const bare = this.bareItem();
    this.parameters();
    return bare;
  }

  /** §4.2.3.2 Parsing Parameters (values are checked, then dropped). */
  private parameters(): void {
    while (this.peek() === ';') {
      this.i++;
      this.sp();
      this.key();
      if (this.peek() === '=') {
        this.i++;
        this.bareItem();
      }
    }
  }

  /** §4.2.3.1 Parsing a Bare Item (plus RFC 9651 §4.2.3.1's Date and Display String). */
  private bareItem(): SfBareItem {
    const c = this.peek();
    if (c === '-' || isDigit(c)) return this.number();
    if (c === '"') return { type: 'string', value: this.string() };
    if (c === '*' || isAlpha(c)) return this.token();
    if (c === ':') return this.byteSequence();
    if (c === '?') return this.boolean();
    if (c === '@') return this.date();
    if (c === '%') return this.displayString();
    return this.fail();
  }

  /** §4.2.4 Parsing an Integer or Decimal. */
  private number(): SfBareItem {
    let decimal = false;
    let sign = 1;
    if (this.peek() === '-') {
      this.i++;
      sign = -1;
    }
    if (!isDigit(this.peek())) this.fail();
    let digits = '';
    for (;;) {
      const c = this.peek();
      if (isDigit(c)) {
        digits += c;
        this.i++;
      } else if (!decimal && c === '.') {
        if (digits.length > 12) this.fail();
        digits += c;
        decimal = true;
        this.i++;
      } else {
        break;
      }
      if (!decimal && digits.length > 15) this.fail();
      if (decimal && digits.length > 16) this.fail();
    }
    if (!decimal) return { type: 'integer', value: sign * Number(digits) };
    if (digits.endsWith('.')) this.fail();
    if (digits.length - digits.indexOf('.') - 1 > 3) this.fail();
    return { type: 'decimal', value: sign * Number(digits) };
  }

  /** §4.2.5 Parsing a String. */
  private string(): string {
    this.i++; // DQUOTE
    let out = '';
    while (!this.atEnd()) {
      const c = this.s.charAt(this.i++);
      if (c === '\\') {
        const d = this.s.charAt(this.i++);
        if (d !== '"' && d !== '\\') this.fail();
        out += d;
      } else if (c === '"') {
        return out;
      } else {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) this.fail();
        out += c;
      }
    }
    return this.fail();
  }

  /** §4.2.6 Parsing a Token. */
  private token(): SfBareItem {
    const start = this.i++;
    for (;;) {
      const c = this.peek();
      if (c !== '' && (isTchar(c) || c === ':' || c === '/')) this.i++;
      else break;
    }
    return { type: 'token', value: this.s.slice(start, this.i) };
  }

  /** §4.2.7 Parsing a Byte Sequence (the base64 text is checked for its alphabet, not decoded). */
  private byteSequence(): SfBareItem {
    const start = ++this.i;
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail();
      if (c === ':') break;
      if (!(isAlpha(c) || isDigit(c) || c === '+' || c === '/' || c === '=')) this.fail();
      this.i++;
    }
    const value = this.s.slice(start, this.i);
    this.i++;
    return { type: 'byte-sequence', value };
  }

  /** §4.2.8 Parsing a Boolean. */
  private boolean(): SfBareItem {
    this.i++; // "?"
    const c = this.peek();
    if (c !== '0' && c !== '1') this.fail();
    this.i++;
    return { type: 'boolean', value: c === '1' };
  }

  /** RFC 9651 §4.2.9 Parsing a Date. */
  private date(): SfBareItem {
    this.i++; // "@"
    const n = this.number();
    if (n.type !== 'integer') this.fail();
    return { type: 'date', value: n.value };
  }

  /** RFC 9651 §4.2.10 Parsing a Display String. */
  private displayString(): SfBareItem {
    this.i++; // "%"
    if (this.peek() !== '"') this.fail();
    this.i++;
    const bytes: number[] = [];
    while (!this.atEnd()) {
      const c = this.s.charAt(this.i++);
      const code = c.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) this.fail();
      if (c === '%') {
        const hex = this.s.slice(this.i, this.i + 2);
        if (!/^[0-9a-f]{2}$/.test(hex)) this.fail();
        bytes.push(parseInt(hex, 16));
        this.i += 2;
      } else if (c === '"') {
        try {
          return { type: 'display-string', value: new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes)) };
        } catch {
          return this.fail();
        }
      } else {
        bytes.push(code);
      }
    }
    return this.fail();
  }
}

/**
 * Parse a Dictionary field value (RFC 8941 §4.2 with field type "dictionary"): leading and trailing spaces are
 * discarded, several field lines are combined with ", ". Returns null when the value is not a valid Dictionary.
 */
export function parseSfDictionary(value: string | readonly string[]): Map<string, SfMember> | null {
  const text = (typeof value === 'string' ? value : value.join(', ')).replace(/^ +| +$/g, '');
  try {
    return new Parser(text).dictionary();
  } catch (e) {
    if (e instanceof SfFail) return null;
    throw e;
  }
}
