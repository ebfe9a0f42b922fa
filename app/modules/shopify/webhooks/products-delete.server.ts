import { and, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { cancelOpenRenders, markSourcesMissing } from '#app/modules/renders/service.server.ts'
import { productCache, type Tenant } from '#db/schema.ts'
import { productGid, type ProductPayload } from './product-payload.ts'
import type { Outcome } from './types.ts'

/** products/delete: its open renders are canceled and the cached product marked deleted. */
export async function productsDelete(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
  const productRef = productGid(payload as ProductPayload)
  if (!productRef) return { handled: false, note: 'no product id' }
  const canceled = await cancelOpenRenders(tenant.id, { productRef })
  await db()
    .update(productCache)
    .set({ deletedAt: new Date() })
    .where(and(eq(productCache.tenantId, tenant.id), eq(productCache.productRef, productRef)))
  await markSourcesMissing(tenant.id, productRef, [])
  return { handled: true, note: `${canceled} renders canceled` }
}
