import sharp from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import { deltaE2000 } from '#app/modules/imaging/colour.ts'
import type { RawImage } from '#app/modules/imaging/types.ts'

// A render made into a Taobao main image (主图): square with the product kept
// whole, a JPEG of at most 3 MB, and measured after encoding so what the
// seller's shoppers see is what was approved.

/** Taobao's limit for an image-space picture. */
export const MAX_MAIN_IMAGE_BYTES = 3 * 1024 * 1024
/** Mean ΔE2000 the product region of the published JPEG may differ from the render by. */
export const MAX_PUBLISHED_DELTA_E = 1
/** Quality steps tried in order; the last is the floor. */
const QUALITIES = [92, 88, 84, 80, 76, 72, 68] as const
/** Below this side Taobao no longer offers zoom on a main image, so we never shrink under it. */
const MIN_SIDE = 800
/** Side of the blocks colour is compared over, as the fidelity check does (imaging/fidelity/colour-blocks.ts). */
const BLOCK = 4

/** A rectangle in pixels: [x0, x1) × [y0, y1). */
export interface PixelRect {
  x0: number
  y0: number
  x1: number
  y1: number
}

/** The product's box as fractions of the image. */
export interface ProductBox {
  x: number
  y: number
  width: number
  height: number
}

/**
 * How a W×H render becomes square: as it is, cropped to a window at
 * (left, top), or padded with the render placed at (left, top).
 */
export interface SquareGeometry {
  kind: 'as-is' | 'crop' | 'pad'
  side: number
  left: number
  top: number
}

export interface MainImage {
  bytes: Buffer
  side: number
  /** null when the render's own bytes are published. */
  quality: number | null
  fit: SquareGeometry['kind']
  /** Mean ΔE2000 of the product region, published vs render. */
  deltaE: number
  /** The product region in the published image. */
  region: PixelRect
}

/** The product box in pixels of a W×H image, or null when there is none. */
export function boxPixels(box: ProductBox | undefined, width: number, height: number): PixelRect | null {
  if (!box) return null
  const values = [box.x, box.y, box.width, box.height]
  if (values.some((v) => !Number.isFinite(v)) || box.width <= 0 || box.height <= 0) {
    throw new AppError('INVALID_INPUT', 'The product box must have a positive width and height', { details: { box } })
  }
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v))
  const rect = {
    x0: clamp(Math.floor(box.x * width), width),
    y0: clamp(Math.floor(box.y * height), height),
    x1: clamp(Math.ceil((box.x + box.width) * width), width),
    y1: clamp(Math.ceil((box.y + box.height) * height), height),
  }
  if (rect.x1 <= rect.x0 || rect.y1 <= rect.y0) {
    throw new AppError('INVALID_INPUT', 'The product box lies outside the image', { details: { box } })
  }
  return rect
}

/**
 * The largest square window that holds the whole product box, centred on it
 * as far as the frame allows; padding to a square when no window holds it or
 * there is no box (pad never cuts anything off).
 */
export function squareGeometry(width: number, height: number, box: PixelRect | null): SquareGeometry {
  if (width === height) return { kind: 'as-is', side: width, left: 0, top: 0 }
  const side = Math.min(width, height)
  if (box && box.x1 - box.x0 <= side && box.y1 - box.y0 <= side) {
    const slide = (lo: number, hi: number, length: number) => {
      const centred = Math.round((lo + hi) / 2 - side / 2)
      // Holds the box ([hi - side, lo]) and stays in the frame ([0, length - side]).
      return Math.min(Math.max(centred, hi - side, 0), lo, length - side)
    }
    return width > height
      ? { kind: 'crop', side, left: slide(box.x0, box.x1, width), top: 0 }
      : { kind: 'crop', side, left: 0, top: slide(box.y0, box.y1, height) }
  }
  const big = Math.max(width, height)
  return { kind: 'pad', side: big, left: Math.floor((big - width) / 2), top: Math.floor((big - height) / 2) }
}

function linear(v: number): number {
  const c = v / 255
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116
}

