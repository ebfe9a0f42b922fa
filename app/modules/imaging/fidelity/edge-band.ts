// The edge band: how much product each pixel round the outline holds, source
// against result, summed per cell, over the outline and over thin parts.
import { BAND } from './grid.ts'
import { f32, u8 } from './scratch.ts'
import type { DetailReference } from './types.ts'
import { PART_MAX, PART_MIN } from './distance.ts'
import { coverageOf } from './scene.ts'
import type { CoveragePlanes } from './thin-change.ts'

export interface EdgeCells {
  /** Per cell: net product gained (+) or lost (−) in the band, relative to what it held. */
  net: Float32Array
  /** Per cell: how much outline it holds that could be read (px of readable band). */
  weight: Float32Array
  /** Per cell: growth of the parts thinner than PART_MAX relative to their thickness (0 where none). */
  part: Float32Array
  /** Over the whole outline: net change relative to what the band held. */
  overall: number
  /** Net change of the thin parts relative to their own area (0 when the product has none). */
  thin: number
  /**
   * Mean overshoot on the scene side (colour pushed beyond the scene, away from
   * the product: a fringe), less the product side's own (sharpening rings both).
   */
  fringe: number
  /**
   * Mean share of the source's backdrop colour the band moved toward, off the
   * line between product and scene, over the band pixels where the backdrop
   * lies off that line (NaN when none do).
   */
  toBackdrop: number
  /**
   * How much of a coverage loss may be a halo, 0..1: band pixels where the
   * backdrop lies on the scene's side of the product–scene line (a halo reads
   * as a loss there and can't be told apart) count 1; where it lies off the
   * line, as much as the band moved toward it (toBackdrop / HALO_FULL);
   * where it lies on the product's side (cream on white), 0 (a halo would read
   * as a gain).
   */
  haloShare: number
  /** The same readings per band pixel, for the heat map (scratch planes: read them before the next comparison). */
  pixels: EdgePixels
}

/** Per grid pixel of the band, what edgeCells read there; 0 where it read nothing (`read` says which). */
export interface EdgePixels {
  /** Coverage gained (+) or lost (−), result against source. */
  change: Float32Array
  /** The source's coverage. */
  held: Float32Array
  read: Uint8Array
  /** Overshoot beyond the scene (outside the outline) or beyond the product (inside it). */
  overshoot: Float32Array
}

/** Coverage read off a textured scene (brick, foliage) is this noisy at most before a band pixel is left unread. */
const MAX_SCENE_NOISE = 0.2
/** Scene pixels sampled round a band pixel to judge its scene: every NOISE_STEP px within ±NOISE_REACH. */
const NOISE_REACH = 6
const NOISE_STEP = 2

/**
 * How far the coverage read at band pixel i can be off because the scene
 * behind it is not the smooth estimate: the RMS of the same reading taken on
 * nearby pure-scene pixels (which should all read 0). why: the estimate is a
 * local average; behind a brick wall's mortar lines the true scene swings
 * by more than the product's contrast with it, and an untouched outline
 * would read as a moved one. Written to `out`: [0] that RMS; [1] the swing,
 * the largest of the readings taken against pixel i's own estimate. why the
 * swing: a scene edge right beside a strap (brick meeting a white wall)
 * makes the estimate behind the strap a blend neither side has, and the
 * RMS averages one such edge away.
 */
