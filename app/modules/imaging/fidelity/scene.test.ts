import { describe, expect, it } from 'vitest'
import { signedDistance } from './distance.ts'
import { coverageOf, facesDown, fillFrom, floorRow, nearOutline, productColour, rimProduct } from './scene.ts'

const w = 64
const h = 64
/** A red disc of radius 16 on a blue scene. */
const alpha = Float32Array.from({ length: w * h }, (_, i) => (Math.hypot((i % w) - 32, Math.floor(i / w) - 32) < 16 ? 1 : 0))
const rgb = new Uint8Array(3 * w * h)
for (let i = 0; i < w * h; i++) rgb.set(alpha[i] ? [200, 40, 40] : [40, 60, 200], 3 * i)
const signed = signedDistance(alpha, w, h)

describe('coverageOf', () => {
  const product = Float32Array.from([200, 40, 40])
  const backdrop = Float32Array.from([40, 60, 200])

  it('reads 0 for the scene, 1 for the product and their mixes in between', () => {
    expect(coverageOf(Float32Array.from([40, 60, 200]), 0, product, backdrop)).toBe(0)
    expect(coverageOf(Float32Array.from([200, 40, 40]), 0, product, backdrop)).toBe(1)
    expect(coverageOf(Float32Array.from([120, 50, 120]), 0, product, backdrop)).toBeCloseTo(0.5, 9)
  })

  it('reads nothing where product and scene are too close in colour', () => {
    expect(
      coverageOf(Float32Array.from([60, 60, 60]), 0, Float32Array.from([70, 70, 70]), Float32Array.from([50, 50, 50])),
    ).toBeNaN()
  })
})

describe('fillFrom', () => {
  it('fills the scene in under the product from the scene around it', () => {
    const { near, sceneNear } = nearOutline(signed)
    expect(near.length).toBeGreaterThan(0)
    const scene = fillFrom(rgb, signed, w, h, -5, sceneNear, near)
    for (const i of near)
      expect([scene[3 * i], scene[3 * i + 1], scene[3 * i + 2]].map((v) => Math.round(v))).toEqual([40, 60, 200])
  })
})

describe('productColour', () => {
  it("gives band pixels the product's colour and leaves the rest unknown", () => {
    const p = productColour(rgb, alpha, signed, w, h)
    const edge = 32 * w + 16
    expect(Math.abs(signed[edge])).toBeLessThanOrEqual(3)
    expect([p[3 * edge], p[3 * edge + 1], p[3 * edge + 2]]).toEqual([200, 40, 40])
    expect(p[3 * (32 * w + 32)]).toBeNaN()
    expect(p[0]).toBeNaN()
  })
})

describe('rimProduct', () => {
  /** A brown square on white whose outermost solid column is the brown mixed with white, as a photo's edge is. */
  function square(inner: (y: number) => number[]): {
    rgb: Uint8Array
    product: Float32Array
    backdrop: Float32Array
    signed: Float32Array
  } {
    const a = Float32Array.from({ length: w * h }, (_, i) =>
      i % w >= 16 && i % w < 48 && Math.floor(i / w) >= 16 && Math.floor(i / w) < 48 ? 1 : 0,
    )
    const s = signedDistance(a, w, h)
    const px = new Uint8Array(3 * w * h).fill(255)
    for (let i = 0; i < w * h; i++) if (a[i]) px.set(s[i] < 1 ? [180, 150, 130] : inner(Math.floor(i / w)), 3 * i)
    const backdrop = new Float32Array(3 * w * h).fill(255)
    return { rgb: px, product: productColour(px, a, s, w, h), backdrop, signed: s }
  }

  it("takes the backdrop out of a rim that mixes it with the product's colour deeper in", () => {
    const { rgb: px, product, backdrop, signed: s } = square(() => [120, 70, 30])
    const rim = rimProduct(product, px, s, backdrop, w, h)
    const edge = 32 * w + 16
    expect([rim[3 * edge], rim[3 * edge + 1], rim[3 * edge + 2]].map(Math.round)).toEqual([120, 70, 30])
    // Read against the un-mixed colour, the rim is part product, part backdrop.
    expect(coverageOf(px, edge, rim, backdrop)).toBeCloseTo(0.55, 1)
    expect(rim[3 * (32 * w + 32)]).toBeNaN()
  })

  it('leaves a rim alone next to two colours of a print, or of a colour of its own', () => {
    const striped = square((y) => (y % 4 < 2 ? [120, 70, 30] : [20, 20, 90]))
    expect(rimProduct(striped.product, striped.rgb, striped.signed, striped.backdrop, w, h)[3 * (32 * w + 16)]).toBeNaN()
    const piped = square(() => [20, 120, 40])
    expect(rimProduct(piped.product, piped.rgb, piped.signed, piped.backdrop, w, h)[3 * (32 * w + 16)]).toBeNaN()
  })
})

describe('floor and outline direction', () => {
  it('puts the floor zone at the lowest 6 % of the product', () => {
    // The disc spans rows 17..47: round(47 − 0.06 × 30) = 45.
    expect(floorRow(alpha, w, h)).toBe(45)
    expect(floorRow(new Float32Array(w * h), w, h)).toBe(h)
  })

  it('tells the outline facing down (the floor) from the one facing up', () => {
    expect(facesDown(signed, 48 * w + 32, w, h)).toBe(true)
    expect(facesDown(signed, 16 * w + 32, w, h)).toBe(false)
    expect(facesDown(signed, 32 * w + 48, w, h)).toBe(false)
  })
})
