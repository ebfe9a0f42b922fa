import { eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { db } from '#app/lib/db.server.ts'
import { resetEnvCache } from '#app/lib/env.server.ts'
import { expireSession, saveGrant, sessionFor } from '#app/modules/taobao/auth/grants.server.ts'
import { grantOf } from '#app/modules/taobao/auth/oauth.server.ts'
import { checkState, newState, safeReturnTo } from '#app/modules/taobao/auth/state.server.ts'
import { endLogin, loggedInTenant, sessionCookieName, startLogin } from '#app/modules/tenants/login.server.ts'
import { upsertTenant } from '#app/modules/tenants/service.server.ts'
import { appSessions, taobaoGrants, tenants, type Tenant } from '#db/schema.ts'

// The standalone app's login pieces (issue 17, part 1): the OAuth state, the
// browser's login cookie, and the seller's grant at rest.

let seller: Tenant
const saved = { NODE_ENV: process.env.NODE_ENV, SIGNING_SECRET: process.env.SIGNING_SECRET }

beforeAll(async () => {
  seller = await upsertTenant('taobao', `tb-${Date.now()}`, '测试店铺')
})

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  resetEnvCache()
})

afterAll(async () => {
  await db().delete(tenants).where(eq(tenants.id, seller.id))
})

/** A request carrying the cookies that Set-Cookie values would have set. */
function withCookies(...setCookies: string[]): Request {
  const cookie = setCookies.map((c) => c.split(';')[0]).join('; ')
  return new Request('http://127.0.0.1/app', { headers: { cookie } })
}

describe('the OAuth state', () => {
  it('comes back only to the browser it was given to, and only to our own pages', () => {
    const { state, setCookie } = newState('/app/products/42?results=24')
    expect(setCookie).toMatch(/^atelier_oauth=[^;]+; Path=\/auth\/taobao; HttpOnly; SameSite=Lax; Max-Age=600$/)
    expect(checkState(withCookies(setCookie), state)).toBe('/app/products/42?results=24')
    expect(checkState(withCookies(setCookie), `${state}x`)).toBeNull()
    expect(checkState(withCookies(), state)).toBeNull()
    expect(checkState(withCookies(setCookie.replace(/\.[^.;]+;/, '.forged;')), state)).toBeNull()
    // Another browser's state with this browser's cookie: refused.
    expect(checkState(withCookies(setCookie), newState('/app').state)).toBeNull()
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example/app', '/application', '/app\r\nx']) {
      expect(safeReturnTo(evil), evil).toBe('/app')
    }
  })
})

describe('a grant from the token endpoint', () => {
  it('reads the tokens, each lapse, and the URL-encoded Chinese nick', () => {
    const now = Date.UTC(2026, 11, 8)
    const grant = grantOf(
      {
        access_token: 'at',
        refresh_token: 'rt',
        expires_in: 86400,
        re_expires_in: '2592000',
        w1_expires_in: 3600,
        r1_expires_in: 86400,
        taobao_user_id: 2200012345,
        taobao_user_nick: encodeURIComponent('小林的店'),
      },
      now,
    )
    expect(grant).toMatchObject({ accessToken: 'at', refreshToken: 'rt', userId: '2200012345', nick: '小林的店' })
    expect(grant.w1ExpiresAt?.getTime()).toBe(now + 3600_000)
    expect(grant.refreshExpiresAt?.getTime()).toBe(now + 2_592_000_000)
  })
})

describe('the login cookie', () => {
  it('logs a browser in, rotates at the next login, and logs out', async () => {
    const first = await startLogin(withCookies(), seller.id)
    expect(first).toMatch(new RegExp(`^${sessionCookieName()}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax; Max-Age=\\d+$`))
    expect((await loggedInTenant(withCookies(first)))?.id).toBe(seller.id)
    // The database holds a hash: the cookie cannot be read back from it.
    const rows = await db().select().from(appSessions).where(eq(appSessions.tenantId, seller.id))
    expect(rows.map((r) => r.idHash)).not.toContain(first.split(';')[0].split('=')[1])

    const second = await startLogin(withCookies(first), seller.id)
    expect(await loggedInTenant(withCookies(first))).toBeNull()
    expect((await loggedInTenant(withCookies(second)))?.id).toBe(seller.id)

    const cleared = await endLogin(withCookies(second))
    expect(cleared).toMatch(/Max-Age=0/)
    expect(await loggedInTenant(withCookies(second))).toBeNull()
    expect(await loggedInTenant(withCookies(`${sessionCookieName()}=made-up`))).toBeNull()
  })

  it('is Secure and host-only in production', async () => {
    Object.assign(process.env, { NODE_ENV: 'production', SIGNING_SECRET: 'a-production-signing-secret-0123456789' })
    resetEnvCache()
    const cookie = await startLogin(withCookies(), seller.id)
    expect(cookie).toMatch(/^__Host-atelier_session=.*; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/)
  })

  it('ends when it expires', async () => {
    const cookie = await startLogin(withCookies(), seller.id)
    await db()
      .update(appSessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(appSessions.tenantId, seller.id))
    expect(await loggedInTenant(withCookies(cookie))).toBeNull()
  })
})

describe("the seller's grant", () => {
  it('is stored encrypted, and asks for a login when it is gone or lapsed without a refresh token', async () => {
    await expect(sessionFor(seller.id)).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', status: 401 })
    const hour = Date.now() + 3600_000
    await saveGrant(seller.id, {
      accessToken: 'session-abc',
      refreshToken: null,
      expiresAt: new Date(hour),
      w1ExpiresAt: new Date(hour),
      r1ExpiresAt: new Date(hour),
      refreshExpiresAt: null,
      userId: seller.externalId,
      nick: '测试店铺',
    })
    const [row] = await db().select().from(taobaoGrants).where(eq(taobaoGrants.tenantId, seller.id))
    expect(row.accessToken).not.toContain('session-abc')
    expect(await sessionFor(seller.id)).toBe('session-abc')
    // Taobao said the session is invalid (error 27): with nothing to refresh it with, the seller logs in again.
    await expireSession(seller.id)
    await expect(sessionFor(seller.id)).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' })
  })
})
