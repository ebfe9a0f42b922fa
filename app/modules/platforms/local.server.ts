import { randomBytes } from 'node:crypto'
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import { imageExtension } from '#app/modules/imaging/extension.ts'
import { sniffImage } from '#app/modules/imaging/sniff.ts'
import { readListedCatalog } from './catalog.server.ts'
import type {
  CatalogSelectionKind,
  Product,
  ProductImage,
  ProductPage,
  ProductQuery,
  PublishOptions,
  StorePlatform,
} from './types.ts'

// A folder catalog: `<catalogDir>/<handle>/product.json` plus its image files.
// The merchant owns product.json and the originals; Atelier only ever adds
// `atelier-<key>.<ext>` files and lists them in `atelier.json` beside it, so
// unpublish can prove a file is ours before removing it.

const HANDLE = /^[a-z0-9][a-z0-9-]*$/
// why: a file name, never a path: no separators, no leading dot, no "..".
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]*$/
const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const PRODUCT_FILE = 'product.json'
const MANIFEST_FILE = 'atelier.json'
const DEFAULT_PAGE_SIZE = 24
const MAX_PAGE_SIZE = 100
/** Enough of a file to recognise its format (sniff.ts searches an SVG's first 4 KB). */
const SNIFF_BYTES = 4096

const fileName = z
  .string()
  .regex(FILE_NAME, 'must be a plain file name in the product folder')
  .refine((name) => !name.includes('..'), 'must not contain ".."')

const productFileSchema = z.object({
  id: z.string().regex(HANDLE),
  title: z.string().min(1),
  vendor: z.string().nullish(),
  productType: z.string().nullish(),
  status: z.enum(['active', 'draft', 'archived']).default('active'),
  images: z.array(z.object({ file: fileName, alt: z.string().nullish() })).default([]),
})
type ProductFile = z.infer<typeof productFileSchema>

const manifestSchema = z.object({
  version: z.literal(1),
  images: z.array(
    z.object({
      file: fileName,
      alt: z.string(),
      key: z.string().regex(IDEMPOTENCY_KEY),
      publishedAt: z.iso.datetime(),
    }),
  ),
})
type Manifest = z.infer<typeof manifestSchema>
type ManifestEntry = Manifest['images'][number]

export interface CatalogProblem {
  handle: string
  message: string
}

export interface LocalPlatform extends StorePlatform {
  /** Product folders that could not be read, with the reason; listProducts skips them. */
  listProblems(): Promise<CatalogProblem[]>
}

// why no collections: a folder catalog has none to filter by.
const LOCAL_CATALOG_SELECTIONS: ReadonlySet<CatalogSelectionKind> = new Set(['all', 'query', 'products'])