/** CIELAB (D65) of a fractional sRGB colour (a block mean), into out[o..o+2]. */
function labOf(r: number, g: number, b: number, out: Float64Array, o: number): void {
  const rl = linear(r)
  const gl = linear(g)
  const bl = linear(b)
  const fx = labF((0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl) / 0.95047)
  const fy = labF(0.2126729 * rl + 0.7151522 * gl + 0.072175 * bl)
  const fz = labF((0.0193339 * rl + 0.119192 * gl + 0.9503041 * bl) / 1.08883)
  out[o] = 116 * fy - 16
  out[o + 1] = 500 * (fx - fy)
  out[o + 2] = 200 * (fy - fz)
}

/**
 * Mean ΔE2000 between two same-sized RGB images over `region`, compared as
 * BLOCK² block means. why blocks: grain an encoder smooths away is not a colour change;
 * a shifted print colour or a blocky region still is.
 */
export function regionDeltaE(reference: RawImage, published: RawImage, region: PixelRect): number {
  if (reference.width !== published.width || reference.height !== published.height) {
    throw new Error(`regionDeltaE: ${reference.width}×${reference.height} vs ${published.width}×${published.height}`)
  }
  if (reference.channels !== 3 || published.channels !== 3) throw new Error('regionDeltaE: RGB images only')
  const { width } = reference
  const lab = new Float64Array(6)
  let sum = 0
  let blocks = 0
  // why partial blocks at the far edges: a box narrower than a block is still measured.
  for (let y = region.y0; y < region.y1; y += BLOCK) {
    const h = Math.min(BLOCK, region.y1 - y)
    for (let x = region.x0; x < region.x1; x += BLOCK) {
      const w = Math.min(BLOCK, region.x1 - x)
      let r1 = 0
      let g1 = 0
      let b1 = 0
      let r2 = 0
      let g2 = 0
      let b2 = 0
      for (let dy = 0; dy < h; dy++) {
        let i = 3 * ((y + dy) * width + x)
        for (let dx = 0; dx < w; dx++, i += 3) {
          r1 += reference.data[i]
          g1 += reference.data[i + 1]
          b1 += reference.data[i + 2]
          r2 += published.data[i]
          g2 += published.data[i + 1]
          b2 += published.data[i + 2]
        }
      }
      const m = w * h
      labOf(r1 / m, g1 / m, b1 / m, lab, 0)
      labOf(r2 / m, g2 / m, b2 / m, lab, 3)
      sum += deltaE2000(lab[0], lab[1], lab[2], lab[3], lab[4], lab[5])
      blocks++
    }
  }
  return blocks ? sum / blocks : 0
}

async function decode(bytes: Buffer): Promise<RawImage> {
  try {
    const { data, info } = await sharp(bytes)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, channels: 3 }
  } catch (e) {
    throw new AppError('IMAGE_CORRUPT', 'The render could not be read to make a Taobao main image', { cause: e })
  }
}

async function squared(render: RawImage, g: SquareGeometry): Promise<RawImage> {
  if (g.kind === 'as-is') return render
  const raw = { raw: { width: render.width, height: render.height, channels: 3 as const } }
  const img =
    g.kind === 'crop'
      ? sharp(render.data, raw).extract({ left: g.left, top: g.top, width: g.side, height: g.side })
      : sharp(render.data, raw).extend({
          left: g.left,
          top: g.top,
          right: g.side - render.width - g.left,
          bottom: g.side - render.height - g.top,
          // why copy: the edge colours carried outwards read as more backdrop; black or white bars read as a frame.
          extendWith: 'copy',
        })
  return { data: await img.raw().toBuffer(), width: g.side, height: g.side, channels: 3 }
}

async function resized(px: RawImage, side: number): Promise<RawImage> {
  const data = await sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
    .resize(side, side, { kernel: 'lanczos3' })
    .raw()
    .toBuffer()
  return { data, width: side, height: side, channels: 3 }
}

