import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { env } from '#app/lib/env.server.ts'
import { FIDELITY_VERSION } from '#app/modules/imaging/fidelity.server.ts'
import { regressions, runGoldenEval, type EvalBaseline } from './eval-golden.ts'
import { BASELINE_PATH, PERCEPTIBLE_DEFECTS } from './golden-set.ts'
import { flagRegions, overlaps, realisticRegressions, runRealisticEval, type HeldOutBaseline } from './eval-realistic.ts'
import { REALISTIC_BASELINE } from './realistic-set.ts'
import { runSweep, sweepRegressions } from './sweep.ts'

// CI's guard on the fidelity check: the committed golden set must keep its
// recall and false-alarm targets, and must not fall behind the recorded
// baseline (`npm run eval -- --update-baseline` records a new one).
describe('fidelity golden set', () => {
  it('flags every perceptible defect, lets the clean controls through, and holds the baseline', async () => {
    const summary = await runGoldenEval({ threshold: env().FIDELITY_THRESHOLD })
    const wrong = summary.results.filter((r) => !r.correct).map((r) => `${r.case.id} ${r.fidelity.score}`)
    expect(summary.fidelityVersion).toBe(FIDELITY_VERSION)
    for (const kind of PERCEPTIBLE_DEFECTS) {
      const k = summary.kinds.find((s) => s.kind === kind)
      expect(k, `${kind} cases in the golden set`).toBeDefined()
      expect(k!.flaggedShare, `${kind} recall (misses/false alarms: ${wrong.join(', ') || 'none'})`).toBeGreaterThanOrEqual(0.95)
    }
    expect(summary.falseAlarms, `false alarms (${wrong.join(', ') || 'none'})`).toBeLessThanOrEqual(0.05)
    const baseline = JSON.parse(await readFile(BASELINE_PATH, 'utf8')) as EvalBaseline
    expect(regressions(summary, baseline, 0.02)).toEqual([])
  }, 120_000)
})

// The held-out checks (issue 14): the realistic set and the catalog sweep must
// reach their targets and not fall behind what realistic-baseline.json recorded.
describe('realistic fidelity set and catalog sweep', () => {
  it('reach their targets and hold the recorded baseline family by family', async () => {
    const threshold = env().FIDELITY_THRESHOLD
    const base = JSON.parse(await readFile(REALISTIC_BASELINE, 'utf8')) as HeldOutBaseline
    const realistic = await runRealisticEval({ threshold })
    expect(realistic.results.length).toBe(base.realistic.cases)
    expect(realistic.families.map((f) => f.family).sort()).toEqual(Object.keys(base.realistic.flagged).sort())
    expect(realisticRegressions(realistic, base.realistic, 0.02)).toEqual([])
    const wrong = realistic.results.filter((r) => !r.correct).map((r) => `${r.case.id} ${r.fidelity.score}`)
    for (const f of realistic.families) {
      const share = `${f.family} (misses and false alarms: ${wrong.join(', ') || 'none'})`
      if (f.expected === 'defect') expect(f.flaggedShare, share).toBeGreaterThanOrEqual(0.95)
      else expect(f.flaggedShare, share).toBeLessThanOrEqual(0.05)
    }
    expect(realistic.reasonAccuracy).toBeGreaterThanOrEqual(0.9)
    expect(realistic.regionHits).toBeGreaterThanOrEqual(0.9)
    const sweep = await runSweep({ threshold })
    expect(sweep.checked).toBe(base.sweep.checked)
    expect(sweepRegressions(sweep, base.sweep)).toEqual([])
    expect(sweep.results.filter((r) => r.flagged).map((r) => `${r.image}@${r.scene} ${r.score}`)).toEqual([])
  }, 240_000)

  it('says where a flagged check points, in result px', () => {
    const heat = { cols: 2, rows: 2, rect: { left: 100, top: 50, width: 200, height: 100 }, cells: [0.2, 0.7, -1, 0.5] }
    const regions = flagRegions(
      { ssim: 1, deltaEMean: 0, deltaEP95: 0, maskCoverage: 1, score: 50, version: 5, heat },
      { width: 400, height: 200 },
    )
    expect(regions).toEqual([
      { left: 200, top: 50, width: 100, height: 50 },
      { left: 200, top: 100, width: 100, height: 50 },
    ])
    expect(overlaps(regions[0], { left: 290, top: 90, width: 20, height: 20 })).toBe(true)
    expect(overlaps(regions[0], { left: 100, top: 50, width: 100, height: 50 })).toBe(false)
  })
})
