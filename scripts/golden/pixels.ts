// Pixel helpers both golden set generators share: 8-bit RGB frames, the
// product's coverage on a render, distances to its outline, Lab round trips
// and the bounding box of what a case changed.
import sharp from 'sharp'
import type { Placement, RawImage } from '#app/modules/backends/types.ts'
import { CPU_STUDIO_WORKFLOW } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import { deltaE2000, linearToSrgb8, srgbToLab } from '#app/modules/imaging/colour.ts'

export interface Rgb8 {
  data: Uint8Array
  width: number
  height: number
}

/** A rectangle in result px: x0, y0 inclusive, x1, y1 exclusive. */
export interface Box {
  x0: number
  y0: number
  x1: number
  y1: number
}

/** Stored results: the backends' own final format, one step lower (q90 4:4:4), as the basic set. */
export const RESULT_JPEG = { quality: 90, chromaSubsampling: '4:4:4' } as const

export async function decodeRgb(file: Buffer): Promise<Rgb8> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data), width: info.width, height: info.height }
}

export function encodeJpeg(image: Rgb8, quality: number = RESULT_JPEG.quality, chroma = '4:4:4'): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: chroma })
    .toBuffer()
}

export function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v)
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v
}

export function smoothstep(e0: number, e1: number, v: number): number {
  const t = clamp01((v - e0) / (e1 - e0))
  return t * t * (3 - 2 * t)
}

/** A 32-bit seed from a name, so each product's noise is its own and stable. */
export function seedOf(name: string): number {
  return name.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
}

/** A standard normal deviate from a uniform source (Box–Muller). */
export function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random())
}

/** The product's coverage (0..1) per result pixel: the source mask carried through the placement. */
export function productAlpha(
  mask: RawImage,
  source: { width: number; height: number },
  p: Placement,
  frame: { width: number; height: number },
): Float32Array {
  const alpha = new Float32Array(frame.width * frame.height)
  const mx = mask.width / source.width
  const my = mask.height / source.height
  const w = Math.round(p.crop.width * p.scale)
  const h = Math.round(p.crop.height * p.scale)
  const at = (x: number, y: number): number => mask.data[y * mask.width + x]
  for (let j = 0; j < h; j++) {
    const Y = p.y + j
    if (Y < 0 || Y >= frame.height) continue
    const sy = Math.min(mask.height - 1, Math.max(0, (p.crop.top + ((j + 0.5) * p.crop.height) / h) * my - 0.5))
    const y0 = Math.floor(sy)
    const y1 = Math.min(mask.height - 1, y0 + 1)
    for (let i = 0; i < w; i++) {
      const X = p.x + i
      if (X < 0 || X >= frame.width) continue
      const sx = Math.min(mask.width - 1, Math.max(0, (p.crop.left + ((i + 0.5) * p.crop.width) / w) * mx - 0.5))
      const x0 = Math.floor(sx)
      const x1 = Math.min(mask.width - 1, x0 + 1)
      const fx = sx - x0
      const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx
      const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx
      alpha[Y * frame.width + X] = (top * (1 - (sy - y0)) + bottom * (sy - y0)) / 255
    }
  }
  return alpha
}

/** Chamfer (3-4) distance in px from each pixel to the nearest pixel where `inside` is 0. */
export function distanceInside(inside: Uint8Array, width: number, height: number): Float32Array {
  const big = 1e9
  const d = new Float32Array(width * height)
  for (let i = 0; i < d.length; i++) d[i] = inside[i] ? big : 0
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? big : d[y * width + x])
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      if (d[i] !== 0) d[i] = Math.min(d[i], at(x - 1, y) + 3, at(x, y - 1) + 3, at(x - 1, y - 1) + 4, at(x + 1, y - 1) + 4)
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x
      if (d[i] !== 0) d[i] = Math.min(d[i], at(x + 1, y) + 3, at(x, y + 1) + 3, at(x + 1, y + 1) + 4, at(x - 1, y + 1) + 4)
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = d[i] >= big ? big : d[i] / 3
  return d
}

/** Signed distance to the alpha 0.5 contour: > 0 inside the product, < 0 outside, in px. */
export function signedDistance(alpha: Float32Array, width: number, height: number): Float32Array {
  const inside = new Uint8Array(alpha.length)
  const outside = new Uint8Array(alpha.length)
  for (let i = 0; i < alpha.length; i++) {
    inside[i] = alpha[i] >= 0.5 ? 1 : 0
    outside[i] = 1 - inside[i]
  }
  const din = distanceInside(inside, width, height)
  const dout = distanceInside(outside, width, height)
  const s = new Float32Array(alpha.length)
  for (let i = 0; i < s.length; i++) s[i] = inside[i] ? din[i] - 0.5 : -(dout[i] - 0.5)
  return s
}

