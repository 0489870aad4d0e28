import { runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/cid-manager' });
    expect(calls).toEqual([['connection #1'], [undefined, false, true], [42]]);
  });
});
