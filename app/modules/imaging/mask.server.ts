import sharp from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import type { RawImage, SourceImage } from './types.ts'
import { SRGB_TO_LINEAR, deltaE2000, srgbToLab } from './colour.ts'
import {
  clearBits,
  dilate,
  featherInwardBits,
  grownTo,
  openThenCloseBits,
  removeSmallRegionsBits,
  unpack,
  type Bits,
} from './morphology.ts'

export interface Box {
  left: number
  top: number
  width: number
  height: number
}

export interface ProductMask {
  /**
   * Single channel, 0..255, white = product, edge feathered. Covers the whole
   * source frame, possibly at a lower resolution (scale by source.width / mask.width).
   */
  mask: RawImage
  /** The product's bounding box in SOURCE pixels. */
  bbox: Box
  /** Share of the frame the product covers, 0..1. */
  coverage: number
  origin: 'merchant' | 'alpha' | 'background'
  /**
   * The backdrop colour the product was cut from (uniform-backdrop masks
   * only): edge pixels are a mix of product and this colour, which lets the
   * composite un-mix them instead of carrying a light halo into the scene.
   */
  backdrop?: [number, number, number]
}

export interface MaskOptions {
  /** Longest edge the segmentation works at (the source is shrunk to it). */
  workEdge?: number
}

/**
 * Why 768: the mask only has to say which regions are product; the exact
 * edge comes from the colours at full size (EdgeMatte in compose.ts). At 768
 * a 2048 px photo's segmentation costs a seventh of full size, and gaps
 * wider than ~5 source px (between a strap and a bag) still stay open.
 */
export const MASK_WORK_EDGE = 768
/** Below this share of the frame we found a speck, not a product. */
export const MIN_COVERAGE = 0.01
/** Above this share the "product" is the whole photo: there was no background to remove. */
export const MAX_COVERAGE = 0.95

const NEEDS_MASK_HINT = 'Draw a mask over the product in the studio, or connect a GPU backend in Settings.'
// why no "connect a GPU backend": every backend finds the product with this
// same cut-out (the GPU ones to know what to keep), so only a mask helps.
const BUSY_HINT =
  'The background of this photo is too busy to find the product automatically. Paint the product with the Keep brush in the studio and render again.'

/**
 * Where the product is in the source photo. A merchant's mask wins; then a
 * meaningful alpha channel; otherwise the product is whatever a flood fill
 * from the border cannot reach across a uniform background.
 */
export async function findProductMask(source: SourceImage, merchantMask?: Buffer, opts: MaskOptions = {}): Promise<ProductMask> {
  const workEdge = opts.workEdge ?? MASK_WORK_EDGE
  if (merchantMask) return maskFromMerchant(source, merchantMask, workEdge)
  const fromAlpha = maskFromAlpha(source.pixels)
  if (fromAlpha) return fromAlpha
  return maskFromBackdrop(await workImage(source.pixels, workEdge), source.width, source.height)
}

/**
 * The source reduced to `workEdge` (RGB, alpha dropped) by libvips.
 * why not JS: one pass over a 12 MB buffer costs more in JS than the whole
 * segmentation at the reduced size. why two bands: sharp runs a pipeline on
 * one libvips thread; the top and bottom halves of the same resize run on
 * both cores at once, and libvips computes each output pixel the same way
 * whichever band asks for it.
 */
async function workImage(pixels: RawImage, workEdge: number): Promise<RawImage> {
  const scale = Math.min(1, workEdge / Math.max(pixels.width, pixels.height))
  if (scale === 1 && pixels.channels === 3) return pixels
  const width = Math.max(1, Math.round(pixels.width * scale))
  const height = Math.max(1, Math.round(pixels.height * scale))
  const band = (top: number, bottom: number): Promise<Buffer> =>
    sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } })
      .removeAlpha()
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .extract({ left: 0, top, width, height: bottom - top })
      .raw()
      .toBuffer()
  const half = height >> 1
  const bands = half === 0 ? [await band(0, height)] : await Promise.all([band(0, half), band(half, height)])
  return { data: Buffer.concat(bands, width * height * 3), width, height, channels: 3 }
}

