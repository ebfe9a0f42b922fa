import { describe, expect, it } from 'vitest'
import { searchQuery } from './query.ts'

describe('Shopify product search syntax', () => {
  it('turns words into title prefixes and filters into exact clauses', () => {
    expect(searchQuery({ search: 'linen shirt' })).toBe('title:linen* AND title:shirt*')
    expect(searchQuery({ vendor: 'Maison Lune', productType: 'Dresses', status: 'active' })).toBe(
      'vendor:"Maison Lune" AND product_type:"Dresses" AND status:active',
    )
    expect(searchQuery({ search: 'tee', collectionId: 'gid://shopify/Collection/42' })).toBe('title:tee* AND collection_id:42')
  })

  it('escapes the syntax’s special characters and drops empty filters', () => {
    expect(searchQuery({ search: 'a:b (c)' })).toBe('title:a\\:b* AND title:\\(c\\)*')
    expect(searchQuery({ vendor: 'Say "hi"' })).toBe('vendor:"Say \\"hi\\""')
    expect(searchQuery({ search: '  ', vendor: ' ' })).toBeNull()
  })
})
