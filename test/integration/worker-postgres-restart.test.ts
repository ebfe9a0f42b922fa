import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { applyMigrations, ensureDatabase } from '#app/lib/setup.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { renders, usageLedger } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, waitFor } from '#test/support/queue.ts'
import { startPrivatePostgres, type PrivateService } from '#test/support/services.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// PostgreSQL is killed and restarted while a worker process renders. Renders
// whose attempt could not even record its failure are tried again at once,
// not left 'running' for the reconciler's minutes; each is charged once.

const workerEnv = { WORKER_LOCK_MS: '2000', WORKER_CONCURRENCY: '2', MAX_OUTPUT_EDGE: '384', GATE_RETRIES: '0', RENDER_BACKOFF_MS: '300' }
const products = ['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress', 'leather-tote-bag']

let pg: PrivateService
let prefix: string

beforeAll(async () => {
  pg = await startPrivatePostgres()
  await waitFor('the private PostgreSQL', () => ensureDatabase(pg.url).then(() => true, () => false), { timeoutMs: 20_000, intervalMs: 200 })
  await applyMigrations(pg.url)
  process.env.DATABASE_URL = pg.url
  prefix = isolateQueue()
  resetEnvCache()
  await closeDb()
}, 60_000)

afterAll(async () => {
  await killWorkerProcesses()
  await releaseAll(prefix)
  await pg.destroy()
})

describe('a worker whose PostgreSQL restarts mid-run', () => {
  it('finishes every render within seconds of the restart, each charged once', async () => {
    const tenant = await createLocalTenant()
    const images = await catalogImages(tenant)
    const ids: string[] = []
    for (const productId of products) {
      const image = images.find((i) => i.productId === productId)!
      const made = await createRenders(tenant, { productId, imageId: image.imageId, look: productSceneLook(), seeds: [41, 42, 43] })
      ids.push(...made.map((r) => r.id))
    }
    const worker = spawnWorkerProcess(workerEnv)
    await waitFor('two renders to succeed', async () => (await db().select().from(renders).where(eq(renders.status, 'succeeded'))).length >= 2, {
      timeoutMs: 90_000,
      intervalMs: 20,
    })
    await pg.restart('kill')
    const restartedAt = Date.now()
    // why 40 s: renders left 'running' wait for the reconciler (a minute, after RENDER_TIMEOUT_MS plus a minute).
    await waitFor(
      'every render to succeed after the restart',
      async () => {
        const rows = await db().select().from(renders).where(inArray(renders.id, ids)).catch(() => [])
        return rows.length === ids.length && rows.every((r) => r.status === 'succeeded')
      },
      { timeoutMs: 40_000, intervalMs: 200, describe: async () => worker.output().slice(-2000) },
    )
    expect(Date.now() - restartedAt).toBeLessThan(40_000)
    expect(worker.alive()).toBe(true)
    const ledger = await db().select().from(usageLedger).where(inArray(usageLedger.renderId, ids))
    expect(ledger).toHaveLength(ids.length)
    expect(new Set(ledger.map((l) => l.renderId)).size).toBe(ids.length)
  }, 180_000)
})
