// Product media the way Shopify handles it: created UPLOADED, then PROCESSING
// while Shopify fetches and decodes the source, then READY (a CDN url, width
// and height) or FAILED (mediaErrors). The source is decoded for real with
// sharp, so garbage bytes fail exactly as they would on Shopify.
import path from 'node:path'
import sharp from 'sharp'
import { gid, sha256, uuid } from './ids.ts'
import type { Runtime } from './runtime.ts'
import type { MediaOutcome, MediaRecord, ShopRecord } from './store.ts'
import type { MediaStatus } from './types.ts'

const FETCH_TIMEOUT_MS = 5_000
const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heif: 'image/heic',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
}
const EXT_BY_FORMAT: Record<string, string> = { jpeg: 'jpg', heif: 'heic' }

/**
 * `now` is the moment the request started: one response shows one state, and
 * media created by the request itself are still UPLOADED in its payload, as on Shopify.
 */
export function mediaStatus(rt: Runtime, media: MediaRecord, now = rt.now()): MediaStatus {
  if (media.origin === 'seed') return media.outcome?.ok === false ? 'FAILED' : 'READY'
  // why a third: Shopify reports UPLOADED briefly, then PROCESSING until done.
  if (now - media.createdAt.getTime() < rt.mediaProcessingMs / 3) return 'UPLOADED'
  if (now < media.readyAt || !media.outcome) return 'PROCESSING'
  return media.outcome.ok ? 'READY' : 'FAILED'
}

export function cdnUrl(rt: Runtime, shop: ShopRecord, media: MediaRecord): string | null {
  if (!media.outcome?.ok) return null
  return `${rt.shopBase(shop)}/cdn/files/${media.outcome.cdnName}?v=${Math.floor(media.createdAt.getTime() / 1000)}`
}

/** Decodes the whole image (not just its header), the way Shopify's processing would. */
export async function decodeImage(bytes: Buffer, filename: string, shop: ShopRecord): Promise<MediaOutcome> {
  const digest = sha256(bytes)
  try {
    const meta = await sharp(bytes, { failOn: 'truncated' }).metadata()
    await sharp(bytes, { failOn: 'truncated' }).stats()
    const format = meta.format ?? ''
    if (!meta.width || !meta.height || !MIME_BY_FORMAT[format]) throw new Error(`unsupported format ${format}`)
    const stem = path.basename(filename, path.extname(filename)).replace(/[^A-Za-z0-9_-]+/g, '-') || 'image'
    const cdnName = `${stem}_${uuid()}.${EXT_BY_FORMAT[format] ?? format}`
    shop.cdn.set(cdnName, { bytes, contentType: MIME_BY_FORMAT[format] })
    return { ok: true, sha256: digest, bytes, width: meta.width, height: meta.height, mimeType: MIME_BY_FORMAT[format], cdnName }
  } catch {
    return {
      ok: false,
      sha256: digest,
      code: 'UNSUPPORTED_IMAGE_FILE_TYPE',
      message: 'Image: Unsupported image file type or the file is corrupt.',
      details: `Image ${filename} could not be processed: the file is not a supported image.`,
    }
  }
}

function downloadFailure(source: string): MediaOutcome {
  return {
    ok: false,
    sha256: null,
    code: 'IMAGE_DOWNLOAD_FAILURE',
    message: 'Image: Image could not be downloaded.',
    details: `Nothing could be downloaded from ${source}.`,
  }
}

/** The bytes behind an originalSource: a staged upload of this shop, our CDN, or any reachable URL. */
async function fetchSource(rt: Runtime, shop: ShopRecord, source: string): Promise<Buffer | null> {
  for (const staged of shop.stagedUploads.values()) {
    if (staged.resourceUrl === source) return staged.uploaded?.bytes ?? null
  }
  const cdnPrefix = `${rt.shopBase(shop)}/cdn/files/`
  if (source.startsWith(cdnPrefix)) {
    const name = decodeURIComponent(source.slice(cdnPrefix.length).split('?')[0])
    return shop.cdn.get(name)?.bytes ?? null
  }
  try {
    const res = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    return res.ok ? Buffer.from(await res.arrayBuffer()) : null
  } catch {
    return null
  }
}

function sourceFilename(shop: ShopRecord, source: string): string {
  for (const staged of shop.stagedUploads.values()) if (staged.resourceUrl === source) return staged.filename
  try {
    return path.basename(new URL(source).pathname) || 'image'
  } catch {
    return 'image'
  }
}

export function isValidSourceUrl(source: string): boolean {
  try {
    const url = new URL(source)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/** A MediaImage created through the API; processing runs in the background. */
export function createAppMedia(
  rt: Runtime,
  shop: ShopRecord,
  input: { alt: string | null; originalSource: string; productId: string },
): MediaRecord {
  const legacyId = shop.nextId()
  const now = new Date(rt.now())
  const media: MediaRecord = {
    id: gid('MediaImage', legacyId),
    legacyId,
    origin: 'app',
    alt: input.alt,
    productIds: [input.productId],
    originalSource: input.originalSource,
    createdAt: now,
    updatedAt: now,
    readyAt: now.getTime() + rt.mediaProcessingMs,
    outcome: null,
  }
  rt.track(
    (async () => {
      const bytes = await fetchSource(rt, shop, input.originalSource)
      media.outcome = bytes
        ? await decodeImage(bytes, sourceFilename(shop, input.originalSource), shop)
        : downloadFailure(input.originalSource)
    })(),
  )
  return media
}

/** A product's original photo from the seed: READY from the start. */
export async function createSeedMedia(
  shop: ShopRecord,
  productId: string,
  image: { bytes: Buffer; alt?: string; filename?: string },
  now: Date,
): Promise<MediaRecord> {
  const legacyId = shop.nextId()
  const outcome = await decodeImage(image.bytes, image.filename ?? `seed-${legacyId}.jpg`, shop)
  return {
    id: gid('MediaImage', legacyId),
    legacyId,
    origin: 'seed',
    alt: image.alt ?? null,
    productIds: [productId],
    originalSource: null,
    createdAt: now,
    updatedAt: now,
    readyAt: now.getTime(),
    outcome,
  }
}
