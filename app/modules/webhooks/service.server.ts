import { and, eq, inArray, or, sql } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { catalogReadFinished } from '#app/modules/bulk/service.server.ts'
import { cancelOpenRenders, markSourcesMissing } from '#app/modules/renders/service.server.ts'
import { findTenant } from '#app/modules/tenants/service.server.ts'
import { checkDelivery, type Delivery } from '#app/modules/webhooks/delivery.ts'
import { productCache, publications, renders, sessionTable, subscriptions, tenants, webhookEvents, type Tenant } from '#db/schema.ts'

export type WebhookEvent = Delivery

type Outcome = { handled: boolean; note: string }

/**
 * Handles one HMAC-verified webhook exactly once. The headers are checked
 * against the signed body first (an AppError INVALID_INPUT, nothing touched,
 * when they disagree); then the webhook id and the topic's event id are
 * recorded, so a redelivery or a second subscription's copy is skipped.
 */
export async function handleWebhook(delivery: WebhookEvent): Promise<Outcome> {
  const verdict = checkDelivery(delivery)
  if (!verdict.ok) {
    logger().warn({ shop: delivery.shop, topic: delivery.topic, webhookId: delivery.webhookId, reason: verdict.reason }, 'webhook refused')
    throw new AppError('INVALID_INPUT', `Webhook refused: ${verdict.reason}`)
  }
  const event: VerifiedEvent = { shop: delivery.shop, webhookId: delivery.webhookId, topic: verdict.topic, payload: verdict.payload }
  const inserted = await db()
    .insert(webhookEvents)
    .values({ webhookId: event.webhookId, eventId: verdict.eventId, shop: event.shop, topic: event.topic })
    .onConflictDoNothing()
    .returning()
  if (inserted.length === 0) return { handled: false, note: 'duplicate delivery' }
  const log = logger().child({ shop: event.shop, topic: event.topic, webhookId: event.webhookId })
  try {
    const outcome = await dispatch(event)
    log.info({ note: outcome.note }, 'webhook handled')
    return outcome
  } catch (e) {
    // why: forget the ids so Shopify's retry runs the handler again.
    await db().delete(webhookEvents).where(eq(webhookEvents.webhookId, event.webhookId))
    throw e
  }
}

interface VerifiedEvent {
  shop: string
  webhookId: string
  topic: string
  payload: Record<string, unknown>
}

async function dispatch(event: VerifiedEvent): Promise<Outcome> {
  const topic = event.topic
  const tenant = await findTenant('shopify', event.shop)
  switch (topic) {
    case 'app/uninstalled':
      return appUninstalled(event.shop, tenant)
    case 'app/scopes_update':
      return scopesUpdate(event.shop, event.payload)
    case 'customers/data_request':
    case 'customers/redact':
      // We store no customer data: renders reference products and images only.
      return { handled: true, note: 'no customer data stored' }
    case 'shop/redact':
      return shopRedact(event.shop, tenant)
    case 'products/update':
      return tenant ? productUpdated(tenant, event.payload) : { handled: false, note: 'unknown shop' }
    case 'products/delete':
      return tenant ? productDeleted(tenant, event.payload) : { handled: false, note: 'unknown shop' }
    case 'app_subscriptions/update':
      return tenant ? subscriptionUpdated(tenant, event.payload) : { handled: false, note: 'unknown shop' }
    case 'bulk_operations/finish':
      return bulkOperationFinished(event.shop, event.payload)
    default:
      return { handled: false, note: `no handler for ${event.topic}` }
  }
}

async function appUninstalled(shop: string, tenant: Tenant | undefined): Promise<Outcome> {
  await db().delete(sessionTable).where(eq(sessionTable.shop, shop))
  if (!tenant) return { handled: true, note: 'sessions deleted' }
  const canceled = await cancelOpenRenders(tenant.id)
  await db().update(tenants).set({ uninstalledAt: new Date() }).where(eq(tenants.id, tenant.id))
  return { handled: true, note: `sessions deleted, ${canceled} renders canceled` }
}

async function scopesUpdate(shop: string, payload: Record<string, unknown>): Promise<Outcome> {
  const current = Array.isArray(payload.current) ? (payload.current as string[]).join(',') : null
  if (current === null) return { handled: false, note: 'no current scopes in payload' }
  await db().update(sessionTable).set({ scope: current }).where(eq(sessionTable.shop, shop))
  return { handled: true, note: `scopes now ${current}` }
}