// ---------------------------------------------------------------- merchant mask

async function maskFromMerchant(source: SourceImage, bytes: Buffer, workEdge: number): Promise<ProductMask> {
  const scale = Math.min(1, workEdge / Math.max(source.width, source.height))
  const width = Math.max(1, Math.round(source.width * scale))
  const height = Math.max(1, Math.round(source.height * scale))
  let data: Buffer
  try {
    // why flatten on black: a brush layer exported with transparency means "not product" where unpainted.
    data = await sharp(bytes, { failOn: 'warning', limitInputPixels: source.width * source.height * 4 })
      .flatten({ background: '#000000' })
      .greyscale()
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer()
  } catch (cause) {
    throw new AppError('BACKEND_NEEDS_MASK', `The mask could not be read. ${NEEDS_MASK_HINT}`, { cause })
  }
  const found = finish({ data, width, height, channels: 1 }, source.width, source.height, 'merchant')
  const backdrop = backdropRound(found.mask, source.pixels)
  return backdrop ? { ...found, backdrop } : found
}

/** Unpainted work px round a merchant's Keep whose source colours say whether it lies on a backdrop. */
const ROUND_REACH = 4
/** RGB distance from the round's median within which a pixel is that backdrop. */
const ROUND_TOLERANCE = 20
/** Share of the round within ROUND_TOLERANCE for it to count as a uniform backdrop (a soft drop shadow may fill the rest). */
const ROUND_UNIFORM = 0.85

/**
 * The backdrop colour right round a merchant's Keep, when the pixels there
 * are uniform (a flat-lay on paper); undefined on a scene or busy floor.
 * why: a brush follows a 2 px strap only roughly, so its soft edge pixels
 * mix strap and backdrop; knowing the backdrop lets the composite un-mix
 * them, as it does for a cut-out it found itself, instead of drawing the
 * strap a third fainter.
 */
export function backdropRound(mask: RawImage, pixels: RawImage): [number, number, number] | undefined {
  const { width, height, data } = mask
  const painted = new Uint8Array(width * height)
  for (let i = 0; i < painted.length; i++) painted[i] = data[i] === 0 ? 0 : 1
  const near = dilate(painted, width, height, ROUND_REACH)
  const sx = pixels.width / width
  const sy = pixels.height / height
  // The source pixel under each unpainted work pixel of the round.
  const round = new Int32Array(width * height)
  let n = 0
  for (let y = 0; y < height; y++) {
    const row = Math.min(pixels.height - 1, Math.floor((y + 0.5) * sy)) * pixels.width
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      if (!painted[i] && near[i]) round[n++] = row + Math.min(pixels.width - 1, Math.floor((x + 0.5) * sx))
    }
  }
  if (n < 64) return undefined
  const ring = round.subarray(0, n)
  const { data: rgb, channels: ch } = pixels
  const median: [number, number, number] = [
    channelMedian(rgb, ring, 0, ch),
    channelMedian(rgb, ring, 1, ch),
    channelMedian(rgb, ring, 2, ch),
  ]
  let within = 0
  for (const p of ring) {
    const o = p * ch
    if (Math.hypot(rgb[o] - median[0], rgb[o + 1] - median[1], rgb[o + 2] - median[2]) <= ROUND_TOLERANCE) within++
  }
  return within >= ROUND_UNIFORM * n ? median : undefined
}

// ---------------------------------------------------------------- alpha channel

/** Alpha counts as a cut-out only when some pixels are see-through and some are solid. */
const ALPHA_MIN_SHARE = 0.01

