// The render worker process: `npm run worker`. Run as many as you like, on as
// many machines as you like; they share the scheduler and queue in Redis and
// state in Postgres.
import { closeDb } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { exitUnlessStoppedWithin, logger } from '#app/lib/logger.server.ts'
import { closeQueues } from '#app/lib/queues.server.ts'
import { checkPostgres, checkRedis } from '#app/lib/setup.server.ts'
import { closeHealth, startHealthChecks } from '#app/modules/backends/health.server.ts'
import { closePool } from '#app/modules/backends/pool.server.ts'
import { closeBackends } from '#app/modules/backends/registry.server.ts'
import { startBulkWorker } from '#app/modules/bulk/jobs.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { jpegEncoder } from '#app/modules/imaging/jpeg.server.ts'
import { rendersRunningHere, startRenderWorker } from '#app/modules/renders/jobs.server.ts'

process.env.ATELIER_SERVICE ??= 'worker'

// why before anything starts: with Redis or PostgreSQL unreachable a worker
// would say "started" and then log reconnect errors forever; one line and a
// non-zero exit is what an operator (or a process manager) can act on.
try {
  await Promise.all([checkRedis(env().REDIS_URL), checkPostgres(env().DATABASE_URL)])
} catch (err) {
  logger().fatal((err as Error).message.replace(/\s*\n\s*/g, ' '))
  process.exit(1)
}

// why before any render: JPEG_ENCODER=native stops a worker without the addon here, not in its first render.
const encoder = jpegEncoder()

const lockDurationMs = process.env.WORKER_LOCK_MS ? Number(process.env.WORKER_LOCK_MS) : undefined
const worker = startRenderWorker({
  lockDurationMs,
  stalledIntervalMs: lockDurationMs,
  // why the reconciler here and not in the web process: it repairs what
  // crashed workers and Redis restarts leave, and needs no request to run.
  dispatchLoop: { tickMs: 2_000, reconcileEveryMs: 60_000 },
})
// Bulk runs: reads catalogs, feeds each run within its in-flight bound, reconciles items.
const bulkWorker = startBulkWorker()
// One health check of every backend: the status Settings → GPU backends shows
// (last check, models found) and the input of the scheduler's circuit breaker.
const healthChecks = startHealthChecks(15_000)
logger().info(
  { concurrency: worker.opts.concurrency, inProcess: env().WORKER_CONCURRENCY, pid: process.pid, jpegEncoder: encoder.library },
  'render worker started',
)
worker.on('ready', () => process.send?.({ type: 'ready' }))

let closing = false
let stage = 'finishing running renders'
async function shutdown(signal: string) {
  if (closing) return
  closing = true
  const limitMs = env().SHUTDOWN_TIMEOUT_MS
  logger().info({ signal, limitMs }, 'render worker stopping: finishing active renders')
  // why a bound: a render left running is taken over by another worker once
  // its lock lapses (the stalled-job check), so exiting loses nothing.
  exitUnlessStoppedWithin(limitMs, () => {
    const left = rendersRunningHere()
    return `render worker (${stage}): ` + (left.length > 0 ? `renders still running here: ${left.join(', ')}` : 'no render was running')
  })
  // why: close() lets running renders finish and returns their jobs cleanly,
  // so a deploy never leaves half-done work to the stalled-job checker.
  await Promise.all([worker.close(), bulkWorker.close(), healthChecks.stop()])
  stage = 'closing the queues'
  await closeBulkQueue()
  await closeQueues()
  stage = 'closing backends and the database'
  await closePool()
  await closeBackends()
  await closeHealth()
  await closeDb()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
