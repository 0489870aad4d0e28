// Runs the `## Example` TypeScript block of a package's README against the package's own sources, the way a user
// would run it against the published package, so every README example is executed by the test suite.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vi } from 'vitest';

const EXAMPLE = /## Example([\s\S]*?)```ts\n([\s\S]*?)```/;

export async function runReadmeExample({ pkgDir, packageName, prepare }) {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const match = EXAMPLE.exec(readme);
  if (match === null) throw new Error(`${join(pkgDir, 'README.md')} has no "## Example" section with a ts block`);
  const [, intro, code] = match;
  const importFrom = `from '${packageName}'`;
  if (!code.includes(importFrom)) throw new Error(`the README example does not import ${packageName}`);
  const dir = mkdtempSync(join(pkgDir, 'test', '.readme-'));
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    let source = code.replaceAll(importFrom, `from ${JSON.stringify(join(pkgDir, 'src', 'index.ts'))}`);
    if (prepare !== undefined) source = prepare({ dir, code: source, intro });
    const file = join(dir, 'example.ts');
    writeFileSync(file, source);
    await import(pathToFileURL(file).href);
    return { code, intro, calls: log.mock.calls.map((args) => [...args]) };
  } finally {
    log.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function promisedOutput(code) {
  const lines = code.trimEnd().split('\n');
  const out = [];
  for (let i = lines.length - 1; i >= 0 && lines[i].startsWith('// '); i--) out.unshift(lines[i].slice(3));
  return out;
}
