// Print defects on a render: an element recoloured, the print warped, a logo
// melted or its letters garbled. All in result px, inside the product only.
import sharp from 'sharp'
import { deltaE2000, srgbToLab } from '#app/modules/imaging/colour.ts'
import {
  blendInto,
  clamp01,
  clipBox,
  decodeRgb,
  encodeJpeg,
  labToSrgb,
  meanDeltaE,
  sampleCubic,
  type Box,
  type Rgb8,
} from '../golden/pixels.ts'

/**
 * How much each pixel belongs to the print element: its colour within
 * `tolerance` ΔE2000 of `ref` (or, with `far`, further than that: the
 * flowers on a navy ground), inside the box and the product.
 */
export function elementWeight(
  image: Rgb8,
  alpha: Float32Array,
  box: Box,
  ref: [number, number, number],
  tolerance: number,
  far = false,
): Float32Array {
  const lab = new Float64Array(6)
  srgbToLab(ref[0], ref[1], ref[2], lab, 3)
  const weight = new Float32Array(alpha.length)
  const b = clipBox(box, image.width, image.height)
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = b.x0; x < b.x1; x++) {
      const i = y * image.width + x
      if (alpha[i] < 0.99) continue
      srgbToLab(image.data[i * 3], image.data[i * 3 + 1], image.data[i * 3 + 2], lab, 0)
      const de = deltaE2000(lab[0], lab[1], lab[2], lab[3], lab[4], lab[5])
      const soft = 0.25 * tolerance
      weight[i] = far ? clamp01((de - tolerance) / soft) : clamp01((tolerance - de) / soft)
    }
  }
  return weight
}

/**
 * The element moved along a Lab direction (mostly hue, a little lightness)
 * until its mean ΔE2000, measured after the stored JPEG round trip, is `target`.
 */
export async function recoloured(image: Rgb8, element: Float32Array, hue: number, target: number): Promise<Rgb8> {
  const shift = (amount: number): Rgb8 => {
    const h = (hue * Math.PI) / 180
    const out = Uint8Array.from(image.data)
    const lab = new Float64Array(3)
    const rgb = new Float64Array(3)
    for (let i = 0; i < element.length; i++) {
      const w = element[i]
      if (w <= 0) continue
      const o = i * 3
      srgbToLab(image.data[o], image.data[o + 1], image.data[o + 2], lab, 0)
      labToSrgb(lab[0] + 0.3 * amount * w, lab[1] + Math.cos(h) * amount * w, lab[2] + Math.sin(h) * amount * w, rgb)
      out.set(rgb, o)
    }
    return { data: out, width: image.width, height: image.height }
  }
  let lo = 0
  let hi = 6 * target
  let best = shift(hi)
  for (let k = 0; k < 14; k++) {
    const mid = (lo + hi) / 2
    const shifted = shift(mid)
    const stored = await decodeRgb(await encodeJpeg(shifted))
    if (meanDeltaE(image.data, stored.data, element, 0.5) < target) lo = mid
    else {
      hi = mid
      best = shifted
    }
  }
  return best
}

/**
 * A Gaussian bump of displacement (peak px along `angle`), kept `guard` px
 * inside the outline so the silhouette stays where it was.
 */
export function warped(
  image: Rgb8,
  signed: Float32Array,
  bump: { cx: number; cy: number; sigma: number; peak: number; angle: number },
  guard = 4,
): Rgb8 {
  const { width, height } = image
  const ux = Math.cos((bump.angle * Math.PI) / 180) * bump.peak
  const uy = Math.sin((bump.angle * Math.PI) / 180) * bump.peak
  const reach = 3 * bump.sigma
  const out = Uint8Array.from(image.data)
  const b = clipBox({ x0: bump.cx - reach, y0: bump.cy - reach, x1: bump.cx + reach, y1: bump.cy + reach }, width, height)
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = b.x0; x < b.x1; x++) {
      const i = y * width + x
      const keep = clamp01((signed[i] - guard) / 3)
      if (keep <= 0) continue
      const g = keep * Math.exp(-((x - bump.cx) ** 2 + (y - bump.cy) ** 2) / (2 * bump.sigma ** 2))
      if (g < 0.01) continue
      for (let c = 0; c < 3; c++)
        out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(sampleCubic(image, x - g * ux, y - g * uy, c))))
    }
  }
  return { data: out, width, height }
}

/** The logo melted: blurred hard and dragged downward, the way a generator loses fine print. */
export async function melted(image: Rgb8, alpha: Float32Array, box: Box): Promise<Rgb8> {
  const { width, height } = image
  const blurred = new Uint8Array(
    await sharp(image.data, { raw: { width, height, channels: 3 } })
      .blur(2.2)
      .raw()
      .toBuffer(),
  )
  const drip = Uint8Array.from(blurred)
  const b = clipBox(box, width, height)
  const fall = Math.max(3, Math.round((b.y1 - b.y0) / 5))
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = b.x0; x < b.x1; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0
        let total = 0
        for (let k = 0; k <= fall; k++) {
          const w = 1 - k / (fall + 1)
          sum += w * blurred[(Math.max(0, y - k) * width + x) * 3 + c]
          total += w
        }
        drip[(y * width + x) * 3 + c] = Math.round(sum / total)
      }
    }
  }
  const weight = new Float32Array(alpha.length)
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = b.x0; x < b.x1; x++) {
      const edge = Math.min(x - b.x0, b.x1 - 1 - x, y - b.y0, b.y1 - 1 - y)
      weight[y * width + x] = Math.min(1, (edge + 1) / 3) * Math.min(1, alpha[y * width + x])
    }
  }
  return blendInto(image, drip, weight)
}

/** Two letter slots of a word swapped, as a generator garbles lettering. */
export function garbled(image: Rgb8, box: Box, letters: number, swap: [number, number]): Rgb8 {
  const { width } = image
  const out = Uint8Array.from(image.data)
  const b = clipBox(box, image.width, image.height)
  const slot = (b.x1 - b.x0) / letters
  const ax = Math.round(b.x0 + swap[0] * slot)
  const bx = Math.round(b.x0 + swap[1] * slot)
  const n = Math.round(slot)
  for (let y = b.y0; y < b.y1; y++) {
    for (let x = 0; x < n; x++) {
      out.set(image.data.subarray((y * width + ax + x) * 3, (y * width + ax + x) * 3 + 3), (y * width + bx + x) * 3)
      out.set(image.data.subarray((y * width + bx + x) * 3, (y * width + bx + x) * 3 + 3), (y * width + ax + x) * 3)
    }
  }
  return { data: out, width, height: image.height }
}
