import { runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const { calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/wire-codec' });
    expect(calls).toHaveLength(1);
    const [pn, frame] = calls[0]! as [number, { type: string; data: Uint8Array }];
    expect(pn).toBe(7);
    expect(frame).toMatchObject({ type: 'stream', streamId: 0, offset: 0, fin: true });
    expect(new TextDecoder().decode(frame.data)).toBe('hello');
  });
});
