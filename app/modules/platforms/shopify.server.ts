import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { env } from '#app/lib/env.server.ts'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import { blockedBy, fetchVia, sharedGuard, type OutboundGuard } from '#app/lib/outbound.server.ts'
import { sharedAdminRedis } from '#app/modules/shopify/admin/budget.server.ts'
import type { AdminClient } from '#app/modules/shopify/admin/client.server.ts'
import { assertNoUserErrors, userErrorCodes } from '#app/modules/shopify/admin/errors.ts'
import {
  FILE_DELETE,
  FILE_UPDATE,
  JOB_STATUS,
  LIST_PRODUCTS,
  LIST_COLLECTIONS,
  MEDIA_IMAGE_NODE,
  PRODUCT_ATTACH_MEDIA,
  PRODUCT_REORDER_MEDIA,
  PRODUCT_WITH_MEDIA,
  STAGED_UPLOADS_CREATE,
} from '#app/modules/shopify/documents.ts'
import { imageExtension } from './local.server.ts'
import { readShopifyCatalog, SHOPIFY_CATALOG_SELECTIONS } from './shopify-catalog.server.ts'
import { fileNameOf, OUR_FILE, searchQuery } from './shopify-query.ts'
import type { AtelierProductWithMediaQuery } from '#app/types/admin.generated.d.ts'
import type {
  Product,
  ProductImage,
  ProductPage,
  ProductQuery,
  Collection,
  PublishCheckpoint,
  PublishOptions,
  StorePlatform,
} from './types.ts'

export { fileNameOf, OUR_FILE, searchQuery } from './shopify-query.ts'

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

const DEFAULT_PAGE_SIZE = 24
// why not 250 (the API's cap): a product with its first 10 media is ≈ 23
// points and Shopify refuses any single query above 1000 requested points.
const MAX_PAGE_SIZE = 40
const MAX_MEDIA_PAGES = 5
const MAX_ALT_LENGTH = 512
// Shopify's limit for an image file.
const MAX_PUBLISH_BYTES = 20 * 1024 * 1024
const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
const PRODUCT_GID = /^gid:\/\/shopify\/Product\/\d+$/
const MEDIA_IMAGE_GID = /^gid:\/\/shopify\/MediaImage\/\d+$/
// why a short lease renewed while held: a publisher killed mid-attach must not block the product for long.
const LOCK_TTL_MS = 10_000
const LOCK_RENEW_MS = 3_000
const LOCK_WAIT_MS = 90_000

const MIME = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' } as const

/** What a publish has done so far, as saved in the checkpoint (publications.steps). */
const stepsSchema = z.object({
  target: z
    .object({ url: z.string(), resourceUrl: z.string(), parameters: z.array(z.object({ name: z.string(), value: z.string() })) })
    .nullish(),
  uploaded: z.boolean().nullish(),
  /** Set just before productUpdate: from here on, a media of ours may exist without its id saved. */
  attachRequestedAt: z.string().nullish(),
  externalId: z.string().regex(MEDIA_IMAGE_GID).nullish(),
  ready: z.boolean().nullish(),
  reordered: z.boolean().nullish(),
})
type Steps = z.infer<typeof stepsSchema>

interface MediaNode {
  __typename: string
  id: string
  alt?: string | null
  status?: string
  mediaContentType?: string
  image?: { url: string; width?: number | null; height?: number | null } | null
}

/**
 * The guard for CDN downloads and staged uploads: public addresses only,
 * redirects included. The one origin exempt is the configured Admin API's
 * for this shop (SHOPIFY_ADMIN_ORIGIN), Shopify's own host; pointed at the
 * local Admin fake, that is how its CDN and staged targets on loopback are reached.
 */
export function shopifyGuard(shop: string): OutboundGuard {
  const origin = new URL(env().SHOPIFY_ADMIN_ORIGIN.replaceAll('{shop}', shop)).origin
  // why: the default https://{shop} is public and needs no exemption (nor a guard per shop).
  return sharedGuard(origin.includes(shop) ? [] : [origin])
}

