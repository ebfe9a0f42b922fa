// Aligning the result to the source: scale and shift found by Gauss–Newton on
// luma, coarse to fine, and the result resampled into place.
import { f32, u8 } from './scratch.ts'
import type { DetailReference } from './types.ts'

/** Largest misplacement the alignment looks for, grid px at the finest level (≈ 2^levels). */
const PYRAMID_LEVELS = 3

/**
 * The luma the result should have if it is the source product on the
 * result's own scene: the source with its backdrop exchanged for the scene,
 * in proportion to each pixel's coverage.
 */
export function predictLuma(ref: DetailReference, scene: Float32Array): Float32Array {
  const { src, alpha, backdrop, srcCoverage, near } = ref
  // Away from the outline the prediction is the source itself (inside) or doesn't matter (far scene).
  const out = f32('predicted', ref.srcLuma.length, false)
  out.set(ref.srcLuma)
  for (let k = 0; k < near.length; k++) {
    const i = near[k]
    const o = 3 * i
    let cover = srcCoverage[i]
    if (Number.isNaN(cover)) cover = alpha[i]
    cover = cover < 0 ? 0 : cover > 1 ? 1 : cover
    let r = src[o]
    let g = src[o + 1]
    let b = src[o + 2]
    if (cover < 1 && !Number.isNaN(scene[o]) && !Number.isNaN(backdrop[o])) {
      const away = 1 - cover
      r += away * (scene[o] - backdrop[o])
      g += away * (scene[o + 1] - backdrop[o + 1])
      b += away * (scene[o + 2] - backdrop[o + 2])
    }
    out[i] = 0.299 * r + 0.587 * g + 0.114 * b
  }
  return out
}

export interface Motion {
  /** Scale about the grid centre, and translation (grid px): result(c + s (x − c) + t) ≈ source(x). */
  s: number
  tx: number
  ty: number
}

/** 2× box reduction of a plane. */
export function half(
  plane: Float32Array,
  width: number,
  height: number,
  key: string,
): { plane: Float32Array; width: number; height: number } {
  const w = width >> 1
  const h = height >> 1
  const out = f32(key, w * h, false)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * width + 2 * x
      out[y * w + x] = 0.25 * (plane[i] + plane[i + 1] + plane[i + width] + plane[i + width + 1])
    }
  }
  return { plane: out, width: w, height: h }
}

/**
 * Scale and translation that best map the result onto the prediction
 * (Gauss–Newton on luma, coarse to fine, with a brightness offset and
 * Huber weights so a wiped logo or a tint doesn't drag the fit).
 * why: a regenerated product lands a few px off and a percent or two
 * bigger or smaller; compared in place, every print edge would look changed.
 */
