// For tests that run a package's built program: rebuild it with tsup when it is missing or older than a source file,
// and run it to completion capturing its output.
import { execFileSync, spawn } from 'node:child_process';
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

// Runs a built Node program to completion, capturing its output; killed with SIGKILL after `timeoutMs`.
export function runBuilt(file, args, { timeoutMs = 60_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
