// A seller's Taobao grant at rest (tokens encrypted) and the session the TOP
// client signs with, refreshed before it lapses.
import { eq } from 'drizzle-orm'
import { decryptSecret, encryptSecret } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { taobaoGrants } from '#db/schema.ts'
import { refreshGrant, type Grant } from './oauth.server.ts'

/** Refresh this long before a lapse, so a call started now does not outlive its token. */
const MARGIN_MS = 5 * 60_000

export async function saveGrant(tenantId: string, grant: Grant): Promise<void> {
  const row = {
    accessToken: encryptSecret(grant.accessToken),
    refreshToken: grant.refreshToken ? encryptSecret(grant.refreshToken) : null,
    expiresAt: grant.expiresAt,
    w1ExpiresAt: grant.w1ExpiresAt,
    r1ExpiresAt: grant.r1ExpiresAt,
    refreshExpiresAt: grant.refreshExpiresAt,
    nick: grant.nick,
    updatedAt: new Date(),
  }
  await db()
    .insert(taobaoGrants)
    .values({ tenantId, ...row })
    .onConflictDoUpdate({ target: taobaoGrants.tenantId, set: row })
}

export function loginRequired(why: string): AppError {
  return new AppError('LOGIN_REQUIRED', why)
}

/** The earliest lapse that stops the app working for the seller: the token, or write (w1) or read (r1) access. */
function lapse(g: { expiresAt: Date; w1ExpiresAt: Date | null; r1ExpiresAt: Date | null }): number {
  return Math.min(g.expiresAt.getTime(), g.w1ExpiresAt?.getTime() ?? Infinity, g.r1ExpiresAt?.getTime() ?? Infinity)
}

/**
 * The seller's TOP session (access token), refreshed first when it lapses
 * within MARGIN_MS. One refresh at a time per seller (a row lock): a
 * refresh token may be spent by its first use.
 */
export async function sessionFor(tenantId: string, now = Date.now()): Promise<string> {
  const current = await db().query.taobaoGrants.findFirst({ where: eq(taobaoGrants.tenantId, tenantId) })
  if (!current) throw loginRequired('This shop has not logged in with Taobao.')
  if (lapse(current) - MARGIN_MS > now) return decryptSecret(current.accessToken)
  return db().transaction(async (tx) => {
    const [locked] = await tx.select().from(taobaoGrants).where(eq(taobaoGrants.tenantId, tenantId)).for('update')
    if (!locked) throw loginRequired('This shop has not logged in with Taobao.')
    // Another request refreshed it while this one waited for the lock.
    if (lapse(locked) - MARGIN_MS > now) return decryptSecret(locked.accessToken)
    const canRefresh = locked.refreshToken && (locked.refreshExpiresAt?.getTime() ?? 0) > now
    if (!canRefresh) throw loginRequired('The Taobao login has expired; log in again.')
    const grant = await refreshGrant(decryptSecret(locked.refreshToken!))
    await tx
      .update(taobaoGrants)
      .set({
        accessToken: encryptSecret(grant.accessToken),
        // why keep the old one when none comes back: Taobao may renew the access token alone.
        refreshToken: grant.refreshToken ? encryptSecret(grant.refreshToken) : locked.refreshToken,
        expiresAt: grant.expiresAt,
        w1ExpiresAt: grant.w1ExpiresAt,
        r1ExpiresAt: grant.r1ExpiresAt,
        refreshExpiresAt: grant.refreshToken ? grant.refreshExpiresAt : locked.refreshExpiresAt,
        updatedAt: new Date(),
      })
      .where(eq(taobaoGrants.tenantId, tenantId))
    return grant.accessToken
  })
}

/** Taobao said the session is invalid (TOP error 27): the next call refreshes it, or asks the seller to log in. */
export async function expireSession(tenantId: string): Promise<void> {
  await db()
    .update(taobaoGrants)
    .set({ expiresAt: new Date(0), updatedAt: new Date() })
    .where(eq(taobaoGrants.tenantId, tenantId))
}
