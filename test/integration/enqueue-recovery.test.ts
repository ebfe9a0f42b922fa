import type { Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { renderQueue } from '#app/modules/renders/queue.server.ts'
import { enqueueRender } from '#app/modules/renders/enqueue.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import type { Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll, waitForRenderStatus } from '#test/support/queue.ts'

// why: the real enqueue, wrapped so one call can fail the way it does when
// Redis drops between the insert and the add.
vi.mock('#app/modules/renders/enqueue.server.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#app/modules/renders/enqueue.server.ts')>()
  return { ...real, enqueueRender: vi.fn(real.enqueueRender) }
})

let prefix: string
let tenant: Tenant
let image: CatalogImage
let worker: Worker | undefined

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(createZeroLatencyBackend())
  tenant = await createLocalTenant()
  image = (await catalogImages(tenant))[0]
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
})

describe('a render recorded but not queued', () => {
  it('is queued by the retried createRenders call and then renders', async () => {
    const input = { productId: image.productId, imageId: image.imageId, look: productSceneLook(), seeds: [5150] }
    vi.mocked(enqueueRender).mockRejectedValueOnce(new Error('Connection is closed.'))
    await expect(createRenders(tenant, input)).rejects.toThrow('Connection is closed.')

    // The row exists (the insert committed) but no job does.
    const [again] = await createRenders(tenant, input)
    expect(again.status).toBe('queued')
    expect(await renderQueue().getJob(again.id)).toBeDefined()

    worker = startRenderWorker({ concurrency: 1 })
    const done = await waitForRenderStatus(again.id, ['succeeded'])
    expect(done.attempts).toBe(1)
    expect((await readRender(again.id)).resultKey).not.toBeNull()
  })
})
