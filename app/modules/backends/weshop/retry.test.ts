import { describe, expect, it } from 'vitest'
import { backoff } from './retry.ts'

describe('backoff', () => {
  it('doubles its ceiling per attempt up to the cap and draws from the upper half', () => {
    const range = { retryMinMs: 500, retryMaxMs: 8000 }
    expect([1, 2, 3, 4, 5, 6].map((n) => backoff(n, range, () => 1))).toEqual([500, 1000, 2000, 4000, 8000, 8000])
    expect(backoff(1, range, () => 0)).toBe(250)
    expect(backoff(6, range, () => 0)).toBe(4000)
  })
})
