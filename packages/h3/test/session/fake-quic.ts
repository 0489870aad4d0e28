/**
 * An in-memory pair of QUIC connections implementing H3QuicConnection: web streams wired back to back, FIN on
 * writer.close(), RESET_STREAM / STOP_SENDING with codes, connection close with both sides' `closed` settling.
 * Chunks are copied on the way (as the network would) and can be cut into pseudo-random pieces to exercise
 * parsers on split input. Each receive buffer holds `receiveBuffer` bytes, so writers see backpressure.
 */
import type {
  H3BidirectionalStream,
  H3CloseInfo,
  H3QuicConnection,
  H3ReceiveStream,
  H3SendStream,
} from '../../src/session/index.js';

/** What a reset stream's readable / a stopped stream's writable errors with (like QuicStreamError). */
export class FakeStreamError extends Error {
  constructor(readonly code: number) {
    super(`stream aborted with code 0x${code.toString(16)}`);
  }
}

export class FakeConnectionClosedError extends Error {}

export interface FakeOptions {
  /** Cut each written chunk into pieces of 1..maxPiece bytes (default: no cutting). */
  readonly maxPiece?: number;
  /** Bytes a receive side buffers before the writer waits (default 16384). */
  readonly receiveBuffer?: number;
  readonly seed?: number;
}

export type StreamLogEntry = {
  readonly op: 'reset' | 'stop-sending';
  /** Who called it. */
  readonly by: 'client' | 'server';
  readonly id: number;
  readonly code: number;
};

interface Shared {
  readonly options: FakeOptions;
  readonly log: StreamLogEntry[];
  random: number;
}

function nextPiece(shared: Shared, remaining: number): number {
  const max = shared.options.maxPiece;
  if (max === undefined) return remaining;
  shared.random = (Math.imul(shared.random, 1103515245) + 12345) >>> 0;
  return Math.min(remaining, 1 + ((shared.random >>> 8) % max));
}

/** One direction of one stream. */
class Pipe {
  readonly writable: WritableStream<Uint8Array>;
  readonly readable: ReadableStream<Uint8Array>;
  /** 'open' until FIN, reset, stop-sending or connection close. */
  sendState: 'open' | 'fin' | 'aborted' = 'open';
  private rc!: ReadableStreamDefaultController<Uint8Array>;
  private wc!: WritableStreamDefaultController;
  private waiter: (() => void) | undefined;
  private receiveDone = false;

  constructor(
    private readonly shared: Shared,
    readonly id: number,
  ) {
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.rc = c;
        },
        pull: () => this.wake(),
        cancel: () => {
          // Like WebTransport: cancelling the readable sends STOP_SENDING (code 0 here).
          this.receiveDone = true;
          this.abortSender(new FakeStreamError(0));
        },
      },
      { highWaterMark: shared.options.receiveBuffer ?? 16384, size: (c) => c.byteLength },
    );
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.wc = c;
      },
      write: (chunk) => this.write(chunk),
      close: () => {
        if (this.sendState !== 'open') throw new FakeStreamError(0);
        this.sendState = 'fin';
        this.receiveDone = true;
        this.rc.close();
      },
      abort: () => this.reset(0),
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async write(chunk: Uint8Array): Promise<void> {
    const copy = chunk.slice();
    let offset = 0;
    while (offset < copy.length) {
      while (this.sendState === 'open' && (this.rc.desiredSize ?? 0) <= 0) {
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
      }
      if (this.sendState !== 'open') throw new FakeStreamError(0);
      // Like flow control: never more than the receive buffer has room for.
      const n = Math.min(nextPiece(this.shared, copy.length - offset), this.rc.desiredSize ?? 0);
      this.rc.enqueue(copy.subarray(offset, offset + n));
      offset += n;
    }
  }

  /** Sender: RESET_STREAM. The receiver's readable errors with the code. */
  reset(code: number): void {
    if (this.sendState !== 'open') return;
    this.sendState = 'aborted';
    const err = new FakeStreamError(code);
    this.wc.error(err);
    if (!this.receiveDone) {
      this.receiveDone = true;
      this.rc.error(err);
    }
    this.wake();
  }

  /** Receiver: STOP_SENDING. The sender's writable errors and it answers with RESET_STREAM (RFC 9000 §3.5). */
  stopSending(code: number): void {
    const err = new FakeStreamError(code);
    this.abortSender(err);
    if (!this.receiveDone) {
      this.receiveDone = true;
      this.rc.error(err);
    }
  }

  private abortSender(err: Error): void {
    if (this.sendState !== 'open') return;
    this.sendState = 'aborted';
    this.wc.error(err);
    this.wake();
  }

  connectionClosed(): void {
    const err = new FakeConnectionClosedError('connection closed');
    if (this.sendState === 'open') {
      this.sendState = 'aborted';
      this.wc.error(err);
    }
    if (!this.receiveDone) {
      this.receiveDone = true;
      this.rc.error(err);
    }
    this.wake();
  }
}

