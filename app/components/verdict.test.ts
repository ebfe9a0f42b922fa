import { describe, expect, it } from 'vitest'
import { translator } from '#app/lib/i18n.ts'
import { placeOf, verdict } from './verdict.ts'

describe('the fidelity verdict', () => {
  it('says the product is unchanged, or names the strongest reason it may not be, in words', () => {
    const en = translator('en')
    expect(verdict({ reasons: [] }, false, en)).toBe('Product unchanged')
    expect(verdict({ reasons: ['edge_changed', 'colour_shifted'] }, true, en)).toMatch(/^[A-Z]/)
    expect(verdict({ reasons: ['colour_shifted'] }, true, en)).toBe('Colour shifted')
    expect(verdict({ reasons: [] }, true, en)).toBe('Product may have changed')
    expect(verdict({ reasons: [] }, false, translator('zh-CN'))).toBe('商品未改变')
    expect(verdict({ reasons: ['edge_changed'], reasonPlaces: ['top_left'] }, true, en)).toBe(
      'Edge changed at the top left of the product',
    )
    expect(verdict({ reasons: ['colour_shifted'], reasonPlaces: ['whole'] }, true, translator('zh-CN'))).toBe('整件商品颜色偏移')
  })

  it('places a region on the product, in thirds of the product’s own box', () => {
    const product = { x: 0.2, y: 0.1, width: 0.6, height: 0.8 }
    expect(placeOf({ x: 0.22, y: 0.12, width: 0.05, height: 0.05 }, product)).toBe('top_left')
    expect(placeOf({ x: 0.45, y: 0.45, width: 0.1, height: 0.1 }, product)).toBe('centre')
    expect(placeOf({ x: 0.7, y: 0.8, width: 0.05, height: 0.05 }, product)).toBe('bottom_right')
    expect(placeOf({ x: 0.2, y: 0.1, width: 0.5, height: 0.7 }, product)).toBe('whole')
    expect(placeOf(undefined, product)).toBeNull()
    expect(placeOf({ x: 0.5, y: 0.5, width: 0.1, height: 0.1 }, null)).toBeNull()
  })
})
