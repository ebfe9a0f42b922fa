// Distance transforms of the product mask: the signed distance to the outline,
// and the thin parts, narrow gaps and part thickness read off it.
import { f32, i32, u8 } from './scratch.ts'
import { BAND } from './grid.ts'

/**
 * Chamfer (3-4) distance from each pixel with `inside` set to the nearest pixel without, in px.
 * why integers and the borders apart: the two sweeps are most of the reference's
 * cost, and the inner loop then has no bounds tests (same distances either way).
 */
export function chamfer(inside: Uint8Array, width: number, height: number): Float32Array {
  const BIG = 10_000_000
  const n = width * height
  const d = i32('chamfer.steps', n, false)
  for (let i = 0; i < n; i++) d[i] = inside[i] ? BIG : 0
  const w = width
  // Forward: left, up-left, up, up-right.
  for (let x = 1; x < w; x++) if (d[x] !== 0 && d[x - 1] + 3 < d[x]) d[x] = d[x - 1] + 3
  for (let y = 1; y < height; y++) {
    const row = y * w
    let v = d[row]
    if (v !== 0) {
      v = Math.min(v, d[row - w] + 3)
      if (w > 1) v = Math.min(v, d[row - w + 1] + 4)
      d[row] = v
    }
    for (let i = row + 1, end = row + w - 1; i < end; i++) {
      v = d[i]
      if (v === 0) continue
      let t = d[i - 1] + 3
      if (t < v) v = t
      t = d[i - w] + 3
      if (t < v) v = t
      t = d[i - w - 1] + 4
      if (t < v) v = t
      t = d[i - w + 1] + 4
      if (t < v) v = t
      d[i] = v
    }
    if (w > 1) {
      const i = row + w - 1
      v = d[i]
      if (v !== 0) d[i] = Math.min(v, d[i - 1] + 3, d[i - w] + 3, d[i - w - 1] + 4)
    }
  }
  // Backward: right, down-right, down, down-left.
  const last = (height - 1) * w
  for (let i = last + w - 2; i >= last; i--) if (d[i] !== 0 && d[i + 1] + 3 < d[i]) d[i] = d[i + 1] + 3
  for (let y = height - 2; y >= 0; y--) {
    const row = y * w
    let v: number
    if (w > 1) {
      const i = row + w - 1
      v = d[i]
      if (v !== 0) d[i] = Math.min(v, d[i + w] + 3, d[i + w - 1] + 4)
    }
    for (let i = row + w - 2; i > row; i--) {
      v = d[i]
      if (v === 0) continue
      let t = d[i + 1] + 3
      if (t < v) v = t
      t = d[i + w] + 3
      if (t < v) v = t
      t = d[i + w + 1] + 4
      if (t < v) v = t
      t = d[i + w - 1] + 4
      if (t < v) v = t
      d[i] = v
    }
    v = d[row]
    if (v !== 0) {
      if (w > 1) v = Math.min(v, d[row + 1] + 3, d[row + w + 1] + 4)
      d[row] = Math.min(v, d[row + w] + 3)
    }
  }
  const out = f32('chamfer', n, false)
  for (let i = 0; i < n; i++) out[i] = d[i] / 3
  return out
}

/**
 * Signed distance to the mask's 0.5 contour, > 0 inside. why the frame
 * counts as product: a product cut by the frame has no outline there.
 */
export function signedDistance(alpha: Float32Array, width: number, height: number): Float32Array {
  const n = alpha.length
  const inside = u8('signed.inside', n, false)
  for (let i = 0; i < n; i++) inside[i] = alpha[i] >= 0.5 ? 1 : 0
  // why one pass from both sides: pixels next to the contour seed it at half a pixel, and a
  // single chamfer then measures inside and outside at once.
  const far = u8('signed.far', n, false)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x
      const v = inside[i]
      const edge =
        (x > 0 && inside[i - 1] !== v) ||
        (x < width - 1 && inside[i + 1] !== v) ||
        (y > 0 && inside[i - width] !== v) ||
        (y < height - 1 && inside[i + width] !== v)
      far[i] = edge ? 0 : 1
    }
  }
  const d = chamfer(far, width, height)
  const s = new Float32Array(n)
  for (let i = 0; i < n; i++) s[i] = inside[i] ? d[i] + 0.5 : -(d[i] + 0.5)
  return s
}

/** Parts of the product at most this wide (grid px) are "thin": straps, ties, cords, thin handles. */
export const THIN = 6

/**
 * The edge band of the product's thin parts: band pixels with no product
 * pixel deeper than THIN/2 within THIN + BAND px. why apart: a strap 15 %
 * wider is a change of a fraction of a pixel, lost among the outline's
 * ordinary differences unless it is weighed against the strap alone.
 */
