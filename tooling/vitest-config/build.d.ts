/** Runs tsup in `pkgDir` when `builtFile` (relative to it) is missing or older than any file under src/. */
export function buildIfStale(pkgDir: string, builtFile: string): void;
