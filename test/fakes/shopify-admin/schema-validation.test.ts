import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { API_VERSION, gql, SHOP, startFake } from './test-helpers.ts'

let fake: ShopifyAdminFake

beforeAll(async () => {
  fake = await startFake()
})

afterAll(async () => {
  await fake.close()
})

describe('requests are checked against the real 2026-10 schema', () => {
  it('rejects a field the Admin API does not have, the way Shopify words it', async () => {
    const res = await gql(fake, 'query ListProducts { products(first: 1) { nodes { id definitelyNotAField } } }')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      errors: [
        {
          message: "Field 'definitelyNotAField' doesn't exist on type 'Product'",
          locations: [{ line: 1, column: 54 }],
          path: ['query ListProducts', 'products', 'nodes', 'definitelyNotAField'],
          extensions: { code: 'undefinedField', typeName: 'Product', fieldName: 'definitelyNotAField' },
        },
      ],
    })
  })

  it('accepts a real productUpdate(media:) mutation and runs it', async () => {
    const productId = fake.state(SHOP).products[0].id
    const res = await gql(
      fake,
      `mutation Attach($product: ProductUpdateInput!, $media: [CreateMediaInput!]!) {
        productUpdate(product: $product, media: $media) {
          product { id media(first: 10) { nodes { id alt status mediaContentType } } }
          userErrors { field message }
        }
      }`,
      {
        product: { id: productId },
        media: [{ originalSource: `${fake.origin}/nowhere.jpg`, mediaContentType: 'IMAGE', alt: 'On model' }],
      },
    )
    expect(res.body.errors).toBeUndefined()
    const payload = res.body.data!.productUpdate
    expect(payload.userErrors).toEqual([])
    expect(payload.product.media.nodes.at(-1)).toMatchObject({ alt: 'On model', status: 'UPLOADED', mediaContentType: 'IMAGE' })
    // 10 for the mutation + 2 for the media input + products' media(first: 10) of scalar nodes (2 + 4 × 1).
    expect(res.body.extensions?.cost?.requestedQueryCost).toBe(18)
  })

  it('rewrites missing arguments, unknown arguments and bad selections like graphql-ruby', async () => {
    const res = await gql(fake, 'query Q { shop product { id } products(first: 1, bogus: 2) { nodes { id } } }')
    const errors = res.body.errors as { message: string; extensions: Record<string, unknown> }[]
    expect(errors.map((e) => [e.message, e.extensions.code])).toEqual([
      [
        "Field must have selections (field 'shop' returns Shop but has no selections. Did you mean 'shop { ... }'?)",
        'selectionMismatch',
      ],
      ["Field 'product' is missing required arguments: id", 'missingRequiredArguments'],
      ["Field 'products' doesn't accept argument 'bogus'", 'argumentNotAccepted'],
    ])
  })

  it('answers a syntax error with PARSE_ERROR and no cost', async () => {
    const res = await gql(fake, 'query Broken {\n  shop {\n    id\n')
    expect(res.body).toEqual({
      errors: [
        {
          message: 'syntax error, unexpected end of file at [4, 1]',
          locations: [{ line: 4, column: 1 }],
          extensions: { code: 'PARSE_ERROR' },
        },
      ],
    })
  })

  it('reports invalid variables as INVALID_VARIABLE with the problems', async () => {
    const res = await gql(
      fake,
      'mutation Up($product: ProductUpdateInput!) { productUpdate(product: $product) { userErrors { field message } } }',
      {},
    )
    expect(res.body.errors).toEqual([
      {
        message: 'Variable $product of type ProductUpdateInput! was provided invalid value',
        locations: [{ line: 1, column: 13 }],
        extensions: {
          code: 'INVALID_VARIABLE',
          value: null,
          problems: [{ path: [], explanation: 'Expected value to not be null' }],
        },
      },
    ])
  })

  it('rejects input lists over 250 before running them', async () => {
    const productId = fake.state(SHOP).products[0].id
    const tags = Array.from({ length: 251 }, (_, i) => `tag-${i}`)
    const res = await gql(
      fake,
      'mutation Up($product: ProductUpdateInput!) { productUpdate(product: $product) { userErrors { field message } } }',
      {
        product: { id: productId, tags },
      },
    )
    expect(res.body.errors).toMatchObject([
      {
        message: 'The input array size of 251 is greater than the maximum allowed of 250.',
        path: ['productUpdate', 'product', 'tags'],
        extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
      },
    ])
    expect(res.body.extensions?.cost?.actualQueryCost).toBeNull()
  })
})

describe('authentication and routing', () => {
  it('answers 401 with Shopify’s body for a wrong or missing token', async () => {
    for (const token of ['shpat_wrong', null]) {
      const res = await gql(fake, '{ shop { id } }', {}, { token })
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' })
    }
  })

  it('answers 404 for an API version it does not serve and for an unknown shop', async () => {
    expect((await gql(fake, '{ shop { id } }', {}, { version: '2019-13' })).status).toBe(404)
    expect((await gql(fake, '{ shop { id } }', {}, { shop: 'nobody.myshopify.com', token: 'x' })).status).toBe(404)
  })

  it('tells the client which version answered and flags deprecated fields', async () => {
    const res = await gql(fake, '{ currentBulkOperation { id } }')
    expect(res.headers.get('x-shopify-api-version')).toBe(API_VERSION)
    expect(res.headers.get('x-shopify-api-deprecated-reason')).toContain('shopify.dev')
  })
})
