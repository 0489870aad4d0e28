import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasNgtcp2 } from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!hasNgtcp2())('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/ngtcp2-harness' });
    const expected = { ok: true, status: 200, cipher: 'TLS_AES_128_GCM_SHA256', identical: true };
    expect(calls).toEqual([[expected]]);
    expect(promisedOutput(code)).toEqual([inspect(expected, { breakLength: Infinity })]);
  });
});
