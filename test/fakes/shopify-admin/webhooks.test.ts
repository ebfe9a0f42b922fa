import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { API_SECRET, API_VERSION, catalogSeed, gql, SHOP, startFake, startWebhookReceiver } from './test-helpers.ts'

let fake: ShopifyAdminFake
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  fake = await startFake({ appUrl: `${receiver.url}/` })
})

afterAll(async () => {
  await fake.close()
  await receiver.close()
})

describe('sendWebhook', () => {
  it('POSTs the JSON with every Shopify header and an HMAC of the raw body', async () => {
    const payload = { id: 123, title: 'Silk Slip Dress', note: 'üñí' }
    const result = await fake.sendWebhook(SHOP, 'products/update', payload, { webhookId: 'wh-1', path: '/webhooks/products' })
    expect(result.status).toBe(200)
    const hook = receiver.received.at(-1)!
    expect(hook.path).toBe('/webhooks/products')
    expect(JSON.parse(hook.rawBody)).toEqual(payload)
    // Computed here, independently of the fake: base64 HMAC-SHA256 of the raw body with the app secret.
    expect(hook.headers['x-shopify-hmac-sha256']).toBe(
      createHmac('sha256', API_SECRET).update(hook.rawBody, 'utf8').digest('base64'),
    )
    expect(hook.headers).toMatchObject({
      'content-type': 'application/json',
      'x-shopify-topic': 'products/update',
      'x-shopify-shop-domain': SHOP,
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-api-version': API_VERSION,
    })
    expect(hook.headers['x-shopify-event-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number.isNaN(Date.parse(String(hook.headers['x-shopify-triggered-at'])))).toBe(false)
  })

  it('signs with another secret on request, so the app’s 401 path can be tested', async () => {
    const result = await fake.sendWebhook(SHOP, 'shop/redact', { shop_domain: SHOP }, { secret: 'not-the-app-secret' })
    expect(result.status).toBe(401)
    const hook = receiver.received.at(-1)!
    expect(hook.headers['x-shopify-hmac-sha256']).toBe(
      createHmac('sha256', 'not-the-app-secret').update(hook.rawBody).digest('base64'),
    )
  })

  it('only echoes topics the shop subscribed to', async () => {
    await fake.addShop({ ...(await catalogSeed()), domain: 'quiet.myshopify.com', webhookTopics: ['app/uninstalled'] })
    const product = fake.state('quiet.myshopify.com').products[0]
    const before = receiver.received.length
    await gql(
      fake,
      'mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { field message } } }',
      { p: { id: product.id, title: 'Renamed' } },
      { shop: 'quiet.myshopify.com' },
    )
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(receiver.received.length).toBe(before)
    expect(fake.state('quiet.myshopify.com').products[0].title).toBe('Renamed')
  })
})