function maskFromAlpha(pixels: RawImage): ProductMask | undefined {
  if (pixels.channels !== 4) return undefined
  const count = pixels.width * pixels.height
  const alpha = new Uint8Array(count)
  let clear = 0
  let solid = 0
  for (let i = 0, p = 3; i < count; i++, p += 4) {
    const a = pixels.data[p]
    // why: editors leave faint alpha noise around cut-outs; below 8 it is nothing.
    alpha[i] = a < 8 ? 0 : a
    if (a < 128) clear++
    if (a >= 250) solid++
  }
  if (clear < count * ALPHA_MIN_SHARE || solid < count * ALPHA_MIN_SHARE) return undefined
  return finish({ data: alpha, width: pixels.width, height: pixels.height, channels: 1 }, pixels.width, pixels.height, 'alpha')
}

// ---------------------------------------------------------------- uniform background

/** Border pixels further than this (ΔE2000) from the background estimate count as "not background". */
const BORDER_OUTLIER_DE = 10
/** More than this share of border outliers means the background is a scene, not a backdrop. */
const BUSY_OUTLIER_SHARE = 0.4
/** A backdrop whose typical border pixel is this far from its median is textured (wood, fabric, street). */
const BUSY_MEDIAN_DE = 6
/** Flood-fill tolerance bounds (ΔE2000); the actual value adapts to the backdrop's own noise. */
const MIN_TOLERANCE = 3.5
const MAX_TOLERANCE = 12

/**
 * Segments a product on a uniform backdrop, on an image already reduced to
 * working size: backdrop estimate from the border, flood from the border,
 * open-then-close, speck removal, inward feather. why packed bits from the
 * flood on: the cleanup then never touches a byte per pixel until the feather.
 */
function maskFromBackdrop(image: RawImage, sourceWidth: number, sourceHeight: number): ProductMask {
  const { width, height } = image
  const backdrop = estimateBackdrop(image)
  const product = floodBackdrop(image, backdrop)
  peelCastShadow(image, backdrop, product)
  // why radius 1 at work size: removes JPEG-noise specks and spurs of a
  // source pixel or two without eating thin straps.
  const cleaned = openThenCloseBits(product, 1)
  removeSmallRegionsBits(cleaned, Math.ceil(width * height * 0.0005), 0.05)
  const feathered = featherInwardBits(cleaned)
  return {
    ...finish({ data: feathered, width, height, channels: 1 }, sourceWidth, sourceHeight, 'background'),
    backdrop: backdrop.rgb,
  }
}

interface Backdrop {
  /** sRGB per-channel median of the border. */
  rgb: [number, number, number]
  L: number
  a: number
  b: number
  tolerance: number
}

