import { pathquicVitest } from '@pathquic/vitest-config';

export default pathquicVitest({ globalSetup: ['test/global-setup.ts'] });
