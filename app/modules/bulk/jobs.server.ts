import { UnrecoverableError, Worker } from 'bullmq'
import { env } from '#app/lib/env.server.ts'
import { logger, throttledErrorLog } from '#app/lib/logger.server.ts'
import { onReconnect, redisConnection } from '#app/lib/redis.server.ts'
import {
  armRun,
  BULK_QUEUE,
  bulkJobSchema,
  disarmRun,
  isArmed,
  scheduleSweep,
  SWEEP_EVERY_MS,
  type BulkJob,
} from './queue.server.ts'
import { advanceBulkRun, staleRuns } from './service.server.ts'

export interface BulkWorkerOptions {
  concurrency?: number
  /** Install the sweep and run it once now (default true). */
  sweep?: boolean
}

/**
 * Re-arms open runs nobody advanced for a while (see queue.server.ts). why
 * five ticks at least a minute: a run that is being advanced is touched every
 * tick, so only a run whose scheduler is really gone looks this old.
 */
export async function sweepStaleRuns(olderThanMs = Math.max(SWEEP_EVERY_MS, 5 * env().BULK_TICK_MS)): Promise<number> {
  const stale = await staleRuns(olderThanMs)
  let armed = 0
  for (const runId of stale) {
    if (await isArmed(runId)) continue
    await armRun(runId)
    armed++
  }
  if (armed > 0) logger().info({ armed }, 'bulk runs re-armed by the sweep')
  return armed
}

/**
 * The bulk runs' worker: runs in every worker process beside the render
 * worker. Any number of them may run; a run is advanced by one at a time
 * (its row lock), so more processes only mean more runs advanced at once.
 */
export function startBulkWorker(opts: BulkWorkerOptions = {}): Worker<BulkJob> {
  const connection = redisConnection('worker')
  const worker = new Worker<BulkJob>(
    BULK_QUEUE,
    async (job) => {
      const payload = bulkJobSchema.safeParse(job.data)
      if (!payload.success) throw new UnrecoverableError(`invalid bulk job payload: ${payload.error.message}`)
      if (payload.data.kind === 'sweep') return sweepStaleRuns()
      const { runId } = payload.data
      const advance = await advanceBulkRun(runId)
      // why here: the pass knows whether anything is left to do; a run waiting for the merchant needs no ticks.
      if (!advance.ticking) await disarmRun(runId)
      return advance
    },
    {
      connection,
      prefix: env().QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 4,
      // why long: reading a large catalog file is one job (BullMQ renews the lock while it runs).
      lockDuration: 60_000,
    },
  )
  worker.on('error', throttledErrorLog('bulk worker error'))
  worker.on('failed', (job, err) => logger().warn({ jobId: job?.id, err: err.message }, 'bulk job failed'))
  // why: BullMQ does not close a connection it was handed.
  worker.on('closed', () => void connection.quit().catch(() => connection.disconnect()))
  if (opts.sweep ?? true) {
    scheduleSweep()
      .then(() => sweepStaleRuns())
      .catch((err: unknown) => logger().warn({ err: (err as Error).message }, 'bulk sweep could not run'))
    onReconnect(connection, () => recoverRuns(worker))
  }
  return worker
}

/**
 * After Redis comes back, perhaps empty: the sweep is installed again and,
 * once five ticks have passed, runs nobody advanced in those ticks are
 * re-armed. why not wait the sweep's minute: a restart loses every run's
 * scheduler at once, and a run being advanced (here or by another
 * deployment) is touched every tick, so five ticks tell the two apart.
 */
function recoverRuns(worker: Worker<BulkJob>): void {
  const ticks = 5 * env().BULK_TICK_MS
  const timer = setTimeout(() => {
    if (worker.closing) return
    scheduleSweep()
      .then(() => sweepStaleRuns(ticks))
      .catch((err: unknown) => logger().warn({ err: (err as Error).message }, 'bulk runs could not be re-armed after Redis came back'))
  }, ticks + 1_000)
  timer.unref()
}
