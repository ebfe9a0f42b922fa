import { AppError } from '#app/lib/errors.ts'

// The file extension a published image is stored under, shared by every
// platform that names files (the folder catalog, Shopify's staged uploads).

/** File extension from the image's magic bytes, never from what the caller claims. */
export function imageExtension(bytes: Buffer): 'jpg' | 'png' | 'webp' | 'avif' | 'gif' {
  if (bytes.length === 0) throw new AppError('IMAGE_EMPTY', 'The image to publish is empty')
  const ascii = (start: number, end: number) => bytes.subarray(start, end).toString('latin1')
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg'
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png'
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp'
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(8, 12))) return 'avif'
  if (bytes.length >= 6 && ['GIF87a', 'GIF89a'].includes(ascii(0, 6))) return 'gif'
  throw new AppError('IMAGE_UNSUPPORTED_FORMAT', 'Only JPEG, PNG, WebP, AVIF or GIF images can be published')
}