export function createLocalPlatform(catalogDir: string): LocalPlatform {
  const root = path.resolve(catalogDir)
  const withProductLock = createKeyedLock()
  const productDir = (handle: string) => path.join(root, handle)

  async function listHandles(): Promise<string[]> {
    const entries = await readdir(root, { withFileTypes: true }).catch((e: unknown) => {
      throw new AppError('STORAGE_MISSING', `Catalog folder ${root} cannot be read`, { cause: e })
    })
    return entries
      .filter((e) => e.isDirectory() && HANDLE.test(e.name))
      .map((e) => e.name)
      .sort(compareHandles)
  }

  async function loadProduct(handle: string): Promise<Product> {
    const file = await readProductFile(root, handle)
    const manifest = await readManifest(productDir(handle))
    return toProduct(productDir(handle), file, manifest)
  }

  async function listProducts(query: ProductQuery, cursor: string | null): Promise<ProductPage> {
    const first = pageSize(query.first)
    const after = cursor === null ? null : decodeCursor(cursor)
    const needle = query.search?.trim().toLowerCase() ?? ''
    const handles = (await listHandles()).filter((h) => after === null || compareHandles(h, after) > 0)
    const page: Product[] = []
    // why: read folders lazily in handle order and stop one past the page, so
    // a page costs `first + 1` reads (plus any skipped), not the whole catalog.
    for (const handle of handles) {
      const product = await loadProduct(handle).catch(() => null)
      if (!product || !matches(product, needle, query)) continue
      page.push(product)
      if (page.length > first) break
    }
    const hasMore = page.length > first
    const products = page.slice(0, first)
    return { products, nextCursor: hasMore ? encodeCursor(products[products.length - 1].id) : null }
  }

  async function getProduct(productId: string): Promise<Product> {
    return loadProduct(checkHandle(productId))
  }

  async function readImage(productId: string, imageId: string): Promise<Buffer> {
    const handle = checkHandle(productId)
    const file = await readProductFile(root, handle)
    const manifest = await readManifest(productDir(handle))
    // why: only files the catalog lists (or we published) are readable, so an
    // image id can never reach product.json, atelier.json or anything else.
    const known = file.images.some((i) => i.file === imageId) || manifest.images.some((e) => e.file === imageId)
    if (!known) throw new AppError('NOT_FOUND', `Image "${imageId}" not found on product "${productId}"`)
    return readFile(path.join(productDir(handle), imageId)).catch((e: unknown) => {
      throw new AppError('NOT_FOUND', `Image file "${imageId}" of product "${productId}" is missing`, { cause: e })
    })
  }

  async function publishImage(productId: string, image: Buffer, alt: string, opts: PublishOptions) {
    const handle = checkHandle(productId)
    const key = checkKey(opts.idempotencyKey)
    const ext = imageExtension(image)
    return withProductLock(handle, async () => {
      const dir = productDir(handle)
      const product = await readProductFile(root, handle)
      const manifest = await readManifest(dir)
      const existing = manifest.images.find((e) => e.key === key)
      if (existing) {
        if (await exists(path.join(dir, existing.file))) return { externalId: existing.file }
        // why: the manifest says we published it but someone deleted the file
        // by hand; publishing again restores it under the same id.
        if (!existing.file.endsWith(`.${ext}`)) {
          throw new AppError('PUBLISH_FAILED', `Key "${key}" was published as ${existing.file}; the new image is ${ext}`)
        }
        await writeAtomic(path.join(dir, existing.file), image)
        return { externalId: existing.file }
      }
      const file = `atelier-${key}.${ext}`
      if (product.images.some((i) => i.file === file)) {
        throw new AppError('PUBLISH_FAILED', `"${file}" is one of the product's own images; refusing to overwrite it`)
      }
      // why: image first, then manifest. A crash in between leaves an unlisted
      // file in our own name space that the next publish with this key replaces.
      await writeAtomic(path.join(dir, file), image)
      const entry: ManifestEntry = { file, alt, key, publishedAt: new Date().toISOString() }
      await writeManifest(dir, { version: 1, images: [...manifest.images, entry] })
      return { externalId: file }
    })
  }

  async function unpublishImage(productId: string, externalId: string): Promise<void> {
    const handle = checkHandle(productId)
    if (!fileName.safeParse(externalId).success) {
      throw new AppError('INVALID_INPUT', `"${externalId}" is not an image Atelier published`)
    }
    await withProductLock(handle, async () => {
      const dir = productDir(handle)
      const product = await readProductFile(root, handle)
      const manifest = await readManifest(dir)
      const entry = manifest.images.find((e) => e.file === externalId)
      if (!entry) {
        const isOriginal = product.images.some((i) => i.file === externalId)
        // why: already removed by an earlier unpublish is success (idempotent);
        // anything still on disk that we did not add is the merchant's.
        if (isOriginal || (await exists(path.join(dir, externalId)))) {
          throw new AppError('INVALID_INPUT', `"${externalId}" was not published by Atelier; only our own images can be removed`)
        }
        return
      }
      await rm(path.join(dir, entry.file), { force: true })
      await writeManifest(dir, { version: 1, images: manifest.images.filter((e) => e !== entry) })
    })
  }

  async function listProblems(): Promise<CatalogProblem[]> {
    const problems: CatalogProblem[] = []
    for (const handle of await listHandles()) {
      await loadProduct(handle).catch((e: unknown) => problems.push({ handle, message: (e as Error).message }))
    }
    return problems
  }

  const listCollections = async () => []
  const platform: LocalPlatform = {
    name: 'local',
    // why no featured image: a folder catalog has no image order to change.
    capabilities: { embedded: false, featuredImage: false, colourImages: false, mainImageSlots: 0 },
    listProducts,
    getProduct,
    listCollections,
    readImage,
    publishImage,
    unpublishImage,
    listProblems,
    chargesAppUsage: false,
    catalogSelections: LOCAL_CATALOG_SELECTIONS,
    readCatalog: (selection, opts) => readListedCatalog(platform, selection, opts),
  }
  return platform
}

// why: plain code-unit order (not localeCompare) so paging is stable across
// machines and locales, and cursors compare the same way the list is sorted.
function compareHandles(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function pageSize(first: number | undefined): number {
  if (first === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(first) || first < 1)
    throw new AppError('INVALID_INPUT', `"first" must be a positive integer, got ${first}`)
  return Math.min(first, MAX_PAGE_SIZE)
}

function encodeCursor(handle: string): string {
  return Buffer.from(handle, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const handle = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!HANDLE.test(handle)) throw new AppError('INVALID_INPUT', 'Invalid page cursor')
  return handle
}

function matches(product: Product, needle: string, query: ProductQuery): boolean {
  const same = (a: string | null | undefined, b: string | undefined) => b === undefined || (a ?? '').toLowerCase() === b.trim().toLowerCase()
  if (!same(product.vendor, query.vendor) || !same(product.productType, query.productType) || !same(product.status, query.status)) return false
  // why: a folder catalog has no collections, so asking for one matches nothing.
  if (query.collectionId) return false
  if (needle === '') return true
  return [product.title, product.vendor, product.productType, product.id].some((field) => field?.toLowerCase().includes(needle))
}

function checkHandle(productId: string): string {
  if (!HANDLE.test(productId)) {
    throw new AppError('INVALID_INPUT', 'Product ids are lower-case letters, digits and "-"', { details: { productId } })
  }
  return productId
}

function checkKey(key: string): string {
  if (!IDEMPOTENCY_KEY.test(key)) throw new AppError('INVALID_INPUT', 'Idempotency key must be 1–128 letters, digits, "-" or "_"')
  return key
}

async function readProductFile(root: string, handle: string): Promise<ProductFile> {
  const file = path.join(root, handle, PRODUCT_FILE)
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw new AppError('NOT_FOUND', `Product "${handle}" not found`, { cause: e, details: { productId: handle } })
  })
  const parsed = productFileSchema.safeParse(parseJson(text, `${handle}/${PRODUCT_FILE}`, 'INVALID_INPUT'))
  if (!parsed.success) {
    throw new AppError('INVALID_INPUT', `${handle}/${PRODUCT_FILE} is malformed:\n${z.prettifyError(parsed.error)}`, {
      details: { productId: handle },
    })
  }
  if (parsed.data.id !== handle) {
    throw new AppError('INVALID_INPUT', `${handle}/${PRODUCT_FILE} has id "${parsed.data.id}"; it must equal the folder name`)
  }
  return parsed.data
}

