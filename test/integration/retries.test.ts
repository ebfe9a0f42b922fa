import type { Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { usageLedger, type Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, sleep, waitForJobState, waitForRenderStatus } from '#test/support/queue.ts'

const BACKOFF_MS = 50
const ATTEMPTS = 3

/** A backend that runs `behaviour` per call (counted per render) and otherwise renders instantly. */
function scriptedBackend(id: string, behaviour: (call: number) => void): Backend & { calls: Map<string, number> } {
  const inner = createZeroLatencyBackend()
  const calls = new Map<string, number>()
  return {
    ...inner,
    id,
    calls,
    async render(request, controls) {
      const call = (calls.get(request.renderId) ?? 0) + 1
      calls.set(request.renderId, call)
      behaviour(call)
      return inner.render(request, controls)
    },
  }
}

const restartsOnce = scriptedBackend('test-restarts-once', (call) => {
  if (call === 1) throw new AppError('BACKEND_UNAVAILABLE', 'The GPU server is restarting', { retryable: true })
})
const needsMask = scriptedBackend('test-needs-mask', () => {
  throw new AppError('BACKEND_NEEDS_MASK', 'This photo has a busy background: paint a mask over the product')
})
const alwaysDown = scriptedBackend('test-always-down', () => {
  throw new Error('connect ECONNREFUSED 10.0.0.7:8188')
})

let prefix: string
let tenant: Tenant
let worker: Worker | undefined
const savedEnv = { RENDER_BACKOFF_MS: process.env.RENDER_BACKOFF_MS, RENDER_ATTEMPTS: process.env.RENDER_ATTEMPTS }

beforeAll(async () => {
  process.env.RENDER_BACKOFF_MS = String(BACKOFF_MS)
  process.env.RENDER_ATTEMPTS = String(ATTEMPTS)
  prefix = isolateQueue()
  for (const backend of [restartsOnce, needsMask, alwaysDown]) registerBackend(backend)
  tenant = await createLocalTenant()
  worker = startRenderWorker({ concurrency: 2 })
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
  Object.assign(process.env, savedEnv)
  for (const [k, v] of Object.entries(savedEnv)) if (v === undefined) delete process.env[k]
  resetEnvCache()
})

async function ledgerRows(renderId: string) {
  return db().select().from(usageLedger).where(eq(usageLedger.renderId, renderId))
}

describe('retries', () => {
  it('a retryable backend error is retried after a backoff and the render then succeeds', async () => {
    const render = await insertRender(tenant, { backend: restartsOnce.id })
    const done = await waitForRenderStatus(render.id, ['succeeded'])
    expect(done.attempts).toBe(2)
    expect(restartsOnce.calls.get(render.id)).toBe(2)
    // why: the first attempt's error must not stick to a render that succeeded.
    expect(done.errorCode).toBeNull()
    expect(done.errorMessage).toBeNull()
    expect(done.progress).toBe(100)
    expect(await ledgerRows(render.id)).toHaveLength(1)
    await waitForJobState(render.id, 'completed')
  })

  it('a non-retryable AppError fails the render at once with its code and message, without a retry', async () => {
    const render = await insertRender(tenant, { backend: needsMask.id })
    const failed = await waitForRenderStatus(render.id, ['failed'])
    expect(failed.errorCode).toBe('BACKEND_NEEDS_MASK')
    expect(failed.errorMessage).toBe('This photo has a busy background: paint a mask over the product')
    expect(failed.attempts).toBe(1)
    expect(failed.finishedAt).toBeInstanceOf(Date)
    const job = await waitForJobState(render.id, 'failed')
    expect(job?.failedReason).toContain('BACKEND_NEEDS_MASK')
    // why: wait well past every backoff the job would have had, then check
    // nothing came back for a second try.
    await sleep(BACKOFF_MS * 2 ** ATTEMPTS * 2)
    expect(needsMask.calls.get(render.id)).toBe(1)
    expect((await waitForRenderStatus(render.id, ['failed'])).attempts).toBe(1)
    expect(await ledgerRows(render.id)).toHaveLength(0)
  })

  it('a retryable error on every attempt fails the render after the last attempt, without leaking the raw error', async () => {
    const render = await insertRender(tenant, { backend: alwaysDown.id })
    const failed = await waitForRenderStatus(render.id, ['failed'])
    expect(failed.attempts).toBe(ATTEMPTS)
    expect(alwaysDown.calls.get(render.id)).toBe(ATTEMPTS)
    expect(failed.errorCode).toBe('BACKEND_FAILED')
    expect(failed.errorMessage).not.toContain('10.0.0.7')
    await waitForJobState(render.id, 'failed')
    expect(await ledgerRows(render.id)).toHaveLength(0)
  })
})
