import { createHash } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { env } from './env.server.ts'

/**
 * Two kinds of connection, per BullMQ's production checklist: workers block
 * and must retry forever (`maxRetriesPerRequest: null`); producers (web
 * requests) must fail fast when Redis is down so a merchant gets an answer.
 */
export function redisConnection(kind: 'worker' | 'producer'): Redis {
  const options: RedisOptions =
    kind === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3_000 }
  const client = new Redis(env().REDIS_URL, { ...options, lazyConnect: false })
  // why: without a listener ioredis prints unhandled errors on every reconnect.
  client.on('error', () => {})
  return client
}

/**
 * Calls `fn` each time the connection is ready again after it lost Redis
 * (not on the first connect). why: a Redis that restarts may come back empty,
 * without the job schedulers and queued jobs the workers rely on.
 */
export function onReconnect(client: Redis, fn: () => void): void {
  let connected = client.status === 'ready'
  client.on('ready', () => {
    if (connected) fn()
    connected = true
  })
}

const scriptShas = new Map<string, string>()

/** Runs a Lua script by its SHA-1 (loaded on first use, and again after a Redis restart forgot it). */
export async function evalCached(redis: Redis, script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
  let sha = scriptShas.get(script)
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex')
    scriptShas.set(script, sha)
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args)
  } catch (e) {
    if (!String((e as Error).message).includes('NOSCRIPT')) throw e
    return redis.eval(script, keys.length, ...keys, ...args)
  }
}
