import { beforeAll, describe, expect, it } from 'vitest'
import { fidelityFixture, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { explainFidelity } from '../fidelity-reasons.ts'
import { compareDetail } from './compare.server.ts'
import { prepareDetail } from './reference.server.ts'

let fx: FidelityFixture
beforeAll(async () => {
  fx = await fidelityFixture()
})

describe('shift-robust fidelity measures', () => {
  it('scores the untouched render near 100 with all parts clean', async () => {
    const m = await fx.measure(fx.clean)
    expect(m.score).toBeGreaterThanOrEqual(95)
    expect(m.edgeScore).toBeGreaterThan(0.9)
    expect(m.detailRatio).toBeGreaterThan(0.9)
    expect(m.matchedDeltaEMean).toBeLessThan(1)
    expect(explainFidelity(m)).toEqual([])
  })

  it('prepares no reference for a product placed outside the frame', async () => {
    const { source, render } = fx
    const placement = { ...render.placement, x: fx.clean.width + 10 }
    const ref = await prepareDetail({ source, sourceMask: render.sourceMask, placement, frame: { width: fx.clean.width, height: fx.clean.height } })
    expect(ref).toBeUndefined()
  })

  it('reports the readings the scores are made of, in result px', async () => {
    const { source, render, clean } = fx
    const ref = await prepareDetail({ source, sourceMask: render.sourceMask, placement: render.placement, frame: { width: clean.width, height: clean.height } })
    const d = await compareDetail(ref!, clean)
    expect(d.heat.rect).toEqual(ref!.resultRect)
    expect(d.heat.cells).toHaveLength(d.heat.cols * d.heat.rows)
    expect(d.readings.edge.stretch).toBeLessThan(0.55)
    expect(d.readings.detail.overall).toBeGreaterThan(0.71)
    expect(Math.abs(d.alignment.dx)).toBeLessThan(0.5)
  })
})