function sceneNoise(
  rgb: Uint8Array,
  i: number,
  product: Float32Array,
  scene: Float32Array,
  signed: Float32Array,
  width: number,
  height: number,
  out: Float64Array,
): void {
  const sr = scene[3 * i]
  const sg = scene[3 * i + 1]
  const sb = scene[3 * i + 2]
  const fr = product[3 * i] - sr
  const fg = product[3 * i + 1] - sg
  const fb = product[3 * i + 2] - sb
  const contrast = fr * fr + fg * fg + fb * fb
  const x0 = i % width
  const y0 = (i - x0) / width
  let sum = 0
  let swing = 0
  let n = 0
  for (let dy = -NOISE_REACH; dy <= NOISE_REACH; dy += NOISE_STEP) {
    const y = y0 + dy
    if (y < 0 || y >= height) continue
    for (let dx = -NOISE_REACH; dx <= NOISE_REACH; dx += NOISE_STEP) {
      const x = x0 + dx
      if (x < 0 || x >= width) continue
      const j = y * width + x
      if (!(signed[j] < -(BAND + 1))) continue
      const reading =
        ((rgb[3 * j] - scene[3 * j]) * fr + (rgb[3 * j + 1] - scene[3 * j + 1]) * fg + (rgb[3 * j + 2] - scene[3 * j + 2]) * fb) /
        contrast
      sum += reading * reading
      const own = Math.abs((rgb[3 * j] - sr) * fr + (rgb[3 * j + 1] - sg) * fg + (rgb[3 * j + 2] - sb) * fb) / contrast
      if (own > swing) swing = own
      n++
    }
  }
  out[0] = n < 4 ? 0 : Math.sqrt(sum / n)
  out[1] = n < 4 ? 0 : swing
}

/** sceneNoise's out: one per module, filled and read within one pixel's step of edgeCells. */
const NOISE = new Float64Array(2)

/** Thin parts' coverage is left out of thinChange where a scene pixel round reads further off than this (sceneNoise's swing). */
const THIN_SCENE_MAX = 0.35

/** Gains larger than this are checked against the scene's own colours (sceneExplains), and so are thin parts' losses. */
const GAIN_CHECK = 0.15
/** Scene pixels a gain or a thin loss is checked against: every LIKE_STEP px within ±LIKE_REACH (about a brick course of a wall). */
const LIKE_REACH = 12
const LIKE_STEP = 2

/**
 * Whether the scene round pixel i (LIKE_REACH) explains it at least as well
 * as the coverage read there (`a`, over the estimated scene) does; the source
 * read `b`.
 * - A gain (a > b): one of the scene pixels as it is lies nearer. A pixel
 *   nearer a colour of the scene round it than to the product is scene the
 *   estimate got wrong (a mortar line along a bag's rim), not a wider strap.
 *   why the mix and not the product colour: a strap's new edge pixels are
 *   part product, part scene.
 * - A loss (a < b): the product at the source's coverage over one of them
 *   does as well. The estimate is a local average; where a thin strap crosses
 *   a window's frame the scene under it is darker, and the strap's untouched
 *   edge pixels read as a strap a third thinner.
 */
function sceneExplains(
  rgb: Uint8Array,
  i: number,
  product: Float32Array,
  scene: Float32Array,
  a: number,
  b: number,
  signed: Float32Array,
  width: number,
  height: number,
): boolean {
  const r = rgb[3 * i]
  const g = rgb[3 * i + 1]
  const bl = rgb[3 * i + 2]
  const pr = product[3 * i]
  const pg = product[3 * i + 1]
  const pb = product[3 * i + 2]
  const mr = scene[3 * i] + a * (pr - scene[3 * i])
  const mg = scene[3 * i + 1] + a * (pg - scene[3 * i + 1])
  const mb = scene[3 * i + 2] + a * (pb - scene[3 * i + 2])
  const asRead = (r - mr) ** 2 + (g - mg) ** 2 + (bl - mb) ** 2
  if (a > b)
    return someSceneAround(
      i,
      signed,
      width,
      height,
      (j) => (r - rgb[3 * j]) ** 2 + (g - rgb[3 * j + 1]) ** 2 + (bl - rgb[3 * j + 2]) ** 2 < asRead,
    )
  return someSceneAround(i, signed, width, height, (j) => {
    const sr = rgb[3 * j]
    const sg = rgb[3 * j + 1]
    const sb = rgb[3 * j + 2]
    return (r - (sr + b * (pr - sr))) ** 2 + (g - (sg + b * (pg - sg))) ** 2 + (bl - (sb + b * (pb - sb))) ** 2 <= asRead
  })
}

