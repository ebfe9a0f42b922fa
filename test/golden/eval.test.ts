import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { env } from '#app/lib/env.server.ts'
import { FIDELITY_VERSION } from '#app/modules/imaging/fidelity.server.ts'
import { regressions, runGoldenEval, type EvalBaseline } from './eval-golden.ts'
import { BASELINE_PATH, PERCEPTIBLE_DEFECTS } from './golden-set.ts'

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
