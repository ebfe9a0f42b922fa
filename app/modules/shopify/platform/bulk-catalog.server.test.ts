import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { bulkCatalogQuery, jsonlCatalogImages } from './bulk-catalog.server.ts'
import type { CatalogImage } from '#app/modules/platforms/types.ts'

async function* linesOf(rows: unknown[]): AsyncGenerator<string> {
  for (const row of rows) yield typeof row === 'string' ? row : JSON.stringify(row)
}

async function collect(rows: unknown[]) {
  const stats = { products: 0, media: 0, skipped: 0, orphans: 0 }
  const out: CatalogImage[] = []
  for await (const image of jsonlCatalogImages(linesOf(rows), stats)) out.push(image)
  return { out, stats }
}

const P = (n: number) => `gid://shopify/Product/${n}`
const M = (n: number) => `gid://shopify/MediaImage/${n}`
const image = (n: number, parent: number, extra: Record<string, unknown> = {}) => ({
  id: M(n),
  mediaContentType: 'IMAGE',
  status: 'READY',
  image: { url: `https://cdn.shopify.com/s/files/1/0/files/photo-${n}.jpg?v=1` },
  __parentId: P(parent),
  ...extra,
})

describe('bulk-operation JSONL to catalog images', () => {
  it('joins media to products by __parentId, wherever the rows are', async () => {
    const { out, stats } = await collect([
      { id: P(1), title: 'Tote' },
      { id: P(2), title: 'Shirt, "linen"' },
      image(11, 1),
      image(21, 2),
      image(12, 1),
      // A child before its parent (Shopify promises no order): kept until the end.
      image(31, 3),
      { id: P(3), title: 'Dress' },
      '',
    ])
    expect(out).toEqual([
      { productRef: P(1), productTitle: 'Tote', imageRef: M(11) },
      { productRef: P(2), productTitle: 'Shirt, "linen"', imageRef: M(21) },
      { productRef: P(1), productTitle: 'Tote', imageRef: M(12) },
      { productRef: P(3), productTitle: 'Dress', imageRef: M(31) },
    ])
    expect(stats).toEqual({ products: 3, media: 4, skipped: 0, orphans: 0 })
  })

  it('skips videos, images not READY, images Atelier published, and media without a product', async () => {
    const { out, stats } = await collect([
      { id: P(1), title: 'Tote' },
      { id: 'gid://shopify/Video/5', mediaContentType: 'VIDEO', status: 'READY', __parentId: P(1) },
      image(2, 1, { status: 'PROCESSING', image: null }),
      image(3, 1, { image: { url: 'https://cdn.shopify.com/files/atelier-0b1f3c1e-8f6a-4d2b-9a53-2a8f0c4b7e11_5c1d.jpg?v=2' } }),
      image(4, 1),
      image(5, 99),
    ])
    expect(out.map((i) => i.imageRef)).toEqual([M(4)])
    expect(stats).toMatchObject({ skipped: 3, orphans: 1 })
  })

  it('refuses a line that is not JSON (a truncated download) as retryable', async () => {
    await expect(collect([{ id: P(1), title: 'Tote' }, '{"id": "gid://shopify/Media'])).rejects.toMatchObject({
      code: 'SHOPIFY_UNAVAILABLE',
      retryable: true,
    })
  })
})

describe('the bulk catalog query', () => {
  it('is valid GraphQL with the merchant’s search as a string literal', () => {
    expect(bulkCatalogQuery({ kind: 'all' })).toContain('products {')
    const q = bulkCatalogQuery({ kind: 'query', query: 'wool "scarf" \\ x' })
    expect(() => parse(q)).not.toThrow()
    expect(q).toContain('products(query: "title:wool* AND title:scarf* AND title:\\\\\\\\* AND title:x*")')
    expect(bulkCatalogQuery({ kind: 'collection', collectionId: 'gid://shopify/Collection/42' })).toContain(
      'products(query: "collection_id:42")',
    )
  })
})
