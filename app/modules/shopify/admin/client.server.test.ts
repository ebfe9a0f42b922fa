import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { deleteQueueKeys, redisConnections } from '#test/support/queue.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { SHOPIFY_API_VERSION } from '../api-version.ts'
import { LIST_PRODUCTS, MEDIA_IMAGE_NODE, STAGED_UPLOADS_CREATE } from '../documents.ts'
import { createAdminClient, type AdminResponseEvent } from './client.server.ts'
import { describeOperation } from './cost.ts'
import { assertNoUserErrors } from './errors.ts'

// The client against a scripted `fetch`: the leaky bucket below follows
// Shopify's published rules (requested cost taken up front, THROTTLED with
// HTTP 200 when it is not there, restore per second), so the limiter is
// tested on its own; test/integration/shopify-*.test.ts test it against the fake.

const SHOP = 'limiter-test.myshopify.com'
const TOKEN = 'shpat_secret_value_never_logged'
const QUERY = `#graphql
  query LimiterProbe { shop { name } }
`
// why its own operation: the stub prices it at 100 points, which this process must learn afresh.
const HAMMER = `#graphql
  query LimiterHammer { shop { name } }
`
const MUTATION = `#graphql
  mutation LimiterWrite($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { userErrors { field message } } }
`

let prefix: string
const redis = redisConnections()
const connection = (): Redis => redis.open()

beforeAll(() => {
  prefix = isolateQueue()
  process.env.SHOPIFY_ADMIN_ORIGIN = 'https://{shop}'
  resetEnvCache()
})

afterAll(async () => {
  await redis.closeAll()
  await deleteQueueKeys(prefix)
})

interface Call {
  url: string
  headers: Headers
  body: { query: string; variables: Record<string, unknown> }
}

/** A shop's bucket and a scripted answer per call (default: spend `cost` and answer data). */
function stubShop(opts: { max: number; rate: number; cost: number; script?: ((n: number, call: Call) => Response | null)[] }) {
  let available = opts.max
  let at = performance.now()
  const calls: Call[] = []
  let throttled = 0
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
  const fetchImpl: typeof fetch = async (input, init) => {
    const call: Call = {
      url: String(input),
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)) as Call['body'],
    }
    calls.push(call)
    const scripted = opts.script?.[calls.length - 1]?.(calls.length, call)
    if (scripted) return scripted
    const now = performance.now()
    available = Math.min(opts.max, available + ((now - at) / 1000) * opts.rate)
    at = now
    const throttleStatus = () => ({
      maximumAvailable: opts.max,
      currentlyAvailable: Math.floor(available),
      restoreRate: opts.rate,
    })
    if (available < opts.cost) {
      throttled++
      return json(200, {
        errors: [
          { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } },
        ],
        extensions: { cost: { requestedQueryCost: opts.cost, actualQueryCost: null, throttleStatus: throttleStatus() } },
      })
    }
    available -= opts.cost
    return json(200, {
      data: { shop: { name: 'Limiter' } },
      extensions: { cost: { requestedQueryCost: opts.cost, actualQueryCost: opts.cost, throttleStatus: throttleStatus() } },
    })
  }
  return { fetch: fetchImpl, calls, throttled: () => throttled }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

describe('requests', () => {
  it('posts the document to the pinned version with the token and an Atelier user agent', async () => {
    const shop = stubShop({ max: 1000, rate: 50, cost: 1 })
    const client = createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: shop.fetch, redis: connection() })
    const data = await client.request<{ shop: { name: string } }>(QUERY)
    expect(data.shop.name).toBe('Limiter')
    const [call] = shop.calls
    expect(call.url).toBe(`https://${SHOP}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`)
    expect(call.headers.get('x-shopify-access-token')).toBe(TOKEN)
    expect(call.headers.get('user-agent')).toMatch(/^Atelier\//)
    expect(call.body.query).toBe(QUERY)
  })

  it('reads the shop domain into SHOPIFY_ADMIN_ORIGIN', async () => {
    process.env.SHOPIFY_ADMIN_ORIGIN = 'http://127.0.0.1:9/{shop}/'
    resetEnvCache()
    try {
      const shop = stubShop({ max: 1000, rate: 50, cost: 1 })
      await createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: shop.fetch, redis: null }).request(QUERY, {})
      expect(shop.calls[0].url).toBe(`http://127.0.0.1:9/${SHOP}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`)
    } finally {
      process.env.SHOPIFY_ADMIN_ORIGIN = 'https://{shop}'
      resetEnvCache()
    }
  })

  it('refuses what is not a myshopify.com domain', () => {
    expect(() => createAdminClient({ shop: 'evil.example.com/x', accessToken: TOKEN })).toThrow(AppError)
  })
})

