import { z } from 'zod'
import { AppError } from '#app/lib/errors.ts'
import type { ItemImg } from '../top/schemas.ts'

// What a Taobao publish records: its steps on the publication row (the
// checkpoint), and the externalId that carries everything undo needs.

const NUM_IID = /^\d{1,19}$/
const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/
/** A sale property pair, e.g. `1627207:28341` (颜色分类:黑色). */
export const SKU_PROPERTIES = /^\d+:\d+$/

/** An item main image as it was before a publish replaced it: undo puts exactly this back. */
const originalSchema = z.object({
  id: z.number().int(),
  url: z.string(),
  /** Its image-space path (what `taobao.item.joint.img` takes as `pic_path`). */
  path: z.string(),
  position: z.number().int().min(0),
})
export type OriginalImage = z.infer<typeof originalSchema>

const stepsSchema = z.object({
  /** The render id the steps belong to. */
  key: z.string().nullish(),
  /** Set just before picture.upload: from here on, a picture of ours may exist without its id saved. */
  uploadRequestedAt: z.string().nullish(),
  /** Uploaded to the image space. */
  picture: z.object({ id: z.number().int(), path: z.string() }).nullish(),
  /** Chosen just before attaching (the replaced original saved while it is still on the item). */
  target: z.object({ position: z.number().int().min(0).max(4), replaced: originalSchema.nullable() }).nullish(),
  /** Attached: the item image that shows our picture. */
  itemImgId: z.number().int().nullish(),
  /** A SKU colour image target: its properties and the colour's image before ours (saved before the upload). */
  sku: z.object({ properties: z.string(), original: originalSchema.nullable() }).nullish(),
  /** Uploaded as the colour's image. */
  propImg: z.object({ id: z.number().int(), url: z.string(), sha256: z.string().nullish() }).nullish(),
})
export type PublishSteps = z.infer<typeof stepsSchema>

export function parseSteps(raw: Record<string, unknown>, key: string): PublishSteps {
  const parsed = stepsSchema.safeParse(raw)
  // why refuse: guessing past a corrupt record could attach a second image.
  if (!parsed.success) throw new AppError('INTERNAL', `The publish record is malformed: ${z.prettifyError(parsed.error)}`)
  if (parsed.data.key && parsed.data.key !== key) {
    throw new AppError('INTERNAL', `The publish record belongs to render ${parsed.data.key}, not ${key}`)
  }
  return parsed.data
}

const publishedSchema = z.object({
  v: z.literal(1),
  /** num_iid */
  n: z.string().regex(NUM_IID),
  /** Our item image's id when attached. */
  i: z.number().int(),
  /** Our picture's image-space path: how undo recognises our image, whatever its id. */
  p: z.string().min(1),
  /** The render id. */
  k: z.string(),
  /** The original we replaced, if any. */
  r: originalSchema.nullish(),
  /** For a SKU colour image: its properties (`i` is then the prop_img id). */
  s: z.string().regex(SKU_PROPERTIES).nullish(),
  /** For a SKU colour image: SHA-256 (hex, 32) of our bytes, as a restore upload gives the colour's image a new URL. */
  h: z.string().nullish(),
})
export type Published = z.infer<typeof publishedSchema>

export function encodePublished(p: Published): string {
  return Buffer.from(JSON.stringify(p)).toString('base64url')
}

export function decodePublished(externalId: string): Published {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(externalId, 'base64url').toString('utf8'))
  } catch {
    json = null
  }
  const parsed = publishedSchema.safeParse(json)
  if (!parsed.success) {
    throw new AppError('INVALID_INPUT', 'This is not an image Atelier published to Taobao', { details: { externalId } })
  }
  return parsed.data
}

export function checkNumIid(numIid: string): number {
  if (!NUM_IID.test(numIid) || !Number.isSafeInteger(Number(numIid))) {
    throw new AppError('INVALID_INPUT', 'Taobao item ids (num_iid) are digits', { details: { numIid } })
  }
  return Number(numIid)
}

export function checkKey(key: string): string {
  if (!IDEMPOTENCY_KEY.test(key)) throw new AppError('INVALID_INPUT', 'Idempotency key must be 1–128 letters, digits, "-" or "_"')
  return key
}

/** The image-space path of a picture or item image URL (Taobao's `pic_path`: the part after the image host's prefix). */
export function picPathOf(url: string): string {
  const m = /^(?:https?:)?\/\/[^/]+\/(?:imgextra|bao\/uploaded)\/(.+)$/.exec(url)
  return m ? m[1] : url.replace(/^\/+/, '')
}

/** The item image showing the picture at `path`, if any. */
export function imageWithPath(images: ItemImg[], path: string): ItemImg | undefined {
  return images.find((m) => picPathOf(m.url) === path)
}
