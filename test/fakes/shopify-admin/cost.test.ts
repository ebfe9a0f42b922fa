import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql'
import { describe, expect, it } from 'vitest'
import { actualQueryCost, pageMultiplier, requestedQueryCost } from './cost.ts'
import { adminSchema } from './schema.ts'
import { API_VERSION } from './test-helpers.ts'

// Expected numbers are Shopify's own, read from live responses of a 2026 store
// (airhorns/shopify-draft-proxy conformance fixtures).
function costOf(query: string, variables: Record<string, unknown> = {}, data?: Record<string, unknown>) {
  const document = parse(query)
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode
  const fragments = Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  )
  const input = { schema: adminSchema(API_VERSION), operation, fragments, variables }
  return data ? actualQueryCost(input, data) : requestedQueryCost(input)
}

const MEDIA_SELECTION = `
  __typename id alt mediaContentType status
  preview { image { url } }
  ... on MediaImage { image { url } }
  ... on ExternalVideo { originUrl embedUrl }`

describe('calculated query cost', () => {
  it('sizes a connection page sub-linearly, as Shopify now does', () => {
    expect([0, 1, 3, 5, 10, 20, 50, 100, 200, 250].map(pageMultiplier)).toEqual([0, 1, 2, 3, 4, 5, 7, 9, 10, 11])
  })

  it('prices a product with its media like Shopify (19)', () => {
    expect(costOf(`query($id: ID!) { product(id: $id) { id title media(first: 10) { nodes { ${MEDIA_SELECTION} } } } }`)).toBe(19)
  })

  it('prices a full products page (13)', () => {
    expect(
      costOf('query($first: Int!) { products(first: $first) { nodes { id } pageInfo { hasNextPage endCursor } } }', {
        first: 250,
      }),
    ).toBe(13)
  })

  it('multiplies nested connections (62)', () => {
    expect(
      costOf(`query { inventoryTransfers(first: 10) { nodes { id name dateCreated status tags totalQuantity
        origin { name location { id name } } destination { name location { id name } }
        lineItems(first: 10) { nodes { id totalQuantity inventoryItem { id } } } } pageInfo { hasNextPage } } }`),
    ).toBe(62)
  })

  it('charges mutations 10, the payload object free, 2 per media input (30, 25, 23)', () => {
    const withMedia = `mutation($product: ProductUpdateInput!, $media: [CreateMediaInput!]) {
      productUpdate(product: $product, media: $media) { product { id title media(first: 10) { nodes { ${MEDIA_SELECTION} } } } userErrors { field message } } }`
    expect(costOf(withMedia, { media: [{ originalSource: 'x', mediaContentType: 'IMAGE' }] })).toBe(30)
    const variantsAndMedia = `mutation($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
      productCreate(product: $product, media: $media) { product { id title variants(first: 5) { nodes { id title inventoryItem { id tracked } } }
        media(first: 5) { nodes { __typename id alt mediaContentType status } } } userErrors { field message } } }`
    expect(costOf(variantsAndMedia, { media: [{}] })).toBe(25)
    expect(costOf(variantsAndMedia, { media: [] })).toBe(23)
  })

  it('prices staged uploads (11) and bulk runs (10) like Shopify', () => {
    expect(
      costOf(
        'mutation($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }',
      ),
    ).toBe(11)
    expect(
      costOf(
        'mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status url } userErrors { field message } } }',
      ),
    ).toBe(10)
  })

  it('counts what came back for the actual cost (9 for 4 of 10 media and images)', () => {
    const query = `query($id: ID!) { product(id: $id) { id media(first: 10) { nodes { id alt } } images(first: 10) { nodes { id altText } } } }`
    const four = Array.from({ length: 4 }, (_, i) => ({ id: `m${i}`, alt: null }))
    expect(costOf(query)).toBe(13)
    expect(costOf(query, {}, { product: { id: 'p', media: { nodes: four }, images: { nodes: four } } })).toBe(9)
  })
})
