// Taobao OAuth (authorization code): where a seller is sent to log in, and the
// token endpoint that turns the code (or a refresh token) into a grant.
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { AppError } from '#app/lib/errors.ts'

/** Seconds as Taobao sends them: numbers, or numeric strings on some gateways. */
const seconds = z.coerce.number().int().nonnegative()

const tokenSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: seconds,
  re_expires_in: seconds.optional(),
  r1_expires_in: seconds.optional(),
  w1_expires_in: seconds.optional(),
  taobao_user_id: z.coerce.string().min(1),
  taobao_user_nick: z.string().default(''),
})

/** What a token response grants, with each lapse as a time. */
export interface Grant {
  accessToken: string
  refreshToken: string | null
  expiresAt: Date
  w1ExpiresAt: Date | null
  r1ExpiresAt: Date | null
  refreshExpiresAt: Date | null
  userId: string
  nick: string
}

export function callbackUrl(): string {
  return new URL('/auth/taobao/callback', env().TAOBAO_APP_URL).toString()
}

export function authorizeUrl(state: string): string {
  const url = new URL('/authorize', env().TAOBAO_OAUTH_URL)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: env().TAOBAO_APP_KEY,
    redirect_uri: callbackUrl(),
    state,
    view: 'web',
  }).toString()
  return url.toString()
}

/** The nick arrives URL-encoded (UTF-8 Chinese); a malformed one is kept as sent. */
function decodeNick(nick: string): string {
  try {
    return decodeURIComponent(nick)
  } catch {
    return nick
  }
}

export function grantOf(body: unknown, now = Date.now()): Grant {
  const t = tokenSchema.parse(body)
  const at = (s: number | undefined) => (s === undefined ? null : new Date(now + s * 1000))
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token ?? null,
    expiresAt: new Date(now + t.expires_in * 1000),
    w1ExpiresAt: at(t.w1_expires_in),
    r1ExpiresAt: at(t.r1_expires_in),
    refreshExpiresAt: t.refresh_token ? at(t.re_expires_in) : null,
    userId: t.taobao_user_id,
    nick: decodeNick(t.taobao_user_nick),
  }
}

async function token(params: Record<string, string>): Promise<Grant> {
  const e = env()
  const body = new URLSearchParams({ ...params, client_id: e.TAOBAO_APP_KEY, client_secret: e.TAOBAO_APP_SECRET })
  let response: Response
  try {
    response = await fetch(new URL('/token', e.TAOBAO_OAUTH_URL), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body,
      signal: AbortSignal.timeout(15_000),
    })
  } catch (cause) {
    throw new AppError('LOGIN_FAILED', 'Taobao’s login service did not answer. Try again.', { cause, retryable: true })
  }
  const json = (await response.json().catch(() => null)) as Record<string, unknown> | null
  if (!response.ok || !json || 'error' in json) {
    // why LOGIN_REQUIRED for a refused grant: the code or refresh token is spent or expired; only a new login helps.
    const refused = response.status >= 400 && response.status < 500
    throw new AppError(
      refused ? 'LOGIN_REQUIRED' : 'LOGIN_FAILED',
      `Taobao refused the login: ${String(json?.error_description ?? json?.error ?? response.status)}`,
      {
        retryable: !refused,
      },
    )
  }
  try {
    return grantOf(json)
  } catch (cause) {
    throw new AppError('LOGIN_FAILED', 'Taobao answered the login with something unexpected.', { cause })
  }
}

export function exchangeCode(code: string): Promise<Grant> {
  return token({ grant_type: 'authorization_code', code, redirect_uri: callbackUrl(), view: 'web' })
}

export function refreshGrant(refreshToken: string): Promise<Grant> {
  return token({ grant_type: 'refresh_token', refresh_token: refreshToken })
}
