import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { deltaE2000Rgb } from '#app/modules/imaging/colour.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import {
  marketSchema,
  personaSchema,
  sceneSchema,
  type CpuStudioScene,
  type Operation,
  type Scene,
} from '#app/modules/looks/schema.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { variantSeeds, variationAt, variationOf } from '#app/modules/looks/variation.ts'
import { createCpuStudioBackend } from './adapter.server.ts'
import type { RenderControls, RenderRequest, SourceImage } from '../types.ts'

const STUDIO: CpuStudioScene = {
  background: { kind: 'radial', inner: [250, 245, 236], outer: [230, 219, 202] },
  productScale: 0.7,
  floorY: 0.9,
  shadow: { opacity: 0.3, blur: 20, offsetY: 6 },
  lightMatch: 0.04,
  lightColor: [255, 246, 232],
}

function sceneWith(cpu: CpuStudioScene, id = 'test-scene'): Scene {
  return sceneSchema.parse({
    id,
    version: 1,
    nameKey: `looks.scene.${id}.name`,
    category: 'studio',
    preview: { from: [250, 245, 236], to: [230, 219, 202] },
    prompt: 'a studio',
    backends: { 'cpu-studio': cpu },
  })
}

const market = marketSchema.parse({
  id: 'us',
  version: 1,
  nameKey: 'looks.market.us.name',
  country: 'US',
  flag: 'US',
  defaultPersonas: ['p'],
  defaultScenes: ['s'],
  aspectRatio: '3:4',
  altTextLanguage: 'en',
})

const persona = personaSchema.parse({
  id: 'amara',
  version: 1,
  nameKey: 'looks.persona.amara.name',
  presentation: 'feminine',
  ageBand: '25-34',
  skinTone: 'V',
  bodySize: 'M',
  hair: 'short natural',
  swatch: [120, 80, 60],
  prompt: 'a woman',
})

const backend = createCpuStudioBackend()
let source: SourceImage

beforeAll(async () => {
  source = await normaliseImage(await encodeShot(productShot({ width: 900, height: 900, seed: 9 }), 'jpeg'))
})

function request(overrides: Partial<RenderRequest> = {}): RenderRequest {
  return {
    renderId: 'render-1',
    operation: 'product_scene',
    source,
    persona: null,
    market,
    scene: sceneWith(STUDIO),
    seed: 42,
    output: { width: 600, height: 800 },
    ...overrides,
  }
}

function recorder(signal = new AbortController().signal): RenderControls & { steps: Array<[number, string]> } {
  const steps: Array<[number, string]> = []
  return { steps, signal, onProgress: (percent, message) => void steps.push([percent, message]) }
}

