// The 0–100 score: each part's badness against its visible threshold, through a steep knee.

/** The measured parts the score is computed from. */
export interface ScoreParts {
  interiorSsim: number
  matchedDeltaEMean: number
  matchedDeltaEP95: number
  edgeScore: number
  detailRatio: number
  /** The worst local change's badness (local-change.ts), 1 = just visible; absent before fidelity v6. */
  localBadness?: number
}

/** Where each part is "just visible" (its badness is 1): the same cut-offs fidelity-reasons.ts names. */
export const VISIBLE = { ssim: 0.85, deltaE: 2, edgeScore: 0.8, detailRatio: 0.75 } as const

/** k(1) = 0.7: one part at its visible threshold alone takes the score to the default gate, 70. */
const KNEE = (7 / 3) ** (1 / 8)

/**
 * Score formula: 100 × coverage × Π k(badness of each part), with
 *
 *   structure  (1 − interior SSIM) / (1 − 0.85)
 *   colour     max(ΔE mean, ΔE p95 / 2) / 2        (matched ΔE2000; 2 ≈ two just-noticeable steps)
 *   edge       (1 − edgeScore) / (1 − 0.8)
 *   detail     (1 − detailRatio) / (1 − 0.75)
 *   local      the worst local change's mass / MASS_VISIBLE (local-change.ts)
 *   k(x)       1 / (1 + (x / KNEE)^8): 1.00 at x ≤ 0.5, 0.93 at 0.8, exactly 0.7 at 1, 0.2 at 1.3
 *   coverage   clamp((maskCoverage − 0.6) / 0.38), as in fidelityScore
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
  const local = k(p.localBadness ?? 0)
  const coverage = Math.min(1, Math.max(0, (maskCoverage - 0.6) / 0.38))
  return Math.round(1000 * coverage * structure * colour * edge * detail * local) / 10
}
