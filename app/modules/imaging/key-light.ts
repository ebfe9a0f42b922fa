// The key light's side on the scene: the backdrop brighter toward the light.
import type { Light } from '#app/modules/looks/variation.ts'

/** Brightness gained at the lit edge and lost at the far one (share of the code value). */
export const KEY_LIGHT_FALLOFF = 0.09

/**
 * Multiplies the scene by a horizontal ramp, 1 + KEY_LIGHT_FALLOFF at the
 * lit edge to 1 − KEY_LIGHT_FALLOFF at the other; a frontal light leaves it
 * as it is. Painted before the product goes on: only the scene is lit.
 */
export function paintKeyLight(canvas: Uint8Array, width: number, height: number, light: Light): void {
  if (light === 'front') return
  const side = light === 'left' ? 1 : -1
  // why a table per column in 1/256ths: the ramp is the same on every row; each channel is then one multiply and shift.
  const gain = new Uint16Array(width)
  for (let x = 0; x < width; x++) {
    const t = width > 1 ? x / (width - 1) : 0.5
    gain[x] = Math.round(256 * (1 + side * KEY_LIGHT_FALLOFF * (1 - 2 * t)))
  }
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      const g = gain[x]
      canvas[o] = Math.min(255, (canvas[o] * g) >> 8)
      canvas[o + 1] = Math.min(255, (canvas[o + 1] * g) >> 8)
      canvas[o + 2] = Math.min(255, (canvas[o + 2] * g) >> 8)
    }
  }
}
