import type { Placement, RawImage, SourceImage } from './types.ts'
import { linearToSrgb8, srgbToLab } from './colour.ts'

// Product protection: what a generative backend returns is corrected so the
// product is the merchant's product.
// - Geometry unchanged (scene swap, model swap on the same photo): the
//   original product pixels are composited back over the result through the
//   placement, with a feathered seam that follows the result where the two
//   genuinely differ at the edge (an arm over a sleeve) and the source where
//   they agree.
// - Geometry changed (try-on, mannequin → model): pixels cannot be copied, so
//   the colour inside the product region is moved to the source's CIELAB
//   statistics (per-channel mean and spread), leaving skin and background alone.

export interface ProtectInput {
  source: SourceImage
  /** Product mask covering the source frame (any resolution), white = product. */
  sourceMask: RawImage
  /** The backend's result, 3 channels. */
  result: RawImage
  placement: Placement
  geometry: 'unchanged' | 'changed'
  /** Changed geometry: where the product is in the result (backend segmentation), white = product. */
  resultMask?: RawImage
}

export interface ProtectOutput {
  pixels: RawImage
  method: 'composite' | 'colour-transfer' | 'none'
  /** Result pixels this changed. */
  changed: number
}

/** How much firmer the seam gets where source and result agree. */
const SEAM_PX = 2
/** Below this colour distance (8-bit RGB, Euclidean) source and result "agree" at the seam. */
const AGREE_RGB = 24

export function protectProduct(input: ProtectInput): ProtectOutput {
  if (input.result.channels !== 3) throw new Error('protectProduct expects a 3-channel result')
  if (input.geometry === 'unchanged') return compositeBack(input)
  if (!input.resultMask) return { pixels: input.result, method: 'none', changed: 0 }
  return transferColour(input, input.resultMask)
}

/**
 * Bilinear taps along one axis: for each output index, the two neighbouring
 * input indices (clamped) and the weight of the second. why tables: every
 * row of the composite reuses the same column taps, so the inner loop is a
 * few multiply-adds per channel with no per-pixel allocation or call.
 */
function taps(count: number, size: number, at: (i: number) => number) {
  const a = new Int32Array(count)
  const b = new Int32Array(count)
  const f = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const v = at(i)
    const lo = Math.max(0, Math.min(size - 1, Math.floor(v)))
    a[i] = lo
    b[i] = Math.min(size - 1, lo + 1)
    f[i] = Math.max(0, Math.min(1, v - lo))
  }
  return { a, b, f }
}

/**
 * The source side of a composite: everything compositeBack needs that does not
 * depend on the result, in the result frame. why apart: it needs only the
 * source, its mask and the placement, so the worker builds it while the
 * backend renders, and a QA-gate retry reuses it; what is left once the
 * result arrives (applyComposite) is a copy of the solid rows and a blend of
 * the seam.
 */
export interface CompositeLayer {
  frame: { width: number; height: number }
  /** Solid runs as triples: first frame pixel, length in pixels, offset into `solid` (bytes). */
  runs: Int32Array
  /** The source's product pixels of every solid run, rounded RGB, back to back. */
  solid: Uint8Array
  /** Seam pixels (feathered mask or partly transparent source): frame pixel index … */
  seamAt: Int32Array
  /** … the resampled source colour there (unrounded RGB), … */
  seamRgb: Float64Array
  /** … the mask value (0–255, interpolated) and the source's own alpha (0–1). */
  seamMask: Float64Array
  seamAlpha: Float64Array
}

