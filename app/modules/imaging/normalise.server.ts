import { createHash } from 'node:crypto'
import sharp, { type Metadata } from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import { env } from '#app/lib/env.server.ts'
import type { RawImage, SourceImage } from '#app/modules/backends/types.ts'
import { endsEarly, sniffImage, type AcceptedFormat } from './sniff.ts'

export interface NormaliseOptions {
  /** Largest accepted upload in bytes; default env MAX_UPLOAD_BYTES. */
  maxBytes?: number
  /** Largest accepted width × height; default env MAX_INPUT_PIXELS. */
  maxPixels?: number
}

/** Shortest edge a product photo may have: below this nothing downstream can work. */
export const MIN_EDGE = 64
/** Longest edge divided by shortest edge: beyond 6:1 it is a banner, not a product shot. */
export const MAX_ASPECT = 6

const ACCEPTED_LIST = 'JPEG, PNG, WebP or AVIF'
/** sharp's name for each accepted container, as reported by metadata(). */
const SHARP_FORMAT: Record<AcceptedFormat, string> = { jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'heif' }

/**
 * Turns an upload into the one shape every later stage can trust: 8-bit sRGB
 * pixels, EXIF orientation applied, colour profile converted, metadata gone.
 * Refuses anything else with an AppError whose message tells the merchant
 * what to do. The original bytes are never modified; `sha256` is theirs.
 */
export async function normaliseImage(bytes: Buffer, opts: NormaliseOptions = {}): Promise<SourceImage> {
  const maxBytes = opts.maxBytes ?? env().MAX_UPLOAD_BYTES
  const maxPixels = opts.maxPixels ?? env().MAX_INPUT_PIXELS
  checkSize(bytes, maxBytes)
  const format = checkFormat(bytes)
  const header = await readHeader(bytes, format)
  checkDimensions(header.width, header.height, maxPixels)
  const decoding = decode(bytes, format, maxPixels, header.hasAlpha)
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

function humanBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`
}

function checkSize(bytes: Buffer, maxBytes: number): void {
  if (bytes.length === 0) {
    throw new AppError('IMAGE_EMPTY', 'This file is empty (0 bytes). Upload the product photo again.')
  }
  if (bytes.length > maxBytes) {
    throw new AppError(
      'IMAGE_TOO_LARGE',
      `This file is ${humanBytes(bytes.length)}; the limit is ${humanBytes(maxBytes)}. Export the photo as a JPEG (quality 90 is plenty) or at a smaller size, then upload it again.`,
      { details: { bytes: bytes.length, maxBytes } },
    )
  }
}

function checkFormat(bytes: Buffer): AcceptedFormat {
  const sniffed = sniffImage(bytes)
  switch (sniffed.kind) {
    case 'accepted':
      return sniffed.format
    case 'svg':
      throw new AppError(
        'IMAGE_SVG_REJECTED',
        `SVG files can't be used: they are drawings that can carry scripts, not photos. Export the product photo as ${ACCEPTED_LIST} and upload that.`,
      )
    case 'unsupported':
      throw new AppError(
        'IMAGE_UNSUPPORTED_FORMAT',
        `${sniffed.format} images aren't supported. Save the photo as ${ACCEPTED_LIST} and upload it again.`,
        { details: { format: sniffed.format } },
      )
    case 'not-image':
      throw new AppError(
        'IMAGE_NOT_AN_IMAGE',
        `This file isn't an image (it looks like ${sniffed.what}). Upload a product photo as ${ACCEPTED_LIST}.`,
        { details: { detected: sniffed.what } },
      )
  }
}

const TRUNCATED_MESSAGE =
  'This image is incomplete: the file ends before the picture does, usually because an upload or download was interrupted. Upload the original file again.'
const CORRUPT_MESSAGE =
  "This image is damaged and can't be read. Open it in an image editor, export it again as JPEG or PNG, and upload that."

function readFailure(bytes: Buffer, format: AcceptedFormat, cause: unknown): AppError {
  const message = cause instanceof Error ? cause.message : String(cause)
  if (/pixel limit/i.test(message)) return pixelLimitError(0, 0, 0, cause)
  if (/premature end|truncat|unexpected end|not enough (image )?data/i.test(message) || endsEarly(bytes, format)) {
    return new AppError('IMAGE_TRUNCATED', TRUNCATED_MESSAGE, { cause })
  }
  return new AppError('IMAGE_CORRUPT', CORRUPT_MESSAGE, { cause })
}

interface Header {
  width: number
  height: number
  hasAlpha: boolean
}

/** Header only: dimensions come from here so a bomb is refused before any pixel is decoded. */
async function readHeader(bytes: Buffer, format: AcceptedFormat): Promise<Header> {
  let meta: Metadata
  try {
    // why no pixel limit here: we want the declared size, to refuse it ourselves with numbers.
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'warning' }).metadata()
  } catch (cause) {
    throw readFailure(bytes, format, cause)
  }
  const agrees = meta.format === SHARP_FORMAT[format] && (format !== 'avif' || meta.compression === 'av1')
  if (!agrees || !meta.width || !meta.height) {
    // why: the magic bytes promised one format and the decoder found another (or none).
    throw new AppError('IMAGE_CORRUPT', CORRUPT_MESSAGE, { details: { sniffed: format, decoder: meta.format } })
  }
  return { width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha ?? false }
}

function pixelLimitError(width: number, height: number, maxPixels: number, cause?: unknown): AppError {
  const edge = Math.floor(Math.sqrt(maxPixels || env().MAX_INPUT_PIXELS) / 100) * 100
  const declared =
    width && height ? `${width} × ${height} px (${Math.round((width * height) / 1e6)} megapixels)` : 'larger than we can process'
  return new AppError(
    'IMAGE_PIXEL_LIMIT',
    `This image is ${declared}. Resize it to at most ${edge} × ${edge} px and upload it again.`,
    { cause, details: { width, height, maxPixels } },
  )
}

function checkDimensions(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw pixelLimitError(width, height, maxPixels)
  if (Math.min(width, height) < MIN_EDGE) {
    throw new AppError(
      'IMAGE_TOO_SMALL',
      `This image is only ${width} × ${height} px. Use a photo at least ${MIN_EDGE} px on each side (1000 px or more keeps the product sharp).`,
      { details: { width, height, minEdge: MIN_EDGE } },
    )
  }
  if (Math.max(width, height) / Math.min(width, height) > MAX_ASPECT) {
    throw new AppError(
      'IMAGE_ASPECT_RATIO',
      `This image is ${width} × ${height} px, more than ${MAX_ASPECT} times longer than it is wide. Crop it closer to the product (square or portrait works best) and upload it again.`,
      { details: { width, height, maxAspect: MAX_ASPECT } },
    )
  }
}

async function decode(bytes: Buffer, format: AcceptedFormat, maxPixels: number, hasAlpha: boolean): Promise<RawImage> {
  try {
    // why failOn 'warning': sharp's advice for untrusted input; it is what turns
    // a half-downloaded JPEG into an error instead of a grey lower half.
    const pipeline = sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels, autoOrient: true })
      // why: converts through the embedded ICC profile (CMYK, Display P3,
      // Adobe RGB…) to sRGB; output carries no profile and no metadata.
      .toColourspace('srgb')
    const { data, info } = await (hasAlpha ? pipeline.ensureAlpha() : pipeline.removeAlpha())
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, channels: info.channels === 4 ? 4 : 3 }
  } catch (cause) {
    throw readFailure(bytes, format, cause)
  }
}
