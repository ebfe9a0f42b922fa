// Local change: patches of the product's interior whose colour differs from
// the source's beyond what a one-pixel misalignment explains — a button or a
// pocket gone or added, one print colour drifted, a neckline cut deeper, a
// logo melted. why apart from the colour blocks and the print detail: those
// average over the product or over print windows, and a change of well
// under 1 % of the product moves neither.
import { srgbToLabTabulated } from '../colour.ts'
import { f32, i32, u8 } from './scratch.ts'
import { INTERIOR, type Rect } from './grid.ts'
export type { LabPlanes } from './types.ts'
import type { DetailReference, LabPlanes } from './types.ts'
import { patchCues, type PatchCues } from './change-kind.ts'

/** ΔE (CIE76, on both sides blurred by σ ≈ 1 px) from which a pixel counts as changed. */
export const CHANGED_DE = 6

/** Of the source's local contrast (ΔE across two px), the part a faithful render may differ by there. */
const EDGE_SLACK = 0.5

export interface ChangedPatch {
  /** Grid px. */
  area: number
  /** Mean shift-tolerant ΔE over the patch. */
  meanDeltaE: number
  /** Σ (ΔE − CHANGED_DE) over the patch: how much change it holds. */
  mass: number
  /** Mean |ΔL| and mean |Δa*b*| over the patch: a lightness change (a part) or a hue change (a print colour). */
  lightness: number
  chroma: number
  /** Bounding box, grid px. */
  box: Rect
  /** One of its pixels: patchPixels() floods the patch again from it. */
  seed: number
}

/**
 * Lab of an RGB grid, blurred by [1 4 6 4 1]/16 per axis (σ = 1 px: grain,
 * JPEG blocks and a mild sharpening fade), as three planes: scratch planes
 * under `key`, or new ones when `key` is omitted (the reference keeps them).
 */
export function blurredLab(rgb: Uint8Array, width: number, height: number, key?: string): LabPlanes {
  const n = width * height
  const plane = (c: string): Float32Array => (key ? f32(`${key}.${c}`, n, false) : new Float32Array(n))
  const planes = [plane('L'), plane('a'), plane('b')] as const
  const rawL = f32('local.rawL', n, false)
  const rawA = f32('local.rawA', n, false)
  const rawB = f32('local.rawB', n, false)
  const lab = new Float64Array(3)
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    srgbToLabTabulated(rgb[o], rgb[o + 1], rgb[o + 2], lab)
    rawL[i] = lab[0]
    rawA[i] = lab[1]
    rawB[i] = lab[2]
  }
  const tmp = f32('local.tmp', n, false)
  blur5(rawL, width, height, tmp, planes[0])
  blur5(rawA, width, height, tmp, planes[1])
  blur5(rawB, width, height, tmp, planes[2])
  return planes
}

/** [1 4 6 4 1]/16 along rows then columns, edges clamped. why the borders apart: the inner loops then have no clamps. */
function blur5(plane: Float32Array, width: number, height: number, tmp: Float32Array, out: Float32Array): void {
  const lastX = width - 1
  const lastY = height - 1
  const at = (row: number, x: number): number => plane[row + (x < 0 ? 0 : x > lastX ? lastX : x)]
  for (let y = 0; y < height; y++) {
    const row = y * width
    for (let x = 0; x < width; x++) {
      if (x === 2 && width > 4) x = width - 2
      tmp[row + x] = (at(row, x - 2) + at(row, x + 2) + 4 * (at(row, x - 1) + at(row, x + 1)) + 6 * plane[row + x]) / 16
    }
    for (let p = row + 2, end = row + width - 2; p < end; p++) {
      tmp[p] = (plane[p - 2] + plane[p + 2] + 4 * (plane[p - 1] + plane[p + 1]) + 6 * plane[p]) / 16
    }
  }
  for (let y = 0; y < height; y++) {
    const m2 = Math.max(0, y - 2) * width
    const m1 = Math.max(0, y - 1) * width
    const p1 = Math.min(lastY, y + 1) * width
    const p2 = Math.min(lastY, y + 2) * width
    const row = y * width
    for (let x = 0; x < width; x++)
      out[row + x] = (tmp[m2 + x] + tmp[p2 + x] + 4 * (tmp[m1 + x] + tmp[p1 + x]) + 6 * tmp[row + x]) / 16
  }
}

