import sharp from 'sharp'
import type { FidelityReport, Fractions, Placement, RawImage, SourceImage } from '../types.ts'
import { compareDetail } from './compare.server.ts'
import { prepareDetail } from './reference.server.ts'
import { detailScore } from './score.ts'
import type { DetailMeasures, DetailReference } from './types.ts'

// The fidelity check itself, run in whichever thread calls it: a fidelity
// thread (thread.server.ts) or, when threads are off, the caller's own.

/** Bump when a measure or the score formula changes: scores of different versions don't compare (docs/decisions/013). */
export const FIDELITY_VERSION = 8
/** Smallest visible product (result px across) a fidelity check is made on. */
const WINDOW = 8

export interface FidelityInput {
  source: SourceImage
  /** Product mask covering the source frame (any resolution), white = product. */
  sourceMask: RawImage
  /** The render: decoded pixels, or the encoded file a backend returned. */
  result: RawImage | Buffer
  placement: Placement
}

/**
 * ssim, deltaEMean, deltaEP95: the aligned measures of imaging/fidelity/
 * (interior SSIM; ΔE2000 of matched blocks), the same numbers the score is
 * made of. maskCoverage: share of the product (mask mass) inside the result frame.
 */
export type Fidelity = FidelityReport

/**
 * With the shift-robust measures (every render whose product is in the
 * frame) the score is detailScore() of imaging/fidelity/score.ts: structure,
 * colour, edge and print detail, each judged after aligning the result.
 * Without them (no product in the frame to align), this formula, each part
 * 0..1, multiplied, × 100:
 *
 *   structure = clamp((ssim − 0.80) / (0.95 − 0.80))
 *       an untouched composite measures 0.96–1 (resampling and JPEG only);
 *       a blur of σ ≈ 0.6 % of the canvas height measures ~0.83–0.91.
 *   colour    = 1 / (1 + (ΔE / 3)^4),  ΔE = max(deltaEMean, deltaEP95 / 2)
 *       a logistic in ΔE: 1 → 0.99, 1.5 → 0.94, 2 → 0.84, 3 → 0.5, 4 → 0.24.
 *       ΔE ≈ 1 is a just-noticeable difference, ≈ 3 is visible at a glance;
 *       the p95 term catches a local change (a recoloured logo) the mean hides.
 *   coverage  = clamp((maskCoverage − 0.6) / 0.38)
 *       a product cut by the frame is not the product; ≥ 98 % visible is whole.
 */
export function fidelityScore(
  ssim: number,
  deltaEMean: number,
  deltaEP95: number,
  maskCoverage: number,
  detail?: DetailMeasures,
): number {
  if (detail) return detailScore({ ...detail, localBadness: detail.local.badness }, maskCoverage)
  const clamp = (v: number): number => Math.min(1, Math.max(0, v))
  const structure = clamp((ssim - 0.8) / (0.95 - 0.8))
  const dE = Math.max(deltaEMean, deltaEP95 / 2)
  const colour = 1 / (1 + (dE / 3) ** 4)
  const coverage = clamp((maskCoverage - 0.6) / 0.38)
  return Math.round(1000 * structure * colour * coverage) / 10
}

/** The source side of a fidelity check, resampled and ready to compare with a result. */
export interface FidelityReference {
  frame: { width: number; height: number }
  coverage: number
  /** The shift-robust measures' source side (absent when the product isn't in the frame). */
  detail?: DetailReference
}

/**
 * Everything that needs only the source and the placement. why separate: it
 * needs no result pixels, so a backend can run it whenever it has a core to
 * spare (the CPU studio starts it once the product is placed, a remote render
 * while the backend works), and only the comparison waits for final pixels.
 */
export async function prepareFidelity(input: {
  source: SourceImage
  sourceMask: RawImage
  placement: Placement
  frame: { width: number; height: number }
}): Promise<FidelityReference> {
  const { source, sourceMask, placement, frame } = input
  const region = visibleRegion(placement, frame)
  if (!region) return { frame, coverage: 0 }
  // why started first: its resample runs in libvips while the mask is summed here.
  const detailing = prepareDetail({ source, sourceMask, placement, frame })
  detailing.catch(() => undefined)
  const coverage = maskCoverage(sourceMask, source, region)
  const detail = await detailing
  return coverage === 0 ? { frame, coverage } : { frame, coverage, detail }
}

/** Compares a result (pixels or encoded file) of `reference.frame` size with the prepared source side. */
export async function compareFidelity(reference: FidelityReference, result: RawImage | Buffer): Promise<Fidelity> {
  const { detail, coverage, frame } = reference
  if (!detail) return finish(coverage)
  return finish(coverage, await compareDetail(detail, result), frame)
}

