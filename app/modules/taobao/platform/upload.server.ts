import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import type { Picture } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'
import { outcomeUnknown, subCode } from './item-images.server.ts'
import { picPathOf, type PublishSteps } from './publish-record.ts'

// Step (a) of a Taobao publish: the main image into the seller's image space,
// in an "Atelier" category, at most once even when an attempt died mid-upload.

const CATEGORY_NAME = 'Atelier'
// why 50: Taobao cuts picture titles at 50 characters.
const MAX_TITLE_CHARS = 50
// why a margin: Taobao's clock and ours may disagree by a few minutes.
const CLOCK_SKEW_MS = 10 * 60_000

/** Image-space categories by tenant, so a publish costs no lookup once the category is known. */
const categories = new Map<string, number>()

/** The "Atelier" picture category, found by name or created once. */
async function atelierCategory(ctx: TaobaoContext): Promise<number> {
  const known = categories.get(ctx.tenant.id)
  if (known !== undefined) return known
  const find = async () =>
    (await ctx.withAuth((auth) => ctx.top.pictureCategoryGet(auth, { picture_category_name: CATEGORY_NAME, parent_id: 0 }))).find(
      (c) => c.picture_category_name === CATEGORY_NAME && c.parent_id === 0,
    )?.picture_category_id
  let id = await find()
  if (id === undefined) {
    try {
      id = (await ctx.withAuth((auth) => ctx.top.pictureCategoryAdd(auth, { picture_category_name: CATEGORY_NAME })))
        .picture_category_id
    } catch (e) {
      // Another publish created it meanwhile, or this add ran without an answer: read again.
      if (subCode(e) !== 'isv.picture-category-name-duplicate' && !outcomeUnknown(e)) throw e
      id = await find()
      if (id === undefined) throw e
    }
  }
  categories.set(ctx.tenant.id, id)
  return id
}

/** A TOP time (GMT+8, `yyyy-MM-dd HH:mm:ss`) in ms, or NaN. */
function topTimeMs(value: string | undefined): number {
  return value ? Date.parse(`${value.replace(' ', 'T')}+08:00`) : Number.NaN
}

/**
 * The picture an earlier attempt may have uploaded: in our category, our
 * title, our byte count, made after that attempt asked. why not by name: Taobao
 * gives pictures paths of its own, so title, size and time are what we know.
 */
async function findUploaded(
  ctx: TaobaoContext,
  categoryId: number,
  title: string,
  size: number,
  requestedAt: string,
): Promise<Picture | null> {
  const since = Date.parse(requestedAt) - CLOCK_SKEW_MS
  const { pictures } = await ctx.withAuth((auth) => ctx.top.pictureGet(auth, { picture_category_id: categoryId, page_size: 100 }))
  const ours = pictures.filter(
    (p) => (p.title === title || p.title === `${title}.jpg`) && p.sizes === size && !(topTimeMs(p.created) < since),
  )
  return ours[0] ?? null
}

/**
 * (a) Uploads the main image unless an attempt that got as far as asking did
 * (then finds its picture), and saves the picture in the checkpoint.
 */
export async function uploadOnce(
  ctx: TaobaoContext,
  bytes: Buffer,
  alt: string,
  key: string,
  steps: PublishSteps,
  checkpoint: PublishCheckpoint,
): Promise<{ id: number; path: string }> {
  const title = [...alt.trim()].slice(0, MAX_TITLE_CHARS).join('') || 'Atelier'
  const send = async (categoryId: number) =>
    ctx.withAuth((auth) =>
      ctx.top.pictureUpload(auth, {
        picture_category_id: categoryId,
        image: { bytes, filename: `atelier-${key}.jpg`, contentType: 'image/jpeg' },
        image_input_title: `${title}.jpg`,
        title,
      }),
    )
  let categoryId = await atelierCategory(ctx)
  let picture = steps.uploadRequestedAt ? await findUploaded(ctx, categoryId, title, bytes.length, steps.uploadRequestedAt) : null
  if (!picture) {
    const requestedAt = new Date().toISOString()
    await checkpoint.save({ key, uploadRequestedAt: requestedAt })
    try {
      picture = await send(categoryId)
    } catch (e) {
      if (outcomeUnknown(e)) {
        // Reconcile by reading the image space: an upload that ran is not sent again.
        picture = await findUploaded(ctx, categoryId, title, bytes.length, requestedAt)
        if (!picture) throw e
      } else {
        // The seller deleted the category since we last saw it: find or make it again, once.
        if (subCode(e) !== 'isv.picture-category-not-exist') throw e
        categories.delete(ctx.tenant.id)
        categoryId = await atelierCategory(ctx)
        picture = await send(categoryId)
      }
    }
  }
  const saved = { id: picture.picture_id, path: picPathOf(picture.picture_path) }
  await checkpoint.save({ key, picture: saved })
  return saved
}
