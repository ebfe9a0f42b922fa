// What every Taobao platform call needs: the process's TOP client (budget and
// bans shared through Redis with every other process) and the seller's auth,
// renewed before it lapses. A session Taobao calls invalid (error 27) is
// marked lapsed, so the next call renews it or asks the seller to log in.
import { Redis } from 'ioredis'
import { env } from '#app/lib/env.server.ts'
import { isAppError } from '#app/lib/errors.ts'
import type { Tenant } from '#db/schema.ts'
import { expireSession, loginRequired, sessionFor } from '../auth/grants.server.ts'
import { createTopClient, type TopAuth, type TopClient } from '../top/client.server.ts'

export interface TaobaoContext {
  readonly top: TopClient
  readonly tenant: Tenant
  /** Runs `call` with the seller's auth; on an invalid session the grant is marked lapsed and the seller must log in. */
  withAuth<T>(call: (auth: TopAuth) => Promise<T>): Promise<T>
}

let client: TopClient | undefined
let connection: Redis | undefined

/** The process's TOP client, from TAOBAO_* and one shared Redis connection (fail fast: a call must not hang on it). */
export function topClient(): TopClient {
  if (!client) {
    const e = env()
    connection = new Redis(e.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 3_000, enableOfflineQueue: true })
    connection.on('error', () => {})
    client = createTopClient({
      appKey: e.TAOBAO_APP_KEY,
      appSecret: e.TAOBAO_APP_SECRET,
      gatewayUrl: e.TAOBAO_GATEWAY_URL,
      signMethod: e.TAOBAO_SIGN_METHOD,
      redis: connection,
      keyPrefix: `${e.QUEUE_PREFIX}:taobao`,
      budget: { app: { perSecond: e.TAOBAO_APP_CALLS_PER_SECOND }, seller: { perSecond: e.TAOBAO_SELLER_CALLS_PER_SECOND } },
    })
  }
  return client
}

/** The Redis connection the TOP client shares its budget through (made with it). */
export function topRedis(): Redis {
  topClient()
  return connection!
}

/** Closes the shared connection (tests, graceful shutdown). */
export async function closeTopClient(): Promise<void> {
  const c = connection
  client = undefined
  connection = undefined
  if (c && c.status !== 'end') await c.quit().catch(() => c.disconnect())
}

function isInvalidSession(e: unknown): boolean {
  return isAppError(e) && e.code === 'TAOBAO_SESSION_INVALID'
}

export function taobaoContext(tenant: Tenant, top: TopClient = topClient()): TaobaoContext {
  return {
    top,
    tenant,
    async withAuth(call) {
      const auth = async () => ({ session: await sessionFor(tenant.id), seller: tenant.externalId })
      try {
        return await call(await auth())
      } catch (e) {
        if (!isInvalidSession(e)) throw e
      }
      // why once more: a refused session ran nothing, and a renewed one may be accepted (a revoked token, a clock skew).
      await expireSession(tenant.id)
      try {
        return await call(await auth())
      } catch (e) {
        if (!isInvalidSession(e)) throw e
        await expireSession(tenant.id)
        throw loginRequired('Taobao ended this login; log in again.')
      }
    },
  }
}
