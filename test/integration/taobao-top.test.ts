import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { isAppError, type AppError } from '#app/lib/errors.ts'
import { createTopClient, type TopAuth, type TopCallEvent, type TopClientConfig } from '#app/modules/taobao/top/client.server.ts'
import { isSessionError } from '#app/modules/taobao/top/errors.ts'
import { signTopRequest } from '#app/modules/taobao/top/sign.ts'
import { topTimestamp } from '#app/modules/taobao/top/timestamp.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from '#test/fakes/taobao/index.ts'

// The production TOP client against the Taobao fake: signing, errors mapped
// once, retries, bans and the call budget shared through Redis, uploads and
// windowed paging past the 20,000-row cap.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const VOLUME_SELLER = '2200000099'
const VOLUME_ITEMS = 25_000

let fake: TaobaoFake
let seller: ReturnType<typeof seedCatalogSeller>
let auth: TopAuth
const connections: Redis[] = []

function redis(): Redis {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  connections.push(r)
  return r
}

function config(overrides: Partial<TopClientConfig> = {}): TopClientConfig {
  return {
    appKey: FAKE_APP.appKey,
    appSecret: FAKE_APP.appSecret,
    gatewayUrl: fake.gatewayUrl,
    redis: redis(),
    keyPrefix: `${process.env.QUEUE_PREFIX ?? 'atelier-test'}:taobao:${randomUUID()}`,
    budget: { app: { perSecond: 200 }, seller: { perSecond: 200 } },
    ...overrides,
  }
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  )
  if (!isAppError(e)) throw new Error(`expected an AppError, got ${String(e)}`)
  return e
}

