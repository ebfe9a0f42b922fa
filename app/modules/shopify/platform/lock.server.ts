import type { Redis } from 'ioredis'
import { createKeyedLock, type KeyedLock } from '#app/lib/keyed-lock.server.ts'

/** Runs `work` while holding the product's attach lock. */
export type ProductLock = KeyedLock

/**
 * Serialises attaches per product across every process (Redis), or within
 * this one when Redis is not there. why: the attach learns its new media's id
 * from the product's media list, which must not gain another of ours meanwhile.
 */
export function createProductLock(shop: string, redis: (() => Redis) | null): ProductLock {
  return createKeyedLock(`shopify:attach:${shop}`, redis)
}
