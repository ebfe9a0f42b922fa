// A Taobao seller's shop as a StorePlatform: items as products, their main
// and colour images as sources, renders published to main-image slots (or a
// colour's image) and undone exactly. Which images are Atelier's is what the
// publications table says (their picture paths), never a guess from names.
import { and, eq } from 'drizzle-orm'
import { db } from '#app/lib/db.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { createKeyedLock } from '#app/lib/keyed-lock.server.ts'
import type { PublishOptions, StorePlatform } from '#app/modules/platforms/types.ts'
import { publications, type Tenant } from '#db/schema.ts'
import type { TopClient } from '../top/client.server.ts'
import { catalogImages } from './bulk-catalog.server.ts'
import { getProduct, imageUrl, listCollections, listProducts, parseImageRef, sellerItem } from './catalog.server.ts'
import { taobaoContext, topRedis, type TaobaoContext } from './context.server.ts'
import { downloadImage } from './download.server.ts'
import { decodePublished, picPathOf } from './publish-record.ts'
import { MAX_MAIN_IMAGES } from './item-images.server.ts'
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

/**
 * Where the render goes: the colour image it was made from (its SKU
 * properties read from the item), the slot the seller chose, or slot 0 for
 * "featured" (the item's major image).
 */
async function targetOf(ctx: TaobaoContext, productId: string, opts: PublishOptions): Promise<TaobaoPublishTarget | undefined> {
  const colour = opts.slot?.colourOfImage
  if (colour) {
    const ref = parseImageRef(colour)
    const prop = ref.kind === 'prop' ? (await sellerItem(ctx, productId)).prop_imgs.find((p) => p.id === ref.id) : undefined
    if (!prop) throw new AppError('INVALID_INPUT', 'This render was not made from one of the item’s colour images.', { details: { colour } })
    return { skuProperties: prop.properties }
  }
  if (opts.slot) return { position: opts.slot.position, replaceImageId: opts.slot.replaceImageId }
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
    capabilities: { embedded: false, featuredImage: true, colourImages: true, mainImageSlots: MAX_MAIN_IMAGES },
    chargesAppUsage: false,
    catalogSelections: new Set(['all', 'collection', 'query', 'products']),
    listProducts: (query, cursor) => listProducts(ctx, query, cursor),
    getProduct: (productId) => getProduct(ctx, productId, (urls) => ours(tenant.id, productId, urls)),
    listCollections: () => listCollections(ctx),
    readImage: async (productId, imageId) => downloadImage(await imageUrl(ctx, productId, imageId)),
    publishImage: (productId, image, alt, opts: PublishOptions) =>
      lock(productId, async () => publishToItem(ctx, productId, image, alt, { ...opts, target: await targetOf(ctx, productId, opts) })),
    unpublishImage: (productId, externalId) => lock(productId, () => unpublishFromItem(ctx, productId, externalId)),
    readCatalog: async (selection, opts) => ({
      state: 'ready',
      images: catalogImages(ctx, selection, (productRef, urls) => ours(tenant.id, productRef, urls), opts.onMissing),
      mayIncludeOurs: false,
    }),
  }
}
