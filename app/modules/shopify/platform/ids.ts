import { AppError } from '#app/lib/errors.ts'

// Shopify ids and keys as Atelier accepts them, checked before any call.

export const PRODUCT_GID = /^gid:\/\/shopify\/Product\/\d+$/
export const MEDIA_IMAGE_GID = /^gid:\/\/shopify\/MediaImage\/\d+$/
const IDEMPOTENCY_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

export function checkProduct(productId: string): string {
  if (!PRODUCT_GID.test(productId))
    throw new AppError('INVALID_INPUT', 'Shopify product ids look like gid://shopify/Product/123', { details: { productId } })
  return productId
}

export function checkMedia(mediaId: string): string {
  if (!MEDIA_IMAGE_GID.test(mediaId))
    throw new AppError('INVALID_INPUT', 'Shopify image ids look like gid://shopify/MediaImage/123', { details: { mediaId } })
  return mediaId
}

export function checkKey(key: string): string {
  if (!IDEMPOTENCY_KEY.test(key)) throw new AppError('INVALID_INPUT', 'Idempotency key must be 1–128 letters, digits, "-" or "_"')
  return key
}
