// Pure pixel work of the CPU studio: where the product goes and how it is
// blended onto the scene. Canvases are interleaved 8-bit RGB.
import type { Placement, RawImage } from '#app/modules/backends/types.ts'
import type { CpuStudioScene } from '#app/modules/looks/schema.ts'
import type { Rgb } from './colour.ts'
import type { LightMatch } from './light.ts'
import type { Box } from './mask.server.ts'

/** Enlarging a photo beyond this shows its pixels; better a smaller product than a soft one. */
export const MAX_UPSCALE = 1.5
/** A scale within this of 1 becomes exactly 1: the product's own pixels, not resampled ones. */
export const SNAP_TO_NATIVE = 0.04
/** Share of the canvas width kept clear on each side. */
export const SIDE_MARGIN = 0.04

export interface PlacedProduct {
  placement: Placement
  /** Size of the product crop on the canvas. */
  width: number
  height: number
}

/**
 * The product's height becomes `productScale` of the canvas with its bottom
 * on `floorY`, unless that would make it wider than the canvas, push its top
 * out of frame, or enlarge the photo more than MAX_UPSCALE. Within
 * SNAP_TO_NATIVE of 1:1 it is placed at exactly 1:1.
 */
export function placeProduct(
  crop: Box,
  canvas: { width: number; height: number },
  scene: Pick<CpuStudioScene, 'productScale' | 'floorY'>,
): PlacedProduct {
  const floor = scene.floorY * canvas.height
  const wanted = (scene.productScale * canvas.height) / crop.height
  const fitsWidth = (canvas.width * (1 - 2 * SIDE_MARGIN)) / crop.width
  const fitsHeight = (floor * 0.98) / crop.height
  let scale = Math.min(wanted, fitsWidth, fitsHeight, MAX_UPSCALE)
  // why snap: at exactly 1:1 every product pixel is copied untouched, with
  // no resampling blur; a size a few percent off the look's is invisible.
  if (Math.abs(scale - 1) <= SNAP_TO_NATIVE && Math.min(fitsWidth, fitsHeight) >= 1) scale = 1
  const height = Math.max(1, Math.round(crop.height * scale))
  const width = Math.max(1, Math.round(crop.width * scale))
  return {
    placement: { crop, scale: height / crop.height, x: Math.round((canvas.width - width) / 2), y: Math.round(floor - height) },
    width,
    height,
  }
}

// ---------------------------------------------------------------- composite

/** RGB distance from the backdrop that is still noise (JPEG, sensor), not product. */
export const MATTE_NOISE = 6

/**
 * Difference matting for cut-outs from a uniform backdrop B. An edge pixel is
 * a mix c = s·F + (1 − s)·B of the product colour F and B; with the share s
 * estimated from how far c is from B (relative to how far the product's own
 * colour is), F = B + (c − B) / s. The composite then blends F with alpha s.
 * why: the mask knows where the edge is to a work pixel; the colours know
 * it to a fraction of a source pixel, and un-mixing removes the light halo a
 * white backdrop otherwise leaves around the product.
 */
export interface EdgeMatte {
  backdrop: Rgb
  /** RGB distance of the product's typical colour from the backdrop: a share of 1. */
  reach: number
}

export function edgeMatte(backdrop: Rgb, productMean: Rgb): EdgeMatte {
  const reach = Math.hypot(productMean[0] - backdrop[0], productMean[1] - backdrop[1], productMean[2] - backdrop[2])
  // why the floor: a product close to its backdrop's colour would otherwise turn noise into product.
  return { backdrop, reach: Math.max(MATTE_NOISE + 24, reach) }
}

/** A fractional rectangle of an image to be stretched over the product's place on the canvas. */
export interface Sampled {
  image: RawImage
  region: Box
}

/** Per output column: left source column (in channels) and the right one's weight, 0..256. */
function columnTaps(region: Box, outWidth: number, imageWidth: number, channels: number): { x0: Int32Array; fx: Int32Array } {
  const x0 = new Int32Array(outWidth)
  const fx = new Int32Array(outWidth)
  const scale = region.width / outWidth
  const last = Math.max(0, imageWidth - 2)
  for (let i = 0; i < outWidth; i++) {
    const s = Math.min(imageWidth - 1, Math.max(0, region.left + (i + 0.5) * scale - 0.5))
    const c = Math.min(last, Math.floor(s))
    x0[i] = c * channels
    fx[i] = Math.round((s - c) * 256)
  }
  return { x0, fx }
}

/** Source row pair and weight for output row j. */
function rowTap(region: Box, j: number, outHeight: number, imageHeight: number): { y0: number; y1: number; fy: number } {
  const s = Math.min(imageHeight - 1, Math.max(0, region.top + (j + 0.5) * (region.height / outHeight) - 0.5))
  const y0 = Math.floor(s)
  return { y0, y1: Math.min(imageHeight - 1, y0 + 1), fy: Math.round((s - y0) * 256) }
}

