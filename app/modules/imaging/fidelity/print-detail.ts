// Print detail: the source's band-passed luminance (print, letters, stitching)
// found again in the result, window by window.
import { f32 } from './scratch.ts'
import { DETAIL_CELL, INTERIOR } from './grid.ts'
import type { DetailReference } from './types.ts'
import type { Motion } from './alignment.ts'

/**
 * One [1 2 1]/4 blur (σ ≈ 0.7 px) of a plane into `out`, edges clamped.
 * Binomial kernels compose: this one, then blur7, is the 9-tap σ ≈ 1.4 blur.
 */
function blur121(plane: Float32Array, width: number, height: number, tmp: Float32Array, out: Float32Array): void {
  for (let y = 0; y < height; y++) {
    const row = y * width
    if (width === 1) {
      tmp[row] = plane[row]
      continue
    }
    tmp[row] = 0.75 * plane[row] + 0.25 * plane[row + 1]
    for (let x = 1; x < width - 1; x++) tmp[row + x] = 0.25 * (plane[row + x - 1] + plane[row + x + 1]) + 0.5 * plane[row + x]
    tmp[row + width - 1] = 0.75 * plane[row + width - 1] + 0.25 * plane[row + width - 2]
  }
  for (let y = 0; y < height; y++) {
    const row = y * width
    const up = y > 0 ? row - width : row
    const down = y < height - 1 ? row + width : row
    for (let x = 0; x < width; x++) out[row + x] = 0.25 * (tmp[up + x] + tmp[down + x]) + 0.5 * tmp[row + x]
  }
}

/**
 * [1 6 15 20 15 6 1]/64 (σ ≈ 1.2 px: three [1 2 1] blurs in one) of a plane
 * into `out`, edges clamped. why one 7-tap pass per axis: two passes over
 * memory instead of six, at the same taps in the product's interior.
 */
function blur7(plane: Float32Array, width: number, height: number, tmp: Float32Array, out: Float32Array): void {
  const last = width - 1
  for (let y = 0; y < height; y++) {
    const row = y * width
    const end = row + last - 3
    for (let x = 0; x < Math.min(3, width); x++) tmp[row + x] = tap7(plane, row, x, 1, last)
    for (let p = row + 3; p <= end; p++) {
      tmp[p] =
        B7_0 * plane[p] +
        B7_1 * (plane[p - 1] + plane[p + 1]) +
        B7_2 * (plane[p - 2] + plane[p + 2]) +
        B7_3 * (plane[p - 3] + plane[p + 3])
    }
    for (let x = Math.max(3, last - 2); x < width; x++) tmp[row + x] = tap7(plane, row, x, 1, last)
  }
  const bottom = height - 1
  for (let y = 0; y < height; y++) {
    const c = y * width
    const m3 = Math.max(0, y - 3) * width
    const m2 = Math.max(0, y - 2) * width
    const m1 = Math.max(0, y - 1) * width
    const p1 = Math.min(bottom, y + 1) * width
    const p2 = Math.min(bottom, y + 2) * width
    const p3 = Math.min(bottom, y + 3) * width
    for (let x = 0; x < width; x++) {
      out[c + x] =
        B7_0 * tmp[c + x] +
        B7_1 * (tmp[m1 + x] + tmp[p1 + x]) +
        B7_2 * (tmp[m2 + x] + tmp[p2 + x]) +
        B7_3 * (tmp[m3 + x] + tmp[p3 + x])
    }
  }
}

const B7_0 = 20 / 64
const B7_1 = 15 / 64
const B7_2 = 6 / 64
const B7_3 = 1 / 64

/** blur7's taps at position x of a row starting at `row` (step 1) or a column (step = width), clamped to 0..last. */
function tap7(plane: Float32Array, row: number, x: number, step: number, last: number): number {
  const at = (d: number): number => plane[row + step * Math.min(last, Math.max(0, x + d))]
  return B7_0 * at(0) + B7_1 * (at(-1) + at(1)) + B7_2 * (at(-2) + at(2)) + B7_3 * (at(-3) + at(3))
}

