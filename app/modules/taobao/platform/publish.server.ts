import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import type { PublishCheckpoint, PublishOptions } from '#app/modules/platforms/types.ts'
import type { ItemImg } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'
import { prepareMainImage, type ProductBox } from './main-image.server.ts'
import { MAX_MAIN_IMAGES, outcomeUnknown, readItemImages, subCode } from './item-images.server.ts'
import { publishToSku } from './sku-image.server.ts'
import { uploadOnce } from './upload.server.ts'
import {
  checkKey,
  checkNumIid,
  encodePublished,
  imageWithPath,
  parseSteps,
  picPathOf,
  type OriginalImage,
  type PublishSteps,
} from './publish-record.ts'

// Publishing a render to a Taobao item's main images (主图), resumable step
// by step: (a) upload to the image space's "Atelier" category, (b) choose the
// slot (recording any original it replaces), (c) attach with item.joint.img.
// Undo is unpublishFromItem (unpublish.server.ts).

export { unpublishFromItem } from './unpublish.server.ts'

const ATTACH_ATTEMPTS = 3

export interface TaobaoPublishTarget {
  /** Main image slot 0–4 (0 is the major image); default: the first free one. */
  position?: number
  /** An original item_img id to replace when all 5 are taken. */
  replaceImageId?: string
  /** Publish as this colour's SKU image instead (its sale property, e.g. `1627207:28341`). */
  skuProperties?: string
}

export interface TaobaoPublishOptions extends PublishOptions {
  target?: TaobaoPublishTarget
  /** The product's box, fractions of the image, to keep whole when cropping. */
  productBox?: ProductBox
}

function listed(images: ItemImg[]) {
  return images.map((m) => ({ id: String(m.id), url: m.url, position: m.position }))
}

/** (b) Where the image goes: the seller's choice, or the first free slot; never over an original unless asked. */
export function chooseSlot(
  numIid: number,
  images: ItemImg[],
  target: TaobaoPublishTarget = {},
): { position: number; replaced: OriginalImage | null } {
  if (target.position !== undefined && (!Number.isInteger(target.position) || target.position < 0 || target.position > 4)) {
    throw new AppError('INVALID_INPUT', 'A main image position is 0–4', { details: { position: target.position } })
  }
  if (target.replaceImageId !== undefined) {
    const original = images.find((m) => String(m.id) === target.replaceImageId)
    if (!original) {
      throw new AppError('INVALID_INPUT', `Image ${target.replaceImageId} is no longer on item ${numIid}`, {
        details: { numIid: String(numIid), replaceImageId: target.replaceImageId, images: listed(images) },
      })
    }
    if (target.position !== undefined && target.position !== original.position) {
      throw new AppError('INVALID_INPUT', 'A replaced image keeps its position; choose one or the other', {
        details: { position: target.position, replaceImageId: target.replaceImageId },
      })
    }
    const replaced = { id: original.id, url: original.url, path: picPathOf(original.url), position: original.position }
    return { position: original.position, replaced }
  }
  const taken = new Set(images.map((m) => m.position))
  if (target.position !== undefined) {
    if (taken.has(target.position)) {
      throw new AppError('TAOBAO_SLOT_TAKEN', `Main image ${target.position} of item ${numIid} is taken`, {
        details: { numIid: String(numIid), position: target.position, images: listed(images) },
      })
    }
    return { position: target.position, replaced: null }
  }
  const free = [0, 1, 2, 3, 4].find((p) => !taken.has(p))
  if (free === undefined || images.length >= MAX_MAIN_IMAGES) {
    throw new AppError('TAOBAO_SLOTS_FULL', `Item ${numIid} has ${MAX_MAIN_IMAGES} main images; choose one to replace`, {
      details: { numIid: String(numIid), images: listed(images) },
    })
  }
  return { position: free, replaced: null }
}

