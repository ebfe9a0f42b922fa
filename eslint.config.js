import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: ['build/**', 'node_modules/**', '.tools/**', 'catalog/**', 'var/**', 'extensions/**', 'app/types/*.generated.d.ts'],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // why: a cycle between modules means neither can be read, tested or moved alone; app/lib imports no module.
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './app/lib',
              from: './app/modules',
              message: 'app/lib imports no module: move the code into the module, or pass it in.',
            },
            {
              // why: a page or job asks platformFor / billingFor; only those two registries pick Shopify's code.
              target: [
                './app/modules/!(shopify|platforms|billing)/**/*',
                './app/modules/platforms/**/!(index.server.ts)',
                './app/modules/billing/**/!(service.server.ts)',
              ],
              from: './app/modules/shopify',
              message: 'Platform-neutral modules do not import Shopify: ask platformFor(tenant) or billingFor(tenant).',
            },
            {
              target: './app/modules/shopify',
              from: './app/modules/platforms/local.server.ts',
              message: "A platform does not import another's implementation: share the code from imaging/ or platforms/.",
            },
          ],
        },
      ],
    },
  },
  {
    // Command-line scripts, benchmarks and tests talk to a person through the console.
    files: ['scripts/**', 'test/**', 'workers/**', '**/*.test.ts', '**/*.bench.ts'],
    rules: { 'no-console': 'off' },
  },
)
