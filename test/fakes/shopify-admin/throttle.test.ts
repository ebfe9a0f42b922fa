import { afterEach, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { catalogSeed, gql, startFake } from './test-helpers.ts'

// products(first: 250) with media(first: 250) of images and previews:
// 2 + 11 × (1 + 2 + 11 × (1 + image 1 + preview 1 + preview.image 1)) = 519 points requested.
const EXPENSIVE = `query Expensive { products(first: 250) { nodes { id media(first: 250) { nodes { id ... on MediaImage { image { url } } preview { image { url } } } } } } }`

let fake: ShopifyAdminFake | undefined

afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe('leaky bucket', () => {
  it('reports extensions.cost on every executed response and refunds the unused points', async () => {
    fake = await startFake()
    const res = await gql(fake, EXPENSIVE)
    const cost = res.body.extensions!.cost!
    expect(cost.requestedQueryCost).toBe(519)
    // 5 products came back, each with at most 2 images: far less than requested.
    expect(cost.actualQueryCost).toBeLessThan(100)
    expect(cost.throttleStatus).toMatchObject({ maximumAvailable: 2000, restoreRate: 100 })
    // The bucket refills while the query runs, so allow a few points above 2000 − actual.
    expect(cost.throttleStatus.currentlyAvailable - (2000 - cost.actualQueryCost!)).toBeGreaterThanOrEqual(0)
    expect(cost.throttleStatus.currentlyAvailable - (2000 - cost.actualQueryCost!)).toBeLessThan(20)
    expect(fake.stats().costSpent).toBe(cost.actualQueryCost)
  })

  it('answers THROTTLED without running the query when the bucket lacks the requested points, then restores', async () => {
    // A 600-point bucket: each run reserves 519 and keeps its actual cost, so the fourth or fifth finds too little.
    fake = await startFake({ throttle: { bucket: 600, restoreRate: 50 } })
    const burst = []
    for (let i = 0; i < 8; i++) burst.push(await gql(fake, EXPENSIVE))
    const throttled = burst.filter((r) => Array.isArray(r.body.errors))
    expect(throttled.length).toBeGreaterThan(0)
    for (const r of throttled) {
      expect(r.status).toBe(200)
      expect(r.body.data).toBeUndefined()
      expect(r.body).toEqual({
        errors: [
          { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } },
        ],
        extensions: {
          cost: {
            requestedQueryCost: 519,
            actualQueryCost: null,
            throttleStatus: { maximumAvailable: 600, currentlyAvailable: expect.any(Number), restoreRate: 50 },
          },
        },
      })
      expect(r.body.extensions!.cost!.throttleStatus.currentlyAvailable).toBeLessThan(519)
    }
    expect(fake.stats().throttled).toBe(throttled.length)

    // The last response of the burst, throttled or not, tells what is left now.
    const available = burst.at(-1)!.body.extensions!.cost!.throttleStatus.currentlyAvailable
    const waitMs = ((519 - available) / 50) * 1000 + 100
    await new Promise((resolve) => setTimeout(resolve, waitMs))
    const after = await gql(fake, EXPENSIVE)
    expect(after.body.errors).toBeUndefined()
    expect(after.body.data).toBeDefined()
  })

  it('uses the plan’s bucket and restore rate', async () => {
    fake = await startFake({ shops: [{ ...(await catalogSeed()), plan: 'plus' }] })
    const res = await gql(fake, '{ shop { id } }')
    expect(res.body.extensions!.cost!.throttleStatus).toMatchObject({ maximumAvailable: 20_000, restoreRate: 1000 })
  })

  it('refuses a single query above 1000 points with MAX_COST_EXCEEDED', async () => {
    fake = await startFake()
    const res = await gql(
      fake,
      '{ products(first: 250) { nodes { collections(first: 250) { nodes { products(first: 250) { nodes { id } } } } } } }',
    )
    expect(res.status).toBe(200)
    expect(res.body.errors).toMatchObject([
      {
        message: expect.stringMatching(/^Query cost is \d+, which exceeds the single query max cost limit \(1000\)\./),
        extensions: { code: 'MAX_COST_EXCEEDED', maxCost: 1000 },
      },
    ])
    expect(res.body.extensions!.cost!.actualQueryCost).toBeNull()
    expect(res.body.extensions!.cost!.throttleStatus.currentlyAvailable).toBe(2000)
  })

  it('can be switched off', async () => {
    fake = await startFake({ throttle: false })
    const burst = await Promise.all(Array.from({ length: 8 }, () => gql(fake!, EXPENSIVE)))
    expect(burst.every((r) => r.body.errors === undefined)).toBe(true)
  })
})
