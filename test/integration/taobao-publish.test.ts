import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { isAppError, type AppError } from '#app/lib/errors.ts'
import type { RawImage } from '#app/modules/imaging/types.ts'
import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import { saveGrant } from '#app/modules/taobao/auth/grants.server.ts'
import { taobaoContext, type TaobaoContext } from '#app/modules/taobao/platform/context.server.ts'
import { MAX_MAIN_IMAGE_BYTES, regionDeltaE } from '#app/modules/taobao/platform/main-image.server.ts'
import { decodePublished, picPathOf } from '#app/modules/taobao/platform/publish-record.ts'
import { publishToItem, unpublishFromItem, type TaobaoPublishOptions } from '#app/modules/taobao/platform/publish.server.ts'
import { createTopClient } from '#app/modules/taobao/top/client.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { tenants, type Tenant } from '#db/schema.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type FakeItemState, type TaobaoFake } from '#test/fakes/taobao/index.ts'

// Publishing renders to Taobao item main images (issue 17, part 4) against
// the fake: square and under 3 MB with the product whole, into the Atelier
// image-space category, at a free slot or over an original the seller chose,
// exactly once across crashes, and undone to the listing as it was.

const CATALOG = path.resolve(import.meta.dirname, '../../catalog')
const USER_ID = `22${Date.now() % 1e9}`

let fake: TaobaoFake
let seller: ReturnType<typeof seedCatalogSeller>
let tenant: Tenant
let ctx: TaobaoContext
/** The method whose next answer is lost after the fake ran it (a write with an unknown outcome). */
let dropAnswerOf: string | null = null
const figures: Record<string, unknown> = {}
const savedGateway = process.env.TAOBAO_GATEWAY_URL

const photo = (file: string) => readFileSync(path.join(CATALOG, file))

async function render(file: string, width: number, height: number, quality = 92): Promise<Buffer> {
  return sharp(photo(file)).resize(width, height, { fit: 'cover' }).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer()
}

async function pixels(bytes: Buffer, crop?: { left: number; top: number; width: number; height: number }): Promise<RawImage> {
  const img = crop ? sharp(bytes).extract(crop) : sharp(bytes)
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 3 }
}

async function published(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer())
}

function item(numIid: number): FakeItemState {
  const found = fake.state(seller.userId).items.find((i) => i.num_iid === numIid)
  if (!found) throw new Error(`no item ${numIid}`)
  return found
}

function atelierPictures() {
  const state = fake.state(seller.userId)
  const category = state.pictureCategories.find((c) => c.picture_category_name === 'Atelier')
  return category ? state.pictures.filter((p) => p.picture_category_id === category.picture_category_id) : []
}

/** An item with `count` main images, fresh for each test. */
async function itemWith(count: number): Promise<number> {
  const files = [
    'classic-graphic-tee/front.jpg',
    'linen-button-shirt/front.jpg',
    'linen-button-shirt/back.jpg',
    'silk-slip-dress/front.jpg',
  ]
  const images = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({ bytes: await render(files[i % files.length], 800 + i, 800 + i, 80) })),
  )
  return fake.addItem(seller.userId, { title: `测试宝贝 ${randomUUID().slice(0, 6)}`, images })
}

function memory(): PublishCheckpoint & { stored: () => Record<string, unknown> } {
  let stored: Record<string, unknown> = {}
  return { load: async () => stored, save: async (patch) => void (stored = { ...stored, ...patch }), stored: () => stored }
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  )
  if (!isAppError(e)) throw new Error(`expected an AppError, got ${String(e)}`)
  return e
}

function publish(numIid: number, image: Buffer, alt: string, opts: Partial<TaobaoPublishOptions> = {}) {
  return publishToItem(ctx, String(numIid), image, alt, { idempotencyKey: randomUUID(), checkpoint: memory(), ...opts })
}

