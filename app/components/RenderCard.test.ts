import { describe, expect, it } from 'vitest'
import { translator } from '#app/lib/i18n.ts'
import { verdict } from './RenderCard.tsx'

describe('the fidelity verdict', () => {
  it('says the product is unchanged, or names the strongest reason it may not be, in words', () => {
    const en = translator('en')
    expect(verdict({ reasons: [] }, false, en)).toBe('Product unchanged')
    expect(verdict({ reasons: ['edge_changed', 'colour_shifted'] }, true, en)).toMatch(/^[A-Z]/)
    expect(verdict({ reasons: ['colour_shifted'] }, true, en)).toBe('Colour shifted')
    expect(verdict({ reasons: [] }, true, en)).toBe('Product may have changed')
    expect(verdict({ reasons: [] }, false, translator('zh-CN'))).toBe('商品未改变')
  })
})
