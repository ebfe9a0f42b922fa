// Pure pixel work of the CPU studio: where the product goes and how it is
// blended onto the scene. Canvases are interleaved 8-bit RGB.
import type { Placement, RawImage } from './types.ts'
import type { CpuStudioScene } from '#app/modules/looks/schema.ts'
import { NEUTRAL_VARIATION, type Framing, type Position, type Size } from '#app/modules/looks/variation.ts'
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
  /** The framing as placed: an off-centre one that had no room to move is `centre`. */
  framing: Framing
}

/**
 * Each framing's share of the size the scene gives the product. why never
 * above 1: a product that already fills the frame's width (a tee on a
 * portrait frame) could not grow, and two variants would look the same.
 */
export const FRAMING_SCALE: Record<Size, number> = { standard: 1, wide: 0.85, wider: 0.7 }
/** Where each framing puts the product's centre, as a share of the canvas width. */
export const FRAMING_CENTRE: Record<Position, number> = { centre: 0.5, left: 0.36, right: 0.64 }

/**
 * The product's height becomes `productScale` of the canvas with its bottom
 * on `floorY`, unless that would make it wider than the canvas, push its top
 * out of frame, or enlarge the photo more than MAX_UPSCALE; a variant's
 * framing then takes its FRAMING_SCALE of that and moves it sideways, keeping
 * SIDE_MARGIN clear. Within SNAP_TO_NATIVE of 1:1 it is placed at exactly 1:1.
 */
export function placeProduct(
  crop: Box,
  canvas: { width: number; height: number },
  scene: Pick<CpuStudioScene, 'productScale' | 'floorY'>,
  framing: Framing = NEUTRAL_VARIATION.framing,
): PlacedProduct {
  const floor = scene.floorY * canvas.height
  const wanted = (scene.productScale * canvas.height) / crop.height
  const fitsWidth = (canvas.width * (1 - 2 * SIDE_MARGIN)) / crop.width
  const fitsHeight = (floor * 0.98) / crop.height
  let scale = Math.min(wanted, fitsWidth, fitsHeight, MAX_UPSCALE) * FRAMING_SCALE[framing.size]
  // why snap: at exactly 1:1 every product pixel is copied untouched, with
  // no resampling blur; a size a few percent off the look's is invisible.
  if (Math.abs(scale - 1) <= SNAP_TO_NATIVE && Math.min(fitsWidth, fitsHeight) >= 1) scale = 1
  const height = Math.max(1, Math.round(crop.height * scale))
  const width = Math.max(1, Math.round(crop.width * scale))
  const x = columnFor(framing.position, canvas.width, width)
  const centred = Math.round((canvas.width - width) / 2)
  // why a threshold: a move of a pixel or two is rounding, not a framing anyone sees.
  const moved = Math.abs(x - centred) >= canvas.width * 0.02
  const position: Position = !moved ? 'centre' : x < centred ? 'left' : 'right'
  return {
    placement: { crop, scale: height / crop.height, x, y: Math.round(floor - height) },
    width,
    height,
    framing: { position, size: framing.size },
  }
}

function columnFor(position: Position, canvasWidth: number, width: number): number {
  const centred = Math.round((canvasWidth - width) / 2)
  if (position === 'centre') return centred
  const margin = Math.round(canvasWidth * SIDE_MARGIN)
  const wanted = Math.round(canvasWidth * FRAMING_CENTRE[position] - width / 2)
  // why centred when it does not fit: a product as wide as the frame has nowhere to move.
  if (canvasWidth - margin - width < margin) return centred
  return Math.min(canvasWidth - margin - width, Math.max(margin, wanted))
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
  /**
   * Per pixel of the mask compositeProduct samples: the same distance for the
   * product's own colours near it (localReach), < 0 where none are near.
   */
  local?: Float32Array
}

export function edgeMatte(backdrop: Rgb, productMean: Rgb, local?: Float32Array): EdgeMatte {
  const reach = Math.hypot(productMean[0] - backdrop[0], productMean[1] - backdrop[1], productMean[2] - backdrop[2])
  // why the floor: a product close to its backdrop's colour would otherwise turn noise into product.
  return { backdrop, reach: Math.max(MATTE_NOISE + 24, reach), local }
}

/** Mask px round an edge pixel whose solid product pixels set its local reach. */
export const LOCAL_RADIUS = 3

/**
 * For every mask pixel within LOCAL_RADIUS of the solid outline: the mean RGB
 * distance from the backdrop of the solid outline pixels that near (−1
 * elsewhere). compositeProduct un-mixes an edge pixel against the smaller of
 * this and the product's overall reach.
 * why local: with one reach for the whole product, the edge of a light part
 * (the cream stripes and cuffs of a navy-striped top) looked "mostly
 * backdrop" and was drawn half transparent, a rim of the scene showing
 * through it. why a mean: it varies smoothly along the outline, so the matte
 * does too. why never above the overall reach: a thin part with darker
 * borders (a cream strap outlined in shadow) would otherwise fade.
 */
