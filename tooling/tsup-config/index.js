// The one build setup of the workspace: ESM for Node 20 (es2022), with source maps. Plain objects: tsup's
// defineConfig() only returns what it is given, so the presets need nothing from tsup itself.

const common = { format: ['esm'], sourcemap: true, clean: true, target: 'es2022', platform: 'node' };

/** A library package: src/index.ts to dist/index.js with its type declarations. */
export function libraryConfig(entry = 'src/index.ts') {
  return { ...common, entry: [entry], dts: true };
}

/** A command: `entry` to one executable file with a shebang, no declarations (nothing imports it). */
export function commandConfig(entry) {
  return { ...common, entry: [entry], dts: false, banner: { js: '#!/usr/bin/env node' } };
}