export function align(template: Float32Array, image: Float32Array, signed: Float32Array, width: number, height: number): Motion {
  // Pixels that say where the product is: it, its outline and a little scene.
  const weightFull = f32('align.weight', width * height, false)
  for (let i = 0; i < weightFull.length; i++) weightFull[i] = signed[i] >= -6 ? 1 : 0
  const finest: Level = { t: template, im: image, w: weightFull, width, height }
  // why a first step at full resolution: most results are where the source says (every
  // same-geometry composite is); a step that finds nothing worth a warp (isStill) means
  // the coarser levels would only confirm it. Anything more is searched for coarse to fine.
  const first = gaussNewtonStep(finest, 1, 0, 0, 2)
  const found = first && { s: 1 + first[0], tx: first[1], ty: first[2] }
  if (found && isStill(found, width, height)) return found
  const levels: Level[] = [finest]
  for (let l = 1; l < PYRAMID_LEVELS; l++) {
    const prev = levels[l - 1]
    if (prev.width < 48 || prev.height < 48) break
    const t = half(prev.t, prev.width, prev.height, `align.t${l}`)
    levels.push({
      t: t.plane,
      im: half(prev.im, prev.width, prev.height, `align.im${l}`).plane,
      w: half(prev.w, prev.width, prev.height, `align.w${l}`).plane,
      width: t.width,
      height: t.height,
    })
  }
  let s = 1
  let tx = 0
  let ty = 0
  for (let l = levels.length - 1; l >= 0; l--) {
    const level = levels[l]
    const f = 2 ** l
    // why every other pixel at the finest level: the coarser levels have done the searching;
    // this one only refines a fraction of a pixel, and a quarter of the pixels pin that down.
    const stride = l === 0 && levels.length > 1 ? 2 : 1
    let ltx = tx / f
    let lty = ty / f
    const iterations = l === 0 ? 4 : 10
    for (let iter = 0; iter < iterations; iter++) {
      const delta = gaussNewtonStep(level, s, ltx, lty, stride)
      if (!delta) break
      s += delta[0]
      ltx += delta[1]
      lty += delta[2]
      // why the limits: beyond them it isn't the same placement any more, and the fit ran away.
      s = Math.min(1.05, Math.max(0.95, s))
      ltx = Math.min(8 / f + 2, Math.max(-8 / f - 2, ltx))
      lty = Math.min(8 / f + 2, Math.max(-8 / f - 2, lty))
      if (Math.abs(delta[0]) * level.width < 0.02 && Math.abs(delta[1]) < 0.02 && Math.abs(delta[2]) < 0.02) break
    }
    tx = ltx * f
    ty = lty * f
  }
  return { s, tx, ty }
}

interface Level {
  t: Float32Array
  im: Float32Array
  w: Float32Array
  width: number
  height: number
}

const stepA = new Float64Array(16)
const stepB = new Float64Array(4)

/**
 * One Gauss–Newton step of align at one pyramid level from (s, tx, ty), on
 * every `stride`-th pixel: the change of scale, shift and brightness offset;
 * undefined when too few pixels could be compared or the system is singular.
 */
export function gaussNewtonStep(level: Level, s: number, ltx: number, lty: number, stride: number): Float64Array | undefined {
  const { t, im, w, width: lw, height: lh } = level
  const cx = (lw - 1) / 2
  const cy = (lh - 1) / 2
  const A = stepA
  const bvec = stepB
  A.fill(0)
  bvec.fill(0)
  let count = 0
  for (let y = 2; y < lh - 2; y += stride) {
    const Y = cy + s * (y - cy) + lty
    if (Y < 0 || Y >= lh - 1) continue
    const y0 = Y | 0
    const fy = Y - y0
    const dyc = y - cy
    for (let x = 2; x < lw - 2; x += stride) {
      const i = y * lw + x
      if (w[i] < 0.5) continue
      const X = cx + s * (x - cx) + ltx
      if (X < 0 || X >= lw - 1) continue
      const x0 = X | 0
      const fx = X - x0
      const k = y0 * lw + x0
      const top = im[k] + fx * (im[k + 1] - im[k])
      const bottom = im[k + lw] + fx * (im[k + lw + 1] - im[k + lw])
      const r = top + fy * (bottom - top) - t[i]
      count++
      // why Huber at 12 levels: JPEG and resampling stay under it; a wiped logo doesn't.
      const a = r < 0 ? -r : r
      const rw = a <= 12 ? 1 : 12 / a
      const gx = 0.5 * (t[i + 1] - t[i - 1])
      const gy = 0.5 * (t[i + lw] - t[i - lw])
      const j0 = gx * (x - cx) + gy * dyc
      const w0 = rw * j0
      const w1 = rw * gx
      const w2 = rw * gy
      bvec[0] -= w0 * r
      bvec[1] -= w1 * r
      bvec[2] -= w2 * r
      bvec[3] -= rw * r
      A[0] += w0 * j0
      A[1] += w0 * gx
      A[2] += w0 * gy
      A[3] += w0
      A[5] += w1 * gx
      A[6] += w1 * gy
      A[7] += w1
      A[10] += w2 * gy
      A[11] += w2
      A[15] += rw
    }
  }
  if (count < 64) return undefined
  for (let p = 0; p < 4; p++) for (let q = 0; q < p; q++) A[p * 4 + q] = A[q * 4 + p]
  return solve4(A, bvec)
}

