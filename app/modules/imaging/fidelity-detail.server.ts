// Shift-robust fidelity measures (fidelity version 2): what the pixel-by-pixel
// SSIM and ΔE of fidelity.server.ts cannot tell apart — a product a generator
// moved by 2 px or drew 1.5 % bigger (fine) from a strap it made thicker, a
// logo it wiped, letters it garbled, a halo it left (returns).
//
// Both sides are resampled onto one grid (≤ DETAIL_EDGE px) covering the
// placed product plus a margin of scene. The result is first aligned to the
// source (Gauss–Newton on luma for scale and shift, ±5 % and ~±10 px), so a
// model-swap-like move is not a change; then, on the aligned pair:
//   - interior SSIM of luminance, INTERIOR px inside the outline;
//   - ΔE2000 mean and p95 between 4×4-block mean colours, each block matched
//     to the best of its 3×3 one-pixel neighbours;
//   - the edge band (±BAND px round the outline): how much product each band
//     pixel holds, read from its colour between the product's and the scene's,
//     source against result — per cell, over the outline, over thin parts,
//     relative to each part's thickness, and as a fringe (edgeBadness);
//   - print detail: the source's band-passed luminance (print, letters,
//     stitching) found again in the result in 16 px windows with a ±1 px
//     search (printBadness).
// detailScore() turns them into the 0–100 score; the per-cell badness forms
// a coarse heat map of where the product changed. Thresholds are calibrated
// on the golden set (test/golden, `npm run eval`).
import type { Placement, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { BAND, cellGrid, DETAIL_CELL, gridRegions, luma, maskOnGrid, windowGrid } from './fidelity/grid.ts'
import { resample } from './fidelity/resample.server.ts'
import type { DetailMeasures, DetailReference } from './fidelity/types.ts'
import { narrowGaps, partThickness, signedDistance, thinBand } from './fidelity/distance.ts'
import { coverageOf, facesDown, fillFrom, floorRow, nearOutline, productColour } from './fidelity/scene.ts'
import { align, isStill, predictLuma, warpRgb } from './fidelity/alignment.ts'
import { ssimInterior } from './fidelity/ssim.ts'
import { BLOCK, interiorBlocks, matchedDeltaE } from './fidelity/colour-blocks.ts'
import { EDGE_STRETCH, edgeBadness, edgeCells, type EdgeCells, edgeReadings, type EdgeReadings } from './fidelity/edge-band.ts'
import { DETAIL_WORST, detailCells, type DetailCellsOut, highPass, printBadness, type PrintReadings, printReadings, recheckAligned } from './fidelity/print-detail.ts'
export { DETAIL_EDGE, HEAT_CELLS } from './fidelity/grid.ts'
export type { DetailMeasures, DetailReference } from './fidelity/types.ts'
export { edgeBadness } from './fidelity/edge-band.ts'
export type { EdgeReadings } from './fidelity/edge-band.ts'
export { printBadness } from './fidelity/print-detail.ts'
export type { PrintReadings } from './fidelity/print-detail.ts'

export async function prepareDetail(input: {
  source: SourceImage
  sourceMask: RawImage
  placement: Placement
  frame: { width: number; height: number }
}): Promise<DetailReference | undefined> {
  const { source, sourceMask, placement: p, frame } = input
  const regions = gridRegions(p, frame, source)
  if (!regions) return undefined
  const { result: resultRect, source: sourceRect, width, height } = regions
  // why flattened on white: a cut-out's edge pixels carry the product's full colour under partial
  // alpha; on white they become the mix a photo on a backdrop has, which the edge band reads.
  const src = await resample(source.pixels, sourceRect, width, height, true)
  const n = width * height
  const alpha = maskOnGrid(sourceMask, source, sourceRect, width, height)
  const signed = signedDistance(alpha, width, height)
  const srcLuma = luma(src, n)
  const { near, sceneNear } = nearOutline(signed)
  const backdrop = fillFrom(src, signed, width, height, -(BAND + 2), sceneNear, near)
  const product = productColour(src, alpha, signed, width, height)
  const srcCoverage = new Float32Array(n).fill(Number.NaN)
  const floor = floorRow(alpha, width, height)
  const gap = narrowGaps(signed, width, height)
  for (let i = 0; i < n; i++) {
    if (Math.abs(signed[i]) > BAND) continue
    if (i >= floor * width || gap[i] || facesDown(signed, i, width, height)) continue
    srcCoverage[i] = coverageOf(src, i, product, backdrop)
  }
  const srcDetail = highPass(srcLuma, width, height)
  const { blocks, blockLab, blockRgb } = interiorBlocks(src, signed, width, height)
  return {
    frame,
    resultRect,
    width,
    height,
    src,
    srcLuma,
    alpha,
    signed,
    near,
    sceneNear,
    backdrop,
    product,
    srcCoverage,
    thin: thinBand(signed, width, height),
    thickness: partThickness(signed, width, height),
    srcDetail,
    blocks,
    blockLab,
    blockRgb,
    cells: cellGrid(width, height),
    detailGrid: windowGrid(width, height, DETAIL_CELL),
  }
}

/** The readings the edge score and detail ratio are made of (scripts/eval.ts prints them with --why). */
export interface DetailReadings {
  edge: EdgeReadings
  detail: PrintReadings
}

export async function compareDetail(
  ref: DetailReference,
  result: RawImage | Buffer,
): Promise<DetailMeasures & { readings: DetailReadings }> {
  const { width, height, signed } = ref
  const n = width * height
  const raw = await resample(result, ref.resultRect, width, height)
  // A first guess of the scene behind the product, far enough out that a misplaced product isn't in it.
  const farScene = fillFrom(raw, signed, width, height, -(BAND + 8), ref.sceneNear, ref.near, 'farScene')
  const predicted = predictLuma(ref, farScene)
  const rawLuma = luma(raw, n, 'rawLuma')
  const motion = align(predicted, rawLuma, signed, width, height)
  // why: a result that is where the source says (a same-geometry composite) needs no warp, and
  // the print's second reading on the warped result would read the same pixels again.
  const still = isStill(motion, width, height)
  const aligned = still ? raw : warpRgb(raw, width, height, motion)
  const alignedLuma = still ? rawLuma : luma(aligned, n, 'alignedLuma')
  const scene = fillFrom(aligned, signed, width, height, -(BAND + 2), ref.sceneNear, ref.near, 'scene')

  const interiorSsim = ssimInterior(ref.srcLuma, alignedLuma, signed, width, height)
  const colour = matchedDeltaE(ref, aligned)
  const edge = edgeCells(ref, aligned, scene)
  // why the unwarped result first: a second resampling would soften the print it is judged on.
  const detail = detailCells(ref, highPass(rawLuma, width, height, 'rawDetail'), motion)
  if (!still) recheckAligned(ref, detail, () => highPass(alignedLuma, width, height, 'alignedDetail'))
  const readings = { edge: edgeReadings(edge), detail: printReadings(detail) }
  // why these scales: each reading is 1 at its visible threshold, which lands on the reason cut-offs
  // of fidelity-reasons.ts (edge changed below 0.8, print lost detail below 0.75).
  const edgeScore = Math.max(0, 1 - 0.2 * edgeBadness(readings.edge))
  const detailRatio = Math.max(0, 1 - 0.25 * printBadness(readings.detail))
  const k = ref.resultRect.width / width
  return {
    interiorSsim,
    matchedDeltaEMean: colour.mean,
    matchedDeltaEP95: colour.p95,
    edgeScore,
    detailRatio,
    alignment: {
      dx: Math.round(100 * motion.tx * k) / 100,
      dy: Math.round(100 * motion.ty * k) / 100,
      scale: Math.round(10000 * motion.s) / 10000,
    },
    heat: heatMap(ref, edge, detail, colour.perBlock),
    readings,
  }
}

/**
 * Heat of each HEAT_CELLS² cell: the worst of its outline change, its print
 * change and its colour change (matched ΔE2000 of the interior blocks whose
 * centre lies in it), each 1 at twice its visible threshold.
 */
function heatMap(ref: DetailReference, edge: EdgeCells, detail: DetailCellsOut, blockDeltaE: Float64Array): DetailMeasures['heat'] {
  const { cols, rows } = ref.cells
  const cells: number[] = new Array(cols * rows).fill(-1)
  for (let c = 0; c < cells.length; c++) {
    if (edge.weight[c] > 0) cells[c] = Math.min(1, Math.abs(edge.net[c]) / (2 * EDGE_STRETCH))
  }
  const step = DETAIL_CELL / 2
  for (let r = 0; r < ref.detailGrid.rows; r++) {
    for (let q = 0; q < ref.detailGrid.cols; q++) {
      const w = r * ref.detailGrid.cols + q
      if (detail.weight[w] <= 0) continue
      const x = Math.min(ref.width - 1, q * step + step)
      const y = Math.min(ref.height - 1, r * step + step)
      const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
      cells[c] = Math.max(cells[c], Math.min(1, Math.max(0, (1 - detail.kept[w]) / (2 * (1 - DETAIL_WORST)))))
    }
  }
  // why the cell's mean: one 4×4 block on a print edge can read ΔE 4 in a faithful render.
  const sum = new Float64Array(cells.length)
  const count = new Int32Array(cells.length)
  for (let k = 0; k < blockDeltaE.length; k++) {
    const x = Math.min(ref.width - 1, (ref.blocks[k] % ref.width) + (BLOCK >> 1))
    const y = Math.min(ref.height - 1, Math.floor(ref.blocks[k] / ref.width) + (BLOCK >> 1))
    const c = ref.cells.colOf[x] + ref.cells.rowOf[y]
    sum[c] += blockDeltaE[k]
    count[c]++
  }
  for (let c = 0; c < cells.length; c++) {
    if (count[c] > 0) cells[c] = Math.max(cells[c], Math.min(1, sum[c] / count[c] / (2 * VISIBLE.deltaE)))
  }
  return { cols, rows, rect: ref.resultRect, cells: cells.map((v) => (v < 0 ? -1 : Math.round(100 * v) / 100)) }
}

/** The measured parts the version-2 score is computed from. */
export interface ScoreParts {
  interiorSsim: number
  matchedDeltaEMean: number
  matchedDeltaEP95: number
  edgeScore: number
  detailRatio: number
}

/** Where each part is "just visible" (its badness is 1): the same cut-offs fidelity-reasons.ts names. */
export const VISIBLE = { ssim: 0.85, deltaE: 2, edgeScore: 0.8, detailRatio: 0.75 } as const

/** k(1) = 0.7: one part at its visible threshold alone takes the score to the default gate, 70. */
const KNEE = (7 / 3) ** (1 / 8)

/**
 * Score formula, version 2: 100 × coverage × Π k(badness of each part), with
 *
 *   structure  (1 − interior SSIM) / (1 − 0.85)
 *   colour     max(ΔE mean, ΔE p95 / 2) / 2        (matched ΔE2000; 2 ≈ two just-noticeable steps)
 *   edge       (1 − edgeScore) / (1 − 0.8)
 *   detail     (1 − detailRatio) / (1 − 0.75)
 *   k(x)       1 / (1 + (x / KNEE)^8): 1.00 at x ≤ 0.5, 0.93 at 0.8, exactly 0.7 at 1, 0.2 at 1.3
 *   coverage   clamp((maskCoverage − 0.6) / 0.38), as in version 1
 *
 * Each badness is 1 where the golden set's visible defects begin and its
 * clean controls end, so the gate (FIDELITY_THRESHOLD, default 70) fails a
 * render when any one part is past visible, or when several are close to it
 * together (four parts at 0.8 still pass with 76). why the steep knee: below
 * its threshold a part should cost next to nothing — resampling, JPEG and a
 * model-swap shift all live there — and above it, everything.
 */
export function detailScore(p: ScoreParts, maskCoverage: number): number {
  const k = (x: number): number => 1 / (1 + (Math.max(0, x) / KNEE) ** 8)
  const structure = k((1 - p.interiorSsim) / (1 - VISIBLE.ssim))
  const colour = k(Math.max(p.matchedDeltaEMean, p.matchedDeltaEP95 / 2) / VISIBLE.deltaE)
  const edge = k((1 - p.edgeScore) / (1 - VISIBLE.edgeScore))
  const detail = k((1 - p.detailRatio) / (1 - VISIBLE.detailRatio))
  const coverage = Math.min(1, Math.max(0, (maskCoverage - 0.6) / 0.38))
  return Math.round(1000 * coverage * structure * colour * edge * detail) / 10
}
