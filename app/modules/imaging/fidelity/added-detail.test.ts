import { beforeAll, describe, expect, it } from 'vitest'
import type { RawImage } from '../types.ts'
import { H, W, fidelityFixture, raw, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { explainFidelity } from '../fidelity-reasons.ts'
import { addedDetail, ADDED_VISIBLE } from './added-detail.ts'
import { DETAIL_CELL, windowGrid } from './grid.ts'

describe('addedDetail', () => {
  const windows = windowGrid(64, 64, DETAIL_CELL)

  it('reads the worst window against ADDED_VISIBLE and spans the windows joined to it', () => {
    const added = new Float32Array(windows.cols * windows.rows)
    added[2 * windows.cols + 3] = 3 * ADDED_VISIBLE
    added[2 * windows.cols + 4] = ADDED_VISIBLE
    // Below half of ADDED_VISIBLE, and apart: neither joins.
    added[3 * windows.cols + 3] = 0.4 * ADDED_VISIBLE
    added[6 * windows.cols + 0] = ADDED_VISIBLE
    const r = addedDetail({ added }, windows, 64, 64)
    expect(r.badness).toBeCloseTo(3, 6)
    expect(r.box).toEqual({ left: 24, top: 16, width: 24, height: 16 })
  })

  it('reads nothing where no window carries half a visible part', () => {
    const added = new Float32Array(windows.cols * windows.rows).fill(0.4 * ADDED_VISIBLE)
    expect(addedDetail({ added }, windows, 64, 64)).toEqual({ badness: 0, area: 0, mass: 0 })
  })
})

describe('added detail on a render', () => {
  let fx: FidelityFixture
  beforeAll(async () => {
    fx = await fidelityFixture()
  })

  it('finds a pocket drawn as stitching on the plain garment, where it was drawn', async () => {
    const a = fx.onResult(0.3, 0.58)
    const b = fx.onResult(0.42, 0.72)
    const data = Uint8Array.from(fx.clean.data)
    const stitch = (x: number, y: number): void => {
      for (let c = 0; c < 3; c++) data[3 * (y * W + x) + c] = Math.min(255, data[3 * (y * W + x) + c] + 45)
    }
    // A pocket's outline, a pixel wide, and a dashed line of stitching under its top.
    for (let x = a.x; x <= b.x; x++) {
      stitch(x, a.y)
      stitch(x, b.y)
      if (x % 4 < 2) stitch(x, a.y + 4)
    }
    for (let y = a.y; y <= b.y; y++) {
      stitch(a.x, y)
      stitch(b.x, y)
    }
    const m = await fx.measure({ data, width: W, height: H, channels: 3 } satisfies RawImage)
    expect(m.score).toBeLessThan(70)
    const reasons = explainFidelity(m)
    expect(reasons[0].code).toBe('part_changed')
    const region = m.localChange!.region!
    const { x, y } = { x: region.x * W, y: region.y * H }
    expect(x).toBeLessThan(b.x)
    expect(x + region.width * W).toBeGreaterThan(a.x)
    expect(y).toBeLessThan(b.y)
    expect(y + region.height * H).toBeGreaterThan(a.y)
  })

  it('reads the same render sharpened as no part added', async () => {
    const m = await fx.measure(await raw(fx.fromClean().sharpen({ sigma: 1, m1: 1, m2: 2 })))
    expect(m.localChange!.badness).toBeLessThan(0.5)
    expect(m.score).toBeGreaterThanOrEqual(70)
  })
})
