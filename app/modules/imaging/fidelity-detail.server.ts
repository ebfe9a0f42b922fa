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
import { interiorBlocks, matchedDeltaE } from './fidelity/colour-blocks.ts'
import { edgeBadness, edgeCells, edgeReadings, type EdgeReadings } from './fidelity/edge-band.ts'
import { detailCells, highPass, printBadness, printReadings, type PrintReadings, recheckAligned } from './fidelity/print-detail.ts'
import { heatMap } from './fidelity/heat-map.ts'
export { DETAIL_EDGE, HEAT_CELLS } from './fidelity/grid.ts'
export type { DetailMeasures, DetailReference } from './fidelity/types.ts'
export { edgeBadness } from './fidelity/edge-band.ts'
export type { EdgeReadings } from './fidelity/edge-band.ts'
export { printBadness } from './fidelity/print-detail.ts'
export type { PrintReadings } from './fidelity/print-detail.ts'
export { VISIBLE, detailScore } from './fidelity/score.ts'
export type { ScoreParts } from './fidelity/score.ts'

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
