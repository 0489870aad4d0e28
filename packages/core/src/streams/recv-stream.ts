/**
 * The receiving part of a stream (RFC 9000 §3.2): reassembly, final size (§4.5), the stream's receive window
 * (§4.1) and STOP_SENDING. The connection-level window is passed in, as every stream feeds it.
 *
 * Bounded memory: data is checked against the advertised limit before it is stored, so the reassembly buffer
 * never holds more than the stream's window.
 */
import { QuicCodecError, TransportErrorCode } from '@pathquic/wire-codec';
import { ReassemblyBuffer } from '../reassembly.js';
import { ReceiveWindow } from '../flow-control.js';

/** RFC 9000 §3.2 receiving-part states. */
export type RecvState = 'recv' | 'size-known' | 'data-recvd' | 'data-read' | 'reset-recvd' | 'reset-read';

export class RecvStream {
  state: RecvState = 'recv';
  readonly buffer: ReassemblyBuffer;
  readonly window: ReceiveWindow;
  /** The application asked the peer to stop (STOP_SENDING); buffered and later data are discarded. */
  stopRequested = false;
  stopCode: number | bigint = 0;
  /** A STOP_SENDING is due (first time, or its packet was lost). */
  stopPending = false;
  /** A MAX_STREAM_DATA is due (window update, or the last one was lost). */
  maxDataPending = false;
  /** Report 'readable' on the next arrival (the reader drained what was there). */
  readableArmed = true;

  constructor(initialWindow: number, maxWindow: number, keepViews = false) {
    // Views of the datagrams are safe only when their owner gave them up (see StreamManagerOptions).
    this.buffer = new ReassemblyBuffer({ copy: !keepViews });
    this.window = new ReceiveWindow({ initialWindow, maxWindow: Math.max(initialWindow, maxWindow) });
  }

  /** Terminal for the receiver (§3.2 "Data Read" / "Reset Read"), or stopped with every byte accounted for. */
  get isDone(): boolean {
    return this.state === 'data-read' || this.state === 'reset-read' || (this.stopRequested && this.buffer.isFinished);
  }

  /** The reader has consumed everything up to the final size. */
  get isFinishedReading(): boolean {
    return this.state === 'data-read';
  }

  /** Data or the FIN can be read now. */
  get hasReadable(): boolean {
    if (this.stopRequested || this.state === 'reset-read' || this.state === 'data-read') return false;
    return this.buffer.availableBytes > 0 || this.buffer.isFinished;
  }

  /**
   * STOP_SENDING is (still) worth sending: we stopped and the peer has not reset (§3.5: in "Recv" or "Size
   * Known"; even with the final size known it spares the peer retransmitting what we would discard).
   */
  get wantsStop(): boolean {
    return this.stopRequested && this.state !== 'reset-recvd' && this.state !== 'reset-read';
  }

  /** MAX_STREAM_DATA is useful only while the peer may still need credit (§3.2: not once the size is known). */
  get wantsCredit(): boolean {
    return this.state === 'recv' && !this.stopRequested;
  }

  /**
   * A STREAM frame (§19.8). Final size rules (§4.5) and both flow-control limits (§4.1) are enforced before
   * anything is stored; violations throw QuicCodecError with FINAL_SIZE_ERROR / FLOW_CONTROL_ERROR.
   */
  onData(offset: number, data: Uint8Array, fin: boolean, conn: ReceiveWindow, frameType: number): void {
    const end = offset + data.length;
    this.checkFinalSize(end, fin, frameType);
    const increase = this.window.onReceivedUpTo(end);
    if (increase > 0) conn.onIncrease(increase);
    this.buffer.insert(offset, data, fin);
    if (this.stopRequested || this.state === 'reset-recvd' || this.state === 'reset-read') {
      this.consumeDiscarded(conn);
      return;
    }
    if (this.state === 'recv' && fin) this.state = 'size-known';
    if (this.state === 'size-known' && this.buffer.isComplete) this.state = 'data-recvd';
  }

  /**
   * A RESET_STREAM (§19.4). Returns true when it ends the stream for the reader (false when the stream was
   * already finished or reset: §3.2 lets an endpoint ignore a reset once all data is received).
   */
  onReset(finalSize: number, conn: ReceiveWindow, frameType: number): boolean {
    this.checkFinalSize(finalSize, true, frameType);
    const increase = this.window.onReceivedUpTo(finalSize);
    if (increase > 0) conn.onIncrease(increase);
    this.buffer.setFinalSize(finalSize);
    if (this.state === 'data-recvd' || this.state === 'data-read' || this.state === 'reset-recvd' || this.state === 'reset-read') {
      this.consumeDiscarded(conn);
      return false;
    }
    this.state = 'reset-recvd';
    this.buffer.discard();
    // §4.5: the whole final size counts as consumed, so the connection's credit comes back.
    this.consume(finalSize - this.window.consumed, conn);
    return true;
  }

  /** Reads up to maxBytes in order; the caller already checked the state. */
  read(maxBytes: number, conn: ReceiveWindow): Uint8Array | undefined {
    const data = this.buffer.read(maxBytes);
    if (data !== undefined) this.consume(data.length, conn);
    if (this.buffer.availableBytes === 0) this.readableArmed = true;
    if (this.buffer.isFinished) this.state = 'data-read';
    else if (data !== undefined && this.wantsCredit && this.window.shouldUpdate) this.maxDataPending = true;
    return data;
  }

  /** The application gives up reading (§3.5). Returns whether a STOP_SENDING should be sent. */
  stop(code: number | bigint, conn: ReceiveWindow): boolean {
    if (this.stopRequested || this.state === 'reset-recvd' || this.state === 'reset-read' || this.state === 'data-read') {
      return false;
    }
    this.buffer.discard();
    this.consumeDiscarded(conn);
    this.maxDataPending = false;
    if (this.state === 'data-recvd') {
      // Everything already arrived: nothing to ask of the peer.
      this.state = 'data-read';
      return false;
    }
    this.stopRequested = true;
    this.stopCode = code;
    this.stopPending = true;
    return true;
  }

  private checkFinalSize(end: number, fin: boolean, frameType: number): void {
    const final = this.buffer.finalSize;
    if (fin) {
      if (final !== undefined && end !== final) {
        throw new QuicCodecError(TransportErrorCode.FINAL_SIZE_ERROR, `final size changed from ${final} to ${end}`, frameType);
      }
      if (end < this.buffer.highestOffset) {
        throw new QuicCodecError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `final size ${end} is below data already received up to ${this.buffer.highestOffset}`,
          frameType,
        );
      }
    } else if (final !== undefined && end > final) {
      throw new QuicCodecError(TransportErrorCode.FINAL_SIZE_ERROR, `data ends at ${end}, past the final size ${final}`, frameType);
    }
  }

  /** Discarded bytes count as read, so that flow-control credit keeps flowing (§4.5). */
  private consumeDiscarded(conn: ReceiveWindow): void {
    const target = this.buffer.readOffset;
    if (target > this.window.consumed) this.consume(target - this.window.consumed, conn);
  }

  private consume(bytes: number, conn: ReceiveWindow): void {
    if (bytes <= 0) return;
    this.window.onConsumed(bytes);
    conn.onConsumed(bytes);
  }
}
