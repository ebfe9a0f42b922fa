import { vitePlugin as remix } from '@remix-run/dev'
import { defineConfig } from 'vite'
import { precompress } from './scripts/vite/precompress.ts'

declare module '@remix-run/node' {
  interface Future {
    v3_singleFetch: true
  }
}

export default defineConfig({
  server: { host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) },
  plugins: [
    remix({
      ignoredRouteFiles: ['**/*.test.ts', '**/*.test.tsx', '**/.*'],
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_lazyRouteDiscovery: true,
        v3_singleFetch: true,
      },
    }),
    precompress(),
  ],
  build: { assetsInlineLimit: 0 },
  optimizeDeps: { include: ['@shopify/polaris'] },
})
