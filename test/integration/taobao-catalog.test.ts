import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { saveGrant } from '#app/modules/taobao/auth/grants.server.ts'
import { grantOf } from '#app/modules/taobao/auth/oauth.server.ts'
import { catalogImages, selectedItems } from '#app/modules/taobao/platform/bulk-catalog.server.ts'
import { getProduct, imageUrl, listCollections, listProducts } from '#app/modules/taobao/platform/catalog.server.ts'
import { taobaoContext, type TaobaoContext } from '#app/modules/taobao/platform/context.server.ts'
import { downloadImage } from '#app/modules/taobao/platform/download.server.ts'
import { createTopClient } from '#app/modules/taobao/top/client.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { tenants } from '#db/schema.ts'
import { inArray } from 'drizzle-orm'
import { catalogItems, FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from '#test/fakes/taobao/index.ts'

// A Taobao seller's items as Atelier's products (issue 17, part 3), through
// the production client against the Taobao fake: on-sale then warehouse
// items, search and seller categories, images in slot order with colour
// images, bytes downloaded whole, and a bulk read past the 20,000-row cap.

let fake: TaobaoFake
let shop: { userId: string; nick: string; items: Record<string, number> }
const VOLUME_SELLER = '2200000777'
let ctx: TaobaoContext
let volumeCtx: TaobaoContext
const noneOurs = async (..._: unknown[]) => new Set<string>()
const saved = process.env.TAOBAO_GATEWAY_URL

/** How many photos the sample catalog has (each item's main images). */
function seedPhotos(): number {
  return catalogItems().reduce((n, item) => n + (item.images?.length ?? 0), 0)
}

async function contextFor(userId: string, nick: string): Promise<TaobaoContext> {
  const tenant = await upsertTenant('taobao', userId, nick)
  const token = fake.issueToken(userId)
  await saveGrant(
    tenant.id,
    grantOf({ ...token, expires_in: 86_400, re_expires_in: 2_592_000, taobao_user_nick: encodeURIComponent(nick) }),
  )
  // why a faster budget than the default 5 calls/s a seller: the 21,000-item read is 110 pages.
  const budget = { app: { perSecond: 200 }, seller: { perSecond: 200 } }
  const client = createTopClient({
    appKey: FAKE_APP.appKey,
    appSecret: FAKE_APP.appSecret,
    gatewayUrl: fake.gatewayUrl,
    redis: null,
    keyPrefix: 'test-taobao-catalog',
    budget,
  })
  return taobaoContext(tenant, client)
}

beforeAll(async () => {
  fake = await startTaobaoFake()
  process.env.TAOBAO_GATEWAY_URL = fake.gatewayUrl
  resetEnvCache()
  shop = seedCatalogSeller(fake, { nick: '小林的店' })
  // One item in the warehouse (仓库中): still a product, listed after those on sale.
  fake.addItem(shop.userId, { title: '库存 帆布包', approve_status: 'instock', seller_cids: [103] })
  fake.addSeller({
    userId: VOLUME_SELLER,
    nick: '大店',
    generated: { count: 21_000, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-06-30T00:00:00Z') },
  })
  ctx = await contextFor(shop.userId, shop.nick)
  volumeCtx = await contextFor(VOLUME_SELLER, '大店')
  // The seller's colour image for one of the Breton top's two colours (a SKU image is a source too).
  const blackBreton = readFileSync(path.resolve('catalog/breton-striped-long-sleeve', 'front.jpg'))
  await ctx.withAuth((auth) =>
    ctx.top.itemPropimgUpload(auth, {
      num_iid: shop.items['breton-striped-long-sleeve'],
      properties: '1627207:28341',
      image: { bytes: blackBreton, filename: 'black.jpg' },
    }),
  )
}, 60_000)

afterAll(async () => {
  if (saved === undefined) delete process.env.TAOBAO_GATEWAY_URL
  else process.env.TAOBAO_GATEWAY_URL = saved
  resetEnvCache()
  await db()
    .delete(tenants)
    .where(inArray(tenants.externalId, [shop.userId, VOLUME_SELLER]))
  await fake.close()
})

describe('a Taobao shop as products', () => {
  it('lists on-sale items page by page, then the warehouse', async () => {
    const seen: string[] = []
    const statuses: string[] = []
    let cursor: string | null = null
    do {
      const page = await listProducts(ctx, { first: 4 }, cursor)
      seen.push(...page.products.map((p) => p.id))
      statuses.push(...page.products.map((p) => p.status ?? ''))
      cursor = page.nextCursor
    } while (cursor)
    expect(new Set(seen).size).toBe(12)
    expect(statuses.at(-1)).toBe('draft')
    expect(statuses.slice(0, 11).every((s) => s === 'active')).toBe(true)
  })

  it('searches titles in Chinese and filters by the seller’s categories', async () => {
    const found = await listProducts(ctx, { search: '连衣裙' }, null)
    expect(found.products.map((p) => p.title).sort()).toEqual(['碎花裹身中长款连衣裙'])
    const cats = await listCollections(ctx)
    expect(cats.find((c) => c.title === '连衣裙')?.id).toBe('104')
    const dresses = await listProducts(ctx, { collectionId: '104', status: 'active' }, null)
    expect(dresses.products.map((p) => p.title).sort()).toEqual(['碎花裹身中长款连衣裙', '香槟色真丝吊带裙'])
  })

  it('gives a product its main images in slot order, then its colour images, and their bytes whole', async () => {
    const breton = await getProduct(ctx, String(shop.items['breton-striped-long-sleeve']), noneOurs)
    expect(breton.title).toBe('法式条纹长袖T恤 女 纯棉打底衫')
    expect(breton.images[0].id).toMatch(/^img-\d+$/)
    expect(breton.images.filter((i) => i.id.startsWith('prop-'))).toHaveLength(1)
    const bytes = await downloadImage(await imageUrl(ctx, breton.id, breton.images[0].id))
    const original = readFileSync(path.resolve('catalog/breton-striped-long-sleeve', 'front.jpg'))
    expect(bytes.equals(original)).toBe(true)
    await expect(getProduct(ctx, 'not-a-number', noneOurs)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(imageUrl(ctx, breton.id, 'img-1')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('streams a bulk selection’s images, reporting a picked item that is gone', async () => {
    const all: string[] = []
    for await (const image of catalogImages(ctx, { kind: 'all' }, noneOurs)) all.push(`${image.productRef}/${image.imageRef}`)
    // Every catalog photo as a main image, and the one colour image; the warehouse bag has no picture.
    const photos = seedPhotos()
    expect(all.filter((a) => a.includes('/img-'))).toHaveLength(photos)
    expect(all.filter((a) => a.includes('/prop-'))).toHaveLength(1)
    const missing: string[] = []
    const picked: string[] = []
    const tee = String(shop.items['classic-graphic-tee'])
    for await (const image of catalogImages(ctx, { kind: 'products', productIds: [tee, '99999999'] }, noneOurs, (id) =>
      missing.push(id),
    )) {
      picked.push(image.productRef)
    }
    expect(new Set(picked)).toEqual(new Set([tee]))
    expect(missing).toEqual(['99999999'])
  })

  it('reads a shop past the 20,000-row cap whole, in modified windows', async () => {
    const ids = new Set<string>()
    for await (const id of selectedItems(volumeCtx, { kind: 'all' }, new Date('2026-12-31T00:00:00Z'))) ids.add(id)
    expect(ids.size).toBe(21_000)
  }, 60_000)
})
