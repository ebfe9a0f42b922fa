// Runs the fidelity check over the realistic set (realistic-set.ts) as the
// render pipeline does, and sums it up per family: recall and false alarms,
// whether the top reason names the family, and whether the place the check
// points at overlaps the defect. Shared by scripts/eval.ts and eval.test.ts.
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import sharp from 'sharp'
import type { FidelityReport, RawImage, SourceImage } from '#app/modules/backends/types.ts'
import {
  compareDetail,
  compareFidelity,
  prepareFidelity,
  type DetailReadings,
  type FidelityReference,
} from '#app/modules/imaging/fidelity.server.ts'
import { explainFidelity } from '#app/modules/imaging/fidelity-reasons.ts'
import { fromRoot, loadMask, loadSource } from './golden-set.ts'
import type { SweepBaseline } from './sweep.ts'
import type { FidelityReason } from '#db/schema.ts'
import {
  CLEAN_FAMILIES,
  DEFECT_FAMILIES,
  EXPECTED_REASONS,
  readRealisticManifest,
  type DefectFamily,
  type RealisticCase,
} from './realistic-set.ts'

export interface Rect {
  left: number
  top: number
  width: number
  height: number
}

export interface RealisticResult {
  case: RealisticCase
  fidelity: FidelityReport
  flagged: boolean
  correct: boolean
  /** The top reason's code, when flagged. */
  reason?: string
  /** Flagged defects: the top reason names the family (EXPECTED_REASONS). */
  reasonRight?: boolean
  /** Where the check says the product changed, in result px. */
  regions: Rect[]
  /** Flagged defects: one of `regions` overlaps the defect's region. */
  regionHit?: boolean
  ms: number
  /** The edge and print readings, when asked for (eval --why). */
  readings?: DetailReadings
}

export interface FamilySummary {
  family: string
  expected: 'clean' | 'defect'
  count: number
  /** Defects: recall. Clean: false-alarm share. */
  flaggedShare: number
  /** Flagged defects whose top reason names the family, as a share of the flagged ones (NaN when none was flagged). */
  reasonAccuracy: number
  /** Flagged defects whose region overlaps the defect, as a share of the flagged ones. */
  regionHits: number
  scores: number[]
}

export interface RealisticSummary {
  threshold: number
  fidelityVersion: number
  results: RealisticResult[]
  families: FamilySummary[]
  /** Lowest recall over the defect families. */
  minRecall: number
  /** Highest false-alarm share over the clean families. */
  maxFalseAlarms: number
  /** Over all flagged defects. */
  reasonAccuracy: number
  regionHits: number
}

/** Heat (1 = twice a measure's visible threshold) at which a cell says "changed here". */
const HOT = 0.5

/**
 * Where the check points: the top reason's own region when it carries one,
 * else the heat map's cells at or past the visible threshold.
 */
export function flagRegions(
  fidelity: FidelityReport,
  frame: { width: number; height: number },
  top: FidelityReason | undefined = explainFidelity(fidelity)[0],
): Rect[] {
  if (top?.region) {
    const r = top.region
    return [{ left: r.x * frame.width, top: r.y * frame.height, width: r.width * frame.width, height: r.height * frame.height }]
  }
  const heat = fidelity.heat
  if (!heat) return []
  const out: Rect[] = []
  const cw = heat.rect.width / heat.cols
  const ch = heat.rect.height / heat.rows
  for (let r = 0; r < heat.rows; r++) {
    for (let c = 0; c < heat.cols; c++) {
      if (heat.cells[r * heat.cols + c] < HOT) continue
      out.push({ left: heat.rect.left + c * cw, top: heat.rect.top + r * ch, width: cw, height: ch })
    }
  }
  return out
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height
}

