import sharp, { type Sharp } from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio.server.ts'
import type { RawImage, RenderResult, SourceImage } from '#app/modules/backends/types.ts'
import { marketSchema, sceneSchema } from '#app/modules/looks/schema.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { explainFidelity } from './fidelity-reasons.ts'
import { VISIBLE, compareDetail, detailScore, measureFidelity, prepareDetail } from './fidelity.server.ts'
import { normaliseImage } from './normalise.server.ts'
import { quietControls } from '#test/support/render-controls.ts'

const market = marketSchema.parse({
  id: 'de',
  version: 1,
  nameKey: 'looks.market.de.name',
  country: 'DE',
  flag: 'DE',
  defaultPersonas: ['p'],
  defaultScenes: ['s'],
  aspectRatio: '3:4',
  altTextLanguage: 'de',
})

const scene = sceneSchema.parse({
  id: 'grey',
  version: 1,
  nameKey: 'looks.scene.grey.name',
  category: 'studio',
  preview: { from: [238, 238, 238], to: [204, 204, 207] },
  prompt: 'grey studio',
  backends: {
    'cpu-studio': {
      background: { kind: 'linear', from: [238, 238, 238], to: [204, 204, 207], angle: 180 },
      productScale: 0.82,
      floorY: 0.92,
      shadow: { opacity: 0.3, blur: 20, offsetY: 8 },
      lightMatch: 0,
      lightColor: [255, 255, 255],
    },
  },
})

const W = 480
const H = 640

let source: SourceImage
let render: RenderResult
let clean: RawImage

beforeAll(async () => {
  source = await normaliseImage(await encodeShot(productShot({ width: 800, height: 800, seed: 21, fill: 0.8 }), 'jpeg'))
  render = await createCpuStudioBackend().render(
    { renderId: 'r', operation: 'product_scene', source, persona: null, market, scene, seed: 5, output: { width: W, height: H } },
    quietControls(),
  )
  clean = render.pixels!
})

function measure(result: RawImage): ReturnType<typeof measureFidelity> {
  return measureFidelity({ source, sourceMask: render.sourceMask, result, placement: render.placement })
}

async function raw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 3 }
}

function fromClean(): Sharp {
  return sharp(clean.data, { raw: { width: W, height: H, channels: 3 } })
}

/** The product's coverage on the result (0..1 per pixel): the source mask carried through the placement. */
function productAlpha(): Float32Array {
  const { sourceMask: mask, placement: p } = render
  const out = new Float32Array(W * H)
  const w = Math.round(p.crop.width * p.scale)
  const h = Math.round(p.crop.height * p.scale)
  for (let j = 0; j < h; j++) {
    const sy = Math.min(mask.height - 1, Math.floor(((p.crop.top + (j + 0.5) / p.scale) * mask.height) / source.height))
    for (let i = 0; i < w; i++) {
      const sx = Math.min(mask.width - 1, Math.floor(((p.crop.left + (i + 0.5) / p.scale) * mask.width) / source.width))
      out[(p.y + j) * W + p.x + i] = mask.data[sy * mask.width + sx] / 255
    }
  }
  return out
}

/** Where a point of the source photo (fractions of it) lands on the result. */
function onResult(u: number, v: number): { x: number; y: number } {
  const p = render.placement
  return {
    x: Math.round(p.x + (u * source.width - p.crop.left) * p.scale),
    y: Math.round(p.y + (v * source.height - p.crop.top) * p.scale),
  }
}

