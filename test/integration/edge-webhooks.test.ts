import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetEnvCache } from '#app/lib/env.server.ts'
import type { StartedServer } from '#app/lib/server.server.ts'
import * as webhookRoute from '#app/routes/webhooks.tsx'
import { startEdgeServer, streamPost } from '#test/support/edge-server.ts'

// The app's own webhook route behind the real server: a huge body with a bad
// HMAC is refused by its size before the route reads it, and a small one
// still reaches the route's HMAC check.

const MB = 1024 * 1024
let server: StartedServer
const badlySigned = {
  'content-type': 'application/json',
  'x-shopify-topic': 'shop/redact',
  'x-shopify-shop-domain': 'someone.myshopify.com',
  'x-shopify-webhook-id': 'edge-test',
  'x-shopify-hmac-sha256': 'bm90IHRoZSBzaWduYXR1cmU=',
}

beforeAll(async () => {
  Object.assign(process.env, {
    APP_MODE: 'shopify',
    SHOPIFY_API_KEY: 'edge-api-key',
    SHOPIFY_API_SECRET: 'edge-api-secret-0123456789abcdef',
    SHOPIFY_APP_URL: 'https://atelier.example.test',
  })
  resetEnvCache()
  server = await startEdgeServer([{ path: 'webhooks', module: webhookRoute }])
})

afterAll(async () => {
  await server?.close()
  for (const key of ['APP_MODE', 'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_APP_URL']) delete process.env[key]
  resetEnvCache()
})

describe('webhooks behind the edge', () => {
  it('refuses four concurrent huge badly signed deliveries by size, at once', async () => {
    const started = Date.now()
    const replies = await Promise.all([
      streamPost(`${server.url}/webhooks`, { total: 200 * MB, declare: 200 * MB, headers: badlySigned }),
      streamPost(`${server.url}/webhooks`, { total: 200 * MB, declare: 200 * MB, headers: badlySigned }),
      streamPost(`${server.url}/webhooks`, { total: 50 * MB, headers: badlySigned }),
      streamPost(`${server.url}/webhooks`, { total: 50 * MB, headers: badlySigned }),
    ])
    expect(replies.map((r) => r.status)).toEqual([413, 413, 413, 413])
    expect(Math.max(...replies.map((r) => r.sentBeforeReply))).toBeLessThan(25 * MB)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('still hands a small delivery to the route, which checks its HMAC', async () => {
    const reply = await streamPost(`${server.url}/webhooks`, { total: 2048, declare: 2048, headers: badlySigned })
    expect(reply.status).toBe(401)
  })
})
