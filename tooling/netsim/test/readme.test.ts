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
    expect(code).toContain("from '@pathquic/netsim'");
    // Run the block against this package's sources, as another workspace would import it.
    const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace("from '@pathquic/netsim'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        await import(pathToFileURL(file).href);
        expect(log).toHaveBeenCalledTimes(1);
        const [printed] = log.mock.calls[0]!;
        // The comment in the README shows the exact output for seed 1; the run is deterministic.
        expect(printed).toEqual({ utilisation: 0.997, fairness: 1, droppedQueue: 1622, droppedRandom: 15 });
        const comment = /\/\/ (\{ utilisation[^\n]*\})\s*$/.exec(code!.trimEnd())?.[1];
        expect(comment).toBe('{ utilisation: 0.997, fairness: 1, droppedQueue: 1622, droppedRandom: 15 }');
      } finally {
        log.mockRestore();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
