import { describe, expect, it } from 'vitest'
import { VISIBLE, detailScore } from './score.ts'

describe('detailScore', () => {
  const perfect = { interiorSsim: 1, matchedDeltaEMean: 0, matchedDeltaEP95: 0, edgeScore: 1, detailRatio: 1 }

  it('is 100 for a perfect match and exactly 70 with one part at its visible threshold', () => {
    expect(detailScore(perfect, 1)).toBe(100)
    expect(detailScore({ ...perfect, interiorSsim: VISIBLE.ssim }, 1)).toBe(70)
    expect(detailScore({ ...perfect, matchedDeltaEMean: VISIBLE.deltaE }, 1)).toBe(70)
    expect(detailScore({ ...perfect, matchedDeltaEP95: 2 * VISIBLE.deltaE }, 1)).toBe(70)
    expect(detailScore({ ...perfect, edgeScore: VISIBLE.edgeScore }, 1)).toBe(70)
    expect(detailScore({ ...perfect, detailRatio: VISIBLE.detailRatio }, 1)).toBe(70)
  })

  it('costs next to nothing below half the threshold and falls steeply past it', () => {
    expect(detailScore({ ...perfect, matchedDeltaEMean: 1, edgeScore: 0.9, detailRatio: 0.875 }, 1)).toBeGreaterThanOrEqual(99)
    expect(detailScore({ ...perfect, matchedDeltaEMean: 2.6 }, 1)).toBeLessThan(25)
    // Four parts each at 80 % of their threshold together still pass the default gate.
    const near = {
      interiorSsim: 1 - 0.8 * 0.15,
      matchedDeltaEMean: 1.6,
      matchedDeltaEP95: 0,
      edgeScore: 1 - 0.8 * 0.2,
      detailRatio: 1 - 0.8 * 0.25,
    }
    expect(detailScore(near, 1)).toBeGreaterThan(70)
    expect(detailScore(perfect, 0.8)).toBeLessThan(60)
  })
})
