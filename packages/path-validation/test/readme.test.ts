import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/path-validation' });
    const printed = calls.map((args) => args.join(' '));
    expect(printed).toEqual([
      'wifi -> cellular: peer-migration, congestion reset',
      'validated: wifi, cellular',
      'search-complete, max datagram size 1389',
    ]);
    // The comment lines that end the block are the promised output.
    expect(promisedOutput(code)).toEqual(printed);
  });
});
