import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { confirmBulkRun, itemCounts, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { bulkRunItems, bulkRuns, renders, type BulkRun } from '#db/schema.ts'
import { createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, waitFor } from '#test/support/queue.ts'
import { startPrivateRedis, type PrivateService } from '#test/support/services.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// Redis restarts empty (no persistence) in the middle of a bulk run: every
// run's scheduler, the sweep, queued jobs and the scheduler's state are gone.
// The worker process that lived through it finishes the run within seconds,
// every item rendered exactly once.

const workerEnv = { WORKER_LOCK_MS: '2000', WORKER_CONCURRENCY: '2', BULK_TICK_MS: '300', MAX_OUTPUT_EDGE: '384', GATE_RETRIES: '0' }

let redis: PrivateService
let prefix: string

async function readRun(runId: string): Promise<BulkRun> {
  const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
  if (!run) throw new Error(`run ${runId} is gone`)
  return run
}

beforeAll(async () => {
  redis = await startPrivateRedis()
  process.env.REDIS_URL = redis.url
  process.env.BULK_TICK_MS = workerEnv.BULK_TICK_MS
  prefix = isolateQueue()
  resetEnvCache()
})

afterAll(async () => {
  await killWorkerProcesses()
  await closeBulkQueue()
  delete process.env.BULK_TICK_MS
  if (!redis.alive()) await redis.start()
  await releaseAll(prefix)
  await redis.destroy()
})

describe('a bulk run whose Redis restarts empty', () => {
  it('is finished by the same worker within seconds, nothing rendered twice', async () => {
    const tenant = await createLocalTenant()
    const look = { operation: 'product_scene' as const, ...productSceneLook() }
    const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'products', productIds: ['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress', 'leather-tote-bag'] },
      looks: [look, otherLook],
      images: { kind: 'featured' },
      maxInFlight: 2,
    })
    const worker = spawnWorkerProcess(workerEnv)
    await worker.ready
    await waitFor('the catalog read', async () => (await readRun(run.id)).status === 'awaiting_confirmation', { timeoutMs: 30_000 })
    await confirmBulkRun(tenant, run.id)
    await waitFor('two items to finish', async () => {
      const c = await itemCounts(db(), run.id)
      return c.succeeded + c.failed >= 2
    }, { timeoutMs: 60_000, intervalMs: 20 })

    await redis.restart('kill')
    const restartedAt = Date.now()

    // why 40 s: a sweep every minute, and runs stale only after one, would take two.
    await waitFor('the run to complete after the restart', async () => (await readRun(run.id)).status === 'completed', {
      timeoutMs: 40_000,
      intervalMs: 200,
      describe: async () => ({ counts: await itemCounts(db(), run.id), output: worker.output().slice(-2000) }),
    })
    expect(Date.now() - restartedAt).toBeLessThan(40_000)
    expect(worker.alive()).toBe(true)
    const items = await db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, run.id))
    const made = await db().select().from(renders).where(eq(renders.batchId, run.id))
    expect(items).toHaveLength(8)
    expect(items.every((i) => i.status === 'succeeded')).toBe(true)
    expect(made).toHaveLength(8)
    expect(new Set(items.map((i) => i.renderId)).size).toBe(8)
  }, 150_000)
})
