export interface ReadmeExampleRun {
  /** The example's code as written in the README. */
  readonly code: string;
  /** The README text between "## Example" and the code block. */
  readonly intro: string;
  /** Arguments of every console.log call the example made. */
  readonly calls: unknown[][];
}

/**
 * Runs the first ts block after "## Example" in `pkgDir/README.md`, with `from '<packageName>'` rewritten to the
 * package's src/index.ts, capturing console.log. `prepare` may set up files in the scratch directory (removed after)
 * and return the code to run.
 */
export function runReadmeExample(options: {
  pkgDir: string;
  packageName: string;
  prepare?: (context: { dir: string; code: string; intro: string }) => string;
}): Promise<ReadmeExampleRun>;

/** The `// …` comment lines that end the block: the output the README promises, in order. */
export function promisedOutput(code: string): string[];

/** Whether the openssl CLI is available. */
export const hasOpenssl: boolean;

/** A `prepare` that runs the intro's `openssl req …` command and points the example's cert.pem/key.pem at its output. */
export function prepareReadmeCertificate(context: { dir: string; code: string; intro: string }): string;
