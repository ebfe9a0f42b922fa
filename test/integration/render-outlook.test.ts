import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { progressOf } from '#app/modules/renders/service.server.ts'
import { reportHealth, scheduler } from '#app/modules/scheduler/dispatcher.server.ts'
import { renderOutlooks } from '#app/modules/scheduler/liveness.server.ts'
import { modelKey } from '#app/modules/scheduler/policy.ts'
import type { Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { redisConnections, releaseAll } from '#test/support/queue.ts'

// What the studio promises a waiting render, from the circuit breaker's
// record of which backends answer: ETAs count only servers that answer, and
// when none does, the render is "waiting for" one, with no ETA at all.

let prefix: string
let tenant: Tenant
const connections = redisConnections()
const redis = connections.open()

/** A GPU server of one type that only does try-ons (so no other backend here, the CPU studio included, can take the work). */
function tryonServer(id: string) {
  const inner = createZeroLatencyBackend({ id })
  const capabilities = { ...inner.capabilities(), type: 'sdwebui' as const, operations: ['tryon' as const], slots: 1 }
  registerBackend({ ...inner, capabilities: () => capabilities })
}

beforeAll(async () => {
  prefix = isolateQueue()
  tryonServer('eta-a')
  tryonServer('eta-b')
  tenant = await createLocalTenant()
})

afterAll(async () => {
  await connections.closeAll()
  await releaseAll(prefix)
})

describe('what a waiting render is promised', () => {
  it('counts only answering servers for the ETA, and says which one it waits for when none answers', async () => {
    const render = await insertRender(tenant, { backend: 'eta-a', operation: 'tryon', enqueue: false })
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 2, rate: null, runningMs: null })

    await reportHealth('eta-a', false)
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 1, rate: null, runningMs: null })

    await reportHealth('eta-b', false)
    const outlook = (await renderOutlooks([render]))[render.id]
    expect(outlook.liveSlots).toBe(0)
    expect(outlook.waiting).toMatchObject({ backend: 'eta-a', backendName: 'eta-a' })
    const progress = (await progressOf(tenant.id, [render]))[render.id]
    expect(progress).toMatchObject({ etaSeconds: null, waitingFor: { backend: 'eta-a' } })

    // A passing check ends the wait.
    await reportHealth('eta-b', true)
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 1, rate: null, runningMs: null })
  })

  it("estimates from each server's measured render time: a fast and a slow server together, not a shop's median", async () => {
    const render = await insertRender(tenant, { backend: 'eta-a', operation: 'tryon', enqueue: false })
    await reportHealth('eta-a', true)
    await reportHealth('eta-b', true)
    const d = await scheduler()
    // Completions measured 10 s on eta-a; eta-b not yet measured counts at the measured mean.
    await redis.hset(`${d.store.base}b:eta-a`, 'renderMs', 10_000)
    expect((await renderOutlooks([render]))[render.id]).toMatchObject({ liveSlots: 2, rate: 0.2 })
    await redis.hset(`${d.store.base}b:eta-b`, 'renderMs', 40_000)
    const outlook = (await renderOutlooks([render]))[render.id]
    expect(outlook.rate).toBeCloseTo(0.125, 5)
    // This render's own workflow, measured on eta-a, counts before the server's overall time.
    await redis.hset(`${d.store.base}b:eta-a`, `render:${modelKey(render)}`, 20_000)
    expect((await renderOutlooks([render]))[render.id].rate).toBeCloseTo(0.075, 5)
    await redis.hdel(`${d.store.base}b:eta-a`, `render:${modelKey(render)}`)
    await d.submit({ renderId: render.id, tenant: tenant.id, workClass: 'interactive', priority: 'interactive', model: 'tryon:x', needs: { operation: 'tryon', persona: false, edge: 1024 }, home: 'eta-a', at: Date.now() })
    // First in line: its own render at the pair's pace, 1 / 0.125 s.
    expect((await progressOf(tenant.id, [render]))[render.id]).toMatchObject({ queuePosition: 1, etaSeconds: 8 })
    await d.cancel(render.id)
  })
})
