import sharp from 'sharp'
import type { FidelityReport, Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { deltaE2000, srgbToLab } from './colour.ts'
import { compareDetail, detailScore, prepareDetail, type DetailMeasures, type DetailReference } from './fidelity-detail.server.ts'
import { erode } from './morphology.ts'

/** Bump when the measurement or the score formula changes: scores of different versions don't compare. */
export const FIDELITY_VERSION = 3
/** Long edge of the grid both images are compared on. why 512: 8×8 SSIM windows still see print and seams, at a fraction of a render's cost. */
export const FIDELITY_EDGE = 512
/** Working px the product mask is eroded by, so resampled edges and the feather don't count as changes. */
const ERODE_RADIUS = 2
const WINDOW = 8
const WINDOW_STRIDE = 4

export interface FidelityInput {
  source: SourceImage
  /** Product mask covering the source frame (any resolution), white = product. */
  sourceMask: RawImage
  /** The render: decoded pixels, or the encoded file a backend returned. */
  result: RawImage | Buffer
  placement: Placement
}

/**
 * ssim: mean SSIM of luminance over 8×8 windows wholly inside the product.
 * deltaEMean, deltaEP95: ΔE2000 over product pixels.
 * maskCoverage: share of the product (mask mass) inside the result frame.
 */
export type Fidelity = FidelityReport

/**
 * Version 2 (the shift-robust measures of fidelity-detail.server.ts ran, as
 * they do for every render): the score is detailScore() there — structure,
 * colour, edge and print detail, each judged after aligning the result.
 * Version 3 is version 2 with the edge's coverage loss counted as a halo only
 * as far as the band moved toward the source's backdrop (haloShare there).
 * Called without them, the version-1 formula below.
 *
 * Score formula (version 1), each part 0..1, multiplied, × 100:
 *
 *   structure = clamp((ssim − 0.80) / (0.95 − 0.80))
 *       an untouched composite measures 0.96–1 (resampling and JPEG only);
 *       a blur of σ ≈ 0.6 % of the canvas height measures ~0.83–0.91.
 *   colour    = 1 / (1 + (ΔE / 3)^4),  ΔE = max(deltaEMean, deltaEP95 / 2)
 *       a logistic in ΔE: 1 → 0.99, 1.5 → 0.94, 2 → 0.84, 3 → 0.5, 4 → 0.24.
 *       ΔE ≈ 1 is a just-noticeable difference, ≈ 3 is visible at a glance;
 *       the p95 term catches a local change (a recoloured logo) the mean hides.
 *   coverage  = clamp((maskCoverage − 0.6) / 0.38)
 *       a product cut by the frame is not the product; ≥ 98 % visible is whole.
 */
export function fidelityScore(
  ssim: number,
  deltaEMean: number,
  deltaEP95: number,
  maskCoverage: number,
  detail?: DetailMeasures,
): number {
  if (detail) return detailScore(detail, maskCoverage)
  const clamp = (v: number): number => Math.min(1, Math.max(0, v))
  const structure = clamp((ssim - 0.8) / (0.95 - 0.8))
  const dE = Math.max(deltaEMean, deltaEP95 / 2)
  const colour = 1 / (1 + (dE / 3) ** 4)
  const coverage = clamp((maskCoverage - 0.6) / 0.38)
  return Math.round(1000 * structure * colour * coverage) / 10
}

/**
 * How faithfully the render kept the product. The source crop and the
 * result's product region are resampled onto the same small grid through the
 * placement, so pixel (i, j) of both is the same point of the product.
 */
export async function measureFidelity(input: FidelityInput): Promise<Fidelity> {
  const { source, sourceMask, result, placement } = input
  const reference = await prepareFidelity({ source, sourceMask, placement, frame: await resultSize(result) })
  return compareFidelity(reference, result)
}

/** The source side of a fidelity check, resampled and ready to compare with a result. */
export interface FidelityReference {
  frame: { width: number; height: number }
  coverage: number
  /** The shift-robust measures' source side (absent when the product isn't in the frame). */
  detail?: DetailReference
  /** Absent when no part of the product is visible in the frame. */
  grid?: {
    resultRect: Rect
    width: number
    height: number
    /** Source crop on the grid, RGB. */
    before: Uint8Array
    /** 1 where the grid pixel is solidly product. */
    inside: Uint8Array
  }
}

/**
 * Everything that needs only the source and the placement. why separate: it
 * needs no result pixels, so a backend can run it whenever it has a core to
 * spare (the CPU studio runs it beside its final encode), and only the
 * comparison waits for final pixels.
 */
export async function prepareFidelity(input: {
  source: SourceImage
  sourceMask: RawImage
  placement: Placement
  frame: { width: number; height: number }
}): Promise<FidelityReference> {
  const { source, sourceMask, placement, frame } = input
  const region = visibleRegion(placement, frame)
  if (!region) return { frame, coverage: 0 }
  // why started first: its resample runs in libvips while this one's does.
  const detailing = prepareDetail({ source, sourceMask, placement, frame })
  detailing.catch(() => undefined)
  const k = Math.min(1, FIDELITY_EDGE / Math.max(region.result.width, region.result.height))
  const width = Math.max(WINDOW, Math.round(region.result.width * k))
  const height = Math.max(WINDOW, Math.round(region.result.height * k))
  // why the resample first: libvips works on its own thread while this one
  // is free again; the mask sums below run when the caller next waits.
  const before = await resample(source.pixels, region.source, width, height)
  const coverage = maskCoverage(sourceMask, source, region)
  if (coverage === 0) return { frame, coverage }
  const inside = productGrid(sourceMask, source, region.source, width, height)
  const detail = await detailing
  return { frame, coverage, detail, grid: { resultRect: region.result, width, height, before, inside } }
}

/** Compares a result (pixels or encoded file) of `reference.frame` size with the prepared source side. */
export async function compareFidelity(reference: FidelityReference, result: RawImage | Buffer): Promise<Fidelity> {
  const { grid, coverage } = reference
  if (!grid) return finish(0, 99, 99, 0)
  const detailing = reference.detail ? compareDetail(reference.detail, result) : undefined
  detailing?.catch(() => undefined)
  const after = await resample(result, grid.resultRect, grid.width, grid.height)
  const ssim = maskedSsim(grid.before, after, grid.inside, grid.width, grid.height)
  const { mean, p95 } = deltaEStats(grid.before, after, grid.inside)
  return finish(ssim, mean, p95, coverage, await detailing)
}

function finish(ssim: number, deltaEMean: number, deltaEP95: number, maskCoverage: number, detail?: DetailMeasures): Fidelity {
  return {
    ssim: round(ssim, 4),
    deltaEMean: round(deltaEMean, 3),
    deltaEP95: round(deltaEP95, 3),
    maskCoverage: round(maskCoverage, 4),
    ...(detail && {
      interiorSsim: round(detail.interiorSsim, 4),
      matchedDeltaEMean: round(detail.matchedDeltaEMean, 3),
      matchedDeltaEP95: round(detail.matchedDeltaEP95, 3),
      edgeScore: round(detail.edgeScore, 3),
      detailRatio: round(detail.detailRatio, 3),
      alignment: detail.alignment,
      heat: detail.heat,
    }),
    score: fidelityScore(ssim, deltaEMean, deltaEP95, maskCoverage, detail),
    version: FIDELITY_VERSION,
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

interface Rect {
  left: number
  top: number
  width: number
  height: number
}

function isRaw(image: RawImage | Buffer): image is RawImage {
  return !Buffer.isBuffer(image)
}

async function resultSize(result: RawImage | Buffer): Promise<{ width: number; height: number }> {
  if (isRaw(result)) return result
  const meta = await sharp(result).metadata()
  return { width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height }
}

/** The part of the placed product inside the result frame, in result px and in source px (whole pixels). */
function visibleRegion(p: Placement, frame: { width: number; height: number }): { result: Rect; source: Rect } | undefined {
  const x0 = Math.max(0, Math.ceil(p.x))
  const y0 = Math.max(0, Math.ceil(p.y))
  const x1 = Math.min(frame.width, Math.floor(p.x + p.crop.width * p.scale))
  const y1 = Math.min(frame.height, Math.floor(p.y + p.crop.height * p.scale))
  if (x1 - x0 < WINDOW || y1 - y0 < WINDOW) return undefined
  const left = Math.round(p.crop.left + (x0 - p.x) / p.scale)
  const top = Math.round(p.crop.top + (y0 - p.y) / p.scale)
  const width = Math.max(1, Math.min(p.crop.left + p.crop.width - left, Math.round((x1 - x0) / p.scale)))
  const height = Math.max(1, Math.min(p.crop.top + p.crop.height - top, Math.round((y1 - y0) / p.scale)))
  return { result: { left: x0, top: y0, width: x1 - x0, height: y1 - y0 }, source: { left, top, width, height } }
}

/** Share of the mask's mass that falls inside the visible source region. */
function maskCoverage(mask: RawImage, source: SourceImage, region: { source: Rect } | undefined): number {
  const sx = mask.width / source.width
  const sy = mask.height / source.height
  const r = region?.source
  const x0 = r ? Math.max(0, Math.floor(r.left * sx)) : 0
  const x1 = r ? Math.min(mask.width, Math.ceil((r.left + r.width) * sx)) : 0
  const y0 = r ? Math.floor(r.top * sy) : 0
  const y1 = r ? Math.ceil((r.top + r.height) * sy) : 0
  const data = mask.data
  let total = 0
  let visible = 0
  for (let y = 0; y < mask.height; y++) {
    const base = y * mask.width
    let row = 0
    if (y >= y0 && y < y1 && x0 < x1) {
      let inside = 0
      for (let x = 0; x < x0; x++) row += data[base + x]
      for (let x = x0; x < x1; x++) inside += data[base + x]
      for (let x = x1; x < mask.width; x++) row += data[base + x]
      visible += inside
      row += inside
    } else {
      for (let x = 0; x < mask.width; x++) row += data[base + x]
    }
    total += row
  }
  return total === 0 ? 0 : visible / total
}

/**
 * Resamples a rectangle of an image to width × height RGB (libvips, off the
 * main thread). why a triangle kernel: libvips box-shrinks by the integer
 * part of the factor first, so the kernel only finishes the last step; both
 * sides go through the same filter, and Lanczos would cost twice as much.
 */
async function resample(image: RawImage | Buffer, rect: Rect, width: number, height: number): Promise<Uint8Array> {
  const input = isRaw(image)
    ? sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    : sharp(image, { autoOrient: true })
  return input
    .extract(rect)
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer()
}

/**
 * 1 where the working-grid pixel is solidly product: the source mask sampled
 * over the region, thresholded, and eroded — from the region's own border too.
 */
function productGrid(mask: RawImage, source: SourceImage, rect: Rect, width: number, height: number): Uint8Array {
  const grid = new Uint8Array(width * height)
  const sx = mask.width / source.width
  const sy = mask.height / source.height
  const column = new Int32Array(width)
  for (let i = 1; i < width - 1; i++) {
    column[i] = Math.min(mask.width - 1, Math.floor((rect.left + ((i + 0.5) / width) * rect.width) * sx))
  }
  for (let j = 1; j < height - 1; j++) {
    const my = Math.min(mask.height - 1, Math.floor((rect.top + ((j + 0.5) / height) * rect.height) * sy))
    const row = my * mask.width
    for (let i = 1; i < width - 1; i++) grid[j * width + i] = mask.data[row + column[i]] >= 250 ? 1 : 0
  }
  return erode(grid, width, height, ERODE_RADIUS)
}

/** Rec. 601 luma of 8-bit RGB; SSIM was defined on luma. */
function luma(rgb: Uint8Array, count: number): Float32Array {
  const y = new Float32Array(count)
  for (let i = 0, p = 0; i < count; i++, p += 3) y[i] = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2]
  return y
}

const C1 = (0.01 * 255) ** 2
const C2 = (0.03 * 255) ** 2

/**
 * Mean SSIM (Wang et al. 2004) over 8×8 windows at stride 4 that lie wholly
 * inside the product. Falls back to one window over all product pixels when
 * the product is too small for any full window.
 * why the summed-area table: it settles most windows without summing them.
 * A window with a pixel outside the product is skipped, and one whose 64
 * pixel pairs are all equal has an SSIM of exactly 1 (every term of the
 * formula is the same on both sides), so the mean is the one a full pass
 * gives; luma is only computed when some window differs.
 */
function maskedSsim(before: Uint8Array, after: Uint8Array, inside: Uint8Array, width: number, height: number): number {
  const count = width * height
  // Per pixel: OUTSIDE when not product, else 1 when the pair differs, else 0.
  const kind = new Uint16Array(count)
  for (let p = 0, o = 0; p < count; p++, o += 3) {
    kind[p] =
      inside[p] === 0
        ? OUTSIDE
        : before[o] === after[o] && before[o + 1] === after[o + 1] && before[o + 2] === after[o + 2]
          ? 0
          : 1
  }
  const sums = summedArea(kind, width, height)
  let a: Float32Array | undefined
  let b: Float32Array | undefined
  let total = 0
  let windows = 0
  for (let y = 0; y + WINDOW <= height; y += WINDOW_STRIDE) {
    for (let x = 0; x + WINDOW <= width; x += WINDOW_STRIDE) {
      const sum = windowSum(sums, width, x, y)
      if (sum >= OUTSIDE) continue
      if (sum === 0) total += 1
      else {
        a ??= luma(before, count)
        b ??= luma(after, count)
        total += windowSsim(a, b, width, x, y, WINDOW)
      }
      windows++
    }
  }
  if (windows > 0) return total / windows
  return ssimOf(luma(before, count), luma(after, count), inside, 0, inside.length) ?? 0
}

/** Weight of a pixel outside the product in maskedSsim's table: more than a window's worth of differing pixels. */
const OUTSIDE = WINDOW * WINDOW + 1

/** Summed-area table: entry (x, y) of a (width + 1)-wide table sums the plane above and left of (x, y). */
function summedArea(plane: Uint16Array, width: number, height: number): Int32Array {
  const stride = width + 1
  const sums = new Int32Array(stride * (height + 1))
  for (let y = 0; y < height; y++) {
    const from = y * width
    const up = y * stride + 1
    const out = up + stride
    let row = 0
    for (let x = 0; x < width; x++) {
      row += plane[from + x]
      sums[out + x] = sums[up + x] + row
    }
  }
  return sums
}

/** The plane's sum over the WINDOW × WINDOW square at (x, y). */
function windowSum(sums: Int32Array, width: number, x: number, y: number): number {
  const stride = width + 1
  const top = y * stride
  const bottom = (y + WINDOW) * stride
  return sums[bottom + x + WINDOW] - sums[bottom + x] - sums[top + x + WINDOW] + sums[top + x]
}

/** SSIM of one size × size window wholly inside the product. */
function windowSsim(a: Float32Array, b: Float32Array, width: number, x: number, y: number, size: number): number {
  let sa = 0
  let sb = 0
  let saa = 0
  let sbb = 0
  let sab = 0
  for (let j = y; j < y + size; j++) {
    const base = j * width
    for (let i = x; i < x + size; i++) {
      const p = base + i
      const va = a[p]
      const vb = b[p]
      sa += va
      sb += vb
      saa += va * va
      sbb += vb * vb
      sab += va * vb
    }
  }
  return ssimFromSums(sa, sb, saa, sbb, sab, size * size)
}

function ssimOf(a: Float32Array, b: Float32Array, inside: Uint8Array, from: number, to: number): number | undefined {
  let n = 0
  let sa = 0
  let sb = 0
  let saa = 0
  let sbb = 0
  let sab = 0
  for (let p = from; p < to; p++) {
    if (inside[p] === 0) continue
    n++
    sa += a[p]
    sb += b[p]
    saa += a[p] * a[p]
    sbb += b[p] * b[p]
    sab += a[p] * b[p]
  }
  return n < 2 ? undefined : ssimFromSums(sa, sb, saa, sbb, sab, n)
}

function ssimFromSums(sa: number, sb: number, saa: number, sbb: number, sab: number, n: number): number {
  const ma = sa / n
  const mb = sb / n
  const va = saa / n - ma * ma
  const vb = sbb / n - mb * mb
  const cov = sab / n - ma * mb
  return ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2))
}