describe('shift-robust fidelity measures', () => {
  it('lets a model-swap-like move (2 px) and rescale (1.5 %) through, and finds the move', async () => {
    const moved = await raw(
      fromClean()
        .extend({ left: 2, top: 0, right: 0, bottom: 0, extendWith: 'copy' })
        .extract({ left: 0, top: 0, width: W, height: H }),
    )
    const m = await measure(moved)
    expect(m.score).toBeGreaterThanOrEqual(90)
    expect(m.alignment?.dx).toBeCloseTo(2, 0)
    // Since version 4 the report's SSIM and ΔE are the aligned ones: the move is not a change to them either.
    expect(m.ssim).toBe(m.interiorSsim)
    expect(m.deltaEMean).toBe(m.matchedDeltaEMean)

    const bigger = Math.round(W * 1.015)
    const scaled = await raw(
      fromClean()
        .resize(bigger, Math.round(H * 1.015), { kernel: 'lanczos3' })
        .extract({ left: Math.round((bigger - W) / 2), top: Math.round((H * 1.015 - H) / 2), width: W, height: H }),
    )
    const s = await measure(scaled)
    expect(s.score).toBeGreaterThanOrEqual(85)
    expect(s.alignment?.scale).toBeGreaterThan(1.005)
  })

  it('scores the untouched render near 100 with all parts clean', async () => {
    const m = await measure(clean)
    expect(m.score).toBeGreaterThanOrEqual(95)
    expect(m.edgeScore).toBeGreaterThan(0.9)
    expect(m.detailRatio).toBeGreaterThan(0.9)
    expect(m.matchedDeltaEMean).toBeLessThan(1)
    expect(explainFidelity(m)).toEqual([])
  })

  it('sees a sleeve whose outline grew by 3 px as a changed edge', async () => {
    const data = Uint8Array.from(clean.data)
    // why one sleeve: the whole outline grown evenly is the product scaled, which a model swap may do.
    const sleeve = onResult(0.32, 0).x
    const scene = (o: number, from: Uint8Array): boolean => from[o] > 150 && Math.abs(from[o] - from[o + 2]) < 16
    const garment = (o: number, from: Uint8Array): boolean => from[o + 2] > from[o] + 30 && from[o] < 120
    // Each grey scene pixel beside the navy garment takes the garment's colour, three times over.
    for (let pass = 0; pass < 3; pass++) {
      const from = Uint8Array.from(data)
      for (let y = 1; y < H - 1; y++) {
        for (let x = 1; x < sleeve; x++) {
          const i = y * W + x
          if (!scene(3 * i, from)) continue
          const n = [i - 1, i + 1, i - W, i + W].find((k) => garment(3 * k, from))
          if (n !== undefined) data.set(from.subarray(3 * n, 3 * n + 3), 3 * i)
        }
      }
    }
    const m = await measure({ data, width: W, height: H, channels: 3 })
    expect(m.edgeScore).toBeLessThan(VISIBLE.edgeScore)
    expect(m.detailRatio).toBeGreaterThan(VISIBLE.detailRatio)
    expect(m.score).toBeLessThan(70)
    expect(explainFidelity(m).map((r) => r.code)).toContain('edge_changed')
  })

  it('sees a wiped chest print as lost detail, and points the heat map at it', async () => {
    // The fixture's white chest print: a disc of radius 0.06 of the garment at (0.5, 0.4), garment filling 0.8 of the frame.
    const k = 0.8 / 0.68
    const centre = onResult(0.5, 0.5 + (0.4 - 0.52) * k)
    const corner = onResult(0.5 - 0.075 * k, 0.5 + (0.4 - 0.52 - 0.075) * k)
    const half = centre.x - corner.x
    const data = Uint8Array.from(clean.data)
    const garment = 3 * (centre.y * W + centre.x + 2 * half)
    for (let y = centre.y - half; y <= centre.y + half; y++) {
      for (let x = centre.x - half; x <= centre.x + half; x++) data.copyWithin(3 * (y * W + x), garment, garment + 3)
    }
    const result: RawImage = { data, width: W, height: H, channels: 3 }
    const m = await measure(result)
    expect(m.detailRatio).toBeLessThan(VISIBLE.detailRatio)
    expect(m.score).toBeLessThan(70)
    expect(explainFidelity(m).map((r) => r.code)).toContain('detail_lost')
    const heat = m.heat!
    let hottest = 0
    for (let c = 1; c < heat.cells.length; c++) if (heat.cells[c] > heat.cells[hottest]) hottest = c
    const cx = heat.rect.left + ((hottest % heat.cols) + 0.5) * (heat.rect.width / heat.cols)
    const cy = heat.rect.top + (Math.floor(hottest / heat.cols) + 0.5) * (heat.rect.height / heat.rows)
    expect(Math.abs(cx - centre.x)).toBeLessThan(half + heat.rect.width / heat.cols)
    expect(Math.abs(cy - centre.y)).toBeLessThan(half + heat.rect.height / heat.rows)
  })

  it('lights no heat cell on a faithful render, and the cells over a recoloured patch on a changed one', async () => {
    const cleanHeat = (await measure(clean)).heat!
    expect(Math.max(...cleanHeat.cells)).toBeLessThan(0.5)
    // A patch of the garment's lower left, a quarter of its width square, shifted in colour (ΔE ≈ 10).
    const from = onResult(0.3, 0.62)
    const side = onResult(0.45, 0.62).x - from.x
    const data = Uint8Array.from(clean.data)
    for (let y = from.y; y < from.y + side; y++) {
      for (let x = from.x; x < from.x + side; x++) {
        const i = 3 * (y * W + x)
        data[i] = Math.min(255, data[i] + 30)
        data[i + 2] = Math.max(0, data[i + 2] - 20)
      }
    }
    const heat = (await measure({ data, width: W, height: H, channels: 3 })).heat!
    const cw = heat.rect.width / heat.cols
    const ch = heat.rect.height / heat.rows
    const hot = heat.cells.flatMap((v, c) => (v >= 0.5 ? [c] : []))
    expect(hot.length).toBeGreaterThan(0)
    for (const c of hot) {
      const cx = heat.rect.left + ((c % heat.cols) + 0.5) * cw
      const cy = heat.rect.top + (Math.floor(c / heat.cols) + 0.5) * ch
      expect(cx).toBeGreaterThan(from.x - cw)
      expect(cx).toBeLessThan(from.x + side + cw)
      expect(cy).toBeGreaterThan(from.y - ch)
      expect(cy).toBeLessThan(from.y + side + ch)
    }
  })

  it('measures a tint after alignment as the colour change it is', async () => {
    const data = Uint8Array.from(clean.data)
    const alpha = productAlpha()
    for (let i = 0; i < alpha.length; i++) {
      if (alpha[i] < 0.5) continue
      data[3 * i] = Math.min(255, data[3 * i] + 14)
      data[3 * i + 2] = Math.max(0, data[3 * i + 2] - 14)
    }
    const ref = await prepareDetail({
      source,
      sourceMask: render.sourceMask,
      placement: render.placement,
      frame: { width: W, height: H },
    })
    const d = await compareDetail(ref!, { data, width: W, height: H, channels: 3 })
    expect(d.matchedDeltaEMean).toBeGreaterThan(VISIBLE.deltaE)
    expect(d.edgeScore).toBeGreaterThan(VISIBLE.edgeScore)
  })
})