/**
 * The print's detail: luminance band-passed between σ 0.7 and 1.4 px (a
 * difference of Gaussians: one [1 2 1] blur less four). why not the finest
 * pixels: below that lie the resampler's and the JPEG's own differences,
 * which a faithful result has too.
 */
export function highPass(plane: Float32Array, width: number, height: number, key?: string): Float32Array {
  const n = plane.length
  const tmp = f32('highPass.tmp', n, false)
  const fine = key ? f32(key, n, false) : new Float32Array(n)
  const coarse = f32('highPass.coarse', n, false)
  blur121(plane, width, height, tmp, fine)
  blur7(fine, width, height, tmp, coarse)
  for (let i = 0; i < fine.length; i++) fine[i] -= coarse[i]
  return fine
}

export interface DetailCellsOut {
  /** Per window: share of the source's fine detail found again in the result (−1 … 1). */
  kept: Float32Array
  /** Per window: how much detail there is to find (sum of squared band-pass, above the noise floor). */
  weight: Float32Array
  /**
   * Per window: the result's detail the source's doesn't explain (at its best
   * offset and gain), beyond ADDED_OVER times the source's own, levels² a px
   * (0 where none, or too few px to read).
   */
  added: Float32Array
}

/**
 * Unexplained detail a window may carry, as a multiple of the source's: new
 * grain of the same statistics, a sharpened weave the source's resampling
 * had softened (the golden sets' clean renders reach 0.7 levels² a px; a
 * pocket drawn on plain linen 14).
 */
const ADDED_OVER = 2
/** Interior px a window needs for its added detail to be read: a quarter of it. */
const ADDED_MIN_PX = (DETAIL_CELL * DETAIL_CELL) / 4

/**
 * Grid px inside the outline where print detail is read. why deeper than the
 * interior: the band-pass reaches ~4 px, and nearer the outline it answers
 * to the outline itself against whatever scene is behind it.
 */
const DETAIL_INSET = INTERIOR + 4

/** Gain of the print's detail a render may carry over the source's before it counts as detail that appeared (mild sharpening). */
const SHARPENED = 1.6

/** Per-pixel high-pass energy (levels²) that is grain and JPEG noise, not print. */
const DETAIL_NOISE = 4

/**
 * Per 16 px window (overlapping by half), the source's band-passed detail
 * correlated with the unwarped result's, each half-window at the alignment's
 * whole-pixel offset for it and then at the best of 3×3 one-pixel offsets
 * (refined to the sub-pixel peak), divided by the larger of the two energies:
 * 1 when the print is the same, ~0 when it was wiped, low when letters
 * changed, the blur's attenuation when it was softened, and below 1 when
 * detail appeared that the source doesn't have.
 */
