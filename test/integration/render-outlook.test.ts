import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { progressOf } from '#app/modules/renders/service.server.ts'
import { reportHealth } from '#app/modules/scheduler/dispatcher.server.ts'
import { renderOutlooks } from '#app/modules/scheduler/liveness.server.ts'
import type { Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { createLocalTenant, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

// What the studio promises a waiting render, from the circuit breaker's
// record of which backends answer: ETAs count only servers that answer, and
// when none does, the render is "waiting for" one, with no ETA at all.

let prefix: string
let tenant: Tenant

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
  await releaseAll(prefix)
})

describe('what a waiting render is promised', () => {
  it('counts only answering servers for the ETA, and says which one it waits for when none answers', async () => {
    const render = await insertRender(tenant, { backend: 'eta-a', operation: 'tryon', enqueue: false })
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 2 })

    await reportHealth('eta-a', false)
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 1 })

    await reportHealth('eta-b', false)
    const outlook = (await renderOutlooks([render]))[render.id]
    expect(outlook.liveSlots).toBe(0)
    expect(outlook.waiting).toMatchObject({ backend: 'eta-a', backendName: 'eta-a' })
    const progress = (await progressOf(tenant.id, [render]))[render.id]
    expect(progress).toMatchObject({ etaSeconds: null, waitingFor: { backend: 'eta-a' } })

    // A passing check ends the wait.
    await reportHealth('eta-b', true)
    expect((await renderOutlooks([render]))[render.id]).toEqual({ waiting: null, liveSlots: 1 })
  })
})
