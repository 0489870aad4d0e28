/** Builds dist/main.js when it is missing or older than a source file: the tests run the built command. */
import { fileURLToPath } from 'node:url';
import { buildIfStale } from '@pathquic/vitest-config/build';

export default function setup(): void {
  buildIfStale(fileURLToPath(new URL('..', import.meta.url)), 'dist/main.js');
}
