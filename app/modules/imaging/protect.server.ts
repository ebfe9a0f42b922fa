import type { Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
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

/** Bilinear sample of a single-channel plane at (x, y), clamped to its edges. */
function samplePlane(plane: RawImage, x: number, y: number): number {
  const w = plane.width
  const h = plane.height
  const x0 = Math.max(0, Math.min(w - 1, Math.floor(x)))
  const y0 = Math.max(0, Math.min(h - 1, Math.floor(y)))
  const x1 = Math.min(w - 1, x0 + 1)
  const y1 = Math.min(h - 1, y0 + 1)
  const fx = Math.max(0, Math.min(1, x - x0))
  const fy = Math.max(0, Math.min(1, y - y0))
  const d = plane.data
  const top = d[y0 * w + x0] * (1 - fx) + d[y0 * w + x1] * fx
  const bottom = d[y1 * w + x0] * (1 - fx) + d[y1 * w + x1] * fx
  return top * (1 - fy) + bottom * fy
}

function compositeBack(input: ProtectInput): ProtectOutput {
  const { source, sourceMask, result, placement } = input
  const out = new Uint8Array(result.data)
  const src = source.pixels
  const sc = src.channels
  const mx = sourceMask.width / source.width
  const my = sourceMask.height / source.height
  const { crop, scale } = placement
  const x0 = Math.max(0, Math.floor(placement.x))
  const y0 = Math.max(0, Math.floor(placement.y))
  const x1 = Math.min(result.width, Math.ceil(placement.x + crop.width * scale))
  const y1 = Math.min(result.height, Math.ceil(placement.y + crop.height * scale))
  let changed = 0
  for (let y = y0; y < y1; y++) {
    const sy = crop.top + (y + 0.5 - placement.y) / scale - 0.5
    if (sy < -0.5 || sy > src.height - 0.5) continue
    for (let x = x0; x < x1; x++) {
      const sx = crop.left + (x + 0.5 - placement.x) / scale - 0.5
      if (sx < -0.5 || sx > src.width - 0.5) continue
      const m = samplePlane(sourceMask, (sx + 0.5) * mx - 0.5, (sy + 0.5) * my - 0.5)
      if (m <= 0) continue
      const i = (y * result.width + x) * 3
      // Bilinear source colour (alpha flattened over the result pixel).
      const fx = sx - Math.floor(sx)
      const fy = sy - Math.floor(sy)
      const ax = Math.max(0, Math.min(src.width - 1, Math.floor(sx)))
      const ay = Math.max(0, Math.min(src.height - 1, Math.floor(sy)))
      const bx = Math.min(src.width - 1, ax + 1)
      const by = Math.min(src.height - 1, ay + 1)
      const p00 = (ay * src.width + ax) * sc
      const p10 = (ay * src.width + bx) * sc
      const p01 = (by * src.width + ax) * sc
      const p11 = (by * src.width + bx) * sc
      let distance = 0
      const rgb = [0, 0, 0]
      for (let c = 0; c < 3; c++) {
        const v =
          (src.data[p00 + c] * (1 - fx) + src.data[p10 + c] * fx) * (1 - fy) + (src.data[p01 + c] * (1 - fx) + src.data[p11 + c] * fx) * fy
        rgb[c] = v
        const dv = v - out[i + c]
        distance += dv * dv
      }
      let alpha = 1
      if (sc === 4) {
        const a = (src.data[p00 + 3] * (1 - fx) + src.data[p10 + 3] * fx) * (1 - fy) + (src.data[p01 + 3] * (1 - fx) + src.data[p11 + 3] * fx) * fy
        alpha = a / 255
      }
      // Seam weight: the mask's feathered edge, made solid where source and
      // result agree (nothing to blend, so no visible seam) and left soft
      // where they differ (the result has something else over the edge).
      const soft = m / 255
      const w = (m < 255 && Math.sqrt(distance) < AGREE_RGB ? Math.min(1, soft * SEAM_PX) : soft) * alpha
      if (w <= 0) continue
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(rgb[c] * w + out[i + c] * (1 - w))
      changed++
    }
  }
  return { pixels: { ...result, data: out }, method: 'composite', changed }
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
