import config from '@pathquic/eslint-config';

export default [
  ...config,
  {
    // This package is an I/O test tool (a real UDP relay with real timers), not sans-I/O protocol code, so its
    // sources may use timers and the wall clock.
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
];