async function decodeResult(file: string): Promise<RawImage> {
  const { data, info } = await sharp(await readFile(fromRoot(file)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 3 }
}

export async function runRealisticEval(opts: {
  threshold: number
  filter?: string
  readings?: boolean
}): Promise<RealisticSummary> {
  const manifest = await readRealisticManifest()
  const cases = manifest.cases.filter((c) => !opts.filter || c.id.includes(opts.filter))
  const sources = new Map<string, SourceImage>()
  const masks = new Map<string, RawImage>()
  const references = new Map<string, FidelityReference>()
  const results: RealisticResult[] = []
  for (const c of cases) {
    if (!sources.has(c.source)) sources.set(c.source, await loadSource(c.source))
    if (!masks.has(c.mask)) masks.set(c.mask, await loadMask(c.mask))
    const result = await decodeResult(c.result)
    const frame = { width: result.width, height: result.height }
    const key = `${c.source}|${c.mask}|${JSON.stringify(c.placement)}|${frame.width}x${frame.height}`
    const started = performance.now()
    let reference = references.get(key)
    if (!reference) {
      const source = sources.get(c.source)!
      reference = await prepareFidelity({ source, sourceMask: masks.get(c.mask)!, placement: c.placement, frame })
      references.set(key, reference)
    }
    const fidelity = await compareFidelity(reference, result)
    const ms = performance.now() - started
    const judged = judge(c, fidelity, frame, opts.threshold, ms)
    if (opts.readings && reference.detail) judged.readings = (await compareDetail(reference.detail, result)).readings
    results.push(judged)
  }
  return summarise(results, opts.threshold)
}

function judge(
  c: RealisticCase,
  fidelity: FidelityReport,
  frame: { width: number; height: number },
  threshold: number,
  ms: number,
): RealisticResult {
  const flagged = fidelity.score < threshold
  const top = flagged ? explainFidelity(fidelity)[0] : undefined
  const regions = flagged ? flagRegions(fidelity, frame, top) : []
  const out: RealisticResult = { case: c, fidelity, flagged, correct: flagged === (c.expected === 'defect'), regions, ms }
  if (!flagged) return out
  out.reason = top?.code
  if (c.expected === 'defect') {
    out.reasonRight = out.reason !== undefined && EXPECTED_REASONS[c.family as DefectFamily].includes(out.reason)
    out.regionHit = c.region !== undefined && regions.some((r) => overlaps(r, c.region!))
  }
  return out
}

function share(of: RealisticResult[], test: (r: RealisticResult) => boolean): number {
  return of.length === 0 ? Number.NaN : of.filter(test).length / of.length
}

export function summarise(results: RealisticResult[], threshold: number): RealisticSummary {
  const families: FamilySummary[] = []
  for (const family of [...DEFECT_FAMILIES, ...CLEAN_FAMILIES]) {
    const of = results.filter((r) => r.case.family === family)
    if (of.length === 0) continue
    const caught = of.filter((r) => r.flagged)
    families.push({
      family,
      expected: of[0].case.expected,
      count: of.length,
      flaggedShare: caught.length / of.length,
      reasonAccuracy: share(caught, (r) => r.reasonRight === true),
      regionHits: share(caught, (r) => r.regionHit === true),
      scores: of.map((r) => r.fidelity.score).sort((a, b) => a - b),
    })
  }
  const defects = families.filter((f) => f.expected === 'defect')
  const clean = families.filter((f) => f.expected === 'clean')
  const caught = results.filter((r) => r.case.expected === 'defect' && r.flagged)
  return {
    threshold,
    fidelityVersion: results[0]?.fidelity.version ?? 0,
    results,
    families,
    minRecall: defects.length === 0 ? 1 : Math.min(...defects.map((f) => f.flaggedShare)),
    maxFalseAlarms: clean.length === 0 ? 0 : Math.max(...clean.map((f) => f.flaggedShare)),
    reasonAccuracy: caught.length === 0 ? 0 : share(caught, (r) => r.reasonRight === true),
    regionHits: caught.length === 0 ? 0 : share(caught, (r) => r.regionHit === true),
  }
}

/** What the realistic baseline records per family: enough to tell a regression. */
export interface RealisticBaseline {
  fidelityVersion: number
  threshold: number
  cases: number
  flagged: Record<string, number>
  reasonAccuracy: number
  regionHits: number
}

const round2 = (v: number): number => Math.round(v * 100) / 100

export function toRealisticBaseline(s: RealisticSummary): RealisticBaseline {
  return {
    fidelityVersion: s.fidelityVersion,
    threshold: s.threshold,
    cases: s.results.length,
    flagged: Object.fromEntries(s.families.map((f) => [f.family, round2(f.flaggedShare)])),
    reasonAccuracy: round2(s.reasonAccuracy),
    regionHits: round2(s.regionHits),
  }
}

/** Any family's recall lower, or false alarms higher, than the baseline by more than `tolerance`; the same for reasons and regions. */
export function realisticRegressions(s: RealisticSummary, base: RealisticBaseline, tolerance: number): string[] {
  const found: string[] = []
  for (const f of s.families) {
    const before = base.flagged[f.family]
    if (before === undefined) continue
    if (f.expected === 'defect' && f.flaggedShare < before - tolerance)
      found.push(`${f.family}: recall ${f.flaggedShare.toFixed(2)} < baseline ${before.toFixed(2)}`)
    if (f.expected === 'clean' && f.flaggedShare > before + tolerance)
      found.push(`${f.family}: false alarms ${f.flaggedShare.toFixed(2)} > baseline ${before.toFixed(2)}`)
  }
  if (s.reasonAccuracy < base.reasonAccuracy - tolerance)
    found.push(`reason accuracy ${s.reasonAccuracy.toFixed(2)} < baseline ${base.reasonAccuracy.toFixed(2)}`)
  if (s.regionHits < base.regionHits - tolerance)
    found.push(`region hits ${s.regionHits.toFixed(2)} < baseline ${base.regionHits.toFixed(2)}`)
  return found
}

/** test/golden/realistic-baseline.json: the realistic set's and the catalog sweep's recorded results. */
export interface HeldOutBaseline {
  realistic: RealisticBaseline
  sweep: SweepBaseline
}