/** A URL from Shopify that leads to a private address is refused for good, not retried. */
function refuseBlocked(e: unknown, what: string): void {
  const blocked = blockedBy(e)
  if (!blocked) return
  throw new AppError(
    'SHOPIFY_UNAVAILABLE',
    `${what} URL Shopify gave leads to a private or special address (${blocked.range}); nothing was sent.`,
    {
      cause: blocked,
      details: { host: blocked.host },
    },
  )
}

export function createShopifyPlatform(options: ShopifyPlatformOptions): StorePlatform {
  const { shop, client, isOurs } = options
  const fetchImpl = fetchVia(options.outbound ?? shopifyGuard(shop))
  const mediaTimeoutMs = options.mediaTimeoutMs ?? 120_000
  const firstPollMs = options.pollIntervalMs ?? 250
  const log = logger().child({ module: 'shopify-platform', shop })
  const lock = createProductLock(
    shop,
    options.redis === undefined ? sharedAdminRedis : options.redis === null ? null : () => options.redis!,
  )

  async function toImages(media: readonly MediaNode[]): Promise<ProductImage[]> {
    const ready = media.filter((m) => m.__typename === 'MediaImage' && m.status === 'READY' && m.image?.url)
    const ours = ready.length > 0 ? await isOurs(ready.map((m) => m.id)) : new Set<string>()
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

  async function listProducts(query: ProductQuery, cursor: string | null): Promise<ProductPage> {
    const first = pageSize(query.first)
    if (cursor !== null && (cursor.length === 0 || cursor.length > 1000))
      throw new AppError('INVALID_INPUT', 'Invalid page cursor')
    const data = await client.request(LIST_PRODUCTS, { first, after: cursor, query: searchQuery(query) })
    const products = await Promise.all(
      data.products.nodes.map(async (p) => ({
        id: p.id,
        title: p.title,
        vendor: p.vendor || null,
        productType: p.productType || null,
        status: p.status.toLowerCase(),
        images: await toImages(p.media.nodes as MediaNode[]),
      })),
    )
    const { hasNextPage, endCursor } = data.products.pageInfo
    return { products, nextCursor: hasNextPage && endCursor ? endCursor : null }
  }

  /** The product with all its media (not only READY images). */
  async function loadProduct(productId: string) {
    const id = checkProduct(productId)
    const media: MediaNode[] = []
    let after: string | null = null
    for (let page = 0; page < MAX_MEDIA_PAGES; page++) {
      const data: AtelierProductWithMediaQuery = await client.request(PRODUCT_WITH_MEDIA, { id, mediaAfter: after })
      const product = data.product
      if (!product) throw new AppError('NOT_FOUND', `Product ${productId} not found in ${shop}`, { details: { productId } })
      media.push(...(product.media.nodes as MediaNode[]))
      after = product.media.pageInfo.hasNextPage ? (product.media.pageInfo.endCursor ?? null) : null
      if (!after) return { product, media }
    }
    return { product: (await client.request(PRODUCT_WITH_MEDIA, { id, mediaAfter: null })).product!, media }
  }

  async function getProduct(productId: string): Promise<Product> {
    const { product, media } = await loadProduct(productId)
    return {
      id: product.id,
      title: product.title,
      vendor: product.vendor || null,
      productType: product.productType || null,
      status: product.status.toLowerCase(),
      images: await toImages(media),
    }
  }

  async function mediaNode(mediaId: string) {
    const data = await client.request(MEDIA_IMAGE_NODE, { id: mediaId })
    const node = data.node
    if (!node || node.__typename !== 'MediaImage') return null
    return node as Extract<typeof node, { __typename: 'MediaImage' }>
  }

  async function readImage(productId: string, imageId: string): Promise<Buffer> {
    checkProduct(productId)
    checkMedia(imageId)
    const node = await mediaNode(imageId)
    if (!node?.image?.url || node.status !== 'READY') {
      throw new AppError('NOT_FOUND', `Image ${imageId} of product ${productId} is not available`, {
        details: { productId, imageId },
      })
    }
    return download(node.image.url)
  }

  /** A CDN file, with no credentials, refused past the upload limit. */
  async function download(url: string): Promise<Buffer> {
    const limit = env().MAX_UPLOAD_BYTES
    let response: Response
    try {
      response = await fetchImpl(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) })
    } catch (e) {
      refuseBlocked(e, 'The image')
      throw new AppError('SHOPIFY_UNAVAILABLE', `The image could not be downloaded from Shopify's CDN`, {
        cause: e,
        retryable: true,
      })
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel()
      throw new AppError(
        response.status === 404 ? 'NOT_FOUND' : 'SHOPIFY_UNAVAILABLE',
        `Shopify's CDN answered ${response.status} for the image`,
        {
          retryable: response.status >= 500,
        },
      )
    }
    const declared = Number(response.headers.get('content-length'))
    if (Number.isFinite(declared) && declared > limit) {
      await response.body.cancel()
      throw new AppError('IMAGE_TOO_LARGE', `The image is ${declared} bytes; the limit is ${limit}`)
    }
    const chunks: Buffer[] = []
    let size = 0
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) {
        await reader.cancel()
        throw new AppError('IMAGE_TOO_LARGE', `The image is larger than the ${limit}-byte limit`)
      }
      chunks.push(Buffer.from(value))
    }
    return Buffer.concat(chunks)
  }

  // ---------------------------------------------------------------------------
  // Publish

  async function publishImage(productId: string, image: Buffer, altText: string, opts: PublishOptions) {
    const product = checkProduct(productId)
    const key = checkKey(opts.idempotencyKey)
    const ext = imageExtension(image)
    if (image.length > MAX_PUBLISH_BYTES) {
      throw new AppError('IMAGE_TOO_LARGE', `Shopify takes images up to ${MAX_PUBLISH_BYTES} bytes; this one is ${image.length}`)
    }
    const alt = altText.trim().slice(0, MAX_ALT_LENGTH)
    const file = { filename: `atelier-${key}.${ext}`, mimeType: MIME[ext], size: image.length, key }
    // why a memory checkpoint without one: the steps still run in order, and
    // with nothing saved every call first looks for an earlier attempt's image.
    const checkpoint = opts.checkpoint ?? memoryCheckpoint()
    const remembered = opts.checkpoint !== undefined

    // Two passes at most: the second starts clean when the image we had
    // recorded is gone (deleted in the admin meanwhile).
    for (let pass = 1; ; pass++) {
      const steps = parseSteps(await checkpoint.load())
      const mediaId = steps.externalId ?? (await attach(product, image, alt, file, steps, checkpoint, remembered))
      const media = steps.ready ? await mediaNode(mediaId) : await waitUntilProcessed(mediaId)
      if (!media) {
        if (pass >= 2)
          throw new AppError('PUBLISH_FAILED', 'The image disappeared from Shopify while it was being published', {
            retryable: true,
          })
        log.warn({ productId, mediaId }, 'published media is gone; publishing again')
        await checkpoint.save(CLEAN_STEPS)
        continue
      }
      if (media.status === 'FAILED') {
        const reason = media.mediaErrors.map((e) => e.details || e.message).join('; ') || 'Shopify could not process the image'
        // why delete: a failed media sits on the product as a broken tile; the
        // retry starts clean from a new upload.
        await deleteFiles([mediaId])
        await checkpoint.save(CLEAN_STEPS)
        throw new AppError('MEDIA_FAILED', `Shopify could not process the image: ${reason}`, {
          details: { productId, mediaErrors: media.mediaErrors },
        })
      }
      if (media.image?.url && !fileNameOf(media.image.url).startsWith(`atelier-${key}`)) {
        // why stop: the id we recorded does not name our file, so removing it
        // later could remove a merchant's image.
        throw new AppError('INTERNAL', `Media ${mediaId} is not the image this publish uploaded`, {
          details: { productId, mediaId },
        })
      }
      if (!steps.ready) await checkpoint.save({ ready: true })
      if (opts.featured && !steps.reordered) {
        await makeFeatured(product, mediaId)
        await checkpoint.save({ reordered: true })
      }
      return { externalId: mediaId }
    }
  }

  /** Steps (a)–(c): staged upload, upload, attach (unless an earlier attempt did). Returns the media id, saved. */
  async function attach(
    productId: string,
    image: Buffer,
    alt: string,
    file: { filename: string; mimeType: string; size: number; key: string },
    steps: Steps,
    checkpoint: PublishCheckpoint,
    remembered: boolean,
  ): Promise<string> {
    // (c, first half) An attempt that got as far as asking Shopify to attach
    // may have succeeded without living to save the id: look before adding.
    if (steps.attachRequestedAt || !remembered) {
      const found = await findAttached(productId, file.key, alt)
      if (found) {
        await checkpoint.save({ externalId: found })
        return found
      }
    }
    let target = steps.target ?? null
    if (!steps.uploaded || !target) {
      if (!target) {
        target = await stagedTarget(file)
        await checkpoint.save({ target })
      }
      const ok = await upload(target, image, file)
      if (!ok) {
        // why once more with a new target: a staged target expires; one saved by an old attempt may have.
        target = await stagedTarget(file)
        await checkpoint.save({ target })
        if (!(await upload(target, image, file)))
          throw new AppError('PUBLISH_FAILED', 'Shopify refused the image upload', { retryable: true })
      }
      await checkpoint.save({ uploaded: true })
    }
    const resourceUrl = target.resourceUrl
    return lock(productId, async () => {
      await checkpoint.save({ attachRequestedAt: new Date().toISOString() })
      let payload
      try {
        const data = await client.request(
          PRODUCT_ATTACH_MEDIA,
          { product: { id: productId }, media: [{ originalSource: resourceUrl, mediaContentType: 'IMAGE', alt }] },
          { idempotent: false },
        )
        payload = assertNoUserErrors(data.productUpdate, 'Attaching the image to the product')
      } catch (e) {
        if (isAppError(e) && e.code === 'SHOPIFY_USER_ERROR') {
          // Nothing was attached: the next attempt needs no search, and a fresh upload.
          await checkpoint.save({ attachRequestedAt: null, target: null, uploaded: false })
        }
        throw e
      }
      const nodes = payload.product?.media.nodes ?? []
      const known = await isOurs(nodes.map((n) => n.id))
      // why the last one with our alt: productUpdate appends, and this lock
      // keeps every other Atelier attach to this product out meanwhile.
      const created = [...nodes]
        .reverse()
        .find((n) => n.mediaContentType === 'IMAGE' && (n.alt ?? '') === alt && !known.has(n.id))
      if (!created || !MEDIA_IMAGE_GID.test(created.id)) {
        throw new AppError('PUBLISH_FAILED', 'Shopify accepted the image but did not list it on the product yet', {
          retryable: true,
        })
      }
      await checkpoint.save({ externalId: created.id })
      return created.id
    })
  }

  /**
   * An image an earlier attempt attached: READY media are recognised by our
   * file name in their URL. Media still processing have no URL yet, so while
   * any with our alt text is, wait for it before deciding.
   */
  async function findAttached(productId: string, key: string, alt: string): Promise<string | null> {
    const deadline = Date.now() + mediaTimeoutMs
    let delay = firstPollMs
    for (;;) {
      const { media } = await loadProduct(productId)
      const ours = media.find((m) => m.image?.url && fileNameOf(m.image.url).startsWith(`atelier-${key}`))
      if (ours) return ours.id
      const pending = media.filter(
        (m) => m.mediaContentType === 'IMAGE' && (m.status === 'UPLOADED' || m.status === 'PROCESSING') && (m.alt ?? '') === alt,
      )
      if (pending.length === 0) return null
      if (Date.now() > deadline) {
        throw new AppError('PUBLISH_FAILED', 'An earlier attempt’s image is still processing on Shopify; try again shortly', {
          retryable: true,
        })
      }
      await sleep(delay)
      delay = Math.min(3_000, delay * 2)
    }
  }

  async function stagedTarget(file: { filename: string; mimeType: string; size: number }) {
    const data = await client.request(
      STAGED_UPLOADS_CREATE,
      {
        input: [
          {
            filename: file.filename,
            mimeType: file.mimeType,
            fileSize: String(file.size),
            resource: 'IMAGE',
            httpMethod: 'POST',
          },
        ],
      },
      // why idempotent: a second staged target is harmless; only the attach adds anything.
      { idempotent: true },
    )
    const payload = assertNoUserErrors(data.stagedUploadsCreate, 'Preparing the upload')
    const t = payload.stagedTargets?.[0]
    if (!t?.url || !t.resourceUrl) throw new AppError('PUBLISH_FAILED', 'Shopify gave no upload target', { retryable: true })
    return { url: t.url, resourceUrl: t.resourceUrl, parameters: t.parameters.map((p) => ({ name: p.name, value: p.value })) }
  }

  /** POSTs the file to the staged target. False when the target refuses it (expired); throws when unreachable. */
  async function upload(
    target: NonNullable<Steps['target']>,
    image: Buffer,
    file: { filename: string; mimeType: string },
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const form = new FormData()
      for (const p of target.parameters) form.append(p.name, p.value)
      // why last: the storage service reads the policy fields before the file.
      form.append('file', new Blob([new Uint8Array(image)], { type: file.mimeType }), file.filename)
      try {
        const response = await fetchImpl(target.url, { method: 'POST', body: form, signal: AbortSignal.timeout(120_000) })
        await response.body?.cancel()
        if (response.ok) return true
        if (response.status < 500 || attempt >= 3) {
          log.warn({ status: response.status, attempt }, 'staged upload refused')
          if (response.status < 500) return false
          throw new AppError('SHOPIFY_UNAVAILABLE', `The upload service answered ${response.status}`, { retryable: true })
        }
      } catch (e) {
        if (isAppError(e)) throw e
        refuseBlocked(e, 'The upload target')
        // why safe to repeat: uploading the same bytes to the same target is idempotent.
        if (attempt >= 3)
          throw new AppError('SHOPIFY_UNAVAILABLE', 'The upload service could not be reached', { cause: e, retryable: true })
      }
      await sleep(500 * attempt)
    }
  }

  /** (d) Polls the media until READY or FAILED; null when it no longer exists. */
  async function waitUntilProcessed(mediaId: string) {
    const deadline = Date.now() + mediaTimeoutMs
    let delay = firstPollMs
    for (;;) {
      await sleep(delay)
      const node = await mediaNode(mediaId)
      if (!node || node.status === 'READY' || node.status === 'FAILED') return node
      if (Date.now() > deadline) {
        throw new AppError(
          'PUBLISH_FAILED',
          `Shopify is still processing the image after ${Math.round(mediaTimeoutMs / 1000)} s; try again shortly`,
          {
            retryable: true,
            details: { mediaId, status: node.status },
          },
        )
      }
      delay = Math.min(3_000, delay * 2)
    }
  }

  /** (e) Moves the media to position 0 and waits for Shopify's reorder job. */
  async function makeFeatured(productId: string, mediaId: string): Promise<void> {
    const data = await client.request(
      PRODUCT_REORDER_MEDIA,
      { id: productId, moves: [{ id: mediaId, newPosition: '0' }] },
      // why idempotent: moving the same media to the same place twice converges.
      { idempotent: true },
    )
    const job = assertNoUserErrors(data.productReorderMedia, 'Making the image the featured one').job
    if (!job || job.done) return
    const deadline = Date.now() + mediaTimeoutMs
    let delay = firstPollMs
    for (;;) {
      await sleep(delay)
      const status = await client.request(JOB_STATUS, { id: job.id })
      if (!status.job || status.job.done) return
      if (Date.now() > deadline)
        throw new AppError('PUBLISH_FAILED', 'Shopify did not finish reordering the images in time', { retryable: true })
      delay = Math.min(3_000, delay * 2)
    }
  }

  async function deleteFiles(ids: string[]): Promise<void> {
    const data = await client.request(FILE_DELETE, { fileIds: ids }, { idempotent: true })
    try {
      assertNoUserErrors(data.fileDelete, 'Deleting the image')
    } catch (e) {
      if (!userErrorCodes(e).every((c) => c === 'FILE_DOES_NOT_EXIST')) throw e
    }
  }

  // ---------------------------------------------------------------------------
  // Unpublish

  async function unpublishImage(productId: string, externalId: string): Promise<void> {
    const product = checkProduct(productId)
    if (!MEDIA_IMAGE_GID.test(externalId) || !(await isOurs([externalId])).has(externalId)) {
      throw new AppError('INVALID_INPUT', `${externalId} was not published by Atelier; only our own images can be removed`)
    }
    const data = await client.request(
      FILE_UPDATE,
      { files: [{ id: externalId, referencesToRemove: [product] }] },
      { idempotent: true },
    )
    try {
      assertNoUserErrors(data.fileUpdate, 'Removing the image from the product')
    } catch (e) {
      const codes = userErrorCodes(e)
      // Already gone: undo is done. Still processing: deleting the file below removes it everywhere.
      if (codes.length === 0 || !codes.every((c) => c === 'FILE_DOES_NOT_EXIST' || c === 'NON_READY_STATE')) throw e
      if (codes.every((c) => c === 'FILE_DOES_NOT_EXIST')) return
    }
    await deleteFiles([externalId])
  }

  async function listCollections(): Promise<Collection[]> {
    const data = await client.request(LIST_COLLECTIONS, { first: 100 })
    return data.collections.nodes.map((c) => ({ id: c.id, title: c.title }))
  }

  const platform: StorePlatform = {
    name: 'shopify',
    listProducts,
    getProduct,
    listCollections,
    readImage,
    publishImage,
    unpublishImage,
    chargesAppUsage: true,
    catalogSelections: SHOPIFY_CATALOG_SELECTIONS,
    readCatalog: (selection, opts) => readShopifyCatalog(platform, { client, fetchImpl: fetchImpl as typeof fetch }, selection, opts),
  }
  return platform
}

