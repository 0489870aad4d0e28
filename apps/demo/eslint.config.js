import config from '@pathquic/eslint-config';

export default [
  ...config,
  {
    // An I/O program (sockets, timers, files, the wall clock), not sans-I/O protocol code.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
];
