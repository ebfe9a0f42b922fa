import sharp, { type Metadata } from 'sharp'
import { MAX_MASK_BYTES } from '#app/lib/body-limit.server.ts'
import { AppError } from '#app/lib/errors.ts'
import { imageStore, sha256 } from '#app/lib/storage.server.ts'

/**
 * The merchant's brush, as one PNG the size of the source photo: one layer
 * per channel, 0 or 255.
 *
 * - R, Keep: the product. The CPU studio cuts out exactly these pixels, and
 *   every backend must leave them as they are.
 * - G, Repaint: where a generative backend may change the photo (its
 *   inpainting mask).
 * - B, Hint: rough strokes that guide generation (arms drawn onto a headless
 *   mannequin), a GPU backend's ControlNet / scribble input.
 *
 * The three-layer PNG is what we store (renders.maskKey), so GPU backends can
 * read Repaint and Hint; the Backend contract's `mask` is the Keep layer alone
 * (see keepLayerPng).
 */
export const MASK_LAYERS = ['keep', 'repaint', 'hint'] as const
export type MaskLayer = (typeof MASK_LAYERS)[number]

// The web edge bounds the studio form by the same figure (body-limit.server.ts).
export { MAX_MASK_BYTES } from '#app/lib/body-limit.server.ts'

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const LAYER_HELP = 'red = Keep (the product), green = Repaint, blue = Hint'

export interface MerchantMask {
  /** Canonical 3-channel PNG (R keep, G repaint, B hint, each 0/255), no metadata. */
  png: Buffer
  /** sha256 of `png`: its content address, and part of the render idempotency key. */
  sha256: string
  width: number
  height: number
  /** Share of the frame each layer covers, 0..1. */
  coverage: Record<MaskLayer, number>
}

export interface MaskRules {
  /** The render places or protects the product, so the Keep layer must say where it is. */
  requireKeep: boolean
}

function invalid(message: string, details?: Record<string, unknown>): AppError {
  return new AppError('INVALID_INPUT', message, { details })
}

function megabytes(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export function maskTooLarge(bytes?: number): AppError {
  const size = bytes === undefined ? 'larger than' : `${megabytes(bytes)}, over`
  return new AppError(
    'IMAGE_TOO_LARGE',
    `The mask is ${size} the ${megabytes(MAX_MASK_BYTES)} limit. Clear it and draw it again with fewer strokes.`,
    { details: { maxBytes: MAX_MASK_BYTES } },
  )
}

async function readHeader(bytes: Buffer): Promise<Metadata> {
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw invalid(`The mask must be a PNG image (${LAYER_HELP}).`)
  try {
    return await sharp(bytes, { limitInputPixels: false, failOn: 'warning' }).metadata()
  } catch (cause) {
    throw new AppError('INVALID_INPUT', 'The mask PNG is damaged and cannot be read. Draw the mask again.', { cause })
  }
}

function checkSize(meta: Metadata, size: { width: number; height: number }): void {
  if (meta.format !== 'png') throw invalid(`The mask must be a PNG image (${LAYER_HELP}).`)
  if (meta.width !== size.width || meta.height !== size.height) {
    throw invalid(
      `The mask is ${meta.width} × ${meta.height} px but the source photo is ${size.width} × ${size.height} px. Draw the mask on this photo again.`,
      { mask: { width: meta.width, height: meta.height }, source: size },
    )
  }
  if (meta.channels < 3) throw invalid(`The mask must be a colour PNG with one layer per channel (${LAYER_HELP}).`)
}

/**
 * The mask's three layers as 0/255 RGB pixels. why threshold at 128: brush
 * edges are anti-aliased, and a layer is a yes/no per pixel. why flatten on
 * black: a transparent pixel is one nobody painted.
 */
async function decodeLayers(bytes: Buffer, width: number, height: number): Promise<Buffer> {
  let data: Buffer
  try {
    data = await sharp(bytes, { failOn: 'warning', limitInputPixels: width * height })
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer()
  } catch (cause) {
    throw new AppError('INVALID_INPUT', 'The mask PNG is damaged and cannot be read. Draw the mask again.', { cause })
  }
  for (let i = 0; i < data.length; i++) data[i] = data[i] >= 128 ? 255 : 0
  return data
}

function coverageOf(layers: Buffer, pixels: number): Record<MaskLayer, number> {
  const counts = [0, 0, 0]
  for (let i = 0; i < layers.length; i += 3) {
    if (layers[i]) counts[0]++
    if (layers[i + 1]) counts[1]++
    if (layers[i + 2]) counts[2]++
  }
  return { keep: counts[0] / pixels, repaint: counts[1] / pixels, hint: counts[2] / pixels }
}

/**
 * Checks a merchant's mask against the source photo it was drawn on and
 * returns it in canonical form. Refuses (INVALID_INPUT, in words) anything
 * that is not a PNG of exactly the source's size, an empty mask, and an
 * empty Keep layer when the render needs to know where the product is.
 * why canonical: the browser's PNG encoder decides its own bytes; the same
 * strokes must give the same content address and idempotency key.
 */
export async function readMerchantMask(
  bytes: Buffer,
  size: { width: number; height: number },
  rules: MaskRules,
): Promise<MerchantMask> {
  if (bytes.length === 0) throw invalid('The mask is an empty file. Draw the mask again.')
  if (bytes.length > MAX_MASK_BYTES) throw maskTooLarge(bytes.length)
  checkSize(await readHeader(bytes), size)
  const layers = await decodeLayers(bytes, size.width, size.height)
  const coverage = coverageOf(layers, size.width * size.height)
  if (coverage.keep + coverage.repaint + coverage.hint === 0) {
    throw invalid('The mask is empty. Paint over the product with the Keep brush, or close the mask editor.')
  }
  if (rules.requireKeep && coverage.keep === 0) {
    throw invalid('The Keep layer is empty. Paint over the product with the Keep brush so we know which pixels to protect.')
  }
  const png = await sharp(layers, { raw: { width: size.width, height: size.height, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer()
  return { png, sha256: sha256(png), width: size.width, height: size.height, coverage }
}

/** Stores the mask by content; the returned key is its sha256 (renders.maskKey). */
export function storeMerchantMask(mask: MerchantMask): Promise<string> {
  return imageStore().put(mask.png)
}

/**
 * The Keep layer as the Backend contract's mask: an 8-bit single-channel PNG,
 * white = product. The stored mask's Repaint (G) and Hint (B) layers are for
 * GPU backends (inpainting mask, ControlNet scribble), which read the stored
 * three-layer PNG themselves.
 */
export async function keepLayerPng(stored: Buffer): Promise<Buffer> {
  // why no toColourspace('b-w'): libvips would read the lone band as sRGB and
  // turn white into grey; one extracted band already encodes as greyscale.
  return sharp(stored).extractChannel(0).png({ compressionLevel: 6 }).toBuffer()
}
