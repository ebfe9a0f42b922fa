import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import type { RawImage, SourceImage } from './types.ts'
import { encodeShot, productShot, type ProductShot, type ProductShotOptions } from '#test/fixtures/product-images.ts'
import { findProductMask, type ProductMask } from './mask.server.ts'
import { normaliseImage } from './normalise.server.ts'

async function sourceOf(
  opts: ProductShotOptions,
  format: 'jpeg' | 'png' = 'jpeg',
): Promise<{ shot: ProductShot; source: SourceImage }> {
  const shot = productShot(opts)
  return { shot, source: await normaliseImage(await encodeShot(shot, format)) }
}

/** Mask value at source pixel (x, y), whatever the mask's resolution. */
function maskAt(mask: RawImage, sourceWidth: number, sourceHeight: number, x: number, y: number): number {
  const mx = Math.min(mask.width - 1, Math.floor((x * mask.width) / sourceWidth))
  const my = Math.min(mask.height - 1, Math.floor((y * mask.height) / sourceHeight))
  return mask.data[my * mask.width + mx]
}

/** Intersection over union of mask ≥ 128 against the drawn truth ≥ 128. */
function iou(found: ProductMask, truth: Uint8Array, width: number, height: number): number {
  let both = 0
  let either = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = maskAt(found.mask, width, height, x, y) >= 128
      const b = truth[y * width + x] >= 128
      if (a && b) both++
      if (a || b) either++
    }
  }
  return both / either
}

function truthBox(
  truth: Uint8Array,
  width: number,
  height: number,
): { left: number; top: number; right: number; bottom: number } {
  let left = width
  let top = height
  let right = 0
  let bottom = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (truth[y * width + x] < 128) continue
      left = Math.min(left, x)
      right = Math.max(right, x + 1)
      top = Math.min(top, y)
      bottom = Math.max(bottom, y + 1)
    }
  }
  return { left, top, right, bottom }
}

