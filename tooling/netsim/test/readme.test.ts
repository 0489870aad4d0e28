import { runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/netsim' });
    // The comment in the README shows the exact output for seed 1; the run is deterministic.
    expect(calls).toEqual([[{ utilisation: 0.997, fairness: 1, droppedQueue: 1622, droppedRandom: 15 }]]);
    expect(code.trimEnd()).toMatch(/\/\/ \{ utilisation: 0\.997, fairness: 1, droppedQueue: 1622, droppedRandom: 15 \}$/);
  });
});
