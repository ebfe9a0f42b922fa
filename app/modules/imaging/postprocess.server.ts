import sharp from 'sharp'
import { FINAL_JPEG } from '#app/modules/backends/cpu-studio.server.ts'
import type { FidelityReport, RawImage, RenderResult, SourceImage } from '#app/modules/backends/types.ts'
import type { Operation } from '#app/modules/looks/schema.ts'
import { compareFidelity, prepareFidelity, type FidelityReference } from './fidelity.server.ts'
import { protectProduct } from './protect.server.ts'

// What the worker does to a remote backend's result before it is stored:
// decode it, put the merchant's product back (protect.server.ts), encode the
// final JPEG and measure fidelity on exactly the pixels that were encoded.
//
// why this order: the source side of the fidelity check (prepareFidelity)
// needs no result pixels, so it runs while libvips decodes the result on its
// own thread; the comparison runs while the final JPEG encodes. A QA-gate
// retry of the same render reuses the prepared source side (`reference`).

/** Operations whose result keeps the photo's geometry, so the original pixels can go back in place. */
export const SAME_GEOMETRY: readonly Operation[] = ['scene_swap', 'product_scene']

export interface PostprocessInput {
  source: SourceImage
  result: RenderResult
  operation: Operation
  /** The source side of the fidelity check from an earlier attempt with the same mask, placement and frame. */
  reference?: FidelityReference
}

export interface PostprocessOutput {
  result: RenderResult
  fidelity: FidelityReport
  reference: FidelityReference
}

export async function decodeRgb(image: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 }
}

function sameReference(ref: FidelityReference | undefined, result: RenderResult): ref is FidelityReference {
  return ref !== undefined && ref.frame.width === result.width && ref.frame.height === result.height
}

export async function postprocessRemote(input: PostprocessInput): Promise<PostprocessOutput> {
  const { source, result, operation } = input
  const decoding = result.pixels ? Promise.resolve(result.pixels) : decodeRgb(result.image)
  decoding.catch(() => undefined)
  const reference = sameReference(input.reference, result)
    ? input.reference
    : await prepareFidelity({
        source,
        sourceMask: result.sourceMask,
        placement: result.placement,
        frame: { width: result.width, height: result.height },
      })
  const pixels = await decoding
  if (result.protected) {
    return { result: { ...result, pixels }, fidelity: await compareFidelity(reference, pixels), reference }
  }
  const out = protectProduct({
    source,
    sourceMask: result.sourceMask,
    result: pixels,
    placement: result.placement,
    geometry: SAME_GEOMETRY.includes(operation) ? 'unchanged' : 'changed',
    resultMask: result.resultMask,
  })
  if (out.method === 'none') {
    return { result: { ...result, pixels }, fidelity: await compareFidelity(reference, pixels), reference }
  }
  // why together: the encode runs in libvips while the comparison runs here.
  const [image, fidelity] = await Promise.all([
    sharp(out.pixels.data, { raw: { width: out.pixels.width, height: out.pixels.height, channels: 3 } })
      .jpeg(FINAL_JPEG)
      .toBuffer(),
    compareFidelity(reference, out.pixels),
  ])
  return {
    result: { ...result, image, contentType: 'image/jpeg', pixels: out.pixels, protected: true },
    fidelity,
    reference,
  }
}
