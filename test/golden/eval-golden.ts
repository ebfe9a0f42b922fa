// Runs the fidelity check over the golden set exactly as the render pipeline
// does (prepareFidelity + compareFidelity, the two halves of measureFidelity,
// on the decoded result file) and sums it up: recall per defect type, false
// alarms on the clean controls. Shared by scripts/eval.ts and eval.test.ts.
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import type { FidelityReport, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { compareDetail, compareFidelity, prepareFidelity, type DetailReadings, type FidelityReference } from '#app/modules/imaging/fidelity.server.ts'
import {
  CASE_KINDS,
  PERCEPTIBLE_DEFECTS,
  fromRoot,
  loadMask,
  loadSource,
  readManifest,
  type CaseKind,
  type GoldenCase,
} from './golden-set.ts'

export interface CaseResult {
  case: GoldenCase
  fidelity: FidelityReport
  /** Fails the gate: score below the threshold. */
  flagged: boolean
  /** flagged === (expected is 'defect'). */
  correct: boolean
  ms: number
  readings?: DetailReadings
}

export interface KindSummary {
  kind: CaseKind
  expected: 'clean' | 'defect'
  count: number
  /** Defects: share flagged (recall). Clean: share flagged (false alarms). */
  flaggedShare: number
  scores: number[]
}

export interface EvalSummary {
  threshold: number
  fidelityVersion: number
  results: CaseResult[]
  kinds: KindSummary[]
  /** Lowest recall over PERCEPTIBLE_DEFECTS kinds. */
  minPerceptibleRecall: number
  /** Share of clean controls flagged. */
  falseAlarms: number
  cleanCount: number
  defectCount: number
}

export interface EvalOptions {
  threshold: number
  /** Only cases whose id contains this. */
  filter?: string
  /** Also compute the detail readings for each case (for --why). */
  readings?: boolean
}

export async function runGoldenEval(opts: EvalOptions): Promise<EvalSummary> {
  const manifest = await readManifest()
  const cases = manifest.cases.filter((c) => !opts.filter || c.id.includes(opts.filter))
  const sources = new Map<string, SourceImage>()
  const masks = new Map<string, RawImage>()
  const references = new Map<string, FidelityReference>()
  const results: CaseResult[] = []
  for (const c of cases) {
    if (!sources.has(c.source)) sources.set(c.source, await loadSource(c.source))
    if (!masks.has(c.mask)) masks.set(c.mask, await loadMask(c.mask))
    const source = sources.get(c.source)!
    const sourceMask = masks.get(c.mask)!
    const file = await readFile(fromRoot(c.result))
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    const result: RawImage = { data, width: info.width, height: info.height, channels: 3 }
    const frame = { width: info.width, height: info.height }
    // why prepare and compare (what measureFidelity does in two steps): a product's cases share
    // the source side, which then is prepared once, as a backend that renders four variants would.
    const key = `${c.source}|${c.mask}|${JSON.stringify(c.placement)}|${frame.width}x${frame.height}`
    const started = performance.now()
    let reference = references.get(key)
    if (!reference) {
      reference = await prepareFidelity({ source, sourceMask, placement: c.placement, frame })
      references.set(key, reference)
    }
    const fidelity = await compareFidelity(reference, result)
    const ms = performance.now() - started
    const flagged = fidelity.score < opts.threshold
    let readings: DetailReadings | undefined
    if (opts.readings && reference.detail) readings = (await compareDetail(reference.detail, result)).readings
    results.push({ case: c, fidelity, flagged, correct: flagged === (c.expected === 'defect'), ms, readings })
  }
  const kinds: KindSummary[] = []
  for (const kind of CASE_KINDS) {
    const of = results.filter((r) => r.case.kind === kind)
    if (of.length === 0) continue
    kinds.push({
      kind,
      expected: of[0].case.expected,
      count: of.length,
      flaggedShare: of.filter((r) => r.flagged).length / of.length,
      scores: of.map((r) => r.fidelity.score).sort((a, b) => a - b),
    })
  }
  const clean = results.filter((r) => r.case.expected === 'clean')
  const perceptible = kinds.filter((k) => PERCEPTIBLE_DEFECTS.includes(k.kind))
  return {
    threshold: opts.threshold,
    fidelityVersion: results[0]?.fidelity.version ?? 0,
    results,
    kinds,
    minPerceptibleRecall: perceptible.length === 0 ? 1 : Math.min(...perceptible.map((k) => k.flaggedShare)),
    falseAlarms: clean.length === 0 ? 0 : clean.filter((r) => r.flagged).length / clean.length,
    cleanCount: clean.length,
    defectCount: results.length - clean.length,
  }
}

/** What the baseline file records: enough to tell a regression, nothing that changes run to run. */
export interface EvalBaseline {
  fidelityVersion: number
  threshold: number
  cases: number
  minPerceptibleRecall: number
  falseAlarms: number
  /** Per kind: recall (defects) or false-alarm share (clean). */
  flagged: Record<string, number>
}

export function toBaseline(s: EvalSummary): EvalBaseline {
  return {
    fidelityVersion: s.fidelityVersion,
    threshold: s.threshold,
    cases: s.results.length,
    minPerceptibleRecall: round2(s.minPerceptibleRecall),
    falseAlarms: round2(s.falseAlarms),
    flagged: Object.fromEntries(s.kinds.map((k) => [k.kind, round2(k.flaggedShare)])),
  }
}

/** Regressions against a baseline: any recall lower, or false alarms higher, by more than `tolerance`. */
export function regressions(s: EvalSummary, base: EvalBaseline, tolerance: number): string[] {
  const found: string[] = []
  for (const k of s.kinds) {
    const before = base.flagged[k.kind]
    if (before === undefined) continue
    if (k.expected === 'defect' && k.flaggedShare < before - tolerance) {
      found.push(`${k.kind}: recall ${k.flaggedShare.toFixed(2)} < baseline ${before.toFixed(2)}`)
    }
    if (k.expected === 'clean' && k.flaggedShare > before + tolerance) {
      found.push(`${k.kind}: false alarms ${k.flaggedShare.toFixed(2)} > baseline ${before.toFixed(2)}`)
    }
  }
  if (s.falseAlarms > base.falseAlarms + tolerance) {
    found.push(`false alarms ${s.falseAlarms.toFixed(2)} > baseline ${base.falseAlarms.toFixed(2)}`)
  }
  if (s.minPerceptibleRecall < base.minPerceptibleRecall - tolerance) {
    found.push(`min perceptible recall ${s.minPerceptibleRecall.toFixed(2)} < baseline ${base.minPerceptibleRecall.toFixed(2)}`)
  }
  return found
}

function round2(v: number): number {
  return Math.round(v * 100) / 100
}
