import { beforeAll, describe, expect, it } from 'vitest'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import type { RenderResult } from '#app/modules/backends/types.ts'
import type { RawImage, SourceImage } from './types.ts'
import { marketSchema, sceneSchema } from '#app/modules/looks/schema.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { measureFidelity } from './fidelity.server.ts'
import { normaliseImage } from './normalise.server.ts'
import { applyComposite, prepareComposite, protectProduct } from './protect.server.ts'
import { quietControls } from '#test/support/render-controls.ts'

// Protection is tested the way a GPU result arrives: a real composite (the CPU
// studio's) that a "backend" then damaged inside the product — recoloured,
// smeared, or moved — and that protection must bring back to the source.

const W = 600
const H = 800
let source: SourceImage
let render: RenderResult

const market = marketSchema.parse({
  id: 'us', version: 1, nameKey: 'looks.market.us.name', country: 'US', flag: 'US',
  defaultPersonas: ['p'], defaultScenes: ['s'], aspectRatio: '3:4', altTextLanguage: 'en-US',
})
const scene = sceneSchema.parse({
  id: 'grey', version: 1, nameKey: 'looks.scene.grey.name', category: 'studio', preview: { from: [200, 200, 200], to: [150, 150, 150] },
  prompt: 'grey seamless',
  backends: { 'cpu-studio': { background: { kind: 'solid', color: [180, 182, 186] }, productScale: 0.75, floorY: 0.9, shadow: { opacity: 0.2, blur: 20, offsetY: 8 }, lightMatch: 0, lightColor: [255, 255, 255] } },
})

beforeAll(async () => {
  source = await normaliseImage(await encodeShot(productShot({ width: 900, height: 900, seed: 5 }), 'jpeg'))
  render = await createCpuStudioBackend().render(
    { renderId: 'p', operation: 'product_scene', source, persona: null, market, scene, seed: 1, output: { width: W, height: H } },
    quietControls(),
  )
})

/** The render with the product's rectangle changed by `edit`, as a careless backend would. */
function damaged(edit: (data: Uint8Array, o: number) => void): RawImage {
  const data = Uint8Array.from(render.pixels!.data)
  const { x, y, scale, crop } = render.placement
  for (let yy = y; yy < y + Math.round(crop.height * scale); yy++) {
    for (let xx = x; xx < x + Math.round(crop.width * scale); xx++) edit(data, (yy * W + xx) * 3)
  }
  return { data, width: W, height: H, channels: 3 }
}

const score = async (result: RawImage) =>
  (await measureFidelity({ source, sourceMask: render.sourceMask, result, placement: render.placement })).score

/** The result-frame product mask a segmenting backend would return: the source mask through the placement. */
function resultMaskOf(shiftX = 0): RawImage {
  const mask = new Uint8Array(W * H)
  const { x, y, scale, crop } = render.placement
  const m = render.sourceMask
  for (let yy = 0; yy < H; yy++) {
    for (let xx = 0; xx < W; xx++) {
      const sx = crop.left + (xx - shiftX - x) / scale
      const sy = crop.top + (yy - y) / scale
      if (sx < 0 || sy < 0 || sx >= source.width || sy >= source.height) continue
      mask[yy * W + xx] = m.data[Math.floor((sy * m.height) / source.height) * m.width + Math.floor((sx * m.width) / source.width)]
    }
  }
  return { data: mask, width: W, height: H, channels: 1 }
}

