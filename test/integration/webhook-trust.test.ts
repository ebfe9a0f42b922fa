import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { renders, sessionTable, tenants, webhookEvents, type Tenant } from '#db/schema.ts'
import { insertRender } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'
import { delivery, newShop, post, resend, shopPayload, shopTenant, webhookEnv } from '#test/support/webhooks.ts'

// The HMAC covers the body only: these resend one shop's validly signed body
// with headers an attacker chose, and prove nothing of the named shop moves.

let prefix: string

beforeAll(() => {
  prefix = isolateQueue()
  Object.assign(process.env, webhookEnv())
  resetEnvCache()
})

afterAll(async () => {
  await releaseAll(prefix)
})

async function victim() {
  const shop = newShop()
  const tenant = await shopTenant(shop)
  const render = await insertRender(tenant, { backend: 'cpu-studio', source: Buffer.from(`victim-${randomUUID()}`) })
  return { shop, tenant, render }
}

async function expectIntact(v: { shop: string; tenant: Tenant; render: { id: string; sourceKey: string } }) {
  expect(await db().query.tenants.findFirst({ where: eq(tenants.id, v.tenant.id) })).toMatchObject({ uninstalledAt: null })
  expect(await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, v.shop) })).toBeTruthy()
  expect((await db().query.renders.findFirst({ where: eq(renders.id, v.render.id) }))?.status).toBe('queued')
  expect(await imageStore().has(v.render.sourceKey)).toBe(true)
  expect(await db().select().from(webhookEvents).where(eq(webhookEvents.shop, v.shop))).toHaveLength(0)
}

const customerRedact = (shop: string) => ({ shop_id: 954889, shop_domain: shop, customer: { id: 191167, email: 'j@example.com', phone: null }, orders_to_redact: [] })

describe('webhook headers are checked against the signed body', () => {
  it('refuses shop A’s customers/redact resent as shop B’s shop/redact or app/uninstalled', async () => {
    const shopA = newShop()
    await shopTenant(shopA)
    const b = await victim()
    const signed = delivery(shopA, 'customers/redact', customerRedact(shopA))
    expect(await post(await resend(signed, { 'x-shopify-topic': 'shop/redact', 'x-shopify-shop-domain': b.shop }))).toBe(400)
    expect(await post(await resend(signed, { 'x-shopify-topic': 'app/uninstalled', 'x-shopify-shop-domain': b.shop }))).toBe(400)
    await expectIntact(b)
  })

  it('refuses a shop’s own customers/redact resent as its shop/redact', async () => {
    const a = await victim()
    const signed = delivery(a.shop, 'customers/redact', customerRedact(a.shop))
    expect(await post(await resend(signed, { 'x-shopify-topic': 'shop/redact' }))).toBe(400)
    await expectIntact(a)
  })

  it('refuses shop A’s app/uninstalled and shop/redact resent for shop B', async () => {
    const shopA = newShop()
    await shopTenant(shopA)
    const b = await victim()
    const uninstall = delivery(shopA, 'app/uninstalled', shopPayload(shopA))
    const redact = delivery(shopA, 'shop/redact', { shop_id: 1, shop_domain: shopA })
    expect(await post(await resend(uninstall, { 'x-shopify-shop-domain': b.shop }))).toBe(400)
    expect(await post(await resend(redact, { 'x-shopify-shop-domain': b.shop }))).toBe(400)
    await expectIntact(b)
  })

  it('refuses a products/update body resent as products/delete', async () => {
    const shop = newShop()
    const tenant = await shopTenant(shop)
    const render = await insertRender(tenant, { backend: 'cpu-studio', productRef: 'gid://shopify/Product/42' })
    const signed = delivery(shop, 'products/update', { id: 42, admin_graphql_api_id: 'gid://shopify/Product/42', title: 'Tee', media: [] })
    expect(await post(await resend(signed, { 'x-shopify-topic': 'products/delete' }))).toBe(400)
    expect((await db().query.renders.findFirst({ where: eq(renders.id, render.id) }))?.status).toBe('queued')
  })

  it('refuses a stale or future X-Shopify-Triggered-At and accepts a retry hours later', async () => {
    const a = await victim()
    const hours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString()
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { triggeredAt: hours(-30) }))).toBe(400)
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { triggeredAt: hours(2) }))).toBe(400)
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { omit: 'x-shopify-triggered-at' }))).toBe(400)
    await expectIntact(a)
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { triggeredAt: hours(-3) }))).toBe(200)
    expect(await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, a.shop) })).toBeUndefined()
  })

  it('runs one event once, even under a new webhook id', async () => {
    const a = await victim()
    const eventId = randomUUID()
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { eventId }))).toBe(200)
    await db().insert(sessionTable).values({ id: `offline_${a.shop}`, shop: a.shop, state: '', isOnline: false, accessToken: 'reinstalled', scope: 'read_products' })
    expect(await post(delivery(a.shop, 'app/uninstalled', shopPayload(a.shop), { eventId }))).toBe(200)
    expect((await db().query.sessionTable.findFirst({ where: eq(sessionTable.shop, a.shop) }))?.accessToken).toBe('reinstalled')
    expect(await db().select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId))).toHaveLength(1)
  })

  it('answers 400 to a validly signed delivery for a shop outside myshopify.com', async () => {
    for (const shop of ['shop.example.com', 'evil.shopify.com', 'evil.myshopify.com.attacker.test']) {
      expect(await post(delivery(shop, 'shop/redact', { shop_id: 1, shop_domain: shop })), shop).toBe(400)
      expect(await post(delivery(shop, 'app/uninstalled', shopPayload(shop))), shop).toBe(400)
    }
  })
})