function encode(px: RawImage, quality: number): Promise<Buffer> {
  return sharp(px.data, { raw: { width: px.width, height: px.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:4:4', optimiseCoding: true })
    .toBuffer()
}

/** The highest quality step that fits, shrinking the square (never under MIN_SIDE) when even the floor does not. */
async function fit(canvas: RawImage, limit: number): Promise<{ bytes: Buffer; quality: number; reference: RawImage }> {
  let reference = canvas
  for (;;) {
    let bytes: Buffer | null = null
    for (const quality of QUALITIES) {
      bytes = await encode(reference, quality)
      if (bytes.length <= limit) return { bytes, quality, reference }
    }
    const side = Math.floor(reference.width * Math.sqrt(limit / bytes!.length) * 0.9)
    if (side < MIN_SIDE || side >= reference.width) {
      throw new AppError('IMAGE_TOO_LARGE', `This render does not fit Taobao's ${limit} bytes even at ${MIN_SIDE} px`, {
        details: { limit: '3 MB', bytes: bytes!.length, side: reference.width },
      })
    }
    reference = await resized(canvas, side)
  }
}

const scaled = (r: PixelRect, k: number): PixelRect => ({
  x0: Math.floor(r.x0 * k),
  y0: Math.floor(r.y0 * k),
  x1: Math.max(Math.floor(r.x0 * k) + 1, Math.ceil(r.x1 * k)),
  y1: Math.max(Math.floor(r.y0 * k) + 1, Math.ceil(r.y1 * k)),
})

/**
 * The render as a Taobao main image: squared (crop or pad, the product box
 * whole), encoded to fit `limit`, then checked. The check runs on the
 * published bytes decoded, against the render's pixels in the same place:
 * this is the fidelity guarantee for what Taobao shows, so over
 * MAX_PUBLISHED_DELTA_E the publish is refused rather than sent.
 */
export async function prepareMainImage(
  image: Buffer,
  productBox?: ProductBox,
  opts: { limit?: number; maxDeltaE?: number } = {},
): Promise<MainImage> {
  const limit = opts.limit ?? MAX_MAIN_IMAGE_BYTES
  const maxDeltaE = opts.maxDeltaE ?? MAX_PUBLISHED_DELTA_E
  const meta = await sharp(image)
    .metadata()
    .catch((e: unknown) => {
      throw new AppError('IMAGE_CORRUPT', 'The render could not be read to make a Taobao main image', { cause: e })
    })
  const render = await decode(image)
  const box = boxPixels(productBox, render.width, render.height)
  const g = squareGeometry(render.width, render.height, box)
  const whole = box ?? { x0: 0, y0: 0, x1: render.width, y1: render.height }
  const shift = g.kind === 'crop' ? -1 : 1
  const region = {
    x0: whole.x0 + shift * g.left,
    y0: whole.y0 + shift * g.top,
    x1: whole.x1 + shift * g.left,
    y1: whole.y1 + shift * g.top,
  }
  const upright = (meta.orientation ?? 1) === 1
  if (g.kind === 'as-is' && meta.format === 'jpeg' && upright && image.length <= limit) {
    // The render's own bytes are published: nothing to measure, they decode to the render.
    return { bytes: image, side: g.side, quality: null, fit: g.kind, deltaE: 0, region }
  }
  const canvas = await squared(render, g)
  const { bytes, quality, reference } = await fit(canvas, limit)
  const published = await decode(bytes)
  const at = reference.width === canvas.width ? region : scaled(region, reference.width / canvas.width)
  const deltaE = regionDeltaE(reference, published, at)
  if (!(deltaE <= maxDeltaE)) {
    throw new AppError(
      'TAOBAO_IMAGE_FIDELITY',
      `Fitting the render to Taobao's rules changes the product region by ΔE2000 ${deltaE.toFixed(2)} (at most ${maxDeltaE})`,
      { details: { deltaE, maxDeltaE, quality, side: reference.width, bytes: bytes.length } },
    )
  }
  return { bytes, side: reference.width, quality, fit: g.kind, deltaE, region: at }
}
