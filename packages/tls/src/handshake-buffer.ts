import { AlertDescription, TlsAlertError } from './errors.js';
import { HANDSHAKE_HEADER_LENGTH, type HandshakeMessage } from './messages.js';

/**
 * Reassembles handshake messages from the in-order CRYPTO bytes of one encryption level. A message may be split
 * across any number of chunks (a large ClientHello spans several Initial packets) and one chunk may carry several
 * messages. The declared length is checked against the bound as soon as the 4-byte header is complete, so an
 * oversized message is refused before any of its body is buffered.
 */
export class HandshakeBuffer {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(
    private readonly maxMessageSize: number,
    private readonly level: string,
  ) {}

  /** Bytes received but not yet returned as messages. */
  get pending(): number {
    return this.buffered;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
    const declared = this.peekLength();
    if (declared !== undefined && declared > this.maxMessageSize) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        `${this.level} handshake message of ${declared} bytes exceeds the ${this.maxMessageSize}-byte limit`,
      );
    }
  }

  private peekLength(): number | undefined {
    if (this.buffered < HANDSHAKE_HEADER_LENGTH) return undefined;
    let len = 0;
    let seen = 0;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && seen < HANDSHAKE_HEADER_LENGTH; i++, seen++) {
        if (seen > 0) len = (len << 8) | c[i]!;
      }
      if (seen === HANDSHAKE_HEADER_LENGTH) break;
    }
    return len;
  }

  /** The next complete message, or undefined. The returned views stay valid (chunks are never reused). */
  next(): HandshakeMessage | undefined {
    const len = this.peekLength();
    if (len === undefined) return undefined;
    if (len > this.maxMessageSize) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        `${this.level} handshake message of ${len} bytes exceeds the ${this.maxMessageSize}-byte limit`,
      );
    }
    const total = HANDSHAKE_HEADER_LENGTH + len;
    if (this.buffered < total) return undefined;
    const first = this.chunks[0]!;
    let raw: Uint8Array;
    if (first.length >= total) {
      raw = first.subarray(0, total);
      if (first.length === total) this.chunks.shift();
      else this.chunks[0] = first.subarray(total);
    } else {
      raw = new Uint8Array(total);
      let filled = 0;
      while (filled < total) {
        const c = this.chunks[0]!;
        const take = Math.min(c.length, total - filled);
        raw.set(c.subarray(0, take), filled);
        filled += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.buffered -= total;
    // The following message's header may already be here: check its bound now, not after buffering its body.
    const nextLen = this.peekLength();
    if (nextLen !== undefined && nextLen > this.maxMessageSize) {
      throw new TlsAlertError(
        AlertDescription.illegal_parameter,
        `${this.level} handshake message of ${nextLen} bytes exceeds the ${this.maxMessageSize}-byte limit`,
      );
    }
    return { type: raw[0]!, body: raw.subarray(HANDSHAKE_HEADER_LENGTH), raw };
  }
}
