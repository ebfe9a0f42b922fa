import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { HeatOverlay, hotCells, type FidelityHeat } from './HeatOverlay.tsx'

// A 4×4 grid over the product's rectangle (200, 100)–(600, 500) of an 800×1000 render.
const heat: FidelityHeat = {
  cols: 4,
  rows: 4,
  rect: { left: 200, top: 100, width: 400, height: 400 },
  cells: [-1, 0, 0.1, -1, 0, 0.9, 0.2, 0, 0, 0.49, 0.5, 0, -1, 0, 0, -1],
}

describe('HeatOverlay', () => {
  it('marks the cells at or past half the visible threshold, where they are on the render', () => {
    expect(hotCells(heat)).toBe(2)
    expect(hotCells(null)).toBe(0)
    const html = renderToStaticMarkup(createElement(HeatOverlay, { heat, width: 800, height: 1000, label: 'Where the product changed' }))
    const cells = [...html.matchAll(/data-heat-cell="(\d+)" style="([^"]+)"/g)].map((m) => ({ cell: Number(m[1]), style: m[2] }))
    expect(cells.map((c) => c.cell)).toEqual([5, 10])
    // Cell 5 = column 1, row 1: x = 200 + 100 = 300 px of 800, y = 100 + 100 = 200 px of 1000, 100 px square.
    expect(cells[0].style).toContain('left:37.5%')
    expect(cells[0].style).toContain('top:20%')
    expect(cells[0].style).toContain('width:12.5%')
    expect(cells[0].style).toContain('height:10%')
    // Cell 10 = column 2, row 2: x = 400 px, y = 300 px.
    expect(cells[1].style).toContain('left:50%')
    expect(cells[1].style).toContain('top:30%')
    expect(html).toContain('aria-label="Where the product changed"')
  })
})
