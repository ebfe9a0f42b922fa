import { describe, expect, it } from 'vitest'
import { HOSTILE_SVG, plainImage, pngBomb, pngWithGarbageIdat } from '#test/fixtures/bad-images.ts'
import { decodeResult } from './frame.server.ts'

// A backend is a server a shop points us at: its result passes the same
// image gate as an upload before any decoder sees it.

const opts = { backend: 'ComfyUI', details: { promptId: 'p-1' } }

describe('decodeResult', () => {
  it('decodes a PNG result to sRGB pixels', async () => {
    const png = await (await plainImage(96, 120)).png().toBuffer()
    await expect(decodeResult(png, opts)).resolves.toMatchObject({ width: 96, height: 120, channels: 3 })
  })

  it.each([
    ['an SVG', () => Buffer.from(HOSTILE_SVG), 'IMAGE_SVG_REJECTED', false],
    ['a TIFF', async () => (await plainImage(96, 96)).tiff().toBuffer(), 'IMAGE_UNSUPPORTED_FORMAT', false],
    ['a GIF', async () => (await plainImage(96, 96)).gif().toBuffer(), 'IMAGE_UNSUPPORTED_FORMAT', false],
    ['a 30,000² bomb', () => pngBomb(30_000, 30_000), 'IMAGE_PIXEL_LIMIT', false],
    ['a 1 × 40,000,000 strip', () => pngBomb(1, 40_000_000), 'IMAGE_ASPECT_RATIO', false],
    ['a corrupt PNG', () => pngWithGarbageIdat(), 'IMAGE_CORRUPT', true],
  ])('refuses %s as BACKEND_FAILED naming the backend', async (_what, make, imageError, retryable) => {
    const error = await decodeResult(await make(), opts).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'BACKEND_FAILED', retryable, details: { promptId: 'p-1', imageError } })
    expect((error as Error).message).toMatch(/^ComfyUI returned/)
    expect((error as Error).message).not.toMatch(/vips|libpng|librsvg/i)
  })
})