function parseJson(text: string, label: string, code: 'INVALID_INPUT' | 'INTERNAL'): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new AppError(code, `${label} is not valid JSON: ${(e as Error).message}`, { cause: e })
  }
}

async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null
    throw e
  })
  if (text === null) return { version: 1, images: [] }
  const parsed = manifestSchema.safeParse(parseJson(text, `${path.basename(dir)}/${MANIFEST_FILE}`, 'INTERNAL'))
  // why: never "repair" a broken manifest by starting afresh: that would
  // forget which files are ours and make them impossible to unpublish.
  if (!parsed.success) {
    throw new AppError('INTERNAL', `${path.basename(dir)}/${MANIFEST_FILE} is malformed:\n${z.prettifyError(parsed.error)}`)
  }
  return parsed.data
}

function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  return writeAtomic(path.join(dir, MANIFEST_FILE), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`))
}

async function toProduct(dir: string, file: ProductFile, manifest: Manifest): Promise<Product> {
  const originals = file.images.map((i) => ({ file: i.file, alt: i.alt ?? null, ours: false }))
  const ours = manifest.images
    .filter((e) => !file.images.some((i) => i.file === e.file))
    .map((e) => ({ file: e.file, alt: e.alt, ours: true }))
  const images = await Promise.all([...originals, ...ours].map((i) => toImage(dir, i)))
  return {
    id: file.id,
    title: file.title,
    vendor: file.vendor ?? null,
    productType: file.productType ?? null,
    status: file.status,
    images,
  }
}

interface Dimensions {
  version: string
  width: number | null
  height: number | null
}

/** Image sizes by file, valid while the file's inode, size and mtime stay the same. */
const dimensions = new Map<string, Dimensions>()
const MAX_DIMENSIONS = 10_000

async function toImage(dir: string, image: { file: string; alt: string | null; ours: boolean }): Promise<ProductImage> {
  const { width, height } = await dimensionsOf(path.join(dir, image.file))
  return { id: image.file, alt: image.alt, width, height, ours: image.ours }
}

/**
 * why cached: every products page and studio page lists images, and sniffing
 * and reading a header costs far more than the stat that tells the file is unchanged.
 * A missing or unreadable file still lists (size unknown) so one bad file
 * does not hide the product, and readImage reports it.
 */
async function dimensionsOf(file: string): Promise<Dimensions> {
  const info = await stat(file).catch(() => null)
  if (!info) return { version: '', width: null, height: null }
  const version = `${info.ino}:${info.size}:${info.mtimeMs}`
  const known = dimensions.get(file)
  if (known?.version === version) return known
  const meta = await headerOf(file).catch(() => null)
  const found = { version, width: meta?.width ?? null, height: meta?.height ?? null }
  if (dimensions.size >= MAX_DIMENSIONS) dimensions.delete(dimensions.keys().next().value as string)
  dimensions.set(file, found)
  return found
}

/** why sniff first: metadata() parses an SVG whole (librsvg) and reads TIFF directories; only formats we decode get a header read. */
async function headerOf(file: string): Promise<{ width?: number; height?: number } | null> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0)
    if (sniffImage(head.subarray(0, bytesRead)).kind !== 'accepted') return null
  } finally {
    await handle.close()
  }
  return sharp(file, { limitInputPixels: false }).metadata()
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

/** Write to a temp file in the same folder, flush, then rename over the target. */
async function writeAtomic(target: string, bytes: Buffer): Promise<void> {
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temp, 'wx')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, target)
  } catch (e) {
    await rm(temp, { force: true })
    throw e
  }
}

/**
 * Serialises work per key (product handle) inside this process. why: two
 * concurrent publishes to one product would each read the manifest, add their
 * entry and write, and the second write would drop the first entry.
 */
function createKeyedLock() {
  const tails = new Map<string, Promise<unknown>>()
  return async function withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve()
    const run = previous.then(work, work)
    const tail = run.catch(() => undefined)
    tails.set(key, tail)
    try {
      return await run
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}
