import { describe, expect, it } from 'vitest'
import { imageExtension } from './extension.ts'

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))

describe('imageExtension', () => {
  it.each([
    ['jpg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['png', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['webp', bytes('RIFF0000WEBPVP8 ')],
    ['avif', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    ['gif', bytes('GIF89a')],
  ])('names %s from the magic bytes', (ext, image) => {
    expect(imageExtension(image)).toBe(ext)
  })

  it('refuses an empty image and a format no platform takes', () => {
    expect(() => imageExtension(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'IMAGE_EMPTY' }))
    expect(() => imageExtension(bytes('<svg/>'))).toThrow(expect.objectContaining({ code: 'IMAGE_UNSUPPORTED_FORMAT' }))
  })
})
