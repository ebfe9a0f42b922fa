import { createHash } from 'node:crypto'
import { AppError } from '#app/lib/errors.ts'
import type { PublishCheckpoint } from '#app/modules/platforms/types.ts'
import type { PropImg } from '../top/schemas.ts'
import type { TaobaoContext } from './context.server.ts'
import { downloadImage } from './download.server.ts'
import { outcomeUnknown, subCode } from './item-images.server.ts'
import { prepareMainImage, type ProductBox } from './main-image.server.ts'
import { encodePublished, picPathOf, SKU_PROPERTIES, type Published, type PublishSteps } from './publish-record.ts'

// A render as a SKU colour image (`taobao.item.propimg.upload`): one image per
// colour, so publishing replaces the colour's image in place and can never
// add a second one; undo puts the colour's earlier image back.

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32)
}

async function colourImage(ctx: TaobaoContext, numIid: number, properties: string): Promise<PropImg | undefined> {
  const item = await ctx.withAuth((auth) => ctx.top.itemSellerGet(auth, { num_iid: numIid, fields: 'num_iid,title,prop_img' }))
  return item.prop_imgs.find((m) => m.properties === properties)
}

/** Uploads `bytes` as the colour's image; a write without an answer counts when the colour now shows another image than `before`. */
async function uploadColour(
  ctx: TaobaoContext,
  numIid: number,
  properties: string,
  bytes: Buffer,
  key: string,
  before: { id: number; url: string; position: number } | null,
): Promise<{ id: number; url: string }> {
  try {
    const img = await ctx.withAuth((auth) =>
      ctx.top.itemPropimgUpload(auth, {
        num_iid: numIid,
        properties,
        image: { bytes, filename: `atelier-${key}.jpg`, contentType: 'image/jpeg' },
        id: before?.id,
        position: before?.position,
      }),
    )
    if (img.url) return { id: img.id, url: img.url }
  } catch (e) {
    if (!outcomeUnknown(e)) throw e
  }
  // No answer, or one without the URL: read what the colour shows now.
  const now = await colourImage(ctx, numIid, properties)
  if (!now || now.url === before?.url) {
    throw new AppError('TAOBAO_UNAVAILABLE', 'Taobao did not confirm the colour image; try again', { retryable: true })
  }
  return { id: now.id, url: now.url }
}

/** Publishes the render as the image of the colour `properties`, resumable like a main image publish. */
export async function publishToSku(
  ctx: TaobaoContext,
  numIid: number,
  properties: string,
  image: Buffer,
  opts: { key: string; productBox?: ProductBox; steps: PublishSteps; checkpoint: PublishCheckpoint },
): Promise<{ externalId: string }> {
  if (!SKU_PROPERTIES.test(properties)) {
    throw new AppError('INVALID_INPUT', 'A colour is named by its sale property, like 1627207:28341', { details: { properties } })
  }
  const { key, checkpoint } = opts
  let { steps } = opts
  if (steps.sku && steps.sku.properties !== properties) {
    throw new AppError('INTERNAL', `The publish record is for colour ${steps.sku.properties}, not ${properties}`)
  }
  const done = (img: { id: number; url: string }, hash: string | null) => ({
    externalId: encodePublished({
      v: 1,
      n: String(numIid),
      i: img.id,
      p: picPathOf(img.url),
      k: key,
      r: steps.sku?.original ?? null,
      s: properties,
      h: hash,
    }),
  })
  if (steps.propImg) return done(steps.propImg, steps.propImg.sha256 ?? null)
  if (!steps.sku) {
    // Saved before the upload: the upload overwrites the colour's image, so this is its only record.
    const current = await colourImage(ctx, numIid, properties)
    const original = current
      ? { id: current.id, url: current.url, path: picPathOf(current.url), position: current.position }
      : null
    steps = { ...steps, key, sku: { properties, original } }
    await checkpoint.save({ key, sku: steps.sku })
  }
  const main = await prepareMainImage(image, opts.productBox)
  // why safe to send again on a retry: the colour has one image, so a second upload replaces ours in place.
  const img = await uploadColour(ctx, numIid, properties, main.bytes, key, steps.sku!.original)
  const hash = sha256(main.bytes)
  await checkpoint.save({ propImg: { ...img, sha256: hash } })
  return done(img, hash)
}

/** Puts the colour's earlier image back (or removes ours when it had none); a no-op once ours is no longer shown. */
export async function unpublishSku(ctx: TaobaoContext, numIid: number, rec: Published): Promise<void> {
  const properties = rec.s!
  const current = await colourImage(ctx, numIid, properties)
  if (!current) return
  // why also by bytes: undoing a later publish over ours uploads our bytes again, under a new URL.
  const ours = picPathOf(current.url) === rec.p || (rec.h && sha256(await downloadImage(current.url)) === rec.h)
  if (!ours) return
  const original = rec.r
  if (!original) {
    try {
      await ctx.withAuth((auth) => ctx.top.itemPropimgDelete(auth, { num_iid: numIid, id: current.id }))
    } catch (e) {
      if (subCode(e) !== 'isv.prop-img-not-exist' && !outcomeUnknown(e)) throw e
      if ((await colourImage(ctx, numIid, properties))?.id === current.id) throw e
    }
    return
  }
  // why the bytes: propimg.upload takes an image, not a path; the colour keeps its image id and position.
  const bytes = await downloadImage(original.url)
  await uploadColour(ctx, numIid, properties, bytes, rec.k, { id: current.id, url: current.url, position: original.position })
}
