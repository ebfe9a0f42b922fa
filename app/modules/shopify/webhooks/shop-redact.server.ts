import { and, eq, inArray, or, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { cancelOpenRenders } from '#app/modules/renders/service.server.ts'
import { renders, sessionTable, tenants, webhookEvents, type Tenant } from '#db/schema.ts'
import type { TopicHandler } from './types.ts'

/** shop/redact: deletes every row and every stored image of the shop (48 h after uninstall). */
export const shopRedact: TopicHandler = async ({ shop }, tenant) => {
  await db().delete(sessionTable).where(eq(sessionTable.shop, shop))
  if (!tenant) return { handled: true, note: 'nothing stored' }
  await cancelOpenRenders(tenant.id)
  const mine = await imagesOnlyOf(tenant)
  for (const key of mine) await imageStore().delete(key)
  await db().delete(tenants).where(eq(tenants.id, tenant.id))
  await db().delete(webhookEvents).where(eq(webhookEvents.shop, shop))
  return { handled: true, note: `shop data deleted (${mine.size} images)` }
}

/** The stored image keys of the tenant's renders that no other tenant's render uses. */
async function imagesOnlyOf(tenant: Tenant): Promise<Set<string>> {
  const keys = await db()
    .select({ source: renders.sourceKey, result: renders.resultKey, mask: renders.maskKey })
    .from(renders)
    .where(eq(renders.tenantId, tenant.id))
  const mine = new Set(keys.flatMap((k) => [k.source, k.result, k.mask].filter((x): x is string => Boolean(x))))
  // why: the store is content-addressed; bytes another shop also uses stay.
  const shared = mine.size
    ? await db()
        .select({ source: renders.sourceKey, result: renders.resultKey, mask: renders.maskKey })
        .from(renders)
        .where(
          and(
            sql`${renders.tenantId} <> ${tenant.id}`,
            or(inArray(renders.sourceKey, [...mine]), inArray(renders.resultKey, [...mine]), inArray(renders.maskKey, [...mine])),
          ),
        )
    : []
  for (const k of shared) for (const key of [k.source, k.result, k.mask]) if (key) mine.delete(key)
  return mine
}
