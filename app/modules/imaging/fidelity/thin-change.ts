// Thin-part change: a slider, a bead or a bow on a strap gone or added. why
// apart from local-change.ts: a strap is all edge band, where the scene behind
// it differs from the source's backdrop, so colours can't be compared there;
// how much product each pixel holds (the edge band's coverage) can.
import { f32, i32, u8 } from './scratch.ts'
import { BAND, type Rect } from './grid.ts'
import { PART_MIN } from './distance.ts'

/** Product gained or lost over a 3 × 3 px window (px) from which a thin part's pixel counts as changed. */
export const THIN_CHANGED = 2
/** Mass (Σ coverage change over THIN_CHANGED, grid px) of a just-visible change on a thin part. */
export const THIN_MASS_VISIBLE = 15
/** A window with a pixel read this far below no product has a scene its estimate got wrong: it is not read. */
const BELOW_SCENE = -0.2
/** Grid px: a smaller patch is a JPEG speck on a strap, not a part. */
const MIN_AREA = 4
/** A patch longer than this many times its width runs along the strap: the strap changed width (the edge band's reading). */
const MAX_ELONGATION = 3
/** Share of its box a patch fills at least: a diagonal line along a slanted strap fills little of its box. */
const MIN_FILL = 0.25

/** Per band pixel, what edgeCells read: coverage before (source) and after (result); `read` says which pixels were. */
export interface CoveragePlanes {
  before: Float32Array
  after: Float32Array
  read: Uint8Array
}

export function coveragePlanes(n: number): CoveragePlanes {
  return { before: f32('thin.before', n, false), after: f32('thin.after', n, false), read: u8('thin.read', n, true) }
}

export interface ThinReading {
  /** The worst patch's mass against THIN_MASS_VISIBLE: 1 = just visible. */
  badness: number
  /** Grid px (absent when nothing changed). */
  box?: Rect
  /** Its pixels, and Σ (|change| − THIN_CHANGED) over them. */
  area: number
  mass: number
}

/**
 * Per read band pixel of a part thinner than PART_MIN: the product gained
 * (+) or lost (−) over the 3 × 3 px round it, in px, where that is more than
 * THIN_CHANGED. why a window's sum and not the pixel's own change: a strap
 * drawn half a pixel aside moves coverage between neighbours and keeps the
 * sum; a slider gone takes it away.
 */
function changeOf(
  planes: CoveragePlanes,
  signed: Float32Array,
  thickness: Float32Array,
  width: number,
  height: number,
): Float32Array {
  const { before, after, read } = planes
  const n = before.length
  const d = f32('thin.delta', n, true)
  for (let i = 0; i < n; i++) {
    // why at most 1: a strap read as more than product is one relit lighter or darker, not a wider one.
    if (read[i] && thickness[i] < PART_MIN && Math.abs(signed[i]) <= BAND) d[i] = Math.min(1, after[i]) - before[i]
  }
  const out = f32('thin.change', n, true)
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x
      if (d[i] === 0) continue
      let sum = 0
      let lowest = 0
      for (let dy = -width; dy <= width; dy += width) {
        for (let j = i + dy - 1; j <= i + dy + 1; j++) {
          sum += d[j]
          if (d[j] !== 0 && after[j] < lowest) lowest = after[j]
        }
      }
      // why: less than no product is a scene darker or brighter than its estimate (a window's frame behind the strap).
      if (Math.abs(sum) > THIN_CHANGED && lowest >= BELOW_SCENE) out[i] = sum
    }
  }
  return out
}

/** The thin parts' worst compact patch of changed coverage. */
export function thinChange(
  planes: CoveragePlanes,
  signed: Float32Array,
  thickness: Float32Array,
  width: number,
  height: number,
): ThinReading {
  const change = changeOf(planes, signed, thickness, width, height)
  const seen = u8('thin.seen', change.length, true)
  const queue = i32('thin.queue', change.length, false)
  let worst: ThinReading = { badness: 0, area: 0, mass: 0 }
  for (let start = 0; start < change.length; start++) {
    if (seen[start] || change[start] === 0) continue
    const sign = Math.sign(change[start])
    seen[start] = 1
    queue[0] = start
    let head = 0
    let tail = 1
    let mass = 0
    let x0 = width
    let y0 = height
    let x1 = -1
    let y1 = -1
    while (head < tail) {
      const i = queue[head++]
      const x = i % width
      const y = (i - x) / width
      mass += Math.abs(change[i]) - THIN_CHANGED
      x0 = Math.min(x0, x)
      x1 = Math.max(x1, x)
      y0 = Math.min(y0, y)
      y1 = Math.max(y1, y)
      // why 8-neighbours: a slanted strap's pixels touch only at corners.
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const j = i + dy * width + dx
          if (j < 0 || j >= change.length || seen[j] || Math.sign(change[j]) !== sign) continue
          seen[j] = 1
          queue[tail++] = j
        }
      }
    }
    const w = x1 - x0 + 1
    const h = y1 - y0 + 1
    if (tail < MIN_AREA || Math.max(w, h) > MAX_ELONGATION * Math.min(w, h) || tail < MIN_FILL * w * h) continue
    const badness = mass / THIN_MASS_VISIBLE
    if (badness > worst.badness) worst = { badness, box: { left: x0, top: y0, width: w, height: h }, area: tail, mass }
  }
  return worst
}
