import { env } from './env.server.ts'
import { signUrl } from './storage.server.ts'

export function contentTypeOf(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg'
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png'
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp'
  if (bytes.subarray(4, 12).toString('latin1').startsWith('ftypavi')) return 'image/avif'
  return 'application/octet-stream'
}

export function imageResponse(bytes: Buffer, contentType = contentTypeOf(bytes)): Response {
  return new Response(new Uint8Array(bytes), {
    headers: {
      'content-type': contentType,
      'content-length': String(bytes.length),
      // why: the URL is signed and expiring; the browser may keep it that long, no proxy may.
      'cache-control': `private, max-age=${env().SIGNED_URL_TTL_SECONDS}`,
      'x-content-type-options': 'nosniff',
    },
  })
}

/** A signed URL for a product image's thumbnail, scoped to one tenant. */
export function productImageUrl(tenantId: string, productId: string, imageId: string, width = 480): string {
  return signUrl(
    `/media/t/${tenantId}/products/${encodeURIComponent(productId)}/images/${encodeURIComponent(imageId)}?w=${width}`,
  )
}
