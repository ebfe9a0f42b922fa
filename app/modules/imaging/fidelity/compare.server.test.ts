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
    const ref = await prepareDetail({
      source,
      sourceMask: render.sourceMask,
      placement,
      frame: { width: fx.clean.width, height: fx.clean.height },
    })
    expect(ref).toBeUndefined()
  })

  it('reports the readings the scores are made of, in result px', async () => {
    const { source, render, clean } = fx
    const ref = await prepareDetail({
      source,
      sourceMask: render.sourceMask,
      placement: render.placement,
      frame: { width: clean.width, height: clean.height },
    })
    const d = await compareDetail(ref!, clean)
    expect(d.heat.rect).toEqual(ref!.resultRect)
    expect(d.heat.cells).toHaveLength(d.heat.cols * d.heat.rows)
    expect(d.readings.edge.stretch).toBeLessThan(0.55)
    expect(d.readings.detail.overall).toBeGreaterThan(0.71)
    expect(Math.abs(d.alignment.dx)).toBeLessThan(0.5)
  })
})

describe('local change (fidelity v6)', () => {
  /** The clean render with a square of `colour`, `size` px, centred on source point (u, v). */
  function withSquare(u: number, v: number, size: number, colour: [number, number, number]) {
    const { x, y } = fx.onResult(u, v)
    const data = Buffer.from(fx.clean.data)
    for (let j = Math.round(y - size / 2); j < Math.round(y + size / 2); j++)
      for (let i = Math.round(x - size / 2); i < Math.round(x + size / 2); i++) data.set(colour, 3 * (j * fx.clean.width + i))
    return { image: { ...fx.clean, data }, at: { x, y } }
  }

  it('fails a button added to the plain body, names it and says where', async () => {
    const { image, at } = withSquare(0.5, 0.7, 8, [222, 214, 190])
    const m = await fx.measure(image)
    expect(m.score).toBeLessThan(70)
    const [top] = explainFidelity(m)
    expect(top.code).toBe('part_changed')
    const r = top.region!
    expect(at.x / fx.clean.width).toBeGreaterThanOrEqual(r.x - 0.01)
    expect(at.x / fx.clean.width).toBeLessThanOrEqual(r.x + r.width + 0.01)
    expect(at.y / fx.clean.height).toBeGreaterThanOrEqual(r.y - 0.01)
    expect(at.y / fx.clean.height).toBeLessThanOrEqual(r.y + r.height + 0.01)
  })

  it('passes the untouched render with no local change', async () => {
    const m = await fx.measure(fx.clean)
    expect(m.localChange?.badness).toBe(0)
  })
})
