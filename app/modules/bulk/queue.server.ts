import { Queue } from 'bullmq'
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { logger, throttledErrorLog } from '#app/lib/logger.server.ts'
import { redisConnection } from '#app/lib/redis.server.ts'

// The bulk runs' own queue. Every open run has a job scheduler of its own
// that advances it every BULK_TICK_MS (reads the catalog, tops the run up,
// reconciles items with their renders) until it has nothing left to do; a
// click or a webhook adds one immediate pass. A slow sweep re-arms open runs
// nobody advanced for a while (their scheduler lost with Redis). Jobs carry
// a run id at most; the state is in Postgres.
//
// why a scheduler per run and not one tick over every open run: the run is
// advanced through the queue it was armed in, so deployments (and test
// files) sharing a database never advance each other's runs.

export const BULK_QUEUE = 'bulk'
export const SWEEP_SCHEDULER_ID = 'bulk-sweep'
export const SWEEP_EVERY_MS = 60_000

export const bulkJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('advance'), runId: z.uuid() }),
  z.object({ kind: z.literal('sweep') }),
])
export type BulkJob = z.infer<typeof bulkJobSchema>

let queue: Queue<BulkJob> | undefined
let connection: ReturnType<typeof redisConnection> | undefined

export function bulkQueue(): Queue<BulkJob> {
  if (!queue) {
    connection = redisConnection('producer')
    queue = new Queue<BulkJob>(BULK_QUEUE, {
      connection,
      prefix: env().QUEUE_PREFIX,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: { age: 24 * 3600, count: 100 } },
    })
    queue.on('error', throttledErrorLog('bulk queue error'))
  }
  return queue
}

const schedulerId = (runId: string) => `bulk-run:${runId}`

/**
 * Makes sure the run is advanced every tick from now on, and once right
 * away. why never throws: the run is already recorded in Postgres; if Redis
 * is down the sweep arms it later, and the merchant's click must not fail.
 */
export async function armRun(runId: string): Promise<void> {
  try {
    const data = bulkJobSchema.parse({ kind: 'advance', runId })
    await bulkQueue().upsertJobScheduler(schedulerId(runId), { every: env().BULK_TICK_MS }, { name: 'advance', data })
    // why deduplicated: a burst of clicks makes one extra pass, not one each.
    await bulkQueue().add('advance', data, { deduplication: { id: `now:${runId}` } })
  } catch (err) {
    logger().warn({ err: (err as Error).message, runId }, 'could not arm the bulk run; the sweep will')
  }
}

/** Stops the run's ticks (nothing left to do until the merchant acts). */
export async function disarmRun(runId: string): Promise<void> {
  await bulkQueue().removeJobScheduler(schedulerId(runId))
}

export async function isArmed(runId: string): Promise<boolean> {
  return (await bulkQueue().getJobScheduler(schedulerId(runId))) !== undefined
}

/** Installs the sweep (idempotent: every worker process calls it at start). */
export async function scheduleSweep(): Promise<void> {
  await bulkQueue().upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: SWEEP_EVERY_MS }, { name: 'sweep', data: { kind: 'sweep' } })
}

export async function closeBulkQueue(): Promise<void> {
  const q = queue
  const c = connection
  queue = undefined
  connection = undefined
  await q?.close()
  await c?.quit().catch(() => c.disconnect())
}
