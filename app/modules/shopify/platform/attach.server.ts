import { AppError, isAppError } from '#app/lib/errors.ts'
import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import { assertNoUserErrors } from '../admin/errors.ts'
import { sleep } from '#app/lib/sleep.ts'
import { PRODUCT_ATTACH_MEDIA } from '../documents.ts'
import type { ShopifyContext } from './context.ts'
import { MEDIA_IMAGE_GID } from './ids.ts'
import { loadProduct } from './products.server.ts'
import { fileNameOf } from './query.ts'
import type { Steps } from './steps.ts'
import { ensureUploaded, type PublishFile } from './upload.server.ts'

// Steps (a)–(c) of a publish: upload the file and attach it to the product,
// at most once even when an attempt died half-way.

/** Steps (a)–(c): staged upload, upload, attach (unless an earlier attempt did). Returns the media id, saved. */
export async function attach(
  ctx: ShopifyContext,
  productId: string,
  image: Buffer,
  alt: string,
  file: PublishFile,
  steps: Steps,
  checkpoint: PublishCheckpoint,
  remembered: boolean,
): Promise<string> {
  // (c, first half) An attempt that got as far as asking Shopify to attach
  // may have succeeded without living to save the id: look before adding.
  if (steps.attachRequestedAt || !remembered) {
    const found = await findAttached(ctx, productId, file.key, alt)
    if (found) {
      await checkpoint.save({ externalId: found })
      return found
    }
  }
  const target = await ensureUploaded(ctx, image, file, steps, checkpoint)
  return ctx.lock(productId, () => attachLocked(ctx, productId, target.resourceUrl, alt, checkpoint))
}

/** (c) Asks Shopify to attach the uploaded file, under the product's lock, and finds the media it created. */
async function attachLocked(
  ctx: ShopifyContext,
  productId: string,
  resourceUrl: string,
  alt: string,
  checkpoint: PublishCheckpoint,
): Promise<string> {
  await checkpoint.save({ attachRequestedAt: new Date().toISOString() })
  let payload
  try {
    const data = await ctx.client.request(
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
  const known = await ctx.isOurs(nodes.map((n) => n.id))
  // why the last one with our alt: productUpdate appends, and this lock
  // keeps every other Atelier attach to this product out meanwhile.
  const created = [...nodes].reverse().find((n) => n.mediaContentType === 'IMAGE' && (n.alt ?? '') === alt && !known.has(n.id))
  if (!created || !MEDIA_IMAGE_GID.test(created.id)) {
    throw new AppError('PUBLISH_FAILED', 'Shopify accepted the image but did not list it on the product yet', {
      retryable: true,
    })
  }
  await checkpoint.save({ externalId: created.id })
  return created.id
}

/**
 * An image an earlier attempt attached: READY media are recognised by our
 * file name in their URL. Media still processing have no URL yet, so while
 * any with our alt text is, wait for it before deciding.
 */
async function findAttached(ctx: ShopifyContext, productId: string, key: string, alt: string): Promise<string | null> {
  const deadline = Date.now() + ctx.mediaTimeoutMs
  let delay = ctx.firstPollMs
  for (;;) {
    const { media } = await loadProduct(ctx, productId)
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