export function thinBand(signed: Float32Array, width: number, height: number): Uint8Array {
  const notDeep = u8('thin.notDeep', signed.length, false)
  for (let i = 0; i < signed.length; i++) notDeep[i] = signed[i] > THIN / 2 ? 0 : 1
  const toDeep = chamfer(notDeep, width, height)
  const out = new Uint8Array(signed.length)
  for (let i = 0; i < signed.length; i++) if (Math.abs(signed[i]) <= BAND && toDeep[i] > THIN + BAND) out[i] = 1
  return out
}

/**
 * 1 for band pixels at a narrow gap between two parts of the product (an
 * armpit, the slit between a tie and a skirt): no open scene (more than
 * BAND + 3 px from the product) within 2 × BAND + 4 px. why they are not
 * read: the scene's colour there can't be told from the scene around (it is
 * shadowed, or is the photo's backdrop the cut-out kept), so neither can how
 * much product a pixel holds.
 */
export function narrowGaps(signed: Float32Array, width: number, height: number): Uint8Array {
  const notOpen = u8('gaps.notOpen', signed.length, false)
  for (let i = 0; i < signed.length; i++) notOpen[i] = signed[i] <= -(BAND + 3) ? 0 : 1
  const toOpen = chamfer(notOpen, width, height)
  const out = new Uint8Array(signed.length)
  for (let i = 0; i < signed.length; i++) if (Math.abs(signed[i]) <= BAND && toOpen[i] > 2 * BAND + 4) out[i] = 1
  return out
}

/** Grid px: parts of the product at least this thick are the body, whose outline moving is judged apart. */
export const PART_MAX = 48
/** Grid px: parts at least this thick (and thinner than PART_MAX) have their growth read against their thickness. */
export const PART_MIN = 10

/**
 * Thickness of the product around each pixel: twice the deepest inside
 * distance within PART_MAX / 2 px (so a strap, a tie or a handle measures
 * its own width and the body saturates at PART_MAX). A separable running
 * maximum (van Herk / Gil-Werman), three comparisons a pixel a pass.
 */
export function partThickness(signed: Float32Array, width: number, height: number): Float32Array {
  // why BAND further: a band pixel BAND px outside the body must still reach PART_MAX / 2 deep into it.
  const r = PART_MAX / 2 + BAND
  const rows = runningMax(signed, width, height, r, true)
  const both = runningMax(rows, width, height, r, false)
  for (let i = 0; i < both.length; i++) both[i] = Math.min(PART_MAX, 2 * Math.max(0, both[i]))
  return both
}

/**
 * The maximum over [lo, hi] from the running maxima: h from lo to its
 * block's end, g from hi's block's start to hi. why not always both: where
 * the window is cut by the border, lo and hi share a block and one of them
 * reaches past the window.
 */
function windowMax(hLo: number, gHi: number, lo: number, hi: number, span: number): number {
  if (Math.floor(lo / span) !== Math.floor(hi / span)) return Math.max(hLo, gHi)
  return lo % span === 0 ? gHi : hLo
}

/**
 * Maximum over a window of ±r along rows (or columns), in O(1) a pixel.
 * why columns go row by row over whole planes: striding down a column touches
 * a new cache line every pixel.
 */
export function runningMax(plane: Float32Array, width: number, height: number, r: number, alongRows: boolean): Float32Array {
  const out = new Float32Array(plane.length)
  const span = 2 * r + 1
  if (alongRows) {
    const g = f32('runningMax.g', width, false)
    const h = f32('runningMax.h', width, false)
    for (let y = 0; y < height; y++) {
      const base = y * width
      for (let k = 0, at = 0; k < width; k++, at = at === span - 1 ? 0 : at + 1) {
        const v = plane[base + k]
        g[k] = at === 0 ? v : Math.max(g[k - 1], v)
      }
      for (let k = width - 1; k >= 0; k--) {
        const v = plane[base + k]
        h[k] = k === width - 1 || (k + 1) % span === 0 ? v : Math.max(h[k + 1], v)
      }
      for (let k = 0; k < width; k++) {
        const lo = Math.max(0, k - r)
        const hi = Math.min(width - 1, k + r)
        out[base + k] = windowMax(h[lo], g[hi], lo, hi, span)
      }
    }
    return out
  }
  const g = f32('runningMax.G', plane.length, false)
  const h = f32('runningMax.H', plane.length, false)
  for (let k = 0; k < height; k++) {
    const b = k * width
    if (k % span === 0) g.set(plane.subarray(b, b + width), b)
    else for (let x = 0; x < width; x++) g[b + x] = Math.max(g[b - width + x], plane[b + x])
  }
  for (let k = height - 1; k >= 0; k--) {
    const b = k * width
    if (k === height - 1 || (k + 1) % span === 0) h.set(plane.subarray(b, b + width), b)
    else for (let x = 0; x < width; x++) h[b + x] = Math.max(h[b + width + x], plane[b + x])
  }
  for (let k = 0; k < height; k++) {
    const b = k * width
    const lo = Math.max(0, k - r)
    const hi = Math.min(height - 1, k + r)
    for (let x = 0; x < width; x++) out[b + x] = windowMax(h[lo * width + x], g[hi * width + x], lo, hi, span)
  }
  return out
}
