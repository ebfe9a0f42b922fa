import sharp, { type OutputInfo } from 'sharp'
import { describe, expect, it } from 'vitest'
import { productShot } from '#test/fixtures/product-images.ts'
import type { RawImage } from './types.ts'
import { FINAL_JPEG, encodeFinalJpeg, jpegEncoder } from './jpeg.server.ts'

// The stored render's JPEG: the native libjpeg-turbo addon (native/jpeg.c)
// and sharp must write files that decode to the same pixels, at the same
// size, so which one a worker has changes only how long it takes.

/** A photo-like RGB image: the fixture t-shirt on paper with sensor noise, at awkward sizes. */
function photo(width: number, height: number, seed: number): RawImage {
  const shot = productShot({ width, height, seed, noise: 6 })
  return shot.pixels
}

async function decoded(file: Buffer): Promise<{ data: Buffer; info: OutputInfo }> {
  return sharp(file).raw().toBuffer({ resolveWithObject: true })
}

describe('the final JPEG encoder', () => {
  it('is the native addon on a machine where setup built it', () => {
    // why strict: CI builds the addon (npm test runs the build first); a silent fallback would hide a broken build.
    const info = jpegEncoder('auto')
    expect(info.reason).toBeUndefined()
    expect(info.name).toBe('native')
    expect(info.library).toMatch(/^libjpeg-turbo \d+\.\d+\.\d+$/)
  })

  it('writes what sharp writes: the same decoded pixels, size within 1 %, baseline 4:4:4', async () => {
    for (const [w, h, seed] of [
      [640, 480, 1],
      [301, 207, 2],
      [1, 1, 3],
      [17, 999, 4],
    ] as const) {
      const px = photo(w, h, seed)
      const [native, viaSharp] = await Promise.all([encodeFinalJpeg(px, 'native'), encodeFinalJpeg(px, 'sharp')])
      const [a, b] = await Promise.all([decoded(native), decoded(viaSharp)])
      expect(a.info).toMatchObject({ width: w, height: h, channels: 3 })
      expect(a.data.equals(b.data)).toBe(true)
      if (w * h > 10_000) expect(Math.abs(native.length - viaSharp.length) / viaSharp.length).toBeLessThan(0.01)
      const meta = await sharp(native).metadata()
      expect(meta).toMatchObject({ format: 'jpeg', chromaSubsampling: '4:4:4', isProgressive: false })
    }
    expect(FINAL_JPEG.quality).toBe(92)
  })

  it('encodes noise that compresses badly (the output outgrows its first buffer)', async () => {
    const px = photo(512, 512, 6)
    let state = 12345
    for (let i = 0; i < px.data.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0
      px.data[i] = state >>> 24
    }
    const [native, viaSharp] = await Promise.all([encodeFinalJpeg(px, 'native'), encodeFinalJpeg(px, 'sharp')])
    expect(native.length).toBeGreaterThan((512 * 512 * 3) / 8 + 65536)
    expect((await decoded(native)).data.equals((await decoded(viaSharp)).data)).toBe(true)
  })

  it('encodes one channel as a greyscale JPEG', async () => {
    const rgb = photo(120, 90, 5)
    const grey = new Uint8Array(120 * 90)
    for (let i = 0; i < grey.length; i++) grey[i] = rgb.data[3 * i + 1]
    const px: RawImage = { data: grey, width: 120, height: 90, channels: 1 }
    const [native, viaSharp] = await Promise.all([encodeFinalJpeg(px, 'native'), encodeFinalJpeg(px, 'sharp')])
    expect((await sharp(native).metadata()).channels).toBe(1)
    expect((await decoded(native)).data.equals((await decoded(viaSharp)).data)).toBe(true)
  })

  it('runs many encodes at once on the thread pool, each of its own pixels, leaving them unchanged', async () => {
    const images = Array.from({ length: 12 }, (_, i) => photo(200 + 16 * i, 150 + 8 * i, 20 + i))
    const copies = images.map((px) => Buffer.from(px.data))
    const files = await Promise.all(images.map((px) => encodeFinalJpeg(px, 'native')))
    for (let i = 0; i < images.length; i++) {
      const one = await encodeFinalJpeg(images[i], 'sharp')
      expect((await decoded(files[i])).data.equals((await decoded(one)).data)).toBe(true)
      expect(Buffer.from(images[i].data).equals(copies[i])).toBe(true)
    }
  })

  it('rejects pixels it cannot encode with a clear message, and keeps working after', async () => {
    const px = photo(64, 64, 9)
    await expect(encodeFinalJpeg({ ...px, channels: 4 }, 'native')).rejects.toThrow(/1 or 3 channels, not 4/)
    await expect(encodeFinalJpeg({ ...px, data: px.data.subarray(0, 100) }, 'native')).rejects.toThrow(
      /100 bytes for a 64×64×3 image/,
    )
    await expect(encodeFinalJpeg({ ...px, width: 70_000, height: 1, data: new Uint8Array(210_000) }, 'native')).rejects.toThrow(
      /1 to 65500/,
    )
    expect((await sharp(await encodeFinalJpeg(px, 'native')).metadata()).width).toBe(64)
  })

  it('falls back to sharp when told to, saying why', async () => {
    expect(jpegEncoder('sharp')).toMatchObject({ name: 'sharp', reason: 'JPEG_ENCODER=sharp' })
    const file = await encodeFinalJpeg(photo(50, 40, 7), 'sharp')
    expect((await sharp(file).metadata()).width).toBe(50)
  })
})
