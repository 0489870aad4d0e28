/** The tsup options these presets produce (a subset of tsup's `Options`, spelled out so configs need no tsup types). */
export interface BuildConfig {
  entry: string[];
  format: 'esm'[];
  dts: boolean;
  sourcemap: boolean;
  clean: boolean;
  target: string;
  platform: 'node';
  banner?: { js: string };
}

/** A library package: `entry` (default src/index.ts) to dist/ as ESM with type declarations and source maps. */
export declare function libraryConfig(entry?: string): BuildConfig;
/** A command: `entry` to one executable ESM file with a shebang and source maps, no declarations. */
export declare function commandConfig(entry: string): BuildConfig;
