import { beforeAll, describe, expect, it } from 'vitest'
import { H, W, fidelityFixture, raw, type FidelityFixture } from '#test/support/fidelity-render.ts'
import { align, isStill, solve4, warpRgb } from './alignment.ts'

/** A smooth textured luma plane, sampled at any (x, y). */
const texture = (x: number, y: number): number => 128 + 50 * Math.sin(x / 6) * Math.cos(y / 9) + 30 * Math.sin((x + y) / 11)

function plane(width: number, height: number, at: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(width * height)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = at(x, y)
  return out
}

describe('align', () => {
  const N = 128
  const everywhere = new Float32Array(N * N).fill(10)
  const template = plane(N, N, texture)

  it('finds a shift of the result against the template', () => {
    const moved = plane(N, N, (x, y) => texture(x - 3, y + 2))
    const m = align(template, moved, everywhere, N, N)
    expect(m.tx).toBeCloseTo(3, 1)
    expect(m.ty).toBeCloseTo(-2, 1)
    expect(m.s).toBeCloseTo(1, 3)
  })

  it('finds a rescale about the grid centre', () => {
    const c = (N - 1) / 2
    const bigger = plane(N, N, (x, y) => texture(c + (x - c) / 1.02, c + (y - c) / 1.02))
    const m = align(template, bigger, everywhere, N, N)
    expect(m.s).toBeCloseTo(1.02, 2)
    expect(Math.abs(m.tx)).toBeLessThan(0.2)
  })

  it('finds no motion on the template itself, and ignores pixels outside the weighted region', () => {
    expect(isStill(align(template, template, everywhere, N, N), N, N)).toBe(true)
    // Outside the product (signed < −6) the result may be anything: a new scene.
    const signed = plane(N, N, (x) => (x < N / 2 ? 10 : -20))
    const newScene = plane(N, N, (x, y) => (x < N / 2 ? texture(x, y) : 255 - texture(y, x)))
    expect(isStill(align(template, newScene, signed, N, N), N, N)).toBe(true)
  })
})

describe('isStill', () => {
  it('is true only when no grid pixel moves by 1/20 px or more', () => {
    expect(isStill({ s: 1, tx: 0.04, ty: -0.04 }, 512, 512)).toBe(true)
    expect(isStill({ s: 1, tx: 0.06, ty: 0 }, 512, 512)).toBe(false)
    // A scale of 1.0002 moves the corners of a 512 px grid by 0.05 px.
    expect(isStill({ s: 1.0002, tx: 0, ty: 0 }, 512, 512)).toBe(false)
    expect(isStill({ s: 1.0002, tx: 0, ty: 0 }, 64, 64)).toBe(true)
  })
})

describe('solve4', () => {
  it('solves a 4×4 system that needs pivoting, and refuses a singular one', () => {
    const A = Float64Array.from([0, 2, 1, 0, 1, 0, 0, 3, 4, 1, 0, 0, 0, 0, 5, 1])
    const x = [1, -2, 0.5, 3]
    const b = Float64Array.from([0, 1, 2, 3].map((r) => [0, 1, 2, 3].reduce((s, c) => s + A[r * 4 + c] * x[c], 0)))
    const got = solve4(A, b)!
    for (let k = 0; k < 4; k++) expect(got[k]).toBeCloseTo(x[k], 9)
    const singular = Float64Array.from([1, 2, 3, 4, 2, 4, 6, 8, 0, 1, 0, 0, 0, 0, 1, 0])
    expect(solve4(singular, b)).toBeUndefined()
  })
})

describe('warpRgb', () => {
  const w = 6
  const h = 4
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 251)

  it('leaves the image as it is for no motion', () => {
    expect(Array.from(warpRgb(rgb, w, h, { s: 1, tx: 0, ty: 0 }))).toEqual(Array.from(rgb))
  })

  it('reads each pixel one to the right for tx = 1, clamped at the edge', () => {
    const out = Array.from(warpRgb(rgb, w, h, { s: 1, tx: 1, ty: 0 }))
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = y * w + Math.min(w - 1, x + 1)
        expect(out.slice(3 * (y * w + x), 3 * (y * w + x) + 3)).toEqual(Array.from(rgb.subarray(3 * from, 3 * from + 3)))
      }
    }
  })
})

describe('alignment on a render', () => {
  let fx: FidelityFixture
  beforeAll(async () => {
    fx = await fidelityFixture()
  })

  it('lets a model-swap-like move (2 px) and rescale (1.5 %) through, and finds the move', async () => {
    const moved = await raw(
      fx
        .fromClean()
        .extend({ left: 2, top: 0, right: 0, bottom: 0, extendWith: 'copy' })
        .extract({ left: 0, top: 0, width: W, height: H }),
    )
    const m = await fx.measure(moved)
    expect(m.score).toBeGreaterThanOrEqual(90)
    expect(m.alignment?.dx).toBeCloseTo(2, 0)
    // The report's SSIM and ΔE are the aligned ones: the move is not a change to them either.
    expect(m.ssim).toBe(m.interiorSsim)
    expect(m.deltaEMean).toBe(m.matchedDeltaEMean)

    const bigger = Math.round(W * 1.015)
    const scaled = await raw(
      fx
        .fromClean()
        .resize(bigger, Math.round(H * 1.015), { kernel: 'lanczos3' })
        .extract({ left: Math.round((bigger - W) / 2), top: Math.round((H * 1.015 - H) / 2), width: W, height: H }),
    )
    const s = await fx.measure(scaled)
    expect(s.score).toBeGreaterThanOrEqual(85)
    expect(s.alignment?.scale).toBeGreaterThan(1.005)
  })
})
