import { eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { cancelOpenRenders } from '#app/modules/renders/service.server.ts'
import { sessionTable, tenants } from '#db/schema.ts'
import type { TopicHandler } from './types.ts'

/** app/uninstalled: the sessions go, open renders are canceled, the tenant is marked uninstalled. */
export const appUninstalled: TopicHandler = async ({ shop }, tenant) => {
  await db().delete(sessionTable).where(eq(sessionTable.shop, shop))
  if (!tenant) return { handled: true, note: 'sessions deleted' }
  const canceled = await cancelOpenRenders(tenant.id)
  await db().update(tenants).set({ uninstalledAt: new Date() }).where(eq(tenants.id, tenant.id))
  return { handled: true, note: `sessions deleted, ${canceled} renders canceled` }
}
