import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says', async () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const code = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace("from '@pathquic/stream-priority'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await import(pathToFileURL(file).href);
      const printed = log.mock.calls.map((c) => c.map((x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
      log.mockRestore();
      const expected = [
        'bulk-a bulk-a bulk-b bulk-b bulk-a bulk-a',
        'control control',
        'bulk-b bulk-b bulk-b',
        'style.css ffff fifo',
      ];
      expect(printed).toEqual(expected);
      // Every printed line is also written in the example, as the comment on its console.log.
      for (const line of expected) expect(code).toContain(`// ${line}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
