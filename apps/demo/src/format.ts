import type { Frame } from '@pathquic/wire-codec';

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function hexDump(bytes: Uint8Array, indent = ''): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${indent}${i.toString(16).padStart(4, '0')}  ${hex}`);
  }
  return lines.join('\n');
}

function text(data: Uint8Array): string {
  const s = Buffer.from(data).toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : `${data.length} bytes`;
}

/** One line describing a frame, the way a packet trace would show it. */
export function describeFrame(f: Frame): string {
  switch (f.type) {
    case 'padding':
      return `PADDING x${f.length}`;
    case 'crypto':
      return `CRYPTO offset ${f.offset}, ${f.data.length} bytes (TLS message type ${f.data[0]})`;
    case 'ack':
      return `ACK largest ${f.largestAcknowledged}, delay ${f.ackDelay}, ranges ${f.ranges.map((r) => `${r.smallest}-${r.largest}`).join(' ')}`;
    case 'stream':
      return `STREAM id ${f.streamId}, offset ${f.offset}${f.fin ? ', FIN' : ''}: ${text(f.data)}`;
    case 'datagram':
      return `DATAGRAM ${text(f.data)}`;
    case 'path_challenge':
      return `PATH_CHALLENGE ${toHex(f.data)}`;
    default:
      return f.type.toUpperCase();
  }
}