/** Whether `test` holds for one of the pure-scene pixels round pixel i (every LIKE_STEP px within ±LIKE_REACH). */
function someSceneAround(i: number, signed: Float32Array, width: number, height: number, test: (j: number) => boolean): boolean {
  const x0 = i % width
  const y0 = (i - x0) / width
  for (let dy = -LIKE_REACH; dy <= LIKE_REACH; dy += LIKE_STEP) {
    const y = y0 + dy
    if (y < 0 || y >= height) continue
    for (let dx = -LIKE_REACH; dx <= LIKE_REACH; dx += LIKE_STEP) {
      const x = x0 + dx
      if (x < 0 || x >= width) continue
      const j = y * width + x
      if (signed[j] < -(BAND + 1) && test(j)) return true
    }
  }
  return false
}

/**
 * The product coverage of the edge band read from the result's colours
 * against the same read from the source's: per cell, over the whole outline,
 * over the thin parts alone, and the fringe (scene-side pixels further from
 * the product's colour than the scene itself is).
 */
export function edgeCells(ref: DetailReference, aligned: Uint8Array, scene: Float32Array, planes?: CoveragePlanes): EdgeCells {
  const { width, height, srcCoverage, product, cells, thin, signed } = ref
  const m = cells.cols * cells.rows
  const gained = new Float64Array(m)
  const held = new Float64Array(m)
  const readable = new Float64Array(m)
  let thinGained = 0
  let thinHeld = 0
  const partGained = new Float64Array(m)
  const partPixels = new Float64Array(m)
  const partThick = new Float64Array(m)
  let overshoot = 0
  let outside = 0
  // The same overshoot on the product side: a sharpened render rings on both sides of its outline, a halo on one.
  let innerOvershoot = 0
  let inside = 0
  // Where a halo (the source's backdrop colour round the product) would read as lost coverage (see `haloShare`).
  let towardBackdrop = 0
  let separable = 0
  let ambiguous = 0
  let counted = 0
  const { backdrop } = ref
  const n = width * height
  const pixels = {
    change: f32('edge.change', n),
    held: f32('edge.held', n),
    read: u8('edge.read', n),
    overshoot: f32('edge.overshoot', n),
  }
  for (let i = 0; i < n; i++) {
    let before = srcCoverage[i]
    if (Number.isNaN(before)) continue
    let after = coverageOf(aligned, i, product, scene)
    let colour = product
    const rimBefore = ref.rimCoverage[i]
    if (!Number.isNaN(rimBefore)) {
      // The rim read both ways, backdrop mixed in or taken out: whichever explains the result better.
      const rimAfter = coverageOf(aligned, i, ref.rimProduct, scene)
      // why both: which way explains the result can't be told where one can't be read.
      if (Number.isNaN(rimAfter) || Number.isNaN(after)) continue
      if (Math.abs(rimAfter - rimBefore) < Math.abs(after - before)) {
        before = rimBefore
        after = rimAfter
        colour = ref.rimProduct
      }
    }
    if (Number.isNaN(after)) continue
    sceneNoise(aligned, i, colour, scene, signed, width, height, NOISE)
    if (NOISE[0] > MAX_SCENE_NOISE) continue
    const x = i % width
    const c = cells.colOf[x] + cells.rowOf[(i - x) / width]
    const b = before < 0 ? 0 : before > 1 ? 1 : before
    // why clamp the result side to −0.5…1.5: one saturated pixel must not outweigh a whole strap.
    let a = after < -0.5 ? -0.5 : after > 1.5 ? 1.5 : after
    // A gain must look like the product: a pixel nearer a colour of the scene round it than to the
    // product is scene the estimate got wrong (a mortar line along a bag's rim), not a wider strap.
    if (a - b > GAIN_CHECK && sceneExplains(aligned, i, colour, scene, a, b, signed, width, height)) a = b
    gained[c] += a - b
    held[c] += b
    readable[c]++
    pixels.change[i] = a - b
    pixels.held[i] = b
    pixels.read[i] = 1
    {
      counted++
      const ur = colour[3 * i] - scene[3 * i]
      const ug = colour[3 * i + 1] - scene[3 * i + 1]
      const ub = colour[3 * i + 2] - scene[3 * i + 2]
      const vr = backdrop[3 * i] - scene[3 * i]
      const vg = backdrop[3 * i + 1] - scene[3 * i + 1]
      const vb = backdrop[3 * i + 2] - scene[3 * i + 2]
      const k = (vr * ur + vg * ug + vb * ub) / (ur * ur + ug * ug + ub * ub)
      const wr = vr - k * ur
      const wg = vg - k * ug
      const wb = vb - k * ub
      const ww = wr * wr + wg * wg + wb * wb
      if (ww >= OFF_LINE * OFF_LINE) {
        separable++
        towardBackdrop +=
          ((aligned[3 * i] - scene[3 * i]) * wr +
            (aligned[3 * i + 1] - scene[3 * i + 1]) * wg +
            (aligned[3 * i + 2] - scene[3 * i + 2]) * wb) /
          ww
      } else if (!(k > 0.5)) ambiguous++
    }
    const t = ref.thickness[i]
    if (thin[i] || (planes && t < PART_MIN)) {
      // A thin part's loss must look like one: a pixel the source's coverage over a scene colour round
      // it explains as well is strap over a scene the estimate got wrong (a window's frame behind it).
      // why only here: round the body a halo fills the scene round the outline, and would explain itself.
      const kept = b - a > GAIN_CHECK && sceneExplains(aligned, i, colour, scene, a, b, signed, width, height)
      if (thin[i]) {
        thinGained += kept ? 0 : a - b
        thinHeld += b
      }
      if (planes && NOISE[1] <= THIN_SCENE_MAX) {
        planes.before[i] = b
        planes.after[i] = kept ? b : a
        planes.read[i] = 1
      }
    }
    // why from PART_MIN up: thinner parts are weighed against their area by `thin`, more exactly,
    // and a fraction of a pixel's noise is already a large share of a few pixels' width.
    if (t >= PART_MIN && t < PART_MAX) {
      partGained[c] += a - b
      partPixels[c]++
      partThick[c] += t
    }
    if (signed[i] < 0) {
      pixels.overshoot[i] = Math.max(0, -a - Math.max(0, -before))
      overshoot += pixels.overshoot[i]
      outside++
    } else if (signed[i] > 0) {
      pixels.overshoot[i] = Math.max(0, a - 1 - Math.max(0, before - 1))
      innerOvershoot += pixels.overshoot[i]
      inside++
    }
  }
  const net = new Float32Array(m)
  const weight = new Float32Array(m)
  let allGained = 0
  let allHeld = 0
  for (let c = 0; c < m; c++) {
    if (readable[c] < 12) continue
    weight[c] = readable[c]
    // why the floor: a cell holding only a sliver of product (a strap's tip) must not turn noise into a change.
    const norm = Math.max(held[c], (1.5 * readable[c]) / (2 * BAND + 1))
    net[c] = gained[c] / norm
    allGained += gained[c]
    allHeld += norm
  }
  // Growth of the parts (straps, ties, handles) relative to their own thickness: the outline moved out
  // by d px on both sides of a part t px thick is a part 2d / t thicker.
  const part = new Float32Array(m)
  for (let c = 0; c < m; c++) {
    // why 4 px of outline: over fewer, a stripe's end or a scene estimate's slip reads as a part grown.
    if (partPixels[c] < 4 * (2 * BAND + 1)) continue
    const outline = partPixels[c] / (2 * BAND + 1)
    part[c] = (2 * partGained[c]) / outline / Math.max(2, partThick[c] / partPixels[c])
  }
  return {
    net,
    weight,
    part,
    overall: allHeld === 0 ? 0 : allGained / allHeld,
    // why the 40 px floor: a few px of thin part can't be weighed.
    thin: thinHeld < 40 ? 0 : thinGained / thinHeld,
    fringe: outside === 0 ? 0 : Math.max(0, overshoot / outside - (inside === 0 ? 0 : innerOvershoot / inside)),
    toBackdrop: separable === 0 ? Number.NaN : towardBackdrop / separable,
    haloShare:
      counted === 0
        ? 1
        : (ambiguous + (separable === 0 ? 0 : separable * Math.min(1, Math.max(0, towardBackdrop / separable / HALO_FULL)))) /
          counted,
    pixels,
  }
}