/** Out = base + w × (other − base) per pixel. */
export function blendInto(base: Rgb8, other: Uint8Array, weight: Float32Array): Rgb8 {
  const out = Uint8Array.from(base.data)
  for (let i = 0, o = 0; i < weight.length; i++, o += 3) {
    const w = weight[i]
    if (w <= 0) continue
    for (let c = 0; c < 3; c++) out[o + c] = clamp8(base.data[o + c] + w * (other[o + c] - base.data[o + c]))
  }
  return { data: out, width: base.width, height: base.height }
}

/** Catmull-Rom sample of channel c at (x, y), edge-clamped. why bicubic: a warp must not also blur. */
export function sampleCubic(image: Rgb8, x: number, y: number, c: number): number {
  const { width, height, data } = image
  const x0 = Math.floor(x)
  const y0 = Math.floor(y)
  const wx = cubic(x - x0)
  const wy = cubic(y - y0)
  let v = 0
  for (let j = 0; j < 4; j++) {
    const yy = Math.min(height - 1, Math.max(0, y0 - 1 + j))
    let row = 0
    for (let i = 0; i < 4; i++) row += wx[i] * data[(yy * width + Math.min(width - 1, Math.max(0, x0 - 1 + i))) * 3 + c]
    v += wy[j] * row
  }
  return v
}

function cubic(t: number): [number, number, number, number] {
  const t2 = t * t
  const t3 = t2 * t
  return [-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1, -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2]
}

/** Bilinear sample of a one-channel float map, edge-clamped. */
export function sampleLinear(map: Float32Array, width: number, height: number, x: number, y: number): number {
  const cx = Math.min(width - 1, Math.max(0, x))
  const cy = Math.min(height - 1, Math.max(0, y))
  const x0 = Math.min(width - 2, Math.floor(cx))
  const y0 = Math.min(height - 2, Math.floor(cy))
  const fx = cx - x0
  const fy = cy - y0
  const at = (i: number, j: number): number => map[j * width + i]
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
}

const XN = 0.95047
const ZN = 1.08883

/** CIE Lab (D65) to 8-bit sRGB, the inverse of colour.ts's srgbToLab. */
export function labToSrgb(L: number, a: number, b: number, out: Float64Array): void {
  const fy = (L + 16) / 116
  const fx = fy + a / 500
  const fz = fy - b / 200
  const inv = (t: number): number => (t > 6 / 29 ? t * t * t : 3 * (6 / 29) * (6 / 29) * (t - 4 / 29))
  const X = XN * inv(fx)
  const Y = inv(fy)
  const Z = ZN * inv(fz)
  out[0] = linearToSrgb8(3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z)
  out[1] = linearToSrgb8(-0.969266 * X + 1.8760108 * Y + 0.041556 * Z)
  out[2] = linearToSrgb8(0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z)
}

/** Mean ΔE2000 between two frames over the pixels whose weight is at least `min`. */
export function meanDeltaE(a: Uint8Array, b: Uint8Array, weight: Float32Array, min = 0.99): number {
  const lab = new Float64Array(6)
  let sum = 0
  let n = 0
  for (let i = 0, o = 0; i < weight.length; i++, o += 3) {
    if (weight[i] < min) continue
    srgbToLab(a[o], a[o + 1], a[o + 2], lab, 0)
    srgbToLab(b[o], b[o + 1], b[o + 2], lab, 3)
    sum += deltaE2000(lab[0], lab[1], lab[2], lab[3], lab[4], lab[5])
    n++
  }
  return n === 0 ? 0 : sum / n
}

/**
 * The bounding box of the pixels that differ by more than `threshold` in
 * any channel. why a threshold: re-encoding leaves ±2–4 code values of
 * JPEG noise on every block, which is not the change.
 */
export function changedBox(a: Rgb8, b: Rgb8, threshold = 10): Box | undefined {
  let x0 = Infinity
  let y0 = Infinity
  let x1 = -1
  let y1 = -1
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const o = (y * a.width + x) * 3
      const d = Math.max(
        Math.abs(a.data[o] - b.data[o]),
        Math.abs(a.data[o + 1] - b.data[o + 1]),
        Math.abs(a.data[o + 2] - b.data[o + 2]),
      )
      if (d <= threshold) continue
      x0 = Math.min(x0, x)
      y0 = Math.min(y0, y)
      x1 = Math.max(x1, x + 1)
      y1 = Math.max(y1, y + 1)
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 }
}

/** Pixels of a box that lie in the frame. */
export function clipBox(box: Box, width: number, height: number): Box {
  return {
    x0: Math.max(0, Math.floor(box.x0)),
    y0: Math.max(0, Math.floor(box.y0)),
    x1: Math.min(width, Math.ceil(box.x1)),
    y1: Math.min(height, Math.ceil(box.y1)),
  }
}

/** What a manifest records of the renderer: the backend, its workflow and the libvips build that drew the set. */
export function studioRender(): { backend: string; workflow: string; sharp: string; vips: string } {
  return { backend: 'cpu-studio', workflow: CPU_STUDIO_WORKFLOW, sharp: sharp.versions.sharp ?? '', vips: sharp.versions.vips }
}
