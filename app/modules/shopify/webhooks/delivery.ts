import { z } from 'zod'

// The HMAC covers the body only: topic, shop, ids and time come in unsigned
// headers. These checks tie each header to what the signed body says, so a
// body signed for one shop or topic cannot be replayed as another.

/** The shops Shopify delivers for: `<handle>.myshopify.com`, nothing else. */
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/

/** Shopify retries 8 times over 4 hours, keeping the original X-Shopify-Triggered-At; 6 h leaves slack for queueing. */
export const WEBHOOK_MAX_AGE_MS = 6 * 60 * 60 * 1000
/** Clock skew we tolerate for a delivery stamped in the future. */
export const WEBHOOK_MAX_SKEW_MS = 5 * 60 * 1000

export function isShopDomain(shop: string | null | undefined): shop is string {
  return typeof shop === 'string' && SHOP_DOMAIN.test(shop)
}

/** `APP_UNINSTALLED` (the library's storage form) and `app/uninstalled` both become `app/uninstalled`. */
export function normaliseTopic(topic: string): string {
  return topic
    .toLowerCase()
    .replace(/_/g, '/')
    .replace('bulk/operations', 'bulk_operations')
    .replace('app/subscriptions', 'app_subscriptions')
    .replace('scopes/update', 'scopes_update')
    .replace('data/request', 'data_request')
}

const id = z.union([z.number().nonnegative(), z.string().regex(/^\d+$/)])
const gidOf = (type: string) => z.string().startsWith(`gid://shopify/${type}/`)
const domain = z.string().refine(isShopDomain, 'not a myshopify.com domain')
// why: keys that only another topic's body carries; seeing one means the body was signed for that topic.
const foreign = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, z.never().optional()]))

const customer = z.object({ id }).passthrough()

/**
 * What each subscribed topic's real payload looks like (Shopify's REST shapes).
 * `shop` names the field that must equal X-Shopify-Shop-Domain, when the payload has one.
 */
const topics: Record<string, { schema: z.ZodType<Record<string, unknown>>; shop?: string }> = {
  'app/uninstalled': {
    schema: z.object({ id, myshopify_domain: domain, ...foreign('customer', 'shop_domain') }).passthrough(),
    shop: 'myshopify_domain',
  },
  'app/scopes_update': {
    schema: z.object({ previous: z.array(z.string()), current: z.array(z.string()), ...foreign('customer', 'shop_domain', 'myshopify_domain') }).passthrough(),
  },
  'customers/data_request': {
    schema: z.object({ shop_id: id, shop_domain: domain, customer, orders_requested: z.array(id), ...foreign('orders_to_redact') }).passthrough(),
    shop: 'shop_domain',
  },
  'customers/redact': {
    schema: z.object({ shop_id: id, shop_domain: domain, customer, orders_to_redact: z.array(id), ...foreign('orders_requested', 'data_request') }).passthrough(),
    shop: 'shop_domain',
  },
  // why strict: the real body is exactly these two fields, and any looser shape lets a customer body through.
  'shop/redact': { schema: z.object({ shop_id: id, shop_domain: domain }).strict(), shop: 'shop_domain' },
  'products/update': {
    schema: z.object({ id, admin_graphql_api_id: gidOf('Product'), ...foreign('customer', 'shop_domain', 'myshopify_domain') }).passthrough(),
  },
  // why strict: every other body has an id too; only the exact shape says "this product was deleted".
  'products/delete': { schema: z.object({ id }).strict() },
  'app_subscriptions/update': {
    schema: z.object({ app_subscription: z.object({ admin_graphql_api_id: gidOf('AppSubscription'), status: z.string() }).passthrough() }).passthrough(),
  },
  'bulk_operations/finish': {
    schema: z.object({ admin_graphql_api_id: gidOf('BulkOperation'), status: z.string(), ...foreign('customer', 'shop_domain', 'myshopify_domain') }).passthrough(),
  },
}

export const subscribedTopics = Object.keys(topics)

export interface Delivery {
  topic: string
  shop: string
  webhookId: string
  eventId?: string
  triggeredAt?: string
  payload: unknown
}

export type Verdict = { ok: true; topic: string; eventId: string; payload: Record<string, unknown> } | { ok: false; reason: string }

/** Checks an HMAC-verified delivery's headers against its signed body. Pure: touches nothing. */
export function checkDelivery(delivery: Delivery, now = Date.now()): Verdict {
  if (!isShopDomain(delivery.shop)) return { ok: false, reason: 'shop domain is not <name>.myshopify.com' }
  if (!delivery.eventId) return { ok: false, reason: 'no X-Shopify-Event-Id' }
  const stale = staleness(delivery.triggeredAt, now)
  if (stale) return { ok: false, reason: stale }
  const topic = normaliseTopic(delivery.topic)
  const expected = topics[topic]
  if (!expected) return { ok: false, reason: `not a subscribed topic: ${delivery.topic}` }
  const parsed = expected.schema.safeParse(delivery.payload)
  if (!parsed.success) return { ok: false, reason: `payload does not fit ${topic}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}` }
  if (expected.shop && parsed.data[expected.shop] !== delivery.shop) {
    return { ok: false, reason: `payload ${expected.shop} is not the X-Shopify-Shop-Domain` }
  }
  return { ok: true, topic, eventId: delivery.eventId, payload: parsed.data }
}

function staleness(triggeredAt: string | undefined, now: number): string | null {
  if (!triggeredAt) return 'no X-Shopify-Triggered-At'
  const at = Date.parse(triggeredAt)
  if (Number.isNaN(at)) return 'X-Shopify-Triggered-At is not a date'
  if (now - at > WEBHOOK_MAX_AGE_MS) return 'X-Shopify-Triggered-At is too old'
  if (at - now > WEBHOOK_MAX_SKEW_MS) return 'X-Shopify-Triggered-At is in the future'
  return null
}
