import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeDb, db } from '#app/lib/db.server.ts'
import { cancelBulkRun, confirmBulkRun, startBulkRun } from '#app/modules/bulk/service.server.ts'
import { startBackgroundWork, type BackgroundWork } from '#app/runtime.server.ts'
import { bulkRunItems, bulkRuns, renders, type BulkRun, type Tenant } from '#db/schema.ts'
import { createLocalTenant, productSceneLook, removeCreatedTenants } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { deleteQueueKeys, waitFor } from '#test/support/queue.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// All background work started the way the demo starts it: in this process,
// local mode, the built-in CPU studio, nothing driven by the test. A bulk run
// only moves if the runtime started the bulk worker and the render worker.

let prefix: string
let tenant: Tenant
let work: BackgroundWork | undefined

async function readRun(runId: string): Promise<BulkRun> {
  const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
  if (!run) throw new Error(`run ${runId} is gone`)
  return run
}

function runReaches(runId: string, status: BulkRun['status'], timeoutMs: number) {
  return waitFor(`bulk run ${runId} to be ${status}`, async () => ((await readRun(runId)).status === status ? readRun(runId) : undefined), {
    timeoutMs,
    intervalMs: 100,
    describe: async () => {
      const run = await readRun(runId)
      return { status: run.status, total: run.total, done: run.done, failed: run.failed }
    },
  })
}

beforeAll(async () => {
  prefix = isolateQueue()
  tenant = await createLocalTenant()
  work = await startBackgroundWork()
})

afterAll(async () => {
  await killWorkerProcesses()
  const open = await db()
    .select({ id: bulkRuns.id })
    .from(bulkRuns)
    .where(and(eq(bulkRuns.tenantId, tenant.id), inArray(bulkRuns.status, ['estimating', 'awaiting_confirmation', 'running', 'paused'])))
  for (const r of open) await cancelBulkRun(tenant.id, r.id)
  await work?.close()
  await removeCreatedTenants()
  await closeDb()
  await deleteQueueKeys(prefix)
})

describe('startBackgroundWork, as the demo starts it', () => {
  it('completes a bulk run end to end: read, estimate, confirm, render', async () => {
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'products', productIds: ['silk-slip-dress', 'embroidered-cap'] },
      looks: [{ operation: 'product_scene', ...productSceneLook() }],
      images: { kind: 'featured' },
    })
    const estimated = await runReaches(run.id, 'awaiting_confirmation', 30_000)
    expect(estimated.total).toBe(2)
    expect(estimated.estimate).toMatchObject({ products: 2, renders: 2 })
    await confirmBulkRun(tenant, run.id)
    const done = await runReaches(run.id, 'completed', 90_000)
    expect(done).toMatchObject({ total: 2, done: 2, failed: 0 })
    const items = await db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, run.id))
    expect(items.map((i) => i.status)).toEqual(['succeeded', 'succeeded'])
    const made = await db().select().from(renders).where(eq(renders.batchId, run.id))
    expect(made.map((r) => [r.status, r.backend])).toEqual([
      ['succeeded', 'cpu-studio'],
      ['succeeded', 'cpu-studio'],
    ])
  })

  it('close() leaves no open handle: the process ends by itself', async () => {
    const child = spawnWorkerProcess({}, 'test/support/background-work-process.ts')
    await child.ready
    child.child.send({ type: 'close' })
    const exit = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8_000))])
    expect(exit, child.output()).toEqual({ code: 0, signal: null })
  })
})
