import { describe, expect, it } from 'vitest'
import { relit } from './controls.ts'
import { applyDefect, drawingToResult, type Scene } from './defects.ts'
import { removePart } from './parts.ts'
import { changedBox, decodeRgb, meanDeltaE, productAlpha, signedDistance, type Rgb8 } from '../golden/pixels.ts'
import { PRODUCTS } from './products.ts'
import { prepareProduct, renderOn, scenePlate, texturedSource } from './studio.ts'
import { fabricWeight, maskDepth, textured } from './texture.ts'
import type { RawImage } from '#app/modules/backends/types.ts'
import { rng } from '#test/fixtures/product-images.ts'

/** A 120 × 100 frame: a grey scene with a noisy navy disc (the product) of radius 36 in the middle. */
function frame(): { image: Rgb8; alpha: Float32Array } {
  const width = 120
  const height = 100
  const random = rng(3)
  const data = new Uint8Array(width * height * 3)
  const alpha = new Float32Array(width * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      const a = Math.min(1, Math.max(0, 36.5 - Math.hypot(x - 60, y - 50)))
      alpha[i] = a
      const noise = 6 * (random() - 0.5)
      const product = [40 + noise, 52 + noise, 92 + noise]
      for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(a * product[c] + (1 - a) * (150 + 40 * (x / width)))
    }
  }
  return { image: { data, width, height }, alpha }
}

describe('realistic set: fabric', () => {
  const mask: RawImage = {
    data: new Uint8Array(64 * 64).map((_, i) => (Math.hypot((i % 64) - 32, Math.floor(i / 64) - 32) < 24 ? 255 : 0)),
    width: 64,
    height: 64,
    channels: 1,
  }
  const pixels: RawImage = { data: Buffer.alloc(128 * 128 * 3, 120), width: 128, height: 128, channels: 3 }
  const weight = fabricWeight(maskDepth(mask, 128, 128))
  const fabric = { weave: 'twill', period: 3, amplitude: 4, grain: 3, folds: 0.08 } as const

  it('paints grain, weave and folds inside the product only, keeping off its edge', () => {
    const out = textured(pixels, weight, fabric, { folds: 1, grain: 2 })
    let changedOutside = 0
    let sum = 0
    let n = 0
    for (let i = 0; i < 128 * 128; i++) {
      const d = Math.abs(out.data[i * 3] - 120)
      const r = Math.hypot((i % 128) - 64, Math.floor(i / 128) - 64)
      if (r > 47) changedOutside += d
      if (r < 30) {
        sum += d
        n++
      }
    }
    expect(changedOutside).toBe(0)
    expect(sum / n).toBeGreaterThan(2)
    expect(sum / n).toBeLessThan(15)
  })

  it('is deterministic, and a new grain seed changes the grain but not the folds', () => {
    const a = textured(pixels, weight, fabric, { folds: 1, grain: 2 })
    expect(Buffer.compare(a.data, textured(pixels, weight, fabric, { folds: 1, grain: 2 }).data)).toBe(0)
    const b = textured(pixels, weight, fabric, { folds: 1, grain: 9 })
    expect(Buffer.compare(a.data, b.data)).not.toBe(0)
    // Folds are low-frequency: the 16 × 16 means of both textures agree within a code value or two.
    const mean = (img: RawImage, x0: number, y0: number) => {
      let s = 0
      for (let y = y0; y < y0 + 16; y++) for (let x = x0; x < x0 + 16; x++) s += img.data[(y * 128 + x) * 3]
      return s / 256
    }
    for (const [x, y] of [
      [48, 48],
      [64, 56],
      [56, 64],
    ])
      expect(Math.abs(mean(a, x, y) - mean(b, x, y))).toBeLessThan(2)
  })
})

describe('realistic set: defects and controls', () => {
  it('a removed part changes pixels only inside its shape and the product, and leaves no blur blob', () => {
    const { image, alpha } = frame()
    const part = { cx: 60, cy: 50, rx: 8, ry: 8, shape: 'ellipse' } as const
    const out = removePart(image, alpha, part, [-18, 0])
    const box = changedBox(out, image, 0)!
    expect(box.x0).toBeGreaterThanOrEqual(50)
    expect(box.x1).toBeLessThanOrEqual(70)
    expect(box.y0).toBeGreaterThanOrEqual(40)
    expect(box.y1).toBeLessThanOrEqual(60)
    for (let i = 0; i < alpha.length; i++) if (alpha[i] === 0) expect(out.data[i * 3]).toBe(image.data[i * 3])
    // The fill keeps the fabric's grain: neighbouring pixels still differ.
    let steps = 0
    for (let x = 56; x < 64; x++) steps += Math.abs(out.data[(50 * 120 + x) * 3] - out.data[(50 * 120 + x + 1) * 3])
    expect(steps / 8).toBeGreaterThan(0.8)
  })

  it('a relit scene keeps the product within ΔE2000 1.5 while the scene changes', async () => {
    const { image, alpha } = frame()
    const { file, achieved } = await relit(image, alpha, { angle: 30, warmth: 1 })
    const stored = await decodeRgb(file)
    expect(achieved).toBeLessThanOrEqual(1.5)
    expect(meanDeltaE(image.data, stored.data, alpha)).toBeLessThanOrEqual(1.5)
    const scene = alpha.map((a) => (a === 0 ? 1 : 0))
    expect(meanDeltaE(image.data, stored.data, scene)).toBeGreaterThan(2)
  })

  it('regenerates one product byte for byte: source, render and a defect', async () => {
    const product = PRODUCTS.find((p) => p.id === 'cap')!
    const make = async () => {
      const prepared = await prepareProduct(product)
      const { file, source } = await texturedSource(product, prepared, 11)
      const render = await renderOn(product, source, prepared.brush, product.scene)
      const frameSize = { width: render.clean.width, height: render.clean.height }
      const alpha = productAlpha(render.mask, source, render.placement, frameSize)
      const scene: Scene = {
        clean: render.clean,
        alpha,
        signed: signedDistance(alpha, frameSize.width, frameSize.height),
        plate: scenePlate(product.scene, frameSize),
        productHeight: 300,
      }
      const map = drawingToResult(product, source, render.placement)
      const defect = await applyDefect(product.defects[0], scene, map, product)
      return [file, render.cleanFile, Buffer.from(defect.image.data)]
    }
    const [a, b] = [await make(), await make()]
    for (let k = 0; k < a.length; k++) expect(Buffer.compare(a[k], b[k])).toBe(0)
    expect(changedBox({ ...(await decodeRgb(a[1])), data: new Uint8Array(a[2]) }, await decodeRgb(a[1]), 10)).toBeDefined()
  })
})
