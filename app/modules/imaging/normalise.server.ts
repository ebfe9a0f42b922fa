import { createHash } from 'node:crypto'
import sharp from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import type { RawImage, SourceImage } from './types.ts'
import { admitImage, decodeFailure, MAX_ASPECT, type AdmittedImage, type GateLimits } from './gate.server.ts'

export type NormaliseOptions = GateLimits

/** Shortest edge a product photo may have: below this nothing downstream can work. */
export const MIN_EDGE = 64
export { MAX_ASPECT }

/**
 * Turns an upload into the one shape every later stage can trust: 8-bit sRGB
 * pixels, EXIF orientation applied, colour profile converted, metadata gone.
 * Refuses anything else with an AppError whose message tells the merchant
 * what to do. The original bytes are never modified; `sha256` is theirs.
 */
export async function normaliseImage(bytes: Buffer, opts: NormaliseOptions = {}): Promise<SourceImage> {
  const admitted = await admitImage(bytes, opts)
  checkEdges(admitted.width, admitted.height)
  const decoding = decode(bytes, admitted)
  // why here: hashing runs on this thread while libvips decodes on its own.
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const pixels = await decoding
  return { pixels, width: pixels.width, height: pixels.height, hasAlpha: pixels.channels === 4, sha256 }
}

/** Lossless PNG of normalised pixels (no metadata), for storage or for backends that want a file. */
export async function encodePng(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png({ compressionLevel: 6 })
    .toBuffer()
}

function checkEdges(width: number, height: number): void {
  if (Math.min(width, height) < MIN_EDGE) {
    throw new AppError(
      'IMAGE_TOO_SMALL',
      `This image is only ${width} × ${height} px. Use a photo at least ${MIN_EDGE} px on each side (1000 px or more keeps the product sharp).`,
      { details: { width, height, minEdge: MIN_EDGE } },
    )
  }
}

async function decode(bytes: Buffer, admitted: AdmittedImage): Promise<RawImage> {
  try {
    // why failOn 'warning': sharp's advice for untrusted input; it is what turns
    // a half-downloaded JPEG into an error instead of a grey lower half.
    const pipeline = sharp(bytes, { failOn: 'warning', limitInputPixels: admitted.maxPixels, autoOrient: true })
      // why: converts through the embedded ICC profile (CMYK, Display P3,
      // Adobe RGB…) to sRGB; output carries no profile and no metadata.
      .toColourspace('srgb')
    const { data, info } = await (admitted.hasAlpha ? pipeline.ensureAlpha() : pipeline.removeAlpha())
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3 }
  } catch (cause) {
    throw decodeFailure(bytes, admitted.format, cause)
  }
}