export function detailCells(ref: DetailReference, resDetail: Float32Array, motion: Motion): DetailCellsOut {
  const { width, height, signed, srcDetail, detailGrid: windows } = ref
  // Sums per half-window block (each block at its own whole-pixel offset: the alignment at its centre);
  // a window is 2 × 2 blocks.
  const step = DETAIL_CELL / 2
  const bc = Math.ceil(width / step)
  const br = Math.ceil(height / step)
  const ess = new Float64Array(bc * br)
  const err = new Float64Array(bc * br)
  const count = new Float64Array(bc * br)
  const cross = new Float64Array(9 * bc * br)
  const cx = (width - 1) / 2
  const cy = (height - 1) / 2
  for (let r = 0; r < br; r++) {
    for (let q = 0; q < bc; q++) {
      const block = r * bc + q
      const x0 = q * step
      const y0 = r * step
      const ox = Math.round(cx + motion.s * (x0 + step / 2 - cx) + motion.tx - (x0 + step / 2))
      const oy = Math.round(cy + motion.s * (y0 + step / 2 - cy) + motion.ty - (y0 + step / 2))
      const xs = Math.max(1, x0, 1 - ox)
      const xe = Math.min(width - 1, x0 + step, width - 1 - ox)
      const ys = Math.max(1, y0, 1 - oy)
      const ye = Math.min(height - 1, y0 + step, height - 1 - oy)
      let se = 0
      let re = 0
      let n = 0
      let c0 = 0
      let c1 = 0
      let c2 = 0
      let c3 = 0
      let c4 = 0
      let c5 = 0
      let c6 = 0
      let c7 = 0
      let c8 = 0
      for (let y = ys; y < ye; y++) {
        for (let x = xs; x < xe; x++) {
          const i = y * width + x
          if (signed[i] < DETAIL_INSET) continue
          const j = (y + oy) * width + x + ox
          const sv = srcDetail[i]
          const rv = resDetail[j]
          se += sv * sv
          re += rv * rv
          n++
          const up = j - width
          const down = j + width
          c0 += sv * resDetail[up - 1]
          c1 += sv * resDetail[up]
          c2 += sv * resDetail[up + 1]
          c3 += sv * resDetail[j - 1]
          c4 += sv * rv
          c5 += sv * resDetail[j + 1]
          c6 += sv * resDetail[down - 1]
          c7 += sv * resDetail[down]
          c8 += sv * resDetail[down + 1]
        }
      }
      ess[block] = se
      err[block] = re
      count[block] = n
      const k = 9 * block
      cross[k] = c0
      cross[k + 1] = c1
      cross[k + 2] = c2
      cross[k + 3] = c3
      cross[k + 4] = c4
      cross[k + 5] = c5
      cross[k + 6] = c6
      cross[k + 7] = c7
      cross[k + 8] = c8
    }
  }
  const m = windows.cols * windows.rows
  const kept = new Float32Array(m)
  const weight = new Float32Array(m)
  const added = new Float32Array(m)
  const sum = new Float64Array(9)
  for (let r = 0; r < windows.rows; r++) {
    for (let q = 0; q < windows.cols; q++) {
      let se = 0
      let re = 0
      let n = 0
      sum.fill(0)
      for (let dr = 0; dr < 2; dr++) {
        for (let dq = 0; dq < 2; dq++) {
          const rr = r + dr
          const qq = q + dq
          if (rr >= br || qq >= bc) continue
          const block = rr * bc + qq
          se += ess[block]
          re += err[block]
          n += count[block]
          for (let k = 0; k < 9; k++) sum[k] += cross[9 * block + k]
        }
      }
      if (n < 24) continue
      const best = peak(sum)
      const w = r * windows.cols + q
      if (n >= ADDED_MIN_PX) {
        // What of the result's detail the source's, scaled at its best offset, doesn't explain.
        const c = Math.max(0, best)
        added[w] = Math.max(0, (se > 0 ? re - (c * c) / se : re) - ADDED_OVER * se) / n
      }
      const floor = DETAIL_NOISE * n
      // why the result's energy is let grow by SHARPENED²: a sharpened render has the same print, crisper.
      const energy = Math.max(se, re / SHARPENED ** 2)
      if (energy <= 2 * floor) continue
      kept[w] = best / energy
      weight[w] = energy - floor
    }
  }
  return { kept, weight, added }
}

/** Windows keeping less than this on whole-pixel offsets are read again on the sub-pixel aligned result. */
const RECHECK_BELOW = 0.85

/**
 * Second reading of the poorly kept windows, on the result resampled at the
 * exact (sub-pixel) alignment, keeping the better of the two. why: fine
 * high-contrast lines a third of a pixel off correlate poorly at every whole
 * offset; resampled into place they match, and a wiped or altered print
 * matches no better there than it did.
 */
export function recheckAligned(ref: DetailReference, detail: DetailCellsOut, alignedDetailOf: () => Float32Array): void {
  const { width, height, signed, srcDetail, detailGrid: windows } = ref
  let alignedDetail: Float32Array | undefined
  const side = DETAIL_CELL
  const step = side / 2
  const sum = new Float64Array(9)
  for (let w = 0; w < detail.kept.length; w++) {
    if (detail.weight[w] <= 0 || detail.kept[w] >= RECHECK_BELOW) continue
    alignedDetail ??= alignedDetailOf()
    const r = Math.floor(w / windows.cols)
    const q = w % windows.cols
    let se = 0
    let re = 0
    sum.fill(0)
    for (let y = Math.max(1, r * step); y < Math.min(height - 1, r * step + side); y++) {
      for (let x = Math.max(1, q * step); x < Math.min(width - 1, q * step + side); x++) {
        const i = y * width + x
        if (signed[i] < DETAIL_INSET) continue
        const sv = srcDetail[i]
        se += sv * sv
        re += alignedDetail[i] * alignedDetail[i]
        let k = 0
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum[k++] += sv * alignedDetail[i + dy * width + dx]
      }
    }
    const energy = Math.max(se, re / SHARPENED ** 2)
    if (energy > 0) detail.kept[w] = Math.max(detail.kept[w], peak(sum) / energy)
  }
}

