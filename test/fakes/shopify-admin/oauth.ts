// POST /admin/oauth/access_token: token exchange (the embedded app's id token
// → an access token) and refresh_token for expiring offline tokens. Request
// and response shapes follow @shopify/shopify-api (lib/auth/oauth/
// token-exchange.ts, refresh-token.ts, create-session.ts and their tests):
//   exchange: { client_id, client_secret, grant_type: urn:ietf:params:oauth:grant-type:token-exchange,
//               subject_token: <id token>, subject_token_type: urn:ietf:params:oauth:token-type:id_token,
//               requested_token_type: urn:shopify:params:oauth:token-type:{offline,online}-access-token,
//               expiring: '0' | '1' }
//   offline → { access_token, scope } or, expiring, + { expires_in: 3600, refresh_token, refresh_token_expires_in }
//   online  → { access_token, scope, expires_in, associated_user_scope, associated_user }
// The id token must be an HS256 JWT signed with the app secret, aud = api key,
// dest = the shop, within exp/nbf (10 s clock tolerance, like decodeSessionToken).
import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomToken } from './ids.ts'
import type { Runtime } from './runtime.ts'
import type { ShopRecord } from './store.ts'
import type { HttpResult } from './graphql-endpoint.ts'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token'
export const OFFLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:offline-access-token'
export const ONLINE_TOKEN_TYPE = 'urn:shopify:params:oauth:token-type:online-access-token'
const SCOPE = 'read_products,write_products,read_files,write_files'
const CLOCK_TOLERANCE_S = 10
const EXPIRING_TOKEN_S = 3600
const REFRESH_TOKEN_S = 90 * 86_400
const ONLINE_TOKEN_S = 86_399

function error(status: number, code: string, description: string): HttpResult {
  return { status, body: { error: code, error_description: description } }
}

function base64url(input: Buffer): string {
  return input.toString('base64url')
}

/** Verifies an HS256 JWT; returns its payload or why it is not acceptable. */
export function verifyIdToken(
  token: string,
  secret: string,
  nowSeconds: number,
): { payload: Record<string, unknown> } | { reason: string } {
  const parts = token.split('.')
  if (parts.length !== 3) return { reason: 'not a JWT' }
  const [headerPart, payloadPart, signaturePart] = parts
  let header: { alg?: string }
  let payload: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'))
    payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'))
  } catch {
    return { reason: 'malformed JWT' }
  }
  if (header.alg !== 'HS256') return { reason: `unexpected alg ${header.alg}` }
  const expected = Buffer.from(base64url(createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest()))
  const given = Buffer.from(signaturePart)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { reason: 'signature verification failed' }
  if (typeof payload.exp === 'number' && payload.exp < nowSeconds - CLOCK_TOLERANCE_S) return { reason: 'token expired' }
  if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds + CLOCK_TOLERANCE_S) return { reason: 'token not yet valid' }
  return { payload }
}

function hostOf(value: unknown): string | null {
  if (typeof value !== 'string') return null
  try {
    return new URL(value.includes('://') ? value : `https://${value}`).host
  } catch {
    return null
  }
}

function issueOffline(rt: Runtime, shop: ShopRecord, expiring: boolean): Record<string, unknown> {
  const now = rt.now()
  const accessToken = randomToken('shpat_')
  if (!expiring) {
    shop.tokens.set(accessToken, { token: accessToken, mode: 'offline', scope: SCOPE, expiresAt: null })
    return { access_token: accessToken, scope: SCOPE }
  }
  const refreshToken = randomToken('shprt_')
  shop.tokens.set(accessToken, { token: accessToken, mode: 'offline', scope: SCOPE, expiresAt: now + EXPIRING_TOKEN_S * 1000 })
  shop.refreshTokens.set(refreshToken, { expiresAt: now + REFRESH_TOKEN_S * 1000 })
  return {
    access_token: accessToken,
    scope: SCOPE,
    expires_in: EXPIRING_TOKEN_S,
    refresh_token: refreshToken,
    refresh_token_expires_in: REFRESH_TOKEN_S,
  }
}

function issueOnline(rt: Runtime, shop: ShopRecord, userId: string): Record<string, unknown> {
  const accessToken = randomToken('shpua_')
  shop.tokens.set(accessToken, { token: accessToken, mode: 'online', scope: SCOPE, expiresAt: rt.now() + ONLINE_TOKEN_S * 1000 })
  return {
    access_token: accessToken,
    scope: SCOPE,
    expires_in: ONLINE_TOKEN_S,
    associated_user_scope: SCOPE,
    associated_user: {
      id: Number(userId) || 1,
      first_name: 'Atelier',
      last_name: 'Tester',
      email: `staff-${userId}@${shop.domain}`,
      email_verified: true,
      account_owner: true,
      locale: 'en',
      collaborator: false,
    },
  }
}

export function handleAccessToken(rt: Runtime, shop: ShopRecord, body: Record<string, unknown>): HttpResult {
  if (body.client_id !== rt.apiKey || body.client_secret !== rt.apiSecret) {
    return error(400, 'invalid_client', 'Client authentication failed: unknown client_id or wrong client_secret.')
  }
  if (body.grant_type === 'refresh_token') {
    const refresh = typeof body.refresh_token === 'string' ? shop.refreshTokens.get(body.refresh_token) : undefined
    if (!refresh || refresh.expiresAt <= rt.now()) return error(400, 'invalid_grant', 'The refresh token is invalid or expired')
    shop.refreshTokens.delete(body.refresh_token as string)
    return { status: 200, body: issueOffline(rt, shop, true) }
  }
  if (body.grant_type !== TOKEN_EXCHANGE_GRANT)
    return error(400, 'unsupported_grant_type', `Unsupported grant_type ${String(body.grant_type)}`)
  if (body.subject_token_type !== ID_TOKEN_TYPE) return error(400, 'invalid_request', 'subject_token_type must be an id_token')
  if (typeof body.subject_token !== 'string') return error(400, 'invalid_request', 'subject_token is required')
  const verified = verifyIdToken(body.subject_token, rt.apiSecret, Math.floor(rt.now() / 1000))
  if ('reason' in verified) return error(400, 'invalid_subject_token', `Subject token is invalid: ${verified.reason}`)
  const { payload } = verified
  if (payload.aud !== rt.apiKey) return error(400, 'invalid_subject_token', 'Subject token is invalid: aud is not this app')
  if (hostOf(payload.dest) !== shop.domain)
    return error(400, 'invalid_subject_token', 'Subject token is invalid: dest is another shop')
  if (body.requested_token_type === OFFLINE_TOKEN_TYPE) {
    return { status: 200, body: issueOffline(rt, shop, body.expiring === '1' || body.expiring === 1 || body.expiring === true) }
  }
  if (body.requested_token_type === ONLINE_TOKEN_TYPE)
    return { status: 200, body: issueOnline(rt, shop, String(payload.sub ?? '1')) }
  return error(400, 'invalid_request', `Unsupported requested_token_type ${String(body.requested_token_type)}`)
}
