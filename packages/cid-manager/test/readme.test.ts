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
    expect(code).toContain("from '@pathquic/cid-manager'");
    // Run the block against this package's sources, as a user would against the published package.
    const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace("from '@pathquic/cid-manager'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        await import(pathToFileURL(file).href);
        expect(log.mock.calls).toEqual([['connection #1'], [undefined, false, true], [42]]);
      } finally {
        log.mockRestore();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