describe('cpu-studio render', () => {
  it('produces a 4:4:4 sRGB JPEG of the requested size, without metadata', async () => {
    const controls = recorder()
    const result = await backend.render(request(), controls)
    expect(result.contentType).toBe('image/jpeg')
    const meta = await sharp(result.image).metadata()
    expect(meta).toMatchObject({
      format: 'jpeg',
      width: 600,
      height: 800,
      channels: 3,
      space: 'srgb',
      chromaSubsampling: '4:4:4',
    })
    expect(meta.exif).toBeUndefined()
    expect(meta.icc).toBeUndefined()
    expect([result.width, result.height]).toEqual([600, 800])
    expect(result.pixels).toMatchObject({ width: 600, height: 800, channels: 3 })
    expect(result.workflow).toBe('cpu-studio@3')
    expect(result.backendMs).toBeGreaterThan(0)
    expect(result.fidelity?.score).toBeGreaterThanOrEqual(90)
  })

  it('places the product centred, its bottom on the floor line, at the scene scale', async () => {
    const size = 800
    const result = await backend.render(request({ output: { width: size, height: size } }), recorder())
    const { placement } = result
    const height = placement.crop.height * placement.scale
    const width = placement.crop.width * placement.scale
    expect(height / size).toBeCloseTo(STUDIO.productScale, 2)
    expect((placement.y + height) / size).toBeCloseTo(STUDIO.floorY, 2)
    expect(Math.abs(placement.x + width / 2 - size / 2)).toBeLessThanOrEqual(1)
    // The source-frame mask comes back with the source's aspect.
    expect(result.sourceMask.width / result.sourceMask.height).toBeCloseTo(source.width / source.height, 2)
    // Product pixels land where the placement says: the garment's navy low on its body, the scene outside.
    const px = (x: number, y: number): number[] => [...result.pixels!.data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)]
    const body = px(Math.round(placement.x + width / 2), Math.round(placement.y + height * 0.85))
    expect(body[2]).toBeGreaterThan(body[0] + 40)
    expect(px(10, 10)[0]).toBeGreaterThan(200)
  })

  it('fits a product wider than the canvas allows, instead of cropping it', async () => {
    const result = await backend.render(request({ output: { width: 400, height: 800 } }), recorder())
    const width = result.placement.crop.width * result.placement.scale
    expect(width).toBeLessThanOrEqual(400 * 0.92 + 1)
    expect(result.placement.x).toBeGreaterThanOrEqual(0)
    expect(result.fidelity!.maskCoverage).toBeGreaterThan(0.99)
  })

  it('reports monotonic progress that ends at 100', async () => {
    const controls = recorder()
    await backend.render(request(), controls)
    const percents = controls.steps.map(([p]) => p)
    expect(percents.length).toBeGreaterThanOrEqual(5)
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThan(percents[i - 1])
    expect(percents.at(-1)).toBe(100)
    expect(controls.steps.every(([, message]) => message.length > 0)).toBe(true)
  })

  it('stops between stages when the render is aborted', async () => {
    const abort = new AbortController()
    const steps: number[] = []
    const controls: RenderControls = {
      signal: abort.signal,
      onProgress: (percent) => {
        steps.push(percent)
        if (steps.length === 2) abort.abort()
      },
    }
    await expect(backend.render(request(), controls)).rejects.toMatchObject({ name: 'AbortError' })
    expect(steps).toHaveLength(2)
  })

  it('does not start when already aborted', async () => {
    const abort = new AbortController()
    abort.abort()
    const controls = recorder(abort.signal)
    await expect(backend.render(request(), controls)).rejects.toMatchObject({ name: 'AbortError' })
    expect(controls.steps).toHaveLength(0)
  })

  it('refuses a persona with BACKEND_NEEDS_GPU and says what to do', async () => {
    await expect(backend.render(request({ persona }), recorder())).rejects.toMatchObject({
      code: 'BACKEND_NEEDS_GPU',
      message:
        "Choosing a model needs a GPU backend (ComfyUI, SD WebUI or WeShop). Connect one in Settings, or pick 'No model' to place the product in a scene.",
    })
  })

  it.each(['model_swap', 'mannequin_to_model', 'tryon'] as Operation[])(
    'refuses %s with BACKEND_NEEDS_GPU',
    async (operation) => {
      await expect(backend.render(request({ operation }), recorder())).rejects.toMatchObject({ code: 'BACKEND_NEEDS_GPU' })
    },
  )

  it('declares what it can do', () => {
    expect(backend.id).toBe('cpu-studio')
    expect(backend.capabilities()).toMatchObject({
      type: 'cpu-studio',
      operations: ['product_scene', 'scene_swap'],
      personas: false,
    })
  })

  it('refuses a busy background, and renders it when the merchant draws a mask', async () => {
    const shot = productShot({ width: 700, height: 700, backdrop: 'busy' })
    const busy = await normaliseImage(await encodeShot(shot, 'jpeg'))
    await expect(backend.render(request({ source: busy }), recorder())).rejects.toMatchObject({ code: 'BACKEND_BUSY_BACKGROUND' })
    const mask = await sharp(Buffer.from(shot.truth), { raw: { width: 700, height: 700, channels: 1 } })
      .png()
      .toBuffer()
    const result = await backend.render(request({ source: busy, mask }), recorder())
    expect(result.meta?.maskOrigin).toBe('merchant')
  })

  it('keeps the product colour within ΔE 2 even under a strong coloured light', async () => {
    const orange = sceneWith({
      ...STUDIO,
      background: { kind: 'solid', color: [240, 240, 240] },
      lightMatch: 0.3,
      lightColor: [255, 150, 60],
    })
    const result = await backend.render(request({ scene: orange }), recorder())
    expect(Number(result.meta?.lightMatchDeltaE)).toBeLessThanOrEqual(2)
    expect(Number(result.meta?.lightMatchDeltaE)).toBeGreaterThan(0.5)
    expect(result.fidelity!.deltaEMean).toBeLessThan(2)
  })
})

