import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { gql, startFake } from './test-helpers.ts'

let fake: ShopifyAdminFake

beforeAll(async () => {
  fake = await startFake()
})

afterAll(async () => {
  await fake.close()
})

describe('setFailure', () => {
  it('answers the next matching requests with a 5xx, then recovers', async () => {
    fake.setFailure({ operation: 'ShopName', status: 503, times: 2 })
    const other = await gql(fake, 'query Other { shop { id } }')
    expect(other.status).toBe(200)
    const failed = [await gql(fake, 'query ShopName { shop { name } }'), await gql(fake, 'query ShopName { shop { name } }')]
    expect(failed.map((r) => r.status)).toEqual([503, 503])
    expect(failed[0].headers.get('retry-after')).toBe('1.0')
    expect(failed[0].body).toEqual({ errors: 'Service Unavailable' })
    expect((await gql(fake, 'query ShopName { shop { name } }')).status).toBe(200)
  })

  it('matches root field names and drops the connection when no status is given', async () => {
    fake.setFailure({ operation: 'productUpdate', times: 1 })
    await expect(
      gql(fake, 'mutation { productUpdate(product: { id: "gid://shopify/Product/1" }) { userErrors { message } } }'),
    ).rejects.toThrow()
    expect(
      (await gql(fake, 'mutation { productUpdate(product: { id: "gid://shopify/Product/1" }) { userErrors { message } } }'))
        .status,
    ).toBe(200)
  })

  it('counts requests, throttles and cost by root field', async () => {
    const before = fake.stats()
    await gql(fake, '{ products(first: 5) { nodes { id } } }')
    const after = fake.stats()
    expect(after.requests - before.requests).toBe(1)
    expect(after.byOperation.products - (before.byOperation.products ?? 0)).toBe(1)
    expect(after.costSpent).toBeGreaterThan(before.costSpent)
    fake.setFailure(null)
  })
})
