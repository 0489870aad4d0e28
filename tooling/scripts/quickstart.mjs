#!/usr/bin/env node
// The README's two quick-start commands (`npm run demo`, `npm test`) land here. A fresh machine has only Node.js
// and npm, so pnpm comes from npx at the exact version pinned in package.json's packageManager field; dependencies
// are installed from the lockfile on first use, and the packages are built before they are run or tested.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function pnpm(...args) {
  // --yes: never prompt on a fresh machine; npm_config_update_notifier off keeps output clean.
  run(npx, ['--yes', packageManager, ...args], { npm_config_update_notifier: 'false' });
}

function installIfNeeded() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs) {
    pnpm('install', '--frozen-lockfile');
  }
}

const [task, ...rest] = process.argv.slice(2);
installIfNeeded();
switch (task) {
  case 'demo':
    pnpm('exec', 'turbo', 'run', 'build', '--filter=@pathquic/demo...', '--output-logs=errors-only');
    run(process.execPath, [join(root, 'apps', 'demo', 'dist', 'main.js'), ...rest]);
    break;
  case 'test':
    pnpm('exec', 'turbo', 'run', 'build', '--output-logs=errors-only');
    pnpm('exec', 'turbo', 'run', 'test', '--concurrency=1', ...rest);
    break;
  default:
    console.error('usage: quickstart.mjs demo|test');
    process.exit(2);
}
