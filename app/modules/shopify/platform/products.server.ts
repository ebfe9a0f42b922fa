import { AppError } from '#app/lib/errors.ts'
import type { Collection, Product, ProductImage, ProductPage, ProductQuery } from '#app/modules/platforms/types.ts'
import type { AtelierProductWithMediaQuery } from '#app/types/admin.generated.d.ts'
import { LIST_COLLECTIONS, LIST_PRODUCTS, PRODUCT_WITH_MEDIA } from '../documents.ts'
import type { ShopifyContext } from './context.ts'
import { checkProduct } from './ids.ts'
import { fileNameOf, OUR_FILE, searchQuery } from './query.ts'

// Reading a shop's products, their images and its collections.

const DEFAULT_PAGE_SIZE = 24
// why not 250 (the API's cap): a product with its first 10 media is ≈ 23
// points and Shopify refuses any single query above 1000 requested points.
const MAX_PAGE_SIZE = 40
const MAX_MEDIA_PAGES = 5

export interface MediaNode {
  __typename: string
  id: string
  alt?: string | null
  status?: string
  mediaContentType?: string
  image?: { url: string; width?: number | null; height?: number | null } | null
}

/** The READY images among a product's media, each marked ours or an original. */
export async function toImages(ctx: ShopifyContext, media: readonly MediaNode[]): Promise<ProductImage[]> {
  const ready = media.filter((m) => m.__typename === 'MediaImage' && m.status === 'READY' && m.image?.url)
  const ours = ready.length > 0 ? await ctx.isOurs(ready.map((m) => m.id)) : new Set<string>()
  return ready.map((m) => ({
    id: m.id,
    url: m.image!.url,
    alt: m.alt || null,
    width: m.image!.width ?? null,
    height: m.image!.height ?? null,
    // why the name too: an image from a publish that died before its id was
    // saved is still ours, and must never be offered as a source.
    ours: ours.has(m.id) || OUR_FILE.test(fileNameOf(m.image!.url)),
  }))
}

export async function listProducts(ctx: ShopifyContext, query: ProductQuery, cursor: string | null): Promise<ProductPage> {
  const first = pageSize(query.first)
  if (cursor !== null && (cursor.length === 0 || cursor.length > 1000)) throw new AppError('INVALID_INPUT', 'Invalid page cursor')
  const data = await ctx.client.request(LIST_PRODUCTS, { first, after: cursor, query: searchQuery(query) })
  const products = await Promise.all(
    data.products.nodes.map(async (p) => ({
      id: p.id,
      title: p.title,
      vendor: p.vendor || null,
      productType: p.productType || null,
      status: p.status.toLowerCase(),
      images: await toImages(ctx, p.media.nodes as MediaNode[]),
    })),
  )
  const { hasNextPage, endCursor } = data.products.pageInfo
  return { products, nextCursor: hasNextPage && endCursor ? endCursor : null }
}

/** The product with all its media (not only READY images). */
export async function loadProduct(ctx: ShopifyContext, productId: string) {
  const id = checkProduct(productId)
  const media: MediaNode[] = []
  let after: string | null = null
  for (let page = 0; page < MAX_MEDIA_PAGES; page++) {
    const data: AtelierProductWithMediaQuery = await ctx.client.request(PRODUCT_WITH_MEDIA, { id, mediaAfter: after })
    const product = data.product
    if (!product) throw new AppError('NOT_FOUND', `Product ${productId} not found in ${ctx.shop}`, { details: { productId } })
    media.push(...(product.media.nodes as MediaNode[]))
    after = product.media.pageInfo.hasNextPage ? (product.media.pageInfo.endCursor ?? null) : null
    if (!after) return { product, media }
  }
  return { product: (await ctx.client.request(PRODUCT_WITH_MEDIA, { id, mediaAfter: null })).product!, media }
}

export async function getProduct(ctx: ShopifyContext, productId: string): Promise<Product> {
  const { product, media } = await loadProduct(ctx, productId)
  return {
    id: product.id,
    title: product.title,
    vendor: product.vendor || null,
    productType: product.productType || null,
    status: product.status.toLowerCase(),
    images: await toImages(ctx, media),
  }
}

export async function listCollections(ctx: ShopifyContext): Promise<Collection[]> {
  const data = await ctx.client.request(LIST_COLLECTIONS, { first: 100 })
  return data.collections.nodes.map((c) => ({ id: c.id, title: c.title }))
}

function pageSize(first: number | undefined): number {
  if (first === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(first) || first < 1)
    throw new AppError('INVALID_INPUT', `"first" must be a positive integer, got ${first}`)
  return Math.min(first, MAX_PAGE_SIZE)
}
