import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['build/**', 'node_modules/**', '.tools/**', 'catalog/**', 'var/**', 'extensions/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Command-line scripts, benchmarks and tests talk to a person through the console.
    files: ['scripts/**', 'test/**', 'workers/**', '**/*.test.ts', '**/*.bench.ts'],
    rules: { 'no-console': 'off' },
  },
)
