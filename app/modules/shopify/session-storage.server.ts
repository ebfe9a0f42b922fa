import { Session } from '@shopify/shopify-api'
import type { SessionStorage } from '@shopify/shopify-app-session-storage'
import { DrizzleSessionStoragePostgres } from '@shopify/shopify-app-session-storage-drizzle'
import { decryptSecret, encryptSecret, isEncrypted } from '#app/lib/crypto.server.ts'
import { db } from '#app/lib/db.server.ts'
import { sessionTable } from '#db/schema.ts'

function mapTokens(session: Session, fn: (value: string) => string): Session {
  const copy = new Session(session.toObject())
  if (copy.accessToken) copy.accessToken = fn(copy.accessToken)
  if (copy.refreshToken) copy.refreshToken = fn(copy.refreshToken)
  return copy
}

/**
 * Shopify's Drizzle session storage with the access and refresh tokens
 * encrypted at rest. why a wrapper: the library stores tokens as given, and
 * a database dump must not hand out store access.
 */
export function createSessionStorage(): SessionStorage {
  const inner = new DrizzleSessionStoragePostgres(db(), sessionTable)
  const open = (s: Session | undefined) => (s ? mapTokens(s, decryptSecret) : undefined)
  return {
    storeSession: (session) => inner.storeSession(mapTokens(session, (v) => (isEncrypted(v) ? v : encryptSecret(v)))),
    loadSession: async (id) => open(await inner.loadSession(id)),
    deleteSession: (id) => inner.deleteSession(id),
    deleteSessions: (ids) => inner.deleteSessions(ids),
    findSessionsByShop: async (shop) => (await inner.findSessionsByShop(shop)).map((s) => open(s)!),
  }
}
