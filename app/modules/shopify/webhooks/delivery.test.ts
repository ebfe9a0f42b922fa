import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkDelivery, isShopDomain, subscribedTopics, WEBHOOK_MAX_AGE_MS } from './delivery.ts'

const SHOP = 'tee-store.myshopify.com'

/** Each subscribed topic's payload as Shopify sends it (shapes from Shopify's webhook reference). */
const real: Record<string, Record<string, unknown>> = {
  'app/uninstalled': { id: 548380009, name: 'Tee Store', domain: 'tees.example', myshopify_domain: SHOP, email: 'o@example.com' },
  'app/scopes_update': { id: 1, previous: ['read_products'], current: ['read_products', 'write_products'], updated_at: '2026-12-07T10:00:00Z' },
  'customers/data_request': { shop_id: 954889, shop_domain: SHOP, orders_requested: [299938], customer: { id: 191167, email: 'j@example.com', phone: '555-625-1199' }, data_request: { id: 9999 } },
  'customers/redact': { shop_id: 954889, shop_domain: SHOP, customer: { id: 191167, email: 'j@example.com', phone: '555-625-1199' }, orders_to_redact: [299938] },
  'shop/redact': { shop_id: 954889, shop_domain: SHOP },
  'products/update': { id: 788032119674292922, admin_graphql_api_id: 'gid://shopify/Product/788032119674292922', title: 'Tee', media: [], images: [] },
  'products/delete': { id: 788032119674292922 },
  'app_subscriptions/update': { app_subscription: { admin_graphql_api_id: 'gid://shopify/AppSubscription/1029266948', name: 'Atelier usage', status: 'CANCELLED', admin_graphql_api_shop_id: 'gid://shopify/Shop/548380009' } },
  'bulk_operations/finish': { admin_graphql_api_id: 'gid://shopify/BulkOperation/147595010', completed_at: '2026-12-07T10:00:00Z', created_at: '2026-12-07T09:59:00Z', error_code: null, status: 'completed', type: 'query' },
}

const headers = (topic: string, over: Partial<Parameters<typeof checkDelivery>[0]> = {}) => ({
  topic,
  shop: SHOP,
  webhookId: 'wh-1',
  eventId: 'ev-1',
  triggeredAt: new Date().toISOString(),
  payload: real[topic],
  ...over,
})

describe('checkDelivery', () => {
  it('knows a real payload for every topic shopify.app.toml subscribes to', () => {
    const toml = readFileSync('shopify.app.toml', 'utf8')
    const declared = [...toml.matchAll(/topics = \[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/"([^"]+)"/g)].map((t) => t[1]))
    expect([...subscribedTopics].sort()).toEqual(declared.sort())
    expect(Object.keys(real).sort()).toEqual([...subscribedTopics].sort())
  })

  it.each(subscribedTopics)('accepts the real %s payload, also in the library’s storage spelling', (topic) => {
    expect(checkDelivery(headers(topic))).toMatchObject({ ok: true, topic })
    expect(checkDelivery(headers(topic.toUpperCase().replace(/\//g, '_'), { payload: real[topic] }))).toMatchObject({ ok: true, topic })
  })

  it.each(subscribedTopics)('refuses every other topic’s body sent as %s', (topic) => {
    for (const other of subscribedTopics.filter((t) => t !== topic)) {
      expect(checkDelivery(headers(topic, { payload: real[other] })), `${other} body as ${topic}`).toMatchObject({ ok: false })
    }
  })

  it('refuses a payload that names another shop than the header', () => {
    for (const topic of ['app/uninstalled', 'customers/data_request', 'customers/redact', 'shop/redact']) {
      const verdict = checkDelivery(headers(topic, { shop: 'other-shop.myshopify.com' }))
      expect(verdict).toMatchObject({ ok: false })
      expect(!verdict.ok && verdict.reason).toMatch(/X-Shopify-Shop-Domain/)
    }
  })

  it('refuses stale, future, missing or unreadable X-Shopify-Triggered-At, accepts a retry within the window', () => {
    const now = Date.parse('2026-12-07T12:00:00Z')
    const at = (ms: number) => new Date(now + ms).toISOString()
    const check = (triggeredAt: string | undefined) => checkDelivery(headers('shop/redact', { triggeredAt }), now)
    expect(check(at(-WEBHOOK_MAX_AGE_MS - 1000))).toMatchObject({ ok: false, reason: 'X-Shopify-Triggered-At is too old' })
    expect(check(at(60 * 60 * 1000))).toMatchObject({ ok: false, reason: 'X-Shopify-Triggered-At is in the future' })
    expect(check(undefined)).toMatchObject({ ok: false })
    expect(check('yesterday')).toMatchObject({ ok: false })
    // Shopify's last retry comes about 4 h after the event, with the original timestamp.
    expect(check(at(-4 * 60 * 60 * 1000))).toMatchObject({ ok: true })
    expect(check(at(2 * 60 * 1000))).toMatchObject({ ok: true })
  })

  it('refuses a delivery without an event id and an unsubscribed topic', () => {
    expect(checkDelivery(headers('shop/redact', { eventId: undefined }))).toMatchObject({ ok: false })
    expect(checkDelivery(headers('orders/create', { payload: { id: 1 } }))).toMatchObject({ ok: false })
  })
})

describe('isShopDomain', () => {
  it('accepts <name>.myshopify.com only', () => {
    expect(isShopDomain(SHOP)).toBe(true)
    for (const bad of ['shop.example.com', 'evil.shopify.com', 'x.myshopify.io', 'a.myshopify.com.evil.test', 'A.myshopify.com/', '', null]) {
      expect(isShopDomain(bad), String(bad)).toBe(false)
    }
  })
})