export function localReach(pixels: RawImage, mask: RawImage, backdrop: Rgb, radius = LOCAL_RADIUS): Float32Array {
  const { width: mw, height: mh, data: md } = mask
  const sum = new Float32Array(mw * mh)
  const count = new Uint16Array(mw * mh)
  const sx = pixels.width / mw
  const sy = pixels.height / mh
  const ch = pixels.channels
  const [br, bg, bb] = backdrop
  for (let y = 0; y < mh; y++) {
    const py = Math.min(pixels.height - 1, Math.floor((y + 0.5) * sy))
    for (let x = 0; x < mw; x++) {
      const i = y * mw + x
      if (md[i] !== 255) continue
      // why only the outline's solid pixels: deeper ones are farther than the radius from any edge pixel.
      const outline =
        (x > 0 && md[i - 1] !== 255) || (x < mw - 1 && md[i + 1] !== 255) || (y > 0 && md[i - mw] !== 255) || (y < mh - 1 && md[i + mw] !== 255)
      if (!outline) continue
      const o = (py * pixels.width + Math.min(pixels.width - 1, Math.floor((x + 0.5) * sx))) * ch
      const d = Math.hypot(pixels.data[o] - br, pixels.data[o + 1] - bg, pixels.data[o + 2] - bb)
      for (let yy = Math.max(0, y - radius); yy <= Math.min(mh - 1, y + radius); yy++) {
        for (let xx = Math.max(0, x - radius); xx <= Math.min(mw - 1, x + radius); xx++) {
          sum[yy * mw + xx] += d
          count[yy * mw + xx]++
        }
      }
    }
  }
  const out = new Float32Array(mw * mh)
  for (let i = 0; i < out.length; i++) out[i] = count[i] === 0 ? -1 : sum[i] / count[i]
  return out
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

/** Source row pair and weight for output row j, written into `tap` (y0, y1, fy). */
function rowTap(region: Box, j: number, outHeight: number, imageHeight: number, tap: Int32Array): void {
  const s = Math.min(imageHeight - 1, Math.max(0, region.top + (j + 0.5) * (region.height / outHeight) - 0.5))
  const y0 = Math.floor(s)
  tap[0] = y0
  tap[1] = Math.min(imageHeight - 1, y0 + 1)
  tap[2] = Math.round((s - y0) * 256)
}

/** Kinds of mask run between two mask rows (columns where both rows are zero are no run at all). */
const SOLID_RUN = 1
const SOFT_RUN = 2

/**
 * Blends the product onto the canvas over `at` (canvas px), sampling the
 * product and its mask bilinearly over their regions, through the light
 * match tables. Any product alpha is ignored: the mask decides.
 * why by runs: the pair of mask rows an output row reads is split once into
 * runs where both rows are solid product and runs with any edge in them
 * (the pair is shared by the ~2–3 output rows between two mask rows); a solid
 * run's inner columns are copied (at 1:1 a single memory copy) and only
 * columns that read an edge are blended pixel by pixel.
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
  const mImage = mask.image
  const mw = mImage.width
  const mData = mImage.data
  const { x0, fx } = columnTaps(mask.region, at.width, mw, 1)
  const firstOut = firstColumnAtOrAfter(x0, mw)
  const extent = rowExtents(mImage)
  const rows = productRows(product, at)
  const [tr, tg, tb] = tables
  const copyRuns = isIdentity(tables)
  const edge: EdgeContext = {
    canvas,
    mData,
    mw,
    x0,
    fx,
    tr,
    tg,
    tb,
    unmixing: matte !== undefined,
    br: matte ? matte.backdrop[0] : 0,
    bg: matte ? matte.backdrop[1] : 0,
    bb: matte ? matte.backdrop[2] : 0,
    span: matte ? matte.reach - MATTE_NOISE : 0,
    local: matte?.local,
    m0: 0,
    m1: 0,
    fy: 0,
    product: rows.data,
    pOffset: 0,
    pStep: rows.step,
    rowOffset: 0,
  }
  const runs = new Int32Array(3 * (mw + 1))
  let runCount = 0
  let pairY0 = -1
  let pairY1 = -1
  const tap = new Int32Array(3)
  const iLo = Math.max(0, -at.left)
  const iHi = Math.min(at.width, canvasWidth - at.left)
  if (iLo >= iHi) return
  for (let j = 0; j < at.height; j++) {
    const cy = at.top + j
    if (cy < 0 || cy >= canvasHeight) continue
    rowTap(mask.region, j, at.height, mImage.height, tap)
    const y0 = tap[0]
    const y1 = tap[1]
    if (y0 !== pairY0 || y1 !== pairY1) {
      runCount = pairRuns(mData, mw, y0, y1, extent, runs)
      pairY0 = y0
      pairY1 = y1
    }
    if (runCount === 0) continue
    edge.m0 = y0 * mw
    edge.m1 = y1 * mw
    edge.fy = tap[2]
    edge.rowOffset = (cy * canvasWidth + at.left) * 3
    // Output columns this row touches: those reading any column of a run.
    const from = Math.max(iLo, firstOut[Math.max(0, runs[0] - 1)])
    const to = Math.min(iHi, firstOut[runs[3 * (runCount - 1) + 1]])
    if (from >= to) continue
    edge.pOffset = rows.begin(j, from, to)
    let done = from
    for (let r = 0; r < runCount; r++) {
      const cs = runs[3 * r]
      const ce = runs[3 * r + 1]
      // Columns reading this run: left tap in [cs − 1, ce − 1].
      const start = Math.max(done, firstOut[Math.max(0, cs - 1)])
      const end = Math.min(to, firstOut[ce])
      if (start >= end) continue
      if (runs[3 * r + 2] === SOLID_RUN && ce - cs >= 2) {
        // Inner columns (both taps in the run) are solid; the rest read an edge.
        const inner = Math.min(end, Math.max(start, firstOut[cs]))
        const innerEnd = Math.min(end, Math.max(inner, firstOut[ce - 1]))
        blendEdge(edge, start, inner)
        if (copyRuns && rows.step === 3) {
          const p = edge.pOffset
          canvas.set(rows.data.subarray(p + inner * 3, p + innerEnd * 3), edge.rowOffset + inner * 3)
        } else copyThrough(edge, inner, innerEnd)
        blendEdge(edge, innerEnd, end)
      } else blendEdge(edge, start, end)
      done = end
    }
  }
}

/**
 * Runs of the mask row pair (y0, y1) over the columns where either row is
 * non-zero, as [start, end, kind] triples; returns how many. Solid: both rows
 * are 255; soft: anything else that is not zero in both.
 */
function pairRuns(
  mData: Uint8Array,
  mw: number,
  y0: number,
  y1: number,
  extent: { first: Int32Array; last: Int32Array },
  runs: Int32Array,
): number {
  const first = Math.min(extent.first[y0], extent.first[y1])
  const last = Math.max(extent.last[y0], extent.last[y1])
  const a = y0 * mw
  const b = y1 * mw
  let count = 0
  let c = first
  while (c <= last) {
    const both = mData[a + c] & mData[b + c]
    const either = mData[a + c] | mData[b + c]
    if (either === 0) {
      c++
      continue
    }
    const kind = both === 255 ? SOLID_RUN : SOFT_RUN
    const start = c
    c++
    if (kind === SOLID_RUN) while (c <= last && (mData[a + c] & mData[b + c]) === 255) c++
    else {
      while (c <= last && (mData[a + c] & mData[b + c]) !== 255 && (mData[a + c] | mData[b + c]) !== 0) c++
    }
    runs[3 * count] = start
    runs[3 * count + 1] = c
    runs[3 * count + 2] = kind
    count++
  }
  return count
}

/** firstOut[c] = the first output column whose left tap is at or after mask column c. */
function firstColumnAtOrAfter(x0: Int32Array, maskWidth: number): Int32Array {
  const firstOut = new Int32Array(maskWidth + 1).fill(x0.length)
  for (let i = x0.length - 1; i >= 0; i--) firstOut[x0[i]] = i
  for (let c = maskWidth - 1; c >= 0; c--) firstOut[c] = Math.min(firstOut[c], firstOut[c + 1])
  return firstOut
}

function isIdentity(tables: LightMatch['tables']): boolean {
  return tables.every((t) => t.every((v, i) => v === i))
}

/** Where one output row's product pixels are: `data[offset + i * step]` is output column i's red. */
interface ProductRows {
  data: Uint8Array
  step: number
  /** Readies output row j for columns [from, to) and returns its offset. */
  begin(j: number, from: number, to: number): number
}

/**
 * Two shapes of product: already at canvas size (1:1, or a shrink done by
 * libvips) is read in place; an enlargement is sampled bilinearly into a row
 * buffer, each output row first mixing its two source rows.
 */
function productRows(product: Sampled, at: Box): ProductRows {
  const { image, region } = product
  const ch = image.channels
  const data = image.data
  const aligned =
    region.width === at.width && region.height === at.height && Number.isInteger(region.left) && Number.isInteger(region.top)
  if (aligned) {
    return { data, step: ch, begin: (j) => ((region.top + j) * image.width + region.left) * ch }
  }
  const taps = columnTaps(region, at.width, image.width, ch)
  const mixed = new Uint16Array(image.width * ch)
  const out = new Uint8Array(at.width * 3)
  const tap = new Int32Array(3)
  return {
    data: out,
    step: 3,
    begin: (j, from, to) => {
      rowTap(region, j, at.height, image.height, tap)
      const a0 = tap[0] * image.width * ch
      const b0 = tap[1] * image.width * ch
      const fy = tap[2]
      const gy = 256 - fy
      const end = Math.min(mixed.length, taps.x0[to - 1] + 2 * ch)
      for (let c = taps.x0[from]; c < end; c++) mixed[c] = data[a0 + c] * gy + data[b0 + c] * fy
      for (let i = from, o = from * 3; i < to; i++, o += 3) {
        const px = taps.x0[i]
        const f = taps.fx[i]
        const g = 256 - f
        out[o] = (mixed[px] * g + mixed[px + ch] * f) >> 16
        out[o + 1] = (mixed[px + 1] * g + mixed[px + 1 + ch] * f) >> 16
        out[o + 2] = (mixed[px + 2] * g + mixed[px + 2 + ch] * f) >> 16
      }
      return 0
    },
  }
}

/** Everything the per-pixel paths need for the current output row. */
interface EdgeContext {
  canvas: Uint8Array
  mData: Uint8Array
  mw: number
  x0: Int32Array
  fx: Int32Array
  tr: Uint8Array
  tg: Uint8Array
  tb: Uint8Array
  /** Whether edge pixels are un-mixed from a known backdrop (br, bg, bb); see EdgeMatte. */
  unmixing: boolean
  br: number
  bg: number
  bb: number
  /** matte.reach − MATTE_NOISE. */
  span: number
  /** matte.local: the reach near each mask pixel. */
  local: Float32Array | undefined
  /** Offsets of the two mask rows and the lower one's weight, 0..256. */
  m0: number
  m1: number
  fy: number
  product: Uint8Array
  pOffset: number
  pStep: number
  rowOffset: number
}

/** Solid product over output columns [from, to), through the light match tables. */
function copyThrough(e: EdgeContext, from: number, to: number): void {
  const { canvas, product, pStep, tr, tg, tb } = e
  for (let i = from, p = e.pOffset + from * pStep, o = e.rowOffset + from * 3; i < to; i++, p += pStep, o += 3) {
    canvas[o] = tr[product[p]]
    canvas[o + 1] = tg[product[p + 1]]
    canvas[o + 2] = tb[product[p + 2]]
  }
}

/**
 * Output columns [from, to) under their bilinear mask alpha. Solid pixels are
 * copied; edge pixels are blended, and with a known backdrop first un-mixed
 * from it (see EdgeMatte).
 */
function blendEdge(e: EdgeContext, from: number, to: number): void {
  if (from >= to) return
  const { canvas, mData, x0, fx, product, pStep, tr, tg, tb, unmixing, br, bg, bb, span, local, m0, m1 } = e
  const fy = e.fy
  const gy = 256 - fy
  for (let i = from; i < to; i++) {
    const mx = x0[i]
    const a = mData[m0 + mx] * gy + mData[m1 + mx] * fy
    const b = mData[m0 + mx + 1] * gy + mData[m1 + mx + 1] * fy
    const alpha = (a * (256 - fx[i]) + b * fx[i]) >> 16
    if (alpha === 0) continue
    const p = e.pOffset + i * pStep
    const o = e.rowOffset + i * 3
    const r = product[p]
    const g = product[p + 1]
    const bl = product[p + 2]
    if (alpha >= 255) {
      canvas[o] = tr[r]
      canvas[o + 1] = tg[g]
      canvas[o + 2] = tb[bl]
      continue
    }
    if (!unmixing) {
      blendPixel(canvas, o, tr[r], tg[g], tb[bl], alpha)
      continue
    }
    const d = Math.sqrt((r - br) * (r - br) + (g - bg) * (g - bg) + (bl - bb) * (bl - bb))
    const near = local ? local[m0 + mx] : -1
    // why the smaller of the two: a light part's own reach keeps its edge opaque; never less product than one reach gave.
    const share = Math.min(1, (d - MATTE_NOISE) / (near < 0 ? span : Math.min(span, Math.max(24, near - MATTE_NOISE))))
    if (share <= 0.02) continue
    blendPixel(canvas, o, tr[unmix(r, br, share)], tg[unmix(g, bg, share)], tb[unmix(bl, bb, share)], Math.round(share * 255))
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
