import { pathquicVitest } from '@pathquic/vitest-config';

export default pathquicVitest();
