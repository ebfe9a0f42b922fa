import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { deltaE2000Rgb } from '#app/modules/imaging/colour.ts'
import type { RawImage } from '#app/modules/imaging/types.ts'
import { boxPixels, prepareMainImage, regionDeltaE, squareGeometry } from './main-image.server.ts'

// Making a render a Taobao main image: the square window that keeps the
// product whole, the padding when none does, and the check on the bytes.

function solid(width: number, height: number, rgb: [number, number, number]): RawImage {
  const data = new Uint8Array(width * height * 3)
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i)
  return { data, width, height, channels: 3 }
}

function noise(width: number, height: number, seed = 1): RawImage {
  const data = new Uint8Array(width * height * 3)
  let s = seed
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0
    data[i] = s >>> 24
  }
  return { data, width, height, channels: 3 }
}

describe('squareGeometry', () => {
  it('crops a 3:4 render to the largest square centred on the product box', () => {
    const box = boxPixels({ x: 0.3, y: 0.4, width: 0.4, height: 0.3 }, 900, 1200)!
    expect(box).toEqual({ x0: 270, y0: 480, x1: 630, y1: 840 })
    expect(squareGeometry(900, 1200, box)).toEqual({ kind: 'crop', side: 900, left: 0, top: 210 })
  })

  it('slides the window to the frame when the box sits near an edge, keeping the box inside', () => {
    const top = squareGeometry(900, 1200, { x0: 100, y0: 10, x1: 800, y1: 300 })
    expect(top).toEqual({ kind: 'crop', side: 900, left: 0, top: 0 })
    const bottom = squareGeometry(900, 1200, { x0: 100, y0: 1000, x1: 800, y1: 1200 })
    expect(bottom).toEqual({ kind: 'crop', side: 900, left: 0, top: 300 })
    const wide = squareGeometry(1600, 900, { x0: 1200, y0: 0, x1: 1590, y1: 900 })
    expect(wide).toEqual({ kind: 'crop', side: 900, left: 700, top: 0 })
  })

  it('pads when no square window holds the box, or there is no box', () => {
    expect(squareGeometry(900, 1200, { x0: 0, y0: 100, x1: 900, y1: 1150 })).toEqual({
      kind: 'pad',
      side: 1200,
      left: 150,
      top: 0,
    })
    expect(squareGeometry(1000, 700, null)).toEqual({ kind: 'pad', side: 1000, left: 0, top: 150 })
    expect(squareGeometry(800, 800, null)).toEqual({ kind: 'as-is', side: 800, left: 0, top: 0 })
  })

  it('refuses a box with no area', () => {
    expect(() => boxPixels({ x: 0.2, y: 0.2, width: 0, height: 0.5 }, 100, 100)).toThrow(/positive width/)
    expect(() => boxPixels({ x: 1.2, y: 0.2, width: 0.5, height: 0.5 }, 100, 100)).toThrow(/outside/)
  })
})

describe('regionDeltaE', () => {
  it('is the ΔE2000 of the colours for a uniform shift, and zero outside the changed part', () => {
    const a = solid(40, 40, [120, 60, 40])
    const b = solid(40, 40, [120, 60, 40])
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) b.data.set([126, 60, 40], 3 * (y * 40 + x))
    expect(regionDeltaE(a, b, { x0: 0, y0: 20, x1: 40, y1: 40 })).toBe(0)
    const expected = deltaE2000Rgb([120, 60, 40], [126, 60, 40])
    expect(regionDeltaE(a, b, { x0: 0, y0: 0, x1: 40, y1: 20 })).toBeCloseTo(expected, 6)
    expect(regionDeltaE(a, b, { x0: 0, y0: 0, x1: 40, y1: 40 })).toBeCloseTo(expected / 2, 6)
  })

  it('does not count grain the block means cancel, and measures a box thinner than a block', () => {
    const a = solid(8, 8, [128, 128, 128])
    const b = solid(8, 8, [128, 128, 128])
    for (let i = 0; i < 64; i++) b.data.fill(i % 2 ? 124 : 132, 3 * i, 3 * i + 3)
    expect(regionDeltaE(a, b, { x0: 0, y0: 0, x1: 8, y1: 8 })).toBeLessThan(0.05)
    expect(regionDeltaE(a, solid(8, 8, [140, 128, 128]), { x0: 3, y0: 3, x1: 4, y1: 8 })).toBeGreaterThan(3)
  })
})

describe('prepareMainImage', () => {
  it('publishes a square JPEG under the limit as it is', async () => {
    const jpeg = await sharp({ create: { width: 900, height: 900, channels: 3, background: '#c86432' } })
      .jpeg()
      .toBuffer()
    const main = await prepareMainImage(jpeg)
    expect(main).toMatchObject({ fit: 'as-is', quality: null, deltaE: 0, side: 900 })
    expect(main.bytes).toBe(jpeg)
  })

  it('refuses when the quality that fits the limit would change the product region', async () => {
    // why noise: every quality step that fits 1 MB loses its detail; nothing honest can publish it.
    const px = noise(1000, 1000)
    const png = await sharp(px.data, { raw: { width: 1000, height: 1000, channels: 3 } })
      .png()
      .toBuffer()
    const refusal = await prepareMainImage(png, { x: 0.25, y: 0.25, width: 0.5, height: 0.5 }, { limit: 1024 * 1024 }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(refusal).toMatchObject({ code: 'TAOBAO_IMAGE_FIDELITY', status: 422 })
    const details = (refusal as { details: { deltaE: number; quality: number; bytes: number } }).details
    expect(details.deltaE).toBeGreaterThan(1)
    expect(details.bytes).toBeLessThanOrEqual(1024 * 1024)
  })
})