describe('cpu-studio variants', () => {
  /** Mean absolute difference per channel value between two renders of the same size. */
  function meanDifference(a: Uint8Array, b: Uint8Array): number {
    let sum = 0
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i])
    return sum / a.length
  }

  it('makes 4 variants of one look that differ visibly, each faithful to the product', async () => {
    let next = 0
    // A fixed draw: the four seeds land in slots 5 to 8 (three framing sizes, light from both sides).
    const seeds = variantSeeds(4, (n) => [5, 31_337, 27_182, 16_180, 11_235][next++] % n)
    const renders = await Promise.all(
      seeds.map((seed) => backend.render(request({ seed, variation: variationOf(seed) }), recorder())),
    )
    const again = await backend.render(request({ seed: seeds[0], variation: variationOf(seeds[0]) }), recorder())
    expect(meanDifference(again.pixels!.data, renders[0].pixels!.data)).toBe(0)

    const boxes = renders.map(({ placement: p }) => ({
      left: p.x,
      top: p.y,
      width: Math.round(p.crop.width * p.scale),
      height: Math.round(p.crop.height * p.scale),
    }))
    for (let i = 0; i < renders.length; i++) {
      expect(renders[i].fidelity!.score).toBeGreaterThanOrEqual(90)
      // why not the asked position: a product as wide as the frame allows has no room to move, and says so.
      expect(renders[i].variation).toMatchObject({
        light: variationOf(seeds[i]).light,
        framing: { size: variationOf(seeds[i]).framing.size },
      })
      for (let j = i + 1; j < renders.length; j++) {
        const moved = Math.max(...(['left', 'top', 'width', 'height'] as const).map((k) => Math.abs(boxes[i][k] - boxes[j][k])))
        // The product's box moves by at least 5 % of the frame's width, or the light comes from the other side.
        expect(moved >= 30 || renders[i].variation!.light !== renders[j].variation!.light, `${i} and ${j}`).toBe(true)
        expect(meanDifference(renders[i].pixels!.data, renders[j].pixels!.data), `${i} and ${j}`).toBeGreaterThan(4)
      }
    }
  })

  it('renders the look as its scene defines it when no variation is asked for', async () => {
    const plain = await backend.render(request(), recorder())
    const neutral = await backend.render(request({ variation: variationAt(0) }), recorder())
    expect(meanDifference(plain.pixels!.data, neutral.pixels!.data)).toBe(0)
    expect(plain.variation).toBeUndefined()
    expect(neutral.variation).toEqual({ light: 'front', framing: { position: 'centre', size: 'standard' } })
  })

  it('leans the shadow away from the key light and lights the backdrop from its side', async () => {
    const frame = { width: 600, height: 800 }
    const lit = (light: 'left' | 'right') =>
      backend.render(
        request({ variation: { light, framing: { position: 'centre', size: 'standard' } }, output: frame }),
        recorder(),
      )
    const [fromLeft, fromRight] = await Promise.all([lit('left'), lit('right')])
    expect(fromLeft.placement).toEqual(fromRight.placement)
    const luma = (r: Awaited<ReturnType<typeof lit>>, x: number, y: number) => {
      const o = (y * frame.width + x) * 3
      return 0.2126 * r.pixels!.data[o] + 0.7152 * r.pixels!.data[o + 1] + 0.0722 * r.pixels!.data[o + 2]
    }
    // The backdrop's top corners: brighter on the light's side.
    expect(luma(fromLeft, 5, 5) - luma(fromLeft, frame.width - 6, 5)).toBeGreaterThan(15)
    expect(luma(fromRight, frame.width - 6, 5) - luma(fromRight, 5, 5)).toBeGreaterThan(15)
    // Beside the product's foot, on the floor: the shadow falls on the side away from the light.
    const { x, y } = fromLeft.placement
    const width = Math.round(fromLeft.placement.crop.width * fromLeft.placement.scale)
    const height = Math.round(fromLeft.placement.crop.height * fromLeft.placement.scale)
    const row = y + height - Math.round(height * 0.03)
    const right = Math.min(frame.width - 1, x + width + 12)
    const left = Math.max(0, x - 12)
    expect(luma(fromLeft, right, row) / luma(fromLeft, left, row)).toBeLessThan(
      luma(fromRight, right, row) / luma(fromRight, left, row),
    )
  })
})

