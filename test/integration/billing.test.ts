import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { billingFor } from '#app/modules/billing/service.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { createRenders } from '#app/modules/renders/service.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { adminGraphql } from '#app/modules/shopify/admin.server.ts'
import { startPlan, syncPlan } from '#app/modules/shopify/billing/plan.server.ts'
import { usageThisPeriod } from '#app/modules/shopify/billing/usage.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { renders, sessionTable, tenants, usageLedger, type Tenant } from '#db/schema.ts'
import { startShopifyAdminFake, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { productSceneLook, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { installFakeShop } from '#test/support/shopify.ts'
import { releaseAll } from '#test/support/queue.ts'

// Billing on Shopify's usage plan, against the Admin API fake: no plan or a
// reached cap refuses renders before any work; each finished render is
// charged exactly once (our ledger + Shopify's idempotencyKey).

let prefix: string
let fake: ShopifyAdminFake
let domain: string
let tenant: Tenant

beforeAll(async () => {
  prefix = isolateQueue()
  Object.assign(process.env, { MAX_OUTPUT_EDGE: '384', BILLING_PRICE_PER_RENDER: '0.5', BILLING_CAPPED_AMOUNT: '1', BILLING_CURRENCY: 'USD' })
  domain = `billing-${randomUUID().slice(0, 8)}.myshopify.com`
  const bytes = await sharp(await sampleProductPng(7)).jpeg({ quality: 85 }).toBuffer()
  fake = await startShopifyAdminFake({
    apiKey: 'billing-key',
    apiSecret: 'billing-secret',
    apiVersion: SHOPIFY_API_VERSION,
    shops: [{ domain, products: [{ title: 'Canvas Tote', images: [{ bytes, alt: 'Tote', filename: 'tote.jpg' }] }] }],
    mediaProcessingMs: 50,
  })
  process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
  resetEnvCache()
  tenant = await installFakeShop(fake, domain, { name: 'Billing shop' })
}, 60_000)

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
  if (domain) await db().delete(sessionTable).where(eq(sessionTable.shop, domain))
  await fake?.close()
  await closeAdminClients()
  await releaseAll(prefix)
  for (const k of ['BILLING_PRICE_PER_RENDER', 'BILLING_CAPPED_AMOUNT', 'MAX_OUTPUT_EDGE']) delete process.env[k]
  resetEnvCache()
})

async function toteRequest(variants: number) {
  const page = await platformFor(tenant).listProducts({ search: 'Canvas' }, null)
  const product = page.products[0]
  return { productId: product.id, imageId: product.images[0].id, look: productSceneLook(), variants }
}

async function rendersOf(): Promise<number> {
  return (await db().select().from(renders).where(eq(renders.tenantId, tenant.id))).length
}

describe('billing', () => {
  it('refuses renders before any work when the shop has no plan', async () => {
    await expect(createRenders(tenant, await toteRequest(1))).rejects.toMatchObject({ code: 'BILLING_REQUIRED', status: 402 })
    expect(await rendersOf()).toBe(0)
  })

  it('charges each finished render exactly once, then refuses past the cap', async () => {
    const { confirmationUrl } = await startPlan(tenant, adminGraphql(domain), 'https://atelier.example.test/app/plan')
    expect(fake.state(domain).subscriptions[0].status).toBe('PENDING')
    expect(fake.state(domain).subscriptions[0].test).toBe(true)
    await fetch(confirmationUrl)
    const plan = await syncPlan(tenant, adminGraphql(domain))
    expect(plan?.status).toBe('ACTIVE')
    expect(plan?.usageLineItemId).toBeTruthy()

    const [render] = await createRenders(tenant, await toteRequest(1))
    const done = await processRender(render.id)
    expect(done?.status).toBe('succeeded')
    // The worker charged it on the usage plan, keyed by the render id.
    expect(fake.state(domain).usageRecords).toHaveLength(1)
    expect(fake.state(domain).usageRecords[0].idempotencyKey).toBe(render.id)
    expect(fake.state(domain).usageRecords[0].amount).toMatch(/^0\.50?$/)

    // Charging again (a retried job) does not bill twice, even if our own record of the charge were lost.
    await billingFor(tenant).chargeRender(render.id)
    await db().update(usageLedger).set({ chargeExternalId: null }).where(eq(usageLedger.renderId, render.id))
    await billingFor(tenant).chargeRender(render.id)
    expect(fake.state(domain).usageRecords).toHaveLength(1)

    const usage = await usageThisPeriod(tenant.id, plan)
    expect(usage).toMatchObject({ renders: 1, amount: 0.5, cap: 1 })

    // 0.50 used + 2 × 0.50 would pass the 1.00 cap: refused before any render row exists.
    const before = await rendersOf()
    await expect(createRenders(tenant, await toteRequest(2))).rejects.toMatchObject({ code: 'BILLING_CAP_REACHED' })
    expect(await rendersOf()).toBe(before)

    // Room for one more render, asked for by four requests at once (a double submit, parallel feeders):
    // all pass the early check together, and exactly one gets through the binding one.
    const request = await toteRequest(1)
    const outcomes = await Promise.allSettled([11, 12, 13, 14].map((seed) => createRenders(tenant, { ...request, seeds: [seed] })))
    const through = outcomes.filter((o) => o.status === 'fulfilled')
    expect(through).toHaveLength(1)
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'BILLING_CAP_REACHED' })
    expect(await rendersOf()).toBe(before + 1)
  })
})
