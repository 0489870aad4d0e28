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
      writeFileSync(
        file,
        code!.replace("from '@pathquic/path-validation'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`),
      );
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await import(pathToFileURL(file).href);
      const printed = log.mock.calls.map((args) => args.join(' '));
      log.mockRestore();
      // The comment lines at the end of the block are the expected output.
      const expected = [...code!.matchAll(/^\/\/ (.+)$/gm)].map((m) => m[1]).slice(-3);
      expect(printed).toEqual([
        'wifi -> cellular: peer-migration, congestion reset',
        'validated: wifi, cellular',
        'search-complete, max datagram size 1389',
      ]);
      expect(printed).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
