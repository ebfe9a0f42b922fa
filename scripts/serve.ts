// `npm start` (built app) / `npm run dev` (Vite dev server). `--with-worker`
// also runs the render worker in this process (handy on a laptop).
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { env } from '#app/lib/env.server.ts'
import { exitUnlessStoppedWithin } from '#app/lib/logger.server.ts'
import { startWebServer } from '#app/lib/server.server.ts'
import { rendersRunningHere, startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { startBulkWorker } from '#app/modules/bulk/jobs.server.ts'
import { startHealthChecks } from '#app/modules/backends/health.server.ts'

const args = new Set(process.argv.slice(2))
const dev = args.has('--dev')
if (!dev && !existsSync('build/server/index.js')) {
  console.log('No build found: building the app once (npm run build) ...')
  const r = spawnSync('npx', ['remix', 'vite:build'], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
const server = await startWebServer({ dev })
const worker = args.has('--with-worker') ? startRenderWorker() : undefined
const bulkWorker = args.has('--with-worker') ? startBulkWorker() : undefined
const healthChecks = args.has('--with-worker') ? startHealthChecks(15_000) : undefined
console.log(`Atelier (${env().APP_MODE} mode) is serving at ${server.url}/app`)

async function stop() {
  exitUnlessStoppedWithin(env().SHUTDOWN_TIMEOUT_MS, () =>
    worker ? `renders still running here: ${rendersRunningHere().join(', ') || 'none'}` : 'open requests or connections',
  )
  await Promise.all([worker?.close(), bulkWorker?.close(), healthChecks?.stop()])
  await server.close()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
