import sharp from 'sharp'
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

const thumbs = new Map<string, Buffer>()
const THUMB_CACHE = 300

/** Small WebP previews of originals, cached in memory; the original is only read. */
export async function thumbnail(cacheKey: string, read: () => Promise<Buffer>, width: number): Promise<Buffer> {
  const key = `${cacheKey}@${width}`
  const hit = thumbs.get(key)
  if (hit) return hit
  const out = await sharp(await read(), { limitInputPixels: env().MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize({ width, height: width, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer()
  if (thumbs.size >= THUMB_CACHE) thumbs.delete(thumbs.keys().next().value as string)
  thumbs.set(key, out)
  return out
}
