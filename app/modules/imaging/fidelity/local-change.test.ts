import { describe, expect, it } from 'vitest'
import { rng } from '#test/fixtures/product-images.ts'
import { blurredLab, changedPatches, changeMap, CHANGED_DE } from './local-change.ts'

const W = 96
const H = 80

/** A woven fabric: a base colour with ±6 levels of grain, a stripe print, all product (signed = 20 everywhere inside a 4 px frame). */
function fabric(seed: number): { rgb: Uint8Array; signed: Float32Array } {
  const random = rng(seed)
  const rgb = new Uint8Array(W * H * 3)
  const signed = new Float32Array(W * H)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x
      const stripe = Math.floor(x / 12) % 2 === 0
      const grain = Math.round((random() - 0.5) * 12)
      const base = stripe ? [40, 60, 120] : [225, 220, 205]
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.max(0, Math.min(255, base[c] + grain))
      signed[i] = Math.min(x, y, W - 1 - x, H - 1 - y) - 3
    }
  }
  return { rgb, signed }
}

function paint(rgb: Uint8Array, x0: number, y0: number, size: number, colour: [number, number, number]): void {
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) rgb.set(colour, 3 * (y * W + x))
}

function patchesOf(src: Uint8Array, res: Uint8Array, signed: Float32Array) {
  const s = blurredLab(src, W, H)
  const r = blurredLab(res, W, H, 'test.res')
  return changedPatches(changeMap(s, r, signed, W, H), s, r, W, H)
}

describe('local change', () => {
  it('finds nothing between two weaves of the same fabric, shifted by a pixel', () => {
    const a = fabric(1)
    const b = fabric(2)
    const shifted = new Uint8Array(b.rgb.length)
    // the print moved one pixel right: a resampler's or an aligner's leftover
    for (let y = 0; y < H; y++) shifted.set(b.rgb.subarray(3 * y * W, 3 * (y * W + W - 1)), 3 * (y * W + 1))
    expect(patchesOf(a.rgb, shifted, a.signed)).toEqual([])
  })

  it('finds a button that is gone, where it was', () => {
    const { rgb, signed } = fabric(3)
    const withButton = rgb.slice()
    paint(withButton, 54, 30, 7, [250, 248, 240])
    const [worst] = patchesOf(withButton, rgb, signed)
    expect(worst.box.left).toBeGreaterThanOrEqual(50)
    expect(worst.box.left + worst.box.width).toBeLessThanOrEqual(64)
    expect(worst.box.top).toBeGreaterThanOrEqual(26)
    expect(worst.meanDeltaE).toBeGreaterThan(CHANGED_DE)
    expect(worst.lightness).toBeGreaterThan(worst.chroma)
  })

  it('tells a recoloured print element by its hue', () => {
    const { rgb, signed } = fabric(4)
    const src = rgb.slice()
    paint(src, 30, 30, 10, [200, 40, 60])
    const res = rgb.slice()
    paint(res, 30, 30, 10, [200, 60, 120])
    const [worst] = patchesOf(src, res, signed)
    expect(worst.chroma).toBeGreaterThan(2 * worst.lightness)
    expect(worst.area).toBeGreaterThan(30)
  })

  it('ignores a colour shift of the whole interior (the colour blocks read that)', () => {
    const { rgb, signed } = fabric(5)
    const warmer = rgb.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 6) : v))
    expect(patchesOf(rgb, warmer, signed)).toEqual([])
  })
})
