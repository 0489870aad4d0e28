import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/core' });
    const printed = calls.map((c) => c.join(' '));
    expect(printed).toEqual(['125', '101', '2 2-2 0-0']);
    // Each console.log is followed by its output as a comment line.
    const comments = [...code.matchAll(/^\/\/ (.+)$/gm)].map((m) => m[1]);
    expect(comments).toEqual(printed);
    expect(promisedOutput(code)).toEqual(['2 2-2 0-0']);
  });
});
