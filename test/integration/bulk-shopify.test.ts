import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Worker } from 'bullmq'
import { eq, inArray } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { registerBackend } from '#app/modules/backends/registry.server.ts'
import { jsonlCatalogImages, remoteLines } from '#app/modules/shopify/platform/bulk-catalog.server.ts'
import { startBulkWorker } from '#app/modules/bulk/jobs.server.ts'
import { closeBulkQueue } from '#app/modules/bulk/queue.server.ts'
import {
  advanceBulkRun,
  bulkRunReport,
  confirmBulkRun,
  resumeBulkRun,
  startBulkRun,
  writeItems,
} from '#app/modules/bulk/service.server.ts'
import { startRenderWorker } from '#app/modules/renders/jobs.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { action as webhookAction } from '#app/routes/webhooks.tsx'
import { bulkRunItems, bulkRuns, renders, sessionTable, subscriptions, tenants, type BulkRun, type Tenant } from '#db/schema.ts'
import { startShopifyAdminFake, type FakeProductSeed, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { createZeroLatencyBackend } from '#test/fakes/zero-latency-backend.ts'
import { productSceneLook, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { installFakeShop } from '#test/support/shopify.ts'
import { releaseAll, waitFor } from '#test/support/queue.ts'

// Bulk runs on Shopify, against the Admin API fake: the catalog is read with
// one bulk operation (real bulk-query validation, JSONL with __parentId rows
// that never sit next to their parent), finished by the bulk_operations/finish
// webhook (delivered over HTTP, HMAC-verified by our route) or found by
// polling when the shop sends no webhook. Then a run on that catalog, with
// source images read from the fake's CDN.

const API_KEY = 'bulk-test-key'
const API_SECRET = 'bulk-test-secret-0123456789'

let prefix: string
let fake: ShopifyAdminFake
let receiver: http.Server
let bulkWorker: Worker | undefined
let renderWorker: Worker | undefined
const shops: { domain: string; tenant: Tenant }[] = []
const look = { operation: 'product_scene' as const, ...productSceneLook() }

async function jpeg(seed: number): Promise<Buffer> {
  return sharp(await sampleProductPng(seed))
    .jpeg({ quality: 80 })
    .toBuffer()
}

async function catalog(): Promise<FakeProductSeed[]> {
  const image = async (name: string, seed: number) => ({ bytes: await jpeg(seed), alt: name, filename: `${name}.jpg` })
  const products: FakeProductSeed[] = [
    { title: 'Canvas Tote', collections: ['Bags'], images: [await image('tote-front', 1), await image('tote-side', 2)] },
    {
      title: 'Linen Shirt',
      collections: ['Summer'],
      images: [await image('shirt-1', 3), await image('shirt-2', 4), await image('shirt-3', 5)],
    },
    { title: 'Silk Dress, "Evening"', collections: ['Summer'], images: [await image('dress', 6)] },
    { title: 'Bare Hat', images: [] },
    // Its first image is one Atelier published (named after a render): never a source.
    { title: 'Graphic Tee', images: [{ bytes: await jpeg(7), filename: `atelier-${randomUUID()}.jpg` }, await image('tee', 8)] },
  ]
  for (let i = 1; i <= 12; i++)
    products.push({ title: `Wool Scarf ${String(i).padStart(2, '0')}`, images: [await image(`scarf-${i}`, 10 + i)] })
  return products
}

async function addShop(webhooks: boolean): Promise<{ domain: string; tenant: Tenant }> {
  const domain = `bulk-${randomUUID().slice(0, 8)}.myshopify.com`
  await fake.addShop({ domain, products: await catalog(), webhookTopics: webhooks ? undefined : ['products/update'] })
  const tenant = await installFakeShop(fake, domain)
  const shop = { domain, tenant }
  shops.push(shop)
  return shop
}

/** Where the fake delivers webhooks: our real route (HMAC check included), over HTTP. */
async function startReceiver(): Promise<string> {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
      const request = new Request(`https://atelier.example.test${req.url}`, {
        method: req.method,
        headers,
        body: Buffer.concat(chunks),
      })
      webhookAction({ request, params: {}, context: {} })
        .then(
          (r) => r.status,
          (e: unknown) => (e instanceof Response ? e.status : 500),
        )
        .then((status) => res.writeHead(status).end())
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
}

async function readRun(runId: string): Promise<BulkRun> {
  const run = await db().query.bulkRuns.findFirst({ where: eq(bulkRuns.id, runId) })
  if (!run) throw new Error(`run ${runId} is gone`)
  return run
}

async function waitForStatus(runId: string, status: BulkRun['status'], timeoutMs = 20_000): Promise<BulkRun> {
  return waitFor(
    `run ${runId} to be ${status}`,
    async () => {
      const run = await readRun(runId)
      return run.status === status ? run : undefined
    },
    { timeoutMs, intervalMs: 50, describe: () => readRun(runId) },
  )
}

async function itemsOf(runId: string) {
  return db().select().from(bulkRunItems).where(eq(bulkRunItems.runId, runId))
}

function useTick(ms: number) {
  process.env.BULK_TICK_MS = String(ms)
  resetEnvCache()
}

beforeAll(async () => {
  prefix = isolateQueue()
  registerBackend(createZeroLatencyBackend({ id: 'bulk-shopify-test' }))
  const appUrl = await startReceiver()
  fake = await startShopifyAdminFake({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    apiVersion: SHOPIFY_API_VERSION,
    appUrl,
    mediaProcessingMs: 50,
  })
  Object.assign(process.env, {
    APP_MODE: 'shopify',
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_APP_URL: 'https://atelier.example.test',
    SHOPIFY_ADMIN_ORIGIN: `${fake.origin}/{shop}`,
  })
  resetEnvCache()
  bulkWorker = startBulkWorker({ sweep: false })
  renderWorker = startRenderWorker({ concurrency: 4 })
}, 60_000)

afterAll(async () => {
  for (const shop of shops) {
    await db().delete(tenants).where(eq(tenants.id, shop.tenant.id))
    await db().delete(sessionTable).where(eq(sessionTable.shop, shop.domain))
  }
  await bulkWorker?.close()
  await closeBulkQueue()
  await fake?.close()
  await new Promise((resolve) => receiver?.close(resolve))
  await closeAdminClients()
  delete process.env.BULK_TICK_MS
  await releaseAll(prefix, [renderWorker])
})

describe('reading a Shopify catalog with a bulk operation', () => {
  it('is finished by the bulk_operations/finish webhook and streams the JSONL into items', async () => {
    // why a long tick: only the webhook can make this run move on in time.
    useTick(120_000)
    const { domain, tenant } = await addShop(true)
    const { run } = await startBulkRun(tenant, { selection: { kind: 'all' }, looks: [look], images: { kind: 'featured' } })
    const estimated = await waitForStatus(run.id, 'awaiting_confirmation')

    const state = fake.state(domain)
    expect(state.bulkOperations).toHaveLength(1)
    expect(estimated.sourceOperation).toBe(state.bulkOperations[0].id)
    expect(state.bulkOperations[0]).toMatchObject({ status: 'COMPLETED', groupObjects: false })
    expect(state.webhookDeliveries.filter((d) => d.topic === 'bulk_operations/finish')).toEqual([
      expect.objectContaining({ status: 200 }),
    ])

    // One featured image per product with images (the hat has none); titles joined by __parentId.
    const items = await itemsOf(run.id)
    const byTitle = Object.fromEntries(items.map((i) => [i.productTitle, i]))
    expect(Object.keys(byTitle).sort()).toEqual(
      [
        'Canvas Tote',
        'Graphic Tee',
        'Linen Shirt',
        'Silk Dress, "Evening"',
        ...Array.from({ length: 12 }, (_, i) => `Wool Scarf ${String(i + 1).padStart(2, '0')}`),
      ].sort(),
    )
    const product = (title: string) => state.products.find((p) => p.title === title)!
    expect(byTitle['Canvas Tote']).toMatchObject({
      productRef: product('Canvas Tote').id,
      imageRef: product('Canvas Tote').mediaIds[0],
    })
    // The tee's first media is ours: its featured source is the merchant's own second one.
    expect(byTitle['Graphic Tee'].imageRef).toBe(product('Graphic Tee').mediaIds[1])
    expect(estimated.estimate).toMatchObject({ products: 16, images: 16, renders: 16 })
    expect(estimated.total).toBe(16)

    // A second delivery (Shopify retries) and more passes change nothing.
    await fake.sendWebhook(domain, 'bulk_operations/finish', {
      admin_graphql_api_id: estimated.sourceOperation,
      status: 'completed',
    })
    await expect(advanceBulkRun(run.id)).resolves.toMatchObject({ outcome: 'idle' })
    expect(await itemsOf(run.id)).toHaveLength(16)
    expect((await readRun(run.id)).status).toBe('awaiting_confirmation')
    expect(fake.state(domain).bulkOperations).toHaveLength(1)
  })

  it('finds the finished operation by polling when no webhook comes', async () => {
    useTick(200)
    const { domain, tenant } = await addShop(false)
    const collection = fake.state(domain).collections.find((c) => c.title === 'Summer')!
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'collection', collectionId: collection.id },
      looks: [look],
      images: { kind: 'all' },
    })
    const estimated = await waitForStatus(run.id, 'awaiting_confirmation')
    expect(fake.state(domain).webhookDeliveries.filter((d) => d.topic === 'bulk_operations/finish')).toEqual([])
    const items = await itemsOf(run.id)
    expect(items.map((i) => i.productTitle).sort()).toEqual([
      'Linen Shirt',
      'Linen Shirt',
      'Linen Shirt',
      'Silk Dress, "Evening"',
    ])
    const shirt = fake.state(domain).products.find((p) => p.title === 'Linen Shirt')!
    expect(
      items
        .filter((i) => i.productTitle === 'Linen Shirt')
        .map((i) => i.imageRef)
        .sort(),
    ).toEqual([...shirt.mediaIds].sort())
    expect(estimated.estimate).toMatchObject({ products: 2, images: 4, renders: 4 })

    // Reading the same file again (a worker killed mid-read, then retried) adds nothing.
    const url = fake.state(domain).bulkOperations[0].url!
    const again = await writeItems(estimated, jsonlCatalogImages(remoteLines(url)), { checkOurs: true })
    expect(again).toEqual({ images: 4, items: 0 })
    expect(await itemsOf(run.id)).toHaveLength(4)
  })

  it('refuses to start renders without a plan', async () => {
    const shop = shops[1]
    const run = (await db().select().from(bulkRuns).where(eq(bulkRuns.tenantId, shop.tenant.id)))[0]
    await expect(confirmBulkRun(shop.tenant, run.id)).rejects.toMatchObject({ code: 'BILLING_REQUIRED' })
  })
})

