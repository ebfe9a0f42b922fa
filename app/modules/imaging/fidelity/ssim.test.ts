import { describe, expect, it } from 'vitest'
import { INTERIOR } from './grid.ts'
import { ssimInterior } from './ssim.ts'

const w = 40
const h = 40
const texture = Float32Array.from({ length: w * h }, (_, i) => 128 + 60 * Math.sin(i % w) * Math.cos(Math.floor(i / w) / 2))
/** A square product: signed distance to its outline, 4 px in from the plane's border. */
const signed = Float32Array.from({ length: w * h }, (_, i) => Math.min(i % w, Math.floor(i / w), w - 1 - (i % w), h - 1 - Math.floor(i / w)) - 4)

describe('ssimInterior', () => {
  it('is 1 for the same interior, whatever lies outside it', () => {
    expect(ssimInterior(texture, texture, signed, w, h)).toBeCloseTo(1, 9)
    const outsideChanged = texture.map((v, i) => (signed[i] < INTERIOR ? 255 - v : v))
    expect(ssimInterior(texture, outsideChanged, signed, w, h)).toBeCloseTo(1, 9)
  })

  it('falls for a flattened or a noisy interior', () => {
    const flat = new Float32Array(w * h).fill(128)
    expect(ssimInterior(texture, flat, signed, w, h)).toBeLessThan(0.3)
    let seed = 7
    const noisy = texture.map((v) => {
      seed = (seed * 48271) % 2147483647
      return v + ((seed / 2147483647) - 0.5) * 80
    })
    const s = ssimInterior(texture, noisy, signed, w, h)
    expect(s).toBeLessThan(0.9)
    expect(s).toBeGreaterThan(0.3)
  })

  it('is 1 when no window fits inside the product', () => {
    const thin = new Float32Array(w * h).fill(-1)
    expect(ssimInterior(texture, new Float32Array(w * h), thin, w, h)).toBe(1)
  })
})
