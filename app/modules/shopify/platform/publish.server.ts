import { AppError } from '#app/lib/errors.ts'
import { imageExtension } from '#app/modules/imaging/extension.ts'
import type { PublishOptions } from '#app/modules/platforms/types.ts'
import { assertNoUserErrors } from '../admin/errors.ts'
import { sleep } from '#app/lib/sleep.ts'
import { JOB_STATUS, PRODUCT_REORDER_MEDIA } from '../documents.ts'
import { attach } from './attach.server.ts'
import type { ShopifyContext } from './context.ts'
import { checkKey, checkProduct } from './ids.ts'
import { mediaNode } from './images.server.ts'
import { fileNameOf } from './query.ts'
import { CLEAN_STEPS, memoryCheckpoint, parseSteps } from './steps.ts'
import { deleteFiles } from './unpublish.server.ts'

// Adding an image to a product as media, resumable step by step: (a) staged
// target, (b) upload, (c) attach, (d) wait until processed, (e) featured.

const MAX_ALT_LENGTH = 512
// Shopify's limit for an image file.
const MAX_PUBLISH_BYTES = 20 * 1024 * 1024
const MIME = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' } as const

type ImageMedia = NonNullable<Awaited<ReturnType<typeof mediaNode>>>

export async function publishImage(
  ctx: ShopifyContext,
  productId: string,
  image: Buffer,
  altText: string,
  opts: PublishOptions,
): Promise<{ externalId: string }> {
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
    const mediaId = steps.externalId ?? (await attach(ctx, product, image, alt, file, steps, checkpoint, remembered))
    const media = steps.ready ? await mediaNode(ctx, mediaId) : await waitUntilProcessed(ctx, mediaId)
    if (!media) {
      if (pass >= 2)
        throw new AppError('PUBLISH_FAILED', 'The image disappeared from Shopify while it was being published', {
          retryable: true,
        })
      ctx.log.warn({ productId, mediaId }, 'published media is gone; publishing again')
      await checkpoint.save(CLEAN_STEPS)
      continue
    }
    if (media.status === 'FAILED') {
      // why delete: a failed media sits on the product as a broken tile; the
      // retry starts clean from a new upload.
      await deleteFiles(ctx, [mediaId])
      await checkpoint.save(CLEAN_STEPS)
      throw mediaFailed(productId, media)
    }
    assertOurs(media, key, productId, mediaId)
    if (!steps.ready) await checkpoint.save({ ready: true })
    if (opts.featured && !steps.reordered) {
      await makeFeatured(ctx, product, mediaId)
      await checkpoint.save({ reordered: true })
    }
    return { externalId: mediaId }
  }
}

function mediaFailed(productId: string, media: ImageMedia): AppError {
  const reason = media.mediaErrors.map((e) => e.details || e.message).join('; ') || 'Shopify could not process the image'
  return new AppError('MEDIA_FAILED', `Shopify could not process the image: ${reason}`, {
    details: { productId, mediaErrors: media.mediaErrors },
  })
}

function assertOurs(media: ImageMedia, key: string, productId: string, mediaId: string): void {
  if (media.image?.url && !fileNameOf(media.image.url).startsWith(`atelier-${key}`)) {
    // why stop: the id we recorded does not name our file, so removing it
    // later could remove a merchant's image.
    throw new AppError('INTERNAL', `Media ${mediaId} is not the image this publish uploaded`, {
      details: { productId, mediaId },
    })
  }
}

/** (d) Polls the media until READY or FAILED; null when it no longer exists. */
async function waitUntilProcessed(ctx: ShopifyContext, mediaId: string): Promise<ImageMedia | null> {
  const deadline = Date.now() + ctx.mediaTimeoutMs
  let delay = ctx.firstPollMs
  for (;;) {
    await sleep(delay)
    const node = await mediaNode(ctx, mediaId)
    if (!node || node.status === 'READY' || node.status === 'FAILED') return node
    if (Date.now() > deadline) {
      throw new AppError(
        'PUBLISH_FAILED',
        `Shopify is still processing the image after ${Math.round(ctx.mediaTimeoutMs / 1000)} s; try again shortly`,
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
async function makeFeatured(ctx: ShopifyContext, productId: string, mediaId: string): Promise<void> {
  const data = await ctx.client.request(
    PRODUCT_REORDER_MEDIA,
    { id: productId, moves: [{ id: mediaId, newPosition: '0' }] },
    // why idempotent: moving the same media to the same place twice converges.
    { idempotent: true },
  )
  const job = assertNoUserErrors(data.productReorderMedia, 'Making the image the featured one').job
  if (!job || job.done) return
  const deadline = Date.now() + ctx.mediaTimeoutMs
  let delay = ctx.firstPollMs
  for (;;) {
    await sleep(delay)
    const status = await ctx.client.request(JOB_STATUS, { id: job.id })
    if (!status.job || status.job.done) return
    if (Date.now() > deadline)
      throw new AppError('PUBLISH_FAILED', 'Shopify did not finish reordering the images in time', { retryable: true })
    delay = Math.min(3_000, delay * 2)
  }
}
