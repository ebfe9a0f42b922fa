import { describe, expect, it } from 'vitest'
import { pngBomb } from '#test/fixtures/bad-images.ts'
import { endsEarly, sniffImage } from './sniff.ts'

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))))

function ftyp(major: string, ...compatible: string[]): Buffer {
  const body = bytes('ftyp', major, [0, 0, 0, 0], ...compatible)
  const size = Buffer.alloc(4)
  size.writeUInt32BE(body.length + 4)
  return Buffer.concat([size, body, Buffer.alloc(32)])
}

describe('sniffImage', () => {
  it.each([
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0]), { kind: 'accepted', format: 'jpeg' }],
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), { kind: 'accepted', format: 'png' }],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), { kind: 'accepted', format: 'webp' }],
    ['AVIF', ftyp('avif', 'mif1', 'miaf'), { kind: 'accepted', format: 'avif' }],
    ['AVIF by compatible brand', ftyp('mif1', 'avif'), { kind: 'accepted', format: 'avif' }],
    ['HEIC', ftyp('heic', 'mif1'), { kind: 'unsupported', format: 'HEIC' }],
    ['BMP', Buffer.concat([bytes('BM'), Buffer.alloc(40)]), { kind: 'unsupported', format: 'BMP' }],
    ['PSD', bytes('8BPS', [0, 1]), { kind: 'unsupported', format: 'Photoshop (PSD)' }],
    ['MP4', ftyp('isom', 'mp41'), { kind: 'not-image', what: 'a video or other media file' }],
    ['ZIP', bytes([0x50, 0x4b, 0x03, 0x04]), { kind: 'not-image', what: 'a ZIP archive or Office document' }],
    ['HTML', bytes('<!doctype html><html><body>hi</body></html>'), { kind: 'not-image', what: 'a web page' }],
    ['SVG after a comment', bytes('<!-- made by hand -->\n<svg viewBox="0 0 1 1"/>'), { kind: 'svg' }],
    ['SVG DOCTYPE only', bytes('<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">'), { kind: 'svg' }],
    ['binary noise', bytes([0x00, 0x13, 0x37, 0x00, 0xff, 0x01]), { kind: 'not-image', what: 'an unknown kind of file' }],
  ])('%s', (_name, input, expected) => {
    expect(sniffImage(input)).toEqual(expected)
  })
})

describe('endsEarly', () => {
  it('tells a complete PNG from one cut inside a chunk', () => {
    const complete = pngBomb(100, 100)
    expect(endsEarly(complete, 'png')).toBe(false)
    expect(endsEarly(complete.subarray(0, complete.length - 20), 'png')).toBe(true)
  })

  it('reads the WebP container size', () => {
    const webp = Buffer.concat([bytes('RIFF', [12, 0, 0, 0], 'WEBPVP8 '), Buffer.alloc(4)])
    expect(endsEarly(webp, 'webp')).toBe(false)
    expect(endsEarly(webp.subarray(0, 16), 'webp')).toBe(true)
  })

  it('accepts zero padding after a JPEG end marker but not a missing marker', () => {
    expect(endsEarly(bytes([0xff, 0xd8, 0xff, 0x00, 0xff, 0xd9, 0, 0, 0]), 'jpeg')).toBe(false)
    expect(endsEarly(bytes([0xff, 0xd8, 0xff, 0x00, 0x12, 0x34]), 'jpeg')).toBe(true)
  })
})
