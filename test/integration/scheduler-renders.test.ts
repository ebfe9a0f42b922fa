import type { Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { renderQueue } from '#app/modules/renders/queue.server.ts'
import { enqueueRender } from '#app/modules/renders/enqueue.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import type { Backend } from '#app/modules/backends/types.ts'
import type { BackendType, Operation } from '#app/modules/looks/schema.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { cancelOpenRenders, cancelRender, progressOf } from '#app/modules/renders/service.server.ts'
import { configureScheduler, reconcile, scheduler } from '#app/modules/scheduler/dispatcher.server.ts'
import { usageLedger, type Render } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, sleep, waitFor, waitForRenderStatus, withRedis } from '#test/support/queue.ts'

// The scheduler in front of the real render path: renders recorded in
// Postgres, dispatched through Redis, run by a BullMQ worker on fake backends.
// Each test uses backends of its own type (or pinned in-process ones), and the
// circuit test an operation no other backend here does, so the scheduler never
// moves one test's renders to another's backends (failover crosses types).

const CIRCUIT = { threshold: 3, cooldownMs: 1_500 }

interface FakeBackend extends Backend {
  starts: { renderId: string; at: number; end?: number }[]
  running: number
  broken: boolean
}

/** A backend of a given type that takes `renderMs` per render and fails (retryably, as a server that is down) while `broken`. */
function fakeBackend(
  id: string,
  type: BackendType,
  opts: { renderMs: number; slots?: number; broken?: boolean; operations?: Operation[] },
): FakeBackend {
  const inner = createZeroLatencyBackend({ id, claimsProtected: true })
  const capabilities = { ...inner.capabilities(), type, slots: opts.slots ?? 1, operations: opts.operations ?? ['product_scene' as const] }
  const fake: FakeBackend = {
    ...inner,
    starts: [],
    running: 0,
    broken: opts.broken ?? false,
    capabilities: () => capabilities,
    async render(request, controls) {
      const start = { renderId: request.renderId, at: Date.now(), end: undefined as number | undefined }
      fake.starts.push(start)
      fake.running++
      try {
        await sleep(opts.renderMs)
        if (fake.broken) throw new AppError('BACKEND_UNAVAILABLE', `${id} is down`, { retryable: true })
        return await inner.render(request, controls)
      } finally {
        fake.running--
        start.end = Date.now()
      }
    },
  }
  return fake
}

let prefix: string
let worker: Worker | undefined
const saved = { RENDER_ATTEMPTS: process.env.RENDER_ATTEMPTS, RENDER_BACKOFF_MS: process.env.RENDER_BACKOFF_MS }

function setBackoff(ms: number) {
  process.env.RENDER_BACKOFF_MS = String(ms)
  resetEnvCache()
}

beforeAll(async () => {
  process.env.RENDER_ATTEMPTS = '20'
  prefix = isolateQueue()
  configureScheduler({ circuit: CIRCUIT })
  // why no health checks: the fakes answer health even while "down", which
  // would half-open the circuit the circuit test watches (checks are tested in scheduler.test.ts).
  worker = startRenderWorker({ concurrency: 8, dispatchLoop: { tickMs: 500, healthEveryMs: 0 } })
  await worker.waitUntilReady()
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
  configureScheduler(undefined)
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetEnvCache()
})

describe('fairness', () => {
  it("one shop's 500-render bulk run delays another shop's single interactive render by at most the render in progress", async () => {
    setBackoff(50)
    const gpu = fakeBackend('fair-gpu', 'weshop', { renderMs: 120 })
    registerBackend(gpu)
    const [bulkShop, smallShop] = [await createLocalTenant(), await createLocalTenant()]
    const source = await sampleProductPng(3)
    const bulk: Render[] = []
    for (let i = 0; i < 500; i += 50) {
      bulk.push(...(await Promise.all(Array.from({ length: 50 }, () => insertRender(bulkShop, { backend: gpu.id, enqueue: false, source })))))
    }
    for (const r of bulk) await enqueueRender(r.id, 'bulk')
    await waitFor('the bulk run to be under way', () => gpu.starts.length >= 3)

    const startedBefore = gpu.starts.length
    const single = await insertRender(smallShop, { backend: gpu.id })
    await waitForRenderStatus(single.id, ['succeeded'])
    const position = gpu.starts.findIndex((s) => s.renderId === single.id)
    // At most the bulk render already handed to the one slot runs first.
    expect(position - startedBefore).toBeLessThanOrEqual(1)

    await cancelOpenRenders(bulkShop.id)
    await waitFor('the fair-gpu backend to be idle', () => gpu.running === 0)
  })
})