beforeAll(async () => {
  fake = await startTaobaoFake()
  // why: undo of a colour image downloads the earlier image, and the outbound guard lets only the gateway's origin be loopback.
  process.env.TAOBAO_GATEWAY_URL = fake.gatewayUrl
  resetEnvCache()
  seller = seedCatalogSeller(fake, { userId: USER_ID, nick: '发布测试店' })
  tenant = await upsertTenant('taobao', seller.userId, seller.nick)
  const token = fake.issueToken(seller.userId)
  const day = new Date(Date.now() + 86_400_000)
  await saveGrant(tenant.id, {
    accessToken: token.access_token,
    refreshToken: token.refresh_token,
    expiresAt: day,
    w1ExpiresAt: day,
    r1ExpiresAt: day,
    refreshExpiresAt: day,
    userId: seller.userId,
    nick: seller.nick,
  })
  // why a fetch that can lose answers: a write whose outcome is unknown must be reconciled by reading.
  const losing: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const body = init?.body
    const method = body instanceof URLSearchParams || body instanceof FormData ? body.get('method') : null
    if (method !== null && method === dropAnswerOf) {
      dropAnswerOf = null
      await response.arrayBuffer()
      throw new TypeError('fetch failed: other side closed')
    }
    return response
  }
  const top = createTopClient({
    appKey: FAKE_APP.appKey,
    appSecret: FAKE_APP.appSecret,
    gatewayUrl: fake.gatewayUrl,
    redis: null,
    keyPrefix: `${process.env.QUEUE_PREFIX ?? 'atelier-test'}:taobao:${randomUUID()}`,
    budget: { app: { perSecond: 500 }, seller: { perSecond: 500 } },
    fetch: losing,
  })
  ctx = taobaoContext(tenant, top)
})

afterAll(async () => {
  console.info(`taobao publish figures ${JSON.stringify(figures)}`)
  if (savedGateway === undefined) delete process.env.TAOBAO_GATEWAY_URL
  else process.env.TAOBAO_GATEWAY_URL = savedGateway
  resetEnvCache()
  await db().delete(tenants).where(eq(tenants.id, tenant.id))
  await fake.close()
})

describe('publishing to a free slot', () => {
  it('uploads a square JPEG under 3 MB to the Atelier category and attaches it at the first free slot', async () => {
    const tee = seller.items['classic-graphic-tee']
    const before = item(tee).item_imgs
    const image = await render('classic-graphic-tee/front.jpg', 1000, 1000)
    const started = performance.now()
    const { externalId } = await publish(tee, image, 'Sunday Supply 印花短袖T恤 模特上身图')
    figures.freeSlotMs = Math.round(performance.now() - started)

    const after = item(tee).item_imgs
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after).toHaveLength(before.length + 1)
    const ours = after[before.length]
    expect(ours.position).toBe(before.length)
    const [picture] = atelierPictures()
    expect(picture).toMatchObject({ pixel: '1000x1000', title: 'Sunday Supply 印花短袖T恤 模特上身图.jpg' })
    expect(picture.sizes).toBeLessThanOrEqual(MAX_MAIN_IMAGE_BYTES)
    expect(picPathOf(ours.url)).toBe(picPathOf(picture.picture_path))
    // A square JPEG under the limit is published as the render's own bytes.
    expect((await published(ours.url)).equals(image)).toBe(true)
    expect(decodePublished(externalId)).toMatchObject({ n: String(tee), i: ours.id, p: picPathOf(ours.url), r: null })
  })

  it('attaches at the position the seller chose, as the major image at 0, and makes the category once', async () => {
    const numIid = await itemWith(0)
    await publish(numIid, await render('silk-slip-dress/front.jpg', 900, 900), '香槟色真丝吊带裙', { target: { position: 3 } })
    await publish(numIid, await render('silk-slip-dress/front.jpg', 901, 901), '香槟色真丝吊带裙 主图', {
      target: { position: 0 },
    })
    expect(item(numIid).item_imgs.map((m) => m.position)).toEqual([0, 3])
    const taken = await failure(
      publish(numIid, await render('silk-slip-dress/front.jpg', 902, 902), '重复位置', { target: { position: 3 } }),
    )
    expect(taken).toMatchObject({ code: 'TAOBAO_SLOT_TAKEN', status: 409 })
    const categories = fake.state(seller.userId).pictureCategories.filter((c) => c.picture_category_name === 'Atelier')
    expect(categories).toHaveLength(1)
  })
})

