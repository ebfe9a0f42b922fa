import { beforeAll, describe, expect, it } from 'vitest'
import type { RawImage } from '../types.ts'
import { H, W, fidelityFixture, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { explainFidelity } from '../fidelity-reasons.ts'
import { VISIBLE } from './score.ts'
import { highPass, peak, printBadness, printReadings } from './print-detail.ts'

describe('highPass', () => {
  it('passes no flat or slowly varying luma, and keeps fine lines', () => {
    const w = 32
    const h = 32
    const ramp = Float32Array.from({ length: w * h }, (_, i) => 100 + (i % w))
    const flat = highPass(ramp, w, h)
    // Inside the plane a linear ramp is blurred to itself; only the clamped edges differ.
    for (let y = 4; y < h - 4; y++) for (let x = 4; x < w - 4; x++) expect(Math.abs(flat[y * w + x])).toBeLessThan(1e-3)
    const lines = Float32Array.from({ length: w * h }, (_, i) => ((i % w) % 4 < 2 ? 200 : 50))
    const detail = highPass(lines, w, h)
    expect(Math.max(...detail.subarray(8 * w, 9 * w).map(Math.abs))).toBeGreaterThan(20)
  })
})

describe('peak', () => {
  it('takes an off-centre maximum as it is, and refines a centred one to the sub-pixel peak', () => {
    expect(peak(Float64Array.from([0, 0, 9, 0, 5, 0, 0, 0, 0]))).toBe(9)
    // Symmetric neighbours: the parabola's top is the centre itself.
    expect(peak(Float64Array.from([0, 4, 0, 4, 10, 4, 0, 4, 0]))).toBe(10)
    // A peak a third of a pixel toward the right reads higher than the centre alone.
    expect(peak(Float64Array.from([0, 4, 0, 2, 10, 8, 0, 4, 0]))).toBeGreaterThan(10)
  })
})

describe('printReadings and printBadness', () => {
  it('finds a wiped logo among kept windows in the worst two and the deficit', () => {
    const kept = Float32Array.from([0.95, 0.96, 0.94, 0.97, 0.1, 0.05])
    const weight = Float32Array.from([20_000, 20_000, 20_000, 20_000, 20_000, 20_000])
    const r = printReadings({ kept, weight })
    expect(r.worst).toBeCloseTo(0.075, 3)
    // The median of six is the upper middle window (0.95).
    expect(r.deficit).toBeCloseTo(0.95 - 0.075, 3)
    expect(printBadness(r)).toBeGreaterThan(1)
  })

  it('reads a plain product by its three most detailed windows, and nothing when there is no detail', () => {
    const r = printReadings({ kept: Float32Array.from([0.2, 0.9, 0.9, 0.9]), weight: Float32Array.from([10, 500, 400, 300]) })
    expect(r.worst).toBeCloseTo(0.9, 3)
    expect(printReadings({ kept: new Float32Array(3), weight: new Float32Array(3) })).toEqual({ overall: 1, worst: 1, deficit: 0 })
  })

  it('is 1 with any one reading at its visible threshold', () => {
    expect(printBadness({ overall: 0.71, worst: 1, deficit: 0 })).toBeCloseTo(1, 9)
    expect(printBadness({ overall: 1, worst: 0.55, deficit: 0 })).toBeCloseTo(1, 9)
    expect(printBadness({ overall: 1, worst: 1, deficit: 0.3 })).toBeCloseTo(1, 9)
    expect(printBadness({ overall: 0.95, worst: 0.9, deficit: 0.05 })).toBeLessThan(0.5)
  })
})

describe('print detail on a render', () => {
  let fx: FidelityFixture
  beforeAll(async () => {
    fx = await fidelityFixture()
  })

  it('sees a wiped chest print as lost detail, and points the heat map at it', async () => {
    // The fixture's white chest print: a disc of radius 0.06 of the garment at (0.5, 0.4), garment filling 0.8 of the frame.
    const k = 0.8 / 0.68
    const centre = fx.onResult(0.5, 0.5 + (0.4 - 0.52) * k)
    const corner = fx.onResult(0.5 - 0.075 * k, 0.5 + (0.4 - 0.52 - 0.075) * k)
    const half = centre.x - corner.x
    const data = Uint8Array.from(fx.clean.data)
    const garment = 3 * (centre.y * W + centre.x + 2 * half)
    for (let y = centre.y - half; y <= centre.y + half; y++) {
      for (let x = centre.x - half; x <= centre.x + half; x++) data.copyWithin(3 * (y * W + x), garment, garment + 3)
    }
    const result: RawImage = { data, width: W, height: H, channels: 3 }
    const m = await fx.measure(result)
    expect(m.detailRatio).toBeLessThan(VISIBLE.detailRatio)
    expect(m.score).toBeLessThan(70)
    expect(explainFidelity(m).map((r) => r.code)).toContain('detail_lost')
    const heat = m.heat!
    let hottest = 0
    for (let c = 1; c < heat.cells.length; c++) if (heat.cells[c] > heat.cells[hottest]) hottest = c
    const cx = heat.rect.left + ((hottest % heat.cols) + 0.5) * (heat.rect.width / heat.cols)
    const cy = heat.rect.top + (Math.floor(hottest / heat.cols) + 0.5) * (heat.rect.height / heat.rows)
    expect(Math.abs(cx - centre.x)).toBeLessThan(half + heat.rect.width / heat.cols)
    expect(Math.abs(cy - centre.y)).toBeLessThan(half + heat.rect.height / heat.rows)
  })
})
