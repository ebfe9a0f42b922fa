// stagedUploadsCreate: signed upload targets shaped like Shopify's (captured on
// 2026-04): POST targets carry the GCS policy form fields, PUT (the default
// httpMethod) carries content_type and acl. The target itself is served by
// ../staged-uploads.ts.
import { createHmac } from 'node:crypto'
import { uuid } from '../ids.ts'
import type { Ctx, UserError } from './context.ts'

const POLICY_MAX_BYTES = 20 * 1024 * 1024
const IMAGE_MIME_TYPES = new Set([
  'image/jpeg',
  'image/jpg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'image/avif',
  'image/svg+xml',
  'image/tiff',
])
const IMAGE_RESOURCES = new Set(['IMAGE', 'PRODUCT_IMAGE', 'COLLECTION_IMAGE', 'SHOP_IMAGE'])

interface StagedUploadInput {
  filename: string
  mimeType: string
  resource: string
  httpMethod?: 'POST' | 'PUT' | null
  fileSize?: string | number | null
}

export function stagedUploadsCreate(ctx: Ctx, args: { input: StagedUploadInput[] }) {
  const { rt, shop } = ctx
  const userErrors: UserError[] = []
  const stagedTargets = args.input.map((input, index) => {
    const empty = { __typename: 'StagedMediaUploadTarget', url: null, resourceUrl: null, parameters: [] }
    if ((input.resource === 'VIDEO' || input.resource === 'MODEL_3D') && input.fileSize == null) {
      const kind = input.resource === 'VIDEO' ? 'video' : '3D model'
      userErrors.push({ field: ['input', String(index), 'fileSize'], message: `file size is required for ${kind} resources` })
      return empty
    }
    if (IMAGE_RESOURCES.has(input.resource) && !IMAGE_MIME_TYPES.has(input.mimeType.toLowerCase())) {
      userErrors.push({
        field: ['input', String(index), 'mimeType'],
        message: `${input.filename}: (${input.mimeType}) is not a recognized format`,
      })
      return empty
    }
    const id = uuid()
    // why PUT by default: Shopify's default httpMethod (captured on 2026-04) is PUT.
    const httpMethod = input.httpMethod ?? 'PUT'
    const folder = input.resource === 'IMAGE' && httpMethod === 'POST' ? 'products' : 'files'
    const key = `tmp/${shop.legacyId}/${folder}/${id}/${input.filename}`
    const base = `${rt.shopBase(shop)}/staged/${id}`
    const resourceUrl = `${base}/${encodeURIComponent(input.filename)}`
    const signature = createHmac('sha256', rt.apiSecret).update(key).digest('hex')
    const now = new Date(rt.now())
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')
    const credential = `merchant-assets@shopify-tiers.iam.gserviceaccount.com/${stamp.slice(0, 8)}/auto/storage/goog4_request`
    const parameters =
      httpMethod === 'POST'
        ? [
            { name: 'Content-Type', value: input.mimeType },
            { name: 'success_action_status', value: '201' },
            { name: 'acl', value: 'private' },
            { name: 'key', value: key },
            { name: 'x-goog-date', value: stamp },
            { name: 'x-goog-credential', value: credential },
            { name: 'x-goog-algorithm', value: 'GOOG4-RSA-SHA256' },
            { name: 'x-goog-signature', value: signature },
            {
              name: 'policy',
              value: Buffer.from(
                JSON.stringify({
                  conditions: [
                    { 'Content-Type': input.mimeType },
                    { success_action_status: '201' },
                    { acl: 'private' },
                    ['content-length-range', 1, POLICY_MAX_BYTES],
                    { key },
                  ],
                  expiration: new Date(now.getTime() + 86_400_000).toISOString(),
                }),
              ).toString('base64'),
            },
          ]
        : [
            { name: 'content_type', value: input.mimeType },
            { name: 'acl', value: 'private' },
          ]
    const url =
      httpMethod === 'POST'
        ? base
        : `${base}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=${stamp}&X-Goog-Signature=${signature}`
    shop.stagedUploads.set(id, {
      id,
      filename: input.filename,
      mimeType: input.mimeType,
      resource: input.resource,
      httpMethod,
      url,
      resourceUrl,
      parameters,
      uploaded: null,
    })
    return {
      __typename: 'StagedMediaUploadTarget',
      url,
      resourceUrl,
      parameters: parameters.map((p) => ({ __typename: 'StagedUploadParameter', ...p })),
    }
  })
  return { stagedTargets, userErrors }
}