describe('failover', () => {
  it('moves a render to another backend of its type after a retryable failure, without waiting for a backoff', async () => {
    // why a long backoff: the failover must not wait for it.
    setBackoff(5_000)
    const healthy = fakeBackend('failover-b', 'comfyui', { renderMs: 20 })
    const down = fakeBackend('failover-a', 'comfyui', { renderMs: 20, broken: true })
    // Registered last, listed first: the cold "down" backend is given the render first.
    registerBackend(healthy)
    registerBackend(down)
    const tenant = await createLocalTenant()
    const started = Date.now()
    const render = await insertRender(tenant, { backend: down.id })
    const done = await waitForRenderStatus(render.id, ['succeeded'], { timeoutMs: 10_000 })
    expect(Date.now() - started).toBeLessThan(2_400)
    expect(down.starts.map((s) => s.renderId)).toEqual([render.id])
    expect(healthy.starts.map((s) => s.renderId)).toEqual([render.id])
    expect(done).toMatchObject({ attempts: 2, backend: healthy.id, errorCode: null })
    const [usage] = await db().select().from(usageLedger).where(eq(usageLedger.renderId, render.id))
    expect(usage.backend).toBe(healthy.id)
    const job = await renderQueue().getJob(render.id)
    expect(job?.data).toEqual({ renderId: render.id, backendId: healthy.id })
    // A GPU render's job goes ahead of in-process (CPU studio) work in the queue.
    expect(job?.opts.priority).toBe(1)
  })
})

describe('circuit breaker', () => {
  it('opens after consecutive failures (no dispatch while open), then lets one probe through and closes when it succeeds', async () => {
    setBackoff(50)
    const gpu = fakeBackend('circuit-gpu', 'sdwebui', { renderMs: 150, slots: 3, broken: true, operations: ['tryon'] })
    registerBackend(gpu)
    const tenant = await createLocalTenant()
    const tryon = () => insertRender(tenant, { backend: gpu.id, operation: 'tryon' })
    const made = [await tryon(), await tryon(), await tryon()]
    const d = await scheduler()
    const circuit = async () => (await d.store.view([gpu.id], Date.now(), CIRCUIT)).backends[gpu.id]
    const opened = await waitFor('the circuit to open with nothing in flight', async () => {
      const c = await circuit()
      return c.circuit === 'open' && c.busy === 0 && gpu.running === 0 ? c : undefined
    })
    const callsWhenOpened = gpu.starts.length
    expect(callsWhenOpened).toBeGreaterThanOrEqual(CIRCUIT.threshold)
    // The retries' backoffs (tens of ms) end while it is open: nothing is dispatched.
    await sleep(800)
    expect(gpu.starts.length).toBe(callsWhenOpened)
    expect((await readRender(made[0].id)).status).toBe('retrying')

    gpu.broken = false
    const done = await Promise.all(made.map((r) => waitForRenderStatus(r.id, ['succeeded'])))
    const after = gpu.starts.slice(callsWhenOpened).sort((a, b) => a.at - b.at)
    expect(after).toHaveLength(3)
    const [probe, ...rest] = after
    expect(probe.at).toBeGreaterThanOrEqual(opened.openedAt! + CIRCUIT.cooldownMs - 50)
    // The probe ran alone (3 slots notwithstanding); the others only after it succeeded.
    for (const r of rest) expect(r.at).toBeGreaterThanOrEqual(probe.end!)
    expect(await circuit()).toMatchObject({ circuit: 'closed', failures: 0 })
    expect(done.every((r) => r.backend === gpu.id)).toBe(true)
  })
})

