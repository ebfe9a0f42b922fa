import { and, eq, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { markSourcesMissing } from '#app/modules/renders/service.server.ts'
import { productCache, publications, type Tenant } from '#db/schema.ts'
import { mediaIds, productGid, type ProductPayload } from './product-payload.ts'
import type { Outcome } from './types.ts'

/**
 * products/update: refreshes the cached image list. Our own publish/undo
 * fires this webhook too: when the only difference is media we added or
 * removed, it is our echo and nothing else happens.
 */
export async function productsUpdate(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
  const p = payload as ProductPayload
  const productRef = productGid(p)
  if (!productRef) return { handled: false, note: 'no product id' }
  const now = mediaIds(p)
  const cached = await db().query.productCache.findFirst({
    where: and(eq(productCache.tenantId, tenant.id), eq(productCache.productRef, productRef)),
  })
  const ours = await publishedOn(tenant, productRef)
  const before = cached?.imageIds ?? []
  const changed = [...now.filter((id) => !before.includes(id)), ...before.filter((id) => !now.includes(id))]
  await db()
    .insert(productCache)
    .values({ tenantId: tenant.id, productRef, title: p.title ?? productRef, imageIds: now })
    .onConflictDoUpdate({
      target: [productCache.tenantId, productCache.productRef],
      set: { imageIds: now, title: p.title ?? sql`${productCache.title}`, refreshedAt: new Date(), deletedAt: null },
    })
  if (cached && changed.length > 0 && changed.every((id) => ours.has(id))) {
    return { handled: true, note: 'our own echo: ignored' }
  }
  const originals = now.filter((id) => !ours.has(id))
  const missing = await markSourcesMissing(tenant.id, productRef, originals)
  return { handled: true, note: `images refreshed; ${missing} renders lost their source` }
}

/** The media ids Atelier published on the product, live, undone or only in the recorded steps. */
async function publishedOn(tenant: Tenant, productRef: string): Promise<Set<string>> {
  const rows = await db()
    .select({ id: publications.externalId, steps: publications.steps })
    .from(publications)
    .where(and(eq(publications.tenantId, tenant.id), eq(publications.productRef, productRef)))
  return new Set(
    rows.flatMap((r) =>
      [r.id, typeof r.steps.externalId === 'string' ? r.steps.externalId : null].filter((x): x is string => Boolean(x)),
    ),
  )
}
