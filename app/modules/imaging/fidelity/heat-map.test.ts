import { beforeAll, describe, expect, it } from 'vitest'
import { H, W, fidelityFixture, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { explainFidelity } from '../fidelity-reasons.ts'

let fx: FidelityFixture
beforeAll(async () => {
  fx = await fidelityFixture()
})

describe('heat map', () => {
  it('lights no heat cell on a faithful render, and the cells over a recoloured patch on a changed one', async () => {
    const cleanHeat = (await fx.measure(fx.clean)).heat!
    expect(Math.max(...cleanHeat.cells)).toBeLessThan(0.5)
    // A patch of the garment's lower left, a quarter of its width square, shifted in colour (ΔE ≈ 10).
    const from = fx.onResult(0.3, 0.62)
    const side = fx.onResult(0.45, 0.62).x - from.x
    const data = Uint8Array.from(fx.clean.data)
    for (let y = from.y; y < from.y + side; y++) {
      for (let x = from.x; x < from.x + side; x++) {
        const i = 3 * (y * W + x)
        data[i] = Math.min(255, data[i] + 30)
        data[i + 2] = Math.max(0, data[i + 2] - 20)
      }
    }
    const measured = await fx.measure({ data, width: W, height: H, channels: 3 })
    const heat = measured.heat!
    // The colour measure's own region holds the patch, and every reason given says where.
    const colour = measured.regions!.colour!
    const centre = { x: (from.x + side / 2) / W, y: (from.y + side / 2) / H }
    expect(centre.x).toBeGreaterThanOrEqual(colour.x)
    expect(centre.x).toBeLessThanOrEqual(colour.x + colour.width)
    expect(centre.y).toBeGreaterThanOrEqual(colour.y)
    expect(centre.y).toBeLessThanOrEqual(colour.y + colour.height)
    const reasons = explainFidelity(measured)
    expect(reasons.length).toBeGreaterThan(0)
    for (const r of reasons) expect(r.region, r.code).toBeDefined()
    const cw = heat.rect.width / heat.cols
    const ch = heat.rect.height / heat.rows
    const hot = heat.cells.flatMap((v, c) => (v >= 0.5 ? [c] : []))
    expect(hot.length).toBeGreaterThan(0)
    for (const c of hot) {
      const cx = heat.rect.left + ((c % heat.cols) + 0.5) * cw
      const cy = heat.rect.top + (Math.floor(c / heat.cols) + 0.5) * ch
      expect(cx).toBeGreaterThan(from.x - cw)
      expect(cx).toBeLessThan(from.x + side + cw)
      expect(cy).toBeGreaterThan(from.y - ch)
      expect(cy).toBeLessThan(from.y + side + ch)
    }
  })
})
