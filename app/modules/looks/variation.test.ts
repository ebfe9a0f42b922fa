import { describe, expect, it } from 'vitest'
import { seededRandom } from '#app/lib/seeded-random.ts'
import { translator } from '#app/lib/i18n.ts'
import {
  NEUTRAL_VARIATION,
  VARIATION_SLOTS,
  seedInSlot,
  variantSeeds,
  variationAt,
  variationLabel,
  variationOf,
  variationPrompt,
  variationSlot,
  type Variation,
} from './variation.ts'

/** How many of framing position, framing size and light two variations differ in. */
function partsApart(a: Variation, b: Variation): number {
  return (
    Number(a.framing.position !== b.framing.position) + Number(a.framing.size !== b.framing.size) + Number(a.light !== b.light)
  )
}

function randomFrom(seed: number): (n: number) => number {
  const next = seededRandom(seed)
  return (n) => Math.floor(next() * n)
}

describe('variations of one look', () => {
  it('gives 4 variants pairwise different variations, apart in at least two of framing, size and light', () => {
    for (let run = 0; run < 200; run++) {
      const seeds = variantSeeds(4, randomFrom(run))
      const variations = seeds.map(variationOf)
      for (let i = 0; i < 4; i++) {
        expect(seeds[i]).toBeGreaterThanOrEqual(0)
        expect(seeds[i]).toBeLessThanOrEqual(2 ** 31 - 1)
        for (let j = i + 1; j < 4; j++)
          expect(partsApart(variations[i], variations[j]), `run ${run}: ${i} and ${j}`).toBeGreaterThanOrEqual(2)
      }
      // Neighbours never ask for the same place in the frame.
      for (let i = 1; i < 4; i++) expect(variations[i].framing.position).not.toBe(variations[i - 1].framing.position)
    }
  })

  it('never repeats a variation within VARIATION_SLOTS variants', () => {
    const seeds = variantSeeds(VARIATION_SLOTS, randomFrom(3))
    expect(new Set(seeds.map(variationSlot)).size).toBe(VARIATION_SLOTS)
    expect(new Set(seeds.map((s) => JSON.stringify(variationOf(s)))).size).toBe(VARIATION_SLOTS)
  })

  it('is a function of the seed alone, and slot 0 is the look as its scene defines it', () => {
    expect(variationOf(1234567)).toEqual(variationOf(1234567))
    expect(NEUTRAL_VARIATION).toEqual({ framing: { position: 'centre', size: 'standard' }, light: 'front' })
    expect(variationOf(9)).toEqual(NEUTRAL_VARIATION)
    expect(variationAt(3)).toEqual({ framing: { position: 'centre', size: 'wide' }, light: 'left' })
  })

  it('moves a seed into a slot without leaving the seed range', () => {
    for (const seed of [0, 1, 8, 9, 123456789, 2 ** 31 - 1]) {
      for (let slot = 0; slot < VARIATION_SLOTS; slot++) {
        const moved = seedInSlot(seed, slot)
        expect(variationSlot(moved)).toBe(slot)
        expect(moved).toBeGreaterThanOrEqual(0)
        expect(moved).toBeLessThanOrEqual(2 ** 31 - 1)
        expect(Math.abs(moved - seed)).toBeLessThan(2 * VARIATION_SLOTS)
      }
    }
  })

  it('says what varied, for a prompt and for the card in both languages', () => {
    const applied = { light: 'left' as const, framing: { position: 'right' as const, size: 'wide' as const } }
    expect(variationPrompt(applied)).toBe(
      'soft key light from the left, shadows falling to the right, wide framing with room around the subject, subject right of centre',
    )
    expect(variationPrompt({ light: 'right' })).toBe('soft key light from the right, shadows falling to the left')
    expect(variationLabel(translator('en'), applied)).toBe('Light from the left · wide framing, placed right')
    expect(variationLabel(translator('zh-CN'), applied)).toBe('左侧光 · 宽取景，偏右')
    expect(variationLabel(translator('en'), { light: 'front' })).toBe('Light from the front')
  })
})
