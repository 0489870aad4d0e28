/** Builds dist/main.js when it is missing or older than a source file: the tests run the built command. */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cli = join(root, 'dist', 'main.js');
  let built = 0;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    // not built yet
  }
  const src = join(root, 'src');
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  if (built >= newest) return;
  execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['tsup'], { cwd: root, stdio: 'inherit' });
}
