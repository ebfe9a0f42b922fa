import { describe, expect, it } from 'vitest'
import { rng } from '#test/fixtures/product-images.ts'
import { coveragePlanes, thinChange } from './thin-change.ts'

const W = 40
const H = 80
const STRAP_X = 20

/** Coverage of a vertical strap 2 px wide at STRAP_X (+ `offset` px), with a slider 6 × 4 px round it at rows 40–43. */
function strap(offset: number, slider: boolean, widen = 0): Float32Array {
  const c = new Float32Array(W * H)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const left = STRAP_X + offset - widen
      const right = STRAP_X + 2 + offset + widen
      // box-filtered edge: a pixel holds the share of it the strap covers
      let v = Math.max(0, Math.min(x + 1, right) - Math.max(x, left))
      if (slider && y >= 40 && y < 44 && x >= STRAP_X - 2 && x < STRAP_X + 4) v = 1
      c[y * W + x] = Math.min(1, v)
    }
  }
  return c
}

/** The strap's geometry as the reference holds it: signed distance 1 inside, −1…−3 round it, thickness 2. */
function geometry(): { signed: Float32Array; thickness: Float32Array } {
  const signed = new Float32Array(W * H)
  const thickness = new Float32Array(W * H).fill(2)
  for (let i = 0; i < W * H; i++) {
    const x = i % W
    signed[i] = x >= STRAP_X && x < STRAP_X + 2 ? 1 : -Math.min(9, x < STRAP_X ? STRAP_X - x : x - STRAP_X - 1)
  }
  return { signed, thickness }
}

function reading(before: Float32Array, after: Float32Array, noise = 0) {
  const random = rng(5)
  const planes = coveragePlanes(W * H)
  const { signed, thickness } = geometry()
  for (let i = 0; i < W * H; i++) {
    planes.before[i] = before[i]
    planes.after[i] = after[i] + (random() - 0.5) * 2 * noise
    planes.read[i] = Math.abs(signed[i]) <= 3 ? 1 : 0
  }
  return thinChange(planes, signed, thickness, W, H)
}

describe('thin-part change', () => {
  it('finds a slider gone from a strap, where it was', () => {
    const r = reading(strap(0, true), strap(0, false), 0.1)
    expect(r.badness).toBeGreaterThan(1)
    expect(r.box!.top).toBeGreaterThanOrEqual(38)
    expect(r.box!.top + r.box!.height).toBeLessThanOrEqual(46)
  })

  it('finds a slider added, where it was put', () => {
    const r = reading(strap(0, false), strap(0, true), 0.1)
    expect(r.badness).toBeGreaterThan(1)
    expect(r.box!.top).toBeGreaterThanOrEqual(38)
    expect(r.box!.top + r.box!.height).toBeLessThanOrEqual(46)
  })

  it('reads a strap drawn half a pixel aside, with noise, as unchanged', () => {
    expect(reading(strap(0, true), strap(0.5, true), 0.15).badness).toBeLessThan(0.3)
  })

  it('leaves a strap widened along its length to the edge band (not a part)', () => {
    expect(reading(strap(0, true), strap(0, true, 1)).badness).toBe(0)
  })
})
