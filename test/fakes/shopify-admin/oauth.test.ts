import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ShopifyAdminFake } from './index.ts'
import { API_KEY, API_SECRET, gql, idTokenPayload, SHOP, signIdToken, startFake } from './test-helpers.ts'

let fake: ShopifyAdminFake

beforeAll(async () => {
  fake = await startFake()
})

afterAll(async () => {
  await fake.close()
})

async function exchange(body: Record<string, unknown>, shop = SHOP) {
  const res = await fetch(`${fake.origin}/${shop}/admin/oauth/access_token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ client_id: API_KEY, client_secret: API_SECRET, ...body }),
  })
  return {
    status: res.status,
    body: (await res.json()) as { access_token?: string; refresh_token?: string; error?: string; [key: string]: unknown },
  }
}

function tokenExchange(subjectToken: string, requested: 'offline' | 'online', expiring = '0') {
  return exchange({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    requested_token_type: `urn:shopify:params:oauth:token-type:${requested}-access-token`,
    expiring,
  })
}

describe('token exchange', () => {
  it('exchanges a valid id token for an offline token that works on the Admin API', async () => {
    const res = await tokenExchange(signIdToken(idTokenPayload()), 'offline')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ access_token: expect.stringMatching(/^shpat_/), scope: expect.stringContaining('write_products') })
    const call = await gql(fake, '{ shop { myshopifyDomain } }', {}, { token: res.body.access_token })
    expect(call.body.data).toEqual({ shop: { myshopifyDomain: SHOP } })
  })

  it('issues expiring offline tokens with a refresh token that rotates', async () => {
    const res = await tokenExchange(signIdToken(idTokenPayload()), 'offline', '1')
    expect(res.body).toEqual({
      access_token: expect.any(String),
      scope: expect.any(String),
      expires_in: 3600,
      refresh_token: expect.any(String),
      refresh_token_expires_in: 7_776_000,
    })
    const refreshed = await exchange({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token })
    expect(refreshed.status).toBe(200)
    expect(refreshed.body.access_token).not.toBe(res.body.access_token)
    const reused = await exchange({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token })
    expect(reused).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired' },
    })
  })

  it('issues online tokens with the associated user', async () => {
    const res = await tokenExchange(signIdToken(idTokenPayload(SHOP, { sub: '77' })), 'online')
    expect(res.body).toMatchObject({
      expires_in: expect.any(Number),
      associated_user_scope: expect.any(String),
      associated_user: { id: 77, account_owner: true },
    })
  })

  it('refuses an id token that is badly signed, expired, for another app or another shop — and issues nothing', async () => {
    const tokensBefore = fake.stats().requests
    const bad = [
      signIdToken(idTokenPayload(), 'wrong-secret'),
      signIdToken(idTokenPayload(SHOP, { exp: Math.floor(Date.now() / 1000) - 60 })),
      signIdToken(idTokenPayload(SHOP, { aud: 'another-app' })),
      signIdToken(idTokenPayload('other.myshopify.com')),
      'not-a-jwt',
    ]
    for (const token of bad) {
      const res = await tokenExchange(token, 'offline')
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({
        error: 'invalid_subject_token',
        error_description: expect.stringContaining('Subject token is invalid'),
      })
      expect(res.body.access_token).toBeUndefined()
    }
    expect(fake.stats().requests - tokensBefore).toBe(bad.length)
  })

  it('refuses wrong client credentials', async () => {
    const res = await exchange({ client_secret: 'nope', grant_type: 'refresh_token', refresh_token: 'x' })
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_client' } })
  })

  it('accepts a form-encoded body too', async () => {
    const form = new URLSearchParams({
      client_id: API_KEY,
      client_secret: API_SECRET,
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: signIdToken(idTokenPayload()),
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token',
    })
    const res = await fetch(`${fake.origin}/${SHOP}/admin/oauth/access_token`, { method: 'POST', body: form })
    expect(res.status).toBe(200)
  })
})
