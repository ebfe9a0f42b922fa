// Publishing images, after the staged upload: productUpdate(media:),
// productReorderMedia, and undo through fileUpdate(referencesToRemove) or
// fileDelete. userErrors use the fields, messages and codes Shopify returns
// (live captures in airhorns/shopify-draft-proxy fixtures/conformance).
import { gid, uuid } from '../ids.ts'
import { createAppMedia, isValidSourceUrl, mediaStatus } from '../media.ts'
import { uniqueHandle, type MediaRecord, type ProductRecord } from '../store.ts'
import { productPayload } from '../webhooks.ts'
import { requireGid, type Ctx, type UserError } from './context.ts'
import { mediaView, productView } from './views.ts'

const MAX_ALT = 512
const MAX_TEXT = 255
const REORDER_JOB_MS = 50

function notifyProductUpdate(ctx: Ctx, product: ProductRecord): void {
  ctx.rt.emitWebhook(ctx.shop, 'products/update', productPayload(ctx.rt, ctx.shop, product))
}

function touch(ctx: Ctx, product: ProductRecord): void {
  product.updatedAt = new Date(ctx.rt.now())
}

interface ProductUpdateInput {
  id?: string | null
  title?: string | null
  handle?: string | null
  vendor?: string | null
  productType?: string | null
  status?: string | null
  tags?: string[] | null
  descriptionHtml?: string | null
  collectionsToJoin?: string[] | null
  collectionsToLeave?: string[] | null
}

interface CreateMediaInput {
  originalSource: string
  mediaContentType: string
  alt?: string | null
}

function normaliseTags(tags: string[]): string[] {
  const seen = new Map<string, string>()
  for (const raw of tags) {
    for (const part of raw.split(',')) {
      const tag = part.trim()
      if (tag && !seen.has(tag.toLowerCase())) seen.set(tag.toLowerCase(), tag)
    }
  }
  return [...seen.values()]
}

export function productUpdate(
  ctx: Ctx,
  args: {
    product?: ProductUpdateInput | null
    input?: ProductUpdateInput | null
    identifier?: { id?: string | null } | null
    media?: CreateMediaInput[] | null
  },
) {
  const { shop, rt } = ctx
  const input = args.product ?? args.input ?? {}
  const id = input.id ?? args.identifier?.id ?? null
  const product = id ? shop.products.get(id) : undefined
  if (!product) return { product: null, userErrors: [{ field: ['id'], message: 'Product does not exist' }] }

  const userErrors: UserError[] = []
  for (const [field, label] of [
    ['title', 'Title'],
    ['vendor', 'Vendor'],
    ['productType', 'Product type'],
    ['handle', 'Handle'],
  ] as const) {
    const value = input[field]
    if (typeof value === 'string' && value.length > MAX_TEXT)
      userErrors.push({ field: [field], message: `${label} is too long (maximum is ${MAX_TEXT} characters)` })
  }
  if (input.title !== undefined && input.title !== null && input.title.trim() === '')
    userErrors.push({ field: ['title'], message: "Title can't be blank" })
  if (userErrors.length) return { product: productView(ctx, product), userErrors }

  if (input.title != null) product.title = input.title
  if (input.handle != null) product.handle = uniqueHandle(shop, input.handle, product.id)
  if (input.vendor != null) product.vendor = input.vendor
  if (input.productType != null) product.productType = input.productType
  if (input.status != null) product.status = input.status
  if (input.descriptionHtml != null) product.descriptionHtml = input.descriptionHtml
  if (input.tags != null) product.tags = normaliseTags(input.tags)
  for (const collectionId of input.collectionsToJoin ?? []) {
    const collection = shop.collections.get(collectionId)
    if (!collection) userErrors.push({ field: ['collectionsToJoin'], message: `Collection ${collectionId} does not exist` })
    else if (!collection.productIds.includes(product.id)) collection.productIds.push(product.id)
  }
  for (const collectionId of input.collectionsToLeave ?? []) {
    const collection = shop.collections.get(collectionId)
    if (collection) collection.productIds = collection.productIds.filter((pid) => pid !== product.id)
  }

  for (const [index, media] of (args.media ?? []).entries()) {
    if (media.mediaContentType !== 'IMAGE') {
      userErrors.push({
        field: ['media', String(index), 'mediaContentType'],
        message: `Media type ${media.mediaContentType} is not supported by the Atelier Shopify fake`,
      })
      continue
    }
    if (!isValidSourceUrl(media.originalSource)) {
      userErrors.push({ field: ['media', String(index), 'originalSource'], message: 'Image URL is invalid' })
      continue
    }
    if (media.alt && media.alt.length > MAX_ALT) {
      userErrors.push({
        field: ['media', String(index), 'alt'],
        message: `The alt value exceeds the maximum limit of ${MAX_ALT} characters.`,
      })
      continue
    }
    const record = createAppMedia(rt, shop, {
      alt: media.alt ?? null,
      originalSource: media.originalSource,
      productId: product.id,
    })
    shop.media.set(record.id, record)
    product.mediaIds.push(record.id)
  }
  touch(ctx, product)
  notifyProductUpdate(ctx, product)
  return { product: productView(ctx, product), userErrors }
}

