// The OAuth `state`: a random value in a short-lived signed cookie, checked
// against what Taobao sends back (CSRF on the callback), carrying the page to
// return to after login.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { env } from '#app/lib/env.server.ts'
import { readCookie } from '#app/lib/cookies.ts'

const COOKIE = 'atelier_oauth'
/** Ten minutes to log in on Taobao's page. */
const TTL_SECONDS = 600

/** Only our own pages: a path under /app, never another origin (`//evil`, `/\evil`). */
export function safeReturnTo(value: string | null | undefined): string {
  return value && /^\/app(?:[/?#]|$)/.test(value) && !/[\\\r\n]/.test(value) ? value : '/app'
}

const mac = (payload: string) => createHmac('sha256', env().SIGNING_SECRET).update(`oauth\n${payload}`).digest('base64url')

function cookie(value: string, maxAge: number): string {
  const secure = env().NODE_ENV === 'production' ? '; Secure' : ''
  // why Lax: the callback is a top-level navigation from Taobao's site, which Lax cookies go with.
  return `${COOKIE}=${value}; Path=/auth/taobao; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`
}

/** A new state, and the Set-Cookie header value that remembers it with where to return. */
export function newState(returnTo: string): { state: string; setCookie: string } {
  const state = randomBytes(24).toString('base64url')
  const payload = `${state}.${Buffer.from(safeReturnTo(returnTo)).toString('base64url')}`
  return { state, setCookie: cookie(`${payload}.${mac(payload)}`, TTL_SECONDS) }
}

/** The page to return to when `state` is the one this browser was given; null when it is not (or has expired). */
export function checkState(request: Request, state: string | null): string | null {
  const value = readCookie(request, COOKIE)
  if (!value || !state) return null
  const [given, returnTo, sig] = value.split('.')
  if (!given || returnTo === undefined || !sig) return null
  const want = Buffer.from(mac(`${given}.${returnTo}`))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null
  const a = Buffer.from(given)
  const b = Buffer.from(state)
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null
  return safeReturnTo(Buffer.from(returnTo, 'base64url').toString())
}

/** Clears the state cookie once used. */
export function clearState(): string {
  return cookie('', 0)
}
