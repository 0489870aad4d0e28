#!/usr/bin/env node
// Builds native/mptcp.c into build/Release/mptcp.node: the package's "install" script, and the first step of its
// "build" (with --if-missing) so a clone whose install skipped scripts still gets it. It never fails its caller:
// without the addon the package falls back to plain TCP and reports `mptcpFallbackReason: 'addon'`.
//
// node-gyp comes from the caller (pnpm/npm set npm_config_node_gyp) or from the npm next to this Node; Node's headers
// are taken from this Node's own prefix (--nodedir), because node-gyp would otherwise download them. When node-gyp or
// Python is missing, the same file is compiled with the C compiler directly: an N-API addon links against nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkg, 'native', 'mptcp.c');
const output = join(pkg, 'build', 'Release', 'mptcp.node');
const lock = join(pkg, '.native-build.lock');
const say = (msg) => console.log(`[@pathquic/transport-mptcp] ${msg}`);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * One build at a time: turbo may run this package's "build" while the tests' global setup checks the addon, and
 * node-gyp's rebuild starts by deleting build/. A lock directory holding the builder's pid serialises them; a lock
 * whose process is gone is taken over.
 */
function withLock(fn) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // the owner has not written its pid yet
      }
      if ((owner > 0 && !alive(owner)) || waited > 300_000) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function fresh() {
  return existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs;
}

function loads() {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(output)}).socket`], { stdio: 'pipe', timeout: 30_000 });
  return r.status === 0;
}

/** A Node prefix whose include/node has node_api.h: npm_config_nodedir, else the prefix of this Node binary. */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, cmd);
    if (dir !== '' && existsSync(file)) return file;
  }
  return undefined;
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  const npm = which('npm');
  if (npm !== undefined) candidates.push(join(dirname(realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package here
  }
  return candidates.find((file) => file && file.endsWith('.js') && existsSync(file));
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: pkg, stdio: 'pipe', encoding: 'utf8', timeout: 180_000 });
  return { ok: r.status === 0, log: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function main() {
  if (process.platform !== 'linux') return say(`skipped: MPTCP sockets need Linux (this is ${process.platform}); plain TCP will be used`);
  if (process.argv.includes('--if-missing') && fresh() && loads()) return undefined;
  const dir = nodeDir();
  if (dir === undefined) return say('not built: no Node.js headers (include/node/node_api.h) next to this node; plain TCP will be used');
  const failures = [];
  const gyp = nodeGyp();
  if (gyp !== undefined) {
    const r = run(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`]);
    if (r.ok && loads()) return say(`built ${output} with node-gyp`);
    failures.push(`node-gyp: ${r.log.trim().split('\n').slice(-8).join('\n')}`);
  } else {
    failures.push('node-gyp: not found');
  }
  const cc = process.env.CC || which('cc') || which('gcc') || which('clang');
  if (cc !== undefined) {
    mkdirSync(dirname(output), { recursive: true });
    const r = run(cc, ['-shared', '-fPIC', '-O2', '-std=gnu11', '-Wall', `-I${join(dir, 'include', 'node')}`, '-o', output, source]);
    if (r.ok && loads()) return say(`built ${output} with ${cc}`);
    failures.push(`${cc}: ${r.log.trim()}`);
  } else {
    failures.push('cc: not found');
  }
  return say(`native addon NOT built, plain TCP will be used:\n${failures.join('\n')}`);
}

try {
  withLock(main);
} catch (err) {
  say(`native addon NOT built (${err instanceof Error ? err.message : String(err)}); plain TCP will be used`);
}
process.exitCode = 0;