/** The report; without the aligned measures (no product to compare) structure 0 and colour 99, so the score is 0. */
function finish(maskCoverage: number, detail?: DetailMeasures, frame?: { width: number; height: number }): Fidelity {
  const ssim = detail?.interiorSsim ?? 0
  const deltaEMean = detail?.matchedDeltaEMean ?? 99
  const deltaEP95 = detail?.matchedDeltaEP95 ?? 99
  return {
    ssim: round(ssim, 4),
    deltaEMean: round(deltaEMean, 3),
    deltaEP95: round(deltaEP95, 3),
    maskCoverage: round(maskCoverage, 4),
    ...(detail && {
      interiorSsim: round(detail.interiorSsim, 4),
      matchedDeltaEMean: round(detail.matchedDeltaEMean, 3),
      matchedDeltaEP95: round(detail.matchedDeltaEP95, 3),
      edgeScore: round(detail.edgeScore, 3),
      detailRatio: round(detail.detailRatio, 3),
      alignment: detail.alignment,
      localChange: localReport(detail.local, frame),
      ...(frame && { regions: familyRegions(detail.regions, frame) }),
      heat: detail.heat,
      heatMap: detail.heatMap,
    }),
    score: fidelityScore(ssim, deltaEMean, deltaEP95, maskCoverage, detail),
    version: FIDELITY_VERSION,
  }
}

function fractionsOf(
  r: { left: number; top: number; width: number; height: number },
  frame: { width: number; height: number },
): Fractions {
  return {
    x: round(r.left / frame.width, 4),
    y: round(r.top / frame.height, 4),
    width: round(r.width / frame.width, 4),
    height: round(r.height / frame.height, 4),
  }
}

/** Each family's region in fractions of the result, as reasons carry them. */
function familyRegions(regions: DetailMeasures['regions'], frame: { width: number; height: number }): Fidelity['regions'] {
  const out: NonNullable<Fidelity['regions']> = {}
  for (const family of ['edge', 'detail', 'colour'] as const) {
    const r = regions[family]
    if (r) out[family] = fractionsOf(r, frame)
  }
  return out
}

/** The local change as the report keeps it: where in fractions of the result, as reasons carry regions. */
function localReport(local: DetailMeasures['local'], frame?: { width: number; height: number }): Fidelity['localChange'] {
  const r = local.region
  const region = r && frame ? fractionsOf(r, frame) : undefined
  return { badness: round(local.badness, 3), kind: local.kind, ...(region && { region }) }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

interface Rect {
  left: number
  top: number
  width: number
  height: number
}

function isRaw(image: RawImage | Buffer): image is RawImage {
  return !Buffer.isBuffer(image)
}

export async function resultSize(result: RawImage | Buffer): Promise<{ width: number; height: number }> {
  if (isRaw(result)) return result
  const meta = await sharp(result).metadata()
  return { width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height }
}

/** The part of the placed product inside the result frame, in result px and in source px (whole pixels). */
function visibleRegion(p: Placement, frame: { width: number; height: number }): { result: Rect; source: Rect } | undefined {
  const x0 = Math.max(0, Math.ceil(p.x))
  const y0 = Math.max(0, Math.ceil(p.y))
  const x1 = Math.min(frame.width, Math.floor(p.x + p.crop.width * p.scale))
  const y1 = Math.min(frame.height, Math.floor(p.y + p.crop.height * p.scale))
  if (x1 - x0 < WINDOW || y1 - y0 < WINDOW) return undefined
  const left = Math.round(p.crop.left + (x0 - p.x) / p.scale)
  const top = Math.round(p.crop.top + (y0 - p.y) / p.scale)
  const width = Math.max(1, Math.min(p.crop.left + p.crop.width - left, Math.round((x1 - x0) / p.scale)))
  const height = Math.max(1, Math.min(p.crop.top + p.crop.height - top, Math.round((y1 - y0) / p.scale)))
  return { result: { left: x0, top: y0, width: x1 - x0, height: y1 - y0 }, source: { left, top, width, height } }
}

/** Share of the mask's mass that falls inside the visible source region. */
function maskCoverage(mask: RawImage, source: SourceImage, region: { source: Rect } | undefined): number {
  const sx = mask.width / source.width
  const sy = mask.height / source.height
  const r = region?.source
  const x0 = r ? Math.max(0, Math.floor(r.left * sx)) : 0
  const x1 = r ? Math.min(mask.width, Math.ceil((r.left + r.width) * sx)) : 0
  const y0 = r ? Math.floor(r.top * sy) : 0
  const y1 = r ? Math.ceil((r.top + r.height) * sy) : 0
  const data = mask.data
  let total = 0
  let visible = 0
  for (let y = 0; y < mask.height; y++) {
    const base = y * mask.width
    let row = 0
    if (y >= y0 && y < y1 && x0 < x1) {
      let inside = 0
      for (let x = 0; x < x0; x++) row += data[base + x]
      for (let x = x0; x < x1; x++) inside += data[base + x]
      for (let x = x1; x < mask.width; x++) row += data[base + x]
      visible += inside
      row += inside
    } else {
      for (let x = 0; x < mask.width; x++) row += data[base + x]
    }
    total += row
  }
  return total === 0 ? 0 : visible / total
}
