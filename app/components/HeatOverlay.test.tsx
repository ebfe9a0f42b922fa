import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { HeatOverlay, hotArea, type FidelityHeat } from './HeatOverlay.tsx'

// A 4×4 grid over the product's rectangle (200, 100)–(600, 500) of an 800×1000 render.
const cells: FidelityHeat = {
  cols: 4,
  rows: 4,
  rect: { left: 200, top: 100, width: 400, height: 400 },
  cells: [-1, 0, 0.1, -1, 0, 0.9, 0.2, 0, 0, 0.49, 0.5, 0, -1, 0, 0, -1],
}

// The same rectangle as a 200×200 grid map (a 1×1 grey PNG stands in for it).
const map: FidelityHeat = {
  width: 200,
  height: 200,
  rect: { left: 200, top: 100, width: 400, height: 400 },
  url: '/media/heat/00000000-0000-4000-8000-000000000000?exp=1&sig=x',
  hot: 1234,
}

describe('HeatOverlay', () => {
  it('marks the stored cells at or past the visible threshold, in the render’s pixels', () => {
    expect(hotArea(cells)).toBe(2)
    expect(hotArea(null)).toBe(0)
    const html = renderToStaticMarkup(
      createElement(HeatOverlay, { heat: cells, width: 800, height: 1000, label: 'Where the product changed' }),
    )
    expect(html).toContain('viewBox="0 0 800 1000"')
    expect(html).toContain('preserveAspectRatio="xMidYMid slice"')
    const boxes = [...html.matchAll(/<rect data-heat-cell="(\d+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)]
    // Cell 5 = column 1, row 1: (300, 200), 100 px square; cell 10 = column 2, row 2: (400, 300).
    expect(boxes.map((m) => m.slice(1).map(Number))).toEqual([
      [5, 300, 200, 100, 100],
      [10, 400, 300, 100, 100],
    ])
    expect(html).toContain('aria-label="Where the product changed"')
  })

  it('draws a pixel map over its rectangle through a threshold filter, fitted like the image under it', () => {
    expect(hotArea(map)).toBe(1234)
    const html = renderToStaticMarkup(
      createElement(HeatOverlay, { heat: map, width: 800, height: 1000, label: 'Where', fit: 'contain' }),
    )
    expect(html).toContain('preserveAspectRatio="xMidYMid meet"')
    const image =
      /<image href="([^"]+)" x="200" y="100" width="400" height="400" preserveAspectRatio="none" filter="url\(#([^)]+)\)"/.exec(
        html,
      )
    expect(image?.[1]).toBe((map as { url: string }).url.replace(/&/g, '&amp;'))
    expect(html).toContain(`<filter id="${image?.[2]}"`)
    // Grey at or past half (heat 0.5) is drawn, below it nothing.
    expect(html).toContain('<feFuncA type="discrete" tableValues="0 1"></feFuncA>')
  })
})
