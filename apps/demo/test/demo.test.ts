import { expect, it, vi } from 'vitest';

it('the demo rebuilds the RFC 9001 client Initial, round-trips a 1-RTT packet and rejects a flipped bit', async () => {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  process.exitCode = undefined;
  await import('../src/main.js');
  log.mockRestore();
  const out = lines.join('\n');
  expect(out).toContain('identical to the RFC 9001 App. A.2 protected packet: yes');
  expect(out).toContain('server opened it: initial v1 pn 2, 1200 bytes');
  expect(out).toMatch(/STREAM id 4, offset 0, FIN: "hello from pathquic/);
  expect(out).toContain('the same packet with one bit flipped: rejected (authentication failed)');
  expect(process.exitCode).toBeUndefined();
});
