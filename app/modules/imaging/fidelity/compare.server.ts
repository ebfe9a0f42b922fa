// Shift-robust fidelity measures: what pixel-by-pixel SSIM and ΔE cannot tell
// apart — a product a generator moved by 2 px or drew 1.5 % bigger (fine) from
// a strap it made thicker, a logo it wiped, letters it garbled, a halo it left.
//
// Both sides are resampled onto one grid (≤ DETAIL_EDGE px, grid.ts) covering
// the placed product plus a margin of scene. The result is first aligned to the
// source (alignment.ts), so a model-swap-like move is not a change; then, on
// the aligned pair: interior SSIM (ssim.ts), ΔE2000 of matched blocks
// (colour-blocks.ts), the edge band (edge-band.ts) and print detail
// (print-detail.ts). score.ts turns them into the 0–100 score; heat-map.ts
// shows where the product changed. Thresholds are calibrated on the golden set
// (test/golden, `npm run eval`); docs/decisions/013-fidelity-measures.md.
import sharp from 'sharp'
import type { RawImage } from '../types.ts'
import { BAND, luma } from './grid.ts'
import { resample } from './resample.server.ts'
import type { DetailMeasures, DetailReference } from './types.ts'
import { fillFrom } from './scene.ts'
import { align, isStill, predictLuma, warpRgb } from './alignment.ts'
import { ssimInterior } from './ssim.ts'
import { matchedDeltaE } from './colour-blocks.ts'
import { edgeBadness, edgeCells, edgeReadings, type EdgeReadings } from './edge-band.ts'
import { detailCells, highPass, printBadness, type PrintReadings, printReadings, recheckAligned } from './print-detail.ts'
import { heatMap } from './heat-map.ts'
import { heatPixels, type HeatPixels } from './heat-pixels.ts'
import { localChange, type LocalReading } from './local-change.ts'
import { coveragePlanes, thinChange, type ThinReading } from './thin-change.ts'
import { addedDetail } from './added-detail.ts'
import { changeKind } from './change-kind.ts'
import { VISIBLE } from './score.ts'

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
  const coverage = coveragePlanes(n)
  const edge = edgeCells(ref, aligned, scene, coverage)
  // why the unwarped result first: a second resampling would soften the print it is judged on.
  const detail = detailCells(ref, highPass(rawLuma, width, height, 'rawDetail'), motion)
  if (!still) recheckAligned(ref, detail, () => highPass(alignedLuma, width, height, 'alignedDetail'))
  const local = worstLocal(
    localChange(ref, aligned),
    thinChange(coverage, signed, ref.thickness, width, height),
    addedDetail(detail, ref.detailGrid, width, height),
  )
  const readings = { edge: edgeReadings(edge), detail: printReadings(detail) }
  // why these scales: each reading is 1 at its visible threshold, which lands on the reason cut-offs
  // of fidelity-reasons.ts (edge changed below 0.8, print lost detail below 0.75).
  const edgeScore = Math.max(0, 1 - 0.2 * edgeBadness(readings.edge))
  const detailRatio = Math.max(0, 1 - 0.25 * printBadness(readings.detail))
  const k = ref.resultRect.width / width
  const kY = ref.resultRect.height / height
  const region = local.box && {
    left: ref.resultRect.left + local.box.left * k,
    top: ref.resultRect.top + local.box.top * kY,
    width: local.box.width * k,
    height: local.box.height * kY,
  }
  const { heat, regions } = heatMap(ref, edge, detail, colour.perBlock, local)
  const pixels = heatPixels(ref, { edge, edgeReadings: readings.edge, detail, detailReadings: readings.detail, colour, local })
  return {
    interiorSsim,
    matchedDeltaEMean: colour.mean,
    matchedDeltaEP95: colour.p95,
    edgeScore,
    detailRatio,
    local: {
      badness: local.badness,
      kind: local.cues ? changeKind(local.cues, local.area, local.mass, detailRatio < VISIBLE.detailRatio) : 'part',
      ...(region && { region }),
    },
    alignment: {
      dx: Math.round(100 * motion.tx * k) / 100,
      dy: Math.round(100 * motion.ty * k) / 100,
      scale: Math.round(10000 * motion.s) / 10000,
    },
    heat,
    heatMap: { width, height, rect: ref.resultRect, png: await heatPng(pixels), hot: pixels.hot },
    regions,
    readings,
  }
}

/** The grid heat as a greyscale PNG, base64: a few hundred bytes to a few KB, mostly zeros. */
async function heatPng(pixels: HeatPixels): Promise<string> {
  const { data, width, height } = pixels
  const png = await sharp(data, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 9, adaptiveFiltering: true })
    .toBuffer()
  return png.toString('base64')
}

/**
 * The interior's change, the thin parts' or the added detail, whichever is
 * worst; the last two are parts (no cues to name them otherwise).
 */
function worstLocal(interior: LocalReading, ...parts: ThinReading[]): LocalReading {
  return parts.reduce<LocalReading>((worst, part) => (part.badness > worst.badness ? part : worst), interior)
}
