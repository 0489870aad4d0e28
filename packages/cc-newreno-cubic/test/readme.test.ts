import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/cc-newreno-cubic' });
    expect(calls).toEqual([[false], [[0, 1, 2, 3], 50, 8400]]);
    expect(promisedOutput(code)).toEqual(['[ 0, 1, 2, 3 ] 50 8400']);
  });
});
