// Small parts taken off or put on a render: a button, pocket, eyelet or
// slider inpainted from the fabric around it, or copied to where the source
// has none. All in result px, weighted by the product's coverage.
import { blendInto, clamp01, clamp8, type Rgb8 } from '../golden/pixels.ts'

/** An ellipse (centre, radii) or a box (centre, half sizes) in result px. */
export interface Shape {
  cx: number
  cy: number
  rx: number
  ry: number
  shape: 'ellipse' | 'box'
}

/** Ring differences above this many code values are a structure crossing the ring, left out. */
const RING_STRUCTURE = 24

/** Distance in px outside the shape's edge (negative inside). */
function outside(s: Shape, x: number, y: number): number {
  if (s.shape === 'box') return Math.max(Math.abs(x - s.cx) - s.rx, Math.abs(y - s.cy) - s.ry)
  const e = Math.hypot((x - s.cx) / s.rx, (y - s.cy) / s.ry)
  return (e - 1) * Math.min(s.rx, s.ry)
}

/** The shape's coverage of a pixel: 1 inside, feathered over 1.5 px. */
function cover(s: Shape, x: number, y: number): number {
  return clamp01(0.75 - outside(s, x, y) / 1.5)
}

function pixel(image: Rgb8, x: number, y: number, c: number): number {
  const X = Math.min(image.width - 1, Math.max(0, Math.round(x)))
  const Y = Math.min(image.height - 1, Math.max(0, Math.round(y)))
  return image.data[(Y * image.width + X) * 3 + c]
}

/**
 * The part painted over with fabric copied from `donor` px away, its
 * shading matched to the part's surroundings: each pixel gets the
 * inverse-distance mean of the target − donor difference on a ring round
 * the part. why a copy, not a blur: a generator paints fabric with grain,
 * and a smooth blob would be a different, easier defect. A donor closer
 * than the part is wide repeats the fabric it has already painted (the
 * pixels are filled in the donor's direction), so a button between two
 * belt loops takes only the denim between them.
 */
export function removePart(image: Rgb8, alpha: Float32Array, part: Shape, donor: [number, number]): Rgb8 {
  const { width, height } = image
  const x0 = Math.max(0, Math.floor(part.cx - part.rx - 6))
  const x1 = Math.min(width - 1, Math.ceil(part.cx + part.rx + 6))
  const y0 = Math.max(0, Math.floor(part.cy - part.ry - 6))
  const y1 = Math.min(height - 1, Math.ceil(part.cy + part.ry + 6))
  const filled = new Map<number, number[]>()
  const src = (x: number, y: number): number[] => {
    const X = Math.min(width - 1, Math.max(0, Math.round(x)))
    const Y = Math.min(height - 1, Math.max(0, Math.round(y)))
    return filled.get(Y * width + X) ?? [0, 1, 2].map((c) => image.data[(Y * width + X) * 3 + c])
  }
  const xs = range(x0, x1, donor[0] > 0)
  for (const y of range(y0, y1, donor[1] > 0)) {
    for (const x of xs) if (cover(part, x, y) > 0) filled.set(y * width + x, src(x + donor[0], y + donor[1]))
  }
  const ring: Array<[number, number, number, number, number]> = []
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = outside(part, x, y)
      if (d < 1.5 || d > 4.5) continue
      const from = src(x + donor[0], y + donor[1])
      const diff = [0, 1, 2].map((c) => image.data[(y * width + x) * 3 + c] - from[c])
      // why: a seam or string crossing the ring is structure, not shading; carried inward it leaves a ghost.
      if (Math.max(...diff.map(Math.abs)) > RING_STRUCTURE) continue
      ring.push([x, y, diff[0], diff[1], diff[2]])
    }
  }
  const fill = Uint8Array.from(image.data)
  const weight = new Float32Array(alpha.length)
  for (const [i, value] of filled) {
    const x = i % width
    const y = Math.floor(i / width)
    const sum = [0, 0, 0]
    let total = 0
    for (const [rx, ry, r, g, b] of ring) {
      const k = 1 / ((rx - x) ** 2 + (ry - y) ** 2 + 1)
      sum[0] += k * r
      sum[1] += k * g
      sum[2] += k * b
      total += k
    }
    for (let c = 0; c < 3; c++) fill[i * 3 + c] = clamp8(value[c] + (total > 0 ? sum[c] / total : 0))
    weight[i] = cover(part, x, y) * Math.min(1, alpha[i])
  }
  return blendInto(image, fill, weight)
}

/** Integers from a to b inclusive, descending if asked. */
function range(a: number, b: number, descending: boolean): number[] {
  const out = Array.from({ length: b - a + 1 }, (_, k) => a + k)
  return descending ? out.reverse() : out
}

/**
 * The part copied from `from` onto `canvas` centred at (tx, ty), mirrored
 * if asked, its light scaled to the new spot's surroundings, with the
 * coverage it has where it was (`alpha` is `from`'s).
 */
export function addPart(from: Rgb8, canvas: Rgb8, alpha: Float32Array, part: Shape, to: [number, number], mirror = false): Rgb8 {
  const target: Shape = { ...part, cx: to[0], cy: to[1] }
  const gain = ringLuma(canvas, target) / ringLuma(from, part)
  const light = Math.min(1.2, Math.max(0.8, gain))
  const fill = Uint8Array.from(canvas.data)
  const weight = new Float32Array(alpha.length)
  for (let y = Math.floor(target.cy - target.ry - 2); y <= Math.ceil(target.cy + target.ry + 2); y++) {
    for (let x = Math.floor(target.cx - target.rx - 2); x <= Math.ceil(target.cx + target.rx + 2); x++) {
      if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) continue
      const w = cover(target, x, y)
      if (w <= 0) continue
      const sx = mirror ? part.cx - (x - target.cx) : part.cx + (x - target.cx)
      const sy = part.cy + (y - target.cy)
      const i = y * canvas.width + x
      for (let c = 0; c < 3; c++) fill[i * 3 + c] = Math.min(255, pixel(from, sx, sy, c) * light)
      // why the part's own coverage, not the new spot's: a slider is wider than the strap it is put on.
      const X = Math.min(canvas.width - 1, Math.max(0, Math.round(sx)))
      const Y = Math.min(canvas.height - 1, Math.max(0, Math.round(sy)))
      weight[i] = w * Math.min(1, alpha[Y * canvas.width + X])
    }
  }
  return blendInto(canvas, fill, weight)
}

/** Mean luma on a 2–4 px ring outside the shape. */
function ringLuma(image: Rgb8, s: Shape): number {
  let sum = 0
  let n = 0
  for (let y = Math.floor(s.cy - s.ry - 5); y <= Math.ceil(s.cy + s.ry + 5); y++) {
    for (let x = Math.floor(s.cx - s.rx - 5); x <= Math.ceil(s.cx + s.rx + 5); x++) {
      const d = outside(s, x, y)
      if (d < 2 || d > 4) continue
      sum += 0.299 * pixel(image, x, y, 0) + 0.587 * pixel(image, x, y, 1) + 0.114 * pixel(image, x, y, 2)
      n++
    }
  }
  return n === 0 ? 1 : Math.max(1, sum / n)
}
