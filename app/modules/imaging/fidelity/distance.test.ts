import { describe, expect, it } from 'vitest'
import { BAND } from './grid.ts'
import { PART_MAX, chamfer, narrowGaps, partThickness, runningMax, signedDistance, thinBand } from './distance.ts'

/** An alpha plane (1 = product) drawn from a predicate. */
function shape(width: number, height: number, inside: (x: number, y: number) => boolean): Float32Array {
  return Float32Array.from({ length: width * height }, (_, i) => (inside(i % width, Math.floor(i / width)) ? 1 : 0))
}

describe('chamfer', () => {
  it('measures 3-4 chamfer distances to the nearest unset pixel', () => {
    const inside = new Uint8Array(9 * 9).fill(1)
    inside[4 * 9 + 4] = 0
    const d = chamfer(inside, 9, 9)
    expect(d[4 * 9 + 4]).toBe(0)
    expect(d[4 * 9 + 5]).toBe(1)
    expect(d[5 * 9 + 5]).toBeCloseTo(4 / 3, 6)
    expect(d[4 * 9 + 8]).toBe(4)
    expect(d[0]).toBeCloseTo(16 / 3, 6)
  })
})

describe('signedDistance', () => {
  it('is the distance to the outline, positive inside, half a pixel at it', () => {
    const n = 64
    const alpha = shape(n, n, (x, y) => Math.hypot(x - 32, y - 32) < 20)
    const s = signedDistance(alpha, n, n)
    expect(s[32 * n + 32]).toBeGreaterThan(18.5)
    expect(s[32 * n + 32]).toBeLessThan(21.5)
    expect(s[32 * n + 12]).toBe(-0.5)
    expect(s[32 * n + 13]).toBe(0.5)
    expect(s[0]).toBeLessThan(-20)
  })
})

describe('thin parts and gaps', () => {
  // A 30 × 30 body with a 4 px strap 55 px long rising from it.
  const w = 60
  const h = 100
  const alpha = shape(w, h, (x, y) => (x >= 15 && x < 45 && y >= 60 && y < 90) || (x >= 28 && x < 32 && y >= 5 && y < 60))
  const signed = signedDistance(alpha, w, h)

  it('marks the band of a strap, not the band of the body', () => {
    const thin = thinBand(signed, w, h)
    expect(thin[20 * w + 28]).toBe(1)
    expect(thin[20 * w + 31]).toBe(1)
    expect(thin[75 * w + 15]).toBe(0)
    expect(thin[89 * w + 30]).toBe(0)
  })

  it('gives each part its own thickness, the body PART_MAX at most', () => {
    const t = partThickness(signed, w, h)
    // More than PART_MAX / 2 px from the body, the strap measures its own width.
    expect(t[20 * w + 29]).toBeGreaterThanOrEqual(3)
    expect(t[20 * w + 29]).toBeLessThanOrEqual(5)
    // Nearer, the body's depth is within reach: a strap's root counts as body.
    expect(t[50 * w + 29]).toBeGreaterThan(25)
    expect(t[75 * w + 30]).toBeGreaterThan(25)
    expect(t[75 * w + 30]).toBeLessThanOrEqual(PART_MAX)
  })

  it("reads the body's whole edge band as body, its scene side too", () => {
    const bw = 120
    const body = shape(bw, bw, (x, y) => x >= 20 && x < 100 && y >= 20 && y < 100)
    const t = partThickness(signedDistance(body, bw, bw), bw, bw)
    for (const x of [17, 18, 19, 20, 21, 22]) expect(t[60 * bw + x]).toBe(PART_MAX)
  })

  it('marks band pixels in a narrow gap between two parts, not on the open outline', () => {
    const gw = 80
    const two = shape(gw, gw, (x, y) => y >= 15 && y < 65 && ((x >= 15 && x < 38) || (x >= 40 && x < 65)))
    const twoSigned = signedDistance(two, gw, gw)
    const gaps = narrowGaps(twoSigned, gw, gw)
    expect(gaps[40 * gw + 38]).toBe(1)
    expect(gaps[40 * gw + 39]).toBe(1)
    expect(gaps[40 * gw + 15]).toBe(0)
    expect(gaps[15 * gw + 25]).toBe(0)
    // Nothing further than the band from the outline is marked.
    for (let i = 0; i < gaps.length; i++) if (gaps[i]) expect(Math.abs(twoSigned[i])).toBeLessThanOrEqual(BAND)
  })
})

describe('runningMax', () => {
  it('is the maximum over ±r along rows and along columns, the borders too', () => {
    const w = 23
    const h = 17
    let seed = 11
    const plane = Float32Array.from({ length: w * h }, () => {
      seed = (seed * 48271) % 2147483647
      return seed / 2147483647
    })
    for (const r of [1, 3, 7, 15]) {
      const rows = runningMax(plane, w, h, r, true)
      const cols = runningMax(plane, w, h, r, false)
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let alongRow = -Infinity
          for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) alongRow = Math.max(alongRow, plane[y * w + k])
          let alongCol = -Infinity
          for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) alongCol = Math.max(alongCol, plane[k * w + x])
          expect(rows[y * w + x]).toBe(alongRow)
          expect(cols[y * w + x]).toBe(alongCol)
        }
      }
    }
  })
})
