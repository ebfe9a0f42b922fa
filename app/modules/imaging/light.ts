// Light matching: the product takes on a little of the scene's light colour.
import type { RawImage } from './types.ts'
import { SRGB_TO_LINEAR, deltaE2000Rgb, linearToSrgb8, type Rgb } from './colour.ts'
import type { Box } from './mask.server.ts'

/** Largest colour change the light match may cause on the product (ΔE2000). */
export const MAX_LIGHT_DELTA_E = 1.5

export interface LightMatch {
  /** Per-channel lookup tables, sRGB code value in → out. */
  tables: [Uint8Array, Uint8Array, Uint8Array]
  /** Largest ΔE2000 the match causes on the probe colours. */
  deltaE: number
}

function gainsToward(light: Rgb, t: number): [number, number, number] {
  const lin = [SRGB_TO_LINEAR[light[0]], SRGB_TO_LINEAR[light[1]], SRGB_TO_LINEAR[light[2]]]
  const y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] || 1
  const g = lin.map((c) => 1 + t * (c / y - 1))
  // why renormalise: the match tints the product's white point, it must not brighten or darken it.
  const gy = 0.2126 * g[0] + 0.7152 * g[1] + 0.0722 * g[2]
  return [g[0] / gy, g[1] / gy, g[2] / gy]
}

function applyGain(c: Rgb, g: readonly number[]): [number, number, number] {
  return [0, 1, 2].map((i) => linearToSrgb8(SRGB_TO_LINEAR[c[i]] * g[i])) as [number, number, number]
}

/**
 * Moves the product's white point `amount` of the way toward the scene's
 * light colour (a von Kries-style gain in linear light), then backs off until
 * no probe colour — white, grey and the product's own mean — moves by more
 * than MAX_LIGHT_DELTA_E. The product must not change; it may only sit in the light.
 */
export function lightMatch(light: Rgb, amount: number, productMean: Rgb): LightMatch {
  const probes: Rgb[] = [[245, 245, 245], [128, 128, 128], productMean]
  const worst = (t: number): number => Math.max(...probes.map((p) => deltaE2000Rgb(p, applyGain(p, gainsToward(light, t)))))
  let t = amount
  if (amount > 0 && worst(t) > MAX_LIGHT_DELTA_E) {
    let lo = 0
    let hi = amount
    for (let i = 0; i < 16; i++) {
      const mid = (lo + hi) / 2
      if (worst(mid) > MAX_LIGHT_DELTA_E) hi = mid
      else lo = mid
    }
    t = lo
  }
  const g = gainsToward(light, t)
  const tables = [0, 1, 2].map((c) => {
    const table = new Uint8Array(256)
    for (let v = 0; v < 256; v++) table[v] = linearToSrgb8(SRGB_TO_LINEAR[v] * g[c])
    return table
  }) as [Uint8Array, Uint8Array, Uint8Array]
  return { tables, deltaE: t > 0 ? worst(t) : 0 }
}

/** Mean colour of the product pixels (mask ≥ 128) of the source, sampled on a coarse grid. */
export function productMeanColour(pixels: RawImage, mask: RawImage, crop: Box): Rgb {
  const step = Math.max(1, Math.floor(Math.sqrt((crop.width * crop.height) / 20_000)))
  const sx = mask.width / pixels.width
  const sy = mask.height / pixels.height
  let r = 0
  let g = 0
  let b = 0
  let n = 0
  for (let y = crop.top; y < crop.top + crop.height; y += step) {
    const my = Math.min(mask.height - 1, Math.floor(y * sy))
    for (let x = crop.left; x < crop.left + crop.width; x += step) {
      if (mask.data[my * mask.width + Math.min(mask.width - 1, Math.floor(x * sx))] < 128) continue
      const o = (y * pixels.width + x) * pixels.channels
      r += pixels.data[o]
      g += pixels.data[o + 1]
      b += pixels.data[o + 2]
      n++
    }
  }
  return n === 0 ? [128, 128, 128] : [Math.round(r / n), Math.round(g / n), Math.round(b / n)]
}
