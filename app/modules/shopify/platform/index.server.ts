import type { Redis } from 'ioredis'
import { logger } from '#app/lib/logger.server.ts'
import { fetchVia, type OutboundGuard } from '#app/lib/outbound.server.ts'
import type { StorePlatform } from '#app/modules/platforms/types.ts'
import { sharedAdminRedis } from '../admin/budget.server.ts'
import type { AdminClient } from '../admin/client.server.ts'
import { readShopifyCatalog, SHOPIFY_CATALOG_SELECTIONS } from './bulk-catalog.server.ts'
import type { ShopifyContext } from './context.ts'
import { readImage, shopifyGuard } from './images.server.ts'
import { createProductLock } from './lock.server.ts'
import { getProduct, listCollections, listProducts } from './products.server.ts'
import { publishImage } from './publish.server.ts'
import { unpublishImage } from './unpublish.server.ts'

// A Shopify shop's products through the Admin GraphQL API. Atelier adds
// images as product media and removes only media it added: which ones are
// ours is what our publications table says (the `isOurs` lookup), never a
// guess from names or alt text.

export interface ShopifyPlatformOptions {
  /** The shop's myshopify.com domain. */
  shop: string
  client: AdminClient
  /**
   * Which of these media ids Atelier published for this shop (the
   * publications table). Batched: a product page asks once, not per image.
   */
  isOurs: (mediaIds: readonly string[]) => Promise<ReadonlySet<string>>
  /** For the per-product attach lock shared by every process. Default: the admin client's connection; null: this process only. */
  redis?: Redis | null
  /** Uploads to the staged target and CDN downloads (default: shopifyGuard(shop)). */
  outbound?: OutboundGuard
  /** How long to wait for Shopify to process an image (default 2 min). */
  mediaTimeoutMs?: number
  /** First wait before polling a new media, doubling to 3 s (default 250 ms). */
  pollIntervalMs?: number
}

export function shopifyContext(options: ShopifyPlatformOptions): ShopifyContext {
  const { shop, client, isOurs } = options
  return {
    shop,
    client,
    isOurs,
    fetchImpl: fetchVia(options.outbound ?? shopifyGuard(shop)),
    mediaTimeoutMs: options.mediaTimeoutMs ?? 120_000,
    firstPollMs: options.pollIntervalMs ?? 250,
    log: logger().child({ module: 'shopify-platform', shop }),
    lock: createProductLock(
      shop,
      options.redis === undefined ? sharedAdminRedis : options.redis === null ? null : () => options.redis!,
    ),
  }
}

export function createShopifyPlatform(options: ShopifyPlatformOptions): StorePlatform {
  const ctx = shopifyContext(options)
  const platform: StorePlatform = {
    name: 'shopify',
    capabilities: { embedded: true, featuredImage: true, colourImages: false, mainImageSlots: 0 },
    listProducts: (query, cursor) => listProducts(ctx, query, cursor),
    getProduct: (productId) => getProduct(ctx, productId),
    listCollections: () => listCollections(ctx),
    readImage: (productId, imageId) => readImage(ctx, productId, imageId),
    publishImage: (productId, image, alt, opts) => publishImage(ctx, productId, image, alt, opts),
    unpublishImage: (productId, externalId) => unpublishImage(ctx, productId, externalId),
    chargesAppUsage: true,
    catalogSelections: SHOPIFY_CATALOG_SELECTIONS,
    readCatalog: (selection, opts) =>
      readShopifyCatalog(platform, { client: ctx.client, fetchImpl: ctx.fetchImpl as typeof fetch }, selection, opts),
  }
  return platform
}