export class FakeQuicConnection implements H3QuicConnection {
  peer!: FakeQuicConnection;
  readonly closed: Promise<H3CloseInfo>;
  closeInfo: H3CloseInfo | undefined;
  readonly incomingBidirectionalStreams: ReadableStream<H3BidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<H3ReceiveStream>;
  /** Streams this side opened, by id. */
  readonly opened = new Map<number, H3SendStream>();
  private resolveClosed!: (info: H3CloseInfo) => void;
  private bidiCtrl!: ReadableStreamDefaultController<H3BidirectionalStream>;
  private uniCtrl!: ReadableStreamDefaultController<H3ReceiveStream>;
  private nextBidi: number;
  private nextUni: number;
  private readonly pipes: Set<Pipe>;

  constructor(
    readonly role: 'client' | 'server',
    private readonly shared: Shared,
    pipes: Set<Pipe>,
  ) {
    this.pipes = pipes;
    // RFC 9000 §2.1: the two low bits of a stream ID are initiator and directionality.
    this.nextBidi = role === 'client' ? 0 : 1;
    this.nextUni = role === 'client' ? 2 : 3;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.incomingBidirectionalStreams = new ReadableStream({
      start: (c) => {
        this.bidiCtrl = c;
      },
    });
    this.incomingUnidirectionalStreams = new ReadableStream({
      start: (c) => {
        this.uniCtrl = c;
      },
    });
  }

  get log(): StreamLogEntry[] {
    return this.shared.log;
  }

  private record(op: StreamLogEntry['op'], by: 'client' | 'server', id: number, code: number): void {
    this.shared.log.push({ op, by, id, code });
  }

  private pipe(id: number): Pipe {
    const p = new Pipe(this.shared, id);
    this.pipes.add(p);
    return p;
  }

  async createBidirectionalStream(): Promise<H3BidirectionalStream> {
    if (this.closeInfo !== undefined) throw new FakeConnectionClosedError('connection closed');
    const id = this.nextBidi;
    this.nextBidi += 4;
    const out = this.pipe(id);
    const back = this.pipe(id);
    const me = this.role;
    const them = this.peer.role;
    const local: H3BidirectionalStream = {
      id,
      writable: out.writable,
      readable: back.readable,
      reset: (code) => (this.record('reset', me, id, code), out.reset(code)),
      stopSending: (code) => (this.record('stop-sending', me, id, code), back.stopSending(code)),
    };
    const remote: H3BidirectionalStream = {
      id,
      writable: back.writable,
      readable: out.readable,
      reset: (code) => (this.record('reset', them, id, code), back.reset(code)),
      stopSending: (code) => (this.record('stop-sending', them, id, code), out.stopSending(code)),
    };
    this.opened.set(id, local);
    this.peer.bidiCtrl.enqueue(remote);
    return local;
  }

  async createUnidirectionalStream(): Promise<H3SendStream> {
    if (this.closeInfo !== undefined) throw new FakeConnectionClosedError('connection closed');
    const id = this.nextUni;
    this.nextUni += 4;
    const p = this.pipe(id);
    const me = this.role;
    const them = this.peer.role;
    const local: H3SendStream = {
      id,
      writable: p.writable,
      reset: (code) => (this.record('reset', me, id, code), p.reset(code)),
    };
    this.opened.set(id, local);
    this.peer.uniCtrl.enqueue({
      id,
      readable: p.readable,
      stopSending: (code) => (this.record('stop-sending', them, id, code), p.stopSending(code)),
    });
    return local;
  }

  close(info: { closeCode?: number; reason?: string } = {}): void {
    if (this.closeInfo !== undefined) return;
    const closeCode = info.closeCode ?? 0;
    const reason = info.reason ?? '';
    this.finish({ closeCode, reason, remote: false });
    this.peer.finish({ closeCode, reason, remote: true });
    for (const p of this.pipes) p.connectionClosed();
  }

  private finish(info: H3CloseInfo): void {
    this.closeInfo = info;
    this.resolveClosed(info);
    const err = new FakeConnectionClosedError('connection closed');
    this.bidiCtrl.error(err);
    this.uniCtrl.error(err);
  }
}

/** A connected client/server pair. */
export function createFakeQuicPair(options: FakeOptions = {}): { client: FakeQuicConnection; server: FakeQuicConnection } {
  const shared: Shared = { options, log: [], random: options.seed ?? 1 };
  const pipes = new Set<Pipe>();
  const client = new FakeQuicConnection('client', shared, pipes);
  const server = new FakeQuicConnection('server', shared, pipes);
  client.peer = server;
  server.peer = client;
  return { client, server };
}
