import { createHash } from 'node:crypto'
import { randomToken, type Runtime, type Token } from './store.ts'

// Taobao OAuth 2 (authorization code), as oauth.taobao.com answers it:
//   GET  /authorize  response_type=code, client_id, redirect_uri, state, view=web → consent page
//   POST /authorize  the seller approves → 302 to redirect_uri?code&state
//   POST /token      grant_type=authorization_code | refresh_token → the grant, per-level expiries
// The seller who logs in is `seller` in the URL (user id or nick), else opts.loginAs, else the first one.

export interface HttpAnswer {
  status: number
  headers?: Record<string, string>
  body: string | Record<string, unknown>
}

const CODE_TTL_MS = 10 * 60_000

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const page = (status: number, title: string, body: string): HttpAnswer => ({
  status,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`,
})

function pickSeller(rt: Runtime, wanted: string | null) {
  const sellers = [...rt.sellers.values()]
  const key = wanted ?? rt.loginAs
  return key ? sellers.find((s) => s.userId === key || s.nick === key) : sellers[0]
}

function redirectWith(redirectUri: string, params: Record<string, string>): HttpAnswer {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return { status: 302, headers: { location: url.toString() }, body: '' }
}

/** GET /authorize (`approve` false: the consent page) and POST /authorize (the seller's answer). */
export function authorize(rt: Runtime, q: URLSearchParams, approve: boolean): HttpAnswer {
  const clientId = q.get('client_id') ?? ''
  const redirectUri = q.get('redirect_uri') ?? ''
  const state = q.get('state') ?? ''
  const app = rt.apps.get(clientId)
  if (!approve && q.get('response_type') !== 'code') return page(400, '错误', '<p>response_type 必须为 code</p>')
  if (!app) return page(400, '错误', '<p>client_id 无效 (invalid client_id)</p>')
  if (!/^https?:\/\//.test(redirectUri) || (app.redirectUri && app.redirectUri !== redirectUri)) {
    return page(400, '错误', '<p>redirect_uri 与应用回调地址不一致</p>')
  }
  const seller = pickSeller(rt, q.get('seller'))
  if (!seller) return page(400, '错误', '<p>没有可登录的卖家 (the fake has no such seller)</p>')
  if (approve && q.get('decision') === 'deny') return redirectWith(redirectUri, { error: 'access_denied', state })
  if (approve || rt.autoApprove) {
    const code = randomToken('code_')
    rt.codes.set(code, { appKey: clientId, userId: seller.userId, redirectUri, expiresAt: rt.now() + CODE_TTL_MS })
    return redirectWith(redirectUri, { code, state })
  }
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escape(value)}">`
  return page(
    200,
    '淘宝授权',
    `<main><h1>授权登录</h1><p>应用 <b>${escape(clientId)}</b> 请求使用你的淘宝账号 <b id="nick">${escape(seller.nick)}</b> 登录，并管理商品与图片空间。</p>
<form method="post" action="/authorize">${hidden('client_id', clientId)}${hidden('redirect_uri', redirectUri)}${hidden('state', state)}${hidden('seller', seller.userId)}
<button type="submit" name="decision" value="allow" id="authorize">授权并登录</button>
<button type="submit" name="decision" value="deny" id="deny">取消</button></form></main>`,
  )
}

export function issueToken(rt: Runtime, appKey: string, userId: string): Token {
  const now = rt.now()
  const l = rt.lifetimes
  const token: Token = {
    appKey,
    userId,
    accessToken: randomToken('6201'),
    refreshToken: randomToken('6202'),
    expiresAt: now + l.expires_in * 1000,
    refreshExpiresAt: now + l.re_expires_in * 1000,
    w1At: now + l.w1_expires_in * 1000,
    revoked: false,
  }
  rt.tokens.set(token.accessToken, token)
  rt.refreshTokens.set(token.refreshToken, token)
  return token
}

function grantBody(rt: Runtime, token: Token): Record<string, unknown> {
  const seller = rt.sellers.get(token.userId)!
  const now = rt.now()
  const l = rt.lifetimes
  return {
    access_token: token.accessToken,
    token_type: 'Bearer',
    expires_in: l.expires_in,
    refresh_token: token.refreshToken,
    re_expires_in: l.re_expires_in,
    r1_expires_in: l.r1_expires_in,
    r2_expires_in: l.r2_expires_in,
    w1_expires_in: l.w1_expires_in,
    w2_expires_in: l.w2_expires_in,
    expire_time: now + l.expires_in * 1000,
    refresh_token_valid_time: now + l.re_expires_in * 1000,
    r1_valid: now + l.r1_expires_in * 1000,
    r2_valid: now + l.r2_expires_in * 1000,
    w1_valid: now + l.w1_expires_in * 1000,
    w2_valid: now + l.w2_expires_in * 1000,
    taobao_user_id: seller.userId,
    // why encoded: Taobao sends the nick percent-encoded UTF-8.
    taobao_user_nick: encodeURIComponent(seller.nick),
    taobao_open_uid: `AAH${createHash('sha1').update(`${token.appKey}:${seller.userId}`).digest('hex').slice(0, 21)}`,
  }
}

const refuse = (status: number, error: string, description: string): HttpAnswer => ({
  status,
  body: { error, error_description: description },
})

/** POST /token. */
export function token(rt: Runtime, form: URLSearchParams): HttpAnswer {
  const app = rt.apps.get(form.get('client_id') ?? '')
  if (!app || app.appSecret !== form.get('client_secret'))
    return refuse(401, 'invalid_client', 'client_id or client_secret is wrong')
  const grant = form.get('grant_type')
  if (grant === 'authorization_code') {
    const code = rt.codes.get(form.get('code') ?? '')
    if (!code) return refuse(400, 'invalid_grant', 'authorize code is invalid or used')
    rt.codes.delete(form.get('code')!)
    if (code.expiresAt <= rt.now()) return refuse(400, 'invalid_grant', 'authorize code expire')
    if (code.appKey !== app.appKey) return refuse(400, 'invalid_grant', 'code was issued to another app')
    if (form.get('redirect_uri') && form.get('redirect_uri') !== code.redirectUri)
      return refuse(400, 'invalid_grant', 'redirect_uri mismatch')
    return { status: 200, body: grantBody(rt, issueToken(rt, app.appKey, code.userId)) }
  }
  if (grant === 'refresh_token') {
    const old = rt.refreshTokens.get(form.get('refresh_token') ?? '')
    if (!old || old.appKey !== app.appKey) return refuse(400, 'invalid_grant', 'refresh token is invalid')
    if (old.refreshExpiresAt <= rt.now()) return refuse(400, 'invalid_grant', 'refresh token expired')
    old.revoked = true
    rt.refreshTokens.delete(old.refreshToken)
    return { status: 200, body: grantBody(rt, issueToken(rt, app.appKey, old.userId)) }
  }
  return refuse(400, 'unsupported_grant_type', `grant_type ${grant ?? ''} is not supported`)
}
