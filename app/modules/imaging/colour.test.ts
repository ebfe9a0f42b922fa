import { describe, expect, it } from 'vitest'
import { SRGB_TO_LINEAR, deltaE2000, deltaE2000Rgb, linearToSrgb8, srgbToLab, srgbToLabTabulated } from './colour.ts'

// Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, ΔE00 — all 34 pairs.
const SHARMA: Array<[number, number, number, number, number, number, number]> = [
  [50.0, 2.6772, -79.7751, 50.0, 0.0, -82.7485, 2.0425],
  [50.0, 3.1571, -77.2803, 50.0, 0.0, -82.7485, 2.8615],
  [50.0, 2.8361, -74.02, 50.0, 0.0, -82.7485, 3.4412],
  [50.0, -1.3802, -84.2814, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -1.1848, -84.8006, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -0.9009, -85.5211, 50.0, 0.0, -82.7485, 1.0],
  [50.0, 0.0, 0.0, 50.0, -1.0, 2.0, 2.3669],
  [50.0, -1.0, 2.0, 50.0, 0.0, 0.0, 2.3669],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0009, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.001, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0011, 7.2195],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0012, 7.2195],
  [50.0, -0.001, 2.49, 50.0, 0.0009, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.001, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.0011, -2.49, 4.7461],
  [50.0, 2.5, 0.0, 50.0, 0.0, -2.5, 4.3065],
  [50.0, 2.5, 0.0, 73.0, 25.0, -18.0, 27.1492],
  [50.0, 2.5, 0.0, 61.0, -5.0, 29.0, 22.8977],
  [50.0, 2.5, 0.0, 56.0, -27.0, -3.0, 31.903],
  [50.0, 2.5, 0.0, 58.0, 24.0, 15.0, 19.4535],
  [50.0, 2.5, 0.0, 50.0, 3.1736, 0.5854, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2972, 0.0, 1.0],
  [50.0, 2.5, 0.0, 50.0, 1.8634, 0.5757, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2592, 0.335, 1.0],
  [60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644],
  [63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.263],
  [61.2901, 3.7196, -5.3901, 61.4292, 2.248, -4.962, 1.8731],
  [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
  [22.7233, 20.0904, -46.694, 23.0331, 14.973, -42.5619, 2.0373],
  [36.4612, 47.858, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
  [90.8027, -2.0831, 1.441, 91.1528, -1.6435, 0.0447, 1.4441],
  [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
  [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
  [2.0776, 0.0795, -1.135, 0.9033, -0.0636, -0.5514, 0.9082],
]

describe('deltaE2000', () => {
  it.each(SHARMA.map((row, i) => [i + 1, ...row]))(
    'matches Sharma et al. pair %i to 4 decimals',
    (_n, L1, a1, b1, L2, a2, b2, expected) => {
      expect(deltaE2000(L1, a1, b1, L2, a2, b2).toFixed(4)).toBe(expected.toFixed(4))
    },
  )

  it('is symmetric and zero for identical colours', () => {
    for (const [L1, a1, b1, L2, a2, b2] of SHARMA) {
      expect(deltaE2000(L2, a2, b2, L1, a1, b1)).toBeCloseTo(deltaE2000(L1, a1, b1, L2, a2, b2), 10)
    }
    expect(deltaE2000(53, 80, 67, 53, 80, 67)).toBe(0)
  })
})

describe('sRGB → CIELAB (D65)', () => {
  const lab = (r: number, g: number, b: number): number[] => {
    const out = new Float64Array(3)
    srgbToLab(r, g, b, out)
    return [...out]
  }

  it('maps white, black and mid grey onto the neutral axis', () => {
    const [L, a, b] = lab(255, 255, 255)
    expect(L).toBeCloseTo(100, 2)
    expect(Math.abs(a)).toBeLessThan(0.01)
    expect(Math.abs(b)).toBeLessThan(0.01)
    expect(lab(0, 0, 0)[0]).toBeCloseTo(0, 6)
    expect(lab(119, 119, 119)[0]).toBeCloseTo(50.03, 1)
  })

  it('matches reference Lab values of the sRGB primaries', () => {
    const close = (got: number[], want: number[]): void => got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 1))
    close(lab(255, 0, 0), [53.24, 80.09, 67.2])
    close(lab(0, 255, 0), [87.73, -86.18, 83.18])
    close(lab(0, 0, 255), [32.3, 79.19, -107.86])
  })

  it('decodes and re-encodes every sRGB code value exactly', () => {
    for (let v = 0; v < 256; v++) expect(linearToSrgb8(SRGB_TO_LINEAR[v])).toBe(v)
  })

  it('measures a just-noticeable difference near 1 for close greys', () => {
    expect(deltaE2000Rgb([128, 128, 128], [129, 129, 129])).toBeLessThan(1)
    expect(deltaE2000Rgb([128, 128, 128], [131, 131, 131])).toBeGreaterThan(1)
  })
})

describe('sRGB → CIELAB from the tabulated f(t)', () => {
  it('stays within 0.01 (L*, a*, b*) of the exact conversion over the whole cube', () => {
    const exact = new Float64Array(3)
    const tabulated = new Float64Array(3)
    let worst = 0
    for (let r = 0; r < 256; r += 5)
      for (let g = 0; g < 256; g += 5)
        for (let b = 0; b < 256; b += 5) {
          srgbToLab(r, g, b, exact)
          srgbToLabTabulated(r, g, b, tabulated)
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(exact[c] - tabulated[c]))
        }
    expect(worst).toBeLessThan(0.01)
    expect(worst).toBeGreaterThan(0)
  })
})
