import { describe, expect, it } from 'vitest'
import type { RawImage } from './types.ts'
import { deltaE2000Rgb, type Rgb } from './colour.ts'
import {
  FRAMING_CENTRE,
  FRAMING_SCALE,
  MAX_UPSCALE,
  SIDE_MARGIN,
  compositeProduct,
  edgeMatte,
  localReach,
  placeProduct,
} from './compose.ts'
import { MAX_LIGHT_DELTA_E, lightMatch } from './light.ts'

const canvas = { width: 1000, height: 1000 }

describe('placeProduct', () => {
  it('gives the product productScale of the canvas height, bottom on floorY, centred', () => {
    const placed = placeProduct({ left: 50, top: 40, width: 300, height: 500 }, canvas, { productScale: 0.7, floorY: 0.9 })
    expect(placed.height).toBe(700)
    expect(placed.width).toBe(420)
    expect(placed.placement).toMatchObject({ scale: 1.4, x: 290, y: 200 })
  })

  it('never enlarges beyond MAX_UPSCALE', () => {
    const placed = placeProduct({ left: 0, top: 0, width: 100, height: 100 }, canvas, { productScale: 0.8, floorY: 0.9 })
    expect(placed.placement.scale).toBe(MAX_UPSCALE)
  })

  it('fits a wide product to the canvas width instead of cropping it', () => {
    const placed = placeProduct({ left: 0, top: 0, width: 2000, height: 500 }, canvas, { productScale: 0.8, floorY: 0.9 })
    expect(placed.width).toBeLessThanOrEqual(920)
    expect(placed.placement.x).toBeGreaterThanOrEqual(40)
  })

  it('keeps the top in frame when the floor is high', () => {
    const placed = placeProduct({ left: 0, top: 0, width: 200, height: 1000 }, canvas, { productScale: 0.95, floorY: 0.5 })
    expect(placed.placement.y).toBeGreaterThanOrEqual(0)
  })

  it('snaps a scale within a few percent of 1:1 to exactly 1:1', () => {
    const placed = placeProduct({ left: 10, top: 10, width: 600, height: 820 }, canvas, { productScale: 0.8, floorY: 0.9 })
    expect(placed.placement.scale).toBe(1)
    expect([placed.width, placed.height]).toEqual([600, 820])
  })
})

describe('placeProduct with a variant’s framing', () => {
  const crop = { left: 50, top: 40, width: 300, height: 500 }
  const scene = { productScale: 0.7, floorY: 0.9 }

  it('takes its share of the scene’s size, bottom still on the floor', () => {
    for (const size of ['wide', 'wider'] as const) {
      // why a large crop: scales under 1 here, none near enough to 1:1 to snap.
      const placed = placeProduct({ left: 0, top: 0, width: 600, height: 1000 }, canvas, scene, { position: 'centre', size })
      expect(placed.height).toBe(Math.round(700 * FRAMING_SCALE[size]))
      expect(placed.placement.y + placed.height).toBe(900)
      expect(placed.framing).toEqual({ position: 'centre', size })
    }
  })

  it('moves it left or right, keeping the side margin clear', () => {
    const left = placeProduct(crop, canvas, scene, { position: 'left', size: 'standard' })
    const right = placeProduct(crop, canvas, scene, { position: 'right', size: 'standard' })
    expect(left.placement.x).toBe(Math.round(1000 * FRAMING_CENTRE.left - 210))
    expect(right.placement.x).toBe(Math.round(1000 * FRAMING_CENTRE.right - 210))
    const wider = placeProduct(crop, canvas, scene, { position: 'left', size: 'wider' })
    expect(wider.placement.x).toBeGreaterThanOrEqual(1000 * SIDE_MARGIN)
    expect([left.framing.position, right.framing.position]).toEqual(['left', 'right'])
  })

  it('stays centred, and says so, when the product fills the width it may take', () => {
    const placed = placeProduct({ left: 0, top: 0, width: 2000, height: 500 }, canvas, scene, {
      position: 'left',
      size: 'standard',
    })
    expect(placed).toEqual({
      ...placeProduct({ left: 0, top: 0, width: 2000, height: 500 }, canvas, scene),
      framing: { position: 'centre', size: 'standard' },
    })
  })
})

