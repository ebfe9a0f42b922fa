import sharp from 'sharp'
import type { ProductMask } from '#app/modules/imaging/mask.server.ts'
import { placeProduct } from '#app/modules/imaging/compose.ts'
import { dilate } from '#app/modules/imaging/morphology.ts'
import { DEFAULT_STUDIO } from '../cpu-studio/adapter.server.ts'
import { framedMask, framedPixels, planFrame, rawInput, workFrame } from '../frame.server.ts'
import type { Framing } from '#app/modules/looks/variation.ts'
import type { Placement, RawImage, RenderRequest } from '../types.ts'

// Where everything sits on the output frame before SD WebUI sees it, and the
// same frame shrunk to the size the checkpoint works at. Two layouts:
//
// - the photo's own framing (scene_swap, model_swap): the source scaled to
//   fit and centred (../frame.server.ts, planFrame), bands around it
//   copied from its edges and then repainted;
// - the product alone on the scene (product_scene): the cut-out placed like
//   the CPU studio places it (the scene's productScale and floorY, and the
//   variant's framing), on the scene's preview gradient, which the sampler
//   then turns into the set.
//
// Either way the product's place is known exactly (`placement`), so the
// worker can put the merchant's own pixels back.

export interface Layout {
  placement: Placement
  /** The framing as laid out (product in scene only): the photo's own framing has none to vary. */
  framing?: Framing
  /** The output frame as SD WebUI starts from it: RGB. */
  canvas: RawImage
  /** The keep mask on the output frame: one channel, white = product (or garment). */
  keep: RawImage
  /** The frame the checkpoint works in: the output frame shrunk to `workEdge`, sides multiples of 8. */
  work: { width: number; height: number }
}

/** The source's product mask cropped to `crop` (source px) and scaled to width × height. */
async function maskRegion(
  mask: RawImage,
  source: { width: number; height: number },
  crop: Placement['crop'],
  width: number,
  height: number,
): Promise<RawImage> {
  const mx = mask.width / source.width
  const my = mask.height / source.height
  const left = Math.min(mask.width - 1, Math.max(0, Math.floor(crop.left * mx)))
  const top = Math.min(mask.height - 1, Math.max(0, Math.floor(crop.top * my)))
  const region = {
    left,
    top,
    width: Math.max(1, Math.min(mask.width - left, Math.ceil((crop.left + crop.width) * mx) - left)),
    height: Math.max(1, Math.min(mask.height - top, Math.ceil((crop.top + crop.height) * my) - top)),
  }
  const { data, info } = await sharp(mask.data, rawInput(mask))
    .extract(region)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 1 }
}

/** The photo's own framing: scaled to fit, centred, the bands copied from its edges. */
async function photoLayout(request: RenderRequest, found: ProductMask, workEdge: number): Promise<Layout> {
  const { source, output } = request
  const plan = planFrame(source, output, workEdge)
  // why the scene's colour under transparency: the sampler starts from it where denoise < 1.
  const [r, g, b] = request.scene.preview.from
  const [canvas, keep] = await Promise.all([framedPixels(source.pixels, plan, output, { r, g, b }), framedMask(found.mask, plan, output)])

  return {
    placement: plan.placement,
    canvas,
    keep,
    work: plan.work,
  }
}

/** The product cut out and placed on the scene's preview gradient, where the CPU studio would place it. */
async function productLayout(request: RenderRequest, found: ProductMask, workEdge: number): Promise<Layout> {
  const { source, output, scene } = request
  const placed = placeProduct(found.bbox, output, scene.backends['cpu-studio'] ?? DEFAULT_STUDIO, request.variation?.framing)
  const { crop } = placed.placement
  const width = Math.min(placed.width, output.width)
  const height = Math.min(placed.height, output.height)
  const x0 = Math.max(0, Math.min(output.width - width, placed.placement.x))
  const y0 = Math.max(0, Math.min(output.height - height, placed.placement.y))

  let product = sharp(source.pixels.data, rawInput(source.pixels)).extract(crop)
  if (source.hasAlpha) product = product.flatten({ background: { r: 255, g: 255, b: 255 } })
  const [pixels, alpha] = await Promise.all([
    product.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer({ resolveWithObject: true }),
    maskRegion(found.mask, source, crop, width, height),
  ])

  const canvas = Buffer.alloc(output.width * output.height * 3)
  const keep = Buffer.alloc(output.width * output.height)
  const [fr, fg, fb] = scene.preview.from
  const [tr, tg, tb] = scene.preview.to
  for (let y = 0; y < output.height; y++) {
    const t = output.height > 1 ? y / (output.height - 1) : 0
    const row = [fr + (tr - fr) * t, fg + (tg - fg) * t, fb + (tb - fb) * t]
    const inRows = y >= y0 && y < y0 + height
    for (let x = 0; x < output.width; x++) {
      const o = (y * output.width + x) * 3
      let a = 0
      let p = 0
      if (inRows && x >= x0 && x < x0 + width) {
        p = (y - y0) * width + (x - x0)
        a = alpha.data[p]
      }
      keep[y * output.width + x] = a
      for (let c = 0; c < 3; c++) {
        const under = row[c]
        canvas[o + c] = a === 0 ? under : Math.round(under + ((pixels.data[p * 3 + c] - under) * a) / 255)
      }
    }
  }
  return {
    placement: { ...placed.placement, x: x0, y: y0 },
    framing: placed.framing,
    canvas: { data: canvas, width: output.width, height: output.height, channels: 3 },
    keep: { data: keep, width: output.width, height: output.height, channels: 1 },
    work: workFrame(output, workEdge),
  }
}

export function layOut(request: RenderRequest, found: ProductMask, workEdge: number): Promise<Layout> {
  return request.operation === 'product_scene' ? productLayout(request, found, workEdge) : photoLayout(request, found, workEdge)
}

/**
 * The repaint mask SD WebUI wants (white = repaint) from a keep mask (white =
 * keep), grown `growPx` into the product, as a PNG. why grow: SD WebUI blurs
 * the mask by mask_blur and repaints where the blur stays above half, so the
 * backdrop in narrow gaps (under an arm, at a neckline) and the product's
 * anti-aliased rim would survive as a light halo round the product. Grown by
 * the blur's reach, every backdrop pixel is repainted; the band of product it
 * covers is put back from the merchant's own pixels by the worker.
 */
export async function repaintMaskPng(keep: RawImage, growPx: number): Promise<Buffer> {
  const binary = new Uint8Array(keep.width * keep.height)
  for (let p = 0; p < binary.length; p++) binary[p] = keep.data[p] < 128 ? 1 : 0
  const grown = dilate(binary, keep.width, keep.height, growPx)
  const repaint = Buffer.alloc(grown.length)
  for (let p = 0; p < grown.length; p++) repaint[p] = grown[p] ? 255 : 0
  return sharp(repaint, { raw: { width: keep.width, height: keep.height, channels: 1 } })
    .png({ compressionLevel: 6 })
    .toBuffer()
}

export async function rgbPng(image: RawImage): Promise<Buffer> {
  return sharp(image.data, rawInput(image)).png({ compressionLevel: 6 }).toBuffer()
}
