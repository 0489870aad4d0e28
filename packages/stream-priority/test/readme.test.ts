import { runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/stream-priority' });
    const printed = calls.map((c) => c.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
    const expected = [
      'bulk-a bulk-a bulk-b bulk-b bulk-a bulk-a',
      'control control',
      'bulk-b bulk-b bulk-b',
      'style.css ffff fifo',
    ];
    expect(printed).toEqual(expected);
    // Every printed line is also written in the example, as the comment on its console.log.
    for (const line of expected) expect(code).toContain(`// ${line}`);
  });
});
