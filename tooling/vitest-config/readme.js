// Runs the `## Example` TypeScript block of a package's README against the package's own sources, the way a user
// would run it against the published package, so every README example is executed by the test suite.
import { execFileSync } from 'node:child_process';
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

/** Whether the openssl CLI is here (CI installs it; a bare machine may lack it). */
export const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A `prepare` for examples whose intro says how to make `cert.pem` and `key.pem` with an `openssl req …` command in
 * backticks: runs that very command (it has no quoting) in the scratch directory and points the code at its files.
 */
export function prepareReadmeCertificate({ dir, code, intro }) {
  const command = /`(openssl req [^`]+)`/.exec(intro)?.[1];
  if (command === undefined) throw new Error('the README example lost its openssl command');
  execFileSync('openssl', command.split(/\s+/).slice(1), { cwd: dir, stdio: 'ignore' });
  return code.replaceAll("'cert.pem'", JSON.stringify(join(dir, 'cert.pem'))).replaceAll("'key.pem'", JSON.stringify(join(dir, 'key.pem')));
}
