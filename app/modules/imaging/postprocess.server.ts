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
  /** The source side of the fidelity check from an earlier attempt (used when its mask, placement and frame are this one's). */
  reference?: PreparedReference
}

/** A prepared source side and what it was prepared for. */
export interface PreparedReference {
  key: string
  value: FidelityReference
}

export interface PostprocessOutput {
  result: RenderResult
  fidelity: FidelityReport
  reference: PreparedReference
}

export async function decodeRgb(image: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 }
}

function referenceKey(result: RenderResult): string {
  const m = result.sourceMask
  // why a sample of the mask: backends return the same mask object content for the same source; a changed one differs in size or pixels.
  let sample = 0
  for (let i = 0; i < m.data.length; i += 997) sample = (sample * 31 + m.data[i]) >>> 0
  return JSON.stringify([result.width, result.height, result.placement, m.width, m.height, sample])
}

export async function postprocessRemote(input: PostprocessInput): Promise<PostprocessOutput> {
  const { source, result, operation } = input
  const decoding = result.pixels ? Promise.resolve(result.pixels) : decodeRgb(result.image)
  decoding.catch(() => undefined)
  const key = referenceKey(result)
  const reference: PreparedReference =
    input.reference?.key === key
      ? input.reference
      : {
          key,
          value: await prepareFidelity({
            source,
            sourceMask: result.sourceMask,
            placement: result.placement,
            frame: { width: result.width, height: result.height },
          }),
        }
  const pixels = await decoding
  if (result.protected) {
    return { result: { ...result, pixels }, fidelity: await compareFidelity(reference.value, pixels), reference }
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
    return { result: { ...result, pixels }, fidelity: await compareFidelity(reference.value, pixels), reference }
  }
  // why together: the encode runs in libvips while the comparison runs here.
  const [image, fidelity] = await Promise.all([
    sharp(out.pixels.data, { raw: { width: out.pixels.width, height: out.pixels.height, channels: 3 } })
      .jpeg(FINAL_JPEG)
      .toBuffer(),
    compareFidelity(reference.value, out.pixels),
  ])
  return {
    result: { ...result, image, contentType: 'image/jpeg', pixels: out.pixels, protected: true },
    fidelity,
    reference,
  }
}
