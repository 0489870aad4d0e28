/** Runs tsup in `pkgDir` when `builtFile` (relative to it) is missing or older than any file under src/. */
export function buildIfStale(pkgDir: string, builtFile: string): void;

/** What a finished run of a built program printed and how it ended. */
export interface BuiltRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

/**
 * Runs `node file ...args` to completion and captures its output; SIGKILL after `timeoutMs` (default 60 s).
 * `env` is added to this process's environment.
 */
export function runBuilt(file: string, args: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<BuiltRun>;