/** The composite's source side for a result of `frame` size (see CompositeLayer). */
export function prepareComposite(input: {
  source: SourceImage
  sourceMask: RawImage
  placement: Placement
  frame: { width: number; height: number }
}): CompositeLayer {
  const { source, sourceMask, placement, frame } = input
  const src = source.pixels
  const sd = src.data
  const sc = src.channels
  const sw = src.width
  const md = sourceMask.data
  const mw = sourceMask.width
  const mx = sourceMask.width / source.width
  const my = sourceMask.height / source.height
  const { crop, scale } = placement
  const x0 = Math.max(0, Math.floor(placement.x))
  const y0 = Math.max(0, Math.floor(placement.y))
  const x1 = Math.min(frame.width, Math.ceil(placement.x + crop.width * scale))
  const y1 = Math.min(frame.height, Math.ceil(placement.y + crop.height * scale))
  const cols = Math.max(0, x1 - x0)
  // Per column: the source x, whether it lies on the source, its colour taps and its mask taps.
  const sxOf = (i: number) => crop.left + (x0 + i + 0.5 - placement.x) / scale - 0.5
  const inside = new Uint8Array(cols)
  for (let i = 0; i < cols; i++) {
    const sx = sxOf(i)
    inside[i] = sx < -0.5 || sx > sw - 0.5 ? 0 : 1
  }
  const colour = taps(cols, sw, sxOf)
  // why the source-space fraction for colour: the bilinear weight is sx − ⌊sx⌋, unclamped at the edges.
  const fxColour = new Float64Array(cols)
  for (let i = 0; i < cols; i++) {
    const sx = sxOf(i)
    fxColour[i] = sx - Math.floor(sx)
  }
  const maskX = taps(cols, mw, (i) => (sxOf(i) + 0.5) * mx - 0.5)
  // Per mask row, its first and last non-zero column (first > last: an empty row).
  // why: a row of the frame only needs the columns whose mask taps can be non-zero.
  const mh = sourceMask.height
  const firstOn = new Int32Array(mh).fill(mw)
  const lastOn = new Int32Array(mh).fill(-1)
  for (let r = 0; r < mh; r++) {
    const row = r * mw
    let c = 0
    while (c < mw && md[row + c] === 0) c++
    if (c === mw) continue
    firstOn[r] = c
    let e = mw - 1
    while (md[row + e] === 0) e--
    lastOn[r] = e
  }
  /** First column i whose right tap reaches mask column c (maskX.b is non-decreasing). */
  const fromColumn = (c: number): number => {
    let lo = 0
    let hi = cols
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (maskX.b[mid] < c) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  /** One past the last column i whose left tap is at or before mask column c. */
  const toColumn = (c: number): number => {
    let lo = 0
    let hi = cols
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (maskX.a[mid] <= c) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const runs = new Growing(Int32Array)
  const seamAt = new Growing(Int32Array)
  const seamRgb = new Growing(Float64Array)
  const seamMask = new Growing(Float64Array)
  const seamAlpha = new Growing(Float64Array)
  // why sized to the placed rectangle: every solid pixel lies in it, and the pushes stay plain stores.
  const solid = new Uint8Array(3 * cols * Math.max(0, y1 - y0))
  let solidLength = 0
  let runStart = -1
  let runFrom = 0
  const closeRun = (end: number) => {
    if (runStart < 0) return
    runs.push(runStart)
    runs.push(end - runStart)
    runs.push(runFrom)
    runStart = -1
  }
  for (let y = y0; y < y1; y++) {
    const sy = crop.top + (y + 0.5 - placement.y) / scale - 0.5
    if (sy < -0.5 || sy > src.height - 0.5) continue
    // Mask row taps.
    const mv = (sy + 0.5) * my - 0.5
    const my0 = Math.max(0, Math.min(mh - 1, Math.floor(mv)))
    const my1 = Math.min(mh - 1, my0 + 1)
    const mfy = Math.max(0, Math.min(1, mv - my0))
    const mRow0 = my0 * mw
    const mRow1 = my1 * mw
    // Colour row taps.
    const fy = sy - Math.floor(sy)
    const ay = Math.max(0, Math.min(src.height - 1, Math.floor(sy)))
    const by = Math.min(src.height - 1, ay + 1)
    const row0 = ay * sw
    const row1 = by * sw
    const outRow = y * frame.width
    const onFrom = Math.min(firstOn[my0], firstOn[my1])
    const onTo = Math.max(lastOn[my0], lastOn[my1])
    if (onFrom > onTo) continue
    const iEnd = toColumn(onTo)
    for (let i = fromColumn(onFrom); i < iEnd; i++) {
      const at = outRow + x0 + i
      if (inside[i] === 0) {
        closeRun(at)
        continue
      }
      const mxa = maskX.a[i]
      const mxb = maskX.b[i]
      const mfx = maskX.f[i]
      const m00 = md[mRow0 + mxa]
      const m10 = md[mRow0 + mxb]
      const m01 = md[mRow1 + mxa]
      const m11 = md[mRow1 + mxb]
      // why: most of the frame is plainly outside or inside the product.
      if ((m00 | m10 | m01 | m11) === 0) {
        closeRun(at)
        continue
      }
      const m = (m00 & m10 & m01 & m11) === 255 ? 255 : (m00 * (1 - mfx) + m10 * mfx) * (1 - mfy) + (m01 * (1 - mfx) + m11 * mfx) * mfy
      if (m <= 0) {
        closeRun(at)
        continue
      }
      const fx = fxColour[i]
      const p00 = (row0 + colour.a[i]) * sc
      const p10 = (row0 + colour.b[i]) * sc
      const p01 = (row1 + colour.a[i]) * sc
      const p11 = (row1 + colour.b[i]) * sc
      const r = (sd[p00] * (1 - fx) + sd[p10] * fx) * (1 - fy) + (sd[p01] * (1 - fx) + sd[p11] * fx) * fy
      const g = (sd[p00 + 1] * (1 - fx) + sd[p10 + 1] * fx) * (1 - fy) + (sd[p01 + 1] * (1 - fx) + sd[p11 + 1] * fx) * fy
      const b = (sd[p00 + 2] * (1 - fx) + sd[p10 + 2] * fx) * (1 - fy) + (sd[p01 + 2] * (1 - fx) + sd[p11 + 2] * fx) * fy
      let alpha = 1
      if (sc === 4) {
        const a = (sd[p00 + 3] * (1 - fx) + sd[p10 + 3] * fx) * (1 - fy) + (sd[p01 + 3] * (1 - fx) + sd[p11 + 3] * fx) * fy
        alpha = a / 255
      }
      if (m === 255 && alpha === 1) {
        // Solid: the source pixel replaces the result's whatever the result holds.
        if (runStart < 0) {
          runStart = at
          runFrom = solidLength
        }
        solid[solidLength] = Math.round(r)
        solid[solidLength + 1] = Math.round(g)
        solid[solidLength + 2] = Math.round(b)
        solidLength += 3
        continue
      }
      closeRun(at)
      if (alpha <= 0) continue
      seamAt.push(at)
      seamRgb.push(r)
      seamRgb.push(g)
      seamRgb.push(b)
      seamMask.push(m)
      seamAlpha.push(alpha)
    }
    closeRun(outRow + x0 + iEnd)
  }
  return {
    frame: { width: frame.width, height: frame.height },
    runs: runs.done(),
    solid: solid.subarray(0, solidLength),
    seamAt: seamAt.done(),
    seamRgb: seamRgb.done(),
    seamMask: seamMask.done(),
    seamAlpha: seamAlpha.done(),
  }
}

/**
 * The composite's result side: the solid runs copied in, the seam blended.
 * Seam weight: the mask's feathered edge, made solid where source and result
 * agree (nothing to blend, so no visible seam) and left soft where they
 * differ (the result has something else over the edge). `inPlace` writes
 * into the result's own pixels (the caller owns them).
 */
export function applyComposite(layer: CompositeLayer, result: RawImage, inPlace = false): ProtectOutput {
  if (result.width !== layer.frame.width || result.height !== layer.frame.height || result.channels !== 3) {
    throw new Error(`applyComposite: a ${layer.frame.width}×${layer.frame.height} RGB result expected`)
  }
  const out = inPlace ? result.data : new Uint8Array(result.data)
  const { runs, solid, seamAt, seamRgb, seamMask, seamAlpha } = layer
  let changed = 0
  for (let k = 0; k < runs.length; k += 3) {
    const length = runs[k + 1]
    out.set(solid.subarray(runs[k + 2], runs[k + 2] + 3 * length), 3 * runs[k])
    changed += length
  }
  for (let k = 0; k < seamAt.length; k++) {
    const o = 3 * seamAt[k]
    const r = seamRgb[3 * k]
    const g = seamRgb[3 * k + 1]
    const b = seamRgb[3 * k + 2]
    const m = seamMask[k]
    const soft = m / 255
    let w = soft
    if (m < 255) {
      const dr = r - out[o]
      const dg = g - out[o + 1]
      const db = b - out[o + 2]
      if (Math.sqrt(dr * dr + dg * dg + db * db) < AGREE_RGB) w = Math.min(1, soft * SEAM_PX)
    }
    w *= seamAlpha[k]
    if (w <= 0) continue
    if (w === 1) {
      out[o] = Math.round(r)
      out[o + 1] = Math.round(g)
      out[o + 2] = Math.round(b)
      changed++
      continue
    }
    out[o] = Math.round(r * w + out[o] * (1 - w))
    out[o + 1] = Math.round(g * w + out[o + 1] * (1 - w))
    out[o + 2] = Math.round(b * w + out[o + 2] * (1 - w))
    changed++
  }
  return { pixels: { ...result, data: out }, method: 'composite', changed }
}

function compositeBack(input: ProtectInput): ProtectOutput {
  const layer = prepareComposite({ ...input, frame: input.result })
  return applyComposite(layer, input.result)
}

/** A typed array that grows by doubling (the layer's sizes are known only at the end). */
class Growing<T extends Int32Array | Float64Array> {
  private data: T
  length = 0
  constructor(private readonly make: new (n: number) => T) {
    this.data = new make(1024)
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new this.make(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }
  done(): T {
    return this.data.slice(0, this.length) as T
  }
}

interface LabStats {
  mean: [number, number, number]
  std: [number, number, number]
  count: number
}

function labStats(pixels: RawImage, mask: RawImage): LabStats {
  const lab = new Float64Array(3)
  const sum = [0, 0, 0]
  const sq = [0, 0, 0]
  let count = 0
  const mx = mask.width / pixels.width
  const my = mask.height / pixels.height
  const ch = pixels.channels
  for (let y = 0; y < pixels.height; y++) {
    for (let x = 0; x < pixels.width; x++) {
      const m = mask.data[Math.min(mask.height - 1, Math.floor(y * my)) * mask.width + Math.min(mask.width - 1, Math.floor(x * mx))]
      if (m < 128) continue
      const i = (y * pixels.width + x) * ch
      if (ch === 4 && pixels.data[i + 3] < 128) continue
      srgbToLab(pixels.data[i], pixels.data[i + 1], pixels.data[i + 2], lab)
      for (let c = 0; c < 3; c++) {
        sum[c] += lab[c]
        sq[c] += lab[c] * lab[c]
      }
      count++
    }
  }
  const mean = sum.map((s) => s / Math.max(1, count)) as [number, number, number]
  const std = sq.map((s, c) => Math.sqrt(Math.max(1e-6, s / Math.max(1, count) - mean[c] * mean[c]))) as [number, number, number]
  return { mean, std, count }
}

const XN = 0.95047
const ZN = 1.08883

/** CIELAB (D65) → 8-bit sRGB, written into out[offset..offset+2]. */
export function labToSrgb(L: number, a: number, b: number, out: Uint8Array, offset: number): void {
  const fy = (L + 16) / 116
  const fx = fy + a / 500
  const fz = fy - b / 200
  const inv = (f: number) => (f > 6 / 29 ? f * f * f : 3 * (6 / 29) ** 2 * (f - 4 / 29))
  const X = XN * inv(fx)
  const Y = inv(fy)
  const Z = ZN * inv(fz)
  out[offset] = linearToSrgb8(3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z)
  out[offset + 1] = linearToSrgb8(-0.969266 * X + 1.8760108 * Y + 0.041556 * Z)
  out[offset + 2] = linearToSrgb8(0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z)
}

function transferColour(input: ProtectInput, resultMask: RawImage): ProtectOutput {
  const { source, sourceMask, result } = input
  const want = labStats(source.pixels, sourceMask)
  const have = labStats(result, resultMask)
  if (want.count === 0 || have.count === 0) return { pixels: result, method: 'none', changed: 0 }
  // why cap the gain: a product region that is mostly skin or shadow in the
  // result must not get its contrast blown up to match a flat garment.
  const gain = [0, 1, 2].map((c) => Math.max(0.5, Math.min(2, want.std[c] / have.std[c])))
  const out = new Uint8Array(result.data)
  const lab = new Float64Array(3)
  const mx = resultMask.width / result.width
  const my = resultMask.height / result.height
  let changed = 0
  for (let y = 0; y < result.height; y++) {
    for (let x = 0; x < result.width; x++) {
      const m = resultMask.data[Math.min(resultMask.height - 1, Math.floor(y * my)) * resultMask.width + Math.min(resultMask.width - 1, Math.floor(x * mx))]
      if (m === 0) continue
      const i = (y * result.width + x) * 3
      srgbToLab(out[i], out[i + 1], out[i + 2], lab)
      const w = m / 255
      const L = lab[0] + w * ((lab[0] - have.mean[0]) * gain[0] + want.mean[0] - lab[0])
      const a = lab[1] + w * ((lab[1] - have.mean[1]) * gain[1] + want.mean[1] - lab[1])
      const b = lab[2] + w * ((lab[2] - have.mean[2]) * gain[2] + want.mean[2] - lab[2])
      labToSrgb(Math.max(0, Math.min(100, L)), a, b, out, i)
      changed++
    }
  }
  return { pixels: { ...result, data: out }, method: 'colour-transfer', changed }
}
