import { defineConfig } from 'vitest/config'

// Browser end-to-end tests: a built app served by scripts/serve.ts (web +
// worker), driven by Playwright in Debian's Chromium.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['./test/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
