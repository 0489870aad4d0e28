import { commandConfig } from '@pathquic/tsup-config';

export default commandConfig('src/cli.ts');
