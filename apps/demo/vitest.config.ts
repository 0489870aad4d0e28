import { pathquicVitest } from '@pathquic/vitest-config';

export default pathquicVitest({
  // The tests run the built program (dist/main.js, which forks itself); build it first when it is stale.
  globalSetup: ['./test/global-setup.ts'],
});
