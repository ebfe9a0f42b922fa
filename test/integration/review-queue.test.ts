import { randomUUID } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import {
  decideMany,
  reviewCountsByProduct,
  reviewFilterSchema,
  reviewQueue,
  type ReviewFilter,
} from '#app/modules/renders/review.server.ts'
import { bulkRuns, renders, type Render, type Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll } from '#test/support/queue.ts'

// The review queue (issue 16): every finished render awaiting a decision,
// across products and bulk runs, and one decision over many of them.

let prefix: string
let shopA: Tenant
let shopB: Tenant
let images: CatalogImage[]
/** Shop A: three renders of the first product, one of the second; `low` failed the fidelity check; `inRun` came from a bulk run. */
let ok: Render[]
let low: Render
let inRun: Render
let runId: string

async function finished(tenant: Tenant, image: CatalogImage, seed: number): Promise<Render> {
  const [render] = await createRenders(tenant, {
    productId: image.productId,
    imageId: image.imageId,
    look: productSceneLook(),
    seeds: [seed],
  })
  const done = await processRender(render.id)
  expect(done?.status).toBe('succeeded')
  return done!
}

const queue = (tenant: Tenant, f: Partial<Record<keyof ReviewFilter, string>> = {}) =>
  reviewQueue(tenant.id, reviewFilterSchema.parse(f))
const ids = (rows: Render[]) => rows.map((r) => r.id).sort()

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(createZeroLatencyBackend())
  ;[shopA, shopB] = [await createLocalTenant(), await createLocalTenant()]
  images = await catalogImages(shopA)
  const second = images.find((i) => i.productId !== images[0].productId)!
  ok = [await finished(shopA, images[0], 1), await finished(shopA, images[0], 2), await finished(shopA, second, 3)]
  low = await finished(shopA, images[0], 4)
  inRun = ok[2]
  await db()
    .update(renders)
    .set({ fidelityScore: env().FIDELITY_THRESHOLD - 30, gatePassed: false })
    .where(eq(renders.id, low.id))
  const [run] = await db()
    .insert(bulkRuns)
    .values({
      tenantId: shopA.id,
      idempotencyKey: `test:${randomUUID()}`,
      selection: { kind: 'all' },
      looks: [],
      images: { kind: 'featured' },
      status: 'completed',
    })
    .returning()
  runId = run.id
  await db().update(renders).set({ batchId: runId }).where(eq(renders.id, inRun.id))
})

afterAll(async () => {
  await releaseAll(prefix)
})

describe('the review queue', () => {
  it('lists every finished render awaiting a decision, filtered by product, look, market, verdict and run', async () => {
    const all = await queue(shopA)
    expect(ids(all.renders)).toEqual(ids([...ok, low]))
    expect(all.total).toBe(4)
    expect((await queue(shopA, { verdict: 'attention' })).renders.map((r) => r.id)).toEqual([low.id])
    expect(ids((await queue(shopA, { verdict: 'unchanged' })).renders)).toEqual(ids(ok))
    expect((await queue(shopA, { product: images[0].productId })).total).toBe(3)
    expect((await queue(shopA, { run: runId })).renders.map((r) => r.id)).toEqual([inRun.id])
    const look = productSceneLook()
    expect((await queue(shopA, { look: look.sceneId, market: look.marketId })).total).toBe(4)
    expect((await queue(shopA, { look: `${look.sceneId}~some-persona` })).total).toBe(0)
    // What each filter can pick, with counts over the whole queue.
    expect(all.facets.products.map((p) => p.count).sort()).toEqual([1, 3])
    expect(all.facets.runs).toEqual([{ id: runId, count: 1, createdAt: expect.any(String) }])
    expect(all.facets.markets).toEqual([{ id: look.marketId, count: 4 }])
    // Nonsense in the query string falls back to the defaults.
    expect(reviewFilterSchema.parse({ state: 'x', verdict: 'y', run: 'z', page: '-3' })).toMatchObject({
      state: 'pending',
      page: 1,
    })
  })

  it("another shop's ids are not found, and a mixed selection changes nothing", async () => {
    await expect(decideMany(shopB, [ok[0].id], 'approve')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 })
    const [own] = await createRenders(shopB, {
      productId: images[0].productId,
      imageId: images[0].imageId,
      look: productSceneLook(),
      seeds: [9],
    })
    await processRender(own.id)
    await expect(decideMany(shopB, [own.id, ok[1].id], 'publish', { override: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
    await expect(decideMany(shopB, ['not-a-uuid'], 'reject')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect((await readRender(own.id))?.reviewState).toBe('pending')
    expect((await readRender(ok[1].id))?.reviewState).toBe('pending')
    expect((await queue(shopB)).renders.map((r) => r.id)).toEqual([own.id])
  })

  it('approves many at once; approved ones move to the "approved" tab', async () => {
    const outcome = await decideMany(shopA, [ok[0].id, ok[1].id, ok[0].id], 'approve')
    expect(outcome.done.sort()).toEqual(ids([ok[0], ok[1]]))
    expect(ids((await queue(shopA, { state: 'approved' })).renders)).toEqual(ids([ok[0], ok[1]]))
    expect(ids((await queue(shopA)).renders)).toEqual(ids([ok[2], low]))
  })

  it('"Approve & publish" publishes what passed and holds back what needs a confirmation', async () => {
    const outcome = await decideMany(shopA, [ok[0].id, ok[2].id, low.id], 'publish')
    expect(outcome.done.sort()).toEqual(ids([ok[0], ok[2]]))
    expect(outcome.needsOverride).toEqual([low.id])
    expect(outcome.failed).toEqual([])
    expect((await readRender(ok[2].id))?.reviewState).toBe('published')
    // Held back, it is approved (the merchant said yes to it) but not on the listing.
    expect((await readRender(low.id))?.reviewState).toBe('approved')
    const files = async (productId: string) =>
      (await readdir(path.join(shopA.settings.catalogDir!, productId))).filter((f) => f.startsWith('atelier-'))
    expect(await files(images[0].productId)).toHaveLength(1)

    const anyway = await decideMany(shopA, [low.id], 'publish', { override: true })
    expect(anyway.done).toEqual([low.id])
    expect(await files(images[0].productId)).toHaveLength(2)
  })

  it('a render that cannot take the decision fails alone, the rest go through', async () => {
    const outcome = await decideMany(shopA, [ok[0].id, ok[1].id], 'reject')
    expect(outcome.done).toEqual([ok[1].id])
    expect(outcome.failed).toMatchObject([{ id: ok[0].id, code: 'INVALID_TRANSITION' }])
    expect((await readRender(ok[1].id))?.reviewState).toBe('rejected')
  })

  it('counts, per product, the finished renders and those still to review', async () => {
    const extra = await finished(shopA, images[0], 5)
    await db()
      .update(renders)
      .set({ status: 'failed' })
      .where(eq(renders.id, (await finished(shopA, images[0], 6)).id))
    const counts = await reviewCountsByProduct(shopA.id, [images[0].productId])
    expect(counts[images[0].productId]).toEqual({ finished: 4, toReview: 1 })
    expect((await queue(shopA)).renders.map((r) => r.id)).toEqual([extra.id])
  })
})
