import { hasOpenssl, prepareReadmeCertificate, promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!hasOpenssl)('README', () => {
  it('its HTTP/3 example runs with the certificate its openssl command makes', async () => {
    const { code, calls } = await runReadmeExample({
      pkgDir,
      packageName: 'pathquic',
      prepare: prepareReadmeCertificate,
    });
    expect(calls).toEqual([[200, 'hello over HTTP/3']]);
    expect(promisedOutput(code)).toEqual(['200 hello over HTTP/3']);
  });
});
