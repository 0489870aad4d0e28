import { hasOpenssl, prepareReadmeCertificate, promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!hasOpenssl)('README', () => {
  it('its example runs with the certificate its openssl command makes, and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({
      pkgDir,
      packageName: '@pathquic/transport-dgram',
      prepare: prepareReadmeCertificate,
    });
    expect(calls).toEqual([
      ['hello over QUIC', 'echo'],
      [{ closeCode: 0, reason: 'bye', remote: false, application: true, source: 'local' }],
    ]);
    expect(promisedOutput(code)).toEqual(['hello over QUIC echo', "{ closeCode: 0, reason: 'bye', remote: false, application: true, source: 'local' }"]);
  });
});
