/**
 * `pnpm bench` in packages/core: the connection's CPU cost per packet (send and receive paths, in-process) and an
 * in-process bulk transfer through the simulator. Socket-level throughput is measured by @pathquic/transport-dgram's
 * and apps/interop's benches. Last line: one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function run(file: string, arg?: string): Record<string, number> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...(arg ? [arg] : [])], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  for (const l of lines.slice(0, -1)) console.log(l);
  return JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
}

const perPacket = run('./per-packet.ts');
const transfer = run('./transfer.ts', '30');
console.log(`in-process bulk transfer (both endpoints and the simulator in one process): ${transfer['mbps']!.toFixed(1)} MB/s`);
console.log(JSON.stringify({ send_us_per_packet: perPacket['send_us'], receive_us_per_packet: perPacket['receive_us'], in_process_mbps: transfer['mbps'] }));