export function productReorderMedia(ctx: Ctx, args: { id: string; moves: { id: string; newPosition: string | number }[] }) {
  const { shop, rt } = ctx
  requireGid(args.id)
  const product = shop.products.get(args.id)
  if (!product)
    return { job: null, mediaUserErrors: [{ field: ['id'], message: 'Product does not exist', code: 'PRODUCT_DOES_NOT_EXIST' }] }
  const mediaUserErrors: UserError[] = []
  for (const [index, move] of args.moves.entries()) {
    if (!product.mediaIds.includes(move.id)) {
      mediaUserErrors.push({
        field: ['moves', String(index), 'id'],
        message: `Media id ${move.id} does not exist`,
        code: 'MEDIA_DOES_NOT_EXIST',
      })
    }
  }
  if (mediaUserErrors.length) return { job: null, mediaUserErrors }
  const jobId = gid('Job', uuid())
  const doneAt = rt.now() + REORDER_JOB_MS
  shop.jobs.set(jobId, { doneAt })
  // why later: Shopify reorders in a job; an app that reads before the job is done sees the old order.
  rt.later(REORDER_JOB_MS, () => {
    for (const move of args.moves) {
      const from = product.mediaIds.indexOf(move.id)
      if (from < 0) continue
      product.mediaIds.splice(from, 1)
      product.mediaIds.splice(Math.min(Number(move.newPosition), product.mediaIds.length), 0, move.id)
    }
    touch(ctx, product)
    notifyProductUpdate(ctx, product)
  })
  return { job: { __typename: 'Job', id: jobId, done: false, query: null }, mediaUserErrors }
}

interface FileUpdateInput {
  id: string
  alt?: string | null
  filename?: string | null
  originalSource?: string | null
  previewImageSource?: string | null
  referencesToAdd?: string[] | null
  referencesToRemove?: string[] | null
}

export function fileUpdate(ctx: Ctx, args: { files: FileUpdateInput[] }) {
  const { shop, rt } = ctx
  const fail = (message: string, code: string, field: string[] = ['files']) => ({
    files: [],
    userErrors: [{ field, message, code }],
  })
  const missing = args.files.filter((f) => !shop.media.has(f.id)).map((f) => f.id)
  if (missing.length) return fail(`File id ${JSON.stringify(missing)} does not exist.`, 'FILE_DOES_NOT_EXIST')
  const records = args.files.map((f) => shop.media.get(f.id)!)
  if (records.some((m) => mediaStatus(rt, m, ctx.now) !== 'READY'))
    return fail('Non-ready files cannot be updated.', 'NON_READY_STATE')
  const references = args.files.flatMap((f) => [...(f.referencesToAdd ?? []), ...(f.referencesToRemove ?? [])])
  if (references.some((ref) => !shop.products.has(ref)))
    return fail('The reference target does not exist', 'REFERENCE_TARGET_DOES_NOT_EXIST')

  const userErrors: UserError[] = []
  const updated: MediaRecord[] = []
  const touched = new Set<ProductRecord>()
  for (const [index, input] of args.files.entries()) {
    const media = shop.media.get(input.id)!
    if (input.alt && input.alt.length > MAX_ALT) {
      userErrors.push({
        field: ['files', String(index), 'alt'],
        message: `The alt value exceeds the maximum limit of ${MAX_ALT} characters.`,
        code: 'ALT_VALUE_LIMIT_EXCEEDED',
      })
      continue
    }
    if (input.originalSource || input.previewImageSource || input.filename) {
      userErrors.push({
        field: ['files', String(index), 'originalSource'],
        message: 'Replacing a file source or filename is not supported by the Atelier Shopify fake',
        code: 'INVALID',
      })
      continue
    }
    if (input.alt != null) media.alt = input.alt
    for (const productId of input.referencesToRemove ?? []) {
      const product = shop.products.get(productId)!
      media.productIds = media.productIds.filter((id) => id !== productId)
      product.mediaIds = product.mediaIds.filter((id) => id !== media.id)
      touched.add(product)
    }
    for (const productId of input.referencesToAdd ?? []) {
      const product = shop.products.get(productId)!
      if (!media.productIds.includes(productId)) media.productIds.push(productId)
      if (!product.mediaIds.includes(media.id)) product.mediaIds.push(media.id)
      touched.add(product)
    }
    media.updatedAt = new Date(rt.now())
    updated.push(media)
  }
  for (const product of touched) {
    touch(ctx, product)
    notifyProductUpdate(ctx, product)
  }
  return { files: updated.map((m) => mediaView(ctx, m)), userErrors }
}

export function fileDelete(ctx: Ctx, args: { fileIds: string[] }) {
  const { shop } = ctx
  const missing = args.fileIds.filter((id) => !shop.media.has(id))
  if (missing.length) {
    const message = missing.length === 1 ? `File id ${missing[0]} does not exist.` : `File ids ${missing.join(',')} do not exist.`
    return { deletedFileIds: null, userErrors: [{ field: ['fileIds'], message, code: 'FILE_DOES_NOT_EXIST' }] }
  }
  const touched = new Set<ProductRecord>()
  for (const id of args.fileIds) {
    const media = shop.media.get(id)!
    for (const productId of media.productIds) {
      const product = shop.products.get(productId)
      if (!product) continue
      product.mediaIds = product.mediaIds.filter((mid) => mid !== id)
      touched.add(product)
    }
    if (media.outcome?.ok) shop.cdn.delete(media.outcome.cdnName)
    shop.media.delete(id)
    shop.deletedFileIds.push(id)
  }
  for (const product of touched) {
    touch(ctx, product)
    notifyProductUpdate(ctx, product)
  }
  return { deletedFileIds: args.fileIds, userErrors: [] }
}