function median(values: Float64Array): number {
  const sorted = values.slice().sort()
  return sorted[sorted.length >> 1]
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Median of one channel of the ring's pixels, by histogram (the same value a sort would pick). */
function channelMedian(data: Uint8Array, ring: Int32Array, channel: number, channels = 3): number {
  const histogram = new Uint32Array(256)
  for (let i = 0; i < ring.length; i++) histogram[data[ring[i] * channels + channel]]++
  let seen = 0
  let value = 0
  while (seen + histogram[value] <= ring.length >> 1) seen += histogram[value++]
  return value
}

/**
 * Border ring → robust backdrop colour (per-channel Lab median) and how noisy it is.
 * why colours are converted once each: a backdrop's ring holds a few hundred
 * distinct colours among thousands of pixels, and ΔE2000 is the costly part.
 */
function estimateBackdrop(image: RawImage): Backdrop {
  const { width, height, data } = image
  const n = 2 * width + 2 * Math.max(0, height - 2)
  const ring = new Int32Array(n)
  let k = 0
  for (let x = 0; x < width; x++) {
    ring[k++] = x
    ring[k++] = (height - 1) * width + x
  }
  for (let y = 1; y < height - 1; y++) {
    ring[k++] = y * width
    ring[k++] = y * width + width - 1
  }
  // distinct[i]: index into the ring of the first pixel with pixel i's colour.
  const firstOfColour = new Map<number, number>()
  const distinct = new Int32Array(n)
  const lab = new Float64Array(n * 3)
  for (let i = 0; i < n; i++) {
    const p = ring[i] * 3
    const colour = (data[p] << 16) | (data[p + 1] << 8) | data[p + 2]
    const first = firstOfColour.get(colour)
    if (first === undefined) {
      firstOfColour.set(colour, i)
      distinct[i] = i
      srgbToLab(data[p], data[p + 1], data[p + 2], lab, i * 3)
    } else {
      distinct[i] = first
      lab[i * 3] = lab[first * 3]
      lab[i * 3 + 1] = lab[first * 3 + 1]
      lab[i * 3 + 2] = lab[first * 3 + 2]
    }
  }
  const channel = (c: number): Float64Array => {
    const values = new Float64Array(n)
    for (let i = 0; i < n; i++) values[i] = lab[i * 3 + c]
    return values
  }
  const L = median(channel(0))
  const a = median(channel(1))
  const b = median(channel(2))
  const rgb: [number, number, number] = [channelMedian(data, ring, 0), channelMedian(data, ring, 1), channelMedian(data, ring, 2)]

  const spread = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const first = distinct[i]
    spread[i] = first === i ? deltaE2000(L, a, b, lab[i * 3], lab[i * 3 + 1], lab[i * 3 + 2]) : spread[first]
  }
  spread.sort()
  const outliers = n - lowerBound(spread, BORDER_OUTLIER_DE)
  const typical = quantile(spread, 0.5)
  if (outliers > n * BUSY_OUTLIER_SHARE || typical > BUSY_MEDIAN_DE) {
    throw new AppError('BACKEND_BUSY_BACKGROUND', BUSY_HINT, {
      details: { borderOutlierShare: outliers / n, borderMedianDeltaE: typical },
    })
  }
  // why p75 of the inliers: the backdrop's own noise and gradient, not the
  // product where it touches the frame.
  const inlierNoise = quantile(spread.subarray(0, n - outliers), 0.75)
  const tolerance = Math.min(MAX_TOLERANCE, Math.max(MIN_TOLERANCE, 3 + 2.5 * inlierNoise))
  return { rgb, L, a, b, tolerance }
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] <= value) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Largest value of ΔE2000's lightness weight S_L over L* in 0..100. why:
 * ΔE2000 ≥ |ΔL*| / S_L (the chroma and hue terms add a non-negative amount),
 * so a colour whose lightness is further than tolerance × this from the
 * backdrop's cannot be within tolerance.
 */
const MAX_SL = 1 + (0.015 * 2500) / Math.sqrt(20 + 2500)

/** Relative luminance Y whose CIE L* is `L` (the inverse of L* = 116 f(Y) − 16). */
function luminanceOfLightness(L: number): number {
  const f = (L + 16) / 116
  return f > 6 / 29 ? f * f * f : (f - 16 / 116) * ((3 * 6 * 6) / (29 * 29))
}

/**
 * Which colours are backdrop, memoised by 7-bit RGB for one backdrop.
 * why a memo: a backdrop has few distinct colours and ΔE2000 is too costly to
 * evaluate a million times; 7 bits a channel moves ΔE by well under 0.5.
 * why one table kept between calls, tagged by call: it is 2 MB, and a fresh
 * one per render is garbage the collector then has to chase mid-render.
 * (Calls never interleave: classification is synchronous.)
 */
const memo = { table: new Uint8Array(0), generation: 0 }
/** Memo entry: generation × 4 + 1 (backdrop) or + 2 (not); generations run 1..63. */
const MEMO_GENERATIONS = 63
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

/**
 * 1 for backdrop-coloured pixels: within `tolerance` ΔE2000 of the backdrop.
 * why four pixels from three words: the per-pixel work is a table lookup, so
 * reading the bytes one by one was half the cost.
 */
