import { createHmac, randomUUID } from 'node:crypto'
import { db } from '#app/lib/db.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { action } from '#app/routes/webhooks.tsx'
import { sessionTable, type Tenant } from '#db/schema.ts'

export const WEBHOOK_SECRET = 'webhook-test-secret-0123456789'

/** Shopify mode with the secret these deliveries are signed with; set before anything reads env(). */
export function webhookEnv(): Record<string, string> {
  return {
    APP_MODE: 'shopify',
    SHOPIFY_API_KEY: 'test-api-key',
    SHOPIFY_API_SECRET: WEBHOOK_SECRET,
    SHOPIFY_APP_URL: 'https://atelier.example.test',
  }
}

export function newShop(): string {
  return `wh-${randomUUID().slice(0, 8)}.myshopify.com`
}

export interface DeliveryOptions {
  secret?: string
  webhookId?: string
  eventId?: string
  triggeredAt?: string
  omit?: string
  /** Sign this raw body instead of JSON.stringify(payload). */
  rawBody?: string
}

/** A delivery exactly as Shopify sends one: raw JSON body, base64 HMAC-SHA256 of it with the app secret. */
export function delivery(shop: string, topic: string, payload: unknown, opts: DeliveryOptions = {}): Request {
  const body = opts.rawBody ?? JSON.stringify(payload)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-shop-domain': shop,
    'x-shopify-webhook-id': opts.webhookId ?? randomUUID(),
    'x-shopify-event-id': opts.eventId ?? randomUUID(),
    'x-shopify-api-version': '2026-10',
    'x-shopify-triggered-at': opts.triggeredAt ?? new Date().toISOString(),
    'x-shopify-hmac-sha256': createHmac('sha256', opts.secret ?? WEBHOOK_SECRET).update(body, 'utf8').digest('base64'),
  }
  if (opts.omit) delete headers[opts.omit]
  return new Request('https://atelier.example.test/webhooks', { method: 'POST', headers, body })
}

/** The same signed body and signature, with other headers: what an attacker who saw one delivery can send. */
export async function resend(original: Request, headers: Record<string, string>): Promise<Request> {
  const body = await original.clone().text()
  const merged = new Headers(original.headers)
  for (const [name, value] of Object.entries(headers)) merged.set(name, value)
  return new Request(original.url, { method: 'POST', headers: merged, body })
}

/** Calls the real route; a thrown Response counts as its answer. */
export async function post(request: Request): Promise<number> {
  try {
    const res = await action({ request, params: {}, context: {} })
    return res.status
  } catch (e) {
    if (e instanceof Response) return e.status
    throw e
  }
}

/** The shop's Shopify payload for app/uninstalled (the REST Shop resource, trimmed). */
export function shopPayload(shop: string): Record<string, unknown> {
  return { id: 548380009, name: shop.split('.')[0], domain: shop, myshopify_domain: shop, email: 'owner@example.com', plan_name: 'basic' }
}

export async function shopTenant(shop: string): Promise<Tenant> {
  const tenant = await upsertTenant('shopify', shop, shop)
  await db().insert(sessionTable).values({ id: `offline_${shop}`, shop, state: '', isOnline: false, accessToken: 'enc-or-not', scope: 'read_products' })
  return tenant
}