/** Deletes every row and every stored image of the shop (48 h after uninstall). */
async function shopRedact(shop: string, tenant: Tenant | undefined): Promise<Outcome> {
  await db().delete(sessionTable).where(eq(sessionTable.shop, shop))
  if (!tenant) return { handled: true, note: 'nothing stored' }
  await cancelOpenRenders(tenant.id)
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
  for (const key of mine) await imageStore().delete(key)
  await db().delete(tenants).where(eq(tenants.id, tenant.id))
  await db().delete(webhookEvents).where(eq(webhookEvents.shop, shop))
  return { handled: true, note: `shop data deleted (${mine.size} images)` }
}

interface ProductPayload {
  id?: number | string
  admin_graphql_api_id?: string
  title?: string
  media?: { admin_graphql_api_id?: string; media_content_type?: string }[]
  images?: { admin_graphql_api_id?: string }[]
}

function productGid(p: ProductPayload): string | null {
  if (p.admin_graphql_api_id) return p.admin_graphql_api_id
  return p.id !== undefined ? `gid://shopify/Product/${p.id}` : null
}

function mediaIds(p: ProductPayload): string[] {
  const media = (p.media ?? []).filter((m) => !m.media_content_type || m.media_content_type === 'IMAGE')
  const ids = media.map((m) => m.admin_graphql_api_id).filter((x): x is string => Boolean(x))
  if (ids.length > 0 || p.media) return ids
  return (p.images ?? []).map((i) => i.admin_graphql_api_id).filter((x): x is string => Boolean(x))
}

/**
 * Refreshes the cached image list. Our own publish/undo fires this webhook
 * too: when the only difference is media we added or removed, it is our
 * echo and nothing else happens.
 */
async function productUpdated(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
  const p = payload as ProductPayload
  const productRef = productGid(p)
  if (!productRef) return { handled: false, note: 'no product id' }
  const now = mediaIds(p)
  const cached = await db().query.productCache.findFirst({
    where: and(eq(productCache.tenantId, tenant.id), eq(productCache.productRef, productRef)),
  })
  const ours = new Set(
    (
      await db()
        .select({ id: publications.externalId, steps: publications.steps })
        .from(publications)
        .where(and(eq(publications.tenantId, tenant.id), eq(publications.productRef, productRef)))
    ).flatMap((r) => [r.id, typeof r.steps.externalId === 'string' ? r.steps.externalId : null].filter((x): x is string => Boolean(x))),
  )
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

async function productDeleted(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
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

/** The merchant approved, declined or cancelled the plan in Shopify's UI. */
async function subscriptionUpdated(tenant: Tenant, payload: Record<string, unknown>): Promise<Outcome> {
  const sub = payload.app_subscription as { admin_graphql_api_id?: string; status?: string } | undefined
  if (!sub?.admin_graphql_api_id || !sub.status) return { handled: false, note: 'no subscription in payload' }
  const updated = await db()
    .update(subscriptions)
    .set({ status: sub.status.toUpperCase(), updatedAt: new Date() })
    .where(and(eq(subscriptions.tenantId, tenant.id), eq(subscriptions.externalId, sub.admin_graphql_api_id)))
    .returning()
  return { handled: true, note: updated.length ? `plan ${sub.status}` : 'not our subscription' }
}

type BulkListener = (shop: string, payload: Record<string, unknown>) => Promise<void>
const bulkListeners: BulkListener[] = []

/** Bulk catalog reads (regenerate all listings) subscribe here. */
export function onBulkOperationFinished(listener: BulkListener): void {
  bulkListeners.push(listener)
}

async function bulkOperationFinished(shop: string, payload: Record<string, unknown>): Promise<Outcome> {
  // why only a nudge: the bulk run's worker reads the result file; polling would find it too, and whichever comes second is a no-op.
  const runId = await catalogReadFinished(shop, payload)
  for (const listener of bulkListeners) await listener(shop, payload)
  const note = `bulk operation ${String(payload.admin_graphql_api_id ?? '')} ${String(payload.status ?? '')}`
  return { handled: true, note: runId ? `${note}; bulk run ${runId} advanced` : note }
}
