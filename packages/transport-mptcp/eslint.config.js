import config from '@pathquic/eslint-config';

export default config;
