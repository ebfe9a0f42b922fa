import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { createCpuStudioBackend } from '#app/modules/backends/cpu-studio/adapter.server.ts'
import { FINAL_JPEG } from '#app/modules/imaging/jpeg.server.ts'
import type { RenderResult } from '#app/modules/backends/types.ts'
import type { SourceImage } from './types.ts'
import { markets } from '#app/modules/looks/markets.ts'
import { scenes } from '#app/modules/looks/scenes.ts'
import { encodeShot, productShot } from '#test/fixtures/product-images.ts'
import { normaliseImage } from './normalise.server.ts'
import { decodeRgb, postprocessRemote, prepareSource, referenceKey, type PreparedReference } from './postprocess.server.ts'
import { quietControls } from '#test/support/render-controls.ts'

// The worker's post-processing of a remote result, in its two halves: the
// source side prepared while the backend renders, the result side once it
// answers. Whichever way the source side arrives — prepared earlier, for
// another framing, failed, or not at all — the stored image and its measure
// are the same.

const W = 600
const H = 800
let source: SourceImage
/** A "remote" result: the CPU studio's composite, recoloured inside the product, as a JPEG with no pixels. */
let remote: RenderResult

beforeAll(async () => {
  source = await normaliseImage(await encodeShot(productShot({ width: 900, height: 900, seed: 11 }), 'jpeg'))
  const scene = scenes.find((s) => s.id === 'grey-seamless')!
  const studio = await createCpuStudioBackend().render(
    { renderId: 'pp', operation: 'scene_swap', source, persona: null, market: markets[0], scene, seed: 2, output: { width: W, height: H } },
    quietControls(),
  )
  const image = await sharp(studio.image).modulate({ hue: 25, saturation: 1.3 }).jpeg(FINAL_JPEG).toBuffer()
  remote = { ...studio, image, pixels: undefined, fidelity: undefined, protected: false, resultMask: undefined }
})

const framingOf = (r: RenderResult) => ({ sourceMask: r.sourceMask, placement: r.placement, width: r.width, height: r.height })

describe('postprocessRemote', () => {
  it('gives the same image and measure with the source side prepared beforehand, for another framing, failed, or not at all', async () => {
    const fresh = await postprocessRemote({ source, result: remote, operation: 'scene_swap' })
    expect(fresh.result.protected).toBe(true)
    expect(fresh.fidelity.score).toBeGreaterThanOrEqual(95)
    expect(fresh.reference.composite).toBeDefined()
    expect(fresh.reference.key).toBe(referenceKey(framingOf(remote), 'scene_swap'))

    const prepared = await prepareSource(source, framingOf(remote), 'scene_swap')
    const moved = await prepareSource(source, { ...framingOf(remote), placement: { ...remote.placement, x: remote.placement.x + 5 } }, 'scene_swap')
    const failed = Promise.reject(new Error('prepare failed')) as Promise<PreparedReference | undefined>
    failed.catch(() => undefined)
    for (const reference of [prepared, Promise.resolve(prepared), moved, failed, Promise.resolve(undefined)]) {
      const done = await postprocessRemote({ source, result: remote, operation: 'scene_swap', reference })
      expect(done.result.image.equals(fresh.result.image)).toBe(true)
      expect(done.fidelity).toEqual(fresh.fidelity)
      expect(done.reference.key).toBe(fresh.reference.key)
    }
    // The one prepared for this framing is used as it is (a QA-gate retry reuses it the same way).
    expect((await postprocessRemote({ source, result: remote, operation: 'scene_swap', reference: prepared })).reference).toBe(prepared)
  })

  it('leaves pixels a backend handed over untouched, and measures exactly what it encoded', async () => {
    const pixels = await decodeRgb(remote.image!)
    const copy = Uint8Array.from(pixels.data)
    const done = await postprocessRemote({ source, result: { ...remote, pixels }, operation: 'scene_swap' })
    expect(Buffer.from(pixels.data).equals(Buffer.from(copy))).toBe(true)
    expect(done.result.pixels!.data).not.toBe(pixels.data)
    const stored = await decodeRgb(done.result.image)
    // The stored JPEG is the protected pixels encoded: only JPEG's own error between them.
    let error = 0
    for (let i = 0; i < stored.data.length; i++) error += Math.abs(stored.data[i] - done.result.pixels!.data[i])
    expect(error / stored.data.length).toBeLessThan(1.5)
    // Protection undid the recolour the "backend" made: the unprotected result measures far worse.
    const unprotected = await postprocessRemote({ source, result: { ...remote, protected: true }, operation: 'scene_swap' })
    expect(unprotected.fidelity.score).toBeLessThan(done.fidelity.score - 30)
  })

  it('keeps no composite for a changed geometry: a try-on result is colour-corrected from its own mask instead', async () => {
    const prepared = await prepareSource(source, framingOf(remote), 'tryon')
    expect(prepared.composite).toBeUndefined()
    expect(prepared.key).not.toBe(referenceKey(framingOf(remote), 'scene_swap'))
    const done = await postprocessRemote({ source, result: remote, operation: 'tryon', reference: prepared })
    // No result mask from the backend: nothing to correct, the result is kept as it came.
    expect(done.result.protected).toBeFalsy()
    expect(done.result.image).toBe(remote.image)
  })
})
