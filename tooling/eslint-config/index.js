// Shared flat config. Packages use it as:
//   import config from '@pathquic/eslint-config'; export default config;
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Protocol code is sans-I/O: time comes in as an argument.' },
        { name: 'setInterval', message: 'Protocol code is sans-I/O: time comes in as an argument.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Protocol code is sans-I/O: time comes in as an argument.' },
      ],
    },
  },
  {
    // Tests, benchmarks and scripts may measure wall-clock time.
    files: ['**/test/**', '**/bench/**', '**/scripts/**', 'apps/**'],
    rules: { 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
);
