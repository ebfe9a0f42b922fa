import sharp, { type Sharp } from 'sharp'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import type { RawImage, RenderResult, SourceImage } from '#app/modules/backends/types.ts'
import { measureFidelity } from '#app/modules/imaging/fidelity.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { marketSchema, sceneSchema } from '#app/modules/looks/schema.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { quietControls } from '#test/support/render-controls.ts'

// A faithful CPU-studio render of a synthetic navy garment with a white chest
// print on a grey studio scene: what the fidelity measures' tests alter.

export const W = 480
export const H = 640

/** A German market, 3:4: the look every fidelity test renders for. */
export const market = marketSchema.parse({
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

export interface FidelityFixture {
  source: SourceImage
  render: RenderResult
  /** The render's pixels, W × H RGB. */
  clean: RawImage
  measure(result: RawImage): ReturnType<typeof measureFidelity>
  fromClean(): Sharp
  /** The product's coverage on the result (0..1 per pixel): the source mask carried through the placement. */
  productAlpha(): Float32Array
  /** Where a point of the source photo (fractions of it) lands on the result. */
  onResult(u: number, v: number): { x: number; y: number }
}

export async function fidelityFixture(): Promise<FidelityFixture> {
  const source = await normaliseImage(await encodeShot(productShot({ width: 800, height: 800, seed: 21, fill: 0.8 }), 'jpeg'))
  const render = await createCpuStudioBackend().render(
    { renderId: 'r', operation: 'product_scene', source, persona: null, market, scene, seed: 5, output: { width: W, height: H } },
    quietControls(),
  )
  const clean = render.pixels!
  return {
    source,
    render,
    clean,
    measure: (result) => measureFidelity({ source, sourceMask: render.sourceMask, result, placement: render.placement }),
    fromClean: () => sharp(clean.data, { raw: { width: W, height: H, channels: 3 } }),
    productAlpha: () => productAlpha(source, render),
    onResult: (u, v) => {
      const p = render.placement
      return {
        x: Math.round(p.x + (u * source.width - p.crop.left) * p.scale),
        y: Math.round(p.y + (v * source.height - p.crop.top) * p.scale),
      }
    },
  }
}

export async function raw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 3 }
}

function productAlpha(source: SourceImage, render: RenderResult): Float32Array {
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