function classifyBackdrop(image: RawImage, backdrop: Backdrop): Uint8Array {
  if (memo.table.length === 0) memo.table = new Uint8Array(1 << 21)
  memo.generation = (memo.generation % MEMO_GENERATIONS) + 1
  if (memo.generation === 1) memo.table.fill(0)
  const table = memo.table
  const tag = memo.generation << 2
  const resolve = backdropTest(backdrop)
  /** The class (1 backdrop, 2 not) of a 7-bit key, from the memo or worked out and remembered. */
  const classOf = (key: number): number => {
    const known = table[key] ^ tag
    if (known <= 3) return known
    const decided = resolve(key)
    table[key] = tag | decided
    return decided
  }
  const { data } = image
  const count = image.width * image.height
  const out = new Uint8Array(count)
  let i = 0
  if (LITTLE_ENDIAN && (data.byteOffset & 3) === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, (count >> 2) * 3)
    for (let w = 0; w < words.length; w += 3, i += 4) {
      const a = words[w]
      const b = words[w + 1]
      const c = words[w + 2]
      // Bytes r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3, lowest byte first.
      const k0 = (((a >>> 1) & 127) << 14) | (((a >>> 9) & 127) << 7) | ((a >>> 17) & 127)
      const k1 = (((a >>> 25) & 127) << 14) | (((b >>> 1) & 127) << 7) | ((b >>> 9) & 127)
      const k2 = (((b >>> 17) & 127) << 14) | (((b >>> 25) & 127) << 7) | ((c >>> 1) & 127)
      const k3 = (((c >>> 9) & 127) << 14) | (((c >>> 17) & 127) << 7) | ((c >>> 25) & 127)
      let v0 = table[k0] ^ tag
      let v1 = table[k1] ^ tag
      let v2 = table[k2] ^ tag
      let v3 = table[k3] ^ tag
      if ((v0 | v1 | v2 | v3) > 3) {
        v0 = classOf(k0)
        v1 = classOf(k1)
        v2 = classOf(k2)
        v3 = classOf(k3)
      }
      out[i] = v0 & 1
      out[i + 1] = v1 & 1
      out[i + 2] = v2 & 1
      out[i + 3] = v3 & 1
    }
  }
  for (let o = i * 3; i < count; i++, o += 3) {
    out[i] = classOf(((data[o] >> 1) << 14) | ((data[o + 1] >> 1) << 7) | (data[o + 2] >> 1)) & 1
  }
  return out
}

/**
 * Whether the colour a 7-bit key stands for (each channel's odd value, the
 * middle of its pair) is within tolerance of the backdrop: 1 yes, 2 no.
 */
function backdropTest(backdrop: Backdrop): (key: number) => number {
  const lab = new Float64Array(3)
  const reach = backdrop.tolerance * MAX_SL + 0.5
  const yLow = luminanceOfLightness(backdrop.L - reach)
  const yHigh = luminanceOfLightness(backdrop.L + reach)
  return (key) => {
    const r = ((key >> 14) << 1) | 1
    const g = (((key >> 7) & 127) << 1) | 1
    const b = ((key & 127) << 1) | 1
    // why the luminance test first: most product colours are far lighter or
    // darker than the backdrop, and three table reads settle them without a
    // Lab conversion (the margin keeps rounding from deciding).
    const lum = 0.2126729 * SRGB_TO_LINEAR[r] + 0.7151522 * SRGB_TO_LINEAR[g] + 0.072175 * SRGB_TO_LINEAR[b]
    if (lum < yLow || lum > yHigh) return 2
    srgbToLab(r, g, b, lab, 0)
    return deltaE2000(backdrop.L, backdrop.a, backdrop.b, lab[0], lab[1], lab[2]) <= backdrop.tolerance ? 1 : 2
  }
}

/**
 * 1 for the product, packed (see Bits): every pixel the backdrop cannot reach
 * from the border. The flood is a 4-connected labelling of backdrop-coloured
 * runs (union-find over runs, not a per-pixel queue); components touching
 * the border are the backdrop. Backdrop-coloured regions enclosed by the
 * product (white print on a white shirt) are not reached and stay product.
 */