describe('protectProduct', () => {
  it('composites the original product back when geometry is unchanged', async () => {
    const recoloured = damaged((d, o) => {
      d[o] = Math.min(255, d[o] + 40)
      d[o + 2] = Math.max(0, d[o + 2] - 40)
    })
    expect(await score(recoloured)).toBeLessThan(60)
    const out = protectProduct({ source, sourceMask: render.sourceMask, result: recoloured, placement: render.placement, geometry: 'unchanged' })
    expect(out.method).toBe('composite')
    expect(out.changed).toBeGreaterThan(10_000)
    expect(await score(out.pixels)).toBeGreaterThanOrEqual(95)
    // Outside the product nothing moved: the corners are the backend's pixels.
    for (const o of [0, (W - 1) * 3, (W * (H - 1)) * 3]) expect(Array.from(out.pixels.data.subarray(o, o + 3))).toEqual(Array.from(recoloured.data.subarray(o, o + 3)))
  })

  it('moves the product colour back to the source when geometry changed, leaving the rest alone', async () => {
    // A try-on result: the product moved 12 px (no pixel copy possible) and its colour drifted.
    const shift = 12
    const moved = damaged(() => undefined)
    const shifted = new Uint8Array(moved.data)
    for (let yy = 0; yy < H; yy++) for (let xx = W - 1; xx >= shift; xx--) shifted.set(moved.data.subarray((yy * W + xx - shift) * 3, (yy * W + xx - shift) * 3 + 3), (yy * W + xx) * 3)
    const mask = resultMaskOf(shift)
    for (let i = 0; i < W * H; i++) if (mask.data[i] > 0) shifted[i * 3] = Math.min(255, shifted[i * 3] + 35)
    const result: RawImage = { data: shifted, width: W, height: H, channels: 3 }
    const shiftedPlacement = { ...render.placement, x: render.placement.x + shift }
    const before = await measureFidelity({ source, sourceMask: render.sourceMask, result, placement: shiftedPlacement })
    const out = protectProduct({ source, sourceMask: render.sourceMask, result, placement: render.placement, geometry: 'changed', resultMask: mask })
    expect(out.method).toBe('colour-transfer')
    const after = await measureFidelity({ source, sourceMask: render.sourceMask, result: out.pixels, placement: shiftedPlacement })
    expect(after.deltaEMean).toBeLessThan(before.deltaEMean / 2)
    // Pixels outside the product mask are untouched.
    for (let i = 0; i < W * H; i++) {
      if (mask.data[i] === 0 && out.pixels.data[i * 3] !== shifted[i * 3]) throw new Error(`pixel ${i} outside the product changed`)
    }
  })

  it('changes nothing when geometry changed and no product mask is known', () => {
    const result = damaged(() => undefined)
    const out = protectProduct({ source, sourceMask: render.sourceMask, result, placement: render.placement, geometry: 'changed' })
    expect(out.method).toBe('none')
    expect(out.pixels).toBe(result)
  })

  it('builds the composite before the result exists: one layer protects every result framed the same way, pixel for pixel as the plain formula', () => {
    // A fractional placement (scaled, off the pixel grid), so every tap is interpolated.
    const placement = { ...render.placement, scale: render.placement.scale * 0.93, x: render.placement.x + 7.3, y: render.placement.y - 3.6 }
    const layer = prepareComposite({ source, sourceMask: render.sourceMask, placement, frame: { width: W, height: H } })
    expect(layer.seamAt.length).toBeGreaterThan(500)
    for (const edit of [(d: Uint8Array, o: number) => void (d[o] = 255 - d[o]), (d: Uint8Array, o: number) => void (d[o + 1] = 0)]) {
      const result = damaged(edit)
      const expected = plainComposite(result, placement)
      const copied = applyComposite(layer, result)
      expect(Buffer.from(copied.pixels.data).equals(Buffer.from(expected))).toBe(true)
      expect(copied.pixels.data).not.toBe(result.data)
      const same = protectProduct({ source, sourceMask: render.sourceMask, result, placement, geometry: 'unchanged' })
      expect(same.changed).toBe(copied.changed)
      // In place: the result's own buffer holds the composite.
      const inPlace = applyComposite(layer, result, true)
      expect(inPlace.pixels.data).toBe(result.data)
      expect(Buffer.from(result.data).equals(Buffer.from(expected))).toBe(true)
    }
    expect(() => applyComposite(layer, { data: new Uint8Array(W * H * 3), width: W, height: H - 1, channels: 3 })).toThrow(/600×800 RGB result/)
  })
})

/**
 * The composite written plainly, pixel by pixel, as protect.server.ts
 * describes it: bilinear source colour and mask through the placement; the
 * mask's feather made firmer (×2) where source and result agree (RGB distance
 * under 24); solid where the mask is.
 */
function plainComposite(result: RawImage, placement: typeof render.placement): Uint8Array {
  const out = new Uint8Array(result.data)
  const src = source.pixels
  const m = render.sourceMask
  const at = (data: Uint8Array, w: number, h: number, ch: number, c: number, x: number, y: number): number => {
    const x0 = Math.max(0, Math.min(w - 1, Math.floor(x)))
    const y0 = Math.max(0, Math.min(h - 1, Math.floor(y)))
    const x1 = Math.min(w - 1, x0 + 1)
    const y1 = Math.min(h - 1, y0 + 1)
    const fx = Math.max(0, Math.min(1, x - x0))
    const fy = Math.max(0, Math.min(1, y - y0))
    const v = (xx: number, yy: number) => data[(yy * w + xx) * ch + c]
    return (v(x0, y0) * (1 - fx) + v(x1, y0) * fx) * (1 - fy) + (v(x0, y1) * (1 - fx) + v(x1, y1) * fx) * fy
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = placement.crop.left + (x + 0.5 - placement.x) / placement.scale - 0.5
      const sy = placement.crop.top + (y + 0.5 - placement.y) / placement.scale - 0.5
      if (sx < -0.5 || sx > src.width - 0.5 || sy < -0.5 || sy > src.height - 0.5) continue
      if (x < Math.floor(placement.x) || x >= Math.ceil(placement.x + placement.crop.width * placement.scale)) continue
      if (y < Math.floor(placement.y) || y >= Math.ceil(placement.y + placement.crop.height * placement.scale)) continue
      const mask = at(m.data, m.width, m.height, 1, 0, (sx + 0.5) * (m.width / src.width) - 0.5, (sy + 0.5) * (m.height / src.height) - 0.5)
      if (mask <= 0) continue
      // why the source's own fraction: at the border the colour taps clamp but keep sx − ⌊sx⌋ as weight.
      const colour = [0, 1, 2].map((c) => {
        const fx = sx - Math.floor(sx)
        const fy = sy - Math.floor(sy)
        const x0 = Math.max(0, Math.min(src.width - 1, Math.floor(sx)))
        const y0 = Math.max(0, Math.min(src.height - 1, Math.floor(sy)))
        const x1 = Math.min(src.width - 1, x0 + 1)
        const y1 = Math.min(src.height - 1, y0 + 1)
        const v = (xx: number, yy: number) => src.data[(yy * src.width + xx) * src.channels + c]
        return (v(x0, y0) * (1 - fx) + v(x1, y0) * fx) * (1 - fy) + (v(x0, y1) * (1 - fx) + v(x1, y1) * fx) * fy
      })
      const o = (y * W + x) * 3
      let w = mask / 255
      if (mask < 255 && Math.hypot(colour[0] - out[o], colour[1] - out[o + 1], colour[2] - out[o + 2]) < 24) w = Math.min(1, w * 2)
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(w === 1 ? colour[c] : colour[c] * w + out[o + c] * (1 - w))
    }
  }
  return out
}
