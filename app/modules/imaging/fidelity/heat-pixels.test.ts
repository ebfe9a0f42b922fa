import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { H, W, fidelityFixture, type FidelityFixture } from '#test/support/fidelity-render.ts'
import type { FidelityReport } from '../types.ts'
import { boxSum } from './heat-pixels.ts'

let fx: FidelityFixture
beforeAll(async () => {
  fx = await fidelityFixture()
})

type HeatMap = NonNullable<FidelityReport['heatMap']>

/** The stored map's heat per grid pixel, and where grid pixel i lies on the result. */
async function decoded(map: HeatMap): Promise<{ heat: Float32Array; at: (i: number) => { x: number; y: number } }> {
  const grey = await sharp(Buffer.from(map.png, 'base64')).extractChannel(0).raw().toBuffer()
  expect(grey.length).toBe(map.width * map.height)
  const at = (i: number) => ({
    x: map.rect.left + ((i % map.width) + 0.5) * (map.rect.width / map.width),
    y: map.rect.top + (Math.floor(i / map.width) + 0.5) * (map.rect.height / map.height),
  })
  return { heat: Float32Array.from(grey, (v) => v / 255), at }
}

describe('heat map at grid resolution', () => {
  it('sums a plane over the square round each pixel, clipped at the borders', () => {
    const width = 7
    const height = 5
    const plane = Float32Array.from({ length: width * height }, (_, i) => (i * 37) % 11)
    const summed = boxSum(plane, width, height, 2, 'test.box')
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0
        for (let j = Math.max(0, y - 2); j <= Math.min(height - 1, y + 2); j++)
          for (let i = Math.max(0, x - 2); i <= Math.min(width - 1, x + 2); i++) s += plane[j * width + i]
        expect(summed[y * width + x]).toBeCloseTo(s, 4)
      }
    }
  })

  it('lights nothing on a faithful render, and only the recoloured patch on a changed one', async () => {
    const clean = (await fx.measure(fx.clean)).heatMap!
    expect(clean.hot).toBe(0)
    expect((await decoded(clean)).heat.every((v) => v < 0.5)).toBe(true)
    // A patch of the garment's lower left, a quarter of its width square, shifted in colour (ΔE ≈ 10).
    const from = fx.onResult(0.3, 0.62)
    const side = fx.onResult(0.45, 0.62).x - from.x
    const data = Uint8Array.from(fx.clean.data)
    for (let y = from.y; y < from.y + side; y++) {
      for (let x = from.x; x < from.x + side; x++) {
        const i = 3 * (y * W + x)
        data[i] = Math.min(255, data[i] + 30)
        data[i + 2] = Math.max(0, data[i + 2] - 20)
      }
    }
    const map = (await fx.measure({ data, width: W, height: H, channels: 3 })).heatMap!
    const { heat, at } = await decoded(map)
    const hot = [...heat.keys()].filter((i) => heat[i] >= 0.5)
    expect(hot.length).toBe(map.hot)
    // At the grid's resolution: the lit area is the patch's, not a 16-cell grid's (one cell here is ~18 result px).
    const patchOnGrid = (side * map.width) / map.rect.width
    expect(hot.length).toBeGreaterThan(0.5 * patchOnGrid ** 2)
    expect(hot.length).toBeLessThan(1.5 * (patchOnGrid + 8) ** 2)
    const margin = (8 * map.rect.width) / map.width
    for (const i of hot) {
      const { x, y } = at(i)
      expect(x).toBeGreaterThan(from.x - margin)
      expect(x).toBeLessThan(from.x + side + margin)
      expect(y).toBeGreaterThan(from.y - margin)
      expect(y).toBeLessThan(from.y + side + margin)
    }
  })

  it('lights a halo as a ring round the outline, not as boxes', async () => {
    // A light fringe ±2 px round the outline, as the golden set's edge_halo draws it.
    const alpha = fx.productAlpha()
    const data = Uint8Array.from(fx.clean.data)
    for (let y = 2; y < H - 2; y++) {
      for (let x = 2; x < W - 2; x++) {
        const a = alpha[y * W + x]
        let edge = false
        for (let d = -2; d <= 2 && !edge; d++)
          edge = alpha[y * W + x + d] >= 0.5 !== a >= 0.5 || alpha[(y + d) * W + x] >= 0.5 !== a >= 0.5
        if (!edge) continue
        for (let c = 0; c < 3; c++) data[3 * (y * W + x) + c] += Math.round(0.6 * (225 - data[3 * (y * W + x) + c]))
      }
    }
    const measured = await fx.measure({ data, width: W, height: H, channels: 3 })
    const map = measured.heatMap!
    expect(map.hot).toBeGreaterThan(0)
    const { heat, at } = await decoded(map)
    let onOutline = 0
    const quadrants = new Set<number>()
    const centre = fx.onResult(0.5, 0.5)
    for (let i = 0; i < heat.length; i++) {
      if (heat[i] < 0.5) continue
      const { x, y } = at(i)
      let near = false
      for (let dy = -5; dy <= 5 && !near; dy++)
        for (let dx = -5; dx <= 5 && !near; dx++) {
          const v = alpha[(Math.round(y) + dy) * W + Math.round(x) + dx]
          near = v !== undefined && Math.abs(v - 0.5) < 0.5
        }
      if (!near) continue
      onOutline++
      quadrants.add((x < centre.x ? 0 : 1) + (y < centre.y ? 0 : 2))
    }
    expect(onOutline / map.hot).toBeGreaterThan(0.9)
    expect(quadrants.size).toBe(4)
  })
})
