import { createHash, randomUUID } from 'node:crypto'
import { eq, inArray } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { env, resetEnvCache } from '#app/lib/env.server.ts'
import { imageStore } from '#app/lib/storage.server.ts'
import { platformFor } from '#app/modules/platforms/index.server.ts'
import { createShopifyPlatform } from '#app/modules/shopify/platform/index.server.ts'
import { searchQuery } from '#app/modules/shopify/platform/query.ts'
import type { Product, PublishCheckpoint, StorePlatform } from '#app/modules/platforms/types.ts'
import { processRender } from '#app/modules/renders/jobs.server.ts'
import { approveRender, createRenders, publicationsOf, publishRender, undoPublish } from '#app/modules/renders/service.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { createAdminClient } from '#app/modules/shopify/admin/client.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { renders, sessionTable, subscriptions, tenants, type Tenant } from '#db/schema.ts'
import { startShopifyAdminFake, type FakeProductSeed, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { insertRender, productSceneLook, sampleProductPng } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { installFakeShop } from '#test/support/shopify.ts'
import { readRender, releaseAll, waitFor } from '#test/support/queue.ts'

// The Shopify platform end to end against the Admin API fake (real schema,
// costs, staged uploads, media processing), through the render service where
// a merchant's action goes through it.

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

let prefix: string
let fake: ShopifyAdminFake
let domain: string
let tenant: Tenant
let platform: StorePlatform
const seedBytes = new Map<string, Buffer>()

async function jpeg(seed: number): Promise<Buffer> {
  return sharp(await sampleProductPng(seed))
    .jpeg({ quality: 85 })
    .toBuffer()
}

async function seedProducts(): Promise<FakeProductSeed[]> {
  const image = async (name: string, seed: number, alt: string) => {
    const bytes = await jpeg(seed)
    seedBytes.set(name, bytes)
    return { bytes, alt, filename: `${name}.jpg` }
  }
  const products: FakeProductSeed[] = [
    {
      title: 'Canvas Tote',
      vendor: 'Atelier Goods',
      productType: 'Bags',
      images: [await image('tote-front', 1, 'Tote, front'), await image('tote-side', 2, 'Tote, side')],
    },
    {
      title: 'Linen Button Shirt',
      vendor: 'Atelier Goods',
      productType: 'Shirts',
      images: [await image('shirt-front', 3, 'Shirt, front')],
    },
    { title: "D'Addario Strap", vendor: 'Atelier Goods', productType: 'Straps', images: [await image('strap', 4, 'Strap')] },
    { title: 'Crash Test Dummy', vendor: 'Atelier Goods', productType: 'Tests', images: [await image('dummy', 5, 'Dummy')] },
  ]
  for (let i = 1; i <= 11; i++) {
    products.push({
      title: `Wool Scarf ${String(i).padStart(2, '0')}`,
      images: [await image(`scarf-${i}`, 10 + i, `Scarf ${i}`)],
    })
  }
  return products
}

async function product(title: string): Promise<Product> {
  const page = await platform.listProducts({ search: title, first: 5 }, null)
  const found = page.products.find((p) => p.title === title)
  if (!found) throw new Error(`no product "${title}"`)
  return found
}

function appMedia(productId: string) {
  return fake.state(domain).media.filter((m) => m.origin === 'app' && m.productIds.includes(productId))
}

function productState(productId: string) {
  const p = fake.state(domain).products.find((x) => x.id === productId)
  if (!p) throw new Error(`product ${productId} is not on the fake`)
  return p
}

/** What the originals of a product look like on Shopify: ids, order, alt, bytes. */
function originals(productId: string) {
  const state = fake.state(domain)
  return state.media
    .filter((m) => m.origin === 'seed' && m.productIds.includes(productId))
    .map((m) => ({ id: m.id, alt: m.alt, sha: m.sourceSha256, status: m.status }))
}

beforeAll(async () => {
  prefix = isolateQueue()
  // why small: the CPU render in the publish test needs no 2048 px output.
  process.env.MAX_OUTPUT_EDGE = '384'
  domain = `atelier-${randomUUID().slice(0, 8)}.myshopify.com`
  fake = await startShopifyAdminFake({
    apiKey: 'atelier-test-key',
    apiSecret: 'atelier-test-secret',
    apiVersion: SHOPIFY_API_VERSION,
    shops: [{ domain, products: await seedProducts() }],
    mediaProcessingMs: 150,
  })
  process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
  resetEnvCache()
  tenant = await installFakeShop(fake, domain, { name: 'Fake shop' })
  platform = platformFor(tenant)
}, 60_000)

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
  if (domain) await db().delete(sessionTable).where(eq(sessionTable.shop, domain))
  await fake?.close()
  await closeAdminClients()
  delete process.env.MAX_OUTPUT_EDGE
  await releaseAll(prefix)
})

