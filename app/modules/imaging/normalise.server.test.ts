import { createHash } from 'node:crypto'
import sharp, { type Sharp } from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { isAppError } from '#app/lib/errors.ts'
import { makeBadImages, plainImage, type BadImage } from '#test/fixtures/bad-images.ts'
import { deltaE2000Rgb } from './colour.ts'
import { encodePng, normaliseImage } from './normalise.server.ts'

/** A flat sRGB colour field, to check colour handling without texture in the way. */
function flat(width: number, height: number, rgb: [number, number, number]): Sharp {
  const data = Buffer.alloc(width * height * 3)
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i)
  return sharp(data, { raw: { width, height, channels: 3 } })
}

async function centrePixel(bytes: Buffer): Promise<[number, number, number]> {
  const source = await normaliseImage(bytes)
  const { data, width, height, channels } = source.pixels
  const o = (Math.floor(height / 2) * width + Math.floor(width / 2)) * channels
  return [data[o], data[o + 1], data[o + 2]]
}

describe('normaliseImage refuses bad input', () => {
  let cases: BadImage[] = []
  beforeAll(async () => {
    cases = await makeBadImages()
  })

  const names = [
    'zero-byte buffer',
    'over maxBytes',
    'hostile SVG with script and XXE',
    'SVG disguised as .png',
    'PDF',
    'plain text',
    'GIF',
    'TIFF',
    'JPEG cut in half',
    'PNG cut short',
    'PNG with valid header and garbage IDAT',
    'PNG header claiming 30000×30000',
    '4000×100 strip',
    '20×20 thumbnail',
  ]

  it.each(names)('%s', async (name) => {
    const bad = cases.find((c) => c.name === name)
    expect(bad, `fixture "${name}"`).toBeDefined()
    const error = await normaliseImage(bad!.bytes, bad!.opts).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isAppError(error), `expected an AppError, got ${String(error)}`).toBe(true)
    if (!isAppError(error)) return
    expect(error.code).toBe(bad!.expected)
    // A merchant-readable sentence that says what to do next.
    expect(error.message).toMatch(/upload|use|crop|resize|export|save/i)
    expect(error.message).not.toMatch(/vips|libpng|libjpeg|glib|undefined|Error:/i)
  })

  it('covers every class with its own code', () => {
    expect(new Set(cases.map((c) => c.expected)).size).toBe(10)
  })

  it('refuses the bomb from its header, without decoding it', async () => {
    const bomb = cases.find((c) => c.expected === 'IMAGE_PIXEL_LIMIT')!
    const before = process.memoryUsage().rss
    await expect(normaliseImage(bomb.bytes)).rejects.toMatchObject({
      code: 'IMAGE_PIXEL_LIMIT',
      details: { width: 30_000, height: 30_000 },
    })
    // 900 Mpx of RGB would be 2.7 GB; a header read costs nothing measurable.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024)
  })
})

describe('normaliseImage accepts photos', () => {
  it.each(['jpeg', 'png', 'webp', 'avif'] as const)('decodes %s to 8-bit sRGB pixels', async (format) => {
    const bytes = await (await plainImage(320, 240)).toFormat(format).toBuffer()
    const source = await normaliseImage(bytes)
    expect(source).toMatchObject({ width: 320, height: 240, hasAlpha: false })
    expect(source.pixels).toMatchObject({ width: 320, height: 240, channels: 3 })
    expect(source.pixels.data.length).toBe(320 * 240 * 3)
  })

  it('hashes the original bytes, not the decoded pixels', async () => {
    const bytes = await (await plainImage(200, 200)).jpeg().toBuffer()
    const source = await normaliseImage(bytes)
    expect(source.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  it('keeps alpha as a fourth channel', async () => {
    const rgba = Buffer.alloc(100 * 80 * 4, 200)
    const bytes = await sharp(rgba, { raw: { width: 100, height: 80, channels: 4 } })
      .png()
      .toBuffer()
    const source = await normaliseImage(bytes)
    expect(source.hasAlpha).toBe(true)
    expect(source.pixels.channels).toBe(4)
  })

  it('turns greyscale into three equal channels', async () => {
    const bytes = await sharp(Buffer.alloc(100 * 100, 90), { raw: { width: 100, height: 100, channels: 1 } })
      .png()
      .toBuffer()
    expect(await centrePixel(bytes)).toEqual([90, 90, 90])
  })

  it('applies EXIF orientation 6 (dimensions swap) and drops every piece of metadata', async () => {
    // A 300×200 frame whose left half is red; rotated 90° clockwise the red is on top.
    const data = Buffer.alloc(300 * 200 * 3, 255)
    for (let y = 0; y < 200; y++) for (let x = 0; x < 150; x++) data.set([220, 20, 20], (y * 300 + x) * 3)
    const bytes = await sharp(data, { raw: { width: 300, height: 200, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .withExif({ IFD0: { Copyright: 'Atelier test', Artist: 'camera' } })
      .jpeg({ quality: 95 })
      .toBuffer()
    const original = await sharp(bytes).metadata()
    expect(original.orientation).toBe(6)
    expect(original.exif).toBeDefined()

    const source = await normaliseImage(bytes)
    expect([source.width, source.height]).toEqual([200, 300])
    const { data: out, width } = source.pixels
    const top = (10 * width + 100) * 3
    const bottom = (290 * width + 100) * 3
    expect(out[top]).toBeGreaterThan(180)
    expect(out[top + 1]).toBeLessThan(60)
    expect(out[bottom + 1]).toBeGreaterThan(200)

    const stored = await sharp(await encodePng(source.pixels)).metadata()
    expect(stored.orientation).toBeUndefined()
    expect(stored.exif).toBeUndefined()
    expect(stored.icc).toBeUndefined()
    expect(stored.xmp).toBeUndefined()
  })

  it('converts a Display P3-tagged image to sRGB through its profile', async () => {
    const srgb: [number, number, number] = [200, 100, 50]
    const p3 = await flat(120, 120, srgb).withIccProfile('p3').png().toBuffer()
    const tagged = await sharp(p3).metadata()
    expect(tagged.icc).toBeDefined()
    // Read naively (profile ignored) the numbers are P3's, visibly off.
    const naive = await sharp(p3, { ignoreIcc: true }).raw().toBuffer()
    expect(deltaE2000Rgb(srgb, [naive[0], naive[1], naive[2]])).toBeGreaterThan(3)
    expect(deltaE2000Rgb(srgb, await centrePixel(p3))).toBeLessThan(1)
  })

  it('converts a CMYK JPEG to three-channel sRGB', async () => {
    const srgb: [number, number, number] = [180, 120, 90]
    const cmyk = await flat(120, 120, srgb).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer()
    const meta = await sharp(cmyk).metadata()
    expect(meta.space).toBe('cmyk')
    expect(meta.channels).toBe(4)
    const source = await normaliseImage(cmyk)
    expect(source.pixels.channels).toBe(3)
    // A round trip through print colour is not exact; it must still be the same colour.
    expect(deltaE2000Rgb(srgb, await centrePixel(cmyk))).toBeLessThan(6)
  })
})