describe('errors', () => {
  it('401 is SHOPIFY_UNAUTHORIZED, not retried, and never carries the token', async () => {
    const shop = stubShop({
      max: 1000,
      rate: 50,
      cost: 1,
      script: [() => json(401, { errors: '[API] Invalid API key or access token' })],
    })
    const err = await createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: shop.fetch, redis: null })
      .request(QUERY, {})
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SHOPIFY_UNAUTHORIZED', retryable: false })
    expect(shop.calls).toHaveLength(1)
    expect(JSON.stringify({ m: (err as Error).message, d: (err as AppError).details })).not.toContain(TOKEN)
  })

  it('after a 401, a token that changed meanwhile (re-authorised) is tried once', async () => {
    const tokens = ['old-token', 'new-token']
    const shop = stubShop({ max: 1000, rate: 50, cost: 1, script: [() => json(401, { errors: 'Invalid' })] })
    const client = createAdminClient({
      shop: SHOP,
      getAccessToken: async () => tokens.shift() ?? 'new-token',
      fetch: shop.fetch,
      redis: null,
    })
    await client.request(QUERY, {})
    expect(shop.calls.map((c) => c.headers.get('x-shopify-access-token'))).toEqual(['old-token', 'new-token'])
  })

  it('GraphQL errors become an AppError naming the operation', async () => {
    const shop = stubShop({
      max: 1000,
      rate: 50,
      cost: 1,
      script: [
        () =>
          json(200, {
            errors: [{ message: "Field 'nope' doesn't exist on type 'Shop'", extensions: { code: 'undefinedField' } }],
          }),
      ],
    })
    await expect(
      createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: shop.fetch, redis: null }).request(QUERY, {}),
    ).rejects.toMatchObject({
      code: 'INTERNAL',
      details: { operation: 'LimiterProbe', errors: [{ code: 'undefinedField' }] },
    })
  })

  it('user errors become SHOPIFY_USER_ERROR with field, code and message', () => {
    expect(assertNoUserErrors({ userErrors: [] })).toEqual({ userErrors: [] })
    try {
      assertNoUserErrors(
        { userErrors: [{ field: ['files', '0', 'id'], code: 'FILE_DOES_NOT_EXIST', message: 'File does not exist' }] },
        'Removing',
      )
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({
        code: 'SHOPIFY_USER_ERROR',
        details: { field: ['files', '0', 'id'], code: 'FILE_DOES_NOT_EXIST', message: 'File does not exist' },
      })
    }
    expect(() => assertNoUserErrors({ mediaUserErrors: [{ field: null, message: 'Bad' }] })).toThrow(/Bad/)
    expect(() => assertNoUserErrors(null)).toThrow(AppError)
  })
})