describe('findProductMask on a uniform backdrop', () => {
  it('cuts a garment out of a white background and keeps its white print as product', async () => {
    const { shot, source } = await sourceOf({ width: 1000, height: 1000, whitePrint: true })
    const found = await findProductMask(source)
    expect(found.origin).toBe('background')
    expect(iou(found, shot.truth, 1000, 1000)).toBeGreaterThan(0.98)
    // The print is a white disc at (0.5, 0.4) with a navy bar through its middle: its white is backdrop-coloured.
    for (const [x, y] of [
      [500, 350],
      [460, 380],
      [540, 420],
    ]) {
      const at = source.pixels.data[(y * 1000 + x) * 3]
      expect(at, 'the sample point must be white print').toBeGreaterThan(240)
      expect(maskAt(found.mask, 1000, 1000, x, y)).toBe(255)
    }
    const box = truthBox(shot.truth, 1000, 1000)
    expect(Math.abs(found.bbox.left - box.left)).toBeLessThanOrEqual(3)
    expect(Math.abs(found.bbox.top - box.top)).toBeLessThanOrEqual(3)
    expect(Math.abs(found.bbox.left + found.bbox.width - box.right)).toBeLessThanOrEqual(3)
    expect(Math.abs(found.bbox.top + found.bbox.height - box.bottom)).toBeLessThanOrEqual(3)
  })

  /** The shot with a catalog-style soft drop shadow cast down-right onto the backdrop (up to `depth` code values darker). */
  async function withDropShadow(shot: ProductShot, depth: number): Promise<SourceImage> {
    const { width, height } = shot.pixels
    const moved = await sharp(Buffer.from(shot.truth), { raw: { width, height, channels: 1 } })
      .extend({ top: 14, left: 14, background: '#000000' })
      .raw()
      .toBuffer()
    const shade = await sharp(moved, { raw: { width: width + 14, height: height + 14, channels: 1 } })
      .extract({ left: 0, top: 0, width, height })
      .blur(10)
      .raw()
      .toBuffer()
    const data = Uint8Array.from(shot.pixels.data)
    for (let i = 0; i < width * height; i++) {
      const keep = 1 - shot.truth[i] / 255
      for (let c = 0; c < 3; c++) data[3 * i + c] = Math.round(data[3 * i + c] - keep * depth * (shade[i] / 255))
    }
    return normaliseImage(await encodeShot({ pixels: { ...shot.pixels, data }, truth: shot.truth }, 'jpeg'))
  }

  it('gives a soft drop shadow back to the backdrop, and keeps a grey garment the shadow’s colour', async () => {
    for (const garment of [
      [38, 62, 120],
      [205, 205, 205],
    ] as const) {
      const shot = productShot({ width: 900, height: 900, garment: [...garment], seed: 4 })
      const source = await withDropShadow(shot, 30)
      const found = await findProductMask(source)
      expect(iou(found, shot.truth, 900, 900), `garment ${garment.join(',')}`).toBeGreaterThan(0.97)
      // Just outside the garment's lower right edge the shadow is at its darkest: backdrop, not product.
      const box = truthBox(shot.truth, 900, 900)
      expect(maskAt(found.mask, 900, 900, box.right + 6, Math.round((box.top + box.bottom) / 2))).toBe(0)
    }
  })

  it('peels the deep contact shadow under a cap, and keeps a grey garment that dark', async () => {
    // why the catalog cap: under its crown the contact shadow is 12–14 L* below the white and flat for
    // a dozen px, past where the gradual peel stops; it used to be cut out with the cap and drawn into
    // every scene as a grey smear.
    const { readFile } = await import('node:fs/promises')
    const cap = await normaliseImage(await readFile('catalog/embroidered-cap/front.jpg'))
    const found = await findProductMask(cap)
    for (const [x, y] of [
      [360, 640],
      [360, 655],
      [290, 640],
    ])
      expect(maskAt(found.mask, cap.width, cap.height, x, y), `shadow under the crown at ${x},${y}`).toBe(0)
    expect(maskAt(found.mask, cap.width, cap.height, 360, 590), 'the crown').toBe(255)
    // A grey garment as dark as that shadow is one large region, never a core: it stays whole.
    const shot = productShot({ width: 900, height: 900, garment: [200, 200, 200], seed: 4 })
    expect(iou(await findProductMask(await withDropShadow(shot, 45)), shot.truth, 900, 900)).toBeGreaterThan(0.97)
  })

  it('works below the photo size on large photos and stays accurate', async () => {
    const { shot, source } = await sourceOf({ width: 1800, height: 1500, fill: 0.8 })
    const found = await findProductMask(source)
    expect(Math.max(found.mask.width, found.mask.height)).toBeLessThanOrEqual(1024)
    expect(iou(found, shot.truth, 1800, 1500)).toBeGreaterThan(0.97)
  })

  it('feathers the edge by a pixel or two, inside the product', async () => {
    const { shot, source } = await sourceOf({ width: 600, height: 600 })
    const { mask } = await findProductMask(source)
    let soft = 0
    let outsideTruth = 0
    for (let i = 0; i < mask.data.length; i++) {
      const v = mask.data[i]
      if (v > 0 && v < 255) soft++
      if (v > 0 && shot.truth[i] === 0) outsideTruth++
    }
    expect(soft).toBeGreaterThan(500)
    // Inward feather: almost nothing beyond the true outline is product.
    expect(outsideTruth).toBeLessThan(soft * 0.25)
  })

  it('adapts to a grey backdrop and drops dust specks', async () => {
    const shot = productShot({ width: 800, height: 800, backdropColor: [214, 214, 218], garment: [150, 30, 40] })
    const { data } = shot.pixels
    for (const [cx, cy] of [
      [60, 60],
      [740, 90],
      [700, 720],
    ]) {
      for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) data.set([40, 40, 40], (y * 800 + x) * 3)
    }
    const source = await normaliseImage(await encodeShot(shot, 'png'))
    const found = await findProductMask(source)
    expect(iou(found, shot.truth, 800, 800)).toBeGreaterThan(0.98)
    expect(maskAt(found.mask, 800, 800, 60, 60)).toBe(0)
    expect(maskAt(found.mask, 800, 800, 700, 720)).toBe(0)
  })

  it('classifies pixels the same whether or not their bytes are word-aligned', async () => {
    // 301 × 299: an odd pixel count, so the word-at-a-time pass leaves a tail.
    const { source } = await sourceOf({ width: 301, height: 299, whitePrint: true })
    const { data } = source.pixels
    const shifted = new Uint8Array(data.length + 1).subarray(1)
    shifted.set(data)
    const unaligned: SourceImage = { ...source, pixels: { ...source.pixels, data: shifted } }
    const [a, b] = [await findProductMask(source), await findProductMask(unaligned)]
    expect(b.bbox).toEqual(a.bbox)
    expect(Buffer.from(b.mask.data).equals(Buffer.from(a.mask.data))).toBe(true)
  })

  it('refuses a busy background and names the fix', async () => {
    const { source } = await sourceOf({ width: 800, height: 800, backdrop: 'busy' })
    await expect(findProductMask(source)).rejects.toMatchObject({
      code: 'BACKEND_BUSY_BACKGROUND',
      message: expect.stringMatching(/paint the product with the keep brush/i),
    })
  })

  it('refuses a photo with no product in it', async () => {
    const blank = await sharp({ create: { width: 500, height: 500, channels: 3, background: { r: 250, g: 250, b: 250 } } })
      .png()
      .toBuffer()
    await expect(findProductMask(await normaliseImage(blank))).rejects.toMatchObject({ code: 'BACKEND_NEEDS_MASK' })
  })
})

