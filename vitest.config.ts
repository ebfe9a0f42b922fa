import { defineConfig } from 'vitest/config'

// why: the Remix Vite plugin is for the app build only; tests import modules
// directly through package.json "imports" (#app/*), which Vite resolves.
export default defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'app/**/*.test.tsx', 'test/**/*.test.ts', 'workers/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**', '.tools/**'],
    setupFiles: ['./test/setup.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: false, maxForks: 2 } },
    fileParallelism: true,
  },
})
