import { z } from 'zod'
import type { BulkSelection } from '#db/schema.ts'

export const platformSchema = z.enum(['shopify', 'taobao', 'local'])
export type PlatformName = z.infer<typeof platformSchema>

export interface ProductImage {
  /** Platform id of the image (media id, picture id, or catalog file name). */
  id: string
  url?: string
  alt: string | null
  width: number | null
  height: number | null
  /** True for images Atelier published (never offered as a source). */
  ours: boolean
  /** Its main-image slot, where the platform has numbered ones (Taobao: 0–4, 0 the major image). */
  slot?: number
}

export interface Product {
  id: string
  title: string
  vendor?: string | null
  productType?: string | null
  status?: string | null
  images: ProductImage[]
}

export interface ProductPage {
  products: Product[]
  nextCursor: string | null
}

export interface ProductQuery {
  /** Free words, matched against titles. */
  search?: string
  vendor?: string
  productType?: string
  status?: 'active' | 'draft' | 'archived'
  /** A collection id from listCollections(). */
  collectionId?: string
  first?: number
}

export interface Collection {
  id: string
  title: string
}

/**
 * Where a multi-step publish records how far it got (kept on the publication
 * row), so a retry after a crash resumes instead of adding a second image.
 */
export interface PublishCheckpoint {
  load(): Promise<Record<string, unknown>>
  save(patch: Record<string, unknown>): Promise<void>
}

export interface PublishOptions {
  /** Stable key (the render id): publishing the same key twice returns the first id. */
  idempotencyKey: string
  filenameHint?: string
  checkpoint?: PublishCheckpoint
  /** Make the new image the product's featured (first) image. */
  featured?: boolean
  /** Where the product is in the image (fractions of it), for a platform that must crop to its own aspect. */
  productBox?: { x: number; y: number; width: number; height: number }
  /** Taobao: the main image slot (0–4) to attach at, or the original to replace when all five are taken. */
  slot?: { position?: number; replaceImageId?: string; /** Publish as this colour image's replacement (a source image id). */ colourOfImage?: string }
}

/** One original image a catalog read found, in the product's own image order. */
export interface CatalogImage {
  productRef: string
  productTitle: string
  imageRef: string
}

export type CatalogSelection = BulkSelection
export type CatalogSelectionKind = CatalogSelection['kind']

export interface ReadCatalogOptions {
  /** What a previous call answered with `started`; null on the first call. */
  operation: string | null
  /** A picked product that is gone (deleted since it was picked): skipped, not fatal. */
  onMissing?: (productId: string, reason: string) => void
}

/**
 * A catalog read, immediate (a folder) or asynchronous (a Shopify bulk
 * operation): call again with the `started` handle until it is `ready`.
 * A read that cannot finish throws an AppError (retryable when it may).
 */
export type CatalogRead =
  | { state: 'started'; operation: string }
  | { state: 'running' }
  | {
      state: 'ready'
      images: AsyncIterable<CatalogImage>
      /** True when images Atelier published may still be listed (checked against the publications table). */
      mayIncludeOurs: boolean
    }

/** What a platform's pages can offer, so a route asks the platform instead of naming one. */
export interface PlatformCapabilities {
  /** The app runs inside the platform's admin (App Bridge: its resource picker, downloads through the top frame). */
  readonly embedded: boolean
  /** A published image can be made the product's featured (first) one. */
  readonly featuredImage: boolean
  /** A render of a colour variant's image can replace that colour's image (Taobao's SKU colour images). */
  readonly colourImages: boolean
  /** How many numbered main-image slots a product has, for the merchant to publish into (Taobao 5; 0: none). */
  readonly mainImageSlots: number
}

export interface StorePlatform {
  readonly name: PlatformName
  readonly capabilities: PlatformCapabilities
  listProducts(query: ProductQuery, cursor: string | null): Promise<ProductPage>
  getProduct(productId: string): Promise<Product>
  /** Collections to filter by (empty where the platform has none). */
  listCollections(): Promise<Collection[]>
  /** Original bytes of a product image, as the platform stores them. */
  readImage(productId: string, imageId: string): Promise<Buffer>
  publishImage(productId: string, image: Buffer, alt: string, opts: PublishOptions): Promise<{ externalId: string }>
  /** Removes exactly what publishImage added; never an original. Idempotent. */
  unpublishImage(productId: string, externalId: string): Promise<void>
  /** Whether renders for this catalog are charged as app usage (Shopify's usage plan); false renders free. */
  readonly chargesAppUsage: boolean
  /** The selection kinds readCatalog accepts (a folder has no collections). */
  readonly catalogSelections: ReadonlySet<CatalogSelectionKind>
  /** The original images a selection covers, for a bulk run; streamed, never held whole. */
  readCatalog(selection: CatalogSelection, opts: ReadCatalogOptions): Promise<CatalogRead>
}
