/** Turning user options into what core and TLS take: key log, qlog, certificates, addresses. */
import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { QlogWriter, qlogFileName, type QlogFlavour } from '@pathquic/core';

export type KeyLogOption = string | ((line: string) => void);

/**
 * The TLS keyLog callback for an option: a path gets SSLKEYLOGFILE-format lines appended (a few lines per
 * handshake, so synchronous appends are fine); without the option the SSLKEYLOGFILE environment variable is used.
 */
export function keyLogCallback(opt: KeyLogOption | undefined): ((line: string) => void) | undefined {
  const target = opt ?? process.env['SSLKEYLOGFILE'];
  if (target === undefined || target === '') return undefined;
  if (typeof target === 'function') return target;
  return (line) => appendFileSync(target, line + '\n');
}

interface OpenQlog {
  writer: QlogWriter;
  out: WriteStream;
}

/**
 * Creates one `.sqlog` file per connection in `dir` (named `<odcid hex>_<client|server>.sqlog`, as QLOGDIR
 * implementations do). Core asks for a writer while it creates a connection; `take()` hands the file to the code
 * that then adopts that connection so it can be closed when the connection ends.
 */
export class QlogFiles {
  private readonly pending: OpenQlog[] = [];
  private made = false;

  constructor(
    private readonly dir: string,
    private readonly wallClockOffset: number,
    private readonly flavour: QlogFlavour = 'draft',
  ) {}

  readonly factory = (info: { role: 'client' | 'server'; odcid: Uint8Array; now: number }): QlogWriter => {
    if (!this.made) {
      mkdirSync(this.dir, { recursive: true });
      this.made = true;
    }
    const out = createWriteStream(join(this.dir, qlogFileName(info.odcid, info.role)));
    out.on('error', () => {});
    const writer = new QlogWriter({
      sink: (record) => {
        out.write(record);
      },
      flavour: this.flavour,
      vantagePoint: info.role,
      odcid: info.odcid,
      referenceTime: info.now,
      wallClockReference: info.now + this.wallClockOffset,
    });
    this.pending.push({ writer, out });
    return writer;
  };

  /** The file of the connection created least recently without an owner yet; returns its closer. */
  take(): (() => Promise<void>) | undefined {
    const q = this.pending.shift();
    if (q === undefined) return undefined;
    return () =>
      new Promise<void>((resolve) => {
        q.writer.close();
        q.out.end(() => resolve());
      });
  }
}

/** Resolves a host to an IP literal (IP literals as they are). */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const v = isIP(host);
  if (v === 4 || v === 6) return { address: host, family: v };
  const r = await lookup(host);
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
}

/**
 * dgram's per-send address lookup goes through dns.lookup and a nextTick even for IP literals. Every address we
 * send to is one (core only echoes addresses the socket reported), so answer synchronously.
 */
export function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  // dgram passes the socket's family (4 or 6) here.
  callback(null, address, family === 6 ? 6 : 4);
}

/** Socket buffers: big enough for a burst at 100+ MB/s; Linux caps them at net.core.[rw]mem_max. */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
