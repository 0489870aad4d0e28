// For tests that run a package's built program: rebuild it with tsup when it is missing or older than a source file.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function buildIfStale(pkgDir, builtFile) {
  let built = 0;
  try {
    built = statSync(join(pkgDir, builtFile)).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newestMtime(join(pkgDir, 'src'))) return;
  execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['tsup'], { cwd: pkgDir, stdio: 'inherit' });
}
