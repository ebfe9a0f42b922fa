// Fabric for the catalog's flat vector garments: grain, a periodic weave and
// soft folds, painted inside the product only so the cut-out keeps its edge.
import type { RawImage } from '#app/modules/backends/types.ts'
import { rng } from '#test/fixtures/product-images.ts'
import { clamp01, clamp8, distanceInside, gauss } from '../golden/pixels.ts'

export interface Fabric {
  /** plain: a checker of crossing threads; twill: diagonal ribs; knit: columns of loops; satin: fine rows. */
  weave: 'plain' | 'twill' | 'knit' | 'satin'
  /** Weave period in source px (2–4). */
  period: number
  /** Weave amplitude in code values. */
  amplitude: number
  /** Standard deviation of the grain in code values. */
  grain: number
  /** Fold shading: the largest luminance change as a share (0.05–0.1). */
  folds: number
}

/** Each source pixel's distance inside the product mask, px (0 outside). */
export function maskDepth(mask: RawImage, width: number, height: number): Float32Array {
  const inside = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const my = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height))
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width))
      inside[y * width + x] = mask.data[my * mask.width + mx] >= 250 ? 1 : 0
    }
  }
  return distanceInside(inside, width, height)
}

/**
 * How much fabric each source pixel takes, 0..1: full from 8 px inside the
 * product mask, none within 4 px of its edge. why the margin: the backend
 * cuts the textured photo again, and its mask must come out the same.
 */
export function fabricWeight(depth: Float32Array): Float32Array {
  return depth.map((d) => clamp01((d - 4) / 4))
}

/**
 * The photo with fabric painted in by `weight`. Folds come from `foldSeed`,
 * grain and the weave's phase from `grainSeed`: a texture re-synthesis
 * changes only the latter, as a regenerated photo of the same garment would.
 */
export function textured(
  pixels: RawImage,
  weight: Float32Array,
  fabric: Fabric,
  seeds: { folds: number; grain: number },
): RawImage {
  const { width, height, channels } = pixels
  const folds = foldField(width, height, seeds.folds)
  const random = rng(seeds.grain)
  const phase = [random() * fabric.period, random() * fabric.period]
  const slub = slubField(width, height, random)
  const out = Buffer.from(pixels.data)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      const w = weight[i]
      if (w <= 0) continue
      const shade = 1 + fabric.folds * folds[i] * w
      const grain = fabric.grain * (0.8 * gauss(random) + 0.6 * slub[i])
      const add = w * (grain + fabric.amplitude * weave(fabric, x + phase[0], y + phase[1]))
      const o = i * channels
      for (let c = 0; c < 3; c++) out[o + c] = clamp8(pixels.data[o + c] * shade + add)
    }
  }
  return { data: out, width, height, channels }
}

/** The weave's relief at (x, y), −1..1. */
function weave(fabric: Fabric, x: number, y: number): number {
  const k = (2 * Math.PI) / fabric.period
  switch (fabric.weave) {
    case 'plain':
      return Math.cos(k * x) * Math.cos(k * y)
    case 'twill':
      return Math.cos(k * (x + y))
    case 'knit':
      return 0.75 * Math.cos(k * x) + 0.25 * Math.cos(2 * k * y + Math.PI * Math.cos(k * x))
    case 'satin':
      return Math.cos(k * y)
  }
}

/** Low-frequency shading, −1..1: two octaves of smooth value noise, like fabric lying in soft folds. */
function foldField(width: number, height: number, seed: number): Float32Array {
  const random = rng(seed)
  const field = new Float32Array(width * height)
  for (const [cells, gain] of [
    [4, 1],
    [9, 0.45],
  ] as const) {
    const cell = Math.max(width, height) / cells
    const gw = Math.ceil(width / cell) + 2
    const gh = Math.ceil(height / cell) + 2
    const grid = Float32Array.from({ length: gw * gh }, () => 2 * random() - 1)
    for (let y = 0; y < height; y++) {
      const gy = y / cell
      const j = Math.floor(gy)
      const fy = smooth(gy - j)
      for (let x = 0; x < width; x++) {
        const gx = x / cell
        const i = Math.floor(gx)
        const fx = smooth(gx - i)
        const top = grid[j * gw + i] * (1 - fx) + grid[j * gw + i + 1] * fx
        const bottom = grid[(j + 1) * gw + i] * (1 - fx) + grid[(j + 1) * gw + i + 1] * fx
        field[y * width + x] += gain * (top * (1 - fy) + bottom * fy)
      }
    }
  }
  let peak = 0
  for (const v of field) peak = Math.max(peak, Math.abs(v))
  for (let i = 0; i < field.length; i++) field[i] /= peak || 1
  return field
}

/** Slubs: thicker stretches of yarn along each row, smooth over ~12 px. */
function slubField(width: number, height: number, random: () => number): Float32Array {
  const step = 12
  const field = new Float32Array(width * height)
  const knots = new Float32Array(Math.ceil(width / step) + 2)
  for (let y = 0; y < height; y++) {
    for (let k = 0; k < knots.length; k++) knots[k] = gauss(random)
    for (let x = 0; x < width; x++) {
      const k = Math.floor(x / step)
      const f = smooth(x / step - k)
      field[y * width + x] = knots[k] * (1 - f) + knots[k + 1] * f
    }
  }
  return field
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t)
}
