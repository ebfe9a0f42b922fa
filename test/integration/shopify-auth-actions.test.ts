import type { ActionFunctionArgs } from '@remix-run/node'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { closeAdminClients } from '#app/modules/shopify/admin/budget.server.ts'
import { SHOPIFY_API_VERSION } from '#app/modules/shopify/api-version.ts'
import { authenticate } from '#app/shopify.server.ts'
import { action as bulkNew } from '#app/routes/app.bulk.new.tsx'
import { action as bulkRun } from '#app/routes/app.bulk.$runId.tsx'
import { action as plan } from '#app/routes/app.plan.tsx'
import { action as studio } from '#app/routes/app.products.$productId.tsx'
import { action as backendSettings } from '#app/routes/app.settings.backends_.$backendId.tsx'
import { API_KEY, API_SECRET, idTokenPayload, SHOP, signIdToken } from '#test/fakes/shopify-admin/test-helpers.ts'
import { sessionTable, tenants, type Tenant } from '#db/schema.ts'
import { startShopifyAdminFake, type ShopifyAdminFake } from '#test/fakes/shopify-admin/index.ts'
import { isolateQueue } from '#test/support/isolation.ts'
import { releaseAll } from '#test/support/queue.ts'
import { installFakeShop } from '#test/support/shopify.ts'

// Authentication ends a request by throwing a Response (401 with App Bridge's
// retry header, a redirect to login). Every action must let it through, not
// map it to a 500.

const APP_URL = 'https://atelier.example.test'

let prefix: string
let fake: ShopifyAdminFake
let tenant: Tenant | undefined

beforeAll(async () => {
  prefix = isolateQueue()
  fake = await startShopifyAdminFake({ apiKey: API_KEY, apiSecret: API_SECRET, apiVersion: SHOPIFY_API_VERSION, shops: [{ domain: SHOP, products: [] }] })
  Object.assign(process.env, { APP_MODE: 'shopify', SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, SHOPIFY_APP_URL: APP_URL, SHOPIFY_ADMIN_ORIGIN: `${fake.origin}/{shop}` })
  resetEnvCache()
})

afterAll(async () => {
  if (tenant) await db().delete(tenants).where(eq(tenants.id, tenant.id))
  await db().delete(sessionTable).where(eq(sessionTable.shop, SHOP))
  await fake?.close()
  await closeAdminClients()
  await releaseAll(prefix)
})

type Action = (args: ActionFunctionArgs) => Promise<unknown>

const actions: { name: string; action: Action; path: string; params: Record<string, string>; form: Record<string, string> }[] = [
  { name: 'studio', action: studio, path: '/app/products/gid%3A%2F%2Fshopify%2FProduct%2F1', params: { productId: 'gid://shopify/Product/1' }, form: { intent: 'approve', renderId: '00000000-0000-0000-0000-000000000000' } },
  { name: 'bulk new', action: bulkNew, path: '/app/bulk/new', params: {}, form: { kind: 'all' } },
  { name: 'bulk run', action: bulkRun, path: '/app/bulk/00000000-0000-0000-0000-000000000000', params: { runId: '00000000-0000-0000-0000-000000000000' }, form: { intent: 'pause' } },
  { name: 'plan', action: plan, path: '/app/plan', params: {}, form: {} },
  { name: 'backend settings', action: backendSettings, path: '/app/settings/backends/new', params: { backendId: 'new' }, form: { intent: 'save' } },
]

function post(path: string, form: Record<string, string>, token?: string): Request {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (token) headers.authorization = `Bearer ${token}`
  return new Request(`${APP_URL}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() })
}

/** What the action answered, thrown or returned, as a plain Response. */
async function answer(action: Action, request: Request, params: Record<string, string>): Promise<Response> {
  try {
    const result = await action({ request, params, context: {} })
    if (result instanceof Response) return result
    const init = (result as { init?: ResponseInit } | null)?.init
    return new Response(JSON.stringify(result), { status: init?.status ?? 200 })
  } catch (e) {
    if (e instanceof Response) return e
    throw e
  }
}

async function libraryAnswer(request: Request): Promise<Response> {
  return authenticate.admin(request).then(
    () => {
      throw new Error('the library accepted a request the test means to be refused')
    },
    (e: unknown) => {
      if (e instanceof Response) return e
      throw e
    },
  )
}

describe('actions let authentication answer', () => {
  const expired = () => signIdToken(idTokenPayload(SHOP, { exp: Math.floor(Date.now() / 1000) - 60, nbf: Math.floor(Date.now() / 1000) - 120 }))

  it.each(actions)('$name: an expired session token gets 401 with the App Bridge retry header', async ({ action, path, params, form }) => {
    const res = await answer(action, post(path, form, expired()), params)
    expect(res.status).toBe(401)
    expect(res.headers.get('x-shopify-retry-invalid-session-request')).toBe('1')
  })

  it.each(actions)('$name: a POST without a session token gets the library’s own answer, not a 500', async ({ action, path, params, form }) => {
    const res = await answer(action, post(path, form), params)
    const expected = await libraryAnswer(post(path, form))
    expect(res.status).not.toBe(500)
    expect(res.status).toBe(expected.status)
    expect(res.headers.get('location')).toBe(expected.headers.get('location'))
  })
})

describe('a redirect the action itself throws', () => {
  it('plan: starting a plan answers App Bridge’s reauthorize-url 401 that leaves the iframe', async () => {
    await db().delete(sessionTable).where(eq(sessionTable.shop, SHOP))
    tenant = await installFakeShop(fake, SHOP)
    const res = await answer(plan, post('/app/plan', {}, signIdToken(idTokenPayload(SHOP))), {})
    expect(res.status).toBe(401)
    expect(res.headers.get('x-shopify-api-request-failure-reauthorize-url')).toMatch(/^https?:\/\/.+/)
  })
})
