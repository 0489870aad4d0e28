// Builds the native addon when the install step did not (a clone installed with --ignore-scripts, or a C file newer
// than the build), so the tests exercise real MPTCP sockets.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pkgDir } from './support/netns.js';

export default function setup(): void {
  execFileSync(process.execPath, [join(pkgDir, 'scripts', 'build-native.mjs'), '--if-missing'], { stdio: 'inherit' });
}
