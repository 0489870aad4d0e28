import { PRIORITY_DEFAULT } from '@pathquic/stream-priority';
import type { RecvStream } from './recv-stream.js';
import type { SendStream } from './send-stream.js';

/** One stream: identity plus whichever parts exist for us (RFC 9000 §2.1: unidirectional streams have one). */
export class Stream {
  readonly id: number;
  /** Index among the streams of its type (id >> 2). */
  readonly index: number;
  readonly local: boolean;
  readonly bidirectional: boolean;
  readonly send: SendStream | undefined;
  readonly recv: RecvStream | undefined;
  priority = PRIORITY_DEFAULT;
  incremental: boolean | undefined = undefined;

  constructor(id: number, index: number, local: boolean, bidirectional: boolean, send: SendStream | undefined, recv: RecvStream | undefined) {
    this.id = id;
    this.index = index;
    this.local = local;
    this.bidirectional = bidirectional;
    this.send = send;
    this.recv = recv;
  }

  get isDone(): boolean {
    return (this.send === undefined || this.send.isDone) && (this.recv === undefined || this.recv.isDone);
  }
}
