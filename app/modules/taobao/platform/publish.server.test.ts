import { describe, expect, it } from 'vitest'
import { decodePublished, encodePublished, parseSteps, picPathOf } from './publish-record.ts'
import { chooseSlot } from './publish.server.ts'

// The pure parts of a Taobao publish: which slot, and what undo is handed.

const img = (id: number, position: number) => ({
  id,
  position,
  url: `https://img.alicdn.com/imgextra/i${position}/2200/O1CN01${id}.jpg`,
})

describe('chooseSlot', () => {
  it('takes the first free slot, or the one the seller chose', () => {
    expect(chooseSlot(1, [img(10, 0), img(11, 2)])).toEqual({ position: 1, replaced: null })
    expect(chooseSlot(1, [img(10, 0)], { position: 4 })).toEqual({ position: 4, replaced: null })
    expect(chooseSlot(1, [])).toEqual({ position: 0, replaced: null })
  })

  it('never covers an original unless asked, and lists them when all five are taken', () => {
    const full = [0, 1, 2, 3, 4].map((p) => img(10 + p, p))
    expect(() => chooseSlot(1, full)).toThrow(expect.objectContaining({ code: 'TAOBAO_SLOTS_FULL', status: 409 }))
    try {
      chooseSlot(1, full)
    } catch (e) {
      expect((e as { details: { images: unknown[] } }).details.images[3]).toEqual({ id: '13', url: full[3].url, position: 3 })
    }
    expect(() => chooseSlot(1, [img(10, 0)], { position: 0 })).toThrow(expect.objectContaining({ code: 'TAOBAO_SLOT_TAKEN' }))
  })

  it('replaces the chosen original at its own position, recording where it was', () => {
    const full = [0, 1, 2, 3, 4].map((p) => img(10 + p, p))
    expect(chooseSlot(1, full, { replaceImageId: '12' })).toEqual({
      position: 2,
      replaced: { id: 12, url: full[2].url, path: 'i2/2200/O1CN0112.jpg', position: 2 },
    })
    expect(() => chooseSlot(1, full, { replaceImageId: '12', position: 3 })).toThrow(/keeps its position/)
    expect(() => chooseSlot(1, full, { replaceImageId: '99' })).toThrow(/no longer on item/)
    expect(() => chooseSlot(1, full, { position: 5 })).toThrow(/0–4/)
  })
})

describe('the publish record', () => {
  it('round-trips the externalId and refuses anything else', () => {
    const published = {
      v: 1 as const,
      n: '600000001234',
      i: 77,
      p: 'i1/2200/O1CN01ab.jpg',
      k: 'render-1',
      r: { id: 12, url: 'https://x/imgextra/i2/a.jpg', path: 'i2/a.jpg', position: 2 },
    }
    const id = encodePublished(published)
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodePublished(id)).toEqual(published)
    expect(() => decodePublished('gid://shopify/MediaImage/1')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })

  it('reads image paths the way joint.img takes them', () => {
    expect(picPathOf('https://img.alicdn.com/imgextra/i4/2200/O1CN01x.jpg')).toBe('i4/2200/O1CN01x.jpg')
    expect(picPathOf('https://img.alicdn.com/bao/uploaded/i4/2200/O1CN01x.jpg')).toBe('i4/2200/O1CN01x.jpg')
    expect(picPathOf('i4/2200/O1CN01x.jpg')).toBe('i4/2200/O1CN01x.jpg')
  })

  it('refuses steps recorded for another render', () => {
    expect(parseSteps({ key: 'render-1', itemImgId: 5 }, 'render-1')).toMatchObject({ itemImgId: 5 })
    expect(() => parseSteps({ key: 'render-2' }, 'render-1')).toThrow(/belongs to render/)
    expect(() => parseSteps({ itemImgId: 'x' }, 'render-1')).toThrow(/malformed/)
  })
})
