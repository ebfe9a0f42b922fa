import type { Worker } from 'bullmq'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { RENDER_QUEUE } from '#app/modules/renders/queue.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { processRender, startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { variationOf, variationSlot } from '#app/modules/looks/variation.ts'
import { usageLedger, type Tenant } from '#db/schema.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import {
  closeWorker,
  readRender,
  releaseAll,
  renderJobCounts,
  waitForJobState,
  waitForRenderStatus,
  withRedis,
} from '#test/support/queue.ts'

let prefix: string
let tenant: Tenant
let image: CatalogImage
let worker: Worker | undefined

async function ledgerRows(renderId: string) {
  return db().select().from(usageLedger).where(eq(usageLedger.renderId, renderId))
}

/** How often each job id was added to the queue, from the queue's event stream (a refused duplicate add is not an add). */
async function addsPerJob(): Promise<Record<string, number>> {
  const entries = await withRedis((r) => r.xrange(`${prefix}:${RENDER_QUEUE}:events`, '-', '+'))
  const added: Record<string, number> = {}
  for (const [, fields] of entries) {
    const event = Object.fromEntries(fields.flatMap((f, i) => (i % 2 === 0 ? [[f, fields[i + 1]]] : [])))
    if (event.event === 'added') added[event.jobId] = (added[event.jobId] ?? 0) + 1
  }
  return added
}

beforeAll(async () => {
  prefix = isolateQueue()
  tenant = await createLocalTenant()
  // why: the smallest catalog image keeps the real CPU render short.
  image = (await catalogImages(tenant))[0]
})

afterAll(async () => {
  await releaseAll(prefix, [worker])
})

describe('queue → worker → database', () => {
  it('a render of a catalog product is taken by a worker, stored, scored and charged once', async () => {
    const [render] = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds: [101],
    })
    expect(render).toMatchObject({ status: 'queued', backend: 'cpu-studio', attempts: 0, tenantId: tenant.id })

    worker = startRenderWorker({ concurrency: 1 })
    const done = await waitForRenderStatus(render.id, ['succeeded'], { timeoutMs: 90_000 })

    expect(done.resultKey).toMatch(/^[a-f0-9]{64}$/)
    expect(await imageStore().has(done.resultKey!)).toBe(true)
    expect(typeof done.fidelityScore).toBe('number')
    expect(done.fidelityScore).toBeGreaterThanOrEqual(0)
    expect(done.fidelityScore).toBeLessThanOrEqual(100)
    expect(done.fidelity).toMatchObject({ ssim: expect.any(Number), deltaEMean: expect.any(Number) })
    expect(done.progress).toBe(100)
    expect(done.progressMessage).toBeNull()
    expect(done.attempts).toBe(1)
    expect(done.backendMs).toBeGreaterThan(0)
    expect(done.errorCode).toBeNull()
    expect(done.workflow).toBeTruthy()
    // Seed 101 is variation slot 2: the product to the right, extra-wide, lit from the front.
    expect(done.variation).toMatchObject({ light: 'front', framing: { size: 'wider' } })
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(done.queuedAt.getTime())
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime())

    const ledger = await ledgerRows(render.id)
    expect(ledger).toHaveLength(1)
    expect(ledger[0]).toMatchObject({
      tenantId: tenant.id,
      kind: 'render',
      backend: 'cpu-studio',
      units: 1,
      backendMs: done.backendMs,
      idempotencyKey: `render:${render.id}`,
    })
    const job = await waitForJobState(render.id, 'completed')
    expect(job?.data).toEqual({ renderId: render.id, backendId: 'cpu-studio' })
    expect(job?.progress).toBeGreaterThan(0)

    await closeWorker(worker)
    worker = undefined
  })
})

describe('idempotency', () => {
  it('createRenders twice with the same seeds returns the same renders and queues each once', async () => {
    const input = { productId: image.productId, imageId: image.imageId, look: productSceneLook(), seeds: [7, 8, 9] }
    const first = await createRenders(tenant, input)
    const second = await createRenders(tenant, input)
    expect(first).toHaveLength(3)
    expect(second.map((r) => r.id)).toEqual(first.map((r) => r.id))
    expect(new Set(first.map((r) => r.id)).size).toBe(3)

    const added = await addsPerJob()
    for (const r of first) expect(added[r.id], `adds of ${r.id}`).toBe(1)
    const counts = await renderJobCounts()
    expect(counts.prioritized + counts.wait).toBe(3)
  })

  it('running one render twice charges once and leaves the first result as it was', async () => {
    const [render] = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds: [202],
    })
    const once = await processRender(render.id)
    expect(once?.status).toBe('succeeded')
    const twice = await processRender(render.id)
    expect(twice).toEqual(once)
    expect(await readRender(render.id)).toEqual(once)
    expect(await ledgerRows(render.id)).toHaveLength(1)
  })

  it('two workers racing on one render (a redelivered job) still charge once and store one result', async () => {
    const [render] = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      seeds: [303],
    })
    const results = await Promise.all([processRender(render.id), processRender(render.id)])
    const final = await readRender(render.id)
    expect(final.status).toBe('succeeded')
    expect(results.some((r) => r?.status === 'succeeded')).toBe(true)
    expect(await imageStore().has(final.resultKey!)).toBe(true)
    expect(await ledgerRows(render.id)).toHaveLength(1)
  })
})

describe('variants', () => {
  it('gives the variants of one look their own framing and light, and stores what each varied', async () => {
    const renders = await createRenders(tenant, {
      productId: image.productId,
      imageId: image.imageId,
      look: productSceneLook(),
      variants: 4,
    })
    expect(new Set(renders.map((r) => variationSlot(r.seed))).size).toBe(4)
    const done = []
    for (const r of renders) done.push(await processRender(r.id))
    for (const [i, r] of done.entries()) {
      const asked = variationOf(renders[i].seed)
      expect(r?.status).toBe('succeeded')
      expect(r?.variation).toMatchObject({ light: asked.light, framing: { size: asked.framing.size } })
    }
    expect(new Set(done.map((r) => JSON.stringify(r?.variation))).size).toBe(4)
  })
})