describe('running on Shopify', () => {
  it('pauses with the reason when the plan’s cap is reached, and will not resume past it', async () => {
    useTick(200)
    const { tenant } = await addShop(true)
    await db().insert(subscriptions).values({
      tenantId: tenant.id,
      externalId: 'gid://shopify/AppSubscription/2',
      usageLineItemId: 'gid://shopify/AppSubscriptionLineItem/2',
      status: 'ACTIVE',
      cappedAmount: 0.5,
      pricePerRender: 0.25,
    })
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'query', query: 'linen' },
      looks: [look],
      images: { kind: 'all' },
      maxInFlight: 3,
    })
    await waitForStatus(run.id, 'awaiting_confirmation')
    // why hold the renders: billing's cap check reads usage and open renders in
    // two statements, so a render finishing between them is counted in neither.
    await renderWorker!.pause()
    await confirmBulkRun(tenant, run.id)
    const paused = await waitForStatus(run.id, 'paused').finally(() => renderWorker!.resume())
    expect(paused.errorMessage).toMatch(/^BILLING_CAP_REACHED: /)
    // The two renders the cap allows finish; the third item waits, untouched.
    const settled = await waitFor('the allowed renders to finish', async () => {
      const items = await itemsOf(run.id)
      return items.filter((i) => i.status === 'succeeded').length === 2 ? items : undefined
    })
    expect(settled.filter((i) => i.status === 'pending')).toHaveLength(1)
    expect(await db().select().from(renders).where(eq(renders.batchId, run.id))).toHaveLength(2)
    await expect(resumeBulkRun(tenant, run.id)).rejects.toMatchObject({ code: 'BILLING_CAP_REACHED' })
  })

  it('estimates the cost from the plan, then renders from the CDN within the bound', async () => {
    useTick(200)
    const { tenant } = await addShop(true)
    await db().insert(subscriptions).values({
      tenantId: tenant.id,
      externalId: 'gid://shopify/AppSubscription/1',
      usageLineItemId: 'gid://shopify/AppSubscriptionLineItem/1',
      status: 'ACTIVE',
      cappedAmount: 100,
      pricePerRender: 0.25,
      currency: 'EUR',
    })
    const otherLook = { ...look, sceneId: look.sceneId === 'loft' ? 'street' : 'loft' }
    const { run } = await startBulkRun(tenant, {
      selection: { kind: 'query', query: 'wool scarf' },
      looks: [look, otherLook],
      images: { kind: 'first', count: 1 },
      maxInFlight: 3,
    })
    const estimated = await waitForStatus(run.id, 'awaiting_confirmation')
    expect(estimated.estimate).toMatchObject({ products: 12, images: 12, renders: 24, cost: 6, currency: 'EUR' })
    await confirmBulkRun(tenant, run.id)
    const done = await waitForStatus(run.id, 'completed', 90_000)
    expect(done).toMatchObject({ total: 24, done: 24, failed: 0 })
    const made = await db().select().from(renders).where(eq(renders.batchId, run.id))
    expect(made).toHaveLength(24)
    expect(new Set(made.map((r) => `${r.productRef}|${r.sceneId}`)).size).toBe(24)
    const items = await itemsOf(run.id)
    expect(items.every((i) => i.status === 'succeeded' && made.some((r) => r.id === i.renderId))).toBe(true)
    const csv = await new Response(bulkRunReport(tenant.id, done)).text()
    expect(csv.trimEnd().split('\r\n')).toHaveLength(25)
    expect(
      await db()
        .select()
        .from(renders)
        .where(
          inArray(
            renders.id,
            made.map((r) => r.id),
          ),
        ),
    ).toHaveLength(24)
  })
})
