// A Taobao seller's shop as a StorePlatform: items as products, their main
// and colour images as sources, renders published to main-image slots (or a
// colour's image) and undone exactly. Which images are Atelier's is what the
// publications table says (their picture paths), never a guess from names.
import { and, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { createKeyedLock } from '#app/lib/keyed-lock.server.ts'
import type { PublishOptions, StorePlatform } from '#app/modules/platforms/types.ts'
import { publications, type Tenant } from '#db/schema.ts'
import type { TopClient } from '../top/client.server.ts'
import { catalogImages } from './bulk-catalog.server.ts'
import { getProduct, imageUrl, listCollections, listProducts } from './catalog.server.ts'
import { taobaoContext, topRedis } from './context.server.ts'
import { downloadImage } from './download.server.ts'
import { decodePublished, picPathOf } from './publish-record.ts'
import { publishToItem, unpublishFromItem, type TaobaoPublishTarget } from './publish.server.ts'

/** The picture paths Atelier published to this item (live or undone, and publishes that died part-way). */
async function ourPaths(tenantId: string, productRef: string): Promise<Set<string>> {
  const rows = await db()
    .select({ externalId: publications.externalId, steps: publications.steps })
    .from(publications)
    .where(and(eq(publications.tenantId, tenantId), eq(publications.platform, 'taobao'), eq(publications.productRef, productRef)))
  const paths = new Set<string>()
  for (const r of rows) {
    const picture = (r.steps as { picture?: { path?: unknown } }).picture
    if (typeof picture?.path === 'string') paths.add(picture.path)
    if (!r.externalId) continue
    try {
      paths.add(decodePublished(r.externalId).p)
    } catch {
      // A record from before this format names nothing we can match.
    }
  }
  return paths
}

/** The seller's slot choice; "featured" is slot 0, the item's major image. */
function targetOf(opts: PublishOptions): TaobaoPublishTarget | undefined {
  if (opts.slot) return opts.slot
  return opts.featured ? { position: 0 } : undefined
}

/** Which of an item's image URLs show a picture Atelier published there. */
async function ours(tenantId: string, productRef: string, urls: string[]): Promise<ReadonlySet<string>> {
  const paths = await ourPaths(tenantId, productRef)
  return new Set(urls.filter((u) => paths.has(picPathOf(u))))
}

export function createTaobaoPlatform(tenant: Tenant, top?: TopClient): StorePlatform {
  const ctx = taobaoContext(tenant, top)
  // why one publish or undo per item at a time, across processes: each reads the item's slots, then writes one.
  const lock = createKeyedLock(`taobao:attach:${tenant.externalId}`, top ? null : topRedis)
  return {
    name: 'taobao',
    // why featured: main image slot 0 is the item's major image (主图).
    capabilities: { embedded: false, featuredImage: true },
    chargesAppUsage: false,
    catalogSelections: new Set(['all', 'collection', 'query', 'products']),
    listProducts: (query, cursor) => listProducts(ctx, query, cursor),
    getProduct: (productId) => getProduct(ctx, productId, (urls) => ours(tenant.id, productId, urls)),
    listCollections: () => listCollections(ctx),
    readImage: async (productId, imageId) => downloadImage(await imageUrl(ctx, productId, imageId)),
    publishImage: (productId, image, alt, opts: PublishOptions) =>
      lock(productId, () => publishToItem(ctx, productId, image, alt, { ...opts, target: targetOf(opts) })),
    unpublishImage: (productId, externalId) => lock(productId, () => unpublishFromItem(ctx, productId, externalId)),
    readCatalog: async (selection, opts) => ({
      state: 'ready',
      images: catalogImages(ctx, selection, (productRef, urls) => ours(tenant.id, productRef, urls), opts.onMissing),
      mayIncludeOurs: false,
    }),
  }
}
