// What changes between variants of one look, chosen by the render's seed:
// where the camera puts the product, how close it is, and which side the key
// light comes from. Every backend reads the same variation and expresses what
// it can of it (docs/backends.md, "Variants").
import type { Translate } from '#app/lib/i18n.ts'

export const positions = ['centre', 'left', 'right'] as const
export const sizes = ['standard', 'wide', 'wider'] as const
export const lights = ['front', 'left', 'right'] as const
export type Position = (typeof positions)[number]
export type Size = (typeof sizes)[number]
export type Light = (typeof lights)[number]

export interface Framing {
  position: Position
  size: Size
}

export interface Variation {
  framing: Framing
  /** The side the key light comes from; the shadow falls to the other. */
  light: Light
}

/**
 * What a render's variation was, as far as its backend could express it
 * (stored on the render). A backend that keeps the product where the photo
 * had it varies only the light.
 */
export interface AppliedVariation {
  light: Light
  framing?: Framing
}

/**
 * Variations a seed can pick, as slot = seed mod VARIATION_SLOTS. Slot k has
 * position k mod 3, light ⌊k / 3⌋ and size (position + light) mod 3: a Latin
 * square, so any two slots differ in at least two of the three.
 */
export const VARIATION_SLOTS = 9

export function variationSlot(seed: number): number {
  return ((Math.trunc(seed) % VARIATION_SLOTS) + VARIATION_SLOTS) % VARIATION_SLOTS
}

export function variationAt(slot: number): Variation {
  const p = slot % 3
  const l = Math.floor(slot / 3) % 3
  return { framing: { position: positions[p], size: sizes[(p + l) % 3] }, light: lights[l] }
}

/** The look as its scene defines it: centred, at the scene's size, lit from the front (slot 0). */
export const NEUTRAL_VARIATION: Variation = variationAt(0)

export function variationOf(seed: number): Variation {
  return variationAt(variationSlot(seed))
}

const SEED_LIMIT = 2 ** 31 - 1

/** `seed` moved into `slot` within its own run of VARIATION_SLOTS seeds (kept within 0 … 2³¹ − 1). */
export function seedInSlot(seed: number, slot: number): number {
  const base = Math.max(0, Math.min(SEED_LIMIT - VARIATION_SLOTS, Math.trunc(seed)))
  return base - variationSlot(base) + slot
}

/**
 * Seeds for `count` variants of one look: random seeds in consecutive slots
 * from a random first one, so up to VARIATION_SLOTS variants never share a
 * variation and neighbours differ in every part the square allows.
 * `random(n)` returns an integer in [0, n).
 */
export function variantSeeds(count: number, random: (n: number) => number): number[] {
  const first = random(VARIATION_SLOTS)
  return Array.from({ length: count }, (_, i) => seedInSlot(random(SEED_LIMIT), (first + i) % VARIATION_SLOTS))
}

// ------------------------------------------------------------------ words

const PROMPT_LIGHT: Record<Light, string> = {
  front: 'soft frontal key light, even shadows',
  left: 'soft key light from the left, shadows falling to the right',
  right: 'soft key light from the right, shadows falling to the left',
}
const PROMPT_POSITION: Record<Position, string> = {
  centre: 'subject centred',
  left: 'subject left of centre',
  right: 'subject right of centre',
}
const PROMPT_SIZE: Record<Size, string> = {
  standard: 'medium framing',
  wide: 'wide framing with room around the subject',
  wider: 'very wide framing, the subject small in the frame',
}

/** The variation as a prompt phrase; framing only when the backend composes the frame itself. */
export function variationPrompt(applied: AppliedVariation): string {
  const parts = [PROMPT_LIGHT[applied.light]]
  if (applied.framing) parts.push(PROMPT_SIZE[applied.framing.size], PROMPT_POSITION[applied.framing.position])
  return parts.join(', ')
}

/** A backend's prompt with the variation it expresses appended (unchanged without one). */
export function withVariation(prompt: string, applied: AppliedVariation | undefined): string {
  return applied ? `${prompt}, ${variationPrompt(applied)}` : prompt
}

/** e.g. "Light from the left · wide framing, placed right" in the page's language. */
export function variationLabel(t: Translate, applied: AppliedVariation): string {
  const light = t(`looks.variation.light.${applied.light}`)
  if (!applied.framing) return light
  const framing = t('looks.variation.framing', {
    size: t(`looks.variation.size.${applied.framing.size}`),
    position: t(`looks.variation.position.${applied.framing.position}`),
  })
  return `${light} · ${framing}`
}
