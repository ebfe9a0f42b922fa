import sharp from 'sharp'
import { z } from 'zod'
import { admitImage, decodeFailure } from './gate.server.ts'

/** A preview's width as a URL asks for it (?w=). */
export const previewWidth = z.coerce.number().int().min(32).max(2048)

const thumbs = new Map<string, Buffer>()
const THUMB_CACHE = 300

/**
 * A small WebP preview of a product image, cached in memory; the original is
 * only read. The bytes are the platform's (anyone with catalog access chose
 * them), so they pass the same gate as an upload: an AppError IMAGE_* when
 * they are not a photo we would decode.
 */
export async function thumbnail(cacheKey: string, read: () => Promise<Buffer>, width: number): Promise<Buffer> {
  const key = `${cacheKey}@${width}`
  const hit = thumbs.get(key)
  if (hit) return hit
  const bytes = await read()
  const admitted = await admitImage(bytes)
  let out: Buffer
  try {
    out = await sharp(bytes, { limitInputPixels: admitted.maxPixels, failOn: 'warning', autoOrient: true })
      .resize({ width, height: width, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer()
  } catch (cause) {
    throw decodeFailure(bytes, admitted.format, cause)
  }
  if (thumbs.size >= THUMB_CACHE) thumbs.delete(thumbs.keys().next().value as string)
  thumbs.set(key, out)
  return out
}