/**
 * Blends the product onto the canvas over `at` (canvas px), sampling the
 * product and its mask bilinearly over their regions, through the light
 * match tables. Any product alpha is ignored: the mask decides.
 * why by runs: each output row is walked in runs of solid (or empty) mask,
 * found on the mask's own columns; only the feathered edge is blended pixel
 * by pixel, and at 1:1 a solid run is a single memory copy.
 */
export function compositeProduct(
  canvas: Uint8Array,
  canvasWidth: number,
  canvasHeight: number,
  at: Box,
  product: Sampled,
  mask: Sampled,
  tables: LightMatch['tables'],
  matte?: EdgeMatte,
): void {
  const { image: mImage } = mask
  const { x0, fx } = columnTaps(mask.region, at.width, mImage.width, 1)
  const firstOut = firstColumnAtOrAfter(x0, mImage.width)
  const mRow = new Uint16Array(mImage.width)
  const extent = rowExtents(mImage)
  const mData = mImage.data
  const writer = productWriter(canvas, product, at, tables, matte)
  const i0 = Math.max(0, -at.left)
  const i1 = Math.min(at.width, canvasWidth - at.left)
  for (let j = 0; j < at.height; j++) {
    const cy = at.top + j
    if (cy < 0 || cy >= canvasHeight) continue
    const mt = rowTap(mask.region, j, at.height, mImage.height)
    const first = Math.min(extent.first[mt.y0], extent.first[mt.y1])
    const last = Math.max(extent.last[mt.y0], extent.last[mt.y1])
    if (last < first) continue
    // Mix the two mask rows over the columns in use.
    const mFrom = Math.max(0, first - 1)
    const mTo = Math.min(mImage.width, last + 2)
    const mA = mt.y0 * mImage.width
    const mB = mt.y1 * mImage.width
    for (let c = mFrom; c < mTo; c++) mRow[c] = mData[mA + c] * (256 - mt.fy) + mData[mB + c] * mt.fy
    const { iFrom, iTo } = columnsWithin(x0, mFrom, mTo - 1, i0, i1)
    if (iFrom >= iTo) continue
    const rowOffset = (cy * canvasWidth + at.left) * 3
    writer.begin(j, iFrom, iTo)
    let i = iFrom
    while (i < iTo) {
      const mx = x0[i]
      const a = mRow[mx]
      const b = mRow[mx + 1]
      if (a === b && (a === 0 || a === SOLID)) {
        // Extend over mask columns: every output column whose two taps lie in [mx, c] has this value.
        let c = mx + 1
        while (c + 1 < mTo && mRow[c + 1] === a) c++
        const end = Math.max(i + 1, Math.min(iTo, firstOut[c]))
        if (a === SOLID) writer.solid(i, end, rowOffset)
        i = end
        continue
      }
      const alpha = (a * (256 - fx[i]) + b * fx[i]) >> 16
      if (alpha !== 0) writer.edge(i, alpha, rowOffset)
      i++
    }
  }
}

const SOLID = 255 * 256

/** firstOut[c] = the first output column whose left tap is at or after mask column c. */
function firstColumnAtOrAfter(x0: Int32Array, maskWidth: number): Int32Array {
  const firstOut = new Int32Array(maskWidth + 1).fill(x0.length)
  for (let i = x0.length - 1; i >= 0; i--) firstOut[x0[i]] = i
  for (let c = maskWidth - 1; c >= 0; c--) firstOut[c] = Math.min(firstOut[c], firstOut[c + 1])
  return firstOut
}

/** Writes product pixels into one canvas row at a time. */
interface RowWriter {
  /** Readies output row j for columns [from, to). */
  begin(j: number, from: number, to: number): void
  /** Columns [from, to) are solid product. */
  solid(from: number, to: number, rowOffset: number): void
  /** Column i is product under mask alpha 1..254. */
  edge(i: number, alpha: number, rowOffset: number): void
}

function isIdentity(tables: LightMatch['tables']): boolean {
  return tables.every((t) => t.every((v, i) => v === i))
}

/**
 * Two shapes of product: already at canvas size (1:1, or a shrink done by
 * libvips) is copied; an enlargement is sampled bilinearly here, each output
 * row first mixing its two source rows.
 */