describe('findProductMask from alpha', () => {
  it('uses a meaningful alpha channel and ignores the colour under transparent pixels', async () => {
    const { shot, source } = await sourceOf({ width: 700, height: 700, backdrop: 'transparent' }, 'png')
    expect(source.pixels.channels).toBe(4)
    const found = await findProductMask(source)
    expect(found.origin).toBe('alpha')
    expect(iou(found, shot.truth, 700, 700)).toBeGreaterThan(0.995)
  })

  it('ignores an alpha channel that is opaque everywhere', async () => {
    const shot = productShot({ width: 600, height: 600 })
    const png = await sharp(shot.pixels.data, { raw: { width: 600, height: 600, channels: 3 } })
      .ensureAlpha(1)
      .png()
      .toBuffer()
    const source = await normaliseImage(png)
    expect(source.hasAlpha).toBe(true)
    expect((await findProductMask(source)).origin).toBe('background')
  })
})

describe('findProductMask with a merchant mask', () => {
  it('lets the merchant mask win, even over a busy background', async () => {
    const { shot, source } = await sourceOf({ width: 800, height: 800, backdrop: 'busy' })
    const drawn = await sharp(Buffer.from(shot.truth), { raw: { width: 800, height: 800, channels: 1 } })
      .png()
      .toBuffer()
    const found = await findProductMask(source, drawn)
    expect(found.origin).toBe('merchant')
    expect(iou(found, shot.truth, 800, 800)).toBeGreaterThan(0.98)
    // a busy floor round the Keep has no one colour to un-mix the edge from
    expect(found.backdrop).toBeUndefined()
  })

  it('reads the backdrop round a merchant mask on a uniform backdrop', async () => {
    const { shot, source } = await sourceOf({ width: 800, height: 800 })
    const drawn = await sharp(Buffer.from(shot.truth), { raw: { width: 800, height: 800, channels: 1 } })
      .png()
      .toBuffer()
    const found = await findProductMask(source, drawn)
    const auto = await findProductMask(source)
    expect(found.origin).toBe('merchant')
    expect(found.backdrop).toBeDefined()
    const [r, g, b] = found.backdrop!
    const [ar, ag, ab] = auto.backdrop!
    expect(Math.hypot(r - ar, g - ag, b - ab)).toBeLessThan(6)
  })

  it('refuses an empty merchant mask', async () => {
    const { source } = await sourceOf({ width: 400, height: 400 })
    const empty = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#000' } })
      .png()
      .toBuffer()
    await expect(findProductMask(source, empty)).rejects.toMatchObject({ code: 'BACKEND_NEEDS_MASK' })
  })
})
