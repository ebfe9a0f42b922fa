import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '#app/lib/errors.ts'
import { createTopClient } from '#app/modules/taobao/top/client.server.ts'
import { FAKE_APP, seedCatalogSeller, startTaobaoFake, type TaobaoFake } from './index.ts'

// The fake's OAuth: consent page, code, token and refresh, and the expiries
// the gateway then enforces.

const CALLBACK = 'http://app.test/auth/taobao/callback'
let fake: TaobaoFake
let seller: ReturnType<typeof seedCatalogSeller>

beforeAll(async () => {
  fake = await startTaobaoFake({ tokenLifetimes: { expires_in: 3_600, w1_expires_in: 600, re_expires_in: 7_200 } })
  seller = seedCatalogSeller(fake, { only: ['classic-graphic-tee'] })
  fake.addSeller({ userId: '2200000002', nick: '第二家店' })
})

afterAll(() => fake.close())

async function token(form: Record<string, string>) {
  const response = await fetch(`${fake.oauthUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: FAKE_APP.appKey, client_secret: FAKE_APP.appSecret, ...form }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, string | number> }
}

/** Logs `who` in through the consent page; returns the callback URL Taobao redirects to. */
async function logIn(who: string): Promise<URL> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: FAKE_APP.appKey,
    redirect_uri: CALLBACK,
    state: 'st8',
    view: 'web',
    seller: who,
  })
  const page = await fetch(`${fake.oauthUrl}/authorize?${query}`)
  expect(page.status).toBe(200)
  const html = await page.text()
  const fields = Object.fromEntries([...html.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]))
  const approved = await fetch(`${fake.oauthUrl}/authorize`, {
    method: 'POST',
    body: new URLSearchParams({ ...fields, decision: 'allow' }),
    redirect: 'manual',
  })
  expect(approved.status).toBe(302)
  return new URL(approved.headers.get('location')!)
}

const client = () => createTopClient({ ...FAKE_APP, gatewayUrl: fake.gatewayUrl, redis: null, keyPrefix: 'fake-oauth-test' })

describe('Taobao fake OAuth', () => {
  it('logs the chosen seller in: consent page, code, grant with every expiry', async () => {
    const callback = await logIn('2200000002')
    expect(callback.origin + callback.pathname).toBe(CALLBACK)
    expect(callback.searchParams.get('state')).toBe('st8')
    const grant = await token({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: CALLBACK,
    })
    expect(grant.status).toBe(200)
    expect(grant.body).toMatchObject({
      taobao_user_id: '2200000002',
      expires_in: 3_600,
      re_expires_in: 7_200,
      w1_expires_in: 600,
    })
    expect(grant.body.taobao_user_nick).toBe('%E7%AC%AC%E4%BA%8C%E5%AE%B6%E5%BA%97')
    for (const key of ['refresh_token', 'r1_expires_in', 'r2_expires_in', 'w2_expires_in']) expect(grant.body[key]).toBeDefined()
    const reused = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')! })
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  it('refuses a wrong client secret', async () => {
    const callback = await logIn(seller.userId)
    const refused = await token({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      client_secret: 'nope',
    })
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
  })

  it('refreshes, and the gateway answers 27 to the old token and after expiry', async () => {
    const callback = await logIn(seller.userId)
    const first = (await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')! })).body
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token) })
    expect(refreshed.status).toBe(200)
    const top = client()
    const auth = (t: Record<string, string | number>) => ({ session: String(t.access_token), seller: seller.userId })
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isAppError(e) ? e.code : String(e)),
      )
    expect(await codeOf(top.itemsOnsaleGet(auth(first)))).toBe('TAOBAO_SESSION_INVALID')
    expect(await codeOf(top.itemsOnsaleGet(auth(refreshed.body)))).toBe('ok')

    fake.advanceClock(601_000) // w1 lapsed: reads still work, writes do not
    try {
      expect(await codeOf(top.itemsOnsaleGet(auth(refreshed.body)))).toBe('ok')
      expect(await codeOf(top.pictureCategoryAdd(auth(refreshed.body), { picture_category_name: 'Atelier' }))).toBe(
        'TAOBAO_SESSION_INVALID',
      )
      fake.advanceClock(3_000_000) // past expires_in
      expect(await codeOf(top.itemsOnsaleGet(auth(refreshed.body)))).toBe('TAOBAO_SESSION_INVALID')
      fake.advanceClock(7_200_000) // past re_expires_in
      expect(await token({ grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) })).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      })
    } finally {
      fake.advanceClock(-(601_000 + 3_000_000 + 7_200_000))
    }
  })

  it('can skip the consent page and refuses an unknown app', async () => {
    const quick = await startTaobaoFake({ autoApprove: true, sellers: [{ userId: '1', nick: 'a' }] })
    try {
      const query = new URLSearchParams({ response_type: 'code', client_id: FAKE_APP.appKey, redirect_uri: CALLBACK, state: 's' })
      const answer = await fetch(`${quick.oauthUrl}/authorize?${query}`, { redirect: 'manual' })
      expect(answer.status).toBe(302)
      query.set('client_id', 'someone-else')
      expect((await fetch(`${quick.oauthUrl}/authorize?${query}`)).status).toBe(400)
    } finally {
      await quick.close()
    }
  })
})
