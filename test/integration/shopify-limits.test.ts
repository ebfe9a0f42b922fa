import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { Redis } from 'ioredis'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { createShopifyPlatform } from '#app/modules/shopify/platform/index.server.ts'
import type { PublishCheckpoint, StorePlatform } from '#app/modules/platforms/types.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { createAdminClient, type AdminResponseEvent } from '#app/modules/shopify/admin/client.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { LIST_PRODUCTS } from '#app/modules/shopify/documents.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { sessionTable, tenants, type Tenant } from '#db/schema.ts'
import { startShopifyAdminFake, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { installFakeShop } from '#test/support/shopify.ts'
import { redisConnections, releaseAll } from '#test/support/queue.ts'

// Rate limits, retries and refusals of the Admin client against the fake:
// its leaky bucket, THROTTLED answers, injected 5xx and dropped connections.

const BUCKET = 1000
// why 500/s (Shopify's standard is 100/s): the same arithmetic in a fifth of the time.
const RESTORE = 500

let prefix: string
let fake: ShopifyAdminFake
let domain: string
let tenant: Tenant
let platform: StorePlatform
const redis = redisConnections()
const connection = (): Redis => redis.open()

beforeAll(async () => {
  prefix = isolateQueue()
  domain = `atelier-${randomUUID().slice(0, 8)}.myshopify.com`
  const bytes = await sharp(await sampleProductPng(3))
    .jpeg()
    .toBuffer()
  fake = await startShopifyAdminFake({
    apiKey: 'atelier-test-key',
    apiSecret: 'atelier-test-secret',
    apiVersion: SHOPIFY_API_VERSION,
    shops: [
      {
        domain,
        products: Array.from({ length: 12 }, (_, i) => ({
          title: `Limit product ${i + 1}`,
          images: [{ bytes, alt: `Photo ${i + 1}` }],
        })),
      },
    ],
    mediaProcessingMs: 100,
    throttle: { bucket: BUCKET, restoreRate: RESTORE },
  })
  process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
  resetEnvCache()
  tenant = await installFakeShop(fake, domain, { name: 'Fake shop', scope: 'write_products' })
  platform = platformFor(tenant)
}, 60_000)

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
  if (domain) await db().delete(sessionTable).where(eq(sessionTable.shop, domain))
  await fake?.close()
  await redis.closeAll()
  await closeAdminClients()
  await releaseAll(prefix)
})

describe('the shared cost budget against the fake’s bucket', () => {
  it('two processes hammering one shop get no THROTTLED, and use the bucket fully', async () => {
    const events: AdminResponseEvent[] = []
    // Two "processes": their own client and their own Redis connection each.
    const clients = [connection(), connection()].map((redis) =>
      createAdminClient({ shop: domain, accessToken: fake.accessToken(domain), redis, onResponse: (e) => events.push(e) }),
    )
    const throttledBefore = fake.stats().throttled
    const started = performance.now()
    const perClient = 100
    await Promise.all(
      clients.map(async (client) => {
        let left = perClient
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (left-- > 0) await client.request(LIST_PRODUCTS, { first: 12, after: null, query: null })
          }),
        )
      }),
    )
    const seconds = (performance.now() - started) / 1000
    const spent = events.reduce((sum, e) => sum + (e.actualQueryCost ?? 0), 0)
    const throttled = fake.stats().throttled - throttledBefore
    expect(events.filter((e) => e.throttled)).toHaveLength(throttled)
    expect(throttled).toBe(0)
    expect(events.filter((e) => !e.throttled)).toHaveLength(2 * perClient)
    // The fake refunds to the actual cost, so what the bucket had to give is
    // what was spent beyond its starting 1000 points (plus the requested
    // surplus held while in flight): the limiter should come close to the
    // restore rate rather than idle.
    const ideal = Math.max(0, spent - BUCKET) / RESTORE
    console.info(
      `two clients: ${events.length} requests, ${spent} points in ${seconds.toFixed(2)} s (bucket-bound minimum ${ideal.toFixed(2)} s), throttled ${throttled}`,
    )
    expect(seconds).toBeLessThan(ideal * 1.6 + 1)
  }, 60_000)
})

describe('retries and refusals', () => {
  it('retries 5xx answers and dropped connections on reads', async () => {
    fake.setFailure({ operation: 'AtelierListProducts', status: 502, times: 2 })
    const before = fake.stats().byOperation.products ?? 0
    const page = await platform.listProducts({ first: 3 }, null)
    expect(page.products).toHaveLength(3)
    expect((fake.stats().byOperation.products ?? 0) - before).toBe(3)

    fake.setFailure({ operation: 'AtelierListProducts', times: 1 })
    expect((await platform.listProducts({ first: 3 }, null)).products).toHaveLength(3)
  })

  it('honours Retry-After on 429', async () => {
    fake.setFailure({ operation: 'AtelierListProducts', status: 429, times: 1 })
    const started = performance.now()
    expect((await platform.listProducts({ first: 2 }, null)).products).toHaveLength(2)
    expect(performance.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('does not resend an attach whose outcome is unknown; the publish retry still ends with one image', async () => {
    const [target] = (await platform.listProducts({ search: 'Limit product 1', first: 1 }, null)).products
    const bytes = await sharp(await sampleProductPng(9))
      .jpeg()
      .toBuffer()
    let steps: Record<string, unknown> = {}
    const checkpoint: PublishCheckpoint = { load: async () => steps, save: async (p) => void (steps = { ...steps, ...p }) }
    const key = randomUUID()
    fake.setFailure({ operation: 'AtelierProductAttachMedia', status: 502, times: 1 })
    const before = fake.stats().byOperation.productUpdate ?? 0
    await expect(platform.publishImage(target.id, bytes, 'Retry me', { idempotencyKey: key, checkpoint })).rejects.toMatchObject({
      code: 'SHOPIFY_UNAVAILABLE',
      retryable: true,
      details: { outcomeUnknown: true },
    })
    expect((fake.stats().byOperation.productUpdate ?? 0) - before).toBe(1)
    expect(steps.attachRequestedAt).toBeTruthy()
    const { externalId } = await platform.publishImage(target.id, bytes, 'Retry me', { idempotencyKey: key, checkpoint })
    const ours = fake.state(domain).media.filter((m) => m.origin === 'app' && m.imageUrl?.includes(`atelier-${key}`))
    expect(ours.map((m) => m.id)).toEqual([externalId])
  })

  it('a refused token is SHOPIFY_UNAUTHORIZED at once, never retried', async () => {
    const before = fake.stats().requests
    const client = createAdminClient({ shop: domain, accessToken: 'shpat_revoked', redis: null })
    const shopify = createShopifyPlatform({ shop: domain, client, isOurs: async () => new Set(), redis: null })
    await expect(shopify.listProducts({}, null)).rejects.toMatchObject({ code: 'SHOPIFY_UNAUTHORIZED', status: 401 })
    expect(fake.stats().requests - before).toBe(1)
  })

  it('a shop without an offline session is SHOPIFY_UNAUTHORIZED before any request', async () => {
    const other = await upsertTenant('shopify', `atelier-${randomUUID().slice(0, 8)}.myshopify.com`, 'No session')
    try {
      const before = fake.stats().requests
      await expect(platformFor(other).listProducts({}, null)).rejects.toMatchObject({ code: 'SHOPIFY_UNAUTHORIZED' })
      expect(fake.stats().requests).toBe(before)
    } finally {
      await db().delete(tenants).where(eq(tenants.id, other.id))
    }
  })
})