function floodBackdrop(image: RawImage, backdrop: Backdrop): Bits {
  const { width, height } = image
  const like = classifyBackdrop(image, backdrop)
  // Runs as [start, end) columns of row rows[i]; capacity grows by doubling.
  let capacity = 4 * (width + height)
  let starts: Int32Array = new Int32Array(capacity)
  let ends: Int32Array = new Int32Array(capacity)
  let rows: Int32Array = new Int32Array(capacity)
  let parent: Int32Array = new Int32Array(capacity)
  let touches: Uint8Array = new Uint8Array(capacity)
  let count = 0
  let prevFirst = 0
  let prevLast = 0
  for (let y = 0; y < height; y++) {
    const base = y * width
    const first = count
    const edgeRow = y === 0 || y === height - 1 ? 1 : 0
    let prev = prevFirst
    let x = 0
    while (x < width) {
      if (like[base + x] === 0) {
        x++
        continue
      }
      const start = x
      while (x < width && like[base + x] === 1) x++
      if (count === capacity) {
        capacity *= 2
        starts = grownTo(starts, capacity)
        ends = grownTo(ends, capacity)
        rows = grownTo(rows, capacity)
        parent = grownTo(parent, capacity)
        const bigger = new Uint8Array(capacity)
        bigger.set(touches)
        touches = bigger
      }
      const id = count++
      starts[id] = start
      ends[id] = x
      rows[id] = y
      parent[id] = id
      touches[id] = edgeRow | (start === 0 || x === width ? 1 : 0)
      // 4-connected: runs in the row above that share at least one column.
      while (prev < prevLast && ends[prev] <= start) prev++
      for (let k = prev; k < prevLast && starts[k] < x; k++) {
        let a = k
        while (parent[a] !== a) a = parent[a] = parent[parent[a]]
        let b = id
        while (parent[b] !== b) b = parent[b] = parent[parent[b]]
        if (a !== b) {
          const root = Math.min(a, b)
          parent[Math.max(a, b)] = root
          touches[root] |= touches[a] | touches[b]
        }
      }
    }
    prevFirst = first
    prevLast = count
  }
  const stride = (width + 31) >> 5
  const words = new Uint32Array(stride * height)
  const tail = width & 31
  for (let y = 0; y < height; y++) {
    words.fill(0xffffffff, y * stride, (y + 1) * stride)
    if (tail !== 0) words[(y + 1) * stride - 1] = (1 << tail) - 1
  }
  // Parents always have lower ids, so one forward pass resolves every root.
  for (let i = 0; i < count; i++) {
    parent[i] = parent[parent[i]]
    if (touches[parent[i]] === 1) clearBits(words, rows[i] * stride, starts[i], ends[i])
  }
  return { words, width, height, stride }
}

// ---------------------------------------------------------------- cast shadows

/**
 * A cast shadow is the backdrop darkened: at most this much darker (CIE L*)…
 * why so little: a catalog drop shadow on white reaches L* ≈ 88–92; a grey
 * garment is darker than that, and where a shadow gets as dark as the
 * garment no colour rule can tell them apart.
 */
const SHADOW_MAX_DARKENING = 12
/** …with the backdrop's own hue: chroma (a*, b*) this close to it… */
const SHADOW_CHROMA = 2
/** …and soft: going inwards each pixel is at most this much darker than the last (work size). A product's outline is a step. */
const SHADOW_STEP_L = 3
/** …and never lighter than the last by more than noise: a shadow deepens towards what casts it. */
const SHADOW_RISE_L = 0.75
/** …and it keeps darkening: at most this many steps in a row (work px) without getting darker. */
const SHADOW_FLAT_RUN = 4
/** A step darker by less than this counts as flat. */
const SHADOW_FLAT_STEP = 0.35

/**
 * Gives a catalog photo's drop shadow back to the backdrop. The flood stops
 * where a soft shadow gets darker than the tolerance, so the shadow's inner
 * part would stay "product" and be carried into the scene as a light-grey
 * rim. From every product pixel that touches the backdrop, this grows into
 * pixels that are the backdrop's colour, darker, and darken only gradually
 * from pixel to pixel. why gradually: a grey garment on white has the same
 * colour as a shadow, but its outline is a step of tens of L* per pixel,
 * which the growth never crosses; a shadow fades over dozens of pixels.
 */
