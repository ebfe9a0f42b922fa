import { eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { sessionTable } from '#db/schema.ts'
import type { TopicHandler } from './types.ts'

/** app/scopes_update: the sessions record the scopes the merchant granted now. */
export const appScopesUpdate: TopicHandler = async ({ shop, payload }) => {
  const current = Array.isArray(payload.current) ? (payload.current as string[]).join(',') : null
  if (current === null) return { handled: false, note: 'no current scopes in payload' }
  await db().update(sessionTable).set({ scope: current }).where(eq(sessionTable.shop, shop))
  return { handled: true, note: `scopes now ${current}` }
}