describe('detailScore (version 2)', () => {
  const perfect = { interiorSsim: 1, matchedDeltaEMean: 0, matchedDeltaEP95: 0, edgeScore: 1, detailRatio: 1 }

  it('is 100 for a perfect match and exactly 70 with one part at its visible threshold', () => {
    expect(detailScore(perfect, 1)).toBe(100)
    expect(detailScore({ ...perfect, interiorSsim: VISIBLE.ssim }, 1)).toBe(70)
    expect(detailScore({ ...perfect, matchedDeltaEMean: VISIBLE.deltaE }, 1)).toBe(70)
    expect(detailScore({ ...perfect, matchedDeltaEP95: 2 * VISIBLE.deltaE }, 1)).toBe(70)
    expect(detailScore({ ...perfect, edgeScore: VISIBLE.edgeScore }, 1)).toBe(70)
    expect(detailScore({ ...perfect, detailRatio: VISIBLE.detailRatio }, 1)).toBe(70)
  })

  it('costs next to nothing below half the threshold and falls steeply past it', () => {
    expect(detailScore({ ...perfect, matchedDeltaEMean: 1, edgeScore: 0.9, detailRatio: 0.875 }, 1)).toBeGreaterThanOrEqual(99)
    expect(detailScore({ ...perfect, matchedDeltaEMean: 2.6 }, 1)).toBeLessThan(25)
    // Four parts each at 80 % of their threshold together still pass the default gate.
    const near = {
      interiorSsim: 1 - 0.8 * 0.15,
      matchedDeltaEMean: 1.6,
      matchedDeltaEP95: 0,
      edgeScore: 1 - 0.8 * 0.2,
      detailRatio: 1 - 0.8 * 0.25,
    }
    expect(detailScore(near, 1)).toBeGreaterThan(70)
    expect(detailScore(perfect, 0.8)).toBeLessThan(60)
  })
})

describe('faithful renders on textured scenes (catalog photos)', () => {
  // why these: the tote's dark rim runs along the loft's brick courses (the scene estimate behind the
  // rim is a mortar/brick average), and the tee's catalog drop shadow once became a light rim. The
  // shirt, the jeans and the dress each lost a little coverage at the edge toward a darker scene
  // (the studio's matte is a touch tighter than the photo's blur), which once read as a halo; the
  // Breton top's cream edges were really lost, until the studio's matte took their own colour.
  it.each([
    ['leather-tote-bag', 'front.png', 'loft'],
    ['classic-graphic-tee', 'front.jpg', 'loft'],
    ['linen-button-shirt', 'front.jpg', 'beach'],
    ['linen-button-shirt', 'back.jpg', 'street'],
    ['straight-leg-jeans', 'front.jpg', 'cafe-interior'],
    ['silk-slip-dress', 'front.jpg', 'magazine-cover'],
    // why: the dress's left strap crosses a window's frame, darker than the scene estimate behind it,
    // and read as a strap a third thinner (sceneExplains).
    ['silk-slip-dress', 'front.jpg', 'street', 7],
    // why: the top's cream cuffs and hem were drawn see-through with the navy's reach (compose.ts, localReach).
    ['breton-striped-long-sleeve', 'front.jpg', 'cafe-interior'],
  ])('does not flag %s (%s) composited into the %s', async (folder, file, sceneId, seed = 1) => {
    const { readFile } = await import('node:fs/promises')
    const { scenes } = await import('#app/modules/looks/scenes.ts')
    const { markets } = await import('#app/modules/looks/markets.ts')
    const photo = await normaliseImage(await readFile(`catalog/${folder}/${file}`))
    const scene = scenes.find((s) => s.id === sceneId)!
    const out = await createCpuStudioBackend().render(
      { renderId: 'r', operation: 'product_scene', source: photo, persona: null, market: markets[0], scene, seed, output: { width: 1536, height: 2048 } },
      quietControls(),
    )
    expect(out.fidelity!.score).toBeGreaterThanOrEqual(90)
    expect(out.fidelity!.edgeScore).toBeGreaterThan(VISIBLE.edgeScore)
  })
})

