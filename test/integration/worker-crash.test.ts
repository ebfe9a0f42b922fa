import os from 'node:os'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { usageLedger, type Tenant } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, renderJobCounts, waitFor, waitForJobState, waitForRenderStatus } from '#test/support/queue.ts'
import { killWorkerProcesses, spawnWorkerProcess } from '#test/support/worker-process.ts'

// why: a 2 s lock (renewed every second) lets the next worker's stalled-job
// check take the dead worker's job within a few seconds instead of 30.
const workerEnv = { WORKER_LOCK_MS: '2000', WORKER_CONCURRENCY: '1' }

let prefix: string
let tenant: Tenant
let largest: CatalogImage

beforeAll(async () => {
  prefix = isolateQueue()
  tenant = await createLocalTenant()
  // why: the largest catalog image renders longest, so the kill lands mid-render.
  largest = (await catalogImages(tenant)).at(-1)!
})

afterAll(async () => {
  // why: first, so no stray worker outlives a failed test or holds the queue.
  await killWorkerProcesses()
  await releaseAll(prefix)
})

describe('a worker killed mid-render', () => {
  it('leaves the render running, and the next worker finishes it exactly once', async () => {
    const [render] = await createRenders(tenant, {
      productId: largest.productId,
      imageId: largest.imageId,
      look: productSceneLook(),
      seeds: [9001],
    })
    expect(render.backend).toBe('cpu-studio')

    const first = spawnWorkerProcess(workerEnv)
    await waitFor(
      `render ${render.id} to be running in the first worker`,
      async () => {
        if (!first.alive()) throw new Error(`the first worker exited early:\n${first.output()}`)
        const { status } = await readRender(render.id)
        if (status !== 'queued' && status !== 'running') throw new Error(`render was ${status} before it could be killed`)
        return status === 'running'
      },
      {
        intervalMs: 10,
        timeoutMs: 60_000,
        describe: async () => ({ status: (await readRender(render.id)).status, output: first.output() }),
      },
    )
    // why checked here: a worker yields the CPU to pages on a host it shares (WORKER_NICE, default 5).
    expect(os.getPriority(first.child.pid!)).toBe(5)
    first.child.kill('SIGKILL')
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })

    const orphaned = await readRender(render.id)
    expect(orphaned).toMatchObject({ status: 'running', attempts: 1, resultKey: null, finishedAt: null })
    expect(await db().select().from(usageLedger).where(eq(usageLedger.renderId, render.id))).toHaveLength(0)

    const second = spawnWorkerProcess(workerEnv)
    const done = await waitForRenderStatus(render.id, ['succeeded'], { timeoutMs: 120_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\nsecond worker output:\n${second.output()}`)
    })
    expect(done.attempts).toBe(2)
    expect(done.progress).toBe(100)
    expect(done.resultKey).toMatch(/^[a-f0-9]{64}$/)
    expect(await imageStore().has(done.resultKey!)).toBe(true)
    expect(await db().select().from(usageLedger).where(eq(usageLedger.renderId, render.id))).toHaveLength(1)
    await waitForJobState(render.id, 'completed', 30_000)
    const counts = await renderJobCounts()
    expect(counts).toMatchObject({ completed: 1, failed: 0, active: 0, wait: 0, prioritized: 0, delayed: 0 })

    // A graceful stop of the second worker exits cleanly.
    second.child.kill('SIGTERM')
    expect(await second.exited).toEqual({ code: 0, signal: null })
  }, 240_000)
})
