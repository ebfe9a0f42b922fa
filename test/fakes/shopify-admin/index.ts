// A Shopify Admin API fake that speaks the real contract: the 2026-10 schema
// (validation included), calculated query cost and a leaky bucket per shop,
// token exchange, staged uploads, media processing, billing, bulk operations
// and signed webhooks. Start one per test file on port 0.
import type { AddressInfo } from 'node:net'
import { adminSchema } from './schema.ts'
import { createHttpServer } from './server.ts'
import { createShop, shopState } from './shops.ts'
import type { Runtime } from './runtime.ts'
import type { ShopifyAdminFake, ShopifyAdminFakeOptions } from './types.ts'
import { deliverWebhook } from './webhooks.ts'

export type {
  FailureRule,
  FakeProductSeed,
  FakeShopSeed,
  FakeShopState,
  ShopifyAdminFake,
  ShopifyAdminFakeOptions,
} from './types.ts'
export { webhookHmac } from './webhooks.ts'

const DEFAULT_MEDIA_PROCESSING_MS = 150
const CLOSE_GRACE_MS = 2_000

export async function startShopifyAdminFake(opts: ShopifyAdminFakeOptions): Promise<ShopifyAdminFake> {
  const timers = new Set<NodeJS.Timeout>()
  const pending = new Set<Promise<unknown>>()
  const rt: Runtime = {
    apiKey: opts.apiKey,
    apiSecret: opts.apiSecret,
    apiVersion: opts.apiVersion,
    appUrl: opts.appUrl?.replace(/\/$/, ''),
    mediaProcessingMs: opts.mediaProcessingMs ?? DEFAULT_MEDIA_PROCESSING_MS,
    throttle: opts.throttle,
    origin: '',
    schema: adminSchema(opts.apiVersion),
    shops: new Map(),
    stats: { requests: 0, throttled: 0, costSpent: 0, byOperation: {} },
    failure: null,
    closed: false,
    now: () => Date.now(),
    shopBase: (shop) => `${rt.origin}/${shop.domain}`,
    later(ms, fn) {
      if (rt.closed) return
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!rt.closed) fn()
      }, ms)
      timers.add(timer)
    },
    track(work) {
      // why catch here: background work must never surface as an unhandled rejection in a test.
      const settled = work.catch(() => undefined).finally(() => pending.delete(settled))
      pending.add(settled)
    },
    emitWebhook(shop, topic, payload) {
      if (!rt.appUrl || rt.closed) return
      if (shop.webhookTopics && !shop.webhookTopics.has(topic)) return
      rt.track(
        deliverWebhook({
          url: `${rt.appUrl}/webhooks`,
          topic,
          shop: shop.domain,
          apiVersion: rt.apiVersion,
          secret: rt.apiSecret,
          payload,
        }).then(
          (delivery) => shop.webhookDeliveries.push({ topic, webhookId: delivery.webhookId, status: delivery.status }),
          (error: unknown) =>
            shop.webhookDeliveries.push({
              topic,
              webhookId: '',
              status: 0,
              error: error instanceof Error ? error.message : String(error),
            }),
        ),
      )
    },
  }

  const server = createHttpServer(rt)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  rt.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  function shopOf(domain: string) {
    const shop = rt.shops.get(domain)
    if (!shop) throw new Error(`Unknown shop ${domain}: add it with addShop() first`)
    return shop
  }

  const fake: ShopifyAdminFake = {
    origin: rt.origin,
    async close() {
      rt.closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.race([Promise.allSettled([...pending]), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS))])
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    async addShop(seed) {
      if (rt.shops.has(seed.domain)) throw new Error(`Shop ${seed.domain} already exists`)
      const shop = await createShop(rt, seed)
      rt.shops.set(shop.domain, shop)
      return { accessToken: shop.primaryToken }
    },
    accessToken: (domain) => shopOf(domain).primaryToken,
    state: (domain) => shopState(rt, shopOf(domain)),
    async sendWebhook(domain, topic, payload, options = {}) {
      const shop = shopOf(domain)
      if (!rt.appUrl) throw new Error('sendWebhook needs appUrl in the fake options')
      const delivery = await deliverWebhook({
        url: `${rt.appUrl}${options.path ?? '/webhooks'}`,
        topic,
        shop: shop.domain,
        apiVersion: rt.apiVersion,
        secret: options.secret ?? rt.apiSecret,
        payload,
        webhookId: options.webhookId,
      })
      shop.webhookDeliveries.push({ topic, webhookId: delivery.webhookId, status: delivery.status })
      return { status: delivery.status, body: delivery.body }
    },
    stats: () => ({ ...rt.stats, byOperation: { ...rt.stats.byOperation } }),
    setFailure(rule) {
      rt.failure = rule ? { ...rule } : null
    },
  }
  for (const seed of opts.shops ?? []) await fake.addShop(seed)
  return fake
}
