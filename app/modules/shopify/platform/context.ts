import type { logger } from '#app/lib/logger.server.ts'
import type { AdminClient } from '../admin/client.server.ts'
import type { ProductLock } from './lock.server.ts'

/** What every part of one shop's platform shares: passed in, not closed over, so each part reads and tests alone. */
export interface ShopifyContext {
  /** The shop's myshopify.com domain. */
  shop: string
  client: AdminClient
  /** Which of these media ids Atelier published for this shop (the publications table), asked once per batch. */
  isOurs: (mediaIds: readonly string[]) => Promise<ReadonlySet<string>>
  /** The guarded fetch for CDN downloads and staged uploads. */
  fetchImpl: (url: string | URL, init?: RequestInit) => Promise<Response>
  /** How long to wait for Shopify to process an image. */
  mediaTimeoutMs: number
  /** First wait before polling a new media, doubling to 3 s. */
  firstPollMs: number
  log: ReturnType<typeof logger>
  /** Serialises attaches per product. */
  lock: ProductLock
}