function peelCastShadow(image: RawImage, backdrop: Backdrop, product: Bits): number {
  const { width, height, data } = image
  const { words, stride } = product
  const n = width * height
  const inside = unpack(product)
  // Lightness of a pixel, worked out when first needed (NaN = not yet); and whether it is shadow-like.
  const lightness = new Float32Array(n).fill(Number.NaN)
  const shadowLike = new Uint8Array(n)
  /** 1 where the pixel has the backdrop's hue (chroma within SHADOW_CHROMA of it); set with its lightness. */
  const backdropHue = new Uint8Array(n)
  const lab = new Float64Array(3)
  const L = (i: number): number => {
    let v = lightness[i]
    if (v !== v) {
      srgbToLab(data[3 * i], data[3 * i + 1], data[3 * i + 2], lab, 0)
      v = lightness[i] = lab[0]
      const darker = backdrop.L - v
      backdropHue[i] = Math.hypot(lab[1] - backdrop.a, lab[2] - backdrop.b) <= SHADOW_CHROMA ? 1 : 0
      shadowLike[i] = darker >= -1 && darker <= SHADOW_MAX_DARKENING && backdropHue[i] ? 1 : 0
    }
    return v
  }
  const queue = new Int32Array(n)
  const flat = new Uint8Array(n)
  let tail = 0
  /** Grows into product pixel j from pixel `from` if j is the next step of a shadow. */
  const offer = (j: number, from: number): void => {
    if (inside[j] !== 1) return
    const step = L(from) - L(j)
    if (shadowLike[j] !== 1 || step > SHADOW_STEP_L || step < -SHADOW_RISE_L) return
    const run = step < SHADOW_FLAT_STEP ? flat[from] + 1 : 0
    if (run > SHADOW_FLAT_RUN) return
    flat[j] = run
    inside[j] = 2 // peeled
    queue[tail++] = j
  }
  // Seeds: product pixels next to the backdrop, grown from that backdrop pixel.
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      const i = row + x
      if (inside[i] !== 1) continue
      if (x > 0 && inside[i - 1] === 0) offer(i, i - 1)
      else if (x < width - 1 && inside[i + 1] === 0) offer(i, i + 1)
      else if (y > 0 && inside[i - width] === 0) offer(i, i - width)
      else if (y < height - 1 && inside[i + width] === 0) offer(i, i + width)
    }
  }
  for (let head = 0; head < tail; head++) {
    const i = queue[head]
    const x = i % width
    if (x > 0) offer(i - 1, i)
    if (x < width - 1) offer(i + 1, i)
    if (i >= width) offer(i - width, i)
    if (i + width < n) offer(i + width, i)
  }
  tail = peelShadowCores(image, backdrop, inside, L, backdropHue, queue, tail)
  for (let k = 0; k < tail; k++) {
    const i = queue[k]
    const x = i % width
    clearBits(words, ((i - x) / width) * stride, x, x + 1)
  }
  return tail
}

/** A shadow's core may be this much darker than the backdrop (CIE L*) once the peel has led up to it. */
const CORE_MAX_DARKENING = 24
/** The largest core, as a share of the product's pixels: a contact shadow's, not a grey part's. */
const CORE_MAX_SHARE = 0.03

/**
 * The cores the peel stopped short of: where a shadow is deepest (under a
 * cap's brim, a bag's base) it gets darker than SHADOW_MAX_DARKENING and
 * stays flat, and that patch of grey was carried into the scene as a smear
 * the fidelity check can't see (the mask said product). A core is peeled
 * when all of it is the backdrop's hue and at most CORE_MAX_DARKENING
 * darker, it is small (CORE_MAX_SHARE of the product), and the peel reaches
 * it gradually along most of their border. why those three: a grey part of
 * the product (a sole, a trim) is as grey, but it meets the backdrop at a
 * step, and a grey garment is one large region. Returns the new queue length
 * (peeled pixels appended).
 */
