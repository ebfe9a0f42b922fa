// Textured sources and CPU studio renders for the realistic golden set.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { createCpuStudioBackend, DEFAULT_STUDIO } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import type { Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { paintBackground } from '#app/modules/imaging/backgrounds.ts'
import { findProductMask } from '#app/modules/imaging/mask.server.ts'
import { normaliseImage } from '#app/modules/imaging/normalise.server.ts'
import { REPO_ROOT } from '#test/golden/golden-set.ts'
import { quietControls } from '#test/support/render-controls.ts'
import { sceneById, sceneRequest } from '#test/support/scene-request.ts'
import { decodeRgb, encodeJpeg, seedOf, type Rgb8 } from '../golden/pixels.ts'
import type { RealisticProduct } from './products.ts'
import { fabricWeight, maskDepth, textured } from './texture.ts'

/** Longest source edge stored: keeps the set small while the weave still has 2–4 px periods. */
export const SOURCE_EDGE = 1000
const SOURCE_JPEG = { quality: 92 } as const
const GATE = { maxBytes: 64 * 1024 * 1024, maxPixels: 40_000_000 }

export interface Prepared {
  /** The catalog photo at SOURCE_EDGE, before any fabric. */
  plain: SourceImage
  /** The merchant brush mask passed with every render of this product, if it needs one. */
  brush?: Buffer
  /** Distance inside the product, source px. */
  depth: Float32Array
}

/**
 * Pixels this close to the outline keep the first texture's values in a
 * re-synthesis. why 24: a JPEG block at the edge (16 px with 4:2:0 chroma)
 * then encodes the same, so the backend's cut-out and placement are too.
 */
const RESYNTH_KEEP = 24

export async function prepareProduct(product: RealisticProduct): Promise<Prepared> {
  const bytes = await sharp(await readFile(path.join(REPO_ROOT, product.file)))
    .resize(SOURCE_EDGE, SOURCE_EDGE, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' })
    .removeAlpha()
    .png()
    .toBuffer()
  const plain = await normaliseImage(bytes, GATE)
  const brush = product.brushMask ? await brushMask(plain) : undefined
  const found = await findProductMask(plain, brush)
  return { plain, brush, depth: maskDepth(found.mask, plain.width, plain.height) }
}

/**
 * The product's source photo with fabric, as the JPEG stored and the
 * SourceImage the backend reads from it. With `keep` (the first texture),
 * only the grain well inside the outline is new.
 */
export async function texturedSource(
  product: RealisticProduct,
  prepared: Prepared,
  grainSeed: number,
  keep?: RawImage,
): Promise<{ file: Buffer; pixels: RawImage; source: SourceImage }> {
  const pixels = textured(prepared.plain.pixels, fabricWeight(prepared.depth), product.fabric, {
    folds: seedOf(product.id),
    grain: grainSeed,
  })
  if (keep) {
    const n = pixels.channels
    prepared.depth.forEach((d, i) => {
      if (d < RESYNTH_KEEP) pixels.data.set(keep.data.subarray(i * n, i * n + n), i * n)
    })
  }
  const file = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } })
    .jpeg(SOURCE_JPEG)
    .toBuffer()
  return { file, pixels, source: await normaliseImage(file, GATE) }
}

/**
 * A merchant's careful brush: every pixel with the dress's own tint, soft
 * by how much of it shows. why by chroma, not by distance from white (the
 * basic set's brush): the flat-lay's grey drop shadow stays backdrop, so
 * the dress carries no light band onto a street or café scene.
 */
async function brushMask(source: SourceImage): Promise<Buffer> {
  const { data, width, height, channels } = source.pixels
  const mask = new Uint8Array(width * height)
  for (let i = 0, o = 0; i < mask.length; i++, o += channels) {
    const chroma = Math.max(data[o], data[o + 1], data[o + 2]) - Math.min(data[o], data[o + 1], data[o + 2])
    mask[i] = Math.max(0, Math.min(255, Math.round(((chroma - 4) / 12) * 255)))
  }
  return sharp(mask, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer()
}

export interface Rendered {
  scene: string
  mask: RawImage
  placement: Placement
  /** The protected output, decoded from its own final JPEG. */
  clean: Rgb8
  cleanFile: Buffer
}

export async function renderOn(
  product: RealisticProduct,
  source: SourceImage,
  brush: Buffer | undefined,
  sceneId: string,
): Promise<Rendered> {
  const result = await createCpuStudioBackend().render(
    sceneRequest({ renderId: `realistic-${product.id}-${sceneId}`, source, sceneId, output: product.output, mask: brush }),
    quietControls(),
  )
  const cleanFile = await encodeJpeg(await decodeRgb(result.image!))
  return { scene: sceneId, mask: result.sourceMask, placement: result.placement, clean: await decodeRgb(cleanFile), cleanFile }
}

/** The scene alone, painted as the CPU studio paints it: what a generator shows where the product no longer is. */
export function scenePlate(sceneId: string, frame: { width: number; height: number }): Rgb8 {
  const data = new Uint8Array(frame.width * frame.height * 3)
  const studio = sceneById(sceneId).backends['cpu-studio'] ?? DEFAULT_STUDIO
  paintBackground(data, frame.width, frame.height, studio.background, 7)
  return { data, width: frame.width, height: frame.height }
}