beforeAll(async () => {
  fake = await startTaobaoFake()
  seller = seedCatalogSeller(fake)
  auth = { session: fake.issueToken(seller.userId).access_token, seller: seller.userId }
  fake.addSeller({
    userId: VOLUME_SELLER,
    nick: '大仓库',
    generated: { count: VOLUME_ITEMS, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-06-30T00:00:00Z') },
  })
})

afterAll(async () => {
  await fake.close()
  await Promise.all(connections.map((c) => c.quit()))
})

describe('signing', () => {
  it.each(['md5', 'hmac', 'hmac-sha256'] as const)('the gateway accepts %s', async (signMethod) => {
    const client = createTopClient(config({ signMethod }))
    const item = await client.itemSellerGet(auth, { num_iid: seller.items['classic-graphic-tee'] })
    expect(item.title).toBe('Sunday Supply 印花短袖T恤 藏青色')
    expect(item.item_imgs).toHaveLength(1)
    const image = await fetch(item.item_imgs[0].url)
    expect(image.headers.get('content-type')).toBe('image/jpeg')
  })

  it('fails a wrong secret as a signature bug, without retrying', async () => {
    const events: TopCallEvent[] = []
    const client = createTopClient(config({ appSecret: 'not-the-secret', onCall: (e) => events.push(e) }))
    const e = await failure(client.itemSellerGet(auth, { num_iid: seller.items['classic-graphic-tee'] }))
    expect(e.code).toBe('TAOBAO_SIGNATURE_INVALID')
    expect(e.retryable).toBe(false)
    expect(events.map((x) => x.topCode)).toEqual([25])
  })

  it('is refused by the fake when the timestamp is 20 minutes off', async () => {
    const params: Record<string, string> = {
      method: 'taobao.itemcats.get',
      app_key: FAKE_APP.appKey,
      timestamp: topTimestamp(new Date(Date.now() - 20 * 60_000)),
      format: 'json',
      v: '2.0',
      sign_method: 'md5',
      parent_cid: '0',
      fields: 'cid,name',
    }
    params.sign = signTopRequest(params, FAKE_APP.appSecret, 'md5')
    const body = (await (await fetch(fake.gatewayUrl, { method: 'POST', body: new URLSearchParams(params) })).json()) as {
      error_response: { code: number }
    }
    expect(body.error_response.code).toBe(32)
  })
})

describe('errors', () => {
  it('maps an expired session to the log-in-again error', async () => {
    const token = fake.issueToken(seller.userId).access_token
    const client = createTopClient(config())
    fake.expireToken(token)
    const e = await failure(client.itemsOnsaleGet({ session: token, seller: seller.userId }))
    expect(e.code).toBe('TAOBAO_SESSION_INVALID')
    expect(isSessionError(e)).toBe(true)
  })

  it('retries isp faults with backoff, then succeeds', async () => {
    const events: TopCallEvent[] = []
    const client = createTopClient(config({ onCall: (e) => events.push(e) }))
    fake.injectFault({ method: 'taobao.item.seller.get', subCode: 'isp.top-remote-connection-error', times: 2 })
    const item = await client.itemSellerGet(auth, { num_iid: seller.items['floral-wrap-dress'] })
    expect(item.title).toBe('碎花裹身中长款连衣裙')
    expect(events.map((x) => x.subCode)).toEqual(['isp.top-remote-connection-error', 'isp.top-remote-connection-error', null])
  })

  it('shows an isv error in the seller’s words, once', async () => {
    const events: TopCallEvent[] = []
    const client = createTopClient(config({ onCall: (e) => events.push(e) }))
    const e = await failure(client.itemSellerGet(auth, { num_iid: 1 }))
    expect(e.code).toBe('TAOBAO_USER_ERROR')
    expect(e.details).toMatchObject({ subCode: 'isv.item-not-exist:invalid-numIid', detail: '商品不存在或不属于当前卖家' })
    expect(events).toHaveLength(1)
  })
})

describe('bans and the call budget', () => {
  it('honours a code 7 ban in a second process sharing Redis', async () => {
    const shared = config()
    // why a fresh module graph: the second client must not share the first one's in-process fallback.
    vi.resetModules()
    const other = await import('#app/modules/taobao/top/client.server.ts')
    const first = createTopClient(shared)
    const second = other.createTopClient({ ...shared, redis: redis() })
    fake.setCallLimit({ calls: 3, windowMs: 60_000, banSeconds: 2 })
    try {
      for (let i = 0; i < 3; i++) await first.itemsOnsaleGet(auth, { page_size: 1 })
      const banned = first.itemsOnsaleGet(auth, { page_size: 1 })
      await vi.waitFor(async () => expect(await second.banLeft(seller.userId)).toBeGreaterThan(0), { interval: 10 })
      const started = performance.now()
      const [a, b] = await Promise.all([banned, second.itemsOnsaleGet(auth, { page_size: 1 })])
      expect(performance.now() - started).toBeGreaterThan(1_000)
      expect(a.total_results).toBe(b.total_results)
      expect(fake.stats().log.filter((c) => c.code === 7)).toHaveLength(1)
    } finally {
      fake.setCallLimit(null)
    }
  })

  it('keeps a burst from two processes under the app’s limit', async () => {
    fake.setCallLimit({ calls: 12, windowMs: 1_000, banSeconds: 30 })
    const bansBefore = fake.stats().bans
    try {
      const shared = config({ budget: { app: { perSecond: 8, burst: 2 }, seller: { perSecond: 100 } } })
      const clients = [createTopClient(shared), createTopClient({ ...shared, redis: redis() })]
      const started = performance.now()
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => clients[i % 2].itemsOnsaleGet(auth, { page_size: 1, fields: 'num_iid' })),
      )
      expect(results).toHaveLength(24)
      expect(performance.now() - started).toBeGreaterThan(2_400)
      expect(fake.stats().bans).toBe(bansBefore)
    } finally {
      fake.setCallLimit(null)
    }
  })
})