describe('reconciler', () => {
  it('resubmits renders that Postgres has queued after the scheduler lost them (its keys flushed)', async () => {
    setBackoff(50)
    const cpu = fakeBackend('recon-cpu', 'cpu-studio', { renderMs: 100, slots: 1 })
    registerBackend(cpu)
    const tenant = await createLocalTenant()
    const made: Render[] = []
    for (let i = 0; i < 4; i++) made.push(await insertRender(tenant, { backend: cpu.id }))
    await waitFor('the first render to start', () => cpu.starts.length >= 1)

    await withRedis(async (redis) => {
      const keys = await redis.keys(`${prefix}:sched:*`)
      if (keys.length > 0) await redis.unlink(...keys)
    })
    await waitForRenderStatus(made[0].id, ['succeeded'])
    await sleep(400)
    for (const r of made.slice(1)) expect((await readRender(r.id)).status).toBe('queued')

    const { resubmitted } = await reconcile({ olderThanMs: 0, tenantId: tenant.id })
    expect(resubmitted.sort()).toEqual(made.slice(1).map((r) => r.id).sort())
    const done = await Promise.all(made.map((r) => waitForRenderStatus(r.id, ['succeeded'])))
    expect(done.map((r) => r.attempts)).toEqual([1, 1, 1, 1])
    expect(cpu.starts).toHaveLength(4)
  })

  it('frees the slot of a render whose job vanished (a crashed process) and runs it again', async () => {
    const cpu = fakeBackend('recon-slot', 'cpu-studio', { renderMs: 50, slots: 1 })
    registerBackend(cpu)
    const tenant = await createLocalTenant()
    await worker!.pause()
    const lost = await insertRender(tenant, { backend: cpu.id })
    await (await renderQueue().getJob(lost.id))!.remove()
    const waiting = await insertRender(tenant, { backend: cpu.id })
    const d = await scheduler()
    expect((await d.store.item(lost.id))?.state).toBe('inflight')
    expect((await d.store.item(waiting.id))?.state).toBe('pending')

    const { resubmitted } = await reconcile({ olderThanMs: 0, tenantId: tenant.id })
    expect(resubmitted).toEqual([lost.id])
    worker!.resume()
    await Promise.all([lost, waiting].map((r) => waitForRenderStatus(r.id, ['succeeded'])))
    expect(cpu.starts.map((s) => s.renderId).sort()).toEqual([lost.id, waiting.id].sort())
  })
})

describe('cancel', () => {
  it('drops a waiting render from the scheduler: it never reaches the backend; the queue positions say who is next', async () => {
    const cpu = fakeBackend('cancel-cpu', 'cpu-studio', { renderMs: 400, slots: 1 })
    registerBackend(cpu)
    const tenant = await createLocalTenant()
    const [first, second, third] = [
      await insertRender(tenant, { backend: cpu.id }),
      await insertRender(tenant, { backend: cpu.id }),
      await insertRender(tenant, { backend: cpu.id }),
    ]
    await waitFor('the first render to start', () => cpu.starts.some((s) => s.renderId === first.id))
    expect((await renderQueue().getJob(first.id))?.opts.priority).toBe(21)
    const progress = await progressOf(tenant.id, [await readRender(second.id), await readRender(third.id)])
    expect([progress[second.id].queuePosition, progress[third.id].queuePosition]).toEqual([1, 2])

    const canceled = await cancelRender(tenant.id, third.id)
    expect(canceled.status).toBe('canceled')
    expect(await (await scheduler()).store.item(third.id)).toBeUndefined()
    await waitForRenderStatus(second.id, ['succeeded'])
    await sleep(200)
    expect(cpu.starts.map((s) => s.renderId)).toEqual([first.id, second.id])
    expect((await readRender(third.id)).status).toBe('canceled')
  })

  it('reaches a running render on its backend (over Redis, whichever process runs it); nothing is kept or charged', async () => {
    const aborted: string[] = []
    const inner = createZeroLatencyBackend({ id: 'cancel-gpu', claimsProtected: true })
    const capabilities = { ...inner.capabilities(), type: 'comfyui' as const, slots: 1 }
    const gpu: Backend = {
      ...inner,
      capabilities: () => capabilities,
      render: (request, controls) =>
        new Promise((_resolve, reject) => {
          // A GPU render that only ends when it is interrupted, as ComfyUI's /interrupt ends one.
          controls.signal.addEventListener('abort', () => {
            aborted.push(request.renderId)
            reject(new AppError('RENDER_CANCELED', 'interrupted on the server'))
          })
        }),
    }
    registerBackend(gpu)
    const tenant = await createLocalTenant()
    const render = await insertRender(tenant, { backend: gpu.id })
    await waitForRenderStatus(render.id, ['running'])
    const canceled = await cancelRender(tenant.id, render.id)
    expect(canceled.status).toBe('canceled')
    await waitFor('the backend to be interrupted', () => aborted.includes(render.id))
    await sleep(300)
    const row = await readRender(render.id)
    expect(row.status).toBe('canceled')
    expect(row.resultKey).toBeNull()
    expect(await db().select().from(usageLedger).where(eq(usageLedger.renderId, render.id))).toEqual([])
    // The slot is free again and the circuit saw no fault: the next render on it runs.
    const next = await insertRender(tenant, { backend: gpu.id })
    await waitForRenderStatus(next.id, ['running'])
    await cancelRender(tenant.id, next.id)
  })
})