/**
 * Per interior pixel, the smallest ΔE between the source there and the result
 * at it or one of its eight neighbours, after removing the interior's overall
 * colour offset (that is the colour blocks' reading, and a relit scene's),
 * less EDGE_SLACK of the source's contrast there; 0 where that is at most
 * CHANGED_DE. why the neighbours: a print edge half a pixel off reads ΔE 10
 * along a line, and is not a change.
 */
export function changeMap(src: LabPlanes, res: LabPlanes, signed: Float32Array, width: number, height: number): Float32Array {
  const n = width * height
  const [oL, oa, ob] = interiorOffset(src, res, signed)
  const [sL, sa, sb] = src
  const [rL, ra, rb] = res
  const out = f32('local.change', n, true)
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x
      if (signed[i] < INTERIOR) continue
      const L = sL[i] + oL
      const a = sa[i] + oa
      const b = sb[i] + ob
      let best = (rL[i] - L) ** 2 + (ra[i] - a) ** 2 + (rb[i] - b) ** 2
      // why the early ways out: only changed pixels are read further, and most pixels match in place.
      if (best <= CHANGED_DE ** 2) continue
      // why less near the source's own edges: two resamplers draw a print edge with different profiles.
      const slack =
        EDGE_SLACK *
        Math.sqrt(
          Math.max(
            (sL[i + 1] - sL[i - 1]) ** 2 + (sa[i + 1] - sa[i - 1]) ** 2 + (sb[i + 1] - sb[i - 1]) ** 2,
            (sL[i + width] - sL[i - width]) ** 2 + (sa[i + width] - sa[i - width]) ** 2 + (sb[i + width] - sb[i - width]) ** 2,
          ),
        )
      const limit = (CHANGED_DE + slack) ** 2
      if (best <= limit) continue
      for (let dy = -width; dy <= width && best > limit; dy += width) {
        for (let dx = -1; dx <= 1; dx++) {
          const j = i + dy + dx
          const d = (rL[j] - L) ** 2 + (ra[j] - a) ** 2 + (rb[j] - b) ** 2
          if (d < best) best = d
        }
      }
      out[i] = Math.max(0, Math.sqrt(best) - slack)
    }
  }
  return out
}

/** Mean Lab difference (result − source) over the interior, twice: the second time without pixels far from the first. */
function interiorOffset(src: LabPlanes, res: LabPlanes, signed: Float32Array): [number, number, number] {
  let offset: [number, number, number] = [0, 0, 0]
  for (let pass = 0; pass < 2; pass++) {
    const sum = [0, 0, 0]
    let count = 0
    for (let i = 0; i < signed.length; i++) {
      if (signed[i] < INTERIOR) continue
      const d0 = res[0][i] - src[0][i]
      const d1 = res[1][i] - src[1][i]
      const d2 = res[2][i] - src[2][i]
      if (pass === 1 && (d0 - offset[0]) ** 2 + (d1 - offset[1]) ** 2 + (d2 - offset[2]) ** 2 > CHANGED_DE ** 2) continue
      sum[0] += d0
      sum[1] += d1
      sum[2] += d2
      count++
    }
    if (count === 0) return [0, 0, 0]
    offset = [sum[0] / count, sum[1] / count, sum[2] / count]
  }
  return offset
}

/** Queues the unseen changed 4-neighbours of pixel i (at x, y); returns the new queue length. */
function floodFrom(
  i: number,
  x: number,
  y: number,
  width: number,
  height: number,
  change: Float32Array,
  seen: Uint8Array,
  queue: Int32Array,
  tail: number,
): number {
  const take = (j: number): void => {
    if (seen[j] || !(change[j] > CHANGED_DE)) return
    seen[j] = 1
    queue[tail++] = j
  }
  if (x > 0) take(i - 1)
  if (x < width - 1) take(i + 1)
  if (y > 0) take(i - width)
  if (y < height - 1) take(i + width)
  return tail
}

