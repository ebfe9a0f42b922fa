import { AppError } from '#app/lib/errors.ts'
import { logger } from '#app/lib/logger.server.ts'
import type { ItemImg } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'
import { MAX_MAIN_IMAGES, readItemImages, reconciled } from './item-images.server.ts'
import { checkNumIid, decodePublished, imageWithPath } from './publish-record.ts'
import { unpublishSku } from './sku-image.server.ts'

// Undoing a Taobao publish: our item image out, a replaced original back
// (a SKU colour image: sku-image.server.ts).

/**
 * Undoes a publish: removes exactly our item image, and puts a replaced
 * original back where it was (same id, picture and position when our image is
 * still there). Idempotent; never deletes anything from the image space.
 */
export async function unpublishFromItem(ctx: TaobaoContext, numIid: string, externalId: string): Promise<void> {
  const rec = decodePublished(externalId)
  if (rec.n !== numIid) {
    throw new AppError('INVALID_INPUT', `That image was published to item ${rec.n}, not ${numIid}`, { details: { numIid } })
  }
  const item = checkNumIid(numIid)
  if (rec.s) return unpublishSku(ctx, item, rec)
  const images = await readItemImages(ctx, item)
  const ours = imageWithPath(images, rec.p)
  const original = rec.r
  const originalBack = original ? imageWithPath(images, original.path) !== undefined : true
  const oursGone = (now: ItemImg[]) => !imageWithPath(now, rec.p)
  if (ours && (!original || originalBack)) {
    await reconciled(
      ctx,
      item,
      () => ctx.withAuth((auth) => ctx.top.itemImgDelete(auth, { num_iid: item, id: ours.id })),
      oursGone,
    )
    return
  }
  if (!original || originalBack) return
  const restore = (id: number | undefined) => () =>
    ctx.withAuth((auth) =>
      ctx.top.itemJointImg(auth, {
        num_iid: item,
        pic_path: original.path,
        position: original.position,
        is_major: original.position === 0 ? true : undefined,
        id,
      }),
    )
  const restored = (now: ItemImg[]) => oursGone(now) && imageWithPath(now, original.path) !== undefined
  if (ours) {
    // why in place: the item image keeps the original's id, so the listing reads exactly as before.
    await reconciled(ctx, item, restore(ours.id), restored)
    return
  }
  // Our image was removed by the seller: put the original back only where nothing else now stands.
  const free = !images.some((m) => m.position === original.position) && images.length < MAX_MAIN_IMAGES
  if (free) await reconciled(ctx, item, restore(undefined), restored)
  else logger().warn({ numIid, original }, 'taobao undo: the replaced original’s slot is taken now; left as the seller set it')
}
