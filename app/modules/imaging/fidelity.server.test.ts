import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import type { RenderResult } from '#app/modules/backends/types.ts'
import type { RawImage, SourceImage } from './types.ts'
import { sceneSchema, type CpuStudioScene } from '#app/modules/looks/schema.ts'
import { market } from '#test/support/fidelity-render.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import {
  closeFidelity,
  compareFidelity,
  defaultThreads,
  FIDELITY_VERSION,
  fidelityScore,
  measureFidelity,
  prepareFidelity,
} from './fidelity.server.ts'
import * as check from './fidelity/check.server.ts'
import { normaliseImage } from './normalise.server.ts'
import { quietControls } from '#test/support/render-controls.ts'

const WARM_SCENE: CpuStudioScene = {
  background: { kind: 'linear', from: [250, 236, 220], to: [224, 194, 166], angle: 160 },
  productScale: 0.8,
  floorY: 0.92,
  shadow: { opacity: 0.28, blur: 26, offsetY: 10 },
  lightMatch: 0.06,
  lightColor: [255, 240, 222],
}


const W = 768
const H = 1024

let source: SourceImage
let render: RenderResult

beforeAll(async () => {
  source = await normaliseImage(await encodeShot(productShot({ width: 1024, height: 1024, seed: 11 }), 'jpeg'))
  const scene = sceneSchema.parse({
    id: 'warm',
    version: 1,
    nameKey: 'looks.scene.warm.name',
    category: 'studio',
    preview: { from: [250, 236, 220], to: [224, 194, 166] },
    prompt: 'warm studio',
    backends: { 'cpu-studio': WARM_SCENE },
  })
  render = await createCpuStudioBackend().render(
    { renderId: 'r', operation: 'product_scene', source, persona: null, market, scene, seed: 3, output: { width: W, height: H } },
    quietControls(),
  )
})

function measure(result: RawImage | Buffer): ReturnType<typeof measureFidelity> {
  return measureFidelity({ source, sourceMask: render.sourceMask, result, placement: render.placement })
}

/** The render with every pixel of the product's rectangle warmed by k (red up, blue down). */
function tinted(k: number): RawImage {
  const data = Uint8Array.from(render.pixels!.data)
  const { x, y, scale, crop } = render.placement
  for (let yy = y; yy < y + Math.round(crop.height * scale); yy++) {
    for (let xx = x; xx < x + Math.round(crop.width * scale); xx++) {
      const o = (yy * W + xx) * 3
      data[o] = Math.min(255, data[o] + k)
      data[o + 2] = Math.max(0, data[o + 2] - k)
    }
  }
  return { data, width: W, height: H, channels: 3 }
}

describe('measureFidelity', () => {
  it('scores an untouched composite at 90 or more, on its pixels and on its JPEG', async () => {
    const onPixels = await measure(render.pixels!)
    expect(onPixels.score).toBeGreaterThanOrEqual(90)
    expect(onPixels.ssim).toBeGreaterThan(0.95)
    // The light match is allowed to move colours, by less than ΔE 2.
    expect(onPixels.deltaEMean).toBeLessThan(2)
    expect(onPixels.maskCoverage).toBeGreaterThan(0.99)
    expect(onPixels.version).toBe(FIDELITY_VERSION)
    expect((await measure(render.image!)).score).toBeGreaterThanOrEqual(90)
    expect(render.fidelity).toEqual(onPixels)
  })

  it('drops clearly below 75 for a colour shift of ΔE ≈ 3 over the product', async () => {
    // Find the tint that moves the product by a mean ΔE2000 of 3.
    let lo = 0
    let hi = 40
    let shifted = await measure(tinted(hi))
    for (let i = 0; i < 8; i++) {
      const k = Math.round((lo + hi) / 2)
      const m = await measure(tinted(k))
      if (m.deltaEMean < 3) lo = k
      else {
        hi = k
        shifted = m
      }
    }
    expect(shifted.deltaEMean).toBeGreaterThanOrEqual(2.8)
    expect(shifted.deltaEMean).toBeLessThan(3.4)
    expect(shifted.ssim).toBeGreaterThan(0.9)
    expect(shifted.score).toBeLessThan(75)
  })

  it('drops clearly below 75 for a heavily blurred product', async () => {
    const blurred = await sharp(render.pixels!.data, { raw: { width: W, height: H, channels: 3 } })
      .blur((6 * H) / 1024)
      .raw()
      .toBuffer()
    const m = await measure({ data: blurred, width: W, height: H, channels: 3 })
    expect(m.ssim).toBeLessThan(0.93)
    expect(m.score).toBeLessThan(75)
  })

  it('counts a product pushed half out of frame', async () => {
    const placement = { ...render.placement, x: W - Math.round((render.placement.crop.width * render.placement.scale) / 2) }
    const m = await measureFidelity({ source, sourceMask: render.sourceMask, result: render.pixels!, placement })
    expect(m.maskCoverage).toBeGreaterThan(0.3)
    expect(m.maskCoverage).toBeLessThan(0.7)
    expect(m.score).toBeLessThan(40)
  })
})

describe('fidelity threads', () => {
  beforeAll(async () => {
    process.env.FIDELITY_THREADS = '2'
    resetEnvCache()
    await closeFidelity()
  })
  afterAll(async () => {
    delete process.env.FIDELITY_THREADS
    resetEnvCache()
    await closeFidelity()
  })

  it('size themselves one per core beyond the first, none on two cores', () => {
    expect([1, 2, 3, 4, 16].map(defaultThreads)).toEqual([0, 0, 2, 3, 15])
  })

  it('report on a thread exactly what the check reports in this thread, for pixels and for a JPEG', async () => {
    const frame = { width: W, height: H }
    const input = { source, sourceMask: render.sourceMask, placement: render.placement, frame }
    const here = await check.prepareFidelity(input)
    const threaded = await prepareFidelity(input)
    // why: on a thread the reference comes back in shared memory, so the comparison sends it without a copy
    expect(threaded.detail?.src.buffer).toBeInstanceOf(SharedArrayBuffer)
    for (const result of [tinted(12), render.image!]) {
      const expected = await check.compareFidelity(here, result)
      expect(await compareFidelity(threaded, result)).toEqual(expected)
      expect(await compareFidelity(here, result)).toEqual(expected)
    }
  })
})

describe('fidelityScore', () => {
  it('is 100 for a perfect match and falls with every part', () => {
    expect(fidelityScore(1, 0, 0, 1)).toBe(100)
    expect(fidelityScore(0.85, 0, 0, 1)).toBeLessThan(fidelityScore(0.95, 0, 0, 1))
    expect(fidelityScore(0.95, 0, 0, 1)).toBe(100)
    expect(fidelityScore(1, 3, 3, 1)).toBe(50)
    expect(fidelityScore(1, 1, 8, 1)).toBeLessThan(fidelityScore(1, 1, 2, 1))
    expect(fidelityScore(1, 0, 0, 0.8)).toBeLessThan(60)
    expect(fidelityScore(0.8, 0, 0, 1)).toBe(0)
  })
})
