import sharp, { type Sharp } from 'sharp'
import { AppError, isAppError } from '#app/lib/errors.ts'
import { admitImage, decodeFailure } from '#app/modules/imaging/gate.server.ts'
import type { Placement, RawImage } from './types.ts'

// The output frame a remote (GPU or hosted) backend starts from, shared by the
// ComfyUI, SD WebUI and WeShop adapters: the photo scaled to fit and centred,
// the bands round it copied from its edges (and repainted by the model), the
// keep mask laid out the same way, and the frame shrunk to a model's working
// size. The product's place (`placement`) is therefore known exactly, and the
// worker puts the merchant's own pixels back.

type Size = { width: number; height: number }

/** sharp's input options for raw pixels. */
export function rawInput(image: RawImage) {
  return { raw: { width: image.width, height: image.height, channels: image.channels } } as const
}

export interface FramePlan {
  /** Where the whole source lies on the output frame. */
  placement: Placement
  /** Its size there, px (rounded). */
  width: number
  height: number
}

/**
 * The source scaled to fit the output frame and centred (the photo's own
 * framing; a different aspect ratio leaves bands that are painted). The
 * fitting axis is exact; the other is rounded to whole pixels, like the CPU
 * studio's placement.
 */
export function fitFrame(source: Size, output: Size): FramePlan {
  const byHeight = output.height / source.height <= output.width / source.width
  const scale = byHeight ? output.height / source.height : output.width / source.width
  const width = byHeight ? Math.min(output.width, Math.max(1, Math.round(source.width * scale))) : output.width
  const height = byHeight ? output.height : Math.min(output.height, Math.max(1, Math.round(source.height * scale)))
  return {
    placement: {
      crop: { left: 0, top: 0, width: source.width, height: source.height },
      scale,
      x: Math.round((output.width - width) / 2),
      y: Math.round((output.height - height) / 2),
    },
    width,
    height,
  }
}

/** The output frame shrunk so its longest side is at most `workEdge`, both sides multiples of 8 (the VAE's block). */
export function workFrame(output: Size, workEdge: number): Size {
  const shrink = Math.min(1, workEdge / Math.max(output.width, output.height))
  const to8 = (v: number) => Math.max(8, Math.round(v / 8) * 8)
  return { width: to8(output.width * shrink), height: to8(output.height * shrink) }
}

export interface WorkFramePlan extends FramePlan {
  /** The frame the model works in: the output frame scaled to `workEdge`, sides multiples of 8. */
  work: Size
}

/** fitFrame, and the work frame of a model that renders at most `workEdge` px (ComfyUI, SD WebUI). */
export function planFrame(source: Size, output: Size, workEdge: number): WorkFramePlan {
  return { ...fitFrame(source, output), work: workFrame(output, workEdge) }
}

function bandsOf(plan: FramePlan, output: Size) {
  const { x, y } = plan.placement
  const bands = { left: x, top: y, right: output.width - x - plan.width, bottom: output.height - y - plan.height }
  return bands.left || bands.top || bands.right || bands.bottom ? bands : undefined
}

/**
 * The photo on the output frame as a pipeline (the caller encodes it): a
 * transparent source flattened on `background`, scaled into place, the bands
 * copied from its edges, no alpha.
 */
export function framedPhoto(source: RawImage, plan: FramePlan, output: Size, background: { r: number; g: number; b: number }): Sharp {
  let image = sharp(source.data, rawInput(source))
  // why by channels: a SourceImage's pixels have 4 exactly when the original had alpha.
  if (source.channels === 4 || source.channels === 2) image = image.flatten({ background })
  if (plan.width !== source.width || plan.height !== source.height) {
    image = image.resize(plan.width, plan.height, { fit: 'fill', kernel: 'lanczos3' })
  }
  const bands = bandsOf(plan, output)
  if (bands) image = image.extend({ ...bands, extendWith: 'copy' })
  return image.removeAlpha()
}

/** framedPhoto's pixels (RGB). */
export async function framedPixels(
  source: RawImage,
  plan: FramePlan,
  output: Size,
  background: { r: number; g: number; b: number },
): Promise<RawImage> {
  const { data, info } = await framedPhoto(source, plan, output, background).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 3 }
}

/** The keep mask on the output frame (single channel, white = product, black bands). */
export async function framedMask(sourceMask: RawImage, plan: FramePlan, output: Size): Promise<RawImage> {
  let image = sharp(sourceMask.data, rawInput(sourceMask))
  if (sourceMask.width !== plan.width || sourceMask.height !== plan.height) {
    image = image.resize(plan.width, plan.height, { fit: 'fill', kernel: 'linear' })
  }
  const bands = bandsOf(plan, output)
  if (bands) image = image.extend({ ...bands, background: { r: 0, g: 0, b: 0, alpha: 1 } })
  const { data, info } = await image.extractChannel(0).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: 1 }
}

/** Raw pixels resized to `size` (the work frame, or back); one channel stays one channel. */
export async function resizedRaw(image: RawImage, size: Size, kernel: 'lanczos3' | 'linear'): Promise<RawImage> {
  if (image.width === size.width && image.height === size.height) return image
  let pipeline = sharp(image.data, rawInput(image)).resize(size.width, size.height, { fit: 'fill', kernel })
  // why: libvips hands a one-band raw input back as sRGB (3 bands) unless told otherwise.
  if (image.channels === 1) pipeline = pipeline.extractChannel(0)
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== image.channels) throw new Error(`resize returned ${info.channels} channels, expected ${image.channels}`)
  return { data, width: info.width, height: info.height, channels: image.channels }
}

/**
 * A backend's result file as 3-channel sRGB pixels (transparency flattened
 * on `background` when given). It passes the image gate first: a backend is
 * a server a shop points us at, so an SVG, TIFF or bomb never reaches a
 * decoder. A file that won't decode is a BACKEND_FAILED naming the backend,
 * retryable when it looks like a broken download.
 */
export async function decodeResult(
  bytes: Buffer,
  opts: { backend: string; details: Record<string, unknown>; background?: { r: number; g: number; b: number } },
): Promise<RawImage> {
  const failed = (cause: unknown) => {
    const code = isAppError(cause) ? cause.code : 'IMAGE_CORRUPT'
    return new AppError('BACKEND_FAILED', `${opts.backend} returned an image that could not be decoded (${code}).`, {
      retryable: code === 'IMAGE_CORRUPT' || code === 'IMAGE_TRUNCATED',
      cause,
      details: { ...opts.details, imageError: code },
    })
  }
  // why no byte cap here: the bytes are already in memory; the download is where size is bounded.
  const admitted = await admitImage(bytes, { maxBytes: Number.MAX_SAFE_INTEGER }).catch((e: unknown) => {
    throw failed(e)
  })
  try {
    let pipeline = sharp(bytes, { limitInputPixels: admitted.maxPixels })
    if (opts.background) pipeline = pipeline.flatten({ background: opts.background })
    const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true })
    return { data, width: info.width, height: info.height, channels: 3 }
  } catch (e) {
    throw failed(decodeFailure(bytes, admitted.format, e))
  }
}
