import { libraryConfig } from '@pathquic/tsup-config';

export default libraryConfig();
