import { hasOpenssl, prepareReadmeCertificate, promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!hasOpenssl)('README', () => {
  it('its example runs with the certificate its openssl command makes, and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({
      pkgDir,
      packageName: '@pathquic/tls',
      prepare: prepareReadmeCertificate,
    });
    expect(calls).toEqual([[true, true, 'h3', 8]]);
    expect(promisedOutput(code)).toEqual(['true true h3 8']);
  });
});
