import { describe, expect, it } from 'vitest'
import { mediaIds, productGid } from './product-payload.ts'

describe('the product webhook body', () => {
  it('names the product by its gid, or builds it from the numeric id', () => {
    expect(productGid({ id: 1, admin_graphql_api_id: 'gid://shopify/Product/1' })).toBe('gid://shopify/Product/1')
    expect(productGid({ id: 42 })).toBe('gid://shopify/Product/42')
    expect(productGid({})).toBeNull()
  })

  it('lists image media only, and falls back to images on bodies without media', () => {
    const media = [
      { admin_graphql_api_id: 'gid://shopify/MediaImage/1', media_content_type: 'IMAGE' },
      { admin_graphql_api_id: 'gid://shopify/Video/2', media_content_type: 'VIDEO' },
    ]
    expect(mediaIds({ media })).toEqual(['gid://shopify/MediaImage/1'])
    expect(mediaIds({ media: [], images: [{ admin_graphql_api_id: 'gid://shopify/ProductImage/3' }] })).toEqual([])
    expect(mediaIds({ images: [{ admin_graphql_api_id: 'gid://shopify/ProductImage/3' }] })).toEqual([
      'gid://shopify/ProductImage/3',
    ])
  })
})
