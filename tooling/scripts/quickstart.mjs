#!/usr/bin/env node
// The README's two quick-start commands (`npm run demo`, `npm test`) land here. A fresh machine has only Node.js
// and npm, so pnpm comes from npx at the exact version pinned in package.json's packageManager field; dependencies
// are installed from the lockfile on first use, and the packages are built before they are run or tested.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
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

/** Every workspace package directory (packages/*, apps/*, tooling/*). */
function workspaceDirs() {
  const dirs = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) if (existsSync(join(base, name, 'package.json'))) dirs.push(join(base, name));
  }
  return dirs;
}

/** One closing line for the whole suite, summed over the packages' vitest JSON reports. */
function printTotals(reports) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of reports) {
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}

const [task, ...rest] = process.argv.slice(2);
installIfNeeded();
switch (task) {
  case 'demo':
    pnpm('exec', 'turbo', 'run', 'build', '--filter=@pathquic/demo...', '--output-logs=errors-only');
    run(process.execPath, [join(root, 'apps', 'demo', 'dist', 'main.js'), ...rest]);
    break;
  case 'test': {
    const reports = workspaceDirs().map((dir) => join(dir, '.vitest-report', 'results.json'));
    for (const r of reports) rmSync(r, { force: true });
    pnpm('exec', 'turbo', 'run', 'build', '--output-logs=errors-only');
    const r = spawnSync(npx, ['--yes', packageManager, 'exec', 'turbo', 'run', 'test', '--concurrency=1', ...rest], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    printTotals(reports);
    process.exit(r.status ?? 1);
  }
  default:
    console.error('usage: quickstart.mjs demo|test');
    process.exit(2);
}
