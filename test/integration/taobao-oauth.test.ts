import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptSecret } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { sessionFor } from '#app/modules/taobao/auth/grants.server.ts'
import { createTopClient } from '#app/modules/taobao/top/client.server.ts'
import { requireTenant } from '#app/modules/tenants/session.server.ts'
import { action as logout } from '#app/routes/auth.logout.tsx'
import { loader as callback } from '#app/routes/auth.taobao.callback.tsx'
import { loader as start } from '#app/routes/auth.taobao.start.tsx'
import { taobaoGrants, tenants } from '#db/schema.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from '#test/fakes/taobao/index.ts'

// Logging in to the standalone app with Taobao OAuth (issue 17, part 1), end
// to end through the app's own routes against the Taobao fake: state checked,
// the grant stored and refreshed before it lapses, the login cookie, logout,
// and the login page when the grant can no longer be renewed.

let fake: TaobaoFake
let seller: { userId: string; nick: string }
const APP = 'http://127.0.0.1:3999'
const saved: Record<string, string | undefined> = {}
const vars = (fake: TaobaoFake) => ({
  APP_MODE: 'taobao',
  TAOBAO_APP_KEY: FAKE_APP.appKey,
  TAOBAO_APP_SECRET: FAKE_APP.appSecret,
  TAOBAO_APP_URL: APP,
  TAOBAO_OAUTH_URL: fake.oauthUrl,
  TAOBAO_GATEWAY_URL: fake.gatewayUrl,
})

beforeAll(async () => {
  // why lifetimes under the refresh margin: the first use after login must renew the token through /token.
  fake = await startTaobaoFake({ autoApprove: true, tokenLifetimes: { expires_in: 120, w1_expires_in: 120, r1_expires_in: 120 } })
  seller = seedCatalogSeller(fake, { nick: '小林的店' })
  for (const [k, v] of Object.entries(vars(fake))) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  resetEnvCache()
})

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetEnvCache()
  await db().delete(tenants).where(eq(tenants.externalId, seller.userId))
  await fake.close()
})

const cookiesOf = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0])
const asResponse = async (run: () => unknown): Promise<Response> => {
  try {
    return (await run()) as Response
  } catch (e) {
    if (e instanceof Response) return e
    throw e
  }
}
const page = (path: string, cookies: string[] = []) => new Request(`${APP}${path}`, { headers: { cookie: cookies.join('; ') } })

/** Through Taobao's authorize page and back: the callback's answer. */
async function logIn(returnTo: string, tamper?: (callbackUrl: URL) => void): Promise<Response> {
  const started = await asResponse(() =>
    start({ request: page(`/auth/taobao/start?returnTo=${encodeURIComponent(returnTo)}`), params: {}, context: {} }),
  )
  expect(started.status).toBe(302)
  const authorize = new URL(started.headers.get('location')!)
  expect(authorize.origin + authorize.pathname).toBe(`${fake.oauthUrl}/authorize`)
  expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
    response_type: 'code',
    client_id: FAKE_APP.appKey,
    redirect_uri: `${APP}/auth/taobao/callback`,
    view: 'web',
  })
  const consent = await fetch(authorize, { redirect: 'manual' })
  expect(consent.status).toBe(302)
  const back = new URL(consent.headers.get('location')!)
  tamper?.(back)
  return asResponse(() =>
    callback({ request: page(`${back.pathname}${back.search}`, cookiesOf(started)), params: {}, context: {} }),
  )
}

async function grantRow() {
  const [row] = await db()
    .select({ grant: taobaoGrants })
    .from(taobaoGrants)
    .innerJoin(tenants, eq(tenants.id, taobaoGrants.tenantId))
    .where(eq(tenants.externalId, seller.userId))
  return row.grant
}

describe('logging in with Taobao', () => {
  let session: string[]
  let firstToken: string

  it('comes back to the page the seller asked for, logged in as their shop', async () => {
    const done = await logIn('/app/products/42?results=24')
    expect(done.status).toBe(302)
    expect(done.headers.get('location')).toBe('/app/products/42?results=24')
    session = cookiesOf(done).filter((c) => c.startsWith('atelier_session=') && c.length > 'atelier_session='.length)
    expect(session).toHaveLength(1)
    firstToken = decryptSecret((await grantRow()).accessToken)
    const tenant = await requireTenant(page('/app', session))
    expect(tenant).toMatchObject({ platform: 'taobao', externalId: seller.userId, displayName: '小林的店' })
  })

  it('renews the token before it lapses, and only the renewed one works at the gateway', async () => {
    // requireTenant above renewed it: 120 s is inside the 5-minute margin.
    const token = await sessionFor((await grantRow()).tenantId)
    expect(token).not.toBe(firstToken)
    const client = createTopClient({
      appKey: FAKE_APP.appKey,
      appSecret: FAKE_APP.appSecret,
      gatewayUrl: fake.gatewayUrl,
      redis: null,
      keyPrefix: 'test-taobao-oauth',
    })
    const onsale = await client.itemsOnsaleGet(
      { session: token, seller: seller.userId },
      { fields: 'num_iid,title', page_size: 5 },
    )
    expect(onsale.total_results).toBeGreaterThan(0)
    await expect(
      client.itemsOnsaleGet({ session: firstToken, seller: seller.userId }, { fields: 'num_iid' }),
    ).rejects.toMatchObject({ code: 'TAOBAO_SESSION_INVALID' })
  })

  it('refuses a callback whose state is not this browser’s, and a seller who said no', async () => {
    const forged = await logIn('/app', (url) => url.searchParams.set('state', 'made-up'))
    expect(forged.headers.get('location')).toBe('/login?error=state')
    expect(cookiesOf(forged).some((c) => /^atelier_session=./.test(c))).toBe(false)
    const denied = await asResponse(() =>
      callback({ request: page('/auth/taobao/callback?error=access_denied&state=x'), params: {}, context: {} }),
    )
    expect(denied.headers.get('location')).toBe('/login?error=denied')
  })

  it('sends a browser without a login to the login page, to come back afterwards', async () => {
    const away = await asResponse(() => requireTenant(page('/app/review?state=approved&_data=routes%2Fapp.review')))
    expect(away.status).toBe(302)
    expect(away.headers.get('location')).toBe(`/login?returnTo=${encodeURIComponent('/app/review?state=approved')}`)
  })

  it('asks for a new login when the grant can no longer be renewed, keeping where the seller was', async () => {
    const [row] = await db().select().from(tenants).where(eq(tenants.externalId, seller.userId))
    await db()
      .update(taobaoGrants)
      .set({ expiresAt: new Date(0), refreshExpiresAt: new Date(0) })
      .where(eq(taobaoGrants.tenantId, row.id))
    const away = await asResponse(() => requireTenant(page('/app/bulk', session)))
    expect(away.headers.get('location')).toBe(`/login?error=expired&returnTo=${encodeURIComponent('/app/bulk')}`)
  })

  it('logs out this browser only', async () => {
    const again = await logIn('/app')
    const cookie = cookiesOf(again).filter((c) => /^atelier_session=./.test(c))
    const out = await logout({
      request: new Request(`${APP}/auth/logout`, { method: 'POST', headers: { cookie: cookie.join('; ') } }),
      params: {},
      context: {},
    })
    expect(out.headers.get('location')).toBe('/login')
    expect(out.headers.get('set-cookie')).toMatch(/^atelier_session=; .*Max-Age=0/)
    const away = await asResponse(() => requireTenant(page('/app', cookie)))
    expect(away.headers.get('location')).toBe('/login?returnTo=%2Fapp')
  })
})
