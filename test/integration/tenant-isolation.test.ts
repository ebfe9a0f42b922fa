import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { and, eq, isNull } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import {
  approveRender,
  cancelRender,
  createRenders,
  getRender,
  listRenders,
  publicationsOf,
  publishRender,
  rejectRender,
  undoPublish,
} from '#app/modules/renders/service.server.ts'
import { publications, type Render, type Tenant } from '#db/schema.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { catalogImages, createLocalTenant, productSceneLook, type CatalogImage } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll } from '#test/support/queue.ts'

let prefix: string
let shopA: Tenant
let shopB: Tenant
let image: CatalogImage
/** Shop A's renders, one in each state another shop might try to touch. */
let approved: Render
let published: Render
let queued: Render
let ownB: Render[]

async function renderFor(tenant: Tenant, seed: number): Promise<Render> {
  const [render] = await createRenders(tenant, {
    productId: image.productId,
    imageId: image.imageId,
    look: productSceneLook(),
    seeds: [seed],
  })
  return render
}

async function finished(tenant: Tenant, seed: number): Promise<Render> {
  const render = await renderFor(tenant, seed)
  const done = await processRender(render.id)
  expect(done?.status).toBe('succeeded')
  return done!
}

beforeAll(async () => {
  prefix = isolateQueue()
  // why: the zero-latency backend makes the renders cheap; isolation is about
  // who may see and change them, not how they were made.
  registerBackend(createZeroLatencyBackend())
  ;[shopA, shopB] = [await createLocalTenant(), await createLocalTenant()]
  image = (await catalogImages(shopA))[0]
  approved = await approveRender(shopA.id, (await finished(shopA, 1)).id)
  published = await approveRender(shopA.id, (await finished(shopA, 2)).id)
  published = await publishRender(shopA, published.id, { override: true })
  queued = await renderFor(shopA, 3)
  // Shop B renders the very same product image, look and seeds from its own catalog.
  ownB = [await finished(shopB, 1), await renderFor(shopB, 2)]
})

afterAll(async () => {
  await releaseAll(prefix)
})

async function expectNotFound(attempt: Promise<unknown>): Promise<void> {
  await expect(attempt).rejects.toMatchObject({ name: 'AppError', code: 'NOT_FOUND', status: 404 })
}

describe('tenant isolation', () => {
  it("another shop's render ids are not found by any render operation", async () => {
    expect(published.reviewState).toBe('published')
    for (const render of [approved, published, queued]) {
      await expectNotFound(getRender(shopB.id, render.id))
      await expectNotFound(approveRender(shopB.id, render.id))
      await expectNotFound(rejectRender(shopB.id, render.id))
      await expectNotFound(publishRender(shopB, render.id, { override: true }))
      await expectNotFound(undoPublish(shopB, render.id))
      await expectNotFound(cancelRender(shopB.id, render.id))
    }
    await expectNotFound(getRender(shopB.id, 'not-a-uuid'))
  })

  it("the failed attempts changed nothing of the other shop's renders or listing", async () => {
    expect(await readRender(approved.id)).toMatchObject({ status: 'succeeded', reviewState: 'approved' })
    expect(await readRender(published.id)).toMatchObject({ status: 'succeeded', reviewState: 'published' })
    expect(await readRender(queued.id)).toMatchObject({ status: 'queued' })
    const live = await db()
      .select()
      .from(publications)
      .where(and(eq(publications.renderId, published.id), isNull(publications.undoneAt)))
    expect(live).toHaveLength(1)
    expect(live[0].tenantId).toBe(shopA.id)
    expect(await publicationsOf(shopB.id, published.id)).toEqual([])
    // Nothing was published into shop B's own catalog copy.
    const folderB = path.join(shopB.settings.catalogDir!, image.productId)
    expect((await readdir(folderB)).filter((f) => f.startsWith('atelier'))).toEqual([])
  })

  it("listRenders of one shop never contains another shop's renders", async () => {
    const idsA = [approved.id, published.id, queued.id]
    const idsB = ownB.map((r) => r.id)
    // Same product, look and seed in another shop is another render.
    expect(idsB.filter((id) => idsA.includes(id))).toEqual([])

    const listed = await listRenders(shopB.id)
    expect(listed.map((r) => r.id).sort()).toEqual([...idsB].sort())
    expect(listed.every((r) => r.tenantId === shopB.id)).toBe(true)
    expect(await listRenders(shopB.id, { ids: idsA })).toEqual([])
    const byProduct = await listRenders(shopB.id, { productRef: image.productId })
    expect(byProduct.map((r) => r.id).sort()).toEqual([...idsB].sort())
    expect((await listRenders(shopA.id)).map((r) => r.id).sort()).toEqual([...idsA].sort())
  })
})
