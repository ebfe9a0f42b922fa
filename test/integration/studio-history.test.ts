import { and, count, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { loader as studioLoader } from '#app/routes/app.products.$productId.tsx'
import { renders, type Tenant } from '#db/schema.ts'
import { localTenant } from '#app/modules/tenants/service.server.ts'
import { catalogImages, insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'

// The studio shows a product's newest results a page at a time (issue 16:
// every result ever made on one page cost a slow link seconds).

let prefix: string
let tenant: Tenant
let productId: string
const made: string[] = []

beforeAll(async () => {
  prefix = isolateQueue()
  // why the local tenant: local mode's studio serves it, whatever the request.
  tenant = await localTenant()
  productId = (await catalogImages(tenant)).at(-1)!.productId
  for (let i = 0; i < 14; i++) {
    const r = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: productId })
    // why ended: a queued row nobody will run would be picked up by a reconciler elsewhere in the suite.
    await db().update(renders).set({ status: 'failed', errorCode: 'INTERNAL', finishedAt: new Date() }).where(eq(renders.id, r.id))
    made.push(r.id)
  }
})

afterAll(async () => {
  await db().delete(renders).where(inArray(renders.id, made))
  await releaseAll(prefix)
})

const studio = async (query = '') =>
  studioLoader({ request: new Request(`http://localhost/app/products/${productId}${query}`), params: { productId }, context: {} })

describe('the studio’s result history', () => {
  it('shows the newest twelve, then twelve more at a time, and says when there are no older ones', async () => {
    const first = await studio()
    expect(first.renders).toHaveLength(12)
    expect(first.olderResults).toBe(24)
    // Other files may render this product too: the total decides the second page.
    const [{ total }] = await db()
      .select({ total: count() })
      .from(renders)
      .where(and(eq(renders.tenantId, tenant.id), eq(renders.productRef, productId)))
    const more = await studio('?results=24')
    expect(more.renders).toHaveLength(Math.min(24, total))
    expect(more.renders.slice(0, 12).map((r) => r.id)).toEqual(first.renders.map((r) => r.id))
    expect(more.olderResults).toBe(total > 24 ? 36 : null)
    // Nonsense or huge asks stay within a page's bounds.
    expect((await studio('?results=abc')).renders).toHaveLength(12)
    expect((await studio('?results=100000')).renders.length).toBeLessThanOrEqual(480)
  })
})