/** RGB distance of the source's backdrop from the product–scene line from which a move toward it can be told apart. */
const OFF_LINE = 30
/** Mean move toward the backdrop (share of its colour, off the line) of a plain halo: the golden set's measure 0.19–0.22. */
const HALO_FULL = 0.1

/** The PART_CELLS-th largest relative growth (or shrinking) of the parts over the cells. */
const PART_CELLS = 3

function worstPart(edge: Omit<EdgeCells, 'pixels'>): number {
  const gains: number[] = []
  const losses: number[] = []
  for (let c = 0; c < edge.part.length; c++) {
    if (edge.part[c] > 0) gains.push(edge.part[c])
    else if (edge.part[c] < 0) losses.push(-edge.part[c])
  }
  const kth = (list: number[]): number => (list.length < PART_CELLS ? 0 : list.sort((a, b) => b - a)[PART_CELLS - 1])
  return Math.max(kth(gains), kth(losses))
}

/** Cells of one outline stretch: a change this long is a strap or an edge, not a stray pixel. */
const STRETCH_CELLS = 4

/**
 * The outline's worst stretch: the STRETCH_CELLS-th largest net gain or
 * loss over the cells (gains and losses apart, so noise of both signs
 * doesn't add up to a stretch).
 */
function worstStretch(edge: Omit<EdgeCells, 'pixels'>): number {
  const gains: number[] = []
  const losses: number[] = []
  for (let c = 0; c < edge.net.length; c++) {
    if (edge.weight[c] <= 0) continue
    if (edge.net[c] > 0) gains.push(edge.net[c])
    else losses.push(-edge.net[c])
  }
  const kth = (list: number[]): number => {
    if (list.length === 0) return 0
    list.sort((a, b) => b - a)
    return list[Math.min(list.length, STRETCH_CELLS) - 1]
  }
  return Math.max(kth(gains), kth(losses))
}

