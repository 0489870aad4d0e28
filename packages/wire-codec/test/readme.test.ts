import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const code = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    // Run the block against this package's sources, as a user would against the published package.
    const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace("from '@pathquic/wire-codec'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await import(pathToFileURL(file).href);
      expect(log).toHaveBeenCalledTimes(1);
      const [pn, frame] = log.mock.calls[0]!;
      expect(pn).toBe(7);
      expect(frame).toMatchObject({ type: 'stream', streamId: 0, offset: 0, fin: true });
      expect(new TextDecoder().decode(frame.data)).toBe('hello');
      log.mockRestore();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