/** (b)+(c): attaches our picture unless an earlier attempt did, and returns the item image showing it. */
async function attach(
  ctx: TaobaoContext,
  numIid: number,
  path: string,
  steps: PublishSteps,
  target: TaobaoPublishTarget | undefined,
  checkpoint: PublishCheckpoint,
  justRead: ItemImg[] | null,
): Promise<{ id: number; replaced: OriginalImage | null }> {
  for (let attempt = 1; ; attempt++) {
    // why look first: an attempt that died after attaching (or got no answer) left our picture on the item.
    const images = justRead ?? (await readItemImages(ctx, numIid))
    justRead = null
    const found = imageWithPath(images, path)
    if (found) {
      await checkpoint.save({ itemImgId: found.id })
      return { id: found.id, replaced: steps.target?.replaced ?? null }
    }
    const slot = chooseSlot(numIid, images, target)
    // Saved before the call: replacing overwrites the original's picture on the item, so this is its only record.
    await checkpoint.save({ target: slot })
    steps = { ...steps, target: slot }
    try {
      const img = await ctx.withAuth((auth) =>
        ctx.top.itemJointImg(auth, {
          num_iid: numIid,
          pic_path: path,
          position: slot.position,
          is_major: slot.position === 0 ? true : undefined,
          id: slot.replaced?.id,
        }),
      )
      await checkpoint.save({ itemImgId: img.id })
      return { id: img.id, replaced: slot.replaced }
    } catch (e) {
      if (outcomeUnknown(e)) {
        // Reconcile by reading: attached or not, never sent blind a second time.
        const now = imageWithPath(await readItemImages(ctx, numIid), path)
        if (now) {
          await checkpoint.save({ itemImgId: now.id })
          return { id: now.id, replaced: slot.replaced }
        }
        throw e
      }
      // Another publish took the free slot between our read and our attach: choose again.
      const raced = subCode(e) === 'isv.item-img-position-occupied' || subCode(e) === 'isv.item-img-count-exceeded'
      if (!raced || target?.position !== undefined || target?.replaceImageId !== undefined || attempt >= ATTACH_ATTEMPTS) throw e
    }
  }
}

function memoryCheckpoint(): PublishCheckpoint {
  let steps: Record<string, unknown> = {}
  return {
    load: async () => steps,
    save: async (patch) => void (steps = { ...steps, ...patch }),
  }
}

/**
 * Publishes `image` to item `numIid`'s main images, exactly once per
 * `opts.idempotencyKey` when `opts.checkpoint` is given: every step is saved,
 * and a retry resumes, finding an image an earlier attempt attached.
 */
export async function publishToItem(
  ctx: TaobaoContext,
  numIid: string,
  image: Buffer,
  alt: string,
  opts: TaobaoPublishOptions,
): Promise<{ externalId: string }> {
  const item = checkNumIid(numIid)
  const key = checkKey(opts.idempotencyKey)
  const checkpoint = opts.checkpoint ?? memoryCheckpoint()
  let steps = parseSteps(await checkpoint.load(), key)
  const done = (itemImgId: number, path: string, replaced: OriginalImage | null) => ({
    externalId: encodePublished({ v: 1, n: numIid, i: itemImgId, p: path, k: key, r: replaced }),
  })
  const sku = opts.target?.skuProperties
  if (sku !== undefined) {
    if (opts.target?.position !== undefined || opts.target?.replaceImageId !== undefined) {
      throw new AppError('INVALID_INPUT', 'A colour image has no main image position; choose one or the other')
    }
    return publishToSku(ctx, item, sku, image, { key, productBox: opts.productBox, steps, checkpoint })
  }
  if (steps.itemImgId && steps.picture) return done(steps.itemImgId, steps.picture.path, steps.target?.replaced ?? null)

  let picture = steps.picture
  let images: ItemImg[] | null = null
  if (!picture) {
    // why before the upload: a publish that cannot be attached (slots full) leaves nothing in the image space.
    images = await readItemImages(ctx, item)
    chooseSlot(item, images, opts.target)
    const main = await prepareMainImage(image, opts.productBox)
    picture = await uploadOnce(ctx, main.bytes, alt, key, steps, checkpoint)
    steps = { ...steps, key, picture }
    logger().info(
      { numIid, key, bytes: main.bytes.length, side: main.side, quality: main.quality, fit: main.fit, deltaE: main.deltaE },
      'taobao main image uploaded',
    )
  }
  const attached = await attach(ctx, item, picture.path, steps, opts.target, checkpoint, images)
  return done(attached.id, picture.path, attached.replaced)
}
