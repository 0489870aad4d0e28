import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/h3' });
    expect(calls).toEqual([
      ['GET', '/hello.txt', 35],
      [200, 'hello, world'],
    ]);
    expect(promisedOutput(code)).toEqual(['GET /hello.txt 35', '200 hello, world']);
  });
});