describe('lightMatch', () => {
  it('is the identity at lightMatch 0', () => {
    const { tables, deltaE } = lightMatch([255, 200, 120], 0, [40, 60, 120])
    for (const table of tables) for (let v = 0; v < 256; v++) expect(table[v]).toBe(v)
    expect(deltaE).toBe(0)
  })

  it('warms the product toward a warm light but never by more than MAX_LIGHT_DELTA_E', () => {
    const mean: [number, number, number] = [40, 60, 120]
    const { tables, deltaE } = lightMatch([255, 150, 60], 0.3, mean)
    expect(deltaE).toBeLessThanOrEqual(MAX_LIGHT_DELTA_E + 1e-9)
    const apply = (c: [number, number, number]): [number, number, number] => [tables[0][c[0]], tables[1][c[1]], tables[2][c[2]]]
    const white = apply([245, 245, 245])
    expect(white[0]).toBeGreaterThan(white[2])
    for (const c of [[245, 245, 245], [128, 128, 128], mean] as Array<[number, number, number]>) {
      expect(deltaE2000Rgb(c, apply(c))).toBeLessThanOrEqual(MAX_LIGHT_DELTA_E + 0.05)
    }
  })
})

describe('compositeProduct', () => {
  const identity = lightMatch([255, 255, 255], 0, [0, 0, 0]).tables

  function scene(): Uint8Array {
    return new Uint8Array(20 * 10 * 3).fill(100)
  }

  it('copies solid product pixels exactly and leaves the rest of the canvas alone', () => {
    const product: RawImage = { data: new Uint8Array(8 * 4 * 3).fill(30), width: 8, height: 4, channels: 3 }
    const mask: RawImage = { data: new Uint8Array(8 * 4).fill(255), width: 8, height: 4, channels: 1 }
    const out = scene()
    const box = { left: 0, top: 0, width: 8, height: 4 }
    compositeProduct(
      out,
      20,
      10,
      { left: 5, top: 3, width: 8, height: 4 },
      { image: product, region: box },
      { image: mask, region: box },
      identity,
    )
    expect(out[(3 * 20 + 5) * 3]).toBe(30)
    expect(out[(6 * 20 + 12) * 3]).toBe(30)
    expect(out[(2 * 20 + 5) * 3]).toBe(100)
    expect(out[(3 * 20 + 13) * 3]).toBe(100)
  })

  it('un-mixes an edge pixel from a known white backdrop instead of keeping a light halo', () => {
    // A navy product whose one-pixel edge is half navy, half white backdrop.
    const navy = [30, 50, 110]
    const white = [250, 250, 250]
    const half = navy.map((v, i) => Math.round((v + white[i]) / 2))
    const product: RawImage = { data: Uint8Array.from([...navy, ...half]), width: 2, height: 1, channels: 3 }
    const mask: RawImage = { data: Uint8Array.from([255, 128]), width: 2, height: 1, channels: 1 }
    const box = { left: 0, top: 0, width: 2, height: 1 }
    const out = new Uint8Array(2 * 1 * 3).fill(0)
    const matte = edgeMatte(white as [number, number, number], navy as [number, number, number])
    compositeProduct(out, 2, 1, box, { image: product, region: box }, { image: mask, region: box }, identity, matte)
    // On a black scene the edge pixel is half the product colour: no white left in it.
    const edge = [...out.subarray(3, 6)]
    edge.forEach((v, i) => expect(Math.abs(v - navy[i] / 2)).toBeLessThanOrEqual(3))
  })

  it('keeps the edge of a light part opaque on a product that is mostly dark (local reach)', () => {
    // A navy-striped top's cream cuff: a row of navy, then cream up to the edge. The edge pixels are
    // cream through and through, but the product's overall colour is navy, far from the white backdrop.
    const navy: Rgb = [30, 50, 110]
    const cream: Rgb = [236, 230, 214]
    const white: Rgb = [250, 250, 250]
    const width = 12
    const row = [...Array(6).fill(navy), ...Array(6).fill(cream)].flat()
    const product: RawImage = { data: Uint8Array.from([...row, ...row, ...row]), width, height: 3, channels: 3 }
    // Solid everywhere but the last two columns, the mask's feathered edge.
    const maskRow = [...Array(10).fill(255), 160, 90]
    const mask: RawImage = { data: Uint8Array.from([...maskRow, ...maskRow, ...maskRow]), width, height: 3, channels: 1 }
    const box = { left: 0, top: 0, width, height: 3 }
    const brown = [90, 60, 40]
    const draw = (local?: Float32Array) => {
      const out = new Uint8Array(width * 3 * 3)
      for (let i = 0; i < out.length; i += 3) out.set(brown, i)
      const matte = edgeMatte(white, navy, local)
      compositeProduct(out, width, 3, box, { image: product, region: box }, { image: mask, region: box }, identity, matte)
      return out
    }
    const local = localReach(product, mask, white)
    expect(local[width + 10]).toBeCloseTo(Math.hypot(...cream.map((v, i) => v - white[i])), 3)
    // The navy side's reach is navy's, so nothing changes there.
    expect(local[width + 1]).toBe(-1)
    const before = draw()
    const after = draw(local)
    const at = (out: Uint8Array, x: number) => [...out.subarray((width + x) * 3, (width + x) * 3 + 3)]
    // With one reach for the whole product the cream edge is drawn mostly see-through (the brown shows);
    // with its own reach it is cream.
    expect(at(before, 10)[0]).toBeLessThan(200)
    at(after, 10).forEach((v, i) => expect(Math.abs(v - cream[i])).toBeLessThanOrEqual(4))
    // Never less product than before, anywhere.
    for (let x = 0; x < width; x++) expect(Math.abs(at(after, x)[0] - brown[0])).toBeGreaterThanOrEqual(Math.abs(at(before, x)[0] - brown[0]) - 1)
  })

  // The straightforward definition the run-based composite must match: every
  // output pixel takes its bilinear mask alpha and is blended on its own.
  function referenceComposite(
    out: Uint8Array,
    width: number,
    at: { left: number; top: number; width: number; height: number },
    product: RawImage,
    mask: RawImage,
    region: { left: number; top: number; width: number; height: number },
    matte: ReturnType<typeof edgeMatte>,
  ): void {
    const tap = (start: number, length: number, outLength: number, size: number, i: number): [number, number, number] => {
      const s = Math.min(size - 1, Math.max(0, start + (i + 0.5) * (length / outLength) - 0.5))
      const c = Math.min(Math.max(0, size - 2), Math.floor(s))
      return [c, Math.min(size - 1, c + 1), Math.round((s - c) * 256)]
    }
    for (let j = 0; j < at.height; j++) {
      const [y0, y1, fy] = tap(region.top, region.height, at.height, mask.height, j)
      for (let i = 0; i < at.width; i++) {
        const [x0, x1, fx] = tap(region.left, region.width, at.width, mask.width, i)
        const m = (y: number, x: number): number => mask.data[y * mask.width + x]
        const a = m(y0, x0) * (256 - fy) + m(y1, x0) * fy
        const b = m(y0, x1) * (256 - fy) + m(y1, x1) * fy
        const alpha = (a * (256 - fx) + b * fx) >> 16
        if (alpha === 0) continue
        const p = (j * product.width + i) * 3
        const o = ((at.top + j) * width + at.left + i) * 3
        const c = [product.data[p], product.data[p + 1], product.data[p + 2]]
        if (alpha >= 255) {
          out.set(c, o)
          continue
        }
        const d = Math.hypot(c[0] - matte.backdrop[0], c[1] - matte.backdrop[1], c[2] - matte.backdrop[2])
        const share = Math.min(1, (d - 6) / (matte.reach - 6))
        if (share <= 0.02) continue
        const w = Math.round(share * 255)
        for (let k = 0; k < 3; k++) {
          const f = Math.min(255, Math.max(0, Math.round(matte.backdrop[k] + (c[k] - matte.backdrop[k]) / share)))
          out[o + k] = w >= 255 ? f : out[o + k] + ((f - out[o + k]) * w) / 255
        }
      }
    }
  }

  it('matches the per-pixel definition on a noisy mask, solid runs, feathered edges and holes', () => {
    let seed = 7
    const random = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296
    const [mw, mh, pw, ph, cw, ch] = [37, 29, 97, 75, 120, 90]
    // Blobs of solid product with soft rims and a few holes, at mask resolution.
    const mask: RawImage = { data: new Uint8Array(mw * mh), width: mw, height: mh, channels: 1 }
    for (let y = 0; y < mh; y++) {
      for (let x = 0; x < mw; x++) {
        const r = Math.hypot((x - mw / 2) / (mw / 2.4), (y - mh / 2) / (mh / 2.4))
        const v = r < 0.8 ? 255 : r < 1 ? Math.round(255 * (1 - r) * 5) : 0
        mask.data[y * mw + x] = random() < 0.04 ? Math.floor(random() * 256) : v
      }
    }
    const product: RawImage = { data: new Uint8Array(pw * ph * 3), width: pw, height: ph, channels: 3 }
    for (let i = 0; i < product.data.length; i++) product.data[i] = Math.floor(random() * 256)
    const matte = edgeMatte([250, 250, 248], [40, 60, 120])
    const region = { left: 0.4, top: 0.3, width: mw - 1.1, height: mh - 0.7 }
    const at = { left: 11, top: 7, width: pw, height: ph }
    const expected = new Uint8Array(cw * ch * 3).fill(100)
    const actual = expected.slice()
    referenceComposite(expected, cw, at, product, mask, region, matte)
    const box = { left: 0, top: 0, width: pw, height: ph }
    compositeProduct(actual, cw, ch, at, { image: product, region: box }, { image: mask, region }, identity, matte)
    expect(actual).toEqual(expected)
  })
})
