import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import type { StartedServer } from '#app/lib/server.server.ts'
import { newProbe, send, startEdgeServer } from '#test/support/edge-server.ts'

// Remix itself refuses a page action whose Origin names another host
// (throwIfPotentialCSRFAttack), but with a bare 500. The edge answers those
// 403 first, in Shopify mode as in local mode; the extension API stays open
// to the admin's origin.

const studio = newProbe()
const renders = newProbe()
const webhooks = newProbe()
let server: StartedServer
let own: string
const form = { 'content-type': 'application/x-www-form-urlencoded' }

beforeAll(async () => {
  Object.assign(process.env, {
    APP_MODE: 'shopify',
    SHOPIFY_API_KEY: 'edge-api-key',
    SHOPIFY_API_SECRET: 'edge-api-secret-0123456789abcdef',
    SHOPIFY_APP_URL: 'https://atelier.example.test',
  })
  resetEnvCache()
  server = await startEdgeServer([
    { path: 'app/products/:productId', probe: studio, page: true },
    { path: 'api/renders', probe: renders },
    { path: 'webhooks', probe: webhooks },
  ])
  own = server.url
})

afterAll(async () => {
  await server?.close()
  for (const key of ['APP_MODE', 'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_APP_URL']) delete process.env[key]
  resetEnvCache()
})

describe('page actions Remix refuses for their origin (Shopify mode)', () => {
  it('answers 403, not 500, to a cross-site form post and fetcher post, and runs no action', async () => {
    for (const path of ['/app/products/tee?index', '/app/products/tee', '/app/products/tee.data']) {
      for (const origin of ['https://evil.example', 'https://admin.shopify.com', 'null', 'not a url']) {
        const reply = await send(`${own}${path}`, {
          method: 'POST',
          headers: { ...form, origin },
          body: 'intent=approve&renderId=r1',
        })
        expect(reply.status, `${path} from ${origin}`).toBe(403)
        expect((JSON.parse(reply.body) as { error: { code: string } }).error.code).toBe('ORIGIN_REFUSED')
      }
    }
    // A proxy's X-Forwarded-Host is the host Remix compares with.
    const forwarded = await send(`${own}/app/products/tee`, {
      method: 'POST',
      headers: { ...form, origin: own, 'x-forwarded-host': 'atelier.example.test' },
      body: 'x=1',
    })
    expect(forwarded.status).toBe(403)
    expect(studio.calls).toBe(0)
  })

  it('still runs same-origin actions and posts that carry no Origin', async () => {
    expect(
      (await send(`${own}/app/products/tee.data`, { method: 'POST', headers: { ...form, origin: own }, body: 'intent=approve' }))
        .status,
    ).toBe(200)
    const proxied = await send(`${own}/app/products/tee.data`, {
      method: 'POST',
      headers: { ...form, origin: 'https://atelier.example.test', 'x-forwarded-host': 'atelier.example.test' },
      body: 'intent=approve',
    })
    expect(proxied.status).toBe(200)
    expect(
      (await send(`${own}/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ).toBe(200)
    expect(studio.calls).toBe(2)
    expect(webhooks.calls).toBe(1)
  })

  it('leaves the extension API open to the admin’s origin', async () => {
    const reply = await send(`${own}/api/renders`, {
      method: 'POST',
      headers: { origin: 'https://admin.shopify.com', authorization: 'Bearer token', 'content-type': 'application/json' },
      body: '{}',
    })
    expect(reply.status).toBe(200)
    expect(renders.calls).toBe(1)
  })
})
