import { isAppError } from '#app/lib/errors.ts'
import type { ItemImg } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'

// An item's main images as publish and undo read them, and how they tell a
// refused write from one whose outcome is unknown.

export const MAX_MAIN_IMAGES = 5

/** A write that got no answer: it may have run. */
export function outcomeUnknown(e: unknown): boolean {
  return isAppError(e) && e.details?.outcomeUnknown === true
}

/** Taobao's sub-code of a refusal (`isv.*`), if any. */
export function subCode(e: unknown): string | null {
  return isAppError(e) && typeof e.details?.subCode === 'string' ? e.details.subCode : null
}

/** The item's main images in slot order. */
export async function readItemImages(ctx: TaobaoContext, numIid: number): Promise<ItemImg[]> {
  const item = await ctx.withAuth((auth) => ctx.top.itemSellerGet(auth, { num_iid: numIid, fields: 'num_iid,title,item_img' }))
  return [...item.item_imgs].sort((a, b) => a.position - b.position)
}

/** Writes `write`; when its outcome is unknown, reads the item and accepts it if `doneWhen` holds. */
export async function reconciled(
  ctx: TaobaoContext,
  numIid: number,
  write: () => Promise<unknown>,
  doneWhen: (images: ItemImg[]) => boolean,
): Promise<void> {
  try {
    await write()
  } catch (e) {
    if (subCode(e) === 'isv.item-img-not-exist' || outcomeUnknown(e)) {
      if (doneWhen(await readItemImages(ctx, numIid))) return
    }
    throw e
  }
}