/**
 * The largest of 3×3 cross-correlations at one-pixel offsets (row-major,
 * centre = no offset), refined to the sub-pixel peak when the centre is the
 * largest: a parabola through each axis' three values. why: fine lettering
 * a third of a pixel off correlates visibly less at every whole offset.
 */
export function peak(c: Float64Array): number {
  let best = 0
  for (let k = 1; k < 9; k++) if (c[k] > c[best]) best = k
  if (best !== 4) return c[best]
  return c[4] + Math.max(0, parabolaRise(c[3], c[4], c[5])) + Math.max(0, parabolaRise(c[1], c[4], c[7]))
}

/** How far the parabola through (−1, a), (0, b), (1, d) rises above b at its top (0 when it opens upward). */
function parabolaRise(a: number, b: number, d: number): number {
  const curve = a - 2 * b + d
  if (curve >= 0) return 0
  const delta = (a - d) / (2 * curve)
  return -((a - d) * delta) / 4
}

/** Window energy above the noise floor (levels², 16² px) that makes a window part of the print. */
export const PRINT_ENERGY = 16_000

export interface PrintReadings {
  /** Energy-weighted mean of the detail kept over the whole product: blur, a washed-out print. */
  overall: number
  /** Mean kept of the two worst print windows: a wiped logo, garbled letters, a print moved. */
  worst: number
  /** The print's typical (median) window minus those two: one letter changed on a busy print. */
  deficit: number
}

/**
 * The detail readings. why three: a blur takes a little from every window,
 * a wiped logo takes all of a few, and a changed letter takes some of one
 * window among many good ones; each shows in a different statistic.
 */
export function printReadings(detail: Pick<DetailCellsOut, 'kept' | 'weight'>): PrintReadings {
  const all: Array<[number, number]> = []
  let total = 0
  let sum = 0
  for (let w = 0; w < detail.weight.length; w++) {
    if (detail.weight[w] <= 0) continue
    all.push([detail.kept[w], detail.weight[w]])
    total += detail.weight[w]
    sum += detail.weight[w] * detail.kept[w]
  }
  if (all.length === 0) return { overall: 1, worst: 1, deficit: 0 }
  let print = all.filter(([, w]) => w >= PRINT_ENERGY).map(([k]) => k)
  // A plain product: its three most detailed windows stand for the print.
  if (print.length < 3)
    print = [...all]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k]) => k)
  print.sort((a, b) => a - b)
  const worst = print.length === 1 ? print[0] : (print[0] + print[1]) / 2
  const median = print[print.length >> 1]
  const r = (v: number): number => Math.round(v * 1000) / 1000
  return { overall: r(sum / total), worst: r(worst), deficit: r(Math.max(0, median - worst)) }
}

/**
 * How much print detail was lost or changed, 1 = just visible. The worst of
 * the three readings against its threshold, set between the golden set's
 * clean controls and its visible print defects (see scripts/eval.ts):
 * overall kept below 0.71, the worst windows below 0.55, or the worst
 * windows 0.30 below the print's median.
 */
export function printBadness(d: PrintReadings): number {
  return Math.max((1 - d.overall) / (1 - DETAIL_OVERALL), (1 - d.worst) / (1 - DETAIL_WORST), d.deficit / DETAIL_DEFICIT)
}

export const DETAIL_OVERALL = 0.71
export const DETAIL_WORST = 0.55
export const DETAIL_DEFICIT = 0.3
