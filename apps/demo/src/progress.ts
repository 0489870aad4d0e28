/** The demo's progress display: one line rewritten in place on a terminal, plain lines otherwise. */

export interface Progress {
  readonly received: number;
  readonly total: number;
  readonly elapsedMs: number;
  /** Sender's view (the server's connection), when known. */
  readonly rttMs?: number | undefined;
  readonly cwnd?: number | undefined;
  readonly lost?: number | undefined;
}

const BAR_WIDTH = 28;

export function formatBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export function rate(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
}

/** "[########------] 57%  28.5/50.0 MB  16.2 MB/s  rtt 1.31 ms  cwnd 412.0 kB  lost 0" */
export function progressLine(p: Progress, ascii = false): string {
  const fraction = p.total > 0 ? Math.min(1, p.received / p.total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const [full, empty] = ascii ? ['#', '-'] : ['\u2588', '\u2591'];
  const bar = `[${full.repeat(filled)}${empty.repeat(BAR_WIDTH - filled)}]`;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const parts = [
    `${bar} ${pct}`,
    `${(p.received / 1e6).toFixed(1)}/${(p.total / 1e6).toFixed(1)} MB`,
    `${rate(p.received, p.elapsedMs).toFixed(1)} MB/s`,
  ];
  if (p.rttMs !== undefined) parts.push(`rtt ${p.rttMs.toFixed(2)} ms`);
  if (p.cwnd !== undefined) parts.push(`cwnd ${formatBytes(p.cwnd)}`);
  if (p.lost !== undefined) parts.push(`lost ${p.lost}`);
  return parts.join('  ');
}

/**
 * Writes progress to a stream: on a TTY the same line is redrawn ("\r", erase to end of line) at most every
 * `intervalMs`; otherwise a plain line at every 10 % step, so logs stay short.
 */
export class ProgressPrinter {
  private lastDraw = -Infinity;
  private lastStep = -1;
  private drawn = false;

  constructor(
    private readonly out: { write(s: string): unknown; isTTY?: boolean },
    private readonly intervalMs = 100,
  ) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(p: Progress, force = false): void {
    if (this.tty) {
      if (!force && p.elapsedMs - this.lastDraw < this.intervalMs) return;
      this.lastDraw = p.elapsedMs;
      this.out.write(`\r${progressLine(p)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const step = p.total > 0 ? Math.floor((p.received / p.total) * 10) : 10;
    if (step === this.lastStep) return;
    this.lastStep = step;
    this.out.write(`${progressLine(p, true)}\n`);
  }

  /** Ends the progress line (TTY) so what follows starts on a fresh line. */
  finish(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
