import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { productCache, publications, renders, sessionTable, subscriptions, tenants, webhookEvents } from '#db/schema.ts'
import { insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'
import { delivery, newShop, post, shopPayload, shopTenant, webhookEnv } from '#test/support/webhooks.ts'

let prefix: string

beforeAll(() => {
  prefix = isolateQueue()
  Object.assign(process.env, webhookEnv())
  resetEnvCache()
})

afterAll(async () => {
  await releaseAll(prefix)
})

describe('webhooks', () => {
  it('answers 401 to a bad HMAC and changes nothing', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    expect(await post(delivery(shop, 'app/uninstalled', shopPayload(shop), { secret: 'not-the-secret' }))).toBe(401)
    expect(await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, shop) })).toBeTruthy()
    expect((await db().query.tenants.findFirst({ where: eq(tenants.id, tenant.id) }))?.uninstalledAt).toBeNull()
  })

  it('refuses a malformed delivery (missing headers) without touching anything', async () => {
    const shop = newShop()
    await shopTenant(shop)
    const status = await post(delivery(shop, 'app/uninstalled', shopPayload(shop), { omit: 'x-shopify-topic' }))
    expect([400, 401]).toContain(status)
    expect(await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, shop) })).toBeTruthy()
  })

  it('app/uninstalled cancels queued renders and deletes sessions, once per webhook id', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    const queued = await Promise.all([1, 2, 3].map(() => insertRender(tenant, { backend: 'cpu-studio' })))
    const webhookId = randomUUID()
    expect(await post(delivery(shop, 'app/uninstalled', shopPayload(shop), { webhookId }))).toBe(200)
    for (const r of queued) {
      expect((await db().query.renders.findFirst({ where: eq(renders.id, r.id) }))?.status).toBe('canceled')
    }
    expect(await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, shop) })).toBeUndefined()
    expect((await db().query.tenants.findFirst({ where: eq(tenants.id, tenant.id) }))?.uninstalledAt).toBeInstanceOf(Date)
    // A redelivery with the same id is acknowledged and skipped.
    expect(await post(delivery(shop, 'app/uninstalled', shopPayload(shop), { webhookId }))).toBe(200)
    expect(await db().select().from(webhookEvents).where(eq(webhookEvents.webhookId, webhookId))).toHaveLength(1)
  })

  it('app/scopes_update records the new scopes', async () => {
    const shop = newShop()
    await shopTenant(shop)
    expect(await post(delivery(shop, 'app/scopes_update', { current: ['read_products', 'write_products', 'write_files'], previous: ['read_products'] }))).toBe(200)
    expect((await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, shop) }))?.scope).toBe('read_products,write_products,write_files')
  })

  it('answers the customer privacy webhooks (we store no customer data)', async () => {
    const shop = newShop()
    await shopTenant(shop)
    expect(await post(delivery(shop, 'customers/data_request', { shop_id: 954889, shop_domain: shop, customer: { id: 1, email: 'a@example.com', phone: null }, orders_requested: [1], data_request: { id: 9999 } }))).toBe(200)
    expect(await post(delivery(shop, 'customers/redact', { shop_id: 954889, shop_domain: shop, customer: { id: 1, email: 'a@example.com', phone: null }, orders_to_redact: [] }))).toBe(200)
  })

  it('products/update ignores our own echo but marks renders whose source disappeared', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    const product = 'gid://shopify/Product/101'
    const render = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: product })
    await db().update(renders).set({ sourceImageRef: 'gid://shopify/MediaImage/1' }).where(eq(renders.id, render.id))
    const media = (ids: number[]) => ids.map((id) => ({ admin_graphql_api_id: `gid://shopify/MediaImage/${id}`, media_content_type: 'IMAGE' }))
    const update = (ids: number[]) => delivery(shop, 'products/update', { id: 101, admin_graphql_api_id: product, title: 'Tee', media: media(ids) })

    expect(await post(update([1, 2]))).toBe(200)
    // We publish media 9: Shopify echoes products/update with it added.
    await db().insert(publications).values({ tenantId: tenant.id, renderId: render.id, platform: 'shopify', productRef: product, externalId: 'gid://shopify/MediaImage/9', altText: 'x', state: 'live' })
    expect(await post(update([1, 2, 9]))).toBe(200)
    expect((await db().query.renders.findFirst({ where: eq(renders.id, render.id) }))?.sourceMissingAt).toBeNull()
    // The merchant deletes image 1, our render's source.
    expect(await post(update([2, 9]))).toBe(200)
    expect((await db().query.renders.findFirst({ where: eq(renders.id, render.id) }))?.sourceMissingAt).toBeInstanceOf(Date)
    const cache = await db().query.productCache.findFirst({ where: eq(productCache.productRef, product) })
    expect(cache?.imageIds).toEqual(['gid://shopify/MediaImage/2', 'gid://shopify/MediaImage/9'])
  })

  it('products/delete cancels the product’s queued renders only', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    const gone = await insertRender(tenant, { backend: 'cpu-studio', productRef: 'gid://shopify/Product/7' })
    const other = await insertRender(tenant, { backend: 'cpu-studio', productRef: 'gid://shopify/Product/8' })
    expect(await post(delivery(shop, 'products/delete', { id: 7 }))).toBe(200)
    expect((await db().query.renders.findFirst({ where: eq(renders.id, gone.id) }))?.status).toBe('canceled')
    expect((await db().query.renders.findFirst({ where: eq(renders.id, other.id) }))?.status).toBe('queued')
  })

  it('shop/redact deletes every row and stored image of the shop, and nothing of another shop', async () => {
    const shopA = newShop()
    const shopB = newShop()
    const a = await shopTenant(shopA)
    const b = await shopTenant(shopB)
    const renderA = await insertRender(a, { backend: 'cpu-studio', enqueue: false, source: Buffer.from(`only-a-${randomUUID()}`) })
    const renderB = await insertRender(b, { backend: 'cpu-studio', enqueue: false })
    expect(await imageStore().has(renderA.sourceKey)).toBe(true)
    expect(await post(delivery(shopA, 'shop/redact', { shop_id: 1, shop_domain: shopA }))).toBe(200)
    expect(await db().query.tenants.findFirst({ where: eq(tenants.id, a.id) })).toBeUndefined()
    expect(await db().query.renders.findFirst({ where: eq(renders.id, renderA.id) })).toBeUndefined()
    expect(await imageStore().has(renderA.sourceKey)).toBe(false)
    expect(await db().query.renders.findFirst({ where: eq(renders.id, renderB.id) })).toBeTruthy()
    expect(await imageStore().has(renderB.sourceKey)).toBe(true)
  })
})

describe('plan webhooks', () => {
  it('app_subscriptions/update records the plan status Shopify reports', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    const gid = `gid://shopify/AppSubscription/${Date.now()}`
    await db().insert(subscriptions).values({ tenantId: tenant.id, externalId: gid, status: 'ACTIVE', cappedAmount: 100, pricePerRender: 0.05 })
    expect(await post(delivery(shop, 'app_subscriptions/update', { app_subscription: { admin_graphql_api_id: gid, name: 'Atelier usage', status: 'CANCELLED' } }))).toBe(200)
    expect((await db().query.subscriptions.findFirst({ where: eq(subscriptions.externalId, gid) }))?.status).toBe('CANCELLED')
  })
})
