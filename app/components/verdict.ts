// The fidelity check's verdict in the merchant's words: what changed, and
// where on the product (issue 16: "Fidelity 100 · ΔE 0.38" was jargon).
import type { Translate } from '#app/lib/i18n.ts'

export const PLACES = [
  'top_left',
  'top',
  'top_right',
  'left',
  'centre',
  'right',
  'bottom_left',
  'bottom',
  'bottom_right',
  'whole',
] as const
export type Place = (typeof PLACES)[number]

interface Box {
  x: number
  y: number
  width: number
  height: number
}

/** A box's share of the product past which it is "all over" rather than in one place. */
const WHOLE = 0.6

/**
 * Where a reason's region lies on the product, in ninths of the product's
 * own box (both as fractions of the image): "top left" of the product, not
 * of the frame. Null when either is unknown.
 */
export function placeOf(region: Box | undefined, product: Box | null): Place | null {
  if (!region || !product || product.width <= 0 || product.height <= 0) return null
  if (region.width >= WHOLE * product.width && region.height >= WHOLE * product.height) return 'whole'
  const third = (v: number) => (v < 1 / 3 ? 0 : v < 2 / 3 ? 1 : 2)
  const col = third((region.x + region.width / 2 - product.x) / product.width)
  const row = third((region.y + region.height / 2 - product.y) / product.height)
  return PLACES[row * 3 + col]
}

/** One reason in words, with its place when known: "Colour shifted at the top left". */
export function reasonText(t: Translate, code: string, place: Place | null | undefined): string {
  const words = t(`fidelity.reason.${code}`)
  const text = place ? t('fidelity.placed', { reason: words, place: t(`fidelity.place.${place}`) }) : words
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** What a verdict needs: the reason codes, strongest first, and where each was found. */
export interface VerdictInput {
  reasons: readonly string[]
  reasonPlaces?: readonly (Place | null)[]
}

/** The verdict: the product unchanged, or the strongest reason it may not be and where (the numbers are under Details). */
export function verdict(r: VerdictInput, low: boolean, t: Translate): string {
  if (!low) return t('fidelity.verdict.unchanged')
  if (r.reasons.length === 0) return t('fidelity.verdict.changed')
  return reasonText(t, r.reasons[0], r.reasonPlaces?.[0])
}