/**
 * How changed the outline is, 1 = just visible. The worst of five readings,
 * each divided by the value at which the golden set's visible edge defects
 * start and its clean controls end (see scripts/eval.ts):
 *   stretch  the 4th-worst cell's net gain or loss (relative to the band's
 *            product): an edge moved along a stretch of outline;  ÷ 0.55
 *   overall  the net gain or loss over the whole outline: all of it thicker
 *            or thinner;                                            ÷ 0.15
 *   thin     the net gain or loss of the thin parts (< THIN px: spaghetti
 *            straps, cords) against their own area;                ÷ 0.22
 *   part     the 3rd-worst cell's growth of the parts PART_MIN…PART_MAX
 *            px thick (ties, handles, wide straps) relative to their own
 *            thickness: 0.15 is a part 15 % wider;                  ÷ 0.075
 *   fringe   the scene pushed away from the product's colour, plus the
 *            coverage lost as far as a halo can explain it (haloShare):
 *            a light (or dark) halo round the product.              ÷ 0.10
 *            why the share: a halo is the source's backdrop colour round
 *            the product; an edge that only got a touch tighter moves
 *            toward the new scene instead, and where the backdrop lies off
 *            the product–scene line the two are told apart.
 */
export function edgeBadness(edge: EdgeReadings): number {
  return Math.max(
    edge.stretch / EDGE_STRETCH,
    Math.abs(edge.overall) / EDGE_OVERALL,
    Math.abs(edge.thin) / EDGE_THIN,
    (edge.fringe + Math.max(0, -edge.overall) * edge.haloShare) / EDGE_FRINGE,
    edge.part / EDGE_PART,
  )
}

export interface EdgeReadings {
  stretch: number
  overall: number
  thin: number
  fringe: number
  part: number
  toBackdrop: number
  haloShare: number
}

export const EDGE_STRETCH = 0.55
export const EDGE_OVERALL = 0.15
export const EDGE_THIN = 0.22
export const EDGE_FRINGE = 0.1
export const EDGE_PART = 0.075

export function edgeReadings(edge: Omit<EdgeCells, 'pixels'>): EdgeReadings {
  const r = (v: number): number => Math.round(v * 1000) / 1000
  return {
    stretch: r(worstStretch(edge)),
    overall: r(edge.overall),
    thin: r(edge.thin),
    fringe: r(edge.fringe),
    part: r(worstPart(edge)),
    toBackdrop: Number.isNaN(edge.toBackdrop) ? Number.NaN : r(edge.toBackdrop),
    haloShare: r(edge.haloShare),
  }
}
