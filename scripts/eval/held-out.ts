// `npm run eval`'s second half: the realistic set per family (recall, false
// alarms, reason accuracy, region hits) and the catalog × scene sweep, each
// checked against test/golden/realistic-baseline.json.
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  realisticRegressions,
  runRealisticEval,
  toRealisticBaseline,
  type HeldOutBaseline,
  type RealisticSummary,
} from '#test/golden/eval-realistic.ts'
import { REALISTIC_BASELINE, REALISTIC_MANIFEST } from '#test/golden/realistic-set.ts'
import { runSweep, sweepRegressions, toSweepBaseline, type SweepSummary } from '#test/golden/sweep.ts'

export interface HeldOutRun {
  realistic?: RealisticSummary
  sweep?: SweepSummary
  /** Regressions against the recorded baseline (empty when none, or when nothing was compared). */
  regressions: string[]
  /** Whether a baseline was there to compare with. */
  compared?: boolean
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length))
const padLeft = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s)
const ratio = (v: number): string => (Number.isNaN(v) ? '  – ' : v.toFixed(2))

function printRealistic(s: RealisticSummary, why: boolean): void {
  const shown = s.results.filter((r) => why || !r.correct || r.reasonRight === false || r.regionHit === false)
  if (shown.length > 0)
    console.log(why ? '\nrealistic set, all cases:' : '\nrealistic set, misses, false alarms, wrong reasons or places:')
  for (const r of shown) {
    const label = !r.correct
      ? r.flagged
        ? 'FA'
        : 'MISS'
      : r.reasonRight === false
        ? 'WHY'
        : r.regionHit === false
          ? 'WHERE'
          : ''
    const said = r.flagged ? ` said ${r.reason ?? 'nothing'}${r.regionHit === false ? ', elsewhere' : ''}` : ''
    let line = `${pad(label, 6)}${pad(r.case.id, 44)} score ${padLeft(r.fidelity.score.toFixed(1), 5)}${said}`
    const local = r.fidelity.localChange
    if (why && local) line += `  [local ${local.badness} ${local.kind}]`
    if (why && r.readings) {
      const e = r.readings.edge
      const d = r.readings.detail
      line += ` [edge stretch ${e.stretch} overall ${e.overall} thin ${e.thin} fringe ${e.fringe} part ${e.part} halo ${e.haloShare} | print overall ${d.overall} worst ${d.worst} deficit ${d.deficit}]`
    }
    console.log(line)
  }
  console.log(
    `\nrealistic set: fidelity v${s.fidelityVersion}, threshold ${s.threshold}; reason and place are read on the flagged defects`,
  )
  console.log(
    `${pad('family', 20)}${pad('expect', 8)}${padLeft('n', 3)}  ${pad('flagged', 16)}${padLeft('reason', 7)}${padLeft('place', 7)}${padLeft('min', 6)}${padLeft('med', 6)}${padLeft('max', 6)}`,
  )
  for (const f of s.families) {
    const flagged = Math.round(f.flaggedShare * f.count)
    const label = f.expected === 'defect' ? `recall ${f.flaggedShare.toFixed(2)}` : `false ${f.flaggedShare.toFixed(2)}`
    const [min, med, max] = [f.scores[0], f.scores[f.scores.length >> 1], f.scores[f.scores.length - 1]]
    const defect = f.expected === 'defect'
    console.log(
      `${pad(f.family, 20)}${pad(f.expected, 8)}${padLeft(String(f.count), 3)}  ${pad(`${flagged} ${label}`, 16)}${padLeft(defect ? ratio(f.reasonAccuracy) : '', 7)}${padLeft(defect ? ratio(f.regionHits) : '', 7)}${padLeft(min.toFixed(0), 6)}${padLeft(med.toFixed(0), 6)}${padLeft(max.toFixed(0), 6)}`,
    )
  }
  console.log(
    `min recall ${s.minRecall.toFixed(2)} (target ≥ 0.95 every family), max false alarms ${s.maxFalseAlarms.toFixed(2)} (≤ 0.05 every family), reason accuracy ${s.reasonAccuracy.toFixed(2)} (≥ 0.9), region hits ${s.regionHits.toFixed(2)} (≥ 0.9)`,
  )
}

function printSweep(s: SweepSummary): void {
  console.log(
    `\ncatalog × scene sweep: ${s.checked} renders checked, ${s.flagged} failed the gate (target 0), ${s.refused} refused by the studio`,
  )
  for (const r of s.results.filter((r) => r.flagged)) console.log(`  FA    ${r.image} on ${r.scene}: score ${r.score}`)
}

async function readBaseline(): Promise<HeldOutBaseline | undefined> {
  if (!existsSync(REALISTIC_BASELINE)) return undefined
  return JSON.parse(await readFile(REALISTIC_BASELINE, 'utf8')) as HeldOutBaseline
}

/** Runs the realistic set (when it exists) and the sweep (unless filtered), prints them, and compares or records the baseline. */
export async function runHeldOut(opts: {
  threshold: number
  only?: string
  why: boolean
  updateBaseline: boolean
  tolerance: number
}): Promise<HeldOutRun> {
  const run: HeldOutRun = { regressions: [] }
  if (existsSync(REALISTIC_MANIFEST)) {
    run.realistic = await runRealisticEval({ threshold: opts.threshold, filter: opts.only, readings: opts.why })
    printRealistic(run.realistic, opts.why)
  } else console.log(`\nno realistic set at ${path.relative(process.cwd(), REALISTIC_MANIFEST)} (npm run golden -- --realistic)`)
  // why not under --only: the sweep renders ~100 images, and a filtered run is for looking at a few cases.
  if (!opts.only) {
    run.sweep = await runSweep({ threshold: opts.threshold })
    printSweep(run.sweep)
  }
  if (opts.only || !run.realistic || !run.sweep) return run
  if (opts.updateBaseline) {
    const baseline: HeldOutBaseline = { realistic: toRealisticBaseline(run.realistic), sweep: toSweepBaseline(run.sweep) }
    await writeFile(REALISTIC_BASELINE, `${JSON.stringify(baseline, null, 2)}\n`)
    console.log(`baseline written: ${path.relative(process.cwd(), REALISTIC_BASELINE)}`)
    return run
  }
  const base = await readBaseline()
  if (!base) {
    console.log('no realistic baseline yet: run with --update-baseline to record one')
    return run
  }
  run.compared = true
  run.regressions = [
    ...realisticRegressions(run.realistic, base.realistic, opts.tolerance),
    ...sweepRegressions(run.sweep, base.sweep),
  ]
  return run
}