/** Grid px: a motion moving no pixel of the grid further than this is no motion. */
export const STILL = 0.05

/**
 * Whether the motion moves every grid pixel by less than STILL. why that
 * little: a bilinear warp by 1/20 px changes a pixel by 1/20 of its
 * neighbour's difference, below the JPEG's own noise; the warp and a second
 * print reading would cost a fifth of the comparison for that.
 */
export function isStill(m: Motion, width: number, height: number): boolean {
  const reach = Math.abs(m.s - 1) * Math.max(width, height) / 2
  return reach + Math.abs(m.tx) < STILL && reach + Math.abs(m.ty) < STILL
}

/** Solves a 4×4 system (Gaussian elimination with partial pivoting); undefined when singular. */
export function solve4(A: Float64Array, b: Float64Array): Float64Array | undefined {
  const m = Float64Array.from(A)
  const v = Float64Array.from(b)
  for (let c = 0; c < 4; c++) {
    let pivot = c
    for (let r = c + 1; r < 4; r++) if (Math.abs(m[r * 4 + c]) > Math.abs(m[pivot * 4 + c])) pivot = r
    if (Math.abs(m[pivot * 4 + c]) < 1e-9) return undefined
    if (pivot !== c) {
      for (let k = 0; k < 4; k++) [m[c * 4 + k], m[pivot * 4 + k]] = [m[pivot * 4 + k], m[c * 4 + k]]
      ;[v[c], v[pivot]] = [v[pivot], v[c]]
    }
    for (let r = c + 1; r < 4; r++) {
      const f = m[r * 4 + c] / m[c * 4 + c]
      for (let k = c; k < 4; k++) m[r * 4 + k] -= f * m[c * 4 + k]
      v[r] -= f * v[c]
    }
  }
  const x = new Float64Array(4)
  for (let r = 3; r >= 0; r--) {
    let s = v[r]
    for (let k = r + 1; k < 4; k++) s -= m[r * 4 + k] * x[k]
    x[r] = s / m[r * 4 + r]
  }
  return x
}

/** The result resampled at the aligned positions (bilinear), so pixel i of both sides is the same point of the product. */
export function warpRgb(rgb: Uint8Array, width: number, height: number, m: Motion): Uint8Array {
  const out = u8('aligned', rgb.length, false)
  const cx = (width - 1) / 2
  const cy = (height - 1) / 2
  // why per column: the warp is a scale and a shift, so X depends on x alone and Y on y alone.
  const col = new Int32Array(width)
  const fxs = new Float32Array(width)
  for (let x = 0; x < width; x++) {
    const X = cx + m.s * (x - cx) + m.tx
    const xc = X < 0 ? 0 : X > width - 1 ? width - 1 : X
    const x0 = Math.min(width - 2, Math.floor(xc))
    col[x] = 3 * x0
    fxs[x] = xc - x0
  }
  for (let y = 0; y < height; y++) {
    const Y = cy + m.s * (y - cy) + m.ty
    const yc = Y < 0 ? 0 : Y > height - 1 ? height - 1 : Y
    const y0 = Math.min(height - 2, Math.floor(yc))
    const fy = yc - y0
    const top = y0 * width * 3
    const bottom = top + 3 * width
    let o = y * width * 3
    for (let x = 0; x < width; x++, o += 3) {
      const a = top + col[x]
      const b = bottom + col[x]
      const fx = fxs[x]
      for (let c = 0; c < 3; c++) {
        const t = rgb[a + c] + fx * (rgb[a + 3 + c] - rgb[a + c])
        const u = rgb[b + c] + fx * (rgb[b + 3 + c] - rgb[b + c])
        out[o + c] = t + fy * (u - t) + 0.5
      }
    }
  }
  return out
}
