import sharp from 'sharp'
import type { Operation } from '#app/modules/looks/schema.ts'
import { compareFidelity, prepareFidelity, type FidelityReference } from './fidelity.server.ts'
import { encodeFinalJpeg } from './jpeg.server.ts'
import { applyComposite, prepareComposite, protectProduct, type CompositeLayer } from './protect.server.ts'
import type { FidelityReport, Framing, RawImage, ResultPixels, SourceImage } from './types.ts'

// What the worker does to a remote backend's result before it is stored:
// decode it, put the merchant's product back (protect.server.ts), encode the
// final JPEG and measure fidelity on exactly the pixels that were encoded.
//
// It is done in two halves (docs/decisions/008-postprocess-split.md):
// - the source side (prepareSource): the composite layer of the source's
//   product pixels in the result frame, and the source half of the fidelity
//   check. It needs only the source, the mask the backend was sent and the
//   placement, so the worker builds it while the backend renders (the
//   adapter announces its framing through RenderControls.onFramed), and a
//   QA-gate retry reuses it;
// - the result side (postprocessRemote): decode, copy the layer in, then the
//   final encode (jpeg.server.ts, off the main thread) while the comparison
//   runs here.

/** Operations whose result keeps the photo's geometry, so the original pixels can go back in place. */
export const SAME_GEOMETRY: readonly Operation[] = ['scene_swap', 'product_scene']

export interface PostprocessInput<R extends ResultPixels = ResultPixels> {
  source: SourceImage
  result: R
  operation: Operation
  /**
   * The source side, prepared earlier (while the backend rendered, or by an
   * earlier attempt); used when it was prepared for this result's mask,
   * placement and frame, else prepared here.
   */
  reference?: PreparedReference | Promise<PreparedReference | undefined>
}

/** A prepared source side and what it was prepared for. */
export interface PreparedReference {
  key: string
  value: FidelityReference
  /** Same-geometry operations: the source's product pixels, placed in the result frame. */
  composite?: CompositeLayer
}

export interface PostprocessOutput<R extends ResultPixels = ResultPixels> {
  /** The result as stored: always encoded. */
  result: R & { image: Buffer }
  fidelity: FidelityReport
  reference: PreparedReference
}

export async function decodeRgb(image: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 }
}

export function referenceKey(framing: Framing, operation: Operation): string {
  const m = framing.sourceMask
  // why a sample of the mask: backends return the same mask object content for the same source; a changed one differs in size or pixels.
  let sample = 0
  for (let i = 0; i < m.data.length; i += 997) sample = (sample * 31 + m.data[i]) >>> 0
  return JSON.stringify([operation, framing.width, framing.height, framing.placement, m.width, m.height, sample])
}

/** The source side of post-processing for a result framed as `framing` (see the top of this file). */
export async function prepareSource(source: SourceImage, framing: Framing, operation: Operation): Promise<PreparedReference> {
  const frame = { width: framing.width, height: framing.height }
  // why started first: the fidelity side's resamples run in libvips while the layer is built here.
  const preparing = prepareFidelity({ source, sourceMask: framing.sourceMask, placement: framing.placement, frame })
  preparing.catch(() => undefined)
  const composite = SAME_GEOMETRY.includes(operation)
    ? prepareComposite({ source, sourceMask: framing.sourceMask, placement: framing.placement, frame })
    : undefined
  return { key: referenceKey(framing, operation), value: await preparing, composite }
}

export async function postprocessRemote<R extends ResultPixels>(input: PostprocessInput<R>): Promise<PostprocessOutput<R>> {
  const { source, result, operation } = input
  // why the decode first: libvips decodes on its own thread while the source side is awaited or prepared here.
  if (!result.pixels && !result.image) throw new Error('postprocessRemote: a result with neither pixels nor an image')
  const decoding = result.pixels ? Promise.resolve(result.pixels) : decodeRgb(result.image!)
  decoding.catch(() => undefined)
  const key = referenceKey(result, operation)
  const earlier = await Promise.resolve(input.reference).catch(() => undefined)
  const reference = earlier?.key === key ? earlier : await prepareSource(source, result, operation)
  const pixels = await decoding
  /** Kept as it came: the backend's own file when it sent one, else its pixels encoded beside the comparison. */
  const asItCame = async (): Promise<PostprocessOutput<R>> => {
    const [image, fidelity] = await Promise.all([result.image ?? encodeFinalJpeg(pixels), compareFidelity(reference.value, pixels)])
    const contentType = result.image ? result.contentType : 'image/jpeg'
    return { result: { ...result, image, contentType, pixels }, fidelity, reference }
  }
  if (result.protected) return asItCame()
  const out = reference.composite
    ? // why in place only on our own decode: pixels a backend handed over may be referenced elsewhere.
      applyComposite(reference.composite, pixels, !result.pixels)
    : protectProduct({
        source,
        sourceMask: result.sourceMask,
        result: pixels,
        placement: result.placement,
        geometry: SAME_GEOMETRY.includes(operation) ? 'unchanged' : 'changed',
        resultMask: result.resultMask,
      })
  if (out.method === 'none') return asItCame()
  // why together: the encode runs on libuv's thread pool (jpeg.server.ts) while the comparison runs here.
  const [image, fidelity] = await Promise.all([encodeFinalJpeg(out.pixels), compareFidelity(reference.value, out.pixels)])
  return {
    result: { ...result, image, contentType: 'image/jpeg', pixels: out.pixels, protected: true },
    fidelity,
    reference,
  }
}
