import { isAppError } from '#app/lib/errors.ts'
import type { CatalogImage, CatalogRead, CatalogSelection, ProductQuery, ReadCatalogOptions, StorePlatform } from './types.ts'

// Reading a catalog page by page through the platform's own listing: what a
// folder catalog does for every selection, and Shopify for picked products.

const PAGE_SIZE = 100

/** Every original image of the products a platform lists for a query, page by page. */
export async function* listedImages(platform: StorePlatform, query: ProductQuery): AsyncGenerator<CatalogImage> {
  let cursor: string | null = null
  do {
    const page = await platform.listProducts({ ...query, first: PAGE_SIZE }, cursor)
    for (const product of page.products) {
      for (const image of product.images) {
        if (!image.ours) yield { productRef: product.id, productTitle: product.title, imageRef: image.id }
      }
    }
    cursor = page.nextCursor
  } while (cursor)
}

/**
 * The images of products the merchant picked one by one. A product that is
 * gone (deleted since it was picked) is skipped and reported, not fatal.
 */
export async function* selectedImages(
  platform: StorePlatform,
  productIds: readonly string[],
  onMissing: (productId: string, reason: string) => void = () => {},
): AsyncGenerator<CatalogImage> {
  for (const id of new Set(productIds)) {
    let product
    try {
      product = await platform.getProduct(id)
    } catch (e) {
      if (isAppError(e) && (e.code === 'NOT_FOUND' || e.code === 'INVALID_INPUT')) {
        onMissing(id, e.message)
        continue
      }
      throw e
    }
    for (const image of product.images) {
      if (!image.ours) yield { productRef: product.id, productTitle: product.title, imageRef: image.id }
    }
  }
}

/** The platform query a selection means (local catalogs and page-by-page reads). */
export function selectionQuery(selection: Exclude<CatalogSelection, { kind: 'products' }>): ProductQuery {
  if (selection.kind === 'collection') return { collectionId: selection.collectionId }
  if (selection.kind === 'query') return { search: selection.query }
  return {}
}

/** A catalog read through listProducts/getProduct: always ready at once. */
export async function readListedCatalog(
  platform: StorePlatform,
  selection: CatalogSelection,
  opts: ReadCatalogOptions,
): Promise<CatalogRead> {
  const images =
    selection.kind === 'products'
      ? selectedImages(platform, selection.productIds, opts.onMissing)
      : listedImages(platform, selectionQuery(selection))
  return { state: 'ready', images, mayIncludeOurs: false }
}
