import { eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { findTenant } from '#app/modules/tenants/service.server.ts'
import { webhookEvents, type Tenant } from '#db/schema.ts'
import { appScopesUpdate } from './app-scopes-update.server.ts'
import { appSubscriptionsUpdate } from './app-subscriptions-update.server.ts'
import { appUninstalled } from './app-uninstalled.server.ts'
import { bulkOperationsFinish } from './bulk-operations-finish.server.ts'
import { customersDataRequest } from './customers-data-request.ts'
import { customersRedact } from './customers-redact.ts'
import { checkDelivery, type Delivery } from './delivery.ts'
import { productsDelete } from './products-delete.server.ts'
import { productsUpdate } from './products-update.server.ts'
import { shopRedact } from './shop-redact.server.ts'
import type { Outcome, TopicHandler, VerifiedEvent } from './types.ts'

export type WebhookEvent = Delivery

/** A handler that needs the shop installed; a shop we do not know is skipped. */
function forTenant(handle: (tenant: Tenant, payload: Record<string, unknown>) => Promise<Outcome>): TopicHandler {
  return async (event, tenant) => (tenant ? handle(tenant, event.payload) : { handled: false, note: 'unknown shop' })
}

/** Every subscribed topic's handler, one file each. */
const handlers: Record<string, TopicHandler> = {
  'app/uninstalled': appUninstalled,
  'app/scopes_update': appScopesUpdate,
  'customers/data_request': customersDataRequest,
  'customers/redact': customersRedact,
  'shop/redact': shopRedact,
  'products/update': forTenant(productsUpdate),
  'products/delete': forTenant(productsDelete),
  'app_subscriptions/update': forTenant(appSubscriptionsUpdate),
  'bulk_operations/finish': bulkOperationsFinish,
}

/**
 * Handles one HMAC-verified webhook exactly once. The headers are checked
 * against the signed body first (an AppError INVALID_INPUT, nothing touched,
 * when they disagree); then the webhook id and the topic's event id are
 * recorded, so a redelivery or a second subscription's copy is skipped.
 */
export async function handleWebhook(delivery: WebhookEvent): Promise<Outcome> {
  const verdict = checkDelivery(delivery)
  if (!verdict.ok) {
    logger().warn(
      { shop: delivery.shop, topic: delivery.topic, webhookId: delivery.webhookId, reason: verdict.reason },
      'webhook refused',
    )
    throw new AppError('INVALID_INPUT', `Webhook refused: ${verdict.reason}`)
  }
  const event: VerifiedEvent = {
    shop: delivery.shop,
    webhookId: delivery.webhookId,
    topic: verdict.topic,
    payload: verdict.payload,
  }
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

async function dispatch(event: VerifiedEvent): Promise<Outcome> {
  const tenant = await findTenant('shopify', event.shop)
  const handle = Object.hasOwn(handlers, event.topic) ? handlers[event.topic] : undefined
  return handle ? handle(event, tenant) : { handled: false, note: `no handler for ${event.topic}` }
}
