import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import { confirmBulkRun, itemCounts, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { bulkRunItems, bulkRuns, renders, usageLedger, type BulkRun, type Tenant } from '#db/schema.ts'
import { createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, waitFor } from '#test/support/queue.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// A bulk run fed by a real worker process (`npm run worker`: render worker +
// bulk worker) that is killed with SIGKILL half-way, then a fresh process
// takes over from what Postgres and Redis hold. Nothing may be rendered twice
// and the in-flight bound must hold across both processes.

const workerEnv = { WORKER_LOCK_MS: '2000', WORKER_CONCURRENCY: '2', BULK_TICK_MS: '300', MAX_OUTPUT_EDGE: '384' }
const products = ['classic-graphic-tee', 'embroidered-cap', 'silk-slip-dress', 'leather-tote-bag', 'breton-striped-long-sleeve']
const look = { operation: 'product_scene' as const, ...productSceneLook() }
const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }

let prefix: string
let tenant: Tenant

async function readRun(runId: string): Promise<BulkRun> {
  const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
  if (!run) throw new Error(`run ${runId} is gone`)
  return run
}

function maxOverlap(rows: { createdAt: Date; finishedAt: Date | null }[]): number {
  const events = rows.flatMap((r) => [
    { t: r.createdAt.getTime(), d: 1 },
    { t: (r.finishedAt ?? new Date(8.64e15)).getTime(), d: -1 },
  ])
  events.sort((a, b) => a.t - b.t || a.d - b.d)
  let open = 0
  let max = 0
  for (const e of events) max = Math.max(max, (open += e.d))
  return max
}

beforeAll(async () => {
  process.env.BULK_TICK_MS = workerEnv.BULK_TICK_MS
  prefix = isolateQueue()
  resetEnvCache()
  tenant = await createLocalTenant()
})

afterAll(async () => {
  await killWorkerProcesses()
  await closeBulkQueue()
  delete process.env.BULK_TICK_MS
  await releaseAll(prefix)
})

describe('a bulk run whose worker process is killed', () => {
  it('is finished by the next process, every item rendered exactly once', async () => {
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'products', productIds: products },
      looks: [look, otherLook],
      images: { kind: 'featured' },
      maxInFlight: 2,
    })
    const first = spawnWorkerProcess(workerEnv)
    await first.ready
    await waitFor('the catalog read', async () => (await readRun(run.id)).status === 'awaiting_confirmation', {
      timeoutMs: 30_000,
      describe: async () => ({ run: await readRun(run.id), output: first.output() }),
    })
    await confirmBulkRun(tenant, run.id)
    await waitFor(
      'some items to finish in the first worker',
      async () => {
        if (!first.alive()) throw new Error(`the first worker exited early:\n${first.output()}`)
        const c = await itemCounts(db(), run.id)
        return c.succeeded + c.failed >= 3
      },
      { timeoutMs: 90_000, intervalMs: 20 },
    )
    first.child.kill('SIGKILL')
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
    const atKill = await itemCounts(db(), run.id)
    expect(atKill.pending + atKill.queued).toBeGreaterThan(0)

    const second = spawnWorkerProcess(workerEnv)
    await second.ready
    const done = await waitFor(
      'the run to complete in the second worker',
      async () => {
        const r = await readRun(run.id)
        return r.status === 'completed' ? r : undefined
      },
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        describe: async () => ({ counts: await itemCounts(db(), run.id), output: second.output() }),
      },
    )

    const items = await db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, run.id))
    const made = await db().select().from(renders).where(eq(renders.batchId, run.id))
    expect(items).toHaveLength(10)
    expect(done.total).toBe(10)
    expect(items.every((i) => i.status === 'succeeded' || i.status === 'failed')).toBe(true)
    // No duplicates: one render per item, one item per render.
    expect(made).toHaveLength(10)
    expect(new Set(items.map((i) => i.renderId)).size).toBe(10)
    expect(new Set(made.map((r) => `${r.productRef}|${r.sourceImageRef}|${r.sceneId}`)).size).toBe(10)
    for (const item of items) expect(made.find((r) => r.id === item.renderId)?.status).toBe(item.status)
    // Charged once per finished render, and never more than two open at once, across both processes.
    const succeeded = made.filter((r) => r.status === 'succeeded')
    const ledger = await db()
      .select()
      .from(usageLedger)
      .where(
        inArray(
          usageLedger.renderId,
          made.map((r) => r.id),
        ),
      )
    expect(ledger).toHaveLength(succeeded.length)
    expect(maxOverlap(made)).toBeLessThanOrEqual(2)

    second.child.kill('SIGTERM')
    expect(await second.exited).toEqual({ code: 0, signal: null })
  })
})
