// What kind of change a local patch is — the family a reason names: the
// outline moved, the print slid, its detail smeared, its colour drifted, or
// something is there that wasn't (or the other way round).
import { INTERIOR, type Rect } from './grid.ts'
import type { LabPlanes } from './types.ts'
import type { ChangeKind } from '../types.ts'
export type { ChangeKind } from '../types.ts'

export interface PatchCues {
  /** Share of the patch within OUTLINE_NEAR px of the outline. */
  outlineShare: number
  /** |mean Lab change| / mean |Lab change|: 1 when every pixel moved the same way (a recolour), ~0 when changes cancel (a smear, a slide). */
  coherence: number
  /** Mean |Δa*b*| / mean |ΔL|. */
  hueShare: number
  /** The best local slide of the result over the patch (grid px), and how much of the difference it explains (0..1). */
  slide: { dx: number; dy: number; explained: number }
  /** Gradient energy of the result over the patch's box against the source's: < 1 when detail was smeared away. */
  energy: number
}

/** Grid px from the outline within which a patch belongs to it: the interior (INTERIOR) plus a few px. */
const OUTLINE_NEAR = INTERIOR + 4
/** Largest slide looked for, grid px: a print warped by up to ~12 result px. */
const SLIDE_REACH = 12

export function patchCues(
  src: LabPlanes,
  res: LabPlanes,
  signed: Float32Array,
  pixels: Int32Array,
  box: Rect,
  width: number,
  height: number,
): PatchCues {
  let near = 0
  const mean = [0, 0, 0]
  let size = 0
  let hue = 0
  let light = 0
  for (const i of pixels) {
    if (signed[i] < OUTLINE_NEAR) near++
    const dL = res[0][i] - src[0][i]
    const da = res[1][i] - src[1][i]
    const db = res[2][i] - src[2][i]
    mean[0] += dL
    mean[1] += da
    mean[2] += db
    size += Math.hypot(dL, da, db)
    hue += Math.hypot(da, db)
    light += Math.abs(dL)
  }
  const n = pixels.length
  return {
    outlineShare: near / n,
    coherence: size === 0 ? 0 : Math.hypot(mean[0], mean[1], mean[2]) / size,
    hueShare: light === 0 ? Infinity : hue / light,
    slide: bestSlide(src[0], res[0], box, width, height),
    energy: gradientEnergy(res[0], box, width, height) / Math.max(1e-6, gradientEnergy(src[0], box, width, height)),
  }
}

/**
 * The integer slide (±SLIDE_REACH) of the result's L that best matches the
 * source's over the box grown by SLIDE_REACH. why that much: within a
 * smaller window a part that was added or removed slides out of sight, and
 * the slide would seem to explain it.
 */
function bestSlide(srcL: Float32Array, resL: Float32Array, box: Rect, width: number, height: number): PatchCues['slide'] {
  const x0 = Math.max(SLIDE_REACH, box.left - SLIDE_REACH)
  const y0 = Math.max(SLIDE_REACH, box.top - SLIDE_REACH)
  const x1 = Math.min(width - SLIDE_REACH, box.left + box.width + SLIDE_REACH)
  const y1 = Math.min(height - SLIDE_REACH, box.top + box.height + SLIDE_REACH)
  if (x1 <= x0 || y1 <= y0) return { dx: 0, dy: 0, explained: 0 }
  const ssd = (dx: number, dy: number): number => {
    let sum = 0
    for (let y = y0; y < y1; y++) {
      const row = y * width
      const moved = (y + dy) * width + dx
      for (let x = x0; x < x1; x++) sum += (resL[moved + x] - srcL[row + x]) ** 2
    }
    return sum
  }
  const still = ssd(0, 0)
  let best = { dx: 0, dy: 0, value: still }
  for (let dy = -SLIDE_REACH; dy <= SLIDE_REACH; dy++) {
    for (let dx = -SLIDE_REACH; dx <= SLIDE_REACH; dx++) {
      if (dx === 0 && dy === 0) continue
      const value = ssd(dx, dy)
      if (value < best.value) best = { dx, dy, value }
    }
  }
  return { dx: best.dx, dy: best.dy, explained: still === 0 ? 0 : 1 - best.value / still }
}

function gradientEnergy(L: Float32Array, box: Rect, width: number, height: number): number {
  let sum = 0
  for (let y = Math.max(1, box.top); y < Math.min(height - 1, box.top + box.height); y++) {
    for (let x = Math.max(1, box.left); x < Math.min(width - 1, box.left + box.width); x++) {
      const i = y * width + x
      sum += (L[i + 1] - L[i - 1]) ** 2 + (L[i + width] - L[i - width]) ** 2
    }
  }
  return sum
}

/** Share of a patch near the outline from which it is the outline that changed (a sleeve narrowed, a hem cut). */
const OUTLINE_SHARE = 0.2
/** A slide of at least this many grid px that explains this much of a patch means the patch moved, not changed. */
const SLIDE_MIN = 3
const SLIDE_EXPLAINS = 0.65
/** Mass of a moved patch from which it is a print that slid (warped); below, a contour moved (a pocket's opening, a waistband). */
const PRINT_MASS = 2000
/** Gradient energy kept (result over source) by anything moved or smeared; a part taken away leaves less (flat fabric). */
const KEPT_ENERGY = 0.12
/** Hue change this many times the lightness change, the same way over the patch, is a print colour drifting. */
const HUE_SHARE = 2.5
const COHERENT = 0.9
/** Deep patches at least this large reaching toward the outline: an opening cut deeper (a neckline). */
const OPENING_AREA = 1000

/**
 * The family a patch belongs to, read off its cues in order: near the
 * outline; moved as a whole with its detail kept (by its mass, a print or a
 * contour); recoloured the same way throughout with its detail kept;
 * smeared, some detail left, where the print detail measure also lost
 * detail (`printLost`); a large opening; else a part that is gone or new
 * (a part taken away leaves flat fabric: almost no detail).
 */
export function changeKind(cues: PatchCues, area: number, mass: number, printLost: boolean): ChangeKind {
  const { slide } = cues
  const reach = Math.max(Math.abs(slide.dx), Math.abs(slide.dy))
  if (cues.outlineShare >= OUTLINE_SHARE) return 'outline'
  // why below SLIDE_REACH: a best slide at the end of the search found another part like it, not this one moved.
  const slid = reach >= SLIDE_MIN && reach < SLIDE_REACH && slide.explained >= SLIDE_EXPLAINS
  if (slid && cues.energy >= KEPT_ENERGY) return mass >= PRINT_MASS ? 'warp' : 'shape'
  if (cues.hueShare >= HUE_SHARE && cues.coherence >= COHERENT && cues.energy > 0.5 && cues.energy < 2) return 'colour'
  if (printLost && cues.energy >= KEPT_ENERGY && cues.energy < 0.5) return 'detail'
  if (area >= OPENING_AREA && cues.outlineShare > 0.1) return 'shape'
  return 'part'
}
