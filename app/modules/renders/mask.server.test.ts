import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { imageStore, sha256 } from '#app/lib/storage.server.ts'
import type { Tenant } from '#db/schema.ts'
import { createLocalTenant, productSceneLook } from '#test/support/fixtures.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { readRender, releaseAll } from '#test/support/queue.ts'
import { processRender } from './jobs.server.ts'
import { keepLayerPng, MAX_MASK_BYTES, readMerchantMask } from './mask.server.ts'
import { createRenders } from './service.server.ts'

type Rect = { left: number; top: number; width: number; height: number }

/**
 * A mask as the browser editor sends it: RGBA, anti-aliased edges (values
 * between 0 and 255), one rectangle per layer.
 */
async function editorMask(
  width: number,
  height: number,
  layers: { keep?: Rect; repaint?: Rect; hint?: Rect },
): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4)
  for (let i = 3; i < data.length; i += 4) data[i] = 255
  const paint = (rect: Rect | undefined, channel: number) => {
    if (!rect) return
    for (let y = rect.top; y < rect.top + rect.height; y++) {
      for (let x = rect.left; x < rect.left + rect.width; x++) {
        const edge = x === rect.left || y === rect.top
        data[(y * width + x) * 4 + channel] = edge ? 90 : 250
      }
    }
  }
  paint(layers.keep, 0)
  paint(layers.repaint, 1)
  paint(layers.hint, 2)
  return sharp(data, { raw: { width, height, channels: 4 } }).png().toBuffer()
}

const size = { width: 80, height: 60 }
const keep = { left: 20, top: 10, width: 40, height: 40 }

describe('readMerchantMask', () => {
  it('returns a canonical 3-channel PNG, 0/255 per layer, with each layer’s coverage', async () => {
    const bytes = await editorMask(80, 60, { keep, repaint: { left: 0, top: 0, width: 10, height: 60 }, hint: { left: 70, top: 0, width: 10, height: 6 } })
    const mask = await readMerchantMask(bytes, size, { requireKeep: true })

    const meta = await sharp(mask.png).metadata()
    expect(meta).toMatchObject({ format: 'png', width: 80, height: 60, channels: 3 })
    expect(mask.sha256).toBe(sha256(mask.png))
    const { data } = await sharp(mask.png).raw().toBuffer({ resolveWithObject: true })
    expect(new Set(data)).toEqual(new Set([0, 255]))
    // The anti-aliased first row and column (90) fall below the threshold.
    expect(mask.coverage.keep).toBeCloseTo((39 * 39) / 4800, 5)
    expect(mask.coverage.repaint).toBeCloseTo((9 * 59) / 4800, 5)
    expect(mask.coverage.hint).toBeCloseTo((9 * 5) / 4800, 5)
  })

  it('gives the same strokes the same content address, however the PNG was encoded', async () => {
    const a = await editorMask(80, 60, { keep })
    const b = await sharp(a).removeAlpha().png({ compressionLevel: 0 }).toBuffer()
    expect(sha256(a)).not.toBe(sha256(b))
    const [ma, mb] = await Promise.all([a, b].map((x) => readMerchantMask(x, size, { requireKeep: true })))
    expect(ma.sha256).toBe(mb.sha256)
  })

  it('refuses a mask of another size, naming both sizes', async () => {
    const bytes = await editorMask(60, 80, { keep })
    await expect(readMerchantMask(bytes, size, { requireKeep: true })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('60 × 80 px but the source photo is 80 × 60 px'),
    })
  })

  it('refuses what is not a PNG: a JPEG, text, a damaged PNG, a greyscale PNG', async () => {
    const jpeg = await sharp({ create: { ...size, channels: 3, background: '#ff0000' } }).jpeg().toBuffer()
    const png = await editorMask(80, 60, { keep })
    const grey = await sharp({ create: { ...size, channels: 3, background: '#ffffff' } }).toColourspace('b-w').png().toBuffer()
    for (const [bytes, words] of [
      [jpeg, 'must be a PNG'],
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'must be a PNG'],
      [png.subarray(0, 40), 'damaged'],
      [grey, 'one layer per channel'],
    ] as const) {
      await expect(readMerchantMask(bytes, size, { requireKeep: true })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining(words),
      })
    }
  })

  it('refuses an empty Keep layer when the render needs one, and an empty mask always', async () => {
    const repaintOnly = await editorMask(80, 60, { repaint: keep })
    await expect(readMerchantMask(repaintOnly, size, { requireKeep: true })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('The Keep layer is empty'),
    })
    const guided = await readMerchantMask(repaintOnly, size, { requireKeep: false })
    expect(guided.coverage.keep).toBe(0)

    const nothing = await editorMask(80, 60, {})
    await expect(readMerchantMask(nothing, size, { requireKeep: false })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('The mask is empty'),
    })
  })

  it('refuses a mask over the size limit before decoding it', async () => {
    const huge = Buffer.concat([await editorMask(80, 60, { keep }), Buffer.alloc(MAX_MASK_BYTES)])
    await expect(readMerchantMask(huge, size, { requireKeep: true })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' })
  })
})