/** The pixels of the patch holding `seed` (a new array: it outlives the scratch planes). */
export function patchPixels(change: Float32Array, seed: number, width: number, height: number): Int32Array {
  const seen = u8('local.seen', change.length, true)
  const queue = i32('local.queue', change.length, false)
  seen[seed] = 1
  queue[0] = seed
  let head = 0
  let tail = 1
  while (head < tail) {
    const i = queue[head++]
    const x = i % width
    tail = floodFrom(i, x, (i - x) / width, width, height, change, seen, queue, tail)
  }
  return queue.slice(0, tail)
}

/** Connected patches (4-neighbours) of pixels changed by more than CHANGED_DE, largest mass first. */
export function changedPatches(
  change: Float32Array,
  src: LabPlanes,
  res: LabPlanes,
  width: number,
  height: number,
): ChangedPatch[] {
  const n = width * height
  const seen = u8('local.seen', n, true)
  const queue = i32('local.queue', n, false)
  const patches: ChangedPatch[] = []
  for (let start = 0; start < n; start++) {
    if (seen[start] || !(change[start] > CHANGED_DE)) continue
    seen[start] = 1
    let head = 0
    let tail = 0
    queue[tail++] = start
    let mass = 0
    let sum = 0
    let lightness = 0
    let chroma = 0
    let x0 = width
    let y0 = height
    let x1 = 0
    let y1 = 0
    while (head < tail) {
      const i = queue[head++]
      const x = i % width
      const y = (i - x) / width
      sum += change[i]
      mass += change[i] - CHANGED_DE
      lightness += Math.abs(res[0][i] - src[0][i])
      chroma += Math.hypot(res[1][i] - src[1][i], res[2][i] - src[2][i])
      if (x < x0) x0 = x
      if (x > x1) x1 = x
      if (y < y0) y0 = y
      if (y > y1) y1 = y
      tail = floodFrom(i, x, y, width, height, change, seen, queue, tail)
    }
    const area = tail
    patches.push({
      area,
      meanDeltaE: sum / area,
      mass,
      lightness: lightness / area,
      chroma: chroma / area,
      box: { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 },
      seed: start,
    })
  }
  return patches.sort((a, b) => b.mass - a.mass)
}

/** The interior's worst local change, before it is named. */
export interface LocalReading {
  /** The worst patch's mass against MASS_VISIBLE: 1 = just visible. */
  badness: number
  /** The worst patch, grid px, and the cues that name its kind (absent when nothing changed). */
  box?: Rect
  area: number
  /** Σ (ΔE − CHANGED_DE) over the patch. */
  mass: number
  cues?: PatchCues
}

/** Mass (Σ ΔE over CHANGED_DE, grid px) of a just-visible local change. */
export const MASS_VISIBLE = 12
/** Grid px: a patch smaller than this, or thinner than MIN_SIDE, is a JPEG speck or a line along an edge, not a part. */
const MIN_AREA = 6
const MIN_SIDE = 2

/** The interior's worst local change between the source (the reference's Lab) and the aligned result. */
export function localChange(ref: DetailReference, aligned: Uint8Array): LocalReading {
  const { width, height, signed } = ref
  const src: LabPlanes = [ref.srcLabL, ref.srcLabA, ref.srcLabB]
  const res = blurredLab(aligned, width, height, 'resultLab')
  const change = changeMap(src, res, signed, width, height)
  const worst = changedPatches(change, src, res, width, height).find(
    (p) => p.area >= MIN_AREA && Math.min(p.box.width, p.box.height) >= MIN_SIDE,
  )
  if (!worst) return { badness: 0, area: 0, mass: 0 }
  const cues = patchCues(src, res, signed, patchPixels(change, worst.seed, width, height), worst.box, width, height)
  return { badness: worst.mass / MASS_VISIBLE, box: worst.box, area: worst.area, mass: worst.mass, cues }
}
