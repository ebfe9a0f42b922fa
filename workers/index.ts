// The render worker process: `npm run worker`. Run as many as you like, on as
// many machines as you like; they share the scheduler and queue in Redis and
// state in Postgres.
import os from 'node:os'
import { env } from '#app/lib/env.server.ts'
import { logger } from '#app/lib/logger.server.ts'
import { startBackgroundWorkOrExit, stopOnSignals } from '#app/runtime.server.ts'

process.env.ATELIER_SERVICE ??= 'worker'
// why before any render: threads started later inherit it, so on a shared host a page yields to no render.
os.setPriority(env().WORKER_NICE)

const lockDurationMs = process.env.WORKER_LOCK_MS ? Number(process.env.WORKER_LOCK_MS) : undefined
const work = await startBackgroundWorkOrExit({ render: { lockDurationMs, stalledIntervalMs: lockDurationMs } })
logger().info(
  { concurrency: work.renderWorker.opts.concurrency, inProcess: env().WORKER_CONCURRENCY, pid: process.pid, jpegEncoder: work.encoder.library },
  'render worker started',
)
work.renderWorker.on('ready', () => process.send?.({ type: 'ready' }))
stopOnSignals({ name: 'render worker', stop: () => work.close(), left: () => work.left() })