describe('retries', () => {
  it('retries 5xx for queries, and a mutation only when Shopify cannot have run it', async () => {
    const shop = stubShop({
      max: 1000,
      rate: 50,
      cost: 1,
      script: [() => json(502, {}), () => new Response('oops', { status: 500 })],
    })
    const client = createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: shop.fetch, redis: null })
    await expect(client.request(QUERY, {})).resolves.toMatchObject({ shop: { name: 'Limiter' } })
    expect(shop.calls).toHaveLength(3)

    const writes = stubShop({ max: 1000, rate: 50, cost: 10, script: [() => json(502, {})] })
    const writer = createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: writes.fetch, redis: null })
    await expect(writer.request(MUTATION, { id: 'gid://shopify/Product/1' })).rejects.toMatchObject({
      code: 'SHOPIFY_UNAVAILABLE',
      retryable: true,
      details: { outcomeUnknown: true },
    })
    expect(writes.calls).toHaveLength(1)

    const busy = stubShop({
      max: 1000,
      rate: 50,
      cost: 10,
      script: [() => json(503, {}), () => json(429, {}, { 'retry-after': '0.2' })],
    })
    const started = performance.now()
    await createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: busy.fetch, redis: null }).request(MUTATION, {
      id: 'gid://shopify/Product/1',
    })
    expect(busy.calls).toHaveLength(3)
    expect(performance.now() - started).toBeGreaterThanOrEqual(200)
  })

  it('gives up after the bounded attempts with a retryable error', async () => {
    const down = stubShop({ max: 1000, rate: 50, cost: 1, script: Array.from({ length: 3 }, () => () => json(503, {})) })
    await expect(
      createAdminClient({ shop: SHOP, accessToken: TOKEN, fetch: down.fetch, redis: null, maxAttempts: 3 }).request(QUERY, {}),
    ).rejects.toMatchObject({ code: 'SHOPIFY_UNAVAILABLE', retryable: true })
    expect(down.calls).toHaveLength(3)
  })

  it('a THROTTLED answer is retried once the bucket has restored', async () => {
    const throttledOnce = stubShop({
      max: 1000,
      rate: 1000,
      cost: 1,
      script: [
        () =>
          json(200, {
            errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
            extensions: {
              cost: {
                requestedQueryCost: 1,
                actualQueryCost: null,
                throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 1000 },
              },
            },
          }),
      ],
    })
    const events: AdminResponseEvent[] = []
    const client = createAdminClient({
      shop: 'throttled-once.myshopify.com',
      accessToken: TOKEN,
      fetch: throttledOnce.fetch,
      redis: connection(),
      onResponse: (e) => events.push(e),
    })
    await expect(client.request(QUERY, {})).resolves.toBeTruthy()
    expect(events.map((e) => e.throttled)).toEqual([true, false])
  })
})

describe('the shared cost budget', () => {
  it('estimates a query from its document before Shopify has priced it', () => {
    // products: 2 + ⌊2 ln 24⌋ × (product 1 + media (2 + ⌊2 ln 10⌋ × (media 1 + image 1)))
    expect(describeOperation(LIST_PRODUCTS, { first: 24 })).toMatchObject({
      name: 'AtelierListProducts',
      kind: 'query',
      estimate: 2 + 6 * 11,
      costKey: 'AtelierListProducts?first=24',
    })
    expect(describeOperation(MEDIA_IMAGE_NODE, { id: 'x' })).toMatchObject({ kind: 'query', estimate: 3 })
    expect(describeOperation(STAGED_UPLOADS_CREATE, { input: [] })).toMatchObject({ kind: 'mutation', estimate: 14 })
  })

  it('two processes spending one shop’s bucket together never get THROTTLED', async () => {
    // why 1000 points/s: the same arithmetic as 100/s, ten times faster.
    const bucket = stubShop({ max: 1000, rate: 1000, cost: 100 })
    const events: AdminResponseEvent[] = []
    const shopDomain = 'two-processes.myshopify.com'
    const clients = [connection(), connection()].map((redis) =>
      createAdminClient({ shop: shopDomain, accessToken: TOKEN, fetch: bucket.fetch, redis, onResponse: (e) => events.push(e) }),
    )
    const started = performance.now()
    // 50 requests of 100 points, 10 at a time per process: 5000 points through a 1000-point bucket.
    await Promise.all(
      clients.map(async (client) => {
        const queue = Array.from({ length: 25 }, (_, i) => i)
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            while (queue.shift() !== undefined) await client.request(HAMMER, {})
          }),
        )
      }),
    )
    const seconds = (performance.now() - started) / 1000
    expect(bucket.throttled()).toBe(0)
    expect(events).toHaveLength(50)
    // The first 1000 points are there at once, the other 4000 come at 1000/s:
    // ≈ 4 s when the bucket is used fully, which an idle limiter would not reach.
    expect(seconds).toBeGreaterThan(3.5)
    expect(seconds).toBeLessThan(6)
  })

  it('learns the real cost of an operation from Shopify and shares it', async () => {
    const bucket = stubShop({ max: 1000, rate: 1000, cost: 40 })
    const shopDomain = 'learns-cost.myshopify.com'
    const one = createAdminClient({ shop: shopDomain, accessToken: TOKEN, fetch: bucket.fetch, redis: connection() })
    await one.request(QUERY, {})
    const learned = await connection().hget(`${prefix}:shopify:query-costs`, 'LimiterProbe')
    expect(Number(learned)).toBe(40)
    const state = await connection().hgetall(`${prefix}:shopify:budget:${shopDomain}`)
    expect(Number(state.max)).toBe(1000)
    expect(Number(state.rate)).toBe(1000)
    expect(state.synced).toBe('1')
  })
})
