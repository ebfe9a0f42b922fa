import { eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { decryptSecret } from '#app/lib/crypto.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { sessionTable } from '#db/schema.ts'

/** The shop's offline session id, as @shopify/shopify-api names it. */
export function offlineSessionId(shop: string): string {
  return `offline_${shop}`
}

/**
 * The offline Admin API token for a shop, for workers and webhooks (no
 * request, no session token to exchange).
 */
export async function offlineAccessToken(shop: string): Promise<string> {
  const row = await db().query.sessionTable.findFirst({ where: eq(sessionTable.id, offlineSessionId(shop)) })
  if (!row?.accessToken) {
    throw new AppError('SHOPIFY_UNAUTHORIZED', `No offline access token for ${shop}: open the app from the store's admin to authorise it.`)
  }
  if (row.expires && row.expires.getTime() < Date.now() + 60_000) {
    throw new AppError('SHOPIFY_UNAUTHORIZED', `The offline access token for ${shop} has expired: open the app from the store's admin to refresh it.`, {
      retryable: false,
    })
  }
  return decryptSecret(row.accessToken)
}
