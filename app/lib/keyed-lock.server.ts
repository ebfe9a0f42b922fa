import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { env } from './env.server.ts'
import { AppError, isAppError } from './errors.ts'
import { logger } from './logger.server.ts'
import { setTimeout as sleep } from 'node:timers/promises'

// why a short lease renewed while held: a publisher killed mid-attach must not block the product for long.
const LOCK_TTL_MS = 10_000
const LOCK_RENEW_MS = 3_000
const LOCK_WAIT_MS = 90_000

/** Runs `work` while holding the lock of `key` (a product, an item). */
export type KeyedLock = <T>(key: string, work: () => Promise<T>) => Promise<T>

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`

/**
 * Serialises work per key across every process (Redis), or within this one
 * when Redis is not there: a platform's attach to one product (`namespace`
 * names the platform and shop).
 */
export function createKeyedLock(namespace: string, redis: (() => Redis) | null): KeyedLock {
  const local = new Map<string, Promise<unknown>>()
  async function inProcess<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = local.get(key) ?? Promise.resolve()
    const run = previous.then(work, work)
    const tail = run.catch(() => undefined)
    local.set(key, tail)
    try {
      return await run
    } finally {
      if (local.get(key) === tail) local.delete(key)
    }
  }
  return async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const key = `${env().QUEUE_PREFIX}:${namespace}:${name}`
    if (!redis) return inProcess(key, work)
    const conn = redis()
    const token = randomUUID()
    const deadline = Date.now() + LOCK_WAIT_MS
    try {
      while ((await conn.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
        if (Date.now() > deadline) {
          throw new AppError('PUBLISH_FAILED', 'Another publish to this product is taking too long; try again', {
            retryable: true,
          })
        }
        await sleep(25 + Math.random() * 75)
      }
    } catch (e) {
      if (isAppError(e)) throw e
      logger().warn({ err: e, namespace }, 'lock: Redis unavailable, locking in this process only')
      return inProcess(key, work)
    }
    const renew = setInterval(() => void conn.eval(RENEW_LOCK, 1, key, token, LOCK_TTL_MS).catch(() => {}), LOCK_RENEW_MS)
    try {
      return await inProcess(key, work)
    } finally {
      clearInterval(renew)
      await conn.eval(RELEASE_LOCK, 1, key, token).catch(() => {})
    }
  }
}
