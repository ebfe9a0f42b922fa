import { describe, expect, it } from 'vitest'
import { changeKind, type PatchCues } from './change-kind.ts'

/** A button gone from plain fabric: deep inside, nothing slides onto it, its detail flattened. */
const partGone: PatchCues = {
  outlineShare: 0,
  coherence: 1,
  hueShare: 0.5,
  slide: { dx: 0, dy: 0, explained: 0.05 },
  energy: 0.05,
}

describe('changeKind', () => {
  it('names a part gone or new when nothing else explains the patch', () => {
    expect(changeKind(partGone, 90, 1800, false)).toBe('part')
    // a part taken away flattens its patch even where the print measure lost detail too
    expect(changeKind(partGone, 90, 1800, true)).toBe('part')
  })

  it('names the outline when the patch lies along it', () => {
    expect(changeKind({ ...partGone, outlineShare: 0.6 }, 90, 1800, false)).toBe('outline')
  })

  it('tells a slid print from a moved contour by its mass, and needs the detail kept', () => {
    const slid = { ...partGone, slide: { dx: -6, dy: 2, explained: 0.8 }, energy: 0.9 }
    expect(changeKind(slid, 300, 7000, false)).toBe('warp')
    expect(changeKind(slid, 45, 1300, false)).toBe('shape')
    // a best slide at the end of the search is another part like it, not this one moved
    expect(changeKind({ ...slid, slide: { dx: 12, dy: 0, explained: 0.9 } }, 300, 7000, false)).toBe('part')
    // nothing left where it was: taken away, not moved
    expect(changeKind({ ...slid, energy: 0.01 }, 80, 750, false)).toBe('part')
  })

  it('names a print colour when the hue moved the same way throughout and the detail stayed', () => {
    const recoloured = { ...partGone, hueShare: 3.7, coherence: 1, energy: 1.1 }
    expect(changeKind(recoloured, 900, 3900, false)).toBe('colour')
    expect(changeKind({ ...recoloured, energy: 5.6 }, 200, 6500, false)).toBe('part')
  })

  it('names smeared detail only where the print measure lost detail too', () => {
    const smeared = { ...partGone, energy: 0.27 }
    expect(changeKind(smeared, 55, 325, true)).toBe('detail')
    expect(changeKind(smeared, 55, 325, false)).toBe('part')
  })

  it('names a large opening reaching toward the outline an inner shape', () => {
    expect(changeKind({ ...partGone, outlineShare: 0.15, energy: 0.2 }, 1700, 11000, false)).toBe('shape')
  })
})