function productWriter(
  canvas: Uint8Array,
  product: Sampled,
  at: Box,
  tables: LightMatch['tables'],
  matte?: EdgeMatte,
): RowWriter {
  const { image, region } = product
  const ch = image.channels
  const data = image.data
  const [tr, tg, tb] = tables
  const copyRuns = isIdentity(tables) && ch === 3
  const put = pixelPutter(canvas, tables, matte)
  const aligned =
    region.width === at.width && region.height === at.height && Number.isInteger(region.left) && Number.isInteger(region.top)
  if (aligned) {
    let src = 0
    return {
      begin: (j) => {
        src = ((region.top + j) * image.width + region.left) * ch
      },
      solid: (from, to, rowOffset) => {
        if (copyRuns) {
          canvas.set(data.subarray(src + from * 3, src + to * 3), rowOffset + from * 3)
          return
        }
        for (let i = from, p = src + from * ch, o = rowOffset + from * 3; i < to; i++, p += ch, o += 3) {
          canvas[o] = tr[data[p]]
          canvas[o + 1] = tg[data[p + 1]]
          canvas[o + 2] = tb[data[p + 2]]
        }
      },
      edge: (i, alpha, rowOffset) => {
        const p = src + i * ch
        put(rowOffset + i * 3, data[p], data[p + 1], data[p + 2], alpha)
      },
    }
  }
  const taps = columnTaps(region, at.width, image.width, ch)
  const row = new Uint16Array(image.width * ch)
  return {
    begin: (j, from, to) => {
      const t = rowTap(region, j, at.height, image.height)
      const a0 = t.y0 * image.width * ch
      const b0 = t.y1 * image.width * ch
      const end = Math.min(row.length, taps.x0[to - 1] + 2 * ch)
      for (let c = taps.x0[from]; c < end; c++) row[c] = data[a0 + c] * (256 - t.fy) + data[b0 + c] * t.fy
    },
    solid: (from, to, rowOffset) => {
      for (let i = from, o = rowOffset + from * 3; i < to; i++, o += 3) {
        const px = taps.x0[i]
        const f = taps.fx[i]
        const g = 256 - f
        canvas[o] = tr[(row[px] * g + row[px + ch] * f) >> 16]
        canvas[o + 1] = tg[(row[px + 1] * g + row[px + 1 + ch] * f) >> 16]
        canvas[o + 2] = tb[(row[px + 2] * g + row[px + 2 + ch] * f) >> 16]
      }
    },
    edge: (i, alpha, rowOffset) => {
      const px = taps.x0[i]
      const f = taps.fx[i]
      const g = 256 - f
      put(
        rowOffset + i * 3,
        (row[px] * g + row[px + ch] * f) >> 16,
        (row[px + 1] * g + row[px + 1 + ch] * f) >> 16,
        (row[px + 2] * g + row[px + 2 + ch] * f) >> 16,
        alpha,
      )
    },
  }
}

/**
 * Writes one product pixel (sRGB, before the light match) at canvas offset o
 * under mask alpha a. Solid pixels are copied; edge pixels are blended, and
 * with a known backdrop first un-mixed from it (see EdgeMatte).
 */
function pixelPutter(
  canvas: Uint8Array,
  tables: LightMatch['tables'],
  matte: EdgeMatte | undefined,
): (o: number, r: number, g: number, b: number, a: number) => void {
  const [tr, tg, tb] = tables
  if (!matte) return (o, r, g, b, a) => blendPixel(canvas, o, tr[r], tg[g], tb[b], a)
  const [br, bg, bb] = matte.backdrop
  const span = matte.reach - MATTE_NOISE
  return (o, r, g, b, a) => {
    if (a >= 255) {
      blendPixel(canvas, o, tr[r], tg[g], tb[b], 255)
      return
    }
    const d = Math.sqrt((r - br) * (r - br) + (g - bg) * (g - bg) + (b - bb) * (b - bb))
    const share = Math.min(1, (d - MATTE_NOISE) / span)
    if (share <= 0.02) return
    blendPixel(canvas, o, tr[unmix(r, br, share)], tg[unmix(g, bg, share)], tb[unmix(b, bb, share)], Math.round(share * 255))
  }
}

/** The product's own value of a channel, given its share s of a pixel mixed with the backdrop. */
function unmix(value: number, backdrop: number, share: number): number {
  return Math.min(255, Math.max(0, Math.round(backdrop + (value - backdrop) / share)))
}

function blendPixel(canvas: Uint8Array, o: number, r: number, g: number, b: number, alpha: number): void {
  if (alpha >= 255) {
    canvas[o] = r
    canvas[o + 1] = g
    canvas[o + 2] = b
    return
  }
  canvas[o] += ((r - canvas[o]) * alpha) / 255
  canvas[o + 1] += ((g - canvas[o + 1]) * alpha) / 255
  canvas[o + 2] += ((b - canvas[o + 2]) * alpha) / 255
}

/**
 * The output columns [iFrom, iTo) within [i0, i1) whose two mask taps both
 * fall in mask columns [from, to] (taps grow with the column). Columns
 * outside read only zeros, and their mixed row was not computed.
 */
function columnsWithin(x0: Int32Array, from: number, to: number, i0: number, i1: number): { iFrom: number; iTo: number } {
  let iFrom = i0
  while (iFrom < i1 && x0[iFrom] < from) iFrom++
  let iTo = i1
  while (iTo > iFrom && x0[iTo - 1] + 1 > to) iTo--
  return { iFrom, iTo }
}

/** First and last non-zero column of each mask row (last < first when the row is empty). */
function rowExtents(mask: RawImage): { first: Int32Array; last: Int32Array } {
  const first = new Int32Array(mask.height).fill(mask.width)
  const last = new Int32Array(mask.height).fill(-1)
  for (let y = 0; y < mask.height; y++) {
    const base = y * mask.width
    let x = 0
    while (x < mask.width && mask.data[base + x] === 0) x++
    if (x === mask.width) continue
    first[y] = x
    let r = mask.width - 1
    while (mask.data[base + r] === 0) r--
    last[y] = r
  }
  return { first, last }
}
