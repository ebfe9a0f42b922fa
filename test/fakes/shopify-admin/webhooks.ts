// Webhook delivery as Shopify does it: a JSON POST whose raw body is signed
// with the app's client secret (X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256),
// plus the headers @shopify/shopify-api's webhook validation reads
// (lib/webhooks/validate.ts, lib/types.ts ShopifyHeader).
import { createHmac, randomUUID } from 'node:crypto'
import { gid, isoSeconds } from './ids.ts'
import { cdnUrl, mediaStatus } from './media.ts'
import type { Runtime } from './runtime.ts'
import { productMedia, type BulkOperationRecord, type ProductRecord, type ShopRecord, type SubscriptionRecord } from './store.ts'

const DELIVERY_TIMEOUT_MS = 10_000

export function webhookHmac(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('base64')
}

export async function deliverWebhook(opts: {
  url: string
  topic: string
  shop: string
  apiVersion: string
  secret: string
  payload: unknown
  webhookId?: string
}): Promise<{ status: number; body: string; webhookId: string }> {
  const rawBody = JSON.stringify(opts.payload)
  const webhookId = opts.webhookId ?? randomUUID()
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Shopify-Captain-Hook',
      'X-Shopify-Topic': opts.topic,
      'X-Shopify-Hmac-Sha256': webhookHmac(opts.secret, rawBody),
      'X-Shopify-Shop-Domain': opts.shop,
      'X-Shopify-Webhook-Id': webhookId,
      'X-Shopify-Event-Id': randomUUID(),
      'X-Shopify-API-Version': opts.apiVersion,
      'X-Shopify-Triggered-At': new Date().toISOString(),
    },
    body: rawBody,
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  })
  return { status: res.status, body: await res.text(), webhookId }
}

/** The REST-shaped product payload of products/update (the topic still sends REST JSON). */
export function productPayload(rt: Runtime, shop: ShopRecord, p: ProductRecord): Record<string, unknown> {
  const media = productMedia(shop, p)
  const images = media
    .filter((m) => mediaStatus(rt, m) === 'READY' && m.outcome?.ok)
    .map((m, index) => ({
      id: m.legacyId,
      admin_graphql_api_id: gid('ProductImage', m.legacyId),
      product_id: p.legacyId,
      position: index + 1,
      alt: m.alt,
      width: m.outcome?.ok ? m.outcome.width : null,
      height: m.outcome?.ok ? m.outcome.height : null,
      src: cdnUrl(rt, shop, m),
      created_at: m.createdAt.toISOString(),
      updated_at: m.updatedAt.toISOString(),
      variant_ids: [],
    }))
  return {
    admin_graphql_api_id: p.id,
    id: p.legacyId,
    title: p.title,
    body_html: p.descriptionHtml,
    vendor: p.vendor,
    product_type: p.productType,
    handle: p.handle,
    status: p.status.toLowerCase(),
    tags: p.tags.join(', '),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    published_at: p.status === 'ACTIVE' ? p.createdAt.toISOString() : null,
    variants: [],
    options: [],
    images,
    image: images[0] ?? null,
    media: media.map((m, index) => ({
      id: m.legacyId,
      admin_graphql_api_id: m.id,
      position: index + 1,
      alt: m.alt,
      media_content_type: 'IMAGE',
      status: mediaStatus(rt, m).toLowerCase(),
      created_at: m.createdAt.toISOString(),
      updated_at: m.updatedAt.toISOString(),
    })),
  }
}

export function bulkFinishPayload(op: BulkOperationRecord): Record<string, unknown> {
  return {
    admin_graphql_api_id: op.id,
    completed_at: op.completedAt ? isoSeconds(op.completedAt) : null,
    created_at: isoSeconds(op.createdAt),
    error_code: op.errorCode ? op.errorCode.toLowerCase() : null,
    status: op.status.toLowerCase(),
    type: 'query',
  }
}

export function subscriptionPayload(shop: ShopRecord, s: SubscriptionRecord): Record<string, unknown> {
  const usage = s.lineItems.find((i) => i.pricing.kind === 'usage')
  return {
    app_subscription: {
      admin_graphql_api_id: s.id,
      name: s.name,
      status: s.status,
      admin_graphql_api_shop_id: gid('Shop', shop.legacyId),
      created_at: s.createdAt.toISOString(),
      updated_at: new Date().toISOString(),
      currency: usage?.pricing.currencyCode ?? 'USD',
      capped_amount: usage && usage.pricing.kind === 'usage' ? String(usage.pricing.cappedMicros / 1_000_000) : null,
    },
  }
}
