import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/udp-relay' });
    // Seed 1 decides the losses; loopback loses nothing of 10 datagrams, so the output is exact.
    expect(calls).toEqual([[{ echoes: 6, lost: 4 }]]);
    expect(promisedOutput(code)).toEqual(['{ echoes: 6, lost: 4 }']);
  });
});
