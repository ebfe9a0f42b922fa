import { describe, expect, it } from 'vitest'
import { boxBlur, dilate, erode, featherInward, openThenClose, removeSmallRegions } from './morphology.ts'

// Straightforward per-pixel definitions; the packed and run-based versions must agree with them.
function reference(mask: Uint8Array, w: number, h: number, r: number, erosion: boolean): Uint8Array {
  const out = new Uint8Array(mask.length)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let all = 1
      let any = 0
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const X = x + dx
          const Y = y + dy
          const v = X < 0 || Y < 0 || X >= w || Y >= h ? (erosion ? 1 : 0) : mask[Y * w + X]
          all &= v
          any |= v
        }
      }
      out[y * w + x] = erosion ? all : any
    }
  }
  return out
}

function randomMask(w: number, h: number, density: number, seed: number): Uint8Array {
  let s = seed
  return new Uint8Array(w * h).map(() => {
    s = (s * 1103515245 + 12345) >>> 0
    return s / 4294967296 < density ? 1 : 0
  })
}

// Widths straddle the 32-pixel word size on purpose.
const SHAPES: Array<[number, number]> = [
  [37, 23],
  [64, 10],
  [33, 33],
  [100, 7],
  [1, 5],
  [32, 1],
  [96, 40],
]

describe('binary morphology', () => {
  it.each(SHAPES)('erode and dilate match the per-pixel definition on %i×%i', (w, h) => {
    for (const r of [1, 2, 3]) {
      const mask = randomMask(w, h, 0.6, w * 31 + h + r)
      expect(erode(mask, w, h, r)).toEqual(reference(mask, w, h, r, true))
      expect(dilate(mask, w, h, r)).toEqual(reference(mask, w, h, r, false))
    }
  })

  it.each(SHAPES)('openThenClose is open(r) then close(r) on %i×%i', (w, h) => {
    const mask = randomMask(w, h, 0.55, w + h)
    const opened = reference(reference(mask, w, h, 1, true), w, h, 1, false)
    const closed = reference(reference(opened, w, h, 1, false), w, h, 1, true)
    expect(openThenClose(mask, w, h, 1)).toEqual(closed)
  })

  it('feathers inward: zeros stay zero, ones become their 3×3 share', () => {
    const w = 45
    const h = 20
    const mask = randomMask(w, h, 0.8, 5)
    const out = featherInward(mask, w, h)
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x
        if (mask[i] === 0) {
          expect(out[i]).toBe(0)
          continue
        }
        let count = 0
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const X = x + dx
            const Y = y + dy
            count += X < 0 || Y < 0 || X >= w || Y >= h ? 1 : mask[Y * w + X]
          }
        }
        expect(out[i]).toBe(((count * 255 + 4) / 9) | 0)
      }
    }
  })
})

describe('removeSmallRegions', () => {
  it('drops specks, keeps a pair of similar parts and diagonal links', () => {
    const w = 40
    const h = 20
    const mask = new Uint8Array(w * h)
    const rect = (x0: number, y0: number, x1: number, y1: number): void => {
      for (let y = y0; y < y1; y++) mask.fill(1, y * w + x0, y * w + x1)
    }
    rect(2, 2, 12, 12) // 100 px
    rect(25, 3, 34, 13) // 90 px: the other earring
    rect(12, 12, 13, 13) // touches the first one diagonally only
    rect(37, 17, 39, 19) // 4 px speck
    const kept = removeSmallRegions(mask, w, h, 10, 0.05)
    expect(kept).toBe(191)
    expect(mask[18 * w + 38]).toBe(0)
    expect(mask[12 * w + 12]).toBe(1)
    expect(mask[5 * w + 30]).toBe(1)
  })
})

describe('boxBlur', () => {
  it('keeps a flat plane flat and spreads a step over its window', () => {
    const w = 20
    const h = 3
    const plane = new Uint8Array(w * h)
    for (let y = 0; y < h; y++) plane.fill(200, y * w + 10, y * w + 20)
    const out = boxBlur(plane, w, h, 2)
    expect(out[1 * w + 2]).toBe(0)
    expect(out[1 * w + 17]).toBe(200)
    expect(out[1 * w + 9]).toBe(80)
    expect(out[1 * w + 10]).toBe(120)
    expect(boxBlur(new Uint8Array(50).fill(77), 10, 5, 3).every((v) => v === 77)).toBe(true)
  })
})
