import type { Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { RENDER_QUEUE, renderQueue } from '#app/modules/renders/queue.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { usageLedger, type Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import {
  closeWorker,
  readRender,
  releaseAll,
  renderJobCounts,
  sleep,
  stalledJobIds,
  waitForJobState,
  waitForRenderStatus,
  withRedis,
} from '#test/support/queue.ts'

const RENDER_MS = 1_500
// why not shorter: lock renewal runs on the event loop, and on a loaded CI
// machine a 1 s lock can lapse mid-render, which is a different story.
const LOCK_MS = 5_000

/** Takes RENDER_MS per render and says when each one starts. */
function slowBackend(): Backend & { started: string[]; firstStart: Promise<string> } {
  const inner = createZeroLatencyBackend()
  const started: string[] = []
  let onFirstStart: (id: string) => void = () => {}
  const firstStart = new Promise<string>((resolve) => (onFirstStart = resolve))
  return {
    ...inner,
    id: 'test-slow',
    started,
    firstStart,
    async render(request, controls) {
      started.push(request.renderId)
      onFirstStart(request.renderId)
      await sleep(RENDER_MS)
      return inner.render(request, controls)
    },
  }
}

let prefix: string
let tenant: Tenant
const slow = slowBackend()
const workers: Worker[] = []

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(slow)
  tenant = await createLocalTenant()
})

afterAll(async () => {
  await releaseAll(prefix, workers)
})

async function lockHeld(renderId: string): Promise<boolean> {
  return (await withRedis((r) => r.exists(`${prefix}:${RENDER_QUEUE}:${renderId}:lock`))) === 1
}

describe('graceful shutdown', () => {
  it('worker.close() while a render runs lets it finish, takes nothing new and leaves no stalled job', async () => {
    const first = await insertRender(tenant, { backend: slow.id })
    const second = await insertRender(tenant, { backend: slow.id })
    const worker = startRenderWorker({ concurrency: 1, lockDurationMs: LOCK_MS })
    workers.push(worker)
    const errors: string[] = []
    worker.on('error', (err) => errors.push(err.message))
    const runningId = await slow.firstStart
    expect(runningId).toBe(first.id)
    expect((await readRender(first.id)).status).toBe('running')
    expect(await lockHeld(first.id)).toBe(true)

    await closeWorker(worker)

    const done = await readRender(first.id)
    expect(done.status).toBe('succeeded')
    expect(done.attempts).toBe(1)
    expect(done.resultKey).not.toBeNull()
    // close() resolved, so the job must already be completed, not merely about to be.
    const state = await (await renderQueue().getJob(first.id))?.getState()
    expect(state, `worker errors: ${JSON.stringify(errors)}`).toBe('completed')
    // The second render was never taken: still queued, its job still waiting.
    expect(slow.started).toEqual([first.id])
    expect((await readRender(second.id)).status).toBe('queued')
    const counts = await renderJobCounts()
    expect(counts.active).toBe(0)
    expect(counts.prioritized + counts.wait).toBe(1)
    expect(await stalledJobIds()).toEqual([])

    // A job left active by close() would still hold its lock until it lapsed
    // and the stalled checker re-ran it; a finished job holds none.
    expect(await lockHeld(first.id)).toBe(false)

    // A fresh worker finishes the waiting render and re-runs nothing.
    const next = startRenderWorker({ concurrency: 1, lockDurationMs: LOCK_MS, stalledIntervalMs: 500 })
    workers.push(next)
    const stalled: string[] = []
    next.on('stalled', (jobId) => stalled.push(jobId))
    await waitForRenderStatus(second.id, ['succeeded'])
    await waitForJobState(second.id, 'completed')
    expect(stalled).toEqual([])
    expect(slow.started).toEqual([first.id, second.id])
    expect((await readRender(first.id)).attempts).toBe(1)
    for (const id of [first.id, second.id]) {
      expect(await db().select().from(usageLedger).where(eq(usageLedger.renderId, id))).toHaveLength(1)
    }
  })
})
