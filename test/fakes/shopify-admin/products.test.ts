import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { gql, SHOP, startFake } from './test-helpers.ts'

let fake: ShopifyAdminFake

beforeAll(async () => {
  fake = await startFake()
})

afterAll(async () => {
  await fake.close()
})

const PAGE = `query Page($first: Int, $after: String, $last: Int, $before: String, $query: String, $sortKey: ProductSortKeys, $reverse: Boolean) {
  products(first: $first, after: $after, last: $last, before: $before, query: $query, sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id title } }
    nodes { title vendor status tags }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

interface Page {
  edges: { cursor: string; node: { id: string; title: string } }[]
  nodes: { title: string }[]
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }
}

async function titles(variables: Record<string, unknown>): Promise<string[]> {
  const res = await gql(fake, PAGE, variables)
  expect(res.body.errors).toBeUndefined()
  return res.body.data!.products.nodes.map((n: { title: string }) => n.title)
}

describe('products connection', () => {
  it('pages forward with cursors until hasNextPage is false', async () => {
    const seen: string[] = []
    let after: string | null = null
    for (let page = 0; page < 5; page++) {
      const res = await gql<{ products: Page }>(fake, PAGE, { first: 2, after, sortKey: 'TITLE' })
      const conn: Page = res.body.data!.products
      seen.push(...conn.nodes.map((n) => n.title))
      expect(conn.edges.at(-1)?.cursor ?? null).toBe(conn.pageInfo.endCursor)
      expect(conn.pageInfo.hasPreviousPage).toBe(page > 0)
      if (!conn.pageInfo.hasNextPage) break
      after = conn.pageInfo.endCursor
    }
    expect(seen).toEqual(['Canvas Tote', 'Linen Shirt', 'Silk Slip Dress', 'Sunday Graphic Tee', 'Wool Overcoat'])
  })

  it('pages backwards with last/before and sorts in reverse', async () => {
    const res = await gql(fake, PAGE, { last: 2, sortKey: 'TITLE' })
    const conn = res.body.data!.products
    expect(conn.nodes.map((n: { title: string }) => n.title)).toEqual(['Sunday Graphic Tee', 'Wool Overcoat'])
    expect(conn.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false })
    expect(await titles({ last: 2, before: conn.pageInfo.startCursor, sortKey: 'TITLE' })).toEqual([
      'Linen Shirt',
      'Silk Slip Dress',
    ])
    expect(await titles({ first: 1, sortKey: 'TITLE', reverse: true })).toEqual(['Wool Overcoat'])
  })

  it('needs first or last, and caps a page at 250', async () => {
    const missing = await gql(fake, '{ products { nodes { id } } }')
    expect(missing.body).toMatchObject({
      errors: [{ message: 'you must provide one of first or last', path: ['products'], extensions: { code: 'BAD_REQUEST' } }],
      data: null,
      extensions: { cost: { requestedQueryCost: 2 } },
    })
    const tooMany = await gql(fake, '{ products(first: 251) { nodes { id } } }')
    expect(tooMany.body.errors).toMatchObject([
      { message: 'The page size of 251 is greater than the maximum allowed of 250.', extensions: { code: 'BAD_REQUEST' } },
    ])
  })
})

describe('product search syntax', () => {
  it('combines vendor, product_type and status with AND', async () => {
    expect(await titles({ first: 10, query: 'vendor:Northfield AND product_type:T-Shirts AND status:active' })).toEqual([
      'Sunday Graphic Tee',
    ])
    expect(await titles({ first: 10, query: 'vendor:Northfield status:active,draft', sortKey: 'TITLE' })).toEqual([
      'Sunday Graphic Tee',
      'Wool Overcoat',
    ])
  })

  it('matches free text and title: on the title, tag: on tags, with negation and prefixes', async () => {
    expect(await titles({ first: 10, query: 'silk' })).toEqual(['Silk Slip Dress'])
    expect(await titles({ first: 10, query: 'title:"Slip Dress"' })).toEqual(['Silk Slip Dress'])
    expect(await titles({ first: 10, query: 'tag:cotton', sortKey: 'TITLE' })).toEqual(['Canvas Tote', 'Sunday Graphic Tee'])
    expect(await titles({ first: 10, query: 'tag:summer -status:archived' })).toEqual(['Sunday Graphic Tee'])
    expect(await titles({ first: 10, query: 'vendor:North*', sortKey: 'TITLE' })).toEqual([
      'Linen Shirt',
      'Sunday Graphic Tee',
      'Wool Overcoat',
    ])
  })

  it('filters by collection_id, numeric or gid', async () => {
    const evening = fake.state(SHOP).collections.find((c) => c.title === 'Evening')!
    const numeric = evening.id.split('/').pop()
    expect(await titles({ first: 10, query: `collection_id:${numeric}`, sortKey: 'TITLE' })).toEqual([
      'Canvas Tote',
      'Silk Slip Dress',
    ])
    expect(await titles({ first: 10, query: `collection_id:${numeric} AND vendor:"Maison Lune"` })).toEqual(['Silk Slip Dress'])
  })

  it('ignores an unknown field and says so in extensions.search, like Shopify', async () => {
    const res = await gql(fake, PAGE, { first: 10, query: 'sku:ABC vendor:"Atelier Goods"' })
    expect(res.body.data!.products.nodes.map((n: { title: string }) => n.title)).toEqual(['Canvas Tote'])
    expect(res.body.extensions?.search).toEqual([
      {
        path: ['products'],
        query: 'sku:ABC vendor:"Atelier Goods"',
        warnings: [{ field: 'sku', message: 'Invalid search field for this query.', code: 'invalid_field' }],
      },
    ])
  })
})

describe('single objects', () => {
  it('reads a product with its media, featuredMedia and a READY seed image on the CDN', async () => {
    const tote = fake.state(SHOP).products.find((p) => p.title === 'Canvas Tote')!
    const res = await gql(
      fake,
      `query($id: ID!) { product(id: $id) {
        id handle status tags featuredMedia { id }
        media(first: 5) { nodes { __typename id status mediaContentType ... on MediaImage { image { url width height } } } }
      } }`,
      { id: tote.id },
    )
    const product = res.body.data!.product
    expect(product).toMatchObject({
      id: tote.id,
      handle: 'canvas-tote',
      status: 'ACTIVE',
      tags: ['cotton'],
      featuredMedia: { id: tote.mediaIds[0] },
    })
    expect(product.media.nodes).toHaveLength(2)
    const image = product.media.nodes[0]
    expect(image).toMatchObject({
      __typename: 'MediaImage',
      status: 'READY',
      mediaContentType: 'IMAGE',
      image: { width: 64, height: 48 },
    })
    const cdn = await fetch(image.image.url)
    expect(cdn.headers.get('content-type')).toBe('image/jpeg')
  })

  it('resolves node, nodes and collection(id) { products }', async () => {
    const [tee] = fake.state(SHOP).products
    const summer = fake.state(SHOP).collections.find((c) => c.title === 'Summer')!
    const res = await gql(
      fake,
      `query($id: ID!, $ids: [ID!]!, $collection: ID!) {
        node(id: $id) { __typename id ... on Product { title } }
        nodes(ids: $ids) { id }
        collection(id: $collection) { title products(first: 10) { nodes { title } } }
      }`,
      { id: tee.id, ids: [tee.id, 'gid://shopify/Product/1'], collection: summer.id },
    )
    expect(res.body.data).toEqual({
      node: { __typename: 'Product', id: tee.id, title: 'Sunday Graphic Tee' },
      nodes: [{ id: tee.id }, null],
      collection: { title: 'Summer', products: { nodes: [{ title: 'Sunday Graphic Tee' }, { title: 'Silk Slip Dress' }] } },
    })
  })

  it('reads the shop and its plan', async () => {
    const res = await gql(fake, '{ shop { myshopifyDomain name plan { partnerDevelopment shopifyPlus } } }')
    expect(res.body.data!.shop).toEqual({
      myshopifyDomain: SHOP,
      name: 'atelier a',
      plan: { partnerDevelopment: false, shopifyPlus: false },
    })
  })

  it('rejects a malformed gid the way Shopify does', async () => {
    const res = await gql(fake, '{ product(id: "42") { id } }')
    expect(res.body.errors).toMatchObject([
      { message: "Invalid global id '42'", extensions: { code: 'argumentLiteralsIncompatible' } },
    ])
  })
})