/** Histogram resolution for the p95: 0.01 ΔE bins up to 100. */
const HISTOGRAM_BINS = 10_000
/**
 * Most product pixels ΔE2000 is evaluated on. why: a mean and a 95th
 * percentile are stable to within ~0.05 ΔE from 16k evenly spread
 * samples, and each evaluation costs two Lab conversions and a ΔE2000.
 */
const COLOUR_SAMPLES = 16_000

function deltaEStats(before: Uint8Array, after: Uint8Array, inside: Uint8Array): { mean: number; p95: number } {
  let insideCount = 0
  for (let p = 0; p < inside.length; p++) insideCount += inside[p]
  if (insideCount === 0) return { mean: 99, p95: 99 }
  const every = Math.max(1, Math.floor(insideCount / COLOUR_SAMPLES))
  const histogram = new Uint32Array(HISTOGRAM_BINS + 1)
  const lab = new Float64Array(6)
  let sum = 0
  let n = 0
  // Every `every`-th product pixel, counting from the first.
  let skip = 0
  for (let p = 0; p < inside.length; p++) {
    if (inside[p] === 0) continue
    if (skip > 0) {
      skip--
      continue
    }
    skip = every - 1
    const o = p * 3
    n++
    // why: identical colours are ΔE 0 exactly; an untouched product is mostly that.
    if (before[o] === after[o] && before[o + 1] === after[o + 1] && before[o + 2] === after[o + 2]) {
      histogram[0]++
      continue
    }
    srgbToLab(before[o], before[o + 1], before[o + 2], lab, 0)
    srgbToLab(after[o], after[o + 1], after[o + 2], lab, 3)
    const dE = deltaE2000(lab[0], lab[1], lab[2], lab[3], lab[4], lab[5])
    sum += dE
    histogram[Math.min(HISTOGRAM_BINS, Math.floor(dE * 100))]++
  }
  let seen = 0
  let bin = 0
  while (bin < HISTOGRAM_BINS && seen + histogram[bin] < 0.95 * n) seen += histogram[bin++]
  return { mean: sum / n, p95: (bin + 0.5) / 100 }
}
