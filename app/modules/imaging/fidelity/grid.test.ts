import { describe, expect, it } from 'vitest'
import { DETAIL_EDGE, HEAT_CELLS, cellGrid, gridRegions, luma, maskOnGrid, windowGrid } from './grid.ts'

const placement = (x: number, y: number, scale: number, crop: { left: number; top: number; width: number; height: number }) => ({ x, y, scale, crop })

describe('gridRegions', () => {
  it('adds a margin of scene round the placed product, where the source has pixels', () => {
    const r = gridRegions(placement(50, 50, 1, { left: 100, top: 100, width: 200, height: 300 }), { width: 400, height: 500 }, { width: 400, height: 600 })!
    // margin = round(3 % of 300) + 4 = 13 px on every side.
    expect(r.result).toEqual({ left: 37, top: 37, width: 226, height: 326 })
    expect(r.source).toEqual({ left: 87, top: 87, width: 226, height: 326 })
    expect([r.width, r.height]).toEqual([226, 326])
  })

  it('stops at the source photo and at the frame', () => {
    // The whole photo is placed: there is no scene of the source beyond it to add.
    const r = gridRegions(placement(100, 50, 0.5, { left: 0, top: 0, width: 400, height: 600 }), { width: 600, height: 800 }, { width: 400, height: 600 })!
    expect(r.result).toEqual({ left: 100, top: 50, width: 200, height: 300 })
    expect(r.source).toEqual({ left: 0, top: 0, width: 400, height: 600 })
  })

  it('keeps the grid within DETAIL_EDGE px, and gives up on a product too small to see', () => {
    const big = gridRegions(placement(0, 0, 4, { left: 0, top: 0, width: 400, height: 600 }), { width: 1600, height: 2400 }, { width: 400, height: 600 })!
    expect(Math.max(big.width, big.height)).toBe(DETAIL_EDGE)
    expect(gridRegions(placement(0, 0, 0.01, { left: 0, top: 0, width: 400, height: 600 }), { width: 100, height: 100 }, { width: 400, height: 600 })).toBeUndefined()
  })
})

describe('maskOnGrid', () => {
  it('samples the mask at the grid pixel centres, 0..1', () => {
    const mask = { data: Buffer.alloc(8 * 4), width: 8, height: 4, channels: 1 as const }
    for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) mask.data[y * 8 + x] = 255
    const a = maskOnGrid(mask, { width: 8, height: 4 }, { left: 0, top: 0, width: 8, height: 4 }, 4, 2)
    expect(Array.from(a)).toEqual([0, 0, 1, 1, 0, 0, 1, 1])
  })
})

describe('cells and luma', () => {
  it('puts every grid pixel in one of HEAT_CELLS² cells', () => {
    const g = cellGrid(100, 50)
    expect(g.colOf[0]).toBe(0)
    expect(g.colOf[99]).toBe(HEAT_CELLS - 1)
    expect(g.rowOf[49]).toBe(HEAT_CELLS * (HEAT_CELLS - 1))
    expect(new Set(g.colOf).size).toBe(HEAT_CELLS)
  })

  it('counts windows of a side overlapping by half', () => {
    expect(windowGrid(64, 40, 16)).toMatchObject({ cols: 7, rows: 4 })
  })

  it('weighs RGB as Rec. 601 luma', () => {
    expect(Array.from(luma(Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 255]), 3)).map((v) => Math.round(v * 1000) / 1000)).toEqual([255, 76.245, 29.07])
  })
})
