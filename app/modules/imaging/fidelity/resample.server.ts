// Resampling a rectangle of an image onto the grid, the same libvips filter for both sides.
import sharp from 'sharp'
import type { RawImage } from '../types.ts'
import type { Rect } from './grid.ts'

function isRaw(image: RawImage | Buffer): image is RawImage {
  return !Buffer.isBuffer(image)
}

/** A rectangle of an image resampled to width × height RGB by libvips (same filter both sides). */
export async function resample(
  image: RawImage | Buffer,
  rect: Rect,
  width: number,
  height: number,
  flatten = false,
): Promise<Uint8Array> {
  const input = isRaw(image)
    ? sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    : sharp(image, { autoOrient: true })
  const resized = input.extract(rect).resize(width, height, { fit: 'fill', kernel: 'linear' })
  const data = await (flatten ? resized.flatten({ background: '#ffffff' }) : resized.removeAlpha())
    .toColourspace('srgb')
    .raw()
    .toBuffer()
  return new Uint8Array(data.buffer, data.byteOffset, data.length)
}