describe('image space and item images', () => {
  const jpeg = readFileSync('catalog/classic-graphic-tee/front.jpg')

  it('uploads a JPEG with a Chinese title and attaches it as an item image', async () => {
    const client = createTopClient(config())
    const category = await client.pictureCategoryAdd(auth, { picture_category_name: 'Atelier' })
    expect(await client.pictureCategoryGet(auth, { picture_category_name: 'Atelier' })).toHaveLength(1)
    const picture = await client.pictureUpload(auth, {
      picture_category_id: category.picture_category_id,
      image: { bytes: jpeg, filename: '白色T恤 正面.jpg', contentType: 'image/jpeg' },
      image_input_title: '白色T恤 正面.jpg',
    })
    expect(picture).toMatchObject({ title: '白色T恤 正面.jpg', pixel: '1600x1600', sizes: jpeg.length })
    expect(Buffer.from(await (await fetch(picture.picture_path)).arrayBuffer()).equals(jpeg)).toBe(true)

    const num_iid = seller.items['linen-button-shirt']
    const attached = await client.itemJointImg(auth, { num_iid, pic_path: picture.picture_path, position: 2 })
    const item = await client.itemSellerGet(auth, { num_iid })
    expect(item.item_imgs.map((m) => m.position)).toEqual([0, 1, 2])
    expect(item.item_imgs[2]).toMatchObject({ id: attached.id, url: picture.picture_path })
    await client.itemImgDelete(auth, { num_iid, id: attached.id })
    expect(fake.state(seller.userId).items.find((i) => i.num_iid === num_iid)?.item_imgs).toHaveLength(2)

    const colour = await client.itemPropimgUpload(auth, {
      num_iid: seller.items['breton-striped-long-sleeve'],
      properties: '1627207:28341',
      image: { bytes: jpeg, filename: 'black.jpg' },
    })
    expect(colour.properties).toBe('1627207:28341')
  })

  it('refuses what Taobao refuses: not an image, over 3 MB', async () => {
    const client = createTopClient(config())
    const upload = (bytes: Buffer) =>
      client.pictureUpload(auth, { picture_category_id: 0, image: { bytes, filename: 'x.jpg' }, image_input_title: 'x.jpg' })
    const text = await failure(upload(Buffer.from('这不是图片')))
    expect(text.details).toMatchObject({ subCode: 'isv.picture-format-invalid' })
    const big = Buffer.concat([jpeg, Buffer.alloc(3 * 1024 * 1024)])
    expect((await failure(upload(big))).details).toMatchObject({ subCode: 'isv.picture-size-exceeded' })
  })
})

describe('on-sale paging', () => {
  it('reads 25,000 items whole by windowing modified under the 20,000-row cap', async () => {
    const client = createTopClient(config())
    const volume = { session: fake.issueToken(VOLUME_SELLER).access_token, seller: VOLUME_SELLER }
    const capped = await failure(client.itemsOnsaleGet(volume, { page_no: 101, page_size: 200 }))
    expect(capped.code).toBe('TAOBAO_USER_ERROR')

    const seen = new Set<number>()
    const fields = 'num_iid,modified'
    async function read(from: Date, to: Date): Promise<void> {
      const first = await client.itemsOnsaleGet(volume, { fields, start_modified: from, end_modified: to, page_size: 200 })
      if (first.total_results > 20_000) {
        // why whole seconds: TOP times have none smaller, and the two halves must not overlap.
        const mid = new Date(Math.floor((from.getTime() + to.getTime()) / 2000) * 1000)
        await read(from, mid)
        return read(new Date(mid.getTime() + 1000), to)
      }
      for (const i of first.items) seen.add(i.num_iid)
      for (let page = 2; (page - 1) * 200 < first.total_results; page++) {
        const next = await client.itemsOnsaleGet(volume, {
          fields,
          start_modified: from,
          end_modified: to,
          page_no: page,
          page_size: 200,
        })
        for (const i of next.items) seen.add(i.num_iid)
      }
    }
    await read(new Date('2025-12-31T00:00:00Z'), new Date('2026-07-01T00:00:00Z'))
    expect(seen.size).toBe(VOLUME_ITEMS)
  })
})