describe('keepLayerPng', () => {
  it('is the red channel alone: an 8-bit single-channel PNG, white = keep', async () => {
    const mask = await readMerchantMask(await editorMask(80, 60, { keep, repaint: { left: 0, top: 0, width: 10, height: 60 } }), size, {
      requireKeep: true,
    })
    const png = await keepLayerPng(mask.png)
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 80, height: 60, channels: 1, depth: 'uchar' })
    const data = await sharp(png).extractChannel(0).raw().toBuffer()
    expect(data[30 * 80 + 40]).toBe(255)
    expect(data[30 * 80 + 5]).toBe(0)
  })
})

describe('createRenders with a mask', () => {
  let tenant: Tenant
  let prefix: string
  const product = 'retro-court-sneakers'
  const imageId = 'lifestyle.jpg'
  // The catalog photo is 1600 × 1200; the sneakers sit in its middle.
  const photo = { width: 1600, height: 1200 }
  const shoes = { left: 280, top: 400, width: 1040, height: 600 }

  beforeAll(async () => {
    prefix = isolateQueue()
    tenant = await createLocalTenant()
  })

  afterAll(async () => {
    await releaseAll(prefix)
  })

  it('records the mask by content and makes it part of the idempotency key', async () => {
    const input = { productId: product, imageId, look: productSceneLook(), seeds: [11] }
    const maskA = await editorMask(photo.width, photo.height, { keep: shoes })
    const maskB = await editorMask(photo.width, photo.height, { keep: { ...shoes, width: 900 } })

    const [plain] = await createRenders(tenant, input)
    const [a] = await createRenders(tenant, { ...input, mask: maskA })
    const [again] = await createRenders(tenant, { ...input, mask: maskA })
    const [b] = await createRenders(tenant, { ...input, mask: maskB })

    expect(plain.maskKey).toBeNull()
    expect(a.id).not.toBe(plain.id)
    expect(again.id).toBe(a.id)
    expect(b.id).not.toBe(a.id)
    expect(new Set([plain.idempotencyKey, a.idempotencyKey, b.idempotencyKey]).size).toBe(3)
    expect(b.maskKey).not.toBe(a.maskKey)

    const stored = await imageStore().get(a.maskKey!)
    expect(await sharp(stored).metadata()).toMatchObject({ format: 'png', ...photo, channels: 3 })
  })

  it('refuses a mask drawn at another size before anything is recorded', async () => {
    const small = await editorMask(800, 600, { keep: { left: 140, top: 200, width: 520, height: 300 } })
    await expect(
      createRenders(tenant, { productId: product, imageId, look: productSceneLook(), seeds: [12], mask: small }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('1600 × 1200') })
  })

  it('a photo the CPU studio refuses renders once the merchant marks the product', async () => {
    const look = productSceneLook()
    const [refused] = await createRenders(tenant, { productId: product, imageId, look, seeds: [21] })
    await expect(processRender(refused.id)).rejects.toThrow('BACKEND_BUSY_BACKGROUND')
    expect((await readRender(refused.id)).errorCode).toBe('BACKEND_BUSY_BACKGROUND')

    const mask = await editorMask(photo.width, photo.height, { keep: shoes, hint: { left: 0, top: 0, width: 200, height: 200 } })
    const [masked] = await createRenders(tenant, { productId: product, imageId, look, seeds: [21], mask })
    const done = await processRender(masked.id)
    expect(done).toMatchObject({ status: 'succeeded', maskKey: masked.maskKey })
    expect(done?.fidelityScore).toEqual(expect.any(Number))
  })
})
