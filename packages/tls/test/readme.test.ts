import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// The example's certificate comes from the openssl CLI; CI installs it, a bare machine may lack it.
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('README', () => {
  it('its example runs with the certificate its openssl command makes, and prints what it says', async () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const example = /## Example([\s\S]*?)```ts\n([\s\S]*?)```/.exec(readme);
    expect(example).not.toBeNull();
    const command = /`(openssl req [^`]+)`/.exec(example![1]!)?.[1];
    expect(command).toBeDefined();
    const code = example![2]!;
    const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
    try {
      // Run the README's own openssl command, unquoted words only (it has no quoting).
      execFileSync('openssl', command!.split(/\s+/).slice(1), { cwd: dir, stdio: 'ignore' });
      const file = join(dir, 'example.ts');
      writeFileSync(
        file,
        code
          .replace("from '@pathquic/tls'", `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`)
          .replaceAll("'cert.pem'", JSON.stringify(join(dir, 'cert.pem')))
          .replaceAll("'key.pem'", JSON.stringify(join(dir, 'key.pem'))),
      );
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await import(pathToFileURL(file).href);
      expect(log).toHaveBeenCalledTimes(1);
      const printed = log.mock.calls[0]!.join(' ');
      log.mockRestore();
      const promised = /\/\/ (.+)\n$/.exec(code)?.[1];
      expect(printed).toBe(promised);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
