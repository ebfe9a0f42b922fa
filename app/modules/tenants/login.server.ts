// Logins to the standalone app (APP_MODE=taobao): a random id in an HttpOnly
// cookie, its SHA-256 in app_sessions. A login always starts a new id
// (rotation); logout deletes the row and clears the cookie.
import { createHash, randomBytes } from 'node:crypto'
import { and, eq, gt, lt } from 'drizzle-orm'
import { readCookie } from '#app/lib/cookies.ts'
import { db } from '#app/lib/db.server.ts'
import { env } from '#app/lib/env.server.ts'
import { appSessions, tenants, type Tenant } from '#db/schema.ts'

/** `__Host-` in production: the browser then insists on Secure, Path=/ and no Domain. */
export function sessionCookieName(): string {
  return env().NODE_ENV === 'production' ? '__Host-atelier_session' : 'atelier_session'
}

function attributes(maxAge: number): string {
  const secure = env().NODE_ENV === 'production' ? '; Secure' : ''
  return `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`
}

const hash = (id: string) => createHash('sha256').update(id).digest('hex')

/** Starts a login for the tenant, ending the one this browser had: the Set-Cookie header value. */
export async function startLogin(request: Request, tenantId: string): Promise<string> {
  const previous = readCookie(request, sessionCookieName())
  if (previous)
    await db()
      .delete(appSessions)
      .where(eq(appSessions.idHash, hash(previous)))
  const id = randomBytes(32).toString('base64url')
  const ttl = env().SESSION_TTL_SECONDS
  await db()
    .insert(appSessions)
    .values({ idHash: hash(id), tenantId, expiresAt: new Date(Date.now() + ttl * 1000) })
  // why now and then: expired rows of every seller would otherwise pile up.
  if (Math.random() < 0.05) await db().delete(appSessions).where(lt(appSessions.expiresAt, new Date()))
  return `${sessionCookieName()}=${id}; ${attributes(ttl)}`
}

/** The tenant this browser is logged in as, or null (no cookie, unknown, expired, or the shop uninstalled). */
export async function loggedInTenant(request: Request): Promise<Tenant | null> {
  const id = readCookie(request, sessionCookieName())
  if (!id) return null
  const [row] = await db()
    .select({ tenant: tenants })
    .from(appSessions)
    .innerJoin(tenants, eq(tenants.id, appSessions.tenantId))
    .where(and(eq(appSessions.idHash, hash(id)), gt(appSessions.expiresAt, new Date())))
  return row && row.tenant.uninstalledAt === null ? row.tenant : null
}

/** Ends this browser's login: the Set-Cookie header value that clears the cookie. */
export async function endLogin(request: Request): Promise<string> {
  const id = readCookie(request, sessionCookieName())
  if (id)
    await db()
      .delete(appSessions)
      .where(eq(appSessions.idHash, hash(id)))
  return `${sessionCookieName()}=; ${attributes(0)}`
}