describe('reading the catalog', () => {
  it('pages through every product in title order, originals offered as sources', async () => {
    const seen: Product[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await platform.listProducts({ first: 4 }, cursor)
      expect(page.products.length).toBeLessThanOrEqual(4)
      seen.push(...page.products)
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(4)
    const titles = seen.map((p) => p.title)
    expect(titles).toHaveLength(15)
    expect(titles).toEqual([...titles].sort((a, b) => a.localeCompare(b)))
    const tote = seen.find((p) => p.title === 'Canvas Tote')!
    expect(tote).toMatchObject({
      id: expect.stringMatching(/^gid:\/\/shopify\/Product\/\d+$/),
      vendor: 'Atelier Goods',
      productType: 'Bags',
      status: 'active',
    })
    expect(tote.images.map((i) => ({ alt: i.alt, ours: i.ours, width: i.width, height: i.height }))).toEqual([
      { alt: 'Tote, front', ours: false, width: 200, height: 240 },
      { alt: 'Tote, side', ours: false, width: 200, height: 240 },
    ])
    expect(tote.images[0].id).toMatch(/^gid:\/\/shopify\/MediaImage\/\d+$/)
  })

  it('searches titles with Shopify search syntax', async () => {
    expect(searchQuery('  linen   shirt ')).toBe('title:linen* AND title:shirt*')
    expect(searchQuery('a:b (c)')).toBe('title:a\\:b* AND title:\\(c\\)*')
    expect(searchQuery('')).toBeNull()
    const titles = async (search: string) => (await platform.listProducts({ search }, null)).products.map((p) => p.title)
    expect(await titles('tote')).toEqual(['Canvas Tote'])
    expect(await titles('linen shirt')).toEqual(['Linen Button Shirt'])
    expect(await titles("D'Addario")).toEqual(["D'Addario Strap"])
    expect(await titles('Wool Scarf')).toHaveLength(11)
    expect(await titles('nothing-like-this')).toEqual([])
  })

  it('reads an original image byte for byte from the CDN', async () => {
    const tote = await platform.getProduct((await product('Canvas Tote')).id)
    expect(tote.images).toHaveLength(2)
    const bytes = await platform.readImage(tote.id, tote.images[1].id)
    expect(sha256(bytes)).toBe(sha256(seedBytes.get('tote-side')!))
  })

  it("downloads only from Shopify's own host: loopback elsewhere is refused, not retried", async () => {
    const tote = await product('Canvas Tote')
    // The Admin API reached as localhost: only that origin is Shopify's; the fake's
    // CDN URLs name 127.0.0.1, a private address like any other.
    process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin.replace('127.0.0.1', 'localhost')}/{shop}`
    resetEnvCache()
    try {
      const client = createAdminClient({ shop: domain, accessToken: fake.accessToken(domain), redis: null })
      const elsewhere = createShopifyPlatform({ shop: domain, client, isOurs: async () => new Set(), redis: null })
      const cdnBefore = fake.stats().requests
      await expect(elsewhere.readImage(tote.id, tote.images[0].id)).rejects.toMatchObject({
        code: 'SHOPIFY_UNAVAILABLE',
        retryable: false,
        message: expect.stringMatching(/private or special address \(loopback\)/),
      })
      // One Admin API read for the media node, no CDN request.
      expect(fake.stats().requests - cdnBefore).toBe(1)

      // The staged-upload target the fake names is on 127.0.0.1 too: nothing is uploaded or attached.
      const before = fake.stats().byOperation.productUpdate ?? 0
      await expect(elsewhere.publishImage(tote.id, await jpeg(99), 'Refused', { idempotencyKey: randomUUID() })).rejects.toMatchObject({
        code: 'SHOPIFY_UNAVAILABLE',
        retryable: false,
        message: expect.stringMatching(/upload target URL Shopify gave leads to a private or special address/),
      })
      expect(fake.stats().byOperation.productUpdate ?? 0).toBe(before)
      expect(appMedia(tote.id).filter((m) => m.alt === 'Refused')).toEqual([])
    } finally {
      process.env.SHOPIFY_ADMIN_ORIGIN = `${fake.origin}/{shop}`
      resetEnvCache()
    }
  })

  it('refuses ids that are not Shopify ids, and reports missing ones', async () => {
    const tote = await product('Canvas Tote')
    await expect(platform.getProduct('canvas-tote')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(platform.getProduct('gid://shopify/Product/999999999')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(platform.readImage(tote.id, 'gid://shopify/MediaImage/999999999')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(platform.readImage(tote.id, '../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})

describe('publishing through the render service', () => {
  let tote: Product
  let renderId: string
  let before: ReturnType<typeof originals>

  beforeAll(async () => {
    tote = await product('Canvas Tote')
    before = originals(tote.id)
    // why a plan row: createRenders refuses a Shopify shop without an active plan.
    await db().insert(subscriptions).values({
      tenantId: tenant.id,
      externalId: 'gid://shopify/AppSubscription/1',
      usageLineItemId: 'gid://shopify/AppSubscriptionLineItem/1',
      status: 'ACTIVE',
      cappedAmount: 100,
      pricePerRender: 0.05,
      test: true,
    })
    // The real path: the source read from Shopify's CDN, the real CPU backend.
    const [created] = await createRenders(tenant, {
      productId: tote.id,
      imageId: tote.images[0].id,
      look: productSceneLook(),
      // why slot 0 (45 mod 9): the look exactly as its scene frames it; this small test photo at 70 % framing on a 384 px frame reads as an edge change.
      seeds: [45],
    })
    expect(created.sourceSha256).toBeTruthy()
    const done = await processRender(created.id)
    expect(done?.status).toBe('succeeded')
    renderId = created.id
  }, 120_000)

  it('publishes an approved render as one READY image with our alt; originals untouched', async () => {
    await expect(publishRender(tenant, renderId)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    expect(appMedia(tote.id)).toEqual([])
    await approveRender(tenant.id, renderId)
    const published = await publishRender(tenant, renderId)
    expect(published.reviewState).toBe('published')

    const [publication] = await publicationsOf(tenant.id, renderId)
    const media = appMedia(tote.id)
    expect(media).toHaveLength(1)
    const render = await readRender(renderId)
    expect(media[0]).toMatchObject({
      id: publication.externalId,
      status: 'READY',
      alt: publication.altText,
      sourceSha256: sha256(await imageStore().get(render.resultKey!)),
    })
    expect(publication.steps).toMatchObject({ uploaded: true, externalId: publication.externalId, ready: true })
    expect(productState(tote.id).mediaIds).toEqual([...before.map((o) => o.id), publication.externalId])
    expect(originals(tote.id)).toEqual(before)

    // Listed as ours: never offered as a source again.
    const listed = await platform.getProduct(tote.id)
    expect(listed.images.map((i) => [i.id, i.ours])).toEqual([
      ...before.map((o) => [o.id, false]),
      [publication.externalId, true],
    ])
  })

  it('publishing again is a no-op', async () => {
    const spentBefore = fake.stats().byOperation.productUpdate ?? 0
    expect((await publishRender(tenant, renderId)).reviewState).toBe('published')
    expect(appMedia(tote.id)).toHaveLength(1)
    expect(fake.stats().byOperation.productUpdate ?? 0).toBe(spentBefore)
  })

  it('undo removes exactly our image and leaves the originals as they were', async () => {
    const [publication] = await publicationsOf(tenant.id, renderId)
    expect((await undoPublish(tenant, renderId)).reviewState).toBe('unpublished')
    expect(appMedia(tote.id)).toEqual([])
    expect(fake.state(domain).deletedFileIds).toContain(publication.externalId)
    expect(productState(tote.id).mediaIds).toEqual(before.map((o) => o.id))
    expect(originals(tote.id)).toEqual(before)
    // Undo again: nothing to do, still no error.
    expect((await undoPublish(tenant, renderId)).reviewState).toBe('unpublished')
  })

  it('runs embedded in the admin and can make an image the featured one', () => {
    expect(platform.capabilities).toEqual({ embedded: true, featuredImage: true, colourImages: false, mainImageSlots: 0 })
  })

  it('a featured publish puts our image first', async () => {
    const published = await publishRender(tenant, renderId, { featured: true })
    expect(published.reviewState).toBe('published')
    const live = (await publicationsOf(tenant.id, renderId)).find((p) => p.undoneAt === null)!
    expect(live.steps).toMatchObject({ reordered: true })
    await waitFor('our image to lead the product', () => productState(tote.id).mediaIds[0] === live.externalId)
    expect(productState(tote.id).mediaIds).toEqual([live.externalId, ...before.map((o) => o.id)])
    await undoPublish(tenant, renderId)
    expect(productState(tote.id).mediaIds).toEqual(before.map((o) => o.id))
  })

  it('the merchant’s originals can never be unpublished', async () => {
    await expect(platform.unpublishImage(tote.id, before[0].id)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(platform.unpublishImage(tote.id, 'not-an-id')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(originals(tote.id)).toEqual(before)
  })

  it('an image Shopify cannot process fails with MEDIA_FAILED and leaves nothing behind', async () => {
    const dummy = await product('Crash Test Dummy')
    const dummyBefore = originals(dummy.id)
    const inserted = await insertRender(tenant, { backend: 'cpu-studio', enqueue: false, productRef: dummy.id })
    // JPEG magic bytes, then garbage: passes our format sniffing, fails Shopify's decoding.
    const corrupt = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 0x5a)])
    await db()
      .update(renders)
      .set({
        status: 'succeeded',
        resultKey: await imageStore().put(corrupt),
        fidelityScore: 100,
        reviewState: 'approved',
        productTitle: dummy.title,
      })
      .where(eq(renders.id, inserted.id))
    const err = await publishRender(tenant, inserted.id).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'MEDIA_FAILED' })
    expect((err as Error).message).toMatch(/could not process the image: .*not a supported image/i)
    const row = await readRender(inserted.id)
    expect(row).toMatchObject({ reviewState: 'publish_failed', errorCode: 'PUBLISH_FAILED' })
    expect(row.errorMessage).toMatch(/not a supported image/)
    const [publication] = await publicationsOf(tenant.id, inserted.id)
    expect(publication).toMatchObject({ state: 'failed', externalId: null })
    expect(publication.steps).toMatchObject({ externalId: null, uploaded: false, target: null })
    // The failed media was deleted, so the product shows no broken tile.
    expect(appMedia(dummy.id)).toEqual([])
    expect(originals(dummy.id)).toEqual(dummyBefore)
    await db()
      .delete(renders)
      .where(inArray(renders.id, [inserted.id]))
  })
})

describe('a publish that dies part-way', () => {
  // Saves a normal featured publish makes, in order: target, uploaded,
  // attachRequestedAt, externalId, ready, reordered.
  const SAVES = 6
  const cases = Array.from({ length: SAVES }, (_, i) => i + 1).flatMap((n) => [
    { crashAt: n, lost: false },
    { crashAt: n, lost: true },
  ])

  it.each(cases)('crash at save $crashAt (save lost: $lost) → a retry leaves exactly one image', async ({ crashAt, lost }) => {
    const dummy = await product('Crash Test Dummy')
    const before = appMedia(dummy.id).length
    const originalsBefore = originals(dummy.id)
    const key = randomUUID()
    const bytes = await jpeg(100 + crashAt)
    let stored: Record<string, unknown> = {}
    let saves = 0
    const crashing: PublishCheckpoint = {
      load: async () => stored,
      save: async (patch) => {
        saves++
        // "lost": the process died after the platform call, before recording it.
        if (saves === crashAt && lost) throw new Error(`simulated crash before save ${crashAt}`)
        stored = { ...stored, ...patch }
        if (saves === crashAt) throw new Error(`simulated crash after save ${crashAt}`)
      },
    }
    await expect(
      platform.publishImage(dummy.id, bytes, 'Dummy on a model', { idempotencyKey: key, checkpoint: crashing, featured: true }),
    ).rejects.toThrow(/simulated crash/)
    const steady: PublishCheckpoint = { load: async () => stored, save: async (patch) => void (stored = { ...stored, ...patch }) }
    const { externalId } = await platform.publishImage(dummy.id, bytes, 'Dummy on a model', {
      idempotencyKey: key,
      checkpoint: steady,
      featured: true,
    })

    const ours = appMedia(dummy.id).filter((m) => m.imageUrl?.includes(`atelier-${key}`))
    expect(ours).toHaveLength(1)
    expect(ours[0]).toMatchObject({ id: externalId, status: 'READY', sourceSha256: sha256(bytes), alt: 'Dummy on a model' })
    expect(appMedia(dummy.id)).toHaveLength(before + 1)
    expect(stored).toMatchObject({ externalId, ready: true, reordered: true })
    await waitFor('our image to lead the product', () => productState(dummy.id).mediaIds[0] === externalId)
    expect(originals(dummy.id)).toEqual(originalsBefore)

    // A third call with the finished record does nothing new.
    expect(
      await platform.publishImage(dummy.id, bytes, 'Dummy on a model', {
        idempotencyKey: key,
        checkpoint: steady,
        featured: true,
      }),
    ).toEqual({ externalId })
    expect(appMedia(dummy.id)).toHaveLength(before + 1)
  })

  it('without any checkpoint, publishing the same key twice still adds one image', async () => {
    const shirt = await product('Linen Button Shirt')
    const key = randomUUID()
    const bytes = await jpeg(200)
    const first = await platform.publishImage(shirt.id, bytes, 'Shirt on a model', { idempotencyKey: key })
    const second = await platform.publishImage(shirt.id, bytes, 'Shirt on a model', { idempotencyKey: key })
    expect(second).toEqual(first)
    expect(appMedia(shirt.id).filter((m) => m.imageUrl?.includes(`atelier-${key}`))).toHaveLength(1)
    expect(env().SHOPIFY_ADMIN_ORIGIN).toContain(fake.origin)
  })
})
