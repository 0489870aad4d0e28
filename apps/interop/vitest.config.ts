import { pathquicVitest } from '@pathquic/vitest-config';

export default pathquicVitest({
  // The tests run the built CLI (dist/cli.js) in child processes; build it first when it is stale.
  globalSetup: ['./test/global-setup.ts'],
  // Bulk transfers measure throughput and time out on a busy machine: one test file at a time.
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 60_000,
});