// ---------------------------------------------------------------------------
// Helpers

const CLEAN_STEPS: Record<string, unknown> = {
  target: null,
  uploaded: false,
  attachRequestedAt: null,
  externalId: null,
  ready: false,
  reordered: false,
}

function parseSteps(raw: Record<string, unknown>): Steps {
  const parsed = stepsSchema.safeParse(raw)
  // why refuse: guessing past a corrupt record could attach a second image.
  if (!parsed.success) throw new AppError('INTERNAL', `The publish record is malformed: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

function memoryCheckpoint(): PublishCheckpoint {
  let steps: Record<string, unknown> = {}
  return {
    load: async () => steps,
    save: async (patch) => {
      steps = { ...steps, ...patch }
    },
  }
}

function pageSize(first: number | undefined): number {
  if (first === undefined) return DEFAULT_PAGE_SIZE
  if (!Number.isInteger(first) || first < 1)
    throw new AppError('INVALID_INPUT', `"first" must be a positive integer, got ${first}`)
  return Math.min(first, MAX_PAGE_SIZE)
}

function checkProduct(productId: string): string {
  if (!PRODUCT_GID.test(productId))
    throw new AppError('INVALID_INPUT', 'Shopify product ids look like gid://shopify/Product/123', { details: { productId } })
  return productId
}

function checkMedia(mediaId: string): string {
  if (!MEDIA_IMAGE_GID.test(mediaId))
    throw new AppError('INVALID_INPUT', 'Shopify image ids look like gid://shopify/MediaImage/123', { details: { mediaId } })
  return mediaId
}

function checkKey(key: string): string {
  if (!IDEMPOTENCY_KEY.test(key)) throw new AppError('INVALID_INPUT', 'Idempotency key must be 1–128 letters, digits, "-" or "_"')
  return key
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
const RENEW_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`

/**
 * Serialises attaches per product across every process (Redis), or within
 * this one when Redis is not there. why: the attach learns its new media's id
 * from the product's media list, which must not gain another of ours meanwhile.
 */
export function createProductLock(shop: string, redis: (() => Redis) | null) {
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
  return async function withLock<T>(productId: string, work: () => Promise<T>): Promise<T> {
    const key = `${env().QUEUE_PREFIX}:shopify:attach:${shop}:${productId}`
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
      logger().warn({ err: e, shop }, 'attach lock: Redis unavailable, locking in this process only')
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