describe('fitting the render to a main image', () => {
  it('crops a 3:4 render to a square that keeps the product box whole', async () => {
    const numIid = await itemWith(1)
    const image = await render('floral-wrap-dress/front.jpg', 900, 1200)
    const box = { x: 0.2, y: 0.3, width: 0.6, height: 0.4 }
    await publish(numIid, image, '碎花裹身连衣裙', { productBox: box })
    const ours = item(numIid).item_imgs[1]
    const bytes = await published(ours.url)
    const meta = await sharp(bytes).metadata()
    expect([meta.width, meta.height, meta.format]).toEqual([900, 900, 'jpeg'])
    // The box (y 360–840 of the render) sits whole in the window, which is centred on it: rows 150–1050.
    const source = await pixels(image, { left: 0, top: 150, width: 900, height: 900 })
    const deltaE = regionDeltaE(source, await pixels(bytes), { x0: 180, y0: 210, x1: 720, y1: 690 })
    figures.cropDeltaE = Number(deltaE.toFixed(3))
    figures.cropBytes = bytes.length
    expect(deltaE).toBeLessThanOrEqual(1)
  })

  it('pads when the product is taller than any square window, carrying the edge colours out', async () => {
    const numIid = await itemWith(1)
    const image = await render('floral-wrap-dress/front.jpg', 900, 1200)
    await publish(numIid, image, '碎花裹身连衣裙 全身', { productBox: { x: 0.1, y: 0.05, width: 0.8, height: 0.9 } })
    const out = await pixels(await published(item(numIid).item_imgs[1].url))
    expect([out.width, out.height]).toEqual([1200, 1200])
    const src = await pixels(image)
    // Column 0 of the padding repeats the render's left edge (no black or white bars).
    const at = (px: RawImage, x: number, y: number) =>
      Array.from(px.data.subarray(3 * (y * px.width + x), 3 * (y * px.width + x) + 3))
    for (const y of [100, 600, 1100]) {
      const pad = at(out, 0, y)
      const edge = at(src, 0, y)
      expect(Math.max(...pad.map((v, c) => Math.abs(v - edge[c])))).toBeLessThanOrEqual(8)
    }
  })

  it('re-encodes a render over 3 MB to fit, and the product region stays within ΔE 1', async () => {
    const numIid = await itemWith(1)
    const side = 4000
    const base = await sharp(photo('northfield-logo-hoodie/front.jpg')).resize(side, side, { fit: 'cover' }).raw().toBuffer()
    let s = 7
    for (let i = 0; i < base.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0
      // why grain: a photo upscaled this far compresses too well to pass 3 MB on its own.
      base[i] = Math.max(0, Math.min(255, base[i] + ((s >>> 24) % 17) - 8))
    }
    const image = await sharp(base, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer()
    expect(image.length).toBeGreaterThan(MAX_MAIN_IMAGE_BYTES)
    const box = { x: 0.25, y: 0.2, width: 0.5, height: 0.6 }
    const started = performance.now()
    await publish(numIid, image, 'Northfield 标志连帽卫衣', { productBox: box })
    figures.oversizedMs = Math.round(performance.now() - started)
    const bytes = await published(item(numIid).item_imgs[1].url)
    expect(bytes.length).toBeLessThanOrEqual(MAX_MAIN_IMAGE_BYTES)
    const deltaE = regionDeltaE(await pixels(image), await pixels(bytes), { x0: 1000, y0: 800, x1: 3000, y1: 3200 })
    Object.assign(figures, { oversizedIn: image.length, oversizedOut: bytes.length, oversizedDeltaE: Number(deltaE.toFixed(3)) })
    expect(deltaE).toBeLessThanOrEqual(1)
  })

  it('refuses, uploading nothing, a render the 3 MB limit would visibly change', async () => {
    const numIid = await itemWith(1)
    const side = 1600
    const noise = Buffer.alloc(side * side * 3)
    let s = 11
    for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24
    const image = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer()
    const before = fake.state(seller.userId).pictures.length
    const refused = await failure(publish(numIid, image, '噪点', { productBox: { x: 0.2, y: 0.2, width: 0.6, height: 0.6 } }))
    expect(refused).toMatchObject({ code: 'TAOBAO_IMAGE_FIDELITY', status: 422 })
    figures.refusedDeltaE = Number((refused.details!.deltaE as number).toFixed(3))
    figures.refusedQuality = refused.details!.quality
    expect(fake.state(seller.userId).pictures).toHaveLength(before)
    expect(item(numIid).item_imgs).toHaveLength(1)
  })
})

describe('when all five slots are taken', () => {
  it('lists the originals so the seller can choose, and uploads nothing', async () => {
    const numIid = await itemWith(5)
    const before = fake.state(seller.userId).pictures.length
    const full = await failure(publish(numIid, await render('classic-graphic-tee/front.jpg', 900, 900), '满了'))
    expect(full).toMatchObject({ code: 'TAOBAO_SLOTS_FULL', status: 409 })
    expect(full.details!.images).toEqual(
      item(numIid).item_imgs.map((m) => ({ id: String(m.id), url: m.url, position: m.position })),
    )
    expect(fake.state(seller.userId).pictures).toHaveLength(before)
  })

  it('replaces the chosen original, and undo restores ids, urls and positions exactly, twice over', async () => {
    const numIid = await itemWith(5)
    const before = item(numIid).item_imgs
    const original = before[2]
    const { externalId } = await publish(numIid, await render('classic-graphic-tee/front.jpg', 900, 900), '替换第三张', {
      target: { replaceImageId: String(original.id) },
    })
    const after = item(numIid).item_imgs
    expect(after.map((m) => m.position)).toEqual([0, 1, 2, 3, 4])
    expect(after.filter((m) => m.position !== 2)).toEqual(before.filter((m) => m.position !== 2))
    expect(after[2].url).not.toBe(original.url)
    expect(decodePublished(externalId).r).toEqual({
      id: original.id,
      url: original.url,
      path: picPathOf(original.url),
      position: 2,
    })

    await unpublishFromItem(ctx, String(numIid), externalId)
    expect(item(numIid).item_imgs).toEqual(before)
    await unpublishFromItem(ctx, String(numIid), externalId)
    expect(item(numIid).item_imgs).toEqual(before)
    // Never deleted from the image space: the original's picture, nor ours.
    const paths = fake.state(seller.userId).pictures.map((p) => picPathOf(p.picture_path))
    expect(paths).toContain(picPathOf(original.url))
    expect(paths).toContain(decodePublished(externalId).p)
  })

  it('replaces the major image with is_major, and undo puts the original back at 0', async () => {
    const numIid = await itemWith(5)
    const before = item(numIid).item_imgs
    const { externalId } = await publish(numIid, await render('classic-graphic-tee/front.jpg', 900, 900), '新主图', {
      target: { replaceImageId: String(before[0].id), position: 0 },
    })
    expect(item(numIid).item_imgs[0].url).not.toBe(before[0].url)
    await unpublishFromItem(ctx, String(numIid), externalId)
    expect(item(numIid).item_imgs).toEqual(before)
  })
})

describe('undo', () => {
  it('removes only our image, and is a no-op the second time or after the seller removed it', async () => {
    const numIid = await itemWith(2)
    const before = item(numIid).item_imgs
    const first = await publish(numIid, await render('linen-button-shirt/front.jpg', 900, 900), '亚麻衬衫 一')
    const second = await publish(numIid, await render('linen-button-shirt/back.jpg', 900, 900), '亚麻衬衫 二')
    await unpublishFromItem(ctx, String(numIid), first.externalId)
    await unpublishFromItem(ctx, String(numIid), first.externalId)
    expect(item(numIid).item_imgs).toHaveLength(3)
    // The seller deletes the second one in Taobao's own tools; undo then has nothing left to do.
    const ours = decodePublished(second.externalId)
    await ctx.withAuth((auth) => ctx.top.itemImgDelete(auth, { num_iid: numIid, id: ours.i }))
    await unpublishFromItem(ctx, String(numIid), second.externalId)
    expect(item(numIid).item_imgs).toEqual(before)
  })

  it('puts a replaced original back at its slot when the seller had already removed our image', async () => {
    const numIid = await itemWith(5)
    const before = item(numIid).item_imgs
    const { externalId } = await publish(numIid, await render('classic-graphic-tee/front.jpg', 900, 900), '替换后被删', {
      target: { replaceImageId: String(before[4].id) },
    })
    await ctx.withAuth((auth) => ctx.top.itemImgDelete(auth, { num_iid: numIid, id: decodePublished(externalId).i }))
    await unpublishFromItem(ctx, String(numIid), externalId)
    const after = item(numIid).item_imgs
    expect(after.map(({ url, position }) => ({ url, position }))).toEqual(before.map(({ url, position }) => ({ url, position })))
  })

  it('refuses an id that is not ours or names another item', async () => {
    await expect(unpublishFromItem(ctx, '123', 'not-ours')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    const numIid = await itemWith(1)
    const { externalId } = await publish(numIid, await render('embroidered-cap/front.jpg', 900, 900), '刺绣棒球帽')
    await expect(unpublishFromItem(ctx, String(numIid + 1), externalId)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})

describe('a publish that dies part-way', () => {
  // Saves a publish makes, in order: upload asked, picture uploaded, slot chosen (and the original it replaces), attached.
  const SAVES = 4
  const cases = (['free', 'replace'] as const).flatMap((mode) =>
    Array.from({ length: SAVES }, (_, i) => i + 1).flatMap((crashAt) => [
      { mode, crashAt, lost: false },
      { mode, crashAt, lost: true },
    ]),
  )

  it.each(cases)(
    '$mode: crash at save $crashAt (save lost: $lost) → a retry leaves exactly one image',
    async ({ mode, crashAt, lost }) => {
      const numIid = await itemWith(mode === 'free' ? 1 : 5)
      const before = item(numIid).item_imgs
      const key = randomUUID()
      const alt = `崩溃测试 ${key.slice(0, 8)}`
      const image = await render('breton-striped-long-sleeve/front.jpg', 900, 1200)
      const opts = {
        idempotencyKey: key,
        productBox: { x: 0.2, y: 0.25, width: 0.6, height: 0.5 },
        target: mode === 'replace' ? { replaceImageId: String(before[1].id) } : undefined,
      }
      let stored: Record<string, unknown> = {}
      let saves = 0
      const crashing: PublishCheckpoint = {
        load: async () => stored,
        save: async (patch) => {
          saves++
          // "lost": the process died after the Taobao call, before recording it.
          if (saves === crashAt && lost) throw new Error(`simulated crash before save ${crashAt}`)
          stored = { ...stored, ...patch }
          if (saves === crashAt) throw new Error(`simulated crash after save ${crashAt}`)
        },
      }
      await expect(publishToItem(ctx, String(numIid), image, alt, { ...opts, checkpoint: crashing })).rejects.toThrow(
        /simulated crash/,
      )
      const steady: PublishCheckpoint = {
        load: async () => stored,
        save: async (patch) => void (stored = { ...stored, ...patch }),
      }
      const { externalId } = await publishToItem(ctx, String(numIid), image, alt, { ...opts, checkpoint: steady })

      const after = item(numIid).item_imgs
      const record = decodePublished(externalId)
      expect(after.filter((m) => picPathOf(m.url) === record.p)).toHaveLength(1)
      expect(after).toHaveLength(mode === 'free' ? 2 : 5)
      expect(after.filter((m) => before.some((b) => b.url === m.url))).toHaveLength(mode === 'free' ? 1 : 4)
      expect(stored).toMatchObject({ key, itemImgId: record.i })
      // A lost upload record is found again in the image space, not uploaded twice.
      expect(atelierPictures().filter((p) => p.title === `${alt}.jpg`)).toHaveLength(1)
      // A third call with the finished record does nothing new.
      expect(await publishToItem(ctx, String(numIid), image, alt, { ...opts, checkpoint: steady })).toEqual({ externalId })

      await unpublishFromItem(ctx, String(numIid), externalId)
      expect(item(numIid).item_imgs).toEqual(before)
    },
  )
})

describe('a write whose answer is lost', () => {
  it('attach: reconciled by reading the item, not sent again', async () => {
    const numIid = await itemWith(1)
    const joints = () => fake.stats().byMethod['taobao.item.joint.img'] ?? 0
    const calls = joints()
    dropAnswerOf = 'taobao.item.joint.img'
    const { externalId } = await publish(numIid, await render('retro-court-sneakers/lifestyle.jpg', 900, 900), '复古网球鞋')
    expect(dropAnswerOf).toBeNull()
    expect(joints()).toBe(calls + 1)
    expect(item(numIid).item_imgs.filter((m) => m.id === decodePublished(externalId).i)).toHaveLength(1)
    expect(item(numIid).item_imgs).toHaveLength(2)
  })

  it('undo: a delete without an answer is confirmed by reading', async () => {
    const numIid = await itemWith(1)
    const before = item(numIid).item_imgs
    const { externalId } = await publish(numIid, await render('leather-tote-bag/front.png', 900, 900), '焦糖色真皮托特包')
    dropAnswerOf = 'taobao.item.img.delete'
    await unpublishFromItem(ctx, String(numIid), externalId)
    expect(dropAnswerOf).toBeNull()
    expect(item(numIid).item_imgs).toEqual(before)
  })

  it('upload: reconciled by reading the image space, not uploaded again', async () => {
    const numIid = await itemWith(1)
    const uploads = () => fake.stats().byMethod['taobao.picture.upload'] ?? 0
    const calls = uploads()
    dropAnswerOf = 'taobao.picture.upload'
    await publish(numIid, await render('camel-blazer-mannequin/mannequin.jpg', 900, 900), '驼色羊毛西装 上身')
    expect(dropAnswerOf).toBeNull()
    expect(uploads()).toBe(calls + 1)
    expect(atelierPictures().filter((p) => p.title === '驼色羊毛西装 上身.jpg')).toHaveLength(1)
    expect(item(numIid).item_imgs).toHaveLength(2)
  })
})

describe('a SKU colour image', () => {
  const BLACK = '1627207:28341'
  const colour = (numIid: number) => item(numIid).prop_imgs.filter((m) => m.properties === BLACK)

  it('publishes as the colour’s one image, and undo puts back the earlier one, each in turn', async () => {
    const numIid = fake.addItem(seller.userId, { title: '条纹长袖T恤 黑色', colors: [BLACK, '1627207:28320'] })
    const first = await render('breton-striped-long-sleeve/front.jpg', 800, 800)
    const a = await publish(numIid, first, '黑色 一', { target: { skuProperties: BLACK } })
    expect(colour(numIid)).toHaveLength(1)
    const [shown] = colour(numIid)
    expect((await published(shown.url)).equals(first)).toBe(true)

    const b = await publish(numIid, await render('breton-striped-long-sleeve/front.jpg', 900, 1200), '黑色 二', {
      target: { skuProperties: BLACK },
      productBox: { x: 0.1, y: 0.2, width: 0.8, height: 0.6 },
    })
    expect(colour(numIid)).toHaveLength(1)
    expect(colour(numIid)[0]).toMatchObject({ id: shown.id, position: shown.position })
    expect(decodePublished(b.externalId).r).toMatchObject({ id: shown.id, url: shown.url })
    const square = await sharp(await published(colour(numIid)[0].url)).metadata()
    expect([square.width, square.height]).toEqual([900, 900])

    await unpublishFromItem(ctx, String(numIid), b.externalId)
    await unpublishFromItem(ctx, String(numIid), b.externalId)
    const restored = colour(numIid)
    expect(restored).toHaveLength(1)
    expect(restored[0]).toMatchObject({ id: shown.id, position: shown.position })
    expect((await published(restored[0].url)).equals(first)).toBe(true)

    await unpublishFromItem(ctx, String(numIid), a.externalId)
    expect(colour(numIid)).toHaveLength(0)
    await unpublishFromItem(ctx, String(numIid), a.externalId)
    expect(item(numIid).item_imgs).toHaveLength(0)
  })

  it.each([1, 2])('after a crash at save %i, a retry leaves one colour image and undo restores the earlier', async (crashAt) => {
    const numIid = fake.addItem(seller.userId, { title: '条纹长袖T恤 崩溃', colors: [BLACK] })
    const earlier = await render('silk-slip-dress/front.jpg', 800, 800)
    await publish(numIid, earlier, '黑色 原图', { target: { skuProperties: BLACK } })
    const before = colour(numIid)
    let stored: Record<string, unknown> = {}
    let saves = 0
    const crashing: PublishCheckpoint = {
      load: async () => stored,
      save: async (patch) => {
        stored = { ...stored, ...patch }
        if (++saves === crashAt) throw new Error(`simulated crash after save ${crashAt}`)
      },
    }
    const opts = { idempotencyKey: randomUUID(), target: { skuProperties: BLACK } }
    const image = await render('floral-wrap-dress/front.jpg', 800, 800)
    await expect(publishToItem(ctx, String(numIid), image, '黑色 新', { ...opts, checkpoint: crashing })).rejects.toThrow(
      /simulated/,
    )
    const steady: PublishCheckpoint = { load: async () => stored, save: async (patch) => void (stored = { ...stored, ...patch }) }
    const { externalId } = await publishToItem(ctx, String(numIid), image, '黑色 新', { ...opts, checkpoint: steady })
    expect(colour(numIid)).toHaveLength(1)
    expect(decodePublished(externalId).r).toMatchObject({ id: before[0].id, url: before[0].url })
    await unpublishFromItem(ctx, String(numIid), externalId)
    expect(colour(numIid)[0]).toMatchObject({ id: before[0].id, position: before[0].position })
    expect((await published(colour(numIid)[0].url)).equals(earlier)).toBe(true)
  })

  it('an upload without an answer is settled by reading the colour', async () => {
    const numIid = fake.addItem(seller.userId, { title: '条纹长袖T恤 无应答', colors: [BLACK] })
    const uploads = () => fake.stats().byMethod['taobao.item.propimg.upload'] ?? 0
    const calls = uploads()
    dropAnswerOf = 'taobao.item.propimg.upload'
    await publish(numIid, await render('embroidered-cap/front.jpg', 800, 800), '黑色 帽子', { target: { skuProperties: BLACK } })
    expect(dropAnswerOf).toBeNull()
    expect(uploads()).toBe(calls + 1)
    expect(colour(numIid)).toHaveLength(1)
  })
})
