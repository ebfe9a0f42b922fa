// Structure: SSIM of luminance over the product's interior.
import { INTERIOR } from './grid.ts'

const C1 = (0.01 * 255) ** 2
const C2 = (0.03 * 255) ** 2
const WINDOW = 8
const STRIDE = 4

/** Mean SSIM over 8×8 windows (stride 4) wholly inside the interior. */
export function ssimInterior(a: Float32Array, b: Float32Array, signed: Float32Array, width: number, height: number): number {
  let total = 0
  let windows = 0
  for (let y = 0; y + WINDOW <= height; y += STRIDE) {
    for (let x = 0; x + WINDOW <= width; x += STRIDE) {
      // Corners and centre inside is enough: the interior has no holes narrower than the window that matter.
      if (
        signed[y * width + x] < INTERIOR ||
        signed[y * width + x + WINDOW - 1] < INTERIOR ||
        signed[(y + WINDOW - 1) * width + x] < INTERIOR ||
        signed[(y + WINDOW - 1) * width + x + WINDOW - 1] < INTERIOR ||
        signed[(y + 4) * width + x + 4] < INTERIOR
      )
        continue
      let sa = 0
      let sb = 0
      let saa = 0
      let sbb = 0
      let sab = 0
      for (let j = y; j < y + WINDOW; j++) {
        for (let i = x; i < x + WINDOW; i++) {
          const p = j * width + i
          const va = a[p]
          const vb = b[p]
          sa += va
          sb += vb
          saa += va * va
          sbb += vb * vb
          sab += va * vb
        }
      }
      const nn = WINDOW * WINDOW
      const ma = sa / nn
      const mb = sb / nn
      const va = saa / nn - ma * ma
      const vb = sbb / nn - mb * mb
      const cov = sab / nn - ma * mb
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2))
      windows++
    }
  }
  return windows === 0 ? 1 : total / windows
}
