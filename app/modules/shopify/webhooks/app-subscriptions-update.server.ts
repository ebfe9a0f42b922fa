import { and, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { subscriptions, type Tenant } from '#db/schema.ts'
import type { Outcome } from './types.ts'

/** app_subscriptions/update: the merchant approved, declined or cancelled the plan in Shopify's UI. */
export async function appSubscriptionsUpdate(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
  const sub = payload.app_subscription as { admin_graphql_api_id?: string; status?: string } | undefined
  if (!sub?.admin_graphql_api_id || !sub.status) return { handled: false, note: 'no subscription in payload' }
  const updated = await db()
    .update(subscriptions)
    .set({ status: sub.status.toUpperCase(), updatedAt: new Date() })
    .where(and(eq(subscriptions.tenantId, tenant.id), eq(subscriptions.externalId, sub.admin_graphql_api_id)))
    .returning()
  return { handled: true, note: updated.length ? `plan ${sub.status}` : 'not our subscription' }
}
