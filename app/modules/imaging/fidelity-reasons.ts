import type { FidelityReason } from '#db/schema.ts'
import type { FidelityReport } from './types.ts'

/** The measured parts of a fidelity check that reasons are read from. */
export interface FidelityParts {
  ssim: number
  deltaEMean: number
  deltaEP95: number
  maskCoverage: number
  /** Optional finer measures (edge band, print detail) when the check provides them. */
  edgeScore?: number
  detailRatio?: number
  /** The shift-robust structure and colour; read instead of ssim and ΔE when present. */
  interiorSsim?: number
  matchedDeltaEMean?: number
  matchedDeltaEP95?: number
  /** The interior's worst local change (fidelity v6), with where it is in fractions of the result. */
  localChange?: FidelityReport['localChange']
  /** Where each family of measures found its change (fidelity v6). */
  regions?: FidelityReport['regions']
}

// why these cut-offs: they are the points where the score formula (see
// fidelity.server.ts) starts to fall steeply; each names what a shopper would
// notice first. The score (imaging/fidelity/score.ts, VISIBLE) puts each
// part's visible threshold exactly here, so a part past its cut-off alone
// fails the default gate.
const DELTA_E_VISIBLE = 2
const SSIM_CHANGED = 0.85
const COVERAGE_WHOLE = 0.97
const EDGE_CHANGED = 0.8
const DETAIL_LOST = 0.75

/** The reason each kind of local change is named by. */
const LOCAL_REASON: Record<NonNullable<FidelityReport['localChange']>['kind'], FidelityReason['code']> = {
  outline: 'edge_changed',
  shape: 'shape_changed',
  warp: 'print_warped',
  detail: 'detail_lost',
  colour: 'print_colour_changed',
  part: 'part_changed',
}

/** Says in words (reason codes) why a render's product may look different from the original. */
export function explainFidelity(f: FidelityParts): FidelityReason[] {
  const reasons: FidelityReason[] = []
  const local = f.localChange
  if (local && local.badness >= 1) {
    // why it leads: a change in one place, at its own place, is what a shopper finds first side by side,
    // and the measures over the whole product also move when one part of it changed.
    reasons.push({ code: LOCAL_REASON[local.kind], severity: 1, ...(local.region && { region: local.region }) })
  }
  const add = (reason: FidelityReason, region?: FidelityReason['region']): void => {
    if (!reasons.some((r) => r.code === reason.code)) reasons.push(region ? { ...reason, region } : reason)
  }
  const where = f.regions ?? {}
  // why the robust ones first: older stored reports carry pixel-wise SSIM and ΔE in ssim and deltaE* (ADR 013),
  // and a product the generator moved by 2 px has the pixel-wise SSIM and ΔE of a changed one.
  const ssim = f.interiorSsim ?? f.ssim
  const dE = Math.max(f.matchedDeltaEMean ?? f.deltaEMean, (f.matchedDeltaEP95 ?? f.deltaEP95) / 2)
  if (dE > DELTA_E_VISIBLE) add({ code: 'colour_shifted', severity: Math.min(1, (dE - DELTA_E_VISIBLE) / 4) }, where.colour)
  if (f.detailRatio !== undefined && f.detailRatio < DETAIL_LOST) {
    add({ code: 'detail_lost', severity: Math.min(1, (DETAIL_LOST - f.detailRatio) / DETAIL_LOST) }, where.detail)
  } else if (ssim < SSIM_CHANGED) {
    add(
      {
        code: f.detailRatio === undefined ? 'detail_lost' : 'structure_changed',
        severity: Math.min(1, (SSIM_CHANGED - ssim) / 0.3),
      },
      where.detail,
    )
  }
  if (f.edgeScore !== undefined && f.edgeScore < EDGE_CHANGED)
    add({ code: 'edge_changed', severity: Math.min(1, (EDGE_CHANGED - f.edgeScore) / 0.4) }, where.edge)
  if (f.maskCoverage < COVERAGE_WHOLE)
    add({ code: 'product_cut_off', severity: Math.min(1, (COVERAGE_WHOLE - f.maskCoverage) / 0.4) })
  // why stable: at equal severity the local change stays first.
  return reasons.sort((a, b) => b.severity - a.severity)
}
