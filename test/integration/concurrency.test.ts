import type { Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { imageStore } from '#app/lib/storage.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import type { Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { catalogImages, createLocalTenant, productSceneLook, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll, waitForRenderStatus } from '#test/support/queue.ts'

let prefix: string
let tenant: Tenant
let worker: Worker | undefined

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(createZeroLatencyBackend())
  tenant = await createLocalTenant()
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
})

describe('many renders at once', () => {
  it('the image store takes the same bytes from many writers at the same moment', async () => {
    const bytes = await sampleProductPng(7)
    const keys = await Promise.all(Array.from({ length: 16 }, () => imageStore().put(bytes)))
    expect(new Set(keys).size).toBe(1)
    expect(await imageStore().get(keys[0])).toEqual(bytes)
  })

  it('renders whose results are byte-identical all succeed on the first attempt at high concurrency', async () => {
    // why: the zero-latency backend ignores the seed, so every variant is the
    // same image and the workers store the same key at the same moment.
    const image = (await catalogImages(tenant))[0]
    const seeds = Array.from({ length: 24 }, (_, i) => 1000 + i)
    const created = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds,
    })
    worker = startRenderWorker({ concurrency: 8 })
    const done = await Promise.all(created.map((r) => waitForRenderStatus(r.id, ['succeeded'])))
    expect(new Set(done.map((r) => r.resultKey)).size).toBe(1)
    expect(done.map((r) => r.attempts)).toEqual(seeds.map(() => 1))
  })
})
