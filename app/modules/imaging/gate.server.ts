import sharp, { type Metadata } from 'sharp'
import { AppError } from '#app/lib/errors.ts'
import { env } from '#app/lib/env.server.ts'
import { endsEarly, sniffImage, type AcceptedFormat } from './sniff.ts'

// The one door for bytes someone else chose (uploads, the platform's product
// images, a backend's result): size, format from the magic bytes, and the
// declared dimensions are checked before any decoder runs, and whatever a
// decoder still says goes out as an IMAGE_* error, never libvips text.

/** Longest edge divided by shortest edge: beyond 6:1 it is a banner, not a product shot. */
export const MAX_ASPECT = 6

export interface GateLimits {
  /** Largest accepted file in bytes; default env MAX_UPLOAD_BYTES. */
  maxBytes?: number
  /** Largest accepted width × height; default env MAX_INPUT_PIXELS. */
  maxPixels?: number
}

export interface AdmittedImage {
  format: AcceptedFormat
  width: number
  height: number
  hasAlpha: boolean
  /** Pass to sharp as `limitInputPixels` when decoding these bytes. */
  maxPixels: number
}

const ACCEPTED_LIST = 'JPEG, PNG, WebP or AVIF'
/** sharp's name for each accepted container, as reported by metadata(). */
const SHARP_FORMAT: Record<AcceptedFormat, string> = { jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'heif' }

/**
 * Admits bytes for decoding, or throws the AppError that says why not:
 * IMAGE_EMPTY, IMAGE_TOO_LARGE (413), IMAGE_SVG_REJECTED,
 * IMAGE_UNSUPPORTED_FORMAT, IMAGE_NOT_AN_IMAGE (415), IMAGE_PIXEL_LIMIT
 * (413), IMAGE_ASPECT_RATIO, IMAGE_CORRUPT, IMAGE_TRUNCATED (422).
 * Only the header is read; no pixel is decoded.
 */
export async function admitImage(bytes: Buffer, limits: GateLimits = {}): Promise<AdmittedImage> {
  const maxBytes = limits.maxBytes ?? env().MAX_UPLOAD_BYTES
  const maxPixels = limits.maxPixels ?? env().MAX_INPUT_PIXELS
  checkSize(bytes, maxBytes)
  const format = checkFormat(bytes)
  const header = await readHeader(bytes, format)
  checkDimensions(header.width, header.height, maxPixels)
  return { format, ...header, maxPixels }
}

/** What a decode of admitted bytes that still failed means to a merchant. */
export function decodeFailure(bytes: Buffer, format: AcceptedFormat, cause: unknown): AppError {
  const message = cause instanceof Error ? cause.message : String(cause)
  if (/pixel limit/i.test(message)) return pixelLimitError(0, 0, 0, cause)
  if (/premature end|truncat|unexpected end|not enough (image )?data/i.test(message) || endsEarly(bytes, format)) {
    return new AppError('IMAGE_TRUNCATED', TRUNCATED_MESSAGE, { cause })
  }
  return new AppError('IMAGE_CORRUPT', CORRUPT_MESSAGE, { cause })
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

/** Header only: dimensions come from here so a bomb is refused before any pixel is decoded. */
async function readHeader(bytes: Buffer, format: AcceptedFormat): Promise<{ width: number; height: number; hasAlpha: boolean }> {
  let meta: Metadata
  try {
    // why no pixel limit here: we want the declared size, to refuse it ourselves with numbers.
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'warning' }).metadata()
  } catch (cause) {
    throw decodeFailure(bytes, format, cause)
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

// why aspect here too: a 1 × 40,000,000 strip is within the pixel limit yet costs seconds of CPU to resize.
function checkDimensions(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) throw pixelLimitError(width, height, maxPixels)
  if (Math.max(width, height) / Math.min(width, height) > MAX_ASPECT) {
    throw new AppError(
      'IMAGE_ASPECT_RATIO',
      `This image is ${width} × ${height} px, more than ${MAX_ASPECT} times longer than it is wide. Crop it closer to the product (square or portrait works best) and upload it again.`,
      { details: { width, height, maxAspect: MAX_ASPECT } },
    )
  }
}