function peelShadowCores(
  image: RawImage,
  backdrop: Backdrop,
  inside: Uint8Array,
  L: (i: number) => number,
  backdropHue: Uint8Array,
  queue: Int32Array,
  tail: number,
): number {
  const { width, height } = image
  const n = width * height
  let productCount = 0
  for (let i = 0; i < n; i++) if (inside[i] !== 0) productCount++
  const maxCore = Math.floor(productCount * CORE_MAX_SHARE)
  if (maxCore < 4) return tail
  const coreLike = (i: number): boolean => {
    const darker = backdrop.L - L(i)
    return darker >= -1 && darker <= CORE_MAX_DARKENING && backdropHue[i] === 1
  }
  // 3: looked at and left as product (in a core too large or not reached gradually).
  const peeledBefore = tail
  const region = new Int32Array(maxCore + 1)
  const neighbours = (i: number, visit: (j: number) => void): void => {
    const x = i % width
    if (x > 0) visit(i - 1)
    if (x < width - 1) visit(i + 1)
    if (i >= width) visit(i - width)
    if (i + width < n) visit(i + width)
  }
  for (let k = 0; k < peeledBefore; k++) {
    neighbours(queue[k], (seed) => {
      if (inside[seed] !== 1 || !coreLike(seed)) return
      // Grow the core from the seed; give up once it is larger than a core can be.
      let size = 0
      let open = 0
      let gradual = 0
      let touching = 0
      let tooLarge = false
      region[size++] = seed
      inside[seed] = 4
      while (open < size) {
        const i = region[open++]
        neighbours(i, (j) => {
          if (inside[j] === 2) {
            touching++
            if (Math.abs(L(j) - L(i)) <= SHADOW_STEP_L) gradual++
            return
          }
          if (inside[j] !== 1 || tooLarge) return
          if (!coreLike(j)) return
          if (size > maxCore) {
            tooLarge = true
            return
          }
          inside[j] = 4
          region[size++] = j
        })
        if (tooLarge) break
      }
      const peel = !tooLarge && touching >= 3 && gradual * 2 >= touching
      for (let r = 0; r < size; r++) inside[region[r]] = peel ? 2 : 3
      if (peel) for (let r = 0; r < size; r++) queue[tail++] = region[r]
    })
  }
  return tail
}

// ---------------------------------------------------------------- shared

/** Bounding box and coverage of a mask, refusing masks that found nothing or everything. */
function finish(mask: RawImage, sourceWidth: number, sourceHeight: number, origin: ProductMask['origin']): ProductMask {
  const { width, height, data } = mask
  let minX = width
  let minY = height
  let maxX = -1
  let maxY = -1
  let weight = 0
  for (let y = 0; y < height; y++) {
    const row = y * width
    let first = 0
    while (first < width && data[row + first] === 0) first++
    if (first === width) continue
    let last = width - 1
    while (data[row + last] === 0) last--
    for (let x = first; x <= last; x++) weight += data[row + x]
    if (first < minX) minX = first
    if (last > maxX) maxX = last
    if (minY === height) minY = y
    maxY = y
  }
  const coverage = weight / 255 / (width * height)
  if (coverage < MIN_COVERAGE || coverage > MAX_COVERAGE) {
    const found = coverage < MIN_COVERAGE ? 'almost nothing' : 'almost the whole photo'
    throw new AppError(
      'BACKEND_NEEDS_MASK',
      `The product cut-out covers ${found}, so it can't be placed in a scene. ${NEEDS_MASK_HINT}`,
      {
        details: { coverage, origin },
      },
    )
  }
  const sx = sourceWidth / width
  const sy = sourceHeight / height
  const left = Math.max(0, Math.floor(minX * sx))
  const top = Math.max(0, Math.floor(minY * sy))
  const right = Math.min(sourceWidth, Math.ceil((maxX + 1) * sx))
  const bottom = Math.min(sourceHeight, Math.ceil((maxY + 1) * sy))
  return { mask, bbox: { left, top, width: right - left, height: bottom - top }, coverage, origin }
}