describe('cpu-studio scenes', () => {
  const generators = ['street', 'beach', 'cafe', 'loft', 'magazine'] as const
  const palettes: Record<(typeof generators)[number], Array<[number, number, number]>> = {
    street: [
      [182, 184, 188],
      [124, 128, 134],
      [214, 206, 192],
      [72, 76, 84],
    ],
    beach: [
      [142, 196, 232],
      [232, 216, 182],
      [250, 248, 240],
      [70, 150, 190],
    ],
    cafe: [
      [122, 86, 62],
      [198, 162, 122],
      [236, 222, 200],
      [62, 46, 38],
    ],
    loft: [
      [152, 92, 72],
      [202, 200, 196],
      [92, 94, 98],
      [236, 234, 228],
    ],
    magazine: [
      [226, 62, 62],
      [250, 246, 240],
      [22, 22, 26],
    ],
  }

  async function backdrop(generator: (typeof generators)[number], seed: number): Promise<Uint8Array> {
    const scene = sceneWith({ ...STUDIO, background: { kind: 'procedural', generator, palette: palettes[generator] } }, generator)
    const result = await backend.render(request({ scene, seed, output: { width: 300, height: 400 } }), recorder())
    return result.pixels!.data
  }

  it.each(generators)('%s is deterministic by seed and not a flat fill', async (generator) => {
    const a = await backdrop(generator, 1)
    expect(Buffer.from(await backdrop(generator, 1)).equals(Buffer.from(a))).toBe(true)
    // A painted scene, not a colour: the top-left corner and the middle of the top edge differ.
    const corner = [a[0], a[1], a[2]]
    const top = [...a.subarray(150 * 3, 150 * 3 + 3)] as [number, number, number]
    const spread = new Set(Array.from({ length: 50 }, (_, i) => a[(i * 2400 + 7) * 3])).size
    expect(spread).toBeGreaterThan(5)
    expect(deltaE2000Rgb(corner as [number, number, number], top) + spread).toBeGreaterThan(5)
  })

  it('varies with the seed and between generators', async () => {
    expect(Buffer.from(await backdrop('street', 1)).equals(Buffer.from(await backdrop('street', 2)))).toBe(false)
    expect(Buffer.from(await backdrop('cafe', 1)).equals(Buffer.from(await backdrop('loft', 1)))).toBe(false)
  })

  it('paints a solid background exactly', async () => {
    const scene = sceneWith({
      ...STUDIO,
      background: { kind: 'solid', color: [12, 200, 99] },
      shadow: { opacity: 0, blur: 0, offsetY: 0 },
    })
    const result = await backend.render(request({ scene }), recorder())
    expect([...result.pixels!.data.subarray(0, 3)]).toEqual([12, 200, 99])
  })
})
